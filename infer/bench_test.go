package infer_test

import (
	"context"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
)

// BenchmarkInspect times Inspect at 224 px, 8x upsampling, k = 2, at most
// 16 objects on bag scenes, and reports each stage's mean time. The
// engine's own stages (objects, DCGA, OMM, AMM) are reported against the
// built-in model stages (features + segmentation) as engine/model.
func BenchmarkInspect(b *testing.B) {
	p := config.DefaultPipeline()
	p.InputSize, p.Upsample, p.K, p.MaxObjects = 224, 8, 2, 16
	be, err := builtin.New(p)
	if err != nil {
		b.Fatal(err)
	}
	good, _ := sceneImages(b, scenes.Bag, scenes.Good, 1000, 8, p.InputSize)
	bank, err := infer.Enroll(context.Background(), be, p, good, nil)
	if err != nil {
		b.Fatal(err)
	}
	eng, err := infer.NewEngine(be, bank, p)
	if err != nil {
		b.Fatal(err)
	}
	queries, _ := sceneImages(b, scenes.Bag, scenes.Missing, 50, 4, p.InputSize)
	sum := map[string]float64{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := eng.Inspect(context.Background(), queries[i%len(queries)])
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range res.Timings {
			sum[s.Stage] += s.Ms
		}
	}
	n := float64(b.N)
	for st, v := range sum {
		b.ReportMetric(v/n, st+"-ms/op")
	}
	model := (sum[infer.StageFeatures] + sum[infer.StageSegmentation]) / n
	engine := (sum[infer.StageObjects] + sum[infer.StageDCGA] + sum[infer.StageOMM] + sum[infer.StageAMM]) / n
	b.ReportMetric(engine/model, "engine/model")
}
