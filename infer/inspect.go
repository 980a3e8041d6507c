package infer

import (
	"cmp"
	"context"
	"errors"
	"slices"
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

	// 1. Preprocess (features.go): the input_size view in [0,1], aligned
	// and lit as the good images.
	frame, img, aligned, err := e.preprocess(frame)
	if err != nil {
		return nil, err
	}
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
	// The masks labelled as objects on the upsampled grid (objects.go).
	qLabels, qObjects := labelObjects(masks, f.W*e.p.Upsample, f.H*e.p.Upsample)
	sw.lap(StageObjects)
	// 5. Upsampling of the frame's and the k references' features
	// (upsample.go), only inside their objects, which gives 6. the object
	// feature maps: masks x upsampled features.
	q, refs, err := e.objectMaps(img, f, qLabels, qObjects, refIdx, b)
	if err != nil {
		return nil, err
	}
	sw.lap(StageUpsampling)
	// 7. DCGA descriptors (dcga.go); the references' come from the bank.
	qDesc, refDesc, extra := e.descriptors(q, countIdx, len(refIdx), b)
	sw.lap(StageDCGA)
	// 8. OMM matching (omm.go) and the logical count (assess.go).
	a := matchObjects(q, qDesc, refs, refDesc, extra, &b.count, e.pr)
	sw.lap(StageOMM)
	// 9. AMM maps of the matched objects (amm.go).
	a.measure(b.structMap(q.W * q.H))
	sw.lap(StageAMM)
	// 10. Further terms: the layout step (layout.go), the patch memory
	// (patchmem.go), the place (place.go) and the composition
	// (composition.go).
	b.cells = toHWC(f, b.cells) // the frame's cells, for both feature terms
	lay := e.layoutTerm(q, near, exclude)
	pt, pl := e.patchTerm(f, b.cells, refIdx, exclude, &b.patch)
	ct := e.compTerm(f, b.cells, exclude, &b.comp)
	sw.lap(StageTerms)
	// 11. Fusion of the standardised terms into the image score (fuse.go).
	t := e.termsOf(a, lay, pt, pl, ct)
	score := round4(fuse(t, e.weights, e.p))
	// 12. The anomaly map and the findings that explain the score
	// (findings.go).
	res := e.result(q, refs, refIdx, a, lay, pt, pl, ct, t, score, aligned)
	sw.lap(StageResult)
	res.Alignment = aligned
	res.Timings = slices.Clone(sw.timings) // the stopwatch's storage goes back to the pool
	return res, nil
}

// structMap is the reused structural map of n cells.
func (b *buffers) structMap(n int) []float32 {
	if cap(b.smap) < n {
		b.smap = make([]float32, n)
	}
	return b.smap[:n]
}
