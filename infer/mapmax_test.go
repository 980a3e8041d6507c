package infer_test

import (
	"context"
	"math"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
)

// TestMapMaximumIsTheScore: every term paints its value into the anomaly
// map, so an evaluator that scores an image by its map's maximum (the
// official MVTec LOCO script) agrees with the image score, on every image
// of a generated split, good and anomalous, under both fusion rules.
func TestMapMaximumIsTheScore(t *testing.T) {
	for _, fusion := range []string{infer.FusionMax, infer.FusionSum} {
		p := config.DefaultPipeline()
		p.InputSize, p.Upsample, p.Fusion = 128, 4, fusion
		be, bank := enrollScenes(t, p, scenes.Box, 8)
		eng, err := infer.NewEngine(be, bank, p)
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for _, an := range scenes.Anomalies(scenes.Box) {
			imgs, _ := sceneImages(t, scenes.Box, an, 500, 2, p.InputSize)
			good, _ := sceneImages(t, scenes.Box, scenes.Good, 600, 1, p.InputSize)
			for _, img := range append(imgs, good...) {
				res, err := eng.Inspect(context.Background(), img)
				if err != nil {
					t.Fatal(err)
				}
				top := float32(math.Inf(-1))
				for _, v := range res.Map {
					top = max(top, v)
				}
				if math.Abs(float64(top)-res.Score) > 1e-4*max(1, math.Abs(res.Score)) {
					t.Errorf("%s, %s: map maximum %.5f, score %.5f", fusion, an, top, res.Score)
				}
				checked++
			}
		}
		t.Logf("%s: %d images checked", fusion, checked)
	}
}
