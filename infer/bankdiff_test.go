package infer

import (
	"strings"
	"testing"

	"github.com/samlad/samlad/config"
)

// A bank mismatch names every differing key by its TOML path with both
// values, never a struct, and leaves out the keys that do not bind a bank.
func TestBankDiffsNameEachKey(t *testing.T) {
	p := config.DefaultPipeline()
	bank := &Bank{Config: bankConfigOf(p)}
	q := p
	q.K, q.Segment.Sigma, q.Layout.Grid, q.Upsampler = 2, 1.2, 2, "bilinear"
	q.FalseRejectRate, q.Threshold, q.ThresholdMargin = 0.05, 3, 1.1
	msg := (&BankMismatchError{Diffs: BankDiffs(bank, q)}).Error()
	for _, want := range []string{
		"pipeline.k = 4 (the config says 2)", `pipeline.upsampler = "jbu" (the config says "bilinear")`,
		"pipeline.segment.sigma = 0.8 (the config says 1.2)", "pipeline.layout.grid = 3 (the config says 2)", "re-enrol",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "{") || strings.Contains(msg, "false_reject_rate") || strings.Contains(msg, "threshold") {
		t.Errorf("message dumps a struct or names a free key: %s", msg)
	}
	// The layout step switched off: the switch alone.
	q = p
	q.Layout.Enabled = false
	if d := BankDiffs(bank, q); len(d) != 1 || d[0].Key != "pipeline.layout.enabled" {
		t.Errorf("layout off: %v", d)
	}
	if d := BankDiffs(bank, p); len(d) != 0 {
		t.Errorf("same pipeline: %v", d)
	}
}
