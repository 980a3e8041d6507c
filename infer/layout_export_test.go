package infer

import (
	"context"
	"fmt"

	"github.com/samlad/samlad/config"
)

// LayoutView is one image as the layout step sees it, for the layout
// sweep (layout_sweep_test.go): its objects and labels on the map grid,
// its global vector, and the upsampled features at object pixels only
// (the step reads nothing else), so that a seed's views can be cached and
// the step re-run in seconds.
type LayoutView struct {
	W, H, C int
	Labels  []uint16
	Objects []Object
	Global  []float32
	Feat    []float32 // C values per labelled pixel, in raster order
}

func compactView(v *view, global []float32) *LayoutView {
	lv := &LayoutView{W: v.W, H: v.H, C: v.C, Labels: v.Labels, Objects: v.Objects, Global: global}
	for i, l := range v.Labels {
		if l != 0 {
			lv.Feat = append(lv.Feat, v.Feat[i*v.C:(i+1)*v.C]...)
		}
	}
	return lv
}

// expand rebuilds the full view (zero features outside objects).
func (lv *LayoutView) expand() *view {
	v := &view{W: lv.W, H: lv.H, C: lv.C, Labels: lv.Labels, Objects: lv.Objects, Feat: make([]float32, lv.W*lv.H*lv.C)}
	k := 0
	for i, l := range lv.Labels {
		if l != 0 {
			copy(v.Feat[i*lv.C:(i+1)*lv.C], lv.Feat[k:k+lv.C])
			k += lv.C
		}
	}
	return v
}

// LayoutRefViews returns the bank's references as Enroll described them.
func LayoutRefViews(be *Backend, bank *Bank, p config.Pipeline) ([]*LayoutView, error) {
	out := make([]*LayoutView, len(bank.Refs))
	for i := range bank.Refs {
		r := &bank.Refs[i]
		img := dequantize(r.RGB, r.Size, r.Size)
		v, err := upsampleView(be, img, &r.Feat, p.Upsample, nil)
		if err != nil {
			return nil, err
		}
		v.Labels, v.Objects = r.Labels, r.Objects
		out[i] = compactView(v, r.Global)
	}
	return out, nil
}

// LayoutQueryView runs Inspect's steps 1-6 on img.
func LayoutQueryView(be *Backend, bank *Bank, p config.Pipeline, img *Image) (*LayoutView, error) {
	cal := effectiveCalibration(bank, p)
	if img.W != p.InputSize || img.H != p.InputSize {
		img = Resize(img, p.InputSize, p.InputSize)
	}
	f, err := extract(be, img, bank)
	if err != nil {
		return nil, err
	}
	global := globalVector(f)
	masks, err := segment(be, img, img, cal.MinArea, cal.MaxArea, p.MaxObjects)
	if err != nil {
		return nil, err
	}
	mw, mh := f.W*p.Upsample, f.H*p.Upsample
	labels, objs := labelObjects(masks, mw, mh)
	v := &view{}
	if err := upsampleViewInto(v, be, img, f, p.Upsample, nil, objectMask(nil, labels)); err != nil {
		return nil, err
	}
	if v.W != mw || v.H != mh {
		return nil, fmt.Errorf("layout view: %dx%d, want %dx%d", v.W, v.H, mw, mh)
	}
	v.Labels, v.Objects = labels, objs
	return compactView(v, global), nil
}

// LayoutScores enrols the layout step on refs with cfg and returns each
// query's zP, as Inspect's applyLayout computes it.
func LayoutScores(cfg config.Layout, refs, queries []*LayoutView) []float64 {
	s, _ := LayoutScoresDetail(cfg, refs, queries)
	return s
}

// LayoutScoresDetail also says, per query, the object and missing z and
// the cell (0-8, DigitAnatomy's 3 x 3 grid) of the worst object.
func LayoutScoresDetail(cfg config.Layout, refs, queries []*LayoutView) ([]float64, []string) {
	bank := &Bank{Refs: make([]Reference, len(refs))}
	le := newLayoutEnrol(cfg, len(refs))
	parallelFor(len(refs), workerCount(0), func(i int) {
		r := refs[i]
		bank.Refs[i] = Reference{MapW: r.W, MapH: r.H, Labels: r.Labels, Objects: r.Objects, Global: r.Global}
		le.describe(i, r.expand())
	})
	lb := le.finish(bank, workerCount(0))
	all := make([]int, len(refs))
	for i := range all {
		all[i] = i
	}
	out := make([]float64, len(queries))
	det := make([]string, len(queries))
	parallelFor(len(queries), workerCount(0), func(i int) {
		q := queries[i]
		raw := layoutDescribe(q.expand(), lb.Grid, groupRadius(cfg), lb.Mirror)
		qm := layoutMirrors(raw, lb)
		qd := finishLayout(raw, lb.Mean)
		lp := layoutMeasure(bank.Refs, lb, all, q.Objects, qd, qm, q.W, q.H, cfg, false)
		zo, zm, ze := lb.z(lp, cfg)
		out[i] = max(zo, zm, ze)
		_, w := lp.maxObject()
		cell := -1
		if w >= 0 {
			o := q.Objects[w]
			cell = int(o.CY)*3/q.H*3 + int(o.CX)*3/q.W
		}
		det[i] = fmt.Sprintf("zo %.2f zm %.2f ze %.2f cell %d nobj %d", zo, zm, ze, cell, len(q.Objects))
	})
	return out, det
}

// ScoreWithoutLayout inspects img as e does, without the bank's layout
// step: the image score of SAM-LAD's own structural and logical values.
func ScoreWithoutLayout(ctx context.Context, e *Engine, img *Image) (float64, error) {
	lb := e.bank.Layout
	e.bank.Layout = nil
	defer func() { e.bank.Layout = lb }()
	res, err := e.Inspect(ctx, img)
	if err != nil {
		return 0, err
	}
	return res.Score, nil
}
