package scenes

import (
	"bytes"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/samlad/samlad/eval/datasets"
)

const testSize = 128

func gen1(t *testing.T, k Kind, seed int64, a Anomaly) Scene {
	t.Helper()
	sc, err := Generate(k, seed, testSize, a)
	if err != nil {
		t.Fatalf("Generate(%s, %d, %s): %v", k, seed, a, err)
	}
	return sc
}

func allCases() (cases [][2]string) {
	for _, k := range AllKinds() {
		cases = append(cases, [2]string{string(k), string(Good)})
		for _, a := range Anomalies(k) {
			cases = append(cases, [2]string{string(k), string(a)})
		}
	}
	return cases
}

func TestDeterministicPerSeed(t *testing.T) {
	for _, c := range allCases() {
		k, a := Kind(c[0]), Anomaly(c[1])
		s1, s2 := gen1(t, k, 42, a), gen1(t, k, 42, a)
		if !bytes.Equal(s1.Image.Pix, s2.Image.Pix) || !bytes.Equal(s1.GT.Pix, s2.GT.Pix) {
			t.Errorf("%s/%s: same seed gave different pixels", k, a)
		}
		if s3 := gen1(t, k, 43, a); bytes.Equal(s1.Image.Pix, s3.Image.Pix) {
			t.Errorf("%s/%s: seeds 42 and 43 gave identical images", k, a)
		}
	}
}

func typeCounts(objs []Object) map[string]int {
	m := map[string]int{}
	for _, o := range objs {
		m[o.Type]++
	}
	return m
}

func anomalousCount(objs []Object) (n int) {
	for _, o := range objs {
		if o.Anomalous {
			n++
		}
	}
	return n
}

func nonZero(g *image.Gray) (n int) {
	for _, v := range g.Pix {
		if v != 0 {
			n++
		}
	}
	return n
}

