package main

import (
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/samlad/samlad/eval/digitanatomy"
	"github.com/samlad/samlad/eval/runner"
	"github.com/samlad/samlad/eval/scenes"
)

// pythonWithSklearn returns a Python interpreter that imports scikit-learn
// and tifffile (Debian's python3-sklearn and python3-tifffile, installed by
// make deps; an interpreter earlier on PATH may lack them).
func pythonWithSklearn(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import sklearn, tifffile").Run() == nil {
			return py
		}
	}
	t.Fatal("no python3 with sklearn and tifffile; run make deps (python3-sklearn, python3-tifffile)")
	return ""
}

// TestMapMaximaAUROC: the image AUROC that an independent scorer
// (scripts/auroc_from_maps.py: scikit-learn on the maxima of the written
// float32 TIFF maps, as the official MVTec LOCO evaluation scores images)
// computes equals the report's image AUROC within 0.1 point, per kind and
// group, for the patch-kNN baseline and SAM-LAD (every term paints its
// value into the map, so its maximum is the image score): on every zoo
// kind in the LOCO layout and on DigitAnatomy (MVTec AD layout, no recipe).
func TestMapMaximaAUROC(t *testing.T) {
	py := pythonWithSklearn(t)
	root := t.TempDir()
	for _, k := range scenes.AllKinds() {
		writeSplit(t, filepath.Join(root, string(k)), scenes.SplitOptions{Kind: k, Layout: scenes.LOCO, Size: 96, Seed: 7,
			TrainGood: 6, ValidationGood: 2, TestGood: 3, TestPerType: 1})
	}
	checkMapMaxima(t, py, root, "loco")
	digits := t.TempDir()
	if _, err := digitanatomy.WriteSplit(filepath.Join(digits, "digitanatomy"), digitanatomy.Options{Seed: 7, TrainGood: 10, TestPerType: 3}); err != nil {
		t.Fatal(err)
	}
	checkMapMaxima(t, py, digits, "mvtec")
}

func checkMapMaxima(t *testing.T, py, root, layout string) {
	out, maps := t.TempDir(), t.TempDir()
	if rc := runEval([]string{layout, "--root", root, "--out", out, "--maps", maps, "--quiet", "--examples", "0"}); rc != 0 {
		t.Fatalf("%s: exit code %d", layout, rc)
	}
	rep := readReport(t, out)
	methods := map[string]string{runner.PatchKNN: filepath.Join(maps, runner.PatchKNN), runner.SAMLAD: maps}
	for m, dir := range methods {
		b, err := exec.Command(py, "../../scripts/auroc_from_maps.py", dir, root).Output()
		if err != nil {
			t.Fatalf("%s: auroc_from_maps.py: %v", m, err)
		}
		var fromMaps map[string]map[string]float64
		if err := json.Unmarshal(b, &fromMaps); err != nil {
			t.Fatalf("%s: %v: %s", m, err, b)
		}
		for _, c := range rep.Categories {
			for _, g := range []string{runner.Logical, runner.Structural, runner.All} {
				want, ok := c.Metrics[m].ImageAUROC[g]
				got, ok2 := fromMaps[c.Name][g]
				if layout == "mvtec" && g != runner.All {
					continue // the folders are types, not groups
				}
				if !ok || !ok2 {
					t.Errorf("%s %s %s: report %v, maps %v", m, c.Name, g, ok, ok2)
					continue
				}
				if math.Abs(got-want) > 0.001 {
					t.Errorf("%s %s %s: image AUROC %.2f in the report, %.2f from the maps' maxima", m, c.Name, g, 100*want, 100*got)
				}
			}
		}
	}
}
