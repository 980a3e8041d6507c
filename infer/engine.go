package infer

import (
	"fmt"
	"image"
	"sync"
	"time"

	"github.com/samlad/samlad/config"
)

// Engine inspects frames against a bank. It is safe for concurrent use by
// several goroutines as long as the backend's stages are.
type Engine struct {
	be    *Backend
	bank  *Bank
	p     config.Pipeline
	cal   Calibration // with config overrides applied
	pr    params
	index *refIndex
	// refDescs[r] are reference r's object descriptors, gathered once.
	refDescs [][][]float32
	// patchRefs are the references' cells for the patch-memory term.
	patchRefs *patchRefs
	// compSpread is the composition words' spread over all references
	// (Composition.spread), which a frame's distance divides by.
	compSpread []float64
	// weights multiply the terms (Bank.weights).
	weights TermWeights
	bufs    sync.Pool // *buffers
}

// buffers are the per-inspection scratch slices reused across calls.
type buffers struct {
	hwc    [][]float32 // query + k references
	smap   []float32
	global []float32
	ret    retrievalScratch
	// refImgs are the k retrieved references' images, dequantized per
	// query from the bank's 8-bit copy (4x less resident memory than
	// keeping float32 images of every reference).
	refImgs []Image
	views   []view  // query + k references
	viewPtr []*view // into views
	refDesc [][][]float32
	extra   []countRef
	count   countScratch
	errs    []error
	objMask [][]uint8 // per view: 1 inside an object
	cells   []float32 // the frame's backbone cells, HWC
	patch   patchScratch
	comp    compScratch
	sw      stopwatch
}

// NewEngine checks that bank fits backend be and pipeline p and prepares
// inspection.
func NewEngine(be *Backend, bank *Bank, p config.Pipeline) (*Engine, error) {
	if err := checkPipeline(p); err != nil {
		return nil, err
	}
	if err := CheckBank(bank, be, p); err != nil {
		return nil, err
	}
	if err := bank.validate(); err != nil {
		return nil, fmt.Errorf("bank: %w", err)
	}
	if len(bank.Refs) < p.K {
		return nil, fmt.Errorf("bank holds %d references, k = %d needs at least %d", len(bank.Refs), p.K, p.K)
	}
	e := &Engine{be: be, bank: bank, p: p, cal: effectiveCalibration(bank, p)}
	e.pr = paramsOf(p, e.cal)
	f0 := &bank.Refs[0].Feat
	e.index = newRefIndex(bank.Refs, f0.C, (f0.H+1)/2, (f0.W+1)/2)
	for i := range bank.Refs {
		e.refDescs = append(e.refDescs, descsOf(bank.Refs[i].Objects))
	}
	if bank.Patch != nil {
		e.patchRefs = newPatchRefs(bank.Refs)
	}
	if bank.Composition != nil {
		e.compSpread = bank.Composition.spread(-1)
	}
	e.weights = bank.weights(p)
	e.bufs.New = func() any {
		b := &buffers{hwc: make([][]float32, p.K+1), refImgs: make([]Image, p.K), views: make([]view, p.K+1),
			refDesc: make([][][]float32, p.K), errs: make([]error, p.K+1), objMask: make([][]uint8, p.K+1)}
		for i := range b.views {
			b.viewPtr = append(b.viewPtr, &b.views[i])
		}
		return b
	}
	return e, nil
}

// effectiveCalibration applies the config's overrides to the bank's values.
// The threshold follows the config's false_reject_rate, refitted on the
// bank's leave-one-out scores, so that changing the rate needs no
// re-enrolment.
func effectiveCalibration(b *Bank, p config.Pipeline) Calibration {
	c := b.Calib
	c.Dustbin = pick(p.Dustbin, c.Dustbin)
	c.MatchThreshold = pick(p.MatchThreshold, c.MatchThreshold)
	c.MinArea = pick(p.MinArea, c.MinArea)
	c.MaxArea = pick(p.MaxArea, c.MaxArea)
	good := goodScores(b, p)
	if p.Threshold != 0 {
		c.Threshold = p.Threshold
	} else if len(good) > 0 {
		c.Threshold = round4(falseRejectThreshold(good, p.FalseRejectRate))
		if p.ThresholdMargin > 0 {
			c.Threshold = round4(c.Threshold * p.ThresholdMargin)
		}
	}
	c.GoodAbove = thresholdCheck(good, c.Threshold)
	return c
}

// Calibration returns the values the engine decides with (bank calibration
// with the config's overrides).
func (e *Engine) Calibration() Calibration { return e.cal }

// Bank returns the engine's bank.
func (e *Engine) Bank() *Bank { return e.bank }

// GoodTerms are the good images' leave-one-out terms, named as
// Result.Terms names them: what each term does on good parts.
func (e *Engine) GoodTerms() []map[string]float64 {
	ts := goodTerms(e.bank, e.p)
	out := make([]map[string]float64, len(ts))
	for i, t := range ts {
		out[i] = t.named()
	}
	return out
}

// stopwatch records stage timings.
type stopwatch struct {
	last    time.Time
	timings []StageTiming
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// start clears s and starts timing, reusing its storage.
func (s *stopwatch) start() {
	s.last, s.timings = time.Now(), s.timings[:0]
}

func (s *stopwatch) lap(stage string) {
	now := time.Now()
	s.timings = append(s.timings, StageTiming{Stage: stage, Ms: ms(now.Sub(s.last))})
	s.last = now
}

func descsOf(objs []Object) [][]float32 {
	d := make([][]float32, len(objs))
	for i := range objs {
		d[i] = objs[i].Desc
	}
	return d
}

// mapToInput converts a map-grid rectangle to input_size pixels.
func mapToInput(r image.Rectangle, mapW, size int) image.Rectangle {
	s := float64(size) / float64(mapW)
	return image.Rect(int(float64(r.Min.X)*s), int(float64(r.Min.Y)*s), int(float64(r.Max.X)*s+0.5), int(float64(r.Max.Y)*s+0.5))
}
