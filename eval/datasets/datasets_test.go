package datasets_test

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/samlad/samlad/eval/datasets"
	"github.com/samlad/samlad/eval/scenes"
)

func TestSaturationArea(t *testing.T) {
	for _, c := range []struct {
		d    datasets.DefectConfig
		area int
		want float64
	}{
		{datasets.DefectConfig{SaturationThreshold: 1, RelativeSaturation: true}, 40, 40},
		{datasets.DefectConfig{SaturationThreshold: 0.5, RelativeSaturation: true}, 11, 5}, // floor(5.5)
		{datasets.DefectConfig{SaturationThreshold: 100}, 40, 40},                          // min(100, 40)
		{datasets.DefectConfig{SaturationThreshold: 100}, 400, 100},
	} {
		if got := c.d.SaturationArea(c.area); got != c.want {
			t.Errorf("%+v area %d: saturation %v, want %v", c.d, c.area, got, c.want)
		}
	}
}

func TestDefectsConfigFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "defects_config.json")
	cfg := datasets.DefectsConfig{
		{Name: "missing_part", PixelValue: 255, SaturationThreshold: 2000},
		{Name: "scratch", PixelValue: 254, SaturationThreshold: 1, RelativeSaturation: true},
	}
	if err := datasets.WriteDefectsConfig(p, cfg); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(p)
	// The official reader asserts int for absolute and float for relative.
	if !strings.Contains(string(raw), `"saturation_threshold": 2000,`) || !strings.Contains(string(raw), `"saturation_threshold": 1.0,`) {
		t.Errorf("threshold types not preserved:\n%s", raw)
	}
	back, err := datasets.ReadDefectsConfig(p)
	if err != nil || len(back) != 2 || back[0] != cfg[0] || back[1] != cfg[1] {
		t.Errorf("round trip: %v %v", back, err)
	}
	for name, body := range map[string]string{
		"duplicate value": `[{"defect_name":"a","pixel_value":9,"saturation_threshold":1.0,"relative_saturation":true},{"defect_name":"b","pixel_value":9,"saturation_threshold":1.0,"relative_saturation":true}]`,
		"relative > 1":    `[{"defect_name":"a","pixel_value":9,"saturation_threshold":1.5,"relative_saturation":true}]`,
		"pixel value 0":   `[{"defect_name":"a","pixel_value":0,"saturation_threshold":10,"relative_saturation":false}]`,
		"not json":        `{`,
	} {
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := datasets.ReadDefectsConfig(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v should name %s", name, err, p)
		}
	}
}

func TestReadMVTecADGenerated(t *testing.T) {
	root := filepath.Join(t.TempDir(), "bag")
	_, err := scenes.WriteSplit(root, scenes.SplitOptions{Kind: scenes.Bag, Layout: scenes.MVTecAD, Size: 96, Seed: 1, TrainGood: 3, TestGood: 2, TestPerType: 2})
	if err != nil {
		t.Fatal(err)
	}
	cats, err := datasets.Categories(filepath.Dir(root))
	if err != nil || len(cats) != 1 || cats[0] != root {
		t.Fatalf("Categories: %v %v", cats, err)
	}
	c, err := datasets.ReadMVTecAD(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Train) != 3 || len(c.Test) != 2+2*len(scenes.Anomalies(scenes.Bag)) || c.Name != "bag" {
		t.Fatalf("train %d test %d", len(c.Train), len(c.Test))
	}
	if got := c.Types(); got[0] != "good" || len(got) != 1+len(scenes.Anomalies(scenes.Bag)) {
		t.Errorf("types %v", got)
	}
	for _, s := range c.Test {
		if s.Good() {
			if len(s.Masks) != 0 {
				t.Errorf("%s: good image with masks", s.Path)
			}
			continue
		}
		gt, err := c.ReadGroundTruth(s)
		if err != nil {
			t.Fatal(err)
		}
		area := 0
		for _, r := range gt.Regions {
			if r.Saturation != float64(r.Area) || r.Defect != s.Type {
				t.Errorf("%s: region %+v", s.Path, r.Area)
			}
			area += r.Area
		}
		union := 0
		for _, in := range gt.Union() {
			if in {
				union++
			}
		}
		if gt.W != 96 || len(gt.Regions) == 0 || area != union {
			t.Errorf("%s: %dx%d, %d regions, area %d vs union %d", s.Path, gt.W, gt.H, len(gt.Regions), area, union)
		}
	}
	os.Remove(c.Test[len(c.Test)-1].Masks[0])
	if _, err := datasets.ReadMVTecAD(root); err == nil || !strings.Contains(err.Error(), "_mask.png") {
		t.Errorf("missing mask: %v", err)
	}
	os.RemoveAll(filepath.Join(root, "train"))
	if _, err := datasets.ReadMVTecAD(root); err == nil || !strings.Contains(err.Error(), filepath.Join(root, "train", "good")) {
		t.Errorf("missing train/good: %v", err)
	}
}

