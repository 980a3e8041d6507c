package main

import (
	"strings"
	"testing"

	"github.com/samlad/samlad/eval/runner"
)

func TestParseVariants(t *testing.T) {
	all, err := parseVariants("")
	if err != nil || len(all) != 3 {
		t.Fatalf("default: %v, %v", all, err)
	}
	two, err := parseVariants("builtin, sam+sam")
	if err != nil || len(two) != 2 || two[1].Features != "sam" || two[1].Segments != "sam" {
		t.Fatalf("two: %v, %v", two, err)
	}
	if _, err := parseVariants("sam"); err == nil {
		t.Error("unknown variant accepted")
	}
}

// The report says whether it is a smoke-scale run, and each variant's
// column carries its own figures.
func TestSAMMarkdown(t *testing.T) {
	full := samEvalSize{Kinds: strings.Split(samDefaultKinds(), ","), Seeds: []int64{101, 202, 303}, Train: 40, Test: 10, TestGood: 20, Size: 256, DigitTrain: 100, DigitTest: 40, Parts: 12}
	if s := samScale(full); !strings.Contains(s, "Full size") {
		t.Errorf("full size labelled %q", s)
	}
	if s := samScale(samEvalSize{Kinds: []string{"harness"}, Seeds: full.Seeds, Train: 40, Test: 10, TestGood: 20, DigitTrain: 100, DigitTest: 40}); !strings.Contains(s, "Smoke scale") {
		t.Errorf("one kind labelled %q", s)
	}
	small := full
	small.Kinds, small.Seeds, small.Train = []string{"harness"}, []int64{101}, 6
	r := &samEvalResult{Command: "samlab eval sam --train 6", Scale: samScale(small), Size: small, Variants: samVariants, Seconds: map[string]float64{}}
	for i, v := range samVariants {
		r.Runs = append(r.Runs, samRun{Variant: v.Name, Seed: 101, Data: "scenes",
			Metrics: map[string]map[string]*runner.Metrics{"harness": {runner.SAMLAD: {ImageAUROC: map[string]float64{"mean": 0.5 + 0.1*float64(i), runner.Logical: 0.6, runner.Structural: 0.4}}}}})
	}
	r.Parts = map[string][]*runner.PartRecall{
		"builtin": {{Name: "harness", PartsIoU: runner.Count{K: 3, N: 7}, MeanBestIoU: 0.4}},
		"sam":     {{Name: "harness", PartsIoU: runner.Count{K: 6, N: 7}, MeanBestIoU: 0.8}},
	}
	var b strings.Builder
	samMarkdown(&b, r)
	md := b.String()
	for _, want := range []string{"**Smoke scale, not a quality figure.**", "| harness | 50.0 | 60.0 | 40.0 | 60.0 | 60.0 | 40.0 | 70.0 | 60.0 | 40.0 |",
		"| harness | 7 | 3/7 (43%) | 0.400 |", "6/7 (86%) | 0.800 |", "samlab eval sam --train 6"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}
