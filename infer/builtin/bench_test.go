package builtin

import (
	"fmt"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
)

// Benchmarks of the three built-in stages on a generated tray scene. The
// worker count follows GOMAXPROCS, so `-cpu 1,2` reports the scaling.
// Compare JBU against Bilinear (the cheap baseline) in the same run.

var benchSizes = []int{224, 448}

func BenchmarkFeatures(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			img, _, _ := partsScene(size, 1)
			f := NewFeatures(0)
			dst := &infer.FeatureMap{}
			b.ReportAllocs()
			for b.Loop() {
				if err := f.ExtractInto(dst, img); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSegment(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			img, _, _ := partsScene(size, 1)
			s, err := NewSegmenter(config.DefaultPipeline().Segment, 0)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Segment(img); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// upsampleInto is the allocation-free entry point both upsamplers offer.
type upsampleInto interface {
	UpsampleInto(dst *infer.FeatureMap, img *infer.Image, f *infer.FeatureMap, factor int) error
}

func benchUpsample(b *testing.B, up upsampleInto) {
	for _, size := range benchSizes {
		img, _, _ := partsScene(size, 1)
		fm, err := NewFeatures(0).Extract(img)
		if err != nil {
			b.Fatal(err)
		}
		for _, factor := range []int{1, 2, 4, 8} {
			b.Run(fmt.Sprintf("%d/x%d", size, factor), func(b *testing.B) {
				dst := &infer.FeatureMap{}
				b.ReportAllocs()
				for b.Loop() {
					if err := up.UpsampleInto(dst, img, fm, factor); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkJBU(b *testing.B)      { benchUpsample(b, NewJBU(0)) }
func BenchmarkBilinear(b *testing.B) { benchUpsample(b, NewBilinear(0)) }
