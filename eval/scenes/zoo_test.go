package scenes

import (
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/samlad/samlad/eval/datasets"
)

// signature is a scene's layout as its rule sees it, from the truth
// alone: per object its place in the layout (ID and slot), type, colour,
// size, parameter and, where the kind fixes them, orientation (board,
// brackets) and height (the bottle's labels).
func signature(k Kind, sc Scene) string {
	var parts []string
	for _, o := range sc.Objects {
		orient := 0
		if k == PCB || k == Bracket {
			orient = int(math.Round(math.Abs(o.Angle)/math.Pi)) % 2
		}
		if k == JuiceBottle {
			orient = int(math.Round(o.Place[1])) // the labels' heights
		}
		parts = append(parts, fmt.Sprintf("%d|%s|%d|%s|%.2f|%.1f|%d", o.ID, o.Type, o.Slot, o.Colour, o.Scale, o.Param, orient))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// TestZooRules: the good scenes of a kind follow one rule (the same
// layout signature across seeds, or one of a few variants where the kind
// has them: three juices, three connector sizes); every logical anomaly
// breaks it, and no structural anomaly does.
func TestZooRules(t *testing.T) {
	for _, k := range AllKinds() {
		if k == Bag || k == Box {
			continue // TestGoodScenesFollowTheRules
		}
		good := map[string]bool{}
		for seed := int64(0); seed < 12; seed++ {
			good[signature(k, gen1(t, k, seed, Good))] = true
		}
		variants := 1
		if k == JuiceBottle || k == SplicingConnectors {
			variants = 3
		}
		if len(good) != variants {
			t.Errorf("%s: %d layouts among 12 good scenes, want %d", k, len(good), variants)
		}
		for _, a := range Anomalies(k) {
			for seed := int64(0); seed < 4; seed++ {
				broken := !good[signature(k, gen1(t, k, seed, a))]
				if broken != a.Logical() {
					t.Errorf("%s/%s seed %d: rule broken %v, want %v", k, a, seed, broken, a.Logical())
				}
			}
		}
	}
}

func TestZooKindsHaveBothGroups(t *testing.T) {
	for _, k := range AllKinds() {
		var lg, st int
		for _, a := range Anomalies(k) {
			if a.Logical() {
				lg++
			} else {
				st++
			}
		}
		if lg < 2 || st < 3 || Rule(k) == "" {
			t.Errorf("%s: %d logical and %d structural types, rule %q", k, lg, st, Rule(k))
		}
	}
}

// TestProtocol: the split is a partition of the kinds with bag and box on
// the tuning side, at least five reporting kinds, and disjoint seeds.
func TestProtocol(t *testing.T) {
	all := append(TuningKinds(), ReportingKinds()...)
	sorted := func(ks []Kind) []Kind { s := slices.Clone(ks); slices.Sort(s); return s }
	if !slices.Equal(sorted(all), sorted(AllKinds())) {
		t.Errorf("tuning %v + reporting %v is not the zoo %v", TuningKinds(), ReportingKinds(), AllKinds())
	}
	for _, k := range TuningKinds() {
		if slices.Contains(ReportingKinds(), k) {
			t.Errorf("%s is on both sides", k)
		}
	}
	if !slices.Contains(TuningKinds(), Bag) || !slices.Contains(TuningKinds(), Box) || len(ReportingKinds()) < 5 {
		t.Errorf("tuning %v, reporting %v", TuningKinds(), ReportingKinds())
	}
	for _, s := range ReportingSeeds {
		if slices.Contains(TuningSeeds, s) {
			t.Errorf("seed %d is on both sides", s)
		}
	}
	if ks, seeds, ok := SplitKinds(ReportingSplit); !ok || len(ks) != len(ReportingKinds()) || len(seeds) != 3 {
		t.Errorf("SplitKinds(reporting) = %v %v %v", ks, seeds, ok)
	}
	if _, _, ok := SplitKinds("test"); ok {
		t.Error("an unknown split was accepted")
	}
}

// TestZooSplitReadsBack: a zoo kind's LOCO split reads back through
// eval/datasets' reader unchanged (defects_config.json, one PNG per
// defect, each region valued by its type), and every image, good ones
// included, has a per-part mask whose values name its truth objects.
func TestZooSplitReadsBack(t *testing.T) {
	for _, k := range []Kind{Pushpins, JuiceBottle} {
		dir := t.TempDir()
		tr, err := WriteSplit(dir, SplitOptions{Kind: k, Layout: LOCO, Size: 96, Seed: 5, TrainGood: 2, ValidationGood: 1, TestGood: 1, TestPerType: 1})
		if err != nil {
			t.Fatal(err)
		}
		c, err := datasets.ReadLOCO(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Test) != 1+len(Anomalies(k)) || len(c.Train) != 2 || len(c.Validation) != 1 {
			t.Errorf("%s: read %d train, %d validation, %d test", k, len(c.Train), len(c.Validation), len(c.Test))
		}
		for _, s := range c.Test {
			if s.Good() {
				continue
			}
			gt, err := c.ReadGroundTruth(s)
			if err != nil || len(gt.Regions) == 0 {
				t.Errorf("%s %s: ground truth %v, %d regions", k, s.Path, err, len(gt.Regions))
			}
		}
		missingSat := -1.0
		for _, d := range c.Defects {
			if d.Name == string(Missing) {
				missingSat = d.SaturationThreshold
			}
		}
		if u := 96.0 / 16; missingSat != math.Round(kindSpecs[k].missingSat*u*u) {
			t.Errorf("%s: missing saturates at %v px", k, missingSat)
		}
		for _, im := range tr.Images {
			f, err := os.Open(filepath.Join(dir, filepath.FromSlash(im.Parts)))
			if err != nil {
				t.Fatal(err)
			}
			m, err := png.Decode(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			seen := map[uint8]bool{}
			for _, v := range m.(*image.Gray).Pix {
				if v != 0 {
					seen[v] = true
				}
			}
			if len(seen) == 0 || len(seen) > len(im.Objects) {
				t.Errorf("%s %s: part mask values %v for %d objects", k, im.Path, seen, len(im.Objects))
			}
			for v := range seen {
				if int(v) > len(im.Objects) {
					t.Errorf("%s %s: part value %d beyond %d objects", k, im.Path, v, len(im.Objects))
				}
			}
		}
	}
}

// The camera varies per image: two good scenes of a camera kind differ in
// mean brightness more than the layout alone would make them.
func TestCameraVariesPerImage(t *testing.T) {
	mean := func(sc Scene) float64 {
		s := 0.0
		for i := 0; i < len(sc.Image.Pix); i += 4 {
			s += float64(sc.Image.Pix[i]) + float64(sc.Image.Pix[i+1]) + float64(sc.Image.Pix[i+2])
		}
		return s / float64(len(sc.Image.Pix))
	}
	var ms []float64
	for seed := int64(0); seed < 8; seed++ {
		ms = append(ms, mean(gen1(t, Pushpins, seed, Good)))
	}
	lo, hi := slices.Min(ms), slices.Max(ms)
	if hi-lo < 5 {
		t.Errorf("mean brightness of 8 good pushpin scenes spans %.1f levels; the lighting does not drift", hi-lo)
	}
}
