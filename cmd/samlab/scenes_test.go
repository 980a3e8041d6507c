package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/samlad/samlad/eval/scenes"
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
	bag := filepath.Join(t.TempDir(), "bag")
	if rc := runScenes([]string{"--kind", "bag", "--out", bag, "--good", "1", "--test", "0", "--test-good", "0", "--size", "64"}); rc != 0 {
		t.Fatalf("bag: exit code %d", rc)
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
			t.Errorf("samlab scenes %v: exit code %d, want %d", c.args, rc, c.rc)
		}
	}
}

func TestRunScenesListAndSamples(t *testing.T) {
	dir := t.TempDir()
	if rc := runScenes([]string{"--samples", dir, "--size", "64"}); rc != 0 {
		t.Fatalf("--samples: exit code %d", rc)
	}
	for _, k := range scenes.AllKinds() {
		if _, err := os.Stat(filepath.Join(dir, string(k)+".png")); err != nil {
			t.Errorf("no sample sheet for %s", k)
		}
	}
	if rc := runScenes([]string{"--list"}); rc != 0 {
		t.Errorf("--list: exit code %d", rc)
	}
	zoo := filepath.Join(t.TempDir(), "pcb")
	if rc := runScenes([]string{"--kind", "pcb", "--layout", "loco", "--out", zoo, "--good", "1", "--test", "1", "--size", "64"}); rc != 0 {
		t.Fatalf("pcb: exit code %d", rc)
	}
	if _, err := os.Stat(filepath.Join(zoo, "parts/train/good/000.png")); err != nil {
		t.Errorf("no part mask: %v", err)
	}
}
