package infer_test

import (
	"context"
	"image"
	"testing"

	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
)

// defectBox is the bounding box of a scene's ground-truth defect, scaled to
// the engine's input size.
func defectBox(sc scenes.Scene, size int) image.Rectangle {
	var r image.Rectangle
	b := sc.GT.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if sc.GT.GrayAt(x, y).Y > 0 {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	s := float64(size) / float64(b.Dx())
	return image.Rect(int(float64(r.Min.X)*s), int(float64(r.Min.Y)*s), int(float64(r.Max.X)*s+1), int(float64(r.Max.Y)*s+1))
}

// TestDetectsMissingExtraSwapped inspects bag scenes with a missing, an
// extra and a swapped (wrong type) part, each beside its good twin (same
// seed, same pose of everything else). The logical score must rank the
// anomalous scene above its twin in nearly every case, and a scene that
// fails on logic must carry a logical finding (missing, extra or
// mismatched). Which of several identical parts is "the extra one" is
// arbitrary, and an extra part can make a reference part look missing, so
// the kind and the overlap with the generator's defect are only logged.
func TestDetectsMissingExtraSwapped(t *testing.T) {
	p := testPipeline()
	p.InputSize, p.Upsample, p.K = 192, 8, 4
	p.MinArea, p.MaxArea = 0, 0 // calibrated
	be, err := builtin.New(p)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := sceneImages(t, scenes.Bag, scenes.Good, 1000, 16, p.InputSize)
	bank, err := infer.Enroll(context.Background(), be, p, good, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A low pass/fail threshold (a config override) makes most of these
	// scenes fail, so that their findings are checked too.
	q := p
	q.Threshold = 1
	eng, err := infer.NewEngine(be, bank, q)
	if err != nil {
		t.Fatal(err)
	}
	const seeds = 8
	twins, _ := sceneImages(t, scenes.Bag, scenes.Good, 300, seeds, p.InputSize)
	for _, tc := range []struct {
		an    scenes.Anomaly
		kinds []string
	}{
		{scenes.Missing, []string{infer.KindMissing, infer.KindMismatched}},
		{scenes.Extra, []string{infer.KindExtra, infer.KindMismatched}},
		{scenes.WrongType, []string{infer.KindExtra, infer.KindMismatched, infer.KindMissing}},
	} {
		imgs, scs := sceneImages(t, scenes.Bag, tc.an, 300, seeds, p.InputSize)
		ranked, checked, overlap := 0, 0, 0
		for i := range imgs {
			a, err := eng.Inspect(context.Background(), imgs[i])
			if err != nil {
				t.Fatal(err)
			}
			g, err := eng.Inspect(context.Background(), twins[i])
			if err != nil {
				t.Fatal(err)
			}
			if a.Logical > g.Logical {
				ranked++
			}
			t.Logf("%s seed %d: logical %.2f (twin %.2f), score %.2f (threshold %.2f), findings %v", tc.an, 300+i, a.Logical, g.Logical, a.Score, a.Threshold, a.Findings)
			if a.Score <= a.Threshold || a.Logical < a.Structural {
				continue
			}
			checked++
			box := defectBox(scs[i], p.InputSize)
			logical, onDefect := false, false
			for _, f := range a.Findings {
				logical = logical || f.Kind != infer.KindStructural
				for _, k := range tc.kinds {
					onDefect = onDefect || (f.Kind == k && f.Box.Overlaps(box))
				}
			}
			if !logical {
				t.Errorf("%s seed %d failed on logic without a logical finding: %v", tc.an, 300+i, a.Findings)
			}
			if onDefect {
				overlap++
			}
		}
		t.Logf("%s: %d scenes failed on logic, %d with a %v finding on the defect", tc.an, checked, overlap, tc.kinds)
		if ranked < seeds-1 {
			t.Errorf("%s: logical score above the good twin's in %d of %d scenes, want at least %d", tc.an, ranked, seeds, seeds-1)
		}
	}
}
