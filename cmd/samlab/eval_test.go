package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/runner"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/eval/tiff"
)

// evalReport is what the tests read back from report.json.
type evalReport struct {
	Command string `json:"command"`
	runner.Report
}

func readReport(t *testing.T, dir string) evalReport {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r evalReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func writeSplit(t *testing.T, dir string, o scenes.SplitOptions) scenes.Truth {
	t.Helper()
	tr, err := scenes.WriteSplit(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// samlab eval loco --root on two categories generated in the official
// MVTec LOCO AD layout: reports, TIFF maps at full resolution in the
// official script's layout, and metrics that agree with the scores.
func TestEvalLOCO(t *testing.T) {
	root := t.TempDir()
	for _, k := range []scenes.Kind{scenes.Bag, scenes.Box} {
		writeSplit(t, filepath.Join(root, string(k)), scenes.SplitOptions{Kind: k, Layout: scenes.LOCO, Size: 96, Seed: 7,
			TrainGood: 6, ValidationGood: 2, TestGood: 3, TestPerType: 1})
	}
	out, maps := t.TempDir(), t.TempDir()
	if rc := runEval([]string{"loco", "--root", root, "--out", out, "--maps", maps, "--quiet", "--examples", "1"}); rc != 0 {
		t.Fatalf("exit code %d", rc)
	}
	rep := readReport(t, out)
	if len(rep.Categories) != 2 || len(rep.Methods) != 2 {
		t.Fatalf("%d categories, methods %v; want bag and box, sam-lad and patch-knn", len(rep.Categories), rep.Methods)
	}
	for _, c := range rep.Categories {
		nAnom := len(scenes.Anomalies(scenes.Kind(c.Name)))
		if c.Test != 3+nAnom || len(c.Images) != c.Test {
			t.Fatalf("%s: %d test images, %d records; want %d", c.Name, c.Test, len(c.Images), 3+nAnom)
		}
		for _, m := range rep.Methods {
			met := c.Metrics[m]
			for _, g := range []string{runner.Logical, runner.Structural, runner.Mean} {
				if v, ok := met.ImageAUROC[g]; !ok || v < 0 || v > 1 {
					t.Errorf("%s %s: image AUROC %s = %v, %v", c.Name, m, g, v, ok)
				}
				if v, ok := met.SPRO[g]; !ok || v < 0 || v > 1 {
					t.Errorf("%s %s: AU-sPRO %s = %v, %v", c.Name, m, g, v, ok)
				}
			}
			if met.PixelAUROC == nil {
				t.Errorf("%s %s: no pixel AUROC", c.Name, m)
			}
			// The per-type AUROCs come from truth.json: one per generator type.
			if len(met.TypeAUROC) != nAnom {
				t.Errorf("%s %s: type AUROCs %v, want %d types", c.Name, m, met.TypeAUROC, nAnom)
			}
		}
		// A map per test image, at the image's resolution, where the
		// official evaluation looks for it.
		for _, im := range c.Images {
			rel := strings.TrimSuffix(im.Path, ".png") + ".tiff"
			b, err := os.ReadFile(filepath.Join(maps, c.Name, filepath.FromSlash(rel)))
			if err != nil {
				t.Fatalf("map of %s/%s: %v", c.Name, im.Path, err)
			}
			w, h, _, err := tiff.Decode(b)
			if err != nil || w != 96 || h != 96 {
				t.Fatalf("map of %s/%s: %dx%d, %v; want 96x96", c.Name, im.Path, w, h, err)
			}
			// The baseline's image score is the maximum of its patch map;
			// the full-resolution map interpolates between patch centres.
			_, _, base, err := tiffAt(filepath.Join(maps, runner.PatchKNN, c.Name, filepath.FromSlash(rel)))
			if err != nil {
				t.Fatal(err)
			}
			mx := maxOf(base)
			if s := im.Scores[runner.PatchKNN]; mx > s+1e-4 || mx < 0.8*s {
				t.Fatalf("%s: baseline map max %.4f, image score %.4f", im.Path, mx, s)
			}
		}
	}
	for _, f := range []string{"report.md", "roc-bag.png", "roc-box.png", "overlays-box.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("report file %s: %v", f, err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if !strings.Contains(string(md), "| **mean** | sam-lad |") || !strings.Contains(string(md), "wrong_type (logical)") {
		t.Errorf("report.md lacks the mean row or the per-type table:\n%s", md)
	}
}

func tiffAt(p string) (int, int, []float32, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, 0, nil, err
	}
	return tiff.Decode(b)
}

func maxOf(v []float32) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = max(m, float64(x))
	}
	return m
}

