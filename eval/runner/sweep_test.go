package runner

import (
	"reflect"
	"strings"
	"testing"

	"github.com/samlad/samlad/config"
)

// A sweep spec gives one variant per value, each setting its key (by TOML
// path, nested tables included) and nothing else; bad specs are refused
// with the config's own messages.
func TestSweep(t *testing.T) {
	base := config.DefaultPipeline()
	for _, c := range []struct {
		spec   string
		values []string
		set    func(p *config.Pipeline, i int)
	}{
		{"k=1,3", []string{"1", "3"}, func(p *config.Pipeline, i int) { p.K = []int{1, 3}[i] }},
		{"pipeline.position_weight=0, 0.5", []string{"0", "0.5"}, func(p *config.Pipeline, i int) { p.PositionWeight = []float64{0, 0.5}[i] }},
		{"layout.grid=3,4", []string{"3", "4"}, func(p *config.Pipeline, i int) { p.Layout.Grid = []int{3, 4}[i] }},
		{"layout.mirror=\"on\"", []string{"\"on\""}, func(p *config.Pipeline, _ int) { p.Layout.Mirror = config.On }},
		{"descriptor=gap,\"dcga\"", []string{"gap", "\"dcga\""}, func(p *config.Pipeline, i int) { p.Descriptor = []string{"gap", "dcga"}[i] }},
	} {
		vs, err := Sweep(c.spec)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		if len(vs) != len(c.values) {
			t.Fatalf("%s: %d variants, want %d", c.spec, len(vs), len(c.values))
		}
		for i, v := range vs {
			got, want := base, base
			v.Apply(&got)
			c.set(&want, i)
			if v.Value != c.values[i] || !reflect.DeepEqual(got, want) {
				t.Errorf("%s #%d: value %q, changes %v; want %q, %v", c.spec, i, v.Value,
					config.PipelineChanges(base, got), c.values[i], config.PipelineChanges(base, want))
			}
		}
	}
	for spec, want := range map[string]string{
		"k":             "want key=v1,v2",
		"k=":            "want key=v1,v2",
		"nokey=1":       "pipeline.nokey: unknown key",
		"k=x":           "pipeline.k = \"x\": wrong type",
		"k=0":           "pipeline.k = 0: must be in [1, 64]",
		"align=bogus":   "must be one of",
		"layout=1":      "wrong type",
		"layout.grid=2": "",
	} {
		_, err := Sweep(spec)
		if want == "" {
			if err != nil {
				t.Errorf("%s: %v", spec, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "--sweep") {
			t.Errorf("%s: error %v, want one starting --sweep and saying %q", spec, err, want)
		}
	}
}
