package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/samlad/samlad/eval/bench"
)

func TestRunBench(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bench.json")
	if rc := runBench([]string{"--size", "128", "--upsample", "1,2", "--k", "2", "--good", "5", "--frames", "2", "--warmup", "0", "--json-out", out}); rc != 0 {
		t.Fatalf("exit code %d", rc)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var reps []bench.Report
	if err := json.Unmarshal(data, &reps); err != nil {
		t.Fatal(err)
	}
	if len(reps) != 2 || reps[0].Setup.Upsample != 1 || reps[1].Setup.Upsample != 2 || reps[1].Setup.K != 2 || reps[0].Backend != "builtin" {
		t.Errorf("reports %+v", reps)
	}
	for _, c := range []struct {
		args []string
		rc   int
	}{
		{[]string{"--frames", "0"}, 2},
		{[]string{"--size", "big"}, 1},
		{[]string{"--bank", filepath.Join(t.TempDir(), "none.bank")}, 1},
		{[]string{"--scene", "crate", "--good", "3", "--size", "128", "--frames", "1"}, 1},
		{[]string{"extra"}, 2},
	} {
		if rc := runBench(c.args); rc != c.rc {
			t.Errorf("samlad bench %v: exit code %d, want %d", c.args, rc, c.rc)
		}
	}
}
