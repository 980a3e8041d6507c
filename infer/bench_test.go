package infer_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
)

// This file depends only on the public API (Enroll, NewEngine, Inspect,
// Result.Timings), so that it also builds against older versions of the
// engine: copy it into a worktree of an old commit and compare the two runs
// with benchstat (docs/performance.md).

// benchSetup is one enrolled engine and its query frames.
type benchSetup struct {
	be      *infer.Backend
	eng     *infer.Engine
	queries []*infer.Image
}

// benchSetups caches engines across the calls testing.B makes with growing
// b.N, so enrolment is paid once per configuration.
var benchSetups = map[[2]int]*benchSetup{}

// benchEngine enrols 8 good bag scenes at size px with the given
// upsampling, k = 2, at most 16 objects, and renders 4 query frames with a
// missing part.
func benchEngine(b *testing.B, size, up int) *benchSetup {
	b.Helper()
	key := [2]int{size, up}
	if s := benchSetups[key]; s != nil {
		return s
	}
	p := benchPipeline(size, up)
	be, err := builtin.New(p)
	if err != nil {
		b.Fatal(err)
	}
	bank, err := infer.Enroll(context.Background(), be, p, benchScenes(b, scenes.Good, 1000, 8, size), nil)
	if err != nil {
		b.Fatal(err)
	}
	eng, err := infer.NewEngine(be, bank, p)
	if err != nil {
		b.Fatal(err)
	}
	s := &benchSetup{be: be, eng: eng, queries: benchScenes(b, scenes.Missing, 50, 4, size)}
	benchSetups[key] = s
	return s
}

// benchPipeline is the default pipeline at size px, upsampling up, k = 2,
// at most 16 objects.
func benchPipeline(size, up int) config.Pipeline {
	p := config.DefaultPipeline()
	p.InputSize, p.Upsample, p.K, p.MaxObjects = size, up, 2, 16
	return p
}

func benchScenes(b testing.TB, an scenes.Anomaly, seed0, n, size int) []*infer.Image {
	var imgs []*infer.Image
	for s := seed0; s < seed0+n; s++ {
		sc, err := scenes.Generate(scenes.Bag, int64(s), size, an)
		if err != nil {
			b.Fatal(err)
		}
		imgs = append(imgs, infer.FromImage(sc.Image, size))
	}
	return imgs
}

// BenchmarkInspect times Inspect on bag scenes at 224 and 448 px with
// upsampling 1/2/4/8, k = 2, and reports the allocations per frame and
// each stage's mean time from Result.Timings. The engine's own stages
// (objects, DCGA, OMM, AMM) are reported against the model stages
// (features + segmentation) as engine/model.
func BenchmarkInspect(b *testing.B) {
	for _, size := range []int{224, 448} {
		for _, up := range []int{1, 2, 4, 8} {
			b.Run(fmt.Sprintf("size=%d/up=%d", size, up), func(b *testing.B) {
				s := benchEngine(b, size, up)
				// One frame outside the timer: pools and caches fill up, so
				// the numbers are the steady state a camera sees.
				if _, err := s.eng.Inspect(context.Background(), s.queries[0]); err != nil {
					b.Fatal(err)
				}
				sum := map[string]float64{}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					res, err := s.eng.Inspect(context.Background(), s.queries[i%len(s.queries)])
					if err != nil {
						b.Fatal(err)
					}
					for _, st := range res.Timings {
						sum[st.Stage] += st.Ms
					}
				}
				n := float64(b.N)
				for st, v := range sum {
					b.ReportMetric(v/n, st+"-ms/op")
				}
				model := (sum[infer.StageFeatures] + sum[infer.StageSegmentation]) / n
				engine := (sum[infer.StageObjects] + sum[infer.StageDCGA] + sum[infer.StageOMM] + sum[infer.StageAMM]) / n
				b.ReportMetric(engine/model, "engine/model")
			})
		}
	}
}