// samlab eval mvtec --root on a category generated in the MVTec AD layout:
// one folder per defect type, single-mask ground truth.
func TestEvalMVTec(t *testing.T) {
	root := t.TempDir()
	cat := filepath.Join(root, "bag")
	writeSplit(t, cat, scenes.SplitOptions{Kind: scenes.Bag, Layout: scenes.MVTecAD, Size: 96, Seed: 3,
		TrainGood: 6, TestGood: 3, TestPerType: 1, Anomalies: []scenes.Anomaly{scenes.Missing, scenes.Scratch, scenes.Stain}})
	out := t.TempDir()
	if rc := runEval([]string{"mvtec", "--root", cat, "--out", out, "--quiet", "--examples", "0"}); rc != 0 {
		t.Fatalf("exit code %d", rc)
	}
	rep := readReport(t, out)
	if want := "samlab eval mvtec --root " + cat; !strings.HasPrefix(rep.Command, want) {
		t.Errorf("report command %q, want it to start %q", rep.Command, want)
	}
	if len(rep.Categories) != 1 || rep.Categories[0].Name != "bag" {
		t.Fatalf("categories %+v", rep.Categories)
	}
	c := rep.Categories[0]
	types := map[string]bool{}
	for _, im := range c.Images {
		types[im.Type] = true
	}
	if len(types) != 4 {
		t.Fatalf("test types %v, want good, missing, scratch, stain", types)
	}
	for _, m := range rep.Methods {
		met := c.Metrics[m]
		if _, ok := met.ImageAUROC[runner.Logical]; !ok {
			t.Errorf("%s: no logical AUROC (missing is logical)", m)
		}
		if _, ok := met.ImageAUROC[runner.Structural]; !ok {
			t.Errorf("%s: no structural AUROC", m)
		}
	}
}

func TestEvalBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		rc   int
	}{
		{nil, 2},
		{[]string{"loco"}, 2}, // no --root
		{[]string{"imagenet", "--root", t.TempDir()}, 2},        // unknown data set
		{[]string{"loco", "--root", t.TempDir(), "--quiet"}, 1}, // no category inside
		{[]string{"digitanatomy", "--seeds", "1,x"}, 1},
		{[]string{"mvtec", "--root", t.TempDir(), "--backend", "tpu"}, 1},
		{[]string{"sam", "--config", "/dev/null", "--variants", "sam"}, 2}, // unknown variant
		{[]string{"sam", "--config", "/dev/null", "--seeds", "x"}, 2},
	} {
		if rc := runEval(c.args); rc != c.rc {
			t.Errorf("samlab eval %v: exit code %d, want %d", c.args, rc, c.rc)
		}
	}
}

// samlab eval with --backend onnx and --models on the fixture models (the
// real models' I/O contracts) runs end to end on the CPU provider.
func TestEvalONNXFixtureModels(t *testing.T) {
	lib := os.Getenv("SAMLAD_ORT_LIB")
	if lib == "" {
		lib, _ = filepath.Abs("../../third_party/onnxruntime/libonnxruntime.so")
	}
	if _, err := os.Stat(lib); err != nil {
		t.Skipf("ONNX Runtime library not found (%v); run make deps", err)
	}
	root := filepath.Join(t.TempDir(), "box")
	writeSplit(t, root, scenes.SplitOptions{Kind: scenes.Box, Layout: scenes.LOCO, Size: 96, Seed: 7,
		TrainGood: 4, ValidationGood: 1, TestGood: 2, TestPerType: 1, Anomalies: []scenes.Anomaly{scenes.Missing, scenes.Scratch}})
	// A coarse point grid keeps SAM's automatic mask generation quick here.
	cfg := writeConfig(t, "[pipeline]\nk = 2\n[models]\npoints_per_side = 8\n[runtime]\nlibrary = \""+lib+"\"\n")
	out := t.TempDir()
	args := []string{"loco", "--root", root, "--out", out, "--quiet", "--examples", "0", "--baseline=false",
		"--config", cfg, "--backend", "onnx", "--models", "../../models/testdata"}
	if rc := runEval(args); rc != 0 {
		t.Fatalf("exit code %d", rc)
	}
	rep := readReport(t, out)
	if rep.Backend != "onnx" || len(rep.Categories) != 1 {
		t.Fatalf("backend %q, %d categories; want onnx, 1", rep.Backend, len(rep.Categories))
	}
	if c := rep.Categories[0]; len(c.Images) != 4 {
		t.Fatalf("%d image records, want 2 good + 2 anomalous", len(c.Images))
	}
}

