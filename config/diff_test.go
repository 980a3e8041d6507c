package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestPipelineChangesNamesChangedKeys(t *testing.T) {
	base := DefaultPipeline()
	own := base
	own.Layout.Enabled, own.Layout.Grid, own.K = false, 1, base.K+1
	var got []string
	for _, s := range PipelineChanges(base, own) {
		got = append(got, s.String())
	}
	want := fmt.Sprintf("pipeline.k = %d, pipeline.layout.enabled = false, pipeline.layout.grid = 1", base.K+1)
	if strings.Join(got, ", ") != want {
		t.Errorf("diff %q, want %q", strings.Join(got, ", "), want)
	}
	if d := PipelineChanges(base, base); d != nil {
		t.Errorf("diff of equal pipelines: %v", d)
	}
}
