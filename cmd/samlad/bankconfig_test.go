package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/samlad/samlad/eval/scenes"
)

// A config given to inspect sets only what it writes: on a bank enrolled
// with a product's own config (a recipe), a file that changes the
// false-reject rate alone is accepted and moves the threshold (refitted on
// the bank's leave-one-out scores), while a file that writes keys the
// bank is bound to with other values is refused, naming each key with its
// line and both values.
func TestInspectConfigOnRecipeBank(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "box")
	writeScenes(t, data, scenes.Box, 10, 1, 128, scenes.Missing)
	// A product's own pipeline (k = 8, layout keys by compartment), made
	// smaller to run fast.
	const src = "[pipeline]\ninput_size = 112\nupsample = 4\nk = 8\n\n" +
		"[pipeline.layout]\nenabled = true\nrefs = 0\nradius = 0.2125\ngrid = 1\nobject_weight = 0\nmissing_weight = 0.25\nexcess_weight = 1\n"
	cfg := filepath.Join(dir, "box.toml")
	os.WriteFile(cfg, []byte(src), 0o644)
	bank := filepath.Join(dir, "box.bank")
	if rc, _, stderr := captureOutput(t, func() int {
		return runEnroll([]string{"--config", cfg, "--good", filepath.Join(data, "train", "good"), "--out", bank})
	}); rc != 0 {
		t.Fatalf("enroll: rc %d: %s", rc, stderr)
	}
	img := filepath.Join(data, "test", "good", "000.png")
	threshold := func(args ...string) (float64, int, string) {
		t.Helper()
		rc, stdout, stderr := captureOutput(t, func() int { return runInspect(append(append([]string{"--bank", bank}, args...), img)) })
		var r inspectLine
		if rc == 0 {
			if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &r); err != nil {
				t.Fatalf("inspect %v: %v in %q", args, err, stdout)
			}
		}
		return float64(r.Threshold), rc, stderr
	}
	enrolled, rc, stderr := threshold()
	if rc != 0 {
		t.Fatalf("inspect without a config: rc %d: %s", rc, stderr)
	}

	frr := filepath.Join(dir, "frr.toml")
	os.WriteFile(frr, []byte("[pipeline]\nfalse_reject_rate = 0.3\n"), 0o644)
	loose, rc, stderr := threshold("--config", frr)
	if rc != 0 {
		t.Fatalf("a config changing only false_reject_rate on a recipe bank: rc %d: %s", rc, stderr)
	}
	if !(loose < enrolled) {
		t.Errorf("threshold at a 30%% false-reject rate %g, at the enrolled 1%% %g: want it lower", loose, enrolled)
	}
	// Keys that do not change the bank, and the recipe's own values, are fine.
	same := filepath.Join(dir, "same.toml")
	os.WriteFile(same, []byte(src+"\n[mqtt]\nprefix = \"line1\"\n"), 0o644)
	if got, rc, stderr := threshold("--config", same); rc != 0 || got != enrolled {
		t.Errorf("the enrolment config itself: rc %d, threshold %g (enrolled %g): %s", rc, got, enrolled, stderr)
	}
	fixed := filepath.Join(dir, "fixed.toml")
	os.WriteFile(fixed, []byte("[pipeline]\nthreshold = 2.5\nthreshold_margin = 1.2\nworkers = 1\n"), 0o644)
	if got, rc, stderr := threshold("--config", fixed); rc != 0 || got != 2.5 {
		t.Errorf("a fixed threshold: rc %d, threshold %g: %s", rc, got, stderr)
	}

	// A real mismatch: each key by its TOML path and line, both values, what to do.
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("[pipeline]\nk = 4\nfalse_reject_rate = 0.05\n\n[pipeline.segment]\nsigma = 1.0\n"), 0o644)
	_, rc, stderr = threshold("--config", bad)
	if rc != 1 {
		t.Fatalf("mismatching config: rc %d, want 1: %s", rc, stderr)
	}
	for _, want := range []string{
		"pipeline.k (" + bad + ":2): bank 8, config 4",
		"pipeline.segment.sigma (" + bad + ":6): bank 0.8, config 1",
		"re-enrol with this config", "drop these keys from " + bad,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("mismatch message lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "false_reject_rate (") || strings.Contains(stderr, "{") {
		t.Errorf("mismatch message lists a key that may differ, or dumps a struct:\n%s", stderr)
	}
	// The layout step switched off names the switch, not every layout key.
	off := filepath.Join(dir, "off.toml")
	os.WriteFile(off, []byte("[pipeline.layout]\nenabled = false\n"), 0o644)
	_, rc, stderr = threshold("--config", off)
	if rc != 1 || !strings.Contains(stderr, "pipeline.layout.enabled ("+off+":2): bank true, config false") ||
		strings.Contains(stderr, "pipeline.layout.grid") {
		t.Errorf("layout switched off: rc %d:\n%s", rc, stderr)
	}
}
