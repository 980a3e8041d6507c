package infer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/samlad/samlad/config"
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

func enrollScenes(t testing.TB, p config.Pipeline, kind scenes.Kind, n int) (*infer.Backend, *infer.Bank) {
	t.Helper()
	be, err := builtin.New(p)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := sceneImages(t, kind, scenes.Good, 1000, n, p.InputSize)
	bank, err := infer.Enroll(context.Background(), be, p, good, nil)
	if err != nil {
		t.Fatal(err)
	}
	return be, bank
}

// enrollGoodBoxes enrols n good box scenes with the default pipeline and
// returns the bank with the scenes, whose truth names each reference's
// parts.
func enrollGoodBoxes(t *testing.T, n int) (config.Pipeline, *infer.Bank, []scenes.Scene) {
	t.Helper()
	p := config.DefaultPipeline()
	be, err := builtin.New(p)
	if err != nil {
		t.Fatal(err)
	}
	good, scs := sceneImages(t, scenes.Box, scenes.Good, 1000, n, p.InputSize)
	bank, err := infer.Enroll(context.Background(), be, p, good, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p, bank, scs
}

// auroc is the probability that a random anomalous score exceeds a random
// normal one (ties count half).
func auroc(normal, anomal []float64) float64 {
	var s float64
	for _, a := range anomal {
		for _, n := range normal {
			switch {
			case a > n:
				s++
			case a == n:
				s += 0.5
			}
		}
	}
	return s / float64(len(normal)*len(anomal))
}

// TestSceneSweep is an exploration aid: SAMLAD_SWEEP=N prints AUROCs per
// anomaly on N test scenes each; SAMLAD_DUMP=FILE also writes each test
// image's structural and logical parts and the leave-one-out raw values as
// JSON lines, to compare ways of combining the parts offline.
func TestSceneSweep(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SAMLAD_SWEEP"))
	if n == 0 {
		t.Skip("set SAMLAD_SWEEP=N to run")
	}
	p := config.DefaultPipeline()
	if v := os.Getenv("SAMLAD_ALIGN"); v != "" {
		p.Align = v
	}
	if v := os.Getenv("SAMLAD_DESC"); v != "" {
		p.Descriptor = v
	}
	if v, err := strconv.ParseFloat(os.Getenv("SAMLAD_POS"), 64); err == nil {
		p.PositionWeight = v
	}
	if v, err := strconv.Atoi(os.Getenv("SAMLAD_K")); err == nil {
		p.K = v
	}
	if v, err := strconv.Atoi(os.Getenv("SAMLAD_SIZE")); err == nil {
		p.InputSize = v
	}
	if v, err := strconv.Atoi(os.Getenv("SAMLAD_MAXOBJ")); err == nil {
		p.MaxObjects = v
	}
	envF := func(k string, dst *float64) {
		if v, err := strconv.ParseFloat(os.Getenv(k), 64); err == nil {
			*dst = v
		}
	}
	envF("SAMLAD_MINA", &p.MinArea)
	envF("SAMLAD_MAXA", &p.MaxArea)
	envF("SAMLAD_TAU", &p.MatchTemperature)
	envF("SAMLAD_EPS", &p.Epsilon)
	envF("SAMLAD_SW", &p.StructuralWeight)
	if v := os.Getenv("SAMLAD_MODE"); v != "" {
		p.Mode = v
	}
	if v := os.Getenv("SAMLAD_DCGAPOOL"); v != "" {
		p.DCGAPooling = v
	}
	if v := os.Getenv("SAMLAD_SCORE"); v != "" {
		p.Score = v
	}
	nGood := 20
	var dump *os.File
	if path := os.Getenv("SAMLAD_DUMP"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		dump = f
	}
	if v, err := strconv.Atoi(os.Getenv("SAMLAD_GOOD")); err == nil {
		nGood = v
	}
	for _, kind := range scenes.Kinds() {
		if k := os.Getenv("SAMLAD_KIND"); k != "" && k != string(kind) {
			continue
		}
		t0 := time.Now()
		be, bank := enrollScenes(t, p, kind, nGood)
		c := bank.Calib
		c.LOOScores = nil
		t.Logf("%s: enrolled in %v, calib %+v", kind, time.Since(t0), c)
		if dump != nil {
			fmt.Fprintf(dump, "{\"kind\":%q,\"calib\":true,\"loo_s\":%s,\"loo_l\":%s}\n", kind, jsonFloats(bank.Calib.LOOStruct), jsonFloats(bank.Calib.LOOLogic))
		}
		eng, err := infer.NewEngine(be, bank, p)
		if err != nil {
			t.Fatal(err)
		}
		goodImgs, _ := sceneImages(t, kind, scenes.Good, 1000, nGood, p.InputSize)
		base, err := infer.NewPatchKNN(context.Background(), be, p, goodImgs, 0)
		if err != nil {
			t.Fatal(err)
		}
		var zs, zl []float64
		score := func(an scenes.Anomaly) ([]float64, []float64) {
			imgs, _ := sceneImages(t, kind, an, 5000, n, p.InputSize)
			var out, bs []float64
			zs, zl = nil, nil
			for _, img := range imgs {
				r, err := eng.Inspect(context.Background(), img)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, r.Score)
				if dump != nil {
					fmt.Fprintf(dump, "{\"kind\":%q,\"anomaly\":%q,\"zs\":%g,\"zl\":%g,\"score\":%g}\n", kind, an, r.Structural, r.Logical, r.Score)
				}
				zs, zl = append(zs, r.Structural), append(zl, r.Logical)
				b, _, _, _, err := base.Score(img)
				if err != nil {
					t.Fatal(err)
				}
				bs = append(bs, b)
			}
			return out, bs
		}
		good, goodB := score(scenes.Good)
		gs, gl := zs, zl
		line0 := fmt.Sprintf("good zs=%.1f\n good zl=%.1f", gs, gl)
		sort.Float64s(good)
		line := fmt.Sprintf("%s good=%.2f\n%s", kind, good, line0)
		for _, an := range scenes.Anomalies(kind) {
			s, b := score(an)
			sum := func(a, b []float64) []float64 {
				var o []float64
				for i := range a {
					o = append(o, max(a[i], 0)+max(b[i], 0))
				}
				return o
			}
			line += fmt.Sprintf("\n  %-10s auroc=%.3f base=%.3f zs=%.3f zl=%.3f sum=%.3f scores=%.2f", an, auroc(good, s), auroc(goodB, b), auroc(gs, zs), auroc(gl, zl), auroc(sum(gs, gl), sum(zs, zl)), s)
		}
		t.Log(line)
	}
}

func jsonFloats(xs []float64) string {
	b, _ := json.Marshal(xs)
	return string(b)
}
