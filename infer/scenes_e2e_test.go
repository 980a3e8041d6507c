package infer_test

import (
	"context"
	"slices"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/digitanatomy"
	"github.com/samlad/samlad/eval/metrics"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
)

// sceneImages renders n scenes of a kind and anomaly from seed0 on.
func sceneImages(t testing.TB, kind scenes.Kind, an scenes.Anomaly, seed0, n, size int) ([]*infer.Image, []scenes.Scene) {
	t.Helper()
	var imgs []*infer.Image
	var ss []scenes.Scene
	for s := seed0; s < seed0+n; s++ {
		sc, err := scenes.Generate(kind, int64(s), size, an)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, infer.FromImage(sc.Image, size))
		ss = append(ss, sc)
	}
	return imgs, ss
}

// enrollImages enrols good images with the built-in backend.
func enrollImages(t testing.TB, p config.Pipeline, good []*infer.Image) (*infer.Backend, *infer.Bank) {
	t.Helper()
	be, err := builtin.New(p)
	if err != nil {
		t.Fatal(err)
	}
	bank, err := infer.Enroll(context.Background(), be, p, good, nil)
	if err != nil {
		t.Fatal(err)
	}
	return be, bank
}

func enrollScenes(t testing.TB, p config.Pipeline, kind scenes.Kind, n int) (*infer.Backend, *infer.Bank) {
	t.Helper()
	good, _ := sceneImages(t, kind, scenes.Good, 1000, n, p.InputSize)
	return enrollImages(t, p, good)
}

// enrollGoodBoxes enrols n good box scenes with the default pipeline and
// returns the bank with the scenes, whose truth names each reference's
// parts.
func enrollGoodBoxes(t *testing.T, n int) (config.Pipeline, *infer.Bank, []scenes.Scene) {
	t.Helper()
	p := config.DefaultPipeline()
	good, scs := sceneImages(t, scenes.Box, scenes.Good, 1000, n, p.InputSize)
	_, bank := enrollImages(t, p, good)
	return p, bank, scs
}

// mnistDir is the MNIST data folder; the test is skipped without it.
func mnistDir(t testing.TB) string {
	t.Helper()
	dir, err := digitanatomy.DataDir()
	if err != nil {
		t.Skipf("MNIST not available: %v", err)
	}
	return dir
}

// mnistDigits loads the MNIST training (train) or test digits.
func mnistDigits(t testing.TB, train bool) *digitanatomy.Digits {
	t.Helper()
	d, err := digitanatomy.Load(mnistDir(t), train)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// termScores inspects n scenes of kind with anomaly an (seeds from seed0)
// and returns each named term's values (Result.Terms).
func termScores(t *testing.T, eng *infer.Engine, kind scenes.Kind, an scenes.Anomaly, seed0, n, size int, names ...string) map[string][]float64 {
	t.Helper()
	imgs, _ := sceneImages(t, kind, an, seed0, n, size)
	out := map[string][]float64{}
	for _, img := range imgs {
		res, err := eng.Inspect(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			out[name] = append(out[name], res.Terms()[name])
		}
	}
	return out
}

// goodBadAUROC is the AUROC of scores that rank bad above good.
func goodBadAUROC(t *testing.T, good, bad []float64) float64 {
	t.Helper()
	scores := append(slices.Clone(good), bad...)
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
