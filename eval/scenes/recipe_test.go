package scenes

import (
	"fmt"
	"math"
	"testing"

	"github.com/samlad/samlad/config"
)

// TestRecipe: the bag keeps the base pipeline; the box turns the layout
// step on with a radius of half the spacing of its compartments, measured
// on generated scenes from the parts' truth boxes (mean centre per
// compartment), and the result passes config validation.
func TestRecipe(t *testing.T) {
	base := config.DefaultPipeline()
	if got := Recipe(Bag, base); got.Layout != base.Layout {
		t.Errorf("bag recipe changed the layout step: %+v", got.Layout)
	}
	box := Recipe(Box, base)
	if !box.Layout.Enabled || box.Layout.Only || box.Layout.Group {
		t.Fatalf("box recipe: layout %+v, want enabled beside SAM-LAD's scores, objects not grouped", box.Layout)
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
	l := box.Layout
	src := fmt.Sprintf("[pipeline.layout]\nenabled = %v\nonly = %v\nrefs = %d\nradius = %v\ngroup = %v\ngrid = %d\n", l.Enabled, l.Only, l.Refs, l.Radius, l.Group, l.Grid)
	if _, err := config.Parse([]byte(src), "recipe.toml"); err != nil {
		t.Errorf("box recipe as a config file: %v", err)
	}
}
