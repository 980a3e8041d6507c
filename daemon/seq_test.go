package daemon

import (
	"os"
	"path/filepath"
	"testing"
)

// A clean stop continues the sequence exactly; so does a crash (no Close):
// the file holds the exact next number, and says the stop was unclean.
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
	if unclean, _ := s.Unclean(); unclean {
		t.Error("a clean stop reads as unclean")
	}
	if got, _ := s.Next(); got != 6 {
		t.Fatalf("after a clean restart Next = %d, want 6", got)
	}
	last := uint64(6)
	for range 1010 {
		last, _ = s.Next()
	}
	// Crash: no Close. The reopened sequence starts right after the last
	// number used, and knows that number.
	s, err = openSequence(dir, "cam1")
	if err != nil {
		t.Fatal(err)
	}
	unclean, prev := s.Unclean()
	if !unclean || prev != last {
		t.Fatalf("after a crash Unclean = %t, %d; want true, %d", unclean, prev, last)
	}
	if got, _ := s.Next(); got != last+1 {
		t.Fatalf("after a crash Next = %d, want %d", got, last+1)
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
	s.f.Close() // the disk went away
	n, err := s.Next()
	if err == nil || n != 1 {
		t.Fatalf("Next = %d, %v; want 1 and an error", n, err)
	}
	if n2, _ := s.Next(); n2 != 2 {
		t.Fatalf("Next = %d, want 2", n2)
	}
}
