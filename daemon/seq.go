package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// seqBlock is how many sequence numbers are reserved on disk at a time. A
// crash (SIGKILL, power loss) skips at most this many numbers and never
// reuses one; a clean stop records the exact next number, so it skips none.
const seqBlock = 1000

// sequence hands out a camera's verdict sequence numbers. Numbers persist
// across restarts in one small file per camera: the file always holds a
// number no lower than any number already handed out.
type sequence struct {
	mu       sync.Mutex
	path     string
	next     uint64 // next number to hand out
	reserved uint64 // numbers below this are covered by the file
}

// openSequence reads (or creates) the counter file for camera in dir.
func openSequence(dir, camera string) (*sequence, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("sequence state dir %s: %w (set [daemon] state_dir to a writable directory)", dir, err)
	}
	s := &sequence{path: filepath.Join(dir, "seq-"+camera)}
	b, err := os.ReadFile(s.path)
	switch {
	case err == nil:
		n, perr := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if perr != nil {
			return nil, fmt.Errorf("sequence file %s is corrupt (%q): fix or remove it; removing restarts the sequence at 1", s.path, b)
		}
		s.next = n
	case os.IsNotExist(err):
		s.next = 1
	default:
		return nil, fmt.Errorf("read sequence file %s: %w", s.path, err)
	}
	s.reserved = s.next
	return s, nil
}

// Next returns the next sequence number, reserving a new block on disk first
// when the current one is used up. When the reservation cannot be written the
// number is still returned (it is unique within this run, and a frame must
// not lose its verdict over a state file), together with the error.
func (s *sequence) Next() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.next >= s.reserved {
		if err = writeAtomic(s.path, s.next+seqBlock); err == nil {
			s.reserved = s.next + seqBlock
		}
	}
	n := s.next
	s.next++
	return n, err
}

// Close records the exact next number, so a clean restart leaves no gap.
func (s *sequence) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := writeAtomic(s.path, s.next); err != nil {
		return err
	}
	s.reserved = s.next
	return nil
}

// writeAtomic replaces path with n via write, fsync, rename and a directory
// fsync, so that the file is never seen half-written after a crash.
func writeAtomic(path string, n uint64) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("persist sequence %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.WriteString(strconv.FormatUint(n, 10) + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("persist sequence %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("persist sequence %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("persist sequence %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("persist sequence %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
