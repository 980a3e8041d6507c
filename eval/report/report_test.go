package report

import (
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/samlad/samlad/eval/runner"
	"github.com/samlad/samlad/infer"
)

func handReport() *runner.Report {
	px := 0.875
	recs := []runner.ImageRecord{
		{Path: "test/good/000.png", Type: "good", Anomaly: "good", Scores: map[string]float64{runner.SAMLAD: 0.1, runner.PatchKNN: 0.5}},
		{Path: "test/good/001.png", Type: "good", Anomaly: "good", Scores: map[string]float64{runner.SAMLAD: 0.2, runner.PatchKNN: 0.9}},
		{Path: "test/missing/000.png", Type: "missing", Anomaly: "missing", Group: runner.Logical, Scores: map[string]float64{runner.SAMLAD: 0.9, runner.PatchKNN: 0.6}},
		{Path: "test/scratch/000.png", Type: "scratch", Anomaly: "scratch", Group: runner.Structural, Scores: map[string]float64{runner.SAMLAD: 0.15, runner.PatchKNN: 1.0}},
	}
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	maps := map[string][]float32{runner.SAMLAD: make([]float32, 64), runner.PatchKNN: make([]float32, 64)}
	maps[runner.SAMLAD][9] = 1
	gt := make([]bool, 64)
	gt[9] = true
	c := &runner.Category{Name: "cat", Train: 5, Test: 4, EnrollSeconds: 1.5, Images: recs, Calibration: infer.Calibration{Threshold: 0.18},
		Metrics: map[string]*runner.Metrics{
			runner.SAMLAD: {ImageAUROC: map[string]float64{runner.Logical: 1, runner.Structural: 0.5, runner.Mean: 0.75, runner.All: 0.75},
				TypeAUROC: map[string]float64{"missing": 1, "scratch": 0.5}, PixelAUROC: &px,
				SPRO: map[string]float64{runner.Logical: 0.25, runner.Structural: 0.125, runner.Mean: 0.1875}},
			runner.PatchKNN: {ImageAUROC: map[string]float64{runner.Logical: 0.5, runner.Structural: 1, runner.Mean: 0.75},
				TypeAUROC: map[string]float64{"missing": 0.5, "scratch": 1}},
		},
		TermAUROC: map[string]map[string]float64{"patch": {runner.Logical: 0.5, runner.Structural: 1}},
		Matching:  &runner.Matching{Pairs: 10, Mapped: 8, Correct: 6, Relevant: 9, Found: 6, Precision: 0.75, Recall: 2.0 / 3, F1: 12.0 / 17},
		Timings:   []runner.Stat{{Name: "features", N: 4, Median: 12.25, P95: 20}},
		Examples:  []runner.Example{{Anomaly: "missing", Image: img, GT: gt, Maps: maps, Scores: recs[2].Scores}},
	}
	rep := &runner.Report{Dataset: "hand", Layout: "loco", Backend: "builtin", Methods: []string{runner.SAMLAD, runner.PatchKNN},
		Categories: []*runner.Category{c}}
	rep.Mean = runner.MeanMetrics(rep.Categories, rep.Methods)
	return rep
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, handReport(), "samlab eval loco --root X"); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| cat | sam-lad | 100.0 | 50.0 | 75.0 | 87.5 | 25.0 | 12.5 | 18.8 |",
		"| cat | patch-knn | 50.0 | 100.0 | 75.0 | – | – | – | – |",
		"| cat | 0.180 | 1 / 2 (50%) | 1 / 1 (100%) | 0 / 1 (0%) |",
		"| cat | missing (logical) | 100.0 | 50.0 |",
		"| cat | scratch (structural) | 50.0 | 100.0 |",
		"| cat | features | 4 | 12.2 | 20.0 |",
		"samlab eval loco --root X",
		"## Matching (Table 5)",
		"| category | patch |",
		"| cat | 50.0 / 100.0 |",
		"| cat | 10 | 8 | 6 | 75.0 | 66.7 | 70.6 |",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Command string `json:"command"`
		runner.Report
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Command == "" || back.Categories[0].Metrics[runner.SAMLAD].SPRO[runner.Structural] != 0.125 || len(back.Categories[0].Images) != 4 {
		t.Errorf("report.json did not round-trip: %+v", back.Categories[0])
	}
	for _, f := range []string{"roc-cat.png", "overlays-cat.png"} {
		fh, err := os.Open(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if b := img.Bounds(); b.Dx() < 200 || b.Dy() < 150 {
			t.Errorf("%s is only %v", f, b)
		}
	}
}

