package infer_test

import (
	"testing"

	"github.com/samlad/samlad/config"
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
	good := termScores(t, eng, scenes.Blister, scenes.Good, 500, 8, p.InputSize, "place", "patch")
	bad := termScores(t, eng, scenes.Blister, scenes.Swapped, 600, 8, p.InputSize, "place", "patch")
	place, patch := goodBadAUROC(t, good["place"], bad["place"]), goodBadAUROC(t, good["patch"], bad["patch"])
	t.Logf("swapped tablets: place AUROC %.3f, patch AUROC %.3f", place, patch)
	if place < 0.9 {
		t.Errorf("the place term ranks swapped tablets above good blisters with AUROC %.3f, want >= 0.9", place)
	}
	if place <= patch {
		t.Errorf("the place term (AUROC %.3f) does not rank swapped tablets better than the patch memory (%.3f)", place, patch)
	}
}
