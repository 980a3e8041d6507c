package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/samlad/samlad/eval/scenes"
)

// openPTY returns the follower side of a fresh pseudo-terminal.
func openPTY(t *testing.T) *os.File {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("pty number: %v", err)
	}
	pts, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pty follower: %v", err)
	}
	t.Cleanup(func() { pts.Close() })
	return pts
}

// The bar exists on a terminal only: a pipe or a file (a log, a journal, a
// script capturing stderr) gets none.
func TestProgressOnlyOnATerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if newProgress(w) != nil {
		t.Error("a progress bar on a pipe")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if newProgress(f) != nil {
		t.Error("a progress bar on a file")
	}
	if newProgress(openPTY(t)) == nil {
		t.Error("no progress bar on a terminal")
	}
}

// enroll and inspect with stderr on a pipe print their results and nothing
// of a progress bar: no carriage returns, no "enrolling" status line.
func TestEnrollInspectQuietOffTerminal(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "bag")
	writeScenes(t, data, scenes.Bag, 4, 1, 96, scenes.Extra)
	cfg := filepath.Join(dir, "line.toml")
	if err := os.WriteFile(cfg, []byte("[pipeline]\ninput_size = 96\nupsample = 2\nk = 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bank := filepath.Join(dir, "line.bank")
	rc, _, stderr := captureOutput(t, func() int {
		return runEnroll([]string{"--config", cfg, "--good", filepath.Join(data, "train", "good"), "--out", bank})
	})
	if rc != 0 {
		t.Fatalf("enroll: exit %d\n%s", rc, stderr)
	}
	if strings.Contains(stderr, "\r") || strings.Contains(stderr, "enrolling ") || !strings.Contains(stderr, "enrolled ") {
		t.Errorf("enroll off a terminal printed progress (or no summary):\n%q", stderr)
	}
	rc, stdout, stderr := captureOutput(t, func() int { return runInspect([]string{"--bank", bank, filepath.Join(data, "test")}) })
	if rc != 0 || strings.Count(stdout, "\n") < 2 {
		t.Fatalf("inspect: exit %d, stdout %q, stderr %q", rc, stdout, stderr)
	}
	if strings.Contains(stderr, "\r") || strings.Contains(stderr, "[=") {
		t.Errorf("inspect off a terminal printed progress:\n%q", stderr)
	}
}
