package infer_test

import (
	"context"
	"image"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
)

// TestLayoutExcessFindsExtraParts inspects box scenes with one part too
// many (a part of its compartment's kind, at a free spot there) and good
// boxes of the same seeds (same pose of everything else), with the box
// recipe enrolled on other good boxes; then again with the layout step's
// excess term off (layout.excess_weight 0). With the term nearly every
// extra scene scores above every good one, and a failing scene (at a low
// threshold, a config override, so that findings are checked) is
// explained first by an extra finding on a part of the added part's kind
// in its compartment (which of the like parts is "the extra one" is
// arbitrary); without it, fewer are.
func TestLayoutExcessFindsExtraParts(t *testing.T) {
	const seeds = 8
	size := config.DefaultPipeline().InputSize
	imgs, scs := sceneImages(t, scenes.Box, scenes.Extra, 300, seeds, size)
	twins, _ := sceneImages(t, scenes.Box, scenes.Good, 300, seeds, size)
	good, _ := sceneImages(t, scenes.Box, scenes.Good, 1000, 24, size)
	inspect := func(excess float64) (separated, named int) {
		p := scenes.Recipe(scenes.Box, config.DefaultPipeline())
		p.Layout.ExcessWeight = excess
		be, err := builtin.New(p)
		if err != nil {
			t.Fatal(err)
		}
		bank, err := infer.Enroll(context.Background(), be, p, good, nil)
		if err != nil {
			t.Fatal(err)
		}
		p.Threshold = 1.5
		eng, err := infer.NewEngine(be, bank, p)
		if err != nil {
			t.Fatal(err)
		}
		var top float64
		for _, img := range twins {
			res, err := eng.Inspect(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			top = max(top, res.Score)
		}
		for i, img := range imgs {
			res, err := eng.Inspect(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			if res.Score > top {
				separated++
			}
			var first infer.Finding
			if len(res.Findings) > 0 {
				first = res.Findings[0]
			}
			if res.Score > res.Threshold && first.Kind == infer.KindExtra && onLikePart(first, scs[i], size) {
				named++
			}
			t.Logf("excess weight %g, seed %d: score %.2f (good scenes up to %.2f, threshold %.2f), first finding %+v", excess, 300+i, res.Score, top, res.Threshold, first)
		}
		return separated, named
	}
	separated, named := inspect(1)
	separatedOff, namedOff := inspect(0)
	t.Logf("excess term on: %d of %d above every good scene, %d named; off: %d above, %d named", separated, seeds, named, separatedOff, namedOff)
	if separated < seeds-1 || named < seeds*3/4 {
		t.Errorf("with the excess term %d of %d extra scenes score above every good one and %d fail with an extra finding on a like part first; want at least %d and %d",
			separated, seeds, named, seeds-1, seeds*3/4)
	}
	if separatedOff >= separated || namedOff >= named {
		t.Errorf("without the excess term %d score above every good scene and %d are named; want fewer than %d and %d", separatedOff, namedOff, separated, named)
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
