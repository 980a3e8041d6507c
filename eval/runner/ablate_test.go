package runner

import (
	"context"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/datasets"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
)

// A pipeline scoring with the layout step alone (layout.only, as
// DigitAnatomy's recipe does) skips the variants of SAM-LAD's own scores,
// and turning the layout step off is its own run, not the default's.
func TestAblationOnLayoutOnlyPipeline(t *testing.T) {
	dir := t.TempDir()
	if _, err := scenes.WriteSplit(dir, scenes.SplitOptions{Kind: scenes.Box, Layout: scenes.MVTecAD, Size: 128, Seed: 11,
		TrainGood: 6, TestGood: 2, TestPerType: 1}); err != nil {
		t.Fatal(err)
	}
	p := config.DefaultPipeline()
	p.InputSize, p.Upsample, p.K, p.Workers = 128, 4, 2, 2
	p.Layout.Enabled, p.Layout.Only, p.Layout.Refs = true, true, 0
	o := Options{Layout: datasets.MVTecAD, Pipeline: p, NewBackend: builtinBackend}
	var grid []Variant
	for _, v := range AblationGrid() {
		if v.Factor == "layout.enabled" || v.Factor == "k" && v.Value == "1" {
			grid = append(grid, v)
		}
	}
	rows, err := Ablate(context.Background(), []Dataset{{Label: "box", Root: dir}}, o, grid)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Factor == "k" {
			// The pipeline scores with the layout step alone: k is not used.
			if r.Unused == "" || r.Results != nil {
				t.Errorf("k = 1 under a layout.only pipeline: unused %q, results %v; want it skipped", r.Unused, r.Results)
			}
			continue
		}
		if r.Error != "" || r.Seconds == 0 {
			t.Errorf("layout.enabled = %s: error %q, %.2f s (0 s = taken from another variant's run)", r.Value, r.Error, r.Seconds)
		}
		if want := r.Value == "true"; r.Default["box"] != want {
			t.Errorf("layout.enabled = %s marked default %t; the pipeline's value is true", r.Value, r.Default["box"])
		}
	}
}

// A variant that changes only keys of a step a data set has off shares
// the data set's default run.
func TestAblationSharesRunsOfUnusedKeys(t *testing.T) {
	dir := t.TempDir()
	if _, err := scenes.WriteSplit(dir, scenes.SplitOptions{Kind: scenes.Bag, Layout: scenes.MVTecAD, Size: 96, Seed: 5,
		TrainGood: 4, TestGood: 1, TestPerType: 1, Anomalies: []scenes.Anomaly{scenes.Missing}}); err != nil {
		t.Fatal(err)
	}
	p := config.DefaultPipeline()
	p.InputSize, p.Upsample, p.K, p.Workers = 96, 2, 2, 2
	p.Layout.Enabled = false
	var grid []Variant
	for _, v := range AblationGrid() {
		if v.Factor == "layout.mirror" || v.Factor == "layout.enabled" && v.Value == "true" {
			grid = append(grid, v)
		}
	}
	rows, err := Ablate(context.Background(), []Dataset{{Label: "bag", Root: dir}}, Options{Layout: datasets.MVTecAD, Pipeline: p, NewBackend: builtinBackend}, grid)
	if err != nil {
		t.Fatal(err)
	}
	ran, results := map[string]bool{}, map[string]map[string]float64{}
	for _, r := range rows {
		if r.Error != "" {
			t.Fatalf("%s = %s: %s", r.Factor, r.Value, r.Error)
		}
		ran[r.Factor+"="+r.Value] = r.Seconds > 0
		results[r.Factor+"="+r.Value] = r.Results["bag"]
	}
	if want := map[string]bool{"layout.mirror=auto": true, "layout.mirror=off": false, "layout.mirror=on": false, "layout.enabled=true": true}; !maps.Equal(ran, want) {
		t.Errorf("variants that ran: %v, want %v (mirror on or off changes nothing with the layout step off)", ran, want)
	}
	for _, v := range []string{"on", "off"} {
		if r := results["layout.mirror="+v]; len(r) == 0 || !maps.Equal(r, results["layout.mirror=auto"]) {
			t.Errorf("shared run mirror = %s gave other results: %v, want %v", v, r, results["layout.mirror=auto"])
		}
	}
}

// Only keeps the named categories of a root and says so when none is there.
func TestOnlyNamedCategories(t *testing.T) {
	root := t.TempDir()
	for _, k := range []scenes.Kind{scenes.Bag, scenes.Box} {
		if _, err := scenes.WriteSplit(filepath.Join(root, string(k)), scenes.SplitOptions{Kind: k, Layout: scenes.MVTecAD, Size: 96, Seed: 3,
			TrainGood: 4, TestGood: 1, TestPerType: 1}); err != nil {
			t.Fatal(err)
		}
	}
	p := config.DefaultPipeline()
	p.InputSize, p.Upsample, p.K, p.Workers = 96, 2, 2, 2
	o := Options{Layout: datasets.MVTecAD, Pipeline: p, ImageOnly: true, Only: []string{"box"},
		NewBackend: builtinBackend}
	rep, err := Evaluate(context.Background(), root, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Categories) != 1 || rep.Categories[0].Name != "box" {
		t.Errorf("categories %v, want box only", rep.Categories)
	}
	o.Only = []string{"tray"}
	if _, err := Evaluate(context.Background(), root, o); err == nil || !strings.Contains(err.Error(), "tray") {
		t.Errorf("no such category: error %v, want one naming it", err)
	}
}

// builtinBackend is the tests' NewBackend: the built-in backend, nothing
// to release.
func builtinBackend(p config.Pipeline) (*infer.Backend, func(), error) {
	be, err := builtin.New(p)
	return be, func() {}, err
}
