package builtin

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
)

// Benchmarks of the three built-in stages on a generated tray scene. The
// worker count follows GOMAXPROCS, so `-cpu 1,2` reports the scaling.
// Compare JBU against Bilinear (the cheap baseline) in the same run.

var benchSizes = []int{224, 448}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs fn b.N times and reports, besides wall time, the CPU time per
// op (all threads): on a shared machine wall time also counts waiting for a
// core, CPU time counts the work. A first call outside the measurement
// sizes the reused buffers, so B/op and allocs/op show the steady state.
func loop(b *testing.B, fn func() error) {
	if err := fn(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for b.Loop() {
		if err := fn(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e6, "cpu-ms/op")
}

func BenchmarkFeatures(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			img, _, _ := partsScene(size, 1)
			f := NewFeatures(0)
			dst := &infer.FeatureMap{}
			loop(b, func() error { return f.ExtractInto(dst, img) })
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
			loop(b, func() error {
				_, err := s.Segment(img)
				return err
			})
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
				loop(b, func() error { return up.UpsampleInto(dst, img, fm, factor) })
			})
		}
	}
}

func BenchmarkJBU(b *testing.B)      { benchUpsample(b, NewJBU(0)) }
func BenchmarkBilinear(b *testing.B) { benchUpsample(b, NewBilinear(0)) }

// BenchmarkJBUHWC is the pixel-major output path (no transpose needed by the engine).
func BenchmarkJBUHWC(b *testing.B) {
	for _, size := range benchSizes {
		img, _, _ := partsScene(size, 1)
		fm, err := NewFeatures(0).Extract(img)
		if err != nil {
			b.Fatal(err)
		}
		up := NewJBU(0)
		b.Run(fmt.Sprintf("%d/x8", size), func(b *testing.B) {
			var buf []float32
			loop(b, func() (err error) {
				buf, err = up.UpsampleHWC(buf, img, fm, 8)
				return err
			})
		})
	}
}

// BenchmarkJBUHWCMasked computes the 8x map only inside the parts of the
// tray (about 12% of the image), as an engine that pools per object needs.
func BenchmarkJBUHWCMasked(b *testing.B) {
	for _, size := range benchSizes {
		img, gt, _ := partsScene(size, 1)
		mask := make([]uint8, size*size)
		for _, g := range gt {
			for i, v := range g {
				mask[i] |= v
			}
		}
		fm, err := NewFeatures(0).Extract(img)
		if err != nil {
			b.Fatal(err)
		}
		up := NewJBU(0)
		b.Run(fmt.Sprintf("%d/x8", size), func(b *testing.B) {
			var buf []float32
			loop(b, func() (err error) {
				buf, err = up.UpsampleHWCMasked(buf, img, fm, 8, mask)
				return err
			})
		})
	}
}