// eval scenes evaluates every seed it is given: the first seed's report in
// --out, the others' in --out/seed-N, and the seeds side by side.
func TestEvalScenesSeeds(t *testing.T) {
	data, out := t.TempDir(), t.TempDir()
	if rc := runEval([]string{"scenes", "--kind", "box", "--seeds", "5,6", "--train", "10", "--test", "1", "--size", "96",
		"--data", data, "--out", out, "--quiet", "--examples", "0"}); rc != 0 {
		t.Fatalf("exit code %d", rc)
	}
	for _, p := range []string{"report.md", "seed-6/report.md", "scenes.md"} {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Errorf("missing %s", p)
		}
	}
	first, second := readReport(t, out), readReport(t, filepath.Join(out, "seed-6"))
	md, _ := os.ReadFile(filepath.Join(out, "scenes.md"))
	for _, want := range []string{"| seed 5 | seed 6 | mean |", "| box | sam-lad | logical |",
		fmt.Sprintf(" %.1f | %.1f |", 100*first.Categories[0].Metrics["sam-lad"].ImageAUROC["logical"], 100*second.Categories[0].Metrics["sam-lad"].ImageAUROC["logical"])} {
		if !strings.Contains(string(md), want) {
			t.Errorf("scenes.md lacks %q:\n%s", want, md)
		}
	}
}

// eval scenes --split: the side's kinds and seeds only, --config refused
// on the reporting side, and the operating points at 1% and 5% in every
// report and in scenes.md.
func TestEvalScenesSplit(t *testing.T) {
	for _, args := range [][]string{
		{"scenes", "--split", "reporting", "--config", "x.toml"},
		{"scenes", "--split", "reporting", "--kind", "bag"},
		{"scenes", "--split", "tuning", "--seeds", "101"},
		{"scenes", "--split", "holdout"},
	} {
		if rc := runEval(args); rc != 2 {
			t.Errorf("samlab eval %v: exit code %d, want 2", args, rc)
		}
	}
	data, out := t.TempDir(), t.TempDir()
	if rc := runEval([]string{"scenes", "--split", "tuning", "--kind", "bag", "--seeds", "7,8", "--train", "8", "--test", "1", "--test-good", "3",
		"--size", "96", "--baseline=false", "--data", data, "--out", out, "--quiet", "--examples", "0"}); rc != 0 {
		t.Fatalf("exit code %d", rc)
	}
	rep := readReport(t, out)
	c := rep.Categories[0]
	if c.Name != "bag" {
		t.Errorf("category %s, want bag", c.Name)
	}
	if len(c.Operating) != 2 || c.Operating[0].Rate != 0.01 || c.Operating[1].Rate != 0.05 || c.Operating[0].Good.N != 3 {
		t.Errorf("operating points %+v", c.Operating)
	}
	md, _ := os.ReadFile(filepath.Join(out, "scenes.md"))
	if !strings.Contains(string(md), "## Operating points (SAM-LAD)") || !strings.Contains(string(md), "| bag | ") {
		t.Errorf("scenes.md lacks the operating points:\n%s", md)
	}
}

