package runner

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/samlad/samlad/config"
)

// Variant is one ablation setting: one pipeline key changed from the base.
type Variant struct {
	Factor string // e.g. "descriptor"
	Value  string // e.g. "gap"
	Apply  func(p *config.Pipeline)
	// Matching marks factors of SAM-LAD's own scores (descriptors, OMM,
	// AMM), which a pipeline scoring with the layout step alone
	// (layout.only, as DigitAnatomy's recipe does) does not use.
	Matching bool
}

// AblationGrid is the one-factor-at-a-time grid of the paper's Tables 6-8
// and the engine's own options: descriptor (GAP / GMP / DCGA), upsampling
// factor, alignment, k, the light variant (eq. 16), position-aware
// descriptors, the layout step (its grid, grouping, mirror switch and term
// weights only matter where the step is on), each further term's weight
// (0 = off) and the fusion rule.
func AblationGrid() []Variant {
	var g []Variant
	for _, d := range []string{"gap", "gmp", "dcga"} {
		g = append(g, Variant{"descriptor", d, func(p *config.Pipeline) { p.Descriptor = d }, true})
	}
	for _, u := range []int{1, 2, 4, 8} {
		g = append(g, Variant{"upsample", fmt.Sprint(u), func(p *config.Pipeline) { p.Upsample = u }, false})
	}
	for _, a := range []string{"none", "centroid", "box", "nn"} {
		g = append(g, Variant{"align", a, func(p *config.Pipeline) { p.Align = a }, true})
	}
	for _, k := range []int{1, 2, 3, 4, 8} {
		g = append(g, Variant{"k", fmt.Sprint(k), func(p *config.Pipeline) { p.K = k }, true})
	}
	for _, w := range []float64{0, 0.5, 1} {
		g = append(g, Variant{"position_weight", fmt.Sprint(w), func(p *config.Pipeline) { p.PositionWeight = w }, true})
	}
	for _, m := range []string{"full", "light"} {
		g = append(g, Variant{"mode", m, func(p *config.Pipeline) { p.Mode = m }, true})
	}
	for _, on := range []bool{false, true} {
		g = append(g, Variant{"layout.enabled", fmt.Sprint(on), func(p *config.Pipeline) { p.Layout.Enabled = on }, false})
	}
	for _, n := range []int{1, 3, 4} {
		g = append(g, Variant{"layout.grid", fmt.Sprint(n), func(p *config.Pipeline) { p.Layout.Grid = n }, false})
	}
	for _, s := range []config.Switch{config.Auto, config.Off, config.On} {
		g = append(g, Variant{"layout.group", string(s), func(p *config.Pipeline) { p.Layout.Group = s }, false})
	}
	for _, s := range []config.Switch{config.Auto, config.Off, config.On} {
		g = append(g, Variant{"layout.mirror", string(s), func(p *config.Pipeline) { p.Layout.Mirror = s }, false})
	}
	for _, w := range []float64{0, 1} {
		g = append(g, Variant{"layout.object_weight", fmt.Sprint(w), func(p *config.Pipeline) { p.Layout.ObjectWeight = w }, false})
	}
	for _, w := range []float64{0.25, 0.5} {
		g = append(g, Variant{"layout.missing_weight", fmt.Sprint(w), func(p *config.Pipeline) { p.Layout.MissingWeight = w }, false})
	}
	for _, w := range []float64{0, 1} {
		g = append(g, Variant{"layout.excess_weight", fmt.Sprint(w), func(p *config.Pipeline) { p.Layout.ExcessWeight = w }, false})
	}
	for _, w := range []float64{0, 1, 1.5} {
		g = append(g, Variant{"patch_weight", fmt.Sprint(w), func(p *config.Pipeline) { p.PatchWeight = w }, false})
	}
	for _, w := range []float64{0, 1} {
		g = append(g, Variant{"place_weight", fmt.Sprint(w), func(p *config.Pipeline) { p.PlaceWeight = w }, false})
	}
	for _, w := range []float64{0, 1} {
		g = append(g, Variant{"composition_weight", fmt.Sprint(w), func(p *config.Pipeline) { p.CompositionWeight = w }, false})
	}
	for _, f := range []string{"max", "sum"} {
		g = append(g, Variant{"fusion", f, func(p *config.Pipeline) { p.Fusion = f }, false})
	}
	return g
}

