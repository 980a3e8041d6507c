package config

import (
	"strings"
	"testing"
)

// FileKeys tells the keys a file writes from defaults, whatever the TOML
// form (table, dotted key, inline table), and PipelineOver merges key by key.
func TestFileKeysPipelineOver(t *testing.T) {
	src := "[pipeline]\nfalse_reject_rate = 0.05\nsegment.sigma = 1.5\nlayout = { grid = 2 }\n\n[mqtt]\nprefix = \"x\"\n"
	keys, err := ParseFileKeys([]byte(src), "line.toml")
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]bool{
		"pipeline.false_reject_rate": true, "pipeline.segment.sigma": true, "pipeline.layout.grid": true,
		"pipeline.k": false, "pipeline.segment.scale": false, "pipeline.layout.radius": false,
	} {
		if got := keys.Has(key); got != want {
			t.Errorf("Has(%s) = %v, want %v", key, got, want)
		}
	}
	if got := keys.Where("pipeline.layout.grid"); got != "line.toml:4" {
		t.Errorf("Where(pipeline.layout.grid) = %q, want line.toml:4", got)
	}
	file, err := Parse([]byte(src), "line.toml")
	if err != nil {
		t.Fatal(err)
	}
	base := DefaultPipeline()
	base.K, base.Segment.Scale, base.Layout.Radius, base.Layout.Grid, base.FalseRejectRate = 8, 120, 0.2, 1, 0.01
	got := keys.PipelineOver(base, file.Pipeline)
	want := base
	want.FalseRejectRate, want.Segment.Sigma, want.Layout.Grid = 0.05, 1.5, 2
	if d := Diff(want, got, "pipeline"); len(d) > 0 {
		t.Errorf("merged pipeline differs from the expected one: %v", d)
	}
	d := Diff(base, got, "pipeline")
	var names []string
	for _, k := range d {
		names = append(names, k.Key)
	}
	if strings.Join(names, " ") != "pipeline.false_reject_rate pipeline.segment.sigma pipeline.layout.grid" {
		t.Errorf("Diff keys %v", names)
	}
	if _, err := ParseFileKeys([]byte("[pipeline\n"), "bad.toml"); err == nil || !strings.Contains(err.Error(), "bad.toml:") {
		t.Errorf("syntax error: %v", err)
	}
}
