package scenes

import (
	"fmt"
	"math"
	"testing"

	"github.com/samlad/samlad/config"
)

// TestRecipe: the bag turns the layout step on without positions (radius
// 1, no object term: it counts parts); the box turns it on with a radius
// of half the spacing of its compartments, measured on generated scenes
// from the parts' truth boxes (mean centre per compartment); both pass
// config validation.
func TestRecipe(t *testing.T) {
	base := config.DefaultPipeline()
	bag := Recipe(Bag, base).Layout
	if !bag.Enabled || bag.Only || bag.Radius != 1 || bag.ObjectWeight != 0 || bag.ExcessWeight == 0 {
		t.Errorf("bag recipe: layout %+v, want the step beside SAM-LAD's scores, counting parts without positions", bag)
	}
	if src := layoutTOML(bag); mustParse(t, src) != bag {
		t.Errorf("bag recipe as a config file gives another layout:\n%s", src)
	}
	box := Recipe(Box, base)
	if !box.Layout.Enabled || box.Layout.Only || box.Layout.Group != config.Auto {
		t.Fatalf("box recipe: layout %+v, want enabled beside SAM-LAD's scores, grouping learned at enrolment", box.Layout)
	}
	const size, n = 128, 8
	var sx, sy [4]float64
	var cnt [4]int
	for seed := int64(1); seed <= n; seed++ {
		sc, err := Generate(Box, seed, size, Good)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range sc.Objects {
			sx[o.Slot] += float64(o.Box.Min.X+o.Box.Max.X) / 2 / size
			sy[o.Slot] += float64(o.Box.Min.Y+o.Box.Max.Y) / 2 / size
			cnt[o.Slot]++
		}
	}
	// Compartments 0 and 1 are side by side, 0 and 2 one above the other.
	cx := func(s int) float64 { return sx[s] / float64(cnt[s]) }
	cy := func(s int) float64 { return sy[s] / float64(cnt[s]) }
	spacing := (math.Abs(cx(1)-cx(0)) + math.Abs(cy(2)-cy(0))) / 2
	t.Logf("compartment spacing %.3f of the side, radius %.3f", spacing, box.Layout.Radius)
	if math.Abs(box.Layout.Radius-spacing/2) > 0.03 {
		t.Errorf("layout radius %.3f, want about half the compartment spacing %.3f", box.Layout.Radius, spacing)
	}
	if src := layoutTOML(box.Layout); mustParse(t, src) != box.Layout {
		t.Errorf("box recipe as a config file gives another layout:\n%s", src)
	}
}

// layoutTOML writes l as a [pipeline.layout] section.
func layoutTOML(l config.Layout) string {
	return fmt.Sprintf("[pipeline.layout]\nenabled = %v\nonly = %v\nrefs = %d\nradius = %v\ngroup = %q\nmirror = %q\ngrid = %d\nobject_weight = %v\nmissing_weight = %v\nexcess_weight = %v\n",
		l.Enabled, l.Only, l.Refs, l.Radius, l.Group, l.Mirror, l.Grid, l.ObjectWeight, l.MissingWeight, l.ExcessWeight)
}

// mustParse parses src as a config file (validated) and returns its layout.
func mustParse(t *testing.T, src string) config.Layout {
	t.Helper()
	cfg, err := config.Parse([]byte(src), "recipe.toml")
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	return cfg.Pipeline.Layout
}
