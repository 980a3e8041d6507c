package infer

import (
	"fmt"
	"strings"

	"github.com/samlad/samlad/config"
)

// BankDiffs lists the pipeline keys the bank is bound to (BankConfig) whose
// values in p differ from the ones it was enrolled with, by TOML key path
// (e.g. "pipeline.segment.sigma"), A the bank's value and B p's, in the
// order of the schema. Keys that do not change the bank (the threshold,
// the false-reject rate, the margin, ...) are never listed.
func BankDiffs(bank *Bank, p config.Pipeline) []config.KeyDiff {
	diffs := config.Diff(bank.Config, bankConfigOf(p), "pipeline")
	if bank.Config.Layout.Enabled == p.Layout.Enabled {
		return diffs
	}
	// The layout step on one side only: its other keys are moot (a bank
	// without it stores none), so name the switch alone.
	out := diffs[:0]
	for _, d := range diffs {
		if !strings.HasPrefix(d.Key, "pipeline.layout.") || d.Key == "pipeline.layout.enabled" {
			out = append(out, d)
		}
	}
	return out
}

// BankMismatchError says that a config changes keys a bank was enrolled
// with; Diffs names each (A: the bank's value, B: the config's).
type BankMismatchError struct {
	Diffs []config.KeyDiff
}

func (e *BankMismatchError) Error() string {
	parts := make([]string, len(e.Diffs))
	for i, d := range e.Diffs {
		parts[i] = fmt.Sprintf("%s = %s (the config says %s)", d.Key, config.TOMLValue(d.A), config.TOMLValue(d.B))
	}
	keys := "this key"
	if len(e.Diffs) > 1 {
		keys = "these keys"
	}
	return fmt.Sprintf("bank was enrolled with %s; re-enrol with this config, or drop %s from the config (or set the bank's values) to inspect with the bank",
		strings.Join(parts, ", "), keys)
}
