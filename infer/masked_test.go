package infer_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
)

// unmaskedJBU hides the built-in upsampler's masked fast path, so the
// engine upsamples whole maps.
type unmaskedJBU struct{ u *builtin.JBU }

func (w unmaskedJBU) Upsample(img *infer.Image, f *infer.FeatureMap, factor int) (*infer.FeatureMap, error) {
	return w.u.Upsample(img, f, factor)
}

func (w unmaskedJBU) UpsampleHWC(dst []float32, img *infer.Image, f *infer.FeatureMap, factor int) ([]float32, error) {
	return w.u.UpsampleHWC(dst, img, f, factor)
}

// TestMaskedUpsamplingSameResult: upsampling only inside the objects
// (MaskedHWCUpsampler) gives bit-identical results to whole maps, because
// no later stage reads features outside objects.
func TestMaskedUpsamplingSameResult(t *testing.T) {
	p := config.DefaultPipeline()
	p.InputSize, p.Upsample, p.K = 160, 4, 2
	be, err := builtin.New(p)
	if err != nil {
		t.Fatal(err)
	}
	jbu, ok := be.Upsampler.(*builtin.JBU)
	if !ok {
		t.Fatalf("built-in upsampler is %T, want *builtin.JBU", be.Upsampler)
	}
	if _, ok := be.Upsampler.(infer.MaskedHWCUpsampler); !ok {
		t.Fatal("the built-in JBU has no masked fast path")
	}
	bank, err := infer.Enroll(context.Background(), be, p, benchScenes(t, scenes.Good, 1000, 6, p.InputSize), nil)
	if err != nil {
		t.Fatal(err)
	}
	whole := *be
	whole.Upsampler = unmaskedJBU{jbu}
	fast, err := infer.NewEngine(be, bank, p)
	if err != nil {
		t.Fatal(err)
	}
	slow, err := infer.NewEngine(&whole, bank, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, an := range []scenes.Anomaly{scenes.Good, scenes.Missing, scenes.Extra, scenes.Scratch} {
		for _, img := range benchScenes(t, an, 70, 2, p.InputSize) {
			a, err := fast.Inspect(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			b, err := slow.Inspect(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			if a.Score != b.Score || a.Threshold != b.Threshold || !slices.Equal(a.Map, b.Map) ||
				!slices.Equal(a.Findings, b.Findings) || !slices.Equal(a.References, b.References) {
				t.Errorf("%s: masked upsampling gives score %v (threshold %v) %v, whole maps %v (threshold %v) %v", an, a.Score, a.Threshold, a.Findings, b.Score, b.Threshold, b.Findings)
			}
		}
	}
}

// BenchmarkMaskedUpsampling compares, in one run, Inspect with the
// upsampling inside objects only (the engine's path) and with whole maps
// (the path before it), at 224 and 448 px, x8, k = 2.
func BenchmarkMaskedUpsampling(b *testing.B) {
	for _, size := range []int{224, 448} {
		for _, mode := range []string{"whole", "masked"} {
			b.Run(fmt.Sprintf("size=%d/%s", size, mode), func(b *testing.B) {
				s := benchEngine(b, size, 8)
				eng := s.eng
				if mode == "whole" {
					whole := *s.be
					whole.Upsampler = unmaskedJBU{s.be.Upsampler.(*builtin.JBU)}
					var err error
					if eng, err = infer.NewEngine(&whole, s.eng.Bank(), benchPipeline(size, 8)); err != nil {
						b.Fatal(err)
					}
				}
				var up float64
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					res, err := eng.Inspect(context.Background(), s.queries[i%len(s.queries)])
					if err != nil {
						b.Fatal(err)
					}
					for _, st := range res.Timings {
						if st.Stage == infer.StageUpsampling {
							up += st.Ms
						}
					}
				}
				b.ReportMetric(up/float64(b.N), "upsampling-ms/op")
			})
		}
	}
}
