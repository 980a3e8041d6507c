package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/samlad/samlad/config/atomicfile"
)

// sequence hands out a camera's verdict sequence numbers. Numbers persist
// across restarts in one small file per camera, written (and synced) before
// each number is handed out, so that the file always holds the exact next
// number: a crash skips no number and reuses none. The frames admitted but
// not yet published when a process dies are then exactly the numbers after
// the last verdict a subscriber received (docs/reliability.md). A clean
// stop marks the file "stopped"; a file without the mark was left by a
// crash, which the daemon reports as a restart event.
type sequence struct {
	mu   sync.Mutex
	path string
	f    *os.File // open for the in-place writes; nil after Close
	next uint64   // next number to hand out
	// unclean is set when the file was left by a process that did not
	// stop cleanly; last is then the last number it handed out.
	unclean bool
}

// seqStopped marks a sequence file written by a clean stop.
const seqStopped = "stopped"

// openSequence reads (or creates) the counter file for camera in dir.
func openSequence(dir, camera string) (*sequence, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("sequence state dir %s: %w (set [daemon] state_dir to a writable directory)", dir, err)
	}
	s := &sequence{path: filepath.Join(dir, "seq-"+camera)}
	b, err := os.ReadFile(s.path)
	switch {
	case err == nil:
		fields := strings.Fields(string(b))
		var perr error = errors.New("empty")
		if len(fields) >= 1 && len(fields) <= 2 {
			s.next, perr = strconv.ParseUint(fields[0], 10, 64)
		}
		if perr != nil || (len(fields) == 2 && fields[1] != seqStopped) {
			return nil, fmt.Errorf("sequence file %s is corrupt (%q): fix or remove it; removing restarts the sequence at 1", s.path, b)
		}
		s.unclean = len(fields) == 1
	case os.IsNotExist(err):
		s.next = 1
	default:
		return nil, fmt.Errorf("read sequence file %s: %w", s.path, err)
	}
	// Rewritten atomically without the mark: from now on a crash leaves
	// the file unmarked.
	if err := writeAtomic(s.path, strconv.FormatUint(s.next, 10)); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("open sequence file %s: %w", s.path, err)
	}
	s.f = f
	return s, nil
}

// Unclean reports whether the previous process stopped without Close, and
// the last number it handed out.
func (s *sequence) Unclean() (bool, uint64) { return s.unclean, s.next - 1 }

// Next records the number after the one it returns, then returns it. When
// the record cannot be written the number is still returned (it is unique
// within this run, and a frame must not lose its verdict over a state
// file), together with the error.
func (s *sequence) Next() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.next
	s.next++
	return n, s.record(s.next)
}

// record overwrites the file in place with n, padded to a fixed width so
// that one small write replaces the whole content, and syncs it.
func (s *sequence) record(n uint64) error {
	if s.f == nil {
		return fmt.Errorf("persist sequence %s: file not open", s.path)
	}
	if _, err := s.f.WriteAt([]byte(fmt.Sprintf("%-20d\n", n)), 0); err != nil {
		return fmt.Errorf("persist sequence %s: %w", s.path, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("persist sequence %s: %w", s.path, err)
	}
	return nil
}

// Close records the exact next number with the clean-stop mark.
func (s *sequence) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	return writeAtomic(s.path, strconv.FormatUint(s.next, 10)+" "+seqStopped)
}

// writeAtomic replaces path with content, so that the file is never seen
// half-written after a crash.
func writeAtomic(path string, content string) error {
	if err := atomicfile.WriteFile(path, []byte(content+"\n"), 0o600); err != nil {
		return fmt.Errorf("persist sequence %s: %w", path, err)
	}
	return nil
}