func TestReadLOCOGenerated(t *testing.T) {
	root := filepath.Join(t.TempDir(), "box")
	tr, err := scenes.WriteSplit(root, scenes.SplitOptions{Kind: scenes.Box, Layout: scenes.LOCO, Size: 96, Seed: 2, TrainGood: 2, ValidationGood: 2, TestGood: 1, TestPerType: 1})
	if err != nil {
		t.Fatal(err)
	}
	c, err := datasets.ReadLOCO(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Train) != 2 || len(c.Validation) != 2 || len(c.Test) != 1+len(scenes.Anomalies(scenes.Box)) {
		t.Fatalf("train %d validation %d test %d", len(c.Train), len(c.Validation), len(c.Test))
	}
	byPath := map[string]scenes.TruthImage{}
	for _, im := range tr.Images {
		byPath[filepath.Join(root, filepath.FromSlash(im.Path))] = im
	}
	for _, s := range c.Test {
		truth, ok := byPath[s.Path]
		if !ok {
			t.Fatalf("%s not in truth", s.Path)
		}
		if s.Good() {
			continue
		}
		gt, err := c.ReadGroundTruth(s)
		if err != nil {
			t.Fatal(err)
		}
		if len(gt.Regions) != len(truth.Masks) {
			t.Errorf("%s: %d regions, truth has %d", s.Path, len(gt.Regions), len(truth.Masks))
		}
		wantType := datasets.StructuralType
		if truth.Anomaly.Logical() {
			wantType = datasets.LogicalType
		}
		for _, r := range gt.Regions {
			d, _ := c.Defects.ByPixelValue(255)
			want := float64(r.Area)
			if r.Defect == d.Name { // missing: absolute saturation
				want = min(d.SaturationThreshold, float64(r.Area))
			}
			if r.Defect != string(truth.Anomaly) || r.Saturation != want || s.Type != wantType {
				t.Errorf("%s: region %s (%s) saturation %v, want %s %v", s.Path, r.Defect, s.Type, r.Saturation, truth.Anomaly, want)
			}
		}
	}
	// A defect PNG with two values is refused, naming the file.
	bad := c.Test[1].Masks[0]
	g := image.NewGray(image.Rect(0, 0, 96, 96))
	g.SetGray(1, 1, color.Gray{Y: 255})
	g.SetGray(2, 2, color.Gray{Y: 254})
	f, _ := os.Create(bad)
	png.Encode(f, g)
	f.Close()
	if _, err := c.ReadGroundTruth(c.Test[1]); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("two-valued defect PNG: %v", err)
	}
	os.RemoveAll(filepath.Join(root, "validation"))
	if _, err := datasets.ReadLOCO(root); err == nil || !strings.Contains(err.Error(), filepath.Join(root, "validation", "good")) {
		t.Errorf("missing validation/good: %v", err)
	}
	os.Remove(filepath.Join(root, "defects_config.json"))
	if _, err := datasets.ReadLOCO(root); err == nil || !strings.Contains(err.Error(), "defects_config.json") {
		t.Errorf("missing defects config: %v", err)
	}
}

// 8-connected components: two diagonal neighbours form one region.
func TestMVTecADComponents(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"train/good", "test/crack", "ground_truth/crack"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	img := image.NewGray(image.Rect(0, 0, 6, 6))
	for _, p := range []string{"train/good/000.png", "test/crack/000.png"} {
		f, _ := os.Create(filepath.Join(root, p))
		png.Encode(f, img)
		f.Close()
	}
	m := image.NewGray(image.Rect(0, 0, 6, 6))
	for _, p := range [][2]int{{0, 0}, {1, 1}, {4, 4}, {5, 4}, {4, 5}} {
		m.SetGray(p[0], p[1], color.Gray{Y: 255})
	}
	f, _ := os.Create(filepath.Join(root, "ground_truth/crack/000_mask.png"))
	png.Encode(f, m)
	f.Close()
	c, err := datasets.ReadMVTecAD(root)
	if err != nil {
		t.Fatal(err)
	}
	gt, err := c.ReadGroundTruth(c.Test[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(gt.Regions) != 2 || gt.Regions[0].Area != 2 || gt.Regions[1].Area != 3 {
		t.Errorf("got %d regions, want areas 2 and 3", len(gt.Regions))
	}
}
