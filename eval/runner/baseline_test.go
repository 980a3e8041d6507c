package runner

import (
	"context"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/metrics"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
)

// The baseline samlab eval runs (infer.PatchKNN on the built-in features)
// scores scratched parts in generated box scenes above good scenes, with
// and without a coreset.
func TestBaselineScoresStructuralAboveGood(t *testing.T) {
	p := config.DefaultPipeline()
	p.InputSize, p.Workers = 192, 2
	be, err := builtin.New(p)
	if err != nil {
		t.Fatal(err)
	}
	images := func(a scenes.Anomaly, seed0, n int) []*infer.Image {
		var out []*infer.Image
		for s := seed0; s < seed0+n; s++ {
			sc, err := scenes.Generate(scenes.Box, int64(s), p.InputSize, a)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, infer.FromImage(sc.Image, p.InputSize))
		}
		return out
	}
	train := images(scenes.Good, 100, 12)
	for _, coreset := range []float64{0, 0.25} {
		base, err := infer.NewPatchKNN(context.Background(), be, p, train, coreset)
		if err != nil {
			t.Fatal(err)
		}
		var scores []float64
		var labels []bool
		for _, a := range []scenes.Anomaly{scenes.Good, scenes.Scratch} {
			for _, img := range images(a, 500, 8) {
				s, _, _, _, err := base.Score(img)
				if err != nil {
					t.Fatal(err)
				}
				scores, labels = append(scores, s), append(labels, a != scenes.Good)
			}
		}
		au, err := metrics.AUROC(scores, labels)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("coreset %g: scratch vs good image AUROC %.3f", coreset, au)
		if au < 0.8 {
			t.Fatalf("coreset %g: scratch vs good AUROC %.3f, want >= 0.8", coreset, au)
		}
	}
}