// AblationRow is one variant's image AUROCs on each data set.
type AblationRow struct {
	Factor string `json:"factor"`
	Value  string `json:"value"`
	// Default says, per data set label, whether this is the value the
	// run's pipeline has.
	Default map[string]bool `json:"default"`
	// Results per data set label: image AUROC by group (mean over that
	// data set's categories).
	Results map[string]map[string]float64 `json:"results"`
	Seconds float64                       `json:"seconds"`
	// Error is why the variant could not run (e.g. a value this engine
	// version rejects); the grid goes on with the next variant.
	Error string `json:"error,omitempty"`
	// Unused says why the variant was not run: the run's pipeline does not
	// use the factor.
	Unused string `json:"unused,omitempty"`
	// Types per data set label: image AUROC by anomaly type.
	Types map[string]map[string]float64 `json:"types,omitempty"`
}

// Dataset is one data set of an ablation: a label and its root.
type Dataset struct {
	Label string
	Root  string
}

// Ablate evaluates every variant on every data set (image AUROC only,
// SAM-LAD only), each variant changing one key of o.Pipeline. A data set
// is evaluated once per distinct pipeline it is inspected with: a variant
// equal to o.Pipeline, or changing only keys of a step it has off, shares
// that run.
func Ablate(ctx context.Context, sets []Dataset, o Options, grid []Variant) ([]AblationRow, error) {
	o.Baseline, o.ImageOnly, o.Examples, o.MapsDir = false, true, 0, ""
	base := o.Pipeline
	type result struct{ groups, types map[string]float64 }
	cache := map[string]result{} // data set label + pipeline -> AUROCs
	var rows []AblationRow
	for _, v := range grid {
		o.Pipeline = base
		v.Apply(&o.Pipeline)
		row := AblationRow{Factor: v.Factor, Value: v.Value, Default: map[string]bool{}}
		isDefault := reflect.DeepEqual(o.Pipeline, base)
		for _, ds := range sets {
			row.Default[ds.Label] = isDefault
		}
		if v.Matching && base.Layout.Enabled && base.Layout.Only {
			row.Unused = "not used: the pipeline scores with the layout step alone (layout.only)"
			rows = append(rows, row)
			continue
		}
		row.Results, row.Types = map[string]map[string]float64{}, map[string]map[string]float64{}
		for _, ds := range sets {
			key := fmt.Sprintf("%s|%+v", ds.Label, inUse(o.Pipeline))
			if r, ok := cache[key]; ok {
				row.Results[ds.Label], row.Types[ds.Label] = r.groups, r.types
				continue
			}
			o.Progress.Label(fmt.Sprintf("%s=%s %s", v.Factor, v.Value, ds.Label))
			t0 := time.Now()
			rep, err := Evaluate(ctx, ds.Root, o)
			row.Seconds += time.Since(t0).Seconds()
			if err != nil {
				if ctx.Err() != nil {
					return rows, ctx.Err()
				}
				row.Error = fmt.Sprintf("%s: %v", ds.Label, err)
				break
			}
			row.Results[ds.Label], row.Types[ds.Label] = rep.Mean[SAMLAD].ImageAUROC, rep.Mean[SAMLAD].TypeAUROC
			cache[key] = result{row.Results[ds.Label], row.Types[ds.Label]}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// inUse is p without the keys of a layout step that is off, which change
// nothing then.
func inUse(p config.Pipeline) config.Pipeline {
	if !p.Layout.Enabled {
		p.Layout = config.Layout{}
	}
	return p
}
