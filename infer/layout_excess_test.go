package infer_test

import (
	"context"
	"image"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
)

// TestLayoutExcessFindsExtraParts inspects box scenes with one part too
// many (a part of its compartment's kind, at a free spot there) and good
// boxes of the same seeds (same pose of everything else), with a
// per-compartment layout pipeline enrolled on other good boxes. The
// layout step's excess term alone puts nearly every extra scene above
// every good one, so does the fused score, and a failing scene (at a low
// threshold, a config override, so that findings are checked) is
// explained first by an extra finding on a part of the added part's kind
// in its compartment (which of the like parts is "the extra one" is
// arbitrary).
func TestLayoutExcessFindsExtraParts(t *testing.T) {
	const seeds = 8
	size := config.DefaultPipeline().InputSize
	imgs, scs := sceneImages(t, scenes.Box, scenes.Extra, 300, seeds, size)
	twins, _ := sceneImages(t, scenes.Box, scenes.Good, 300, seeds, size)
	good, _ := sceneImages(t, scenes.Box, scenes.Good, 1000, 24, size)
	// Each part pooled whole (grid 1) and compared with the good parts of
	// its own compartment (radius: half the compartment spacing, 6.8/16
	// of the side); no object term, a moved part showing as one too many
	// in one compartment and one too few in another.
	p := config.DefaultPipeline()
	l := &p.Layout
	l.Enabled, l.Only, l.Refs, l.Radius, l.Grid = true, false, 0, 6.8/16/2, 1
	l.ObjectWeight, l.MissingWeight, l.ExcessWeight = 0, 0.25, 1
	p.K = 8
	be, bank := enrollImages(t, p, good)
	p.Threshold = 1.5
	eng, err := infer.NewEngine(be, bank, p)
	if err != nil {
		t.Fatal(err)
	}
	var top, topExcess float64
	for _, img := range twins {
		res, err := eng.Inspect(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		top, topExcess = max(top, res.Score), max(topExcess, res.Terms()["layout excess"])
	}
	var separated, byTerm, named int
	for i, img := range imgs {
		res, err := eng.Inspect(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		if res.Score > top {
			separated++
		}
		excess := res.Terms()["layout excess"]
		if excess > topExcess {
			byTerm++
		}
		var first infer.Finding
		if len(res.Findings) > 0 {
			first = res.Findings[0]
		}
		if res.Score > res.Threshold && first.Kind == infer.KindExtra && onLikePart(first, scs[i], size) {
			named++
		}
		t.Logf("seed %d: score %.2f (good scenes up to %.2f, threshold %.2f), excess term %.2f (good up to %.2f), first finding %+v", 300+i, res.Score, top, res.Threshold, excess, topExcess, first)
	}
	if byTerm < seeds-1 || separated < seeds-1 || named < seeds*3/4 {
		t.Errorf("of %d extra scenes %d score above every good one by the excess term and %d by the fused score, and %d fail with an extra finding on a like part first; want at least %d, %d and %d",
			seeds, byTerm, separated, named, seeds-1, seeds-1, seeds*3/4)
	}
}

// onLikePart reports whether f's box (input_size pixels) overlaps one of
// the scene's parts of the type and compartment of its extra part.
func onLikePart(f infer.Finding, sc scenes.Scene, size int) bool {
	var extra scenes.Object
	for _, o := range sc.Objects {
		if o.ID == -1 {
			extra = o
		}
	}
	s := float64(size) / float64(sc.Image.Bounds().Dx())
	for _, o := range sc.Objects {
		b := image.Rect(int(float64(o.Box.Min.X)*s), int(float64(o.Box.Min.Y)*s), int(float64(o.Box.Max.X)*s+1), int(float64(o.Box.Max.Y)*s+1))
		if o.Type == extra.Type && o.Slot == extra.Slot && f.Box.Overlaps(b) {
			return true
		}
	}
	return false
}