// eval parts writes the segmenter's part recall per kind.
func TestEvalParts(t *testing.T) {
	out := t.TempDir()
	if rc := runEval([]string{"parts", "--kind", "blister,box", "--seeds", "3", "--train", "2", "--data", t.TempDir(), "--out", out, "--quiet"}); rc != 0 {
		t.Fatalf("exit code %d", rc)
	}
	md, _ := os.ReadFile(filepath.Join(out, "parts.md"))
	for _, want := range []string{"| blister | 2 | ", " / 16 (", "| box | 2 | ", "capsule "} {
		if !strings.Contains(string(md), want) {
			t.Errorf("parts.md lacks %q:\n%s", want, md)
		}
	}
}

func writeConfig(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "line1.toml")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// eval scenes --sweep: each value of each key on every kind and seed (one
// here, the test being slow enough), a row per value with the pipeline's
// own value marked, per data set, their mean and per anomaly type; no
// reports. Bad specs exit 2.
func TestEvalSweep(t *testing.T) {
	for _, args := range [][]string{
		{"scenes", "--sweep", "nokey=1"},
		{"scenes", "--sweep", "k=0"},
		{"scenes", "--sweep", "k"},
		{"parts", "--sweep", "k=1,2"},
		{"scenes", "--sweep", "k=1,2", "--ablate"},
	} {
		if rc := runEval(args); rc != 2 {
			t.Errorf("samlab eval %v: exit code %d, want 2", args, rc)
		}
	}
	data, out := t.TempDir(), t.TempDir()
	// The defaults have k = 4: that row shares layout.grid = 3's runs.
	if d := config.DefaultPipeline(); d.K != 4 || d.Layout.Grid != 3 {
		t.Fatalf("defaults k = %d, layout.grid = %d: sweep their values below", d.K, d.Layout.Grid)
	}
	if rc := runEval([]string{"scenes", "--kind", "box", "--seeds", "5", "--train", "10", "--test", "1", "--test-good", "2", "--size", "96",
		"--sweep", "layout.grid=1,3", "--sweep", "k=4", "--data", data, "--out", out, "--quiet"}); rc != 0 {
		t.Fatalf("exit code %d", rc)
	}
	md, err := os.ReadFile(filepath.Join(out, "sweep.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"samlab eval scenes --kind box --seeds 5 ",
		"| key | value | box seed 5 | mean |",
		"| layout.grid | 1 | ", "| layout.grid | 3 | ", "| k | 4 | ",
		"Per anomaly type", " missing | ",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("sweep.md lacks %q:\n%s", want, md)
		}
	}
	// The defaults have layout.grid = 3: that row is the default; so is
	// k = 4, with the same figures.
	rows := map[string]string{}
	for _, line := range strings.Split(string(md), "\n") {
		if f := strings.SplitN(line, " | ", 3); len(f) == 3 && strings.Contains(line, " (") {
			rows[f[0]+"="+f[1]] = f[2]
		}
	}
	for key, want := range map[string]int{"| layout.grid=1": 0, "| layout.grid=3": 1, "| k=4": 1} {
		if got := strings.Count(rows[key], " * |"); got != want {
			t.Errorf("%s: %d defaults marked, want %d: %s", key, got, want, rows[key])
		}
	}
	if rows["| k=4"] != rows["| layout.grid=3"] {
		t.Errorf("k = 4 and layout.grid = 3 are both the default, yet differ:\n%s\n%s", rows["| k=4"], rows["| layout.grid=3"])
	}
	if _, err := os.Stat(filepath.Join(out, "report.md")); err == nil {
		t.Error("--sweep wrote the full report too")
	}
	var js struct {
		Rows []runner.AblationRow `json:"rows"`
	}
	b, _ := os.ReadFile(filepath.Join(out, "sweep.json"))
	if err := json.Unmarshal(b, &js); err != nil || len(js.Rows) != 3 {
		t.Fatalf("sweep.json: %d rows, %v; want 3", len(js.Rows), err)
	}
	for _, r := range js.Rows {
		if r.Error != "" || len(r.Results) != 1 || len(r.Types["box seed 5"]) == 0 {
			t.Errorf("%s=%s: error %q, %d data sets, types %v", r.Factor, r.Value, r.Error, len(r.Results), r.Types)
		}
	}
}
