package main

import (
	"fmt"
	"strings"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
)

// pipelineForBank returns the pipeline to inspect bank with under cfg, the
// config loaded from cfgPath ("" for none). Every key the bank was enrolled
// with comes from the bank unless the file writes it, so a file that only
// sets what does not change the bank (false_reject_rate, threshold,
// threshold_margin, dustbin, match_threshold, workers, ...) works with any
// bank, a recipe bank included; the false-reject rate re-derives the
// threshold from the bank's leave-one-out scores. A key the file writes
// with another value than the bank's is an error naming each such key with
// its line, both values and what to do.
func pipelineForBank(bank *infer.Bank, cfg config.Config, cfgPath string) (config.Pipeline, error) {
	enrolled := bank.Pipeline(cfg.Pipeline)
	if cfgPath == "" {
		return enrolled, nil
	}
	keys, err := config.ReadFileKeys(cfgPath)
	if err != nil {
		return config.Pipeline{}, err
	}
	p := keys.PipelineOver(enrolled, cfg.Pipeline)
	var diffs []config.KeyDiff
	if p.Backend != bank.Backend {
		diffs = append(diffs, config.KeyDiff{Key: "pipeline.backend", A: bank.Backend, B: p.Backend})
	}
	diffs = append(diffs, infer.BankDiffs(bank, p)...)
	if len(diffs) == 0 {
		return p, nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s sets keys the bank was enrolled with to other values:\n", cfgPath)
	for _, d := range diffs {
		fmt.Fprintf(&b, "  %s (%s): bank %s, config %s\n", d.Key, keys.Where(d.Key), config.TOMLValue(d.A), config.TOMLValue(d.B))
	}
	them := "this key"
	if len(diffs) > 1 {
		them = "these keys"
	}
	fmt.Fprintf(&b, "re-enrol with this config (samlad enroll --config %s --good DIR --out FILE.bank), or drop %s from %s to inspect with the bank's values;\n", cfgPath, them, cfgPath)
	b.WriteString("keys that do not change the bank (false_reject_rate, threshold, threshold_margin, dustbin, match_threshold) may differ")
	return config.Pipeline{}, fmt.Errorf("%s", b.String())
}
