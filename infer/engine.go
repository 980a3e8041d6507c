package infer

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
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
	errs    []error
	objMask [][]uint8 // per view: 1 inside an object
	patch   patchScratch
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

// stopwatch records stage timings.
type stopwatch struct {
	last    time.Time
	timings []StageTiming
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// aside leaves d, spent on a stage timed on its own, out of the current lap.
func (s *stopwatch) aside(d time.Duration) { s.last = s.last.Add(d) }

// add records a stage timed on its own.
func (s *stopwatch) add(stage string, d time.Duration) {
	s.timings = append(s.timings, StageTiming{Stage: stage, Ms: ms(d)})
}

// start clears s and starts timing, reusing its storage.
func (s *stopwatch) start() {
	s.last, s.timings = time.Now(), s.timings[:0]
}

func (s *stopwatch) lap(stage string) {
	now := time.Now()
	s.timings = append(s.timings, StageTiming{Stage: stage, Ms: ms(now.Sub(s.last))})
	s.last = now
}

// Inspect runs the steps of DESIGN.md on one frame.
func (e *Engine) Inspect(ctx context.Context, img *Image) (*Result, error) {
	return e.inspect(ctx, img, -1)
}

// inspect is Inspect without reference exclude (>= 0): the self-check
// inspects images made from a reference against the others.
func (e *Engine) inspect(ctx context.Context, img *Image, exclude int) (*Result, error) {
	if img == nil || img.W <= 0 || img.H <= 0 || len(img.Pix) != 3*img.W*img.H {
		return nil, errors.New("inspect: malformed image")
	}
	bufs := e.bufs.Get().(*buffers)
	defer e.bufs.Put(bufs)
	sw := &bufs.sw
	sw.start()
	k := e.p.K

	// 1. Preprocess: the engine works on input_size x input_size in [0,1].
	size := e.p.InputSize
	frame := img // as the camera took it, for FrameFeatureExtractor and FrameSegmenter stages (SAM)
	if img.W != size || img.H != size {
		img = Resize(img, size, size)
	}
	sw.lap(StagePreprocess)

	// 2. Backbone features, once.
	f, err := extractFrame(e.be, frame, img, e.bank)
	if err != nil {
		return nil, err
	}
	sw.lap(StageFeatures)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// 3. Image-level kNN retrieval of the k references.
	bufs.global = globalVectorInto(f, bufs.global)
	refIdx := e.index.nearest(bufs.global, k, &bufs.ret) // no copy on the hot path
	if exclude >= 0 {
		refIdx = e.nearestExcept(bufs.global, k, exclude, &bufs.ret)
	}
	sw.lap(StageRetrieval)

	// 4. Segmentation, once, with the area filter.
	masks, err := segment(e.be, frame, img, e.cal.MinArea, e.cal.MaxArea, e.p.MaxObjects)
	if err != nil {
		return nil, err
	}
	sw.lap(StageSegmentation)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// 6 (ahead of 5). The query's objects on the map grid, so that the
	// upsampling can skip everything outside objects. Timed on its own and
	// reported in pipeline order.
	mw, mh := f.W*e.p.Upsample, f.H*e.p.Upsample
	objStart := time.Now()
	qLabels, qObjects := labelObjects(masks, mw, mh)
	objTime := time.Since(objStart)
	sw.aside(objTime)

	// 5. Upsampling: the query once and each reference once (1 + k calls).
	// Later stages read features only inside objects (the query's own,
	// and the references' partners), so an upsampler that can
	// (MaskedHWCUpsampler) computes each map only inside its image's
	// objects and leaves zeros elsewhere.
	views := bufs.viewPtr
	parallelFor(k+1, e.pr.workers, func(i int) {
		src, fm, labels := img, f, qLabels
		if i > 0 {
			ref := &e.bank.Refs[refIdx[i-1]]
			src, fm, labels = dequantizeInto(&bufs.refImgs[i-1], ref.RGB, ref.Size, ref.Size), &ref.Feat, ref.Labels
		}
		bufs.objMask[i] = objectMask(bufs.objMask[i], labels)
		bufs.errs[i] = upsampleViewInto(views[i], e.be, src, fm, e.p.Upsample, bufs.hwc[i], bufs.objMask[i])
		bufs.hwc[i] = views[i].Feat
	})
	for _, err := range bufs.errs {
		if err != nil {
			return nil, err
		}
	}
	q := views[0]
	if q.W != mw || q.H != mh {
		return nil, fmt.Errorf("inspect: upsampled query is %dx%d, want %dx%d", q.W, q.H, mw, mh)
	}
	q.Labels, q.Objects = qLabels, qObjects
	refs := views[1:]
	for i, r := range refs {
		ref := &e.bank.Refs[refIdx[i]]
		if r.W != ref.MapW || r.H != ref.MapH {
			return nil, fmt.Errorf("inspect: upsampled reference %s is %dx%d, bank says %dx%d", ref.Name, r.W, r.H, ref.MapW, ref.MapH)
		}
		r.Labels, r.Objects = ref.Labels, ref.Objects
	}
	sw.lap(StageUpsampling)
	sw.add(StageObjects, objTime)

	// 7. DCGA descriptors of the query's objects; the references' come
	// from the bank.
	qDesc := describe(q, e.p.Descriptor, e.p.DCGAPooling)
	finishDesc(qDesc, e.bank.DescMean, q, e.p.PositionWeight)
	refDesc := bufs.refDesc
	for i, r := range refIdx {
		refDesc[i] = e.refDescs[r]
	}
	sw.lap(StageDCGA)

	// 8-9. OMM and AMM.
	if cap(bufs.smap) < q.W*q.H {
		bufs.smap = make([]float32, q.W*q.H)
	}
	a := assess(q, qDesc, refs, refDesc, e.pr, bufs.smap[:q.W*q.H])
	sw.lap(StageAMM)

	// 10. Further terms: the layout step and the patch memory.
	var lay *layoutOutcome
	if e.bank.Layout != nil {
		lay = e.layoutTerm(q, e.layoutRefIdx(bufs.global, layoutRefs(e.p.Layout, len(e.bank.Refs)), exclude))
	}
	pt := e.patchTerm(f, refIdx, exclude, &bufs.patch)
	sw.lap(StageTerms)

	// 11-12. Fusion, verdict, map and findings.
	res := e.result(q, refs, a, lay, pt)
	res.References = make([]string, 0, k)
	for _, i := range refIdx {
		res.References = append(res.References, e.bank.Refs[i].Name)
	}
	sw.lap(StageResult)
	res.Timings = splitMatching(sw.timings, a)
	return res, nil
}

// splitMatching reports OMM and AMM separately: the combined lap is split
// by re-timing nothing; the OMM share is measured inside assess.
func splitMatching(t []StageTiming, a *assessment) []StageTiming {
	out := make([]StageTiming, 0, len(t)+1)
	for _, s := range t {
		if s.Stage == StageAMM {
			out = append(out, StageTiming{StageOMM, a.ommMs}, StageTiming{StageAMM, math.Round(max(s.Ms-a.ommMs, 0)*1000) / 1000})
			continue
		}
		out = append(out, s)
	}
	return out
}

func descsOf(objs []Object) [][]float32 {
	d := make([][]float32, len(objs))
	for i := range objs {
		d[i] = objs[i].Desc
	}
	return d
}

// extract runs the backbone and standardises its channels with the bank's
// normalisation (nil norm: leave as is).
func extract(be *Backend, img *Image, bank *Bank) (*FeatureMap, error) {
	f, err := be.Features.Extract(img)
	if err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	if f == nil || f.C <= 0 || f.H <= 0 || f.W <= 0 || len(f.Data) != f.C*f.H*f.W {
		return nil, errors.New("features: backend returned a malformed feature map")
	}
	if bank != nil {
		r := &bank.Refs[0].Feat
		if f.C != r.C || f.H != r.H || f.W != r.W {
			return nil, fmt.Errorf("features: backend gives %dx%dx%d, bank holds %dx%dx%d", f.C, f.H, f.W, r.C, r.H, r.W)
		}
		standardize(f, bank.Norm)
	}
	return f, nil
}

func standardize(f *FeatureMap, n ChannelNorm) {
	hw := f.H * f.W
	for c := 0; c < f.C; c++ {
		m, s := n.Mean[c], n.InvStd[c]
		plane := f.Data[c*hw : (c+1)*hw]
		for i, v := range plane {
			plane[i] = (v - m) * s
		}
	}
}

// segment runs the segmenter and the area filter.
func segment(be *Backend, frame, img *Image, minArea, maxArea float64, maxObjects int) ([]Mask, error) {
	masks, err := SegmentFrame(be.Segmenter, frame, img)
	if err != nil {
		return nil, fmt.Errorf("segmentation: %w", err)
	}
	return filterMasks(masks, img.W*img.H, minArea, maxArea, maxObjects), nil
}

// upsampleView upsamples f guided by img and lays it out pixel-major in buf.
func upsampleView(be *Backend, img *Image, f *FeatureMap, factor int, buf []float32) (*view, error) {
	v := &view{}
	if err := upsampleViewInto(v, be, img, f, factor, buf, nil); err != nil {
		return nil, err
	}
	return v, nil
}

// upsampleViewInto is upsampleView writing into dst. A non-nil mask (on
// the output grid) lets a MaskedHWCUpsampler compute only where it is 1.
func upsampleViewInto(dst *view, be *Backend, img *Image, f *FeatureMap, factor int, buf []float32, mask []uint8) error {
	mu, masked := be.Upsampler.(MaskedHWCUpsampler)
	hu, hwc := be.Upsampler.(HWCUpsampler)
	if (masked && mask != nil) || hwc {
		var out []float32
		var err error
		if masked && mask != nil {
			out, err = mu.UpsampleHWCMasked(buf, img, f, factor, mask)
		} else {
			out, err = hu.UpsampleHWC(buf, img, f, factor)
		}
		if err != nil {
			return fmt.Errorf("upsampling: %w", err)
		}
		w, h := f.W*factor, f.H*factor
		if len(out) != w*h*f.C {
			return errors.New("upsampling: backend returned a malformed feature map")
		}
		*dst = view{W: w, H: h, C: f.C, Feat: out}
		return nil
	}
	u, err := be.Upsampler.Upsample(img, f, factor)
	if err != nil {
		return fmt.Errorf("upsampling: %w", err)
	}
	if u == nil || u.C != f.C || u.H <= 0 || u.W <= 0 || len(u.Data) != u.C*u.H*u.W {
		return errors.New("upsampling: backend returned a malformed feature map")
	}
	*dst = view{W: u.W, H: u.H, C: u.C, Feat: toHWC(u, buf)}
	return nil
}

// objectMask sets dst (reused) to 1 where labels is an object, else 0.
func objectMask(dst []uint8, labels []uint16) []uint8 {
	if cap(dst) < len(labels) {
		dst = make([]uint8, len(labels))
	}
	dst = dst[:len(labels)]
	for i, l := range labels {
		dst[i] = 0
		if l != 0 {
			dst[i] = 1
		}
	}
	return dst
}

// mapToInput converts a map-grid rectangle to input_size pixels.
func mapToInput(r image.Rectangle, mapW, size int) image.Rectangle {
	s := float64(size) / float64(mapW)
	return image.Rect(int(float64(r.Min.X)*s), int(float64(r.Min.Y)*s), int(float64(r.Max.X)*s+0.5), int(float64(r.Max.Y)*s+0.5))
}
