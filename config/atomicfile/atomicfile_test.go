package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entries lists dir's names.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteReplacesWholeFileAndSyncsDirectory(t *testing.T) {
	var synced []string
	syncDir = func(dir string) error { synced = append(synced, dir); return SyncDir(dir) }
	t.Cleanup(func() { syncDir = SyncDir })

	dir := t.TempDir()
	path := filepath.Join(dir, "seq")
	if err := WriteFile(path, []byte("old\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 1<<18) // larger than the write buffer
	err := Write(path, 0o640, func(w io.Writer) error {
		// While the new content is written, the path still holds the old.
		if _, err := io.WriteString(w, big); err != nil {
			return err
		}
		if got := read(t, path); got != "old\n" {
			t.Errorf("during the write the path holds %d bytes, want the old file", len(got))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, path); got != big {
		t.Fatalf("after the write: %d bytes, want %d", len(got), len(big))
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", st.Mode().Perm())
	}
	if names := entries(t, dir); len(names) != 1 || names[0] != "seq" {
		t.Errorf("directory holds %v, want only seq", names)
	}
	if len(synced) != 2 || synced[0] != dir || synced[1] != dir {
		t.Errorf("directory syncs %v, want %s twice", synced, dir)
	}
}

func TestWriteFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bank")
	if err := WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("encoder failed")
	err := Write(path, 0o600, func(w io.Writer) error {
		io.WriteString(w, strings.Repeat("half", 1<<16))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want %v", err, boom)
	}
	if got := read(t, path); got != "old" {
		t.Errorf("after a failed write the path holds %q, want the old content", got)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("a failed write left %v", names)
	}
}

func TestWriteRenameFailureRemovesTemporary(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "busy")
	if err := os.Mkdir(path, 0o755); err != nil { // a directory cannot be replaced by a file
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(path, "x"), nil, 0o644)
	if err := WriteFile(path, []byte("new"), 0o644); err == nil {
		t.Fatal("replacing a non-empty directory succeeded")
	}
	if names := entries(t, dir); len(names) != 1 || names[0] != "busy" {
		t.Errorf("directory holds %v, want only busy", names)
	}
}

func TestWriteFileNoSyncSkipsDirectorySync(t *testing.T) {
	called := false
	syncDir = func(string) error { called = true; return nil }
	t.Cleanup(func() { syncDir = SyncDir })
	path := filepath.Join(t.TempDir(), "entry")
	if err := WriteFileNoSync(path, []byte("msg"), 0o640); err != nil {
		t.Fatal(err)
	}
	if got := read(t, path); got != "msg" {
		t.Errorf("content %q", got)
	}
	if called {
		t.Error("WriteFileNoSync synced the directory")
	}
}

func TestWriteMissingDirectory(t *testing.T) {
	if err := WriteFile(filepath.Join(t.TempDir(), "no", "such"), nil, 0o644); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}
