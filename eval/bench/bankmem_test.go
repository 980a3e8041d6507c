package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
)

// Bank memory (issue 7): a bank of many good images must fit in 2 GiB of
// resident memory during inspection. TestBankMemory enrols
// SAMLAD_BANK_MEM_REFS generated bag scenes (e.g. 400) at 224 px, x8, k = 2,
// and a small bank of 50, saves both, and inspects 20 frames against each
// in a fresh child process (this test binary again), which reports its
// peak RSS (VmHWM). The difference of the two peaks over the difference of
// the reference counts is the resident memory per reference. Slow (minutes
// on 2 cores), so it runs only when the variable is set:
//
//	SAMLAD_BANK_MEM_REFS=400 go test -run TestBankMemory -v -timeout 60m ./eval/bench
const (
	bankMemEnv   = "SAMLAD_BANK_MEM_REFS"
	bankChildEnv = "SAMLAD_BANK_MEM_CHILD" // bank file the child inspects with
	bankMemLimit = 2 << 30
)

func bankMemPipeline() config.Pipeline {
	p := config.DefaultPipeline()
	p.InputSize, p.Upsample, p.K = 224, 8, 2
	return p
}

func TestBankMemory(t *testing.T) {
	if os.Getenv(bankChildEnv) != "" {
		t.Skip("child process")
	}
	n, _ := strconv.Atoi(os.Getenv(bankMemEnv))
	if n <= 0 {
		t.Skipf("set %s=400 to run (minutes)", bankMemEnv)
	}
	small := min(50, n)
	dir := t.TempDir()
	type run struct {
		refs                   int
		fileBytes, structBytes int64
		enrol                  time.Duration
		peak, after            int64
	}
	var runs []run
	for _, refs := range []int{small, n} {
		path := filepath.Join(dir, fmt.Sprintf("bank-%d.bank", refs))
		start := time.Now()
		bank := enrolScenes(t, refs)
		r := run{refs: refs, enrol: time.Since(start), structBytes: bankBytes(bank)}
		if err := bank.Save(path); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		r.fileBytes = st.Size()
		bank = nil
		runtime.GC()
		r.peak, r.after = inspectInChild(t, path)
		runs = append(runs, r)
		t.Logf("%d references: enrolment %.0f s, bank file %.1f MiB, bank in memory %.1f MiB (%.0f KiB per reference), peak RSS %.1f MiB (loading included), RSS after 20 frames %.1f MiB",
			refs, r.enrol.Seconds(), mib(r.fileBytes), mib(r.structBytes), float64(r.structBytes)/float64(refs)/1024, mib(r.peak), mib(r.after))
	}
	big := runs[len(runs)-1]
	if big.peak > bankMemLimit {
		t.Errorf("peak RSS %.1f MiB with %d references, want <= %.0f MiB", mib(big.peak), n, mib(bankMemLimit))
	}
	if n > small {
		per := float64(big.peak-runs[0].peak) / float64(n-small)
		perAfter := float64(big.after-runs[0].after) / float64(n-small)
		t.Logf("resident memory per reference, %d -> %d references: peak %.0f KiB, after the frames %.0f KiB", small, n, per/1024, perAfter/1024)
	}
}

// TestBankMemoryChild is the child's side: load the bank, inspect 20
// frames, print the peak RSS. (The kernel's rusage of a child also counts
// the parent's memory at the fork, so the child reads its own VmHWM.)
func TestBankMemoryChild(t *testing.T) {
	path := os.Getenv(bankChildEnv)
	if path == "" {
		t.Skip("run by TestBankMemory")
	}
	bank, err := infer.LoadBank(path)
	if err != nil {
		t.Fatal(err)
	}
	p := bankMemPipeline()
	be, err := builtin.New(p)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := infer.NewEngine(be, bank, p)
	if err != nil {
		t.Fatal(err)
	}
	frames, err := MixedScenes(scenes.Bag, 7, p.InputSize)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := eng.Inspect(context.Background(), frames[i%len(frames)]); err != nil {
			t.Fatal(err)
		}
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && (k == "VmHWM" || k == "VmRSS") {
			fmt.Printf("%s %s %s\n", rssMarker, k, strings.Fields(v)[0])
		}
	}
}

// rssMarker starts the child's output lines with its peak (VmHWM, loading
// included) and current (VmRSS, after the frames) resident memory in KiB.
const rssMarker = "SAMLAD_RSS_KIB"

func enrolScenes(t *testing.T, n int) *infer.Bank {
	t.Helper()
	p := bankMemPipeline()
	be, err := builtin.New(p)
	if err != nil {
		t.Fatal(err)
	}
	good, err := Scenes(scenes.Bag, scenes.Good, 1000, n, p.InputSize)
	if err != nil {
		t.Fatal(err)
	}
	bank, err := infer.Enroll(context.Background(), be, p, good, nil)
	if err != nil {
		t.Fatal(err)
	}
	return bank
}

// inspectInChild runs TestBankMemoryChild in a new process and returns its
// peak resident set size and the one after the frames, in bytes.
func inspectInChild(t *testing.T, bankPath string) (peak, after int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBankMemoryChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), bankChildEnv+"="+bankPath)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != rssMarker {
			continue
		}
		kib, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			t.Fatalf("child %s %q: %v", f[1], f[2], err)
		}
		if f[1] == "VmHWM" {
			peak = kib * 1024
		} else {
			after = kib * 1024
		}
	}
	if peak == 0 {
		t.Skipf("child reported no RSS (no /proc?):\n%s", out)
	}
	return peak, after
}

// bankBytes is the size of a bank's arrays in memory.
func bankBytes(b *infer.Bank) int64 {
	var n int64
	for _, r := range b.Refs {
		n += int64(len(r.RGB)) + 4*int64(len(r.Feat.Data)) + 4*int64(len(r.Global)) + 2*int64(len(r.Labels))
		for _, o := range r.Objects {
			n += 4 * int64(len(o.Desc))
		}
	}
	return n
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
