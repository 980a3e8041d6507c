package infer_test

import (
	"context"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/metrics"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
)

// TestPlaceSeesSwappedTablets: in a blister whose cavities each hold a
// fixed kind of tablet, the place term alone ranks blisters with two
// tablets swapped above good ones; the patch memory, which holds every
// kind somewhere, ranks them lower.
func TestPlaceSeesSwappedTablets(t *testing.T) {
	if testing.Short() {
		t.Skip("enrols 24 scenes")
	}
	p := config.DefaultPipeline()
	be, bank := enrollScenes(t, p, scenes.Blister, 24)
	eng, err := infer.NewEngine(be, bank, p)
	if err != nil {
		t.Fatal(err)
	}
	terms := func(an scenes.Anomaly, seed0 int) (place, patch []float64) {
		imgs, _ := sceneImages(t, scenes.Blister, an, seed0, 8, p.InputSize)
		for _, img := range imgs {
			res, err := eng.Inspect(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			place, patch = append(place, res.Terms()["place"]), append(patch, res.Terms()["patch"])
		}
		return place, patch
	}
	auroc := func(good, bad []float64) float64 {
		scores := append(append([]float64{}, good...), bad...)
		labels := make([]bool, len(scores))
		for i := len(good); i < len(labels); i++ {
			labels[i] = true
		}
		auc, err := metrics.AUROC(scores, labels)
		if err != nil {
			t.Fatal(err)
		}
		return auc
	}
	goodPlace, goodPatch := terms(scenes.Good, 500)
	badPlace, badPatch := terms(scenes.Swapped, 600)
	place, patch := auroc(goodPlace, badPlace), auroc(goodPatch, badPatch)
	t.Logf("swapped tablets: place AUROC %.3f, patch AUROC %.3f", place, patch)
	if place < 0.9 {
		t.Errorf("the place term ranks swapped tablets above good blisters with AUROC %.3f, want >= 0.9", place)
	}
	if place <= patch {
		t.Errorf("the place term (AUROC %.3f) does not rank swapped tablets better than the patch memory (%.3f)", place, patch)
	}
}
