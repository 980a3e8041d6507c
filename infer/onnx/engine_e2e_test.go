package onnx

import (
	"context"
	"math"
	"testing"

	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
)

// TestEngineEndToEnd enrols generated good boxes and inspects good and
// anomalous ones through the engine with the fixture models on the CPU
// provider, the same way as with the built-in backend. The fixture models are
// stand-ins (fixed filters, a colour-distance "SAM"), so this proves the
// plumbing and a computed verdict, not detection quality.
func TestEngineEndToEnd(t *testing.T) {
	rt, m, p := fixtureConfig(t, fixtureDir)
	m.PointsPerSide = 16
	m.PointsPerBatch = 64
	b, err := New(rt, m, p)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	render := func(an scenes.Anomaly, seed0, n int) []*infer.Image {
		var imgs []*infer.Image
		for s := seed0; s < seed0+n; s++ {
			sc, err := scenes.Generate(scenes.Box, int64(s), p.InputSize, an)
			if err != nil {
				t.Fatal(err)
			}
			imgs = append(imgs, infer.FromImage(sc.Image, p.InputSize))
		}
		return imgs
	}
	ctx := context.Background()
	bank, err := infer.Enroll(ctx, b.Stages(), p, render(scenes.Good, 1000, 6), nil)
	if err != nil {
		t.Fatal(err)
	}
	if bank.Backend != Name || bank.Fingerprint != b.Stages().Fingerprint {
		t.Errorf("bank made by %q %q, want the onnx backend's", bank.Backend, bank.Fingerprint)
	}
	eng, err := infer.NewEngine(b.Stages(), bank, p)
	if err != nil {
		t.Fatal(err)
	}
	score := func(an scenes.Anomaly) []*infer.Result {
		var rs []*infer.Result
		for _, img := range render(an, 2000, 3) {
			r, err := eng.Inspect(ctx, img)
			if err != nil {
				t.Fatalf("inspect %s: %v", an, err)
			}
			if math.IsNaN(r.Score) || math.IsInf(r.Score, 0) || r.Threshold <= 0 || len(r.Timings) == 0 {
				t.Fatalf("inspect %s: score %v threshold %v timings %d", an, r.Score, r.Threshold, len(r.Timings))
			}
			rs = append(rs, r)
		}
		return rs
	}
	for _, an := range []scenes.Anomaly{scenes.Good, scenes.Missing, scenes.Extra} {
		for _, r := range score(an) {
			t.Logf("%-8s score %6.2f threshold %5.2f findings %d", an, r.Score, r.Threshold, len(r.Findings))
		}
	}
}