func TestGoodScenesFollowTheRules(t *testing.T) {
	for seed := int64(0); seed < 5; seed++ {
		bag := gen1(t, Bag, seed, Good)
		want := map[string]int{Nut: 2, Washer: 2, LongScrew: 1, ShortScrew: 1}
		if got := typeCounts(bag.Objects); !mapsEqual(got, want) {
			t.Errorf("bag seed %d: counts %v, want %v", seed, got, want)
		}
		box := gen1(t, Box, seed, Good)
		for _, o := range box.Objects {
			if boxRules[o.Slot].typ != o.Type {
				t.Errorf("box seed %d: %s in compartment %d, rule says %s", seed, o.Type, o.Slot, boxRules[o.Slot].typ)
			}
		}
		if got := typeCounts(box.Objects); !mapsEqual(got, map[string]int{Block: 1, Cap: 2, Ball: 3, Bar: 1}) {
			t.Errorf("box seed %d: counts %v", seed, got)
		}
		for _, sc := range []Scene{bag, box} {
			if n := nonZero(sc.GT); n != 0 || len(sc.Defects) != 0 || len(sc.Absent) != 0 || anomalousCount(sc.Objects) != 0 {
				t.Errorf("%s seed %d good: GT pixels %d, defects %d, absent %d", sc.Kind, seed, n, len(sc.Defects), len(sc.Absent))
			}
		}
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Every object is visible: its label pixels cover most of its own box
// footprint, and no two objects share pixels (labels would overwrite).
func TestObjectsDoNotOverlap(t *testing.T) {
	for _, k := range []Kind{Bag, Box} {
		for seed := int64(0); seed < 10; seed++ {
			g := &gen{kind: k, w: testSize, h: testSize, u: testSize / 16.0, rng: newRng(seed, 1), rr: newRng(seed, 3)}
			var err error
			if k == Bag {
				err = g.layoutBag()
			} else {
				err = g.layoutBox()
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range g.items {
				for _, q := range g.items[:i] {
					if d := math.Hypot(p.cx-q.cx, p.cy-q.cy); d < p.bound(g.u)+q.bound(g.u) {
						t.Errorf("%s seed %d: %s and %s closer (%.1f px) than their bounds", k, seed, p.typ, q.typ, d)
					}
				}
			}
		}
	}
}

func TestAnomaliesCarryTruth(t *testing.T) {
	for _, c := range allCases() {
		k, a := Kind(c[0]), Anomaly(c[1])
		if a == Good {
			continue
		}
		for seed := int64(0); seed < 4; seed++ {
			good, sc := gen1(t, k, seed, Good), gen1(t, k, seed, a)
			if nonZero(sc.GT) == 0 || len(sc.Defects) == 0 {
				t.Fatalf("%s/%s seed %d: empty ground truth", k, a, seed)
			}
			for _, d := range sc.Defects {
				if d.Anomaly != a || nonZero(d.Mask) == 0 {
					t.Errorf("%s/%s seed %d: defect %s with %d pixels", k, a, seed, d.Anomaly, nonZero(d.Mask))
				}
			}
			n, ng := len(sc.Objects), len(good.Objects)
			switch a {
			case Missing:
				if n != ng-1 || len(sc.Absent) != 1 || !overlapsGT(sc.GT, sc.Absent[0].Box) {
					t.Errorf("%s missing seed %d: %d objects (good %d), absent %v", k, seed, n, ng, sc.Absent)
				}
			case Extra:
				if n != ng+1 || anomalousCount(sc.Objects) != 1 || sc.Objects[n-1].ID != -1 {
					t.Errorf("%s extra seed %d: %d objects (good %d)", k, seed, n, ng)
				}
			case WrongType:
				if n != ng || mapsEqual(typeCounts(sc.Objects), typeCounts(good.Objects)) || len(sc.Absent) != 1 {
					t.Errorf("%s wrong_type seed %d: counts %v vs good %v", k, seed, typeCounts(sc.Objects), typeCounts(good.Objects))
				}
			case Misplaced:
				if k != Box {
					break // the zoo's rules: TestZooRules
				}
				wrong := 0
				for _, o := range sc.Objects {
					if boxRules[o.Slot].typ != o.Type {
						wrong++
					}
				}
				if wrong != 1 || len(sc.Defects) != 2 {
					t.Errorf("box misplaced seed %d: %d objects break the rule, %d defects", seed, wrong, len(sc.Defects))
				}
			default: // structural: the same layout, one damaged object under the GT
				if a.Logical() {
					// The zoo's other logical types: TestZooRules checks the rule.
					if anomalousCount(sc.Objects) == 0 && len(sc.Absent) == 0 {
						t.Errorf("%s/%s seed %d: no object marked", k, a, seed)
					}
					break
				}
				if n != ng || anomalousCount(sc.Objects) != 1 || !mapsEqual(typeCounts(sc.Objects), typeCounts(good.Objects)) {
					t.Errorf("%s/%s seed %d: layout changed", k, a, seed)
				}
				for _, o := range sc.Objects {
					if o.Anomalous && !overlapsGT(sc.GT, o.Box) {
						t.Errorf("%s/%s seed %d: GT misses the damaged %s", k, a, seed, o.Type)
					}
				}
			}
			// Each defect changes the pixels inside its own truth mask.
			for _, d := range sc.Defects {
				in, changed := 0, 0
				for i, v := range d.Mask.Pix {
					if v == 0 {
						continue
					}
					in++
					if !bytes.Equal(good.Image.Pix[4*i:4*i+3], sc.Image.Pix[4*i:4*i+3]) {
						changed++
					}
				}
				if 4*changed < in {
					t.Errorf("%s/%s seed %d: only %d of the %d pixels of a defect's mask changed", k, a, seed, changed, in)
				}
			}
			// The anomalous scene equals the good scene of the same seed
			// except near the defect (its region plus the shadow reach).
			if bytes.Equal(good.Image.Pix, sc.Image.Pix) {
				t.Errorf("%s/%s seed %d: image equals the good scene", k, a, seed)
			}
			if d := diffOutside(good.Image, sc.Image, sc.GT, int(testSize/16.0)+3); d > 0 {
				t.Errorf("%s/%s seed %d: %d pixels differ from the good scene away from the defect", k, a, seed, d)
			}
		}
	}
}

func diffOutside(a, b *image.RGBA, gt *image.Gray, reach int) (n int) {
	r := a.Rect
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			i := a.PixOffset(x, y)
			if bytes.Equal(a.Pix[i:i+4], b.Pix[i:i+4]) {
				continue
			}
			if !overlapsGT(gt, image.Rect(x-reach, y-reach, x+reach+1, y+reach+1).Intersect(r)) {
				n++
			}
		}
	}
	return n
}

func overlapsGT(gt *image.Gray, r image.Rectangle) bool {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if gt.GrayAt(x, y).Y != 0 {
				return true
			}
		}
	}
	return false
}

func TestBadArguments(t *testing.T) {
	for _, c := range []struct {
		k    Kind
		size int
		a    Anomaly
		want string
	}{
		{"crate", 128, Good, "kind"},
		{Bag, 16, Good, "size"},
		{Bag, 128, Misplaced, "not defined"},
		{Box, 128, "melted", "not defined"},
	} {
		if _, err := Generate(c.k, 1, c.size, c.a); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Generate(%s, %d, %s) error %v, want %q", c.k, c.size, c.a, err, c.want)
		}
	}
}

func exists(t *testing.T, p string) {
	t.Helper()
	if _, err := os.Stat(p); err != nil {
		t.Errorf("missing %s", p)
	}
}

