package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
)

// TestRunEnrolsAndMeasures runs the whole bench on small generated scenes
// and checks that the report describes what was run and is self-consistent.
func TestRunEnrolsAndMeasures(t *testing.T) {
	p := config.DefaultPipeline()
	p.InputSize, p.Upsample, p.K = 128, 2, 2
	be, err := builtin.New(p)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), Options{Pipeline: p, Backend: be, BackendLabel: "builtin",
		Scene: scenes.Bag, Good: 5, Queries: 3, Iterations: 4, Warmup: 1, Cameras: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Setup.References != 5 || rep.Setup.InputSize != 128 || rep.Setup.Upsample != 2 || rep.Setup.K != 2 {
		t.Errorf("setup %+v, want 5 references, 128 px, x2, k 2", rep.Setup)
	}
	if rep.EnrolSec <= 0 {
		t.Errorf("enrolment time %v, want > 0", rep.EnrolSec)
	}
	want := []string{infer.StagePreprocess, infer.StageFeatures, infer.StageRetrieval, infer.StageSegmentation,
		infer.StageObjects, infer.StageUpsampling, infer.StageDCGA, infer.StageOMM, infer.StageAMM, infer.StageTerms, infer.StageResult, StageTotal}
	var got []string
	var stageSum float64
	for _, s := range rep.Stages {
		got = append(got, s.Stage)
		if s.MedianMs < 0 || s.P95Ms < s.MedianMs {
			t.Errorf("stage %s: median %v, p95 %v", s.Stage, s.MedianMs, s.P95Ms)
		}
		if s.Stage != StageTotal {
			stageSum += s.MeanMs
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("stages %v, want %v", got, want)
	}
	// The stages tile Inspect: their sum cannot exceed the wall time.
	if total := rep.Stages[len(rep.Stages)-1].MeanMs; stageSum > total*1.01+0.05 {
		t.Errorf("stages sum to %.2f ms, more than Inspect's %.2f ms", stageSum, total)
	}
	if rep.Single.Frames != 4 || rep.Single.Cameras != 1 || rep.Single.FPS <= 0 || rep.Single.CPUMsPerFrame <= 0 {
		t.Errorf("single %+v", rep.Single)
	}
	if rep.Parallel == nil || rep.Parallel.Frames != 8 || rep.Parallel.Cameras != 2 ||
		rep.Parallel.PerCameraFPS*2 != rep.Parallel.FPS {
		t.Errorf("parallel %+v", rep.Parallel)
	}
	if rep.Machine.Cores < 1 || rep.Machine.GOMAXPROCS < 1 || !strings.HasPrefix(rep.Machine.GoVersion, "go") {
		t.Errorf("machine %+v", rep.Machine)
	}

	var buf bytes.Buffer
	WriteText(&buf, []*Report{rep, rep})
	out := buf.String()
	for _, s := range []string{"| stage | median ms | p95 ms | mean ms |", "| upsampling |", "2 cameras:", "backend: builtin", "### Summary"} {
		if !strings.Contains(out, s) {
			t.Errorf("report lacks %q:\n%s", s, out)
		}
	}
}

func TestRunRefusesBadOptions(t *testing.T) {
	if _, err := Run(context.Background(), Options{Iterations: 1}); err == nil {
		t.Error("no backend: want an error")
	}
	p := config.DefaultPipeline()
	be, err := builtin.New(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), Options{Pipeline: p, Backend: be, Scene: scenes.Bag, Good: 5}); err == nil {
		t.Error("0 iterations: want an error")
	}
	if _, err := Run(context.Background(), Options{Pipeline: p, Backend: be, Scene: "crate", Good: 5, Iterations: 1}); err == nil || !strings.Contains(err.Error(), "crate") {
		t.Errorf("unknown scene kind: error %v, want one naming it", err)
	}
}

func TestStat(t *testing.T) {
	if s := stat("x", []float64{3, 1, 2}); s.MedianMs != 2 || s.MeanMs != 2 {
		t.Errorf("stat %+v", s)
	}
}
