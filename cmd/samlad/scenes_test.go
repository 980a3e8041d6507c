package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRunScenes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "box")
	if rc := runScenes([]string{"--kind", "box", "--layout", "loco", "--out", dir, "--good", "1", "--validation", "1", "--test", "1", "--size", "64"}); rc != 0 {
		t.Fatalf("exit code %d", rc)
	}
	for _, p := range []string{"train/good/000.png", "validation/good/000.png", "test/logical_anomalies/003.png", "defects_config.json", "truth.json"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("missing %s", p)
		}
	}
	for _, c := range []struct {
		args []string
		rc   int
	}{
		{[]string{"--kind", "bag"}, 2}, // no --out
		{[]string{"--kind", "crate", "--out", t.TempDir()}, 1},
		{[]string{"--kind", "bag", "--anomalies", "misplaced", "--out", t.TempDir()}, 1},
		{[]string{"--out", dir}, 1}, // not empty
	} {
		if rc := runScenes(c.args); rc != c.rc {
			t.Errorf("samlad scenes %v: exit code %d, want %d", c.args, rc, c.rc)
		}
	}
}
