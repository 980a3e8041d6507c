package patchknn

import (
	"math"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/metrics"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
)

func features(t *testing.T, fe infer.FeatureExtractor, kind scenes.Kind, a scenes.Anomaly, seed0, n, size int) []*infer.FeatureMap {
	t.Helper()
	var out []*infer.FeatureMap
	for s := seed0; s < seed0+n; s++ {
		sc, err := scenes.Generate(kind, int64(s), size, a)
		if err != nil {
			t.Fatal(err)
		}
		f, err := fe.Extract(infer.FromImage(sc.Image, size))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// On real built-in features of generated box scenes, scratched parts score
// above good scenes (image AUROC), with and without a coreset.
func TestStructuralAboveGood(t *testing.T) {
	p := config.DefaultPipeline()
	p.Workers = 2
	be, err := builtin.New(p)
	if err != nil {
		t.Fatal(err)
	}
	const size = 192
	train := features(t, be.Features, scenes.Box, scenes.Good, 100, 12, size)
	for _, coreset := range []float64{0, 0.25} {
		m, err := Fit(train, Options{Coreset: coreset, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		kept, total := m.Size()
		if coreset > 0 && math.Abs(float64(kept)-coreset*float64(total)) > 1 {
			t.Fatalf("coreset %g kept %d of %d patches", coreset, kept, total)
		}
		var scores []float64
		var labels []bool
		for _, a := range []scenes.Anomaly{scenes.Good, scenes.Scratch} {
			for _, f := range features(t, be.Features, scenes.Box, a, 500, 8, size) {
				_, v, err := m.Score(f)
				if err != nil {
					t.Fatal(err)
				}
				scores, labels = append(scores, v), append(labels, a != scenes.Good)
			}
		}
		au, err := metrics.AUROC(scores, labels)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("coreset %g (%d/%d patches): scratch vs good image AUROC %.3f", coreset, kept, total, au)
		if au < 0.8 {
			t.Fatalf("coreset %g: scratch vs good AUROC %.3f, want >= 0.8", coreset, au)
		}
	}
}

// A training image scores zero everywhere against a memory that holds it.
func TestSelfDistanceZero(t *testing.T) {
	f := &infer.FeatureMap{C: 3, H: 4, W: 5, Data: make([]float32, 60)}
	for i := range f.Data {
		f.Data[i] = float32(math.Sin(float64(i)))
	}
	m, err := Fit([]*infer.FeatureMap{f}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mp, s, err := m.Score(f)
	if err != nil {
		t.Fatal(err)
	}
	if s > 1e-3 || len(mp) != 20 {
		t.Fatalf("self score %g over %d patches, want ~0 over 20", s, len(mp))
	}
}

func TestBadInput(t *testing.T) {
	if _, err := Fit(nil, Options{}); err == nil {
		t.Fatal("Fit accepted no images")
	}
	a := &infer.FeatureMap{C: 2, H: 2, W: 2, Data: make([]float32, 8)}
	b := &infer.FeatureMap{C: 3, H: 2, W: 2, Data: make([]float32, 12)}
	if _, err := Fit([]*infer.FeatureMap{a, b}, Options{}); err == nil {
		t.Fatal("Fit accepted mixed shapes")
	}
	m, err := Fit([]*infer.FeatureMap{a}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Score(b); err == nil {
		t.Fatal("Score accepted a map of another shape")
	}
	if _, err := Fit([]*infer.FeatureMap{a}, Options{Coreset: 2}); err == nil {
		t.Fatal("Fit accepted coreset 2")
	}
}