func TestSeedsAndAblationTables(t *testing.T) {
	a, b := handReport(), handReport()
	b.Categories[0].Metrics[runner.SAMLAD].ImageAUROC[runner.Mean] = 0.85
	b.Mean = runner.MeanMetrics(b.Categories, b.Methods)
	var md strings.Builder
	SeedsMarkdown(&md, []*runner.Report{a, b}, []int64{1, 2}, []Quoted{{"GLCF", 78.6, "paper"}})
	// mean 80.0, sample sd of 75 and 85 = 7.07
	for _, want := range []string{"| sam-lad (measured) | 75.0 | 85.0 | **80.0 ± 7.1** |", "| GLCF (quoted from paper) | | | 78.6 |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("seed table lacks %q:\n%s", want, md.String())
		}
	}
	md.Reset()
	AblationMarkdown(&md, []runner.AblationRow{{Factor: "k", Value: "2", Default: map[string]bool{"bag": true},
		Results: map[string]map[string]float64{"bag": {runner.Mean: 0.5, runner.Logical: 0.25, runner.Structural: 0.75}, "box": {runner.Mean: 0.5}}}}, []string{"bag", "box"})
	if !strings.Contains(md.String(), "| k | 2 | 50.0 (25.0 / 75.0) * | 50.0 |") {
		t.Errorf("ablation table:\n%s", md.String())
	}
	md.Reset()
	SweepMarkdown(&md, []runner.AblationRow{
		{Factor: "k", Value: "1", Default: map[string]bool{"box seed 7": true},
			Results: map[string]map[string]float64{"box seed 7": {runner.Mean: 0.5, runner.Logical: 0.25, runner.Structural: 0.75}, "box seed 8": {runner.Mean: 0.7, runner.Logical: 0.45, runner.Structural: 0.95}},
			Types:   map[string]map[string]float64{"box seed 7": {"missing": 0.2, "scratch": 0.6}, "box seed 8": {"missing": 0.4}}},
		{Factor: "k", Value: "x", Error: "box seed 7: bad | value"},
	}, []string{"box seed 7", "box seed 8"})
	for _, want := range []string{
		"| key | value | box seed 7 | box seed 8 | mean |",
		"| k | 1 | 50.0 (25.0 / 75.0) * | 70.0 (45.0 / 95.0) | **60.0 (35.0 / 85.0)** |",
		"| k | x | could not run: box seed 7: bad / value | | |",
		"| key | value | missing | scratch |",
		"| k | 1 | 30.0 | 60.0 |",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("sweep table lacks %q:\n%s", want, md.String())
		}
	}
}

// The operating points are written per category and rate, summed over
// the runs of a category, with the catch per anomaly type.
func TestOperatingMarkdown(t *testing.T) {
	op := func(th float64, good, lg, st runner.Count) runner.OperatingPoint {
		return runner.OperatingPoint{Threshold: th, Good: good,
			Groups: map[string]runner.Count{runner.Logical: lg, runner.Structural: st},
			Types:  map[string]runner.Count{"missing": lg, "scratch": st}}
	}
	a := &runner.Category{Name: "pcb", Operating: []runner.OperatingPoint{op(2, runner.Count{K: 0, N: 10}, runner.Count{K: 3, N: 5}, runner.Count{K: 1, N: 5}), op(1, runner.Count{K: 1, N: 10}, runner.Count{K: 4, N: 5}, runner.Count{K: 2, N: 5})}}
	a.Operating[0].Rate, a.Operating[1].Rate = 0.01, 0.05
	b := &runner.Category{Name: "pcb", Operating: []runner.OperatingPoint{op(2, runner.Count{K: 1, N: 10}, runner.Count{K: 5, N: 5}, runner.Count{K: 0, N: 5}), op(1, runner.Count{K: 2, N: 10}, runner.Count{K: 5, N: 5}, runner.Count{K: 1, N: 5})}}
	b.Operating[0].Rate, b.Operating[1].Rate = 0.01, 0.05
	var md strings.Builder
	OperatingMarkdown(&md, [][]*runner.Category{{a, b}})
	for _, want := range []string{"good rejected @1% | logical caught @1% | structural caught @1% | good rejected @5%",
		"| pcb | 1 / 20 (5%) | 8 / 10 (80%) | 1 / 10 (10%) | 3 / 20 (15%) | 9 / 10 (90%) | 3 / 10 (30%) |",
		"| pcb | missing (logical) | 8 / 10 (80%) | 9 / 10 (90%) |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("operating tables lack %q:\n%s", want, md.String())
		}
	}
}

// A run that applied one data set's recipe to every method says so, with
// the recipe's keys and where the defaults-only figures are.
func TestRunRecipeNote(t *testing.T) {
	var md strings.Builder
	RunRecipeNote(&md, "the digits' recipe", "pipeline.k = 8", "`make eval-digits`")
	if got := md.String(); !strings.HasPrefix(got, "**Recipe figures, not defaults-only:**") || !strings.Contains(got, "the digits' recipe: pipeline.k = 8") || !strings.Contains(got, "`make eval-digits`") {
		t.Errorf("recipe note: %q", got)
	}
}
