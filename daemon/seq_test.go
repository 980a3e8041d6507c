package daemon

import (
	"os"
	"path/filepath"
	"testing"
)

// A clean stop continues the sequence exactly; a crash (no Close) skips
// ahead but never hands out a number twice.
func TestSequencePersistsAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	s, err := openSequence(dir, "cam1")
	if err != nil {
		t.Fatal(err)
	}
	for want := uint64(1); want <= 5; want++ {
		if got, err := s.Next(); err != nil || got != want {
			t.Fatalf("Next = %d, %v; want %d", got, err, want)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = openSequence(dir, "cam1")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Next(); got != 6 {
		t.Fatalf("after a clean restart Next = %d, want 6", got)
	}
	last := uint64(6)
	for range seqBlock + 10 { // cross a block boundary
		last, _ = s.Next()
	}
	// Crash: no Close. The reopened sequence must start above every number used.
	s, err = openSequence(dir, "cam1")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Next()
	if got <= last {
		t.Fatalf("after a crash Next = %d, which reuses a number <= %d", got, last)
	}
	if got > last+seqBlock+1 {
		t.Fatalf("after a crash Next = %d skips more than one block past %d", got, last)
	}
}

func TestSequenceRefusesCorruptFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "seq-cam1"), []byte("12x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := openSequence(dir, "cam1"); err == nil {
		t.Fatal("a corrupt sequence file was accepted")
	}
}

// When the state file cannot be written the frame still gets a number (and
// the error is returned for reporting).
func TestSequenceWriteErrorStillNumbers(t *testing.T) {
	dir := t.TempDir()
	s, err := openSequence(dir, "cam1")
	if err != nil {
		t.Fatal(err)
	}
	s.path = filepath.Join(dir, "missing", "seq-cam1")
	n, err := s.Next()
	if err == nil || n != 1 {
		t.Fatalf("Next = %d, %v; want 1 and an error", n, err)
	}
	if n2, _ := s.Next(); n2 != 2 {
		t.Fatalf("Next = %d, want 2", n2)
	}
}