func TestWriteSplitMVTecAD(t *testing.T) {
	opt := SplitOptions{Kind: Bag, Layout: MVTecAD, Size: 96, Seed: 7, TrainGood: 3, TestGood: 2, TestPerType: 2}
	dir := t.TempDir()
	tr, err := WriteSplit(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 + 2 + 2*len(Anomalies(Bag)); len(tr.Images) != want {
		t.Errorf("truth lists %d images, want %d", len(tr.Images), want)
	}
	exists(t, filepath.Join(dir, "train/good/002.png"))
	exists(t, filepath.Join(dir, "test/good/001.png"))
	for _, a := range Anomalies(Bag) {
		exists(t, filepath.Join(dir, "test", string(a), "001.png"))
		exists(t, filepath.Join(dir, "ground_truth", string(a), "001_mask.png"))
	}
	if _, err := os.Stat(filepath.Join(dir, "ground_truth/good")); err == nil {
		t.Error("good images must have no ground truth folder")
	}
	// Same options into another directory: byte-identical files.
	dir2 := t.TempDir()
	if _, err := WriteSplit(dir2, opt); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"train/good/000.png", "test/scratch/001.png", "ground_truth/dent/000_mask.png", TruthFile} {
		a, _ := os.ReadFile(filepath.Join(dir, f))
		b, _ := os.ReadFile(filepath.Join(dir2, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with the same seed", f)
		}
	}
	back, err := ReadTruth(dir)
	if err != nil || len(back.Images) != len(tr.Images) || back.Images[5].Path != tr.Images[5].Path {
		t.Errorf("ReadTruth: %v", err)
	}
	if _, err := WriteSplit(dir, opt); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("writing into a non-empty directory: %v", err)
	}
}

func TestWriteSplitLOCO(t *testing.T) {
	dir := t.TempDir()
	tr, err := WriteSplit(dir, SplitOptions{Kind: Box, Layout: LOCO, Size: 96, Seed: 3, TrainGood: 2, ValidationGood: 1, TestGood: 1, TestPerType: 1})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := datasets.ReadDefectsConfig(filepath.Join(dir, "defects_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg) != len(Anomalies(Box)) {
		t.Fatalf("defects config has %d entries", len(cfg))
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "defects_config.json"))
	if !bytes.Contains(raw, []byte(`"saturation_threshold": 1.0`)) {
		t.Errorf("relative thresholds must be written as floats:\n%s", raw)
	}
	exists(t, filepath.Join(dir, "validation/good/000.png"))
	exists(t, filepath.Join(dir, "test/good/000.png"))
	exists(t, filepath.Join(dir, "test/logical_anomalies/003.png"))    // 4 logical types
	exists(t, filepath.Join(dir, "test/structural_anomalies/002.png")) // 3 structural types
	for _, im := range tr.Images {
		if im.Anomaly == Good {
			continue
		}
		if len(im.Masks) == 0 {
			t.Fatalf("%s has no ground truth", im.Path)
		}
		d, _ := cfg.ByPixelValue(255 - slices.Index(Anomalies(Box), im.Anomaly))
		if d.Name != string(im.Anomaly) {
			t.Errorf("%s: config entry %q for anomaly %s", im.Path, d.Name, im.Anomaly)
		}
		for _, m := range im.Masks {
			if !strings.HasPrefix(m, "ground_truth/") || !strings.HasSuffix(m, ".png") {
				t.Errorf("mask path %s", m)
			}
			f, err := os.Open(filepath.Join(dir, m))
			if err != nil {
				t.Fatal(err)
			}
			img, _, err := image.Decode(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			vals := map[uint8]bool{}
			g := img.(*image.Gray)
			for _, v := range g.Pix {
				vals[v] = true
			}
			if len(vals) != 2 || !vals[0] || !vals[uint8(d.PixelValue)] {
				t.Errorf("%s: values %v, want 0 and %d", m, vals, d.PixelValue)
			}
		}
	}
}

// A bag too crowded for an extra part at its seed is drawn again from the
// next derived seed instead of failing the split (split seed 9 has one
// among its first 36 extra bags).
func TestSplitRedrawsASceneThatCannotTakeItsAnomaly(t *testing.T) {
	redrawn := 0
	for i := range 36 {
		first := imageSeed(9, "test", Extra, i)
		_, errFirst := Generate(Bag, first, MinSize, Extra)
		sc, seed, err := generateImage(Bag, 9, "test", Extra, i, MinSize)
		if err != nil {
			t.Fatalf("extra bag %d: %v", i, err)
		}
		if sc.Anomaly != Extra {
			t.Errorf("extra bag %d is %q", i, sc.Anomaly)
		}
		switch {
		case errFirst == nil && seed != first:
			t.Errorf("extra bag %d: drawn again although its seed works", i)
		case errFirst != nil:
			redrawn++
			if seed == first {
				t.Errorf("extra bag %d: kept the seed that failed (%v)", i, errFirst)
			}
		}
	}
	if redrawn == 0 {
		t.Error("no scene needed a redraw; the test no longer covers it")
	}
}
