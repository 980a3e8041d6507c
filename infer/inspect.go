package infer

import (
	"cmp"
	"context"
	"errors"
	"math"
)

// Inspect runs the steps of the paper (and of docs/engine.md) on one frame.
func (e *Engine) Inspect(ctx context.Context, img *Image) (*Result, error) {
	return e.inspect(ctx, img, -1)
}

// inspect is Inspect with reference exclude (>= 0) left out: the self-check
// inspects images made from a reference against the others. Each step is
// one call into the file named after it.
func (e *Engine) inspect(ctx context.Context, frame *Image, exclude int) (*Result, error) {
	if frame == nil || frame.W <= 0 || frame.H <= 0 || len(frame.Pix) != 3*frame.W*frame.H {
		return nil, errors.New("inspect: malformed image")
	}
	b := e.bufs.Get().(*buffers)
	defer e.bufs.Put(b)
	sw := &b.sw
	sw.start()

	// 1. Preprocess (features.go): the input_size view in [0,1].
	img := e.preprocess(frame)
	sw.lap(StagePreprocess)
	// 2. Backbone features (features.go), standardised as the bank's.
	f, err := extractFrame(e.be, frame, img, e.bank)
	if err := cmp.Or(err, ctx.Err()); err != nil {
		return nil, err
	}
	sw.lap(StageFeatures)
	// 3. Retrieval of the nearest references (retrieval.go, eq. 2), one
	// search: the k first for the AMM, countN for the logical count,
	// layoutN for the layout step.
	near := e.retrieve(f, exclude, b)
	refIdx := near[:min(e.p.K, len(near))]
	countIdx := near[:min(e.countN(), len(near))]
	sw.lap(StageRetrieval)
	// 4. Segmentation into object masks, with the area filter (segment.go).
	masks, err := segment(e.be, frame, img, e.cal.MinArea, e.cal.MaxArea, e.p.MaxObjects)
	if err := cmp.Or(err, ctx.Err()); err != nil {
		return nil, err
	}
	sw.lap(StageSegmentation)
	// 5-6. Upsampling and object feature maps (upsample.go, objects.go);
	// objects are labelled first so that upsampling can skip the rest.
	qLabels, qObjects := labelObjects(masks, f.W*e.p.Upsample, f.H*e.p.Upsample)
	sw.lap(StageObjects)
	q, refs, err := e.objectMaps(img, f, qLabels, qObjects, refIdx, b)
	if err != nil {
		return nil, err
	}
	sw.lap(StageUpsampling)
	// 7. DCGA descriptors (dcga.go); the references' come from the bank.
	qDesc, refDesc, extra := e.descriptors(q, countIdx, len(refIdx), b)
	sw.lap(StageDCGA)
	// 8-9. OMM matching (omm.go) and AMM maps of the matches (amm.go).
	a := assess(q, qDesc, refs, refDesc, extra, &b.count, e.pr, b.structMap(q.W*q.H))
	sw.lap(StageAMM)
	// 10. Further terms: the layout step (layout.go), the patch memory
	// (patchmem.go) and the composition (composition.go).
	lay := e.layoutTerm(q, near, exclude)
	pt := e.patchTerm(f, refIdx, exclude, &b.patch)
	ct := e.compTerm(f, exclude, &b.comp)
	sw.lap(StageTerms)
	// 11-12. Fusion (fuse.go), the anomaly map and the findings (findings.go).
	res := e.result(q, refs, refIdx, a, lay, pt, ct)
	sw.lap(StageResult)
	res.Timings = splitMatching(sw.timings, a)
	return res, nil
}

// structMap is the reused structural map of n cells.
func (b *buffers) structMap(n int) []float32 {
	if cap(b.smap) < n {
		b.smap = make([]float32, n)
	}
	return b.smap[:n]
}

// splitMatching reports OMM and AMM separately: assess times the OMM share
// of the combined lap.
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
