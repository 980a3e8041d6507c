package daemon

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/config"
)

// archiveQueue bounds the verdicts waiting to be written. The archive is a
// convenience for engineers, never on the verdict path: when it falls behind,
// items are skipped and counted, and inspection is not slowed.
const archiveQueue = 16

// archiveRetry is how long archiving stays paused after a write error before
// it tries again.
var archiveRetry = 30 * time.Second

// archiveFile is one file the archive wrote, for rotation.
type archiveFile struct {
	path string
	size int64
	mod  time.Time
}

// archive saves NG frames (frame JPEG, heatmap PNG, verdict JSON) under
// Dir/<camera>/<date>/ and deletes the oldest files beyond MaxBytes.
// A write error (full disk, permissions) pauses it with a published warning.
type archive struct {
	cfg   config.Archive
	log   *slog.Logger
	event func(actuate.Event)
	in    chan *record
	done  chan struct{}

	inMu   sync.RWMutex // an offer racing close (on reload) must not send on a closed channel
	closed bool

	mu          sync.Mutex
	files       []archiveFile // oldest first
	total       int64
	pausedUntil time.Time
	paused      bool
	skipped     uint64
}

// newArchive returns nil (archiving off) unless cfg.Enabled.
func newArchive(cfg config.Archive, log *slog.Logger, event func(actuate.Event)) *archive {
	if !cfg.Enabled {
		return nil
	}
	a := &archive{cfg: cfg, log: log.With("part", "archive"), event: event, in: make(chan *record, archiveQueue), done: make(chan struct{})}
	a.scan()
	go a.run()
	return a
}

// scan learns what an earlier run left in the folder, so the cap holds across restarts.
func (a *archive) scan() {
	filepath.WalkDir(a.cfg.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			a.files = append(a.files, archiveFile{p, info.Size(), info.ModTime()})
			a.total += info.Size()
		}
		return nil
	})
	slices.SortFunc(a.files, func(x, y archiveFile) int { return x.mod.Compare(y.mod) })
}

// offer hands a verdict to the archive without blocking.
func (a *archive) offer(v *record) {
	if a == nil || v.frame == nil || (a.cfg.Keep != "all" && v.msg.Verdict == actuate.Pass) {
		return
	}
	a.inMu.RLock()
	defer a.inMu.RUnlock()
	if a.closed {
		return
	}
	select {
	case a.in <- v:
	default:
		a.mu.Lock()
		a.skipped++
		a.mu.Unlock()
	}
}

// close stops the writer after the queued items.
func (a *archive) close() {
	if a == nil {
		return
	}
	a.inMu.Lock()
	a.closed = true
	close(a.in)
	a.inMu.Unlock()
	<-a.done
}

func (a *archive) run() {
	defer close(a.done)
	for v := range a.in {
		a.mu.Lock()
		paused, until := a.paused, a.pausedUntil
		a.mu.Unlock()
		if paused && time.Now().Before(until) {
			a.mu.Lock()
			a.skipped++
			a.mu.Unlock()
			continue
		}
		err := a.save(v)
		a.mu.Lock()
		switch {
		case err != nil:
			a.pausedUntil = time.Now().Add(archiveRetry)
			if !a.paused {
				a.paused = true
				a.mu.Unlock()
				msg := fmt.Sprintf("archive paused for %v, inspection continues: %v", archiveRetry, err)
				a.log.Warn(msg)
				a.event(actuate.Event{Camera: v.msg.Camera, Level: actuate.LevelWarn, Kind: "archive", Msg: msg})
				continue
			}
		case paused:
			a.paused = false
			a.mu.Unlock()
			a.log.Info("archive resumed")
			a.event(actuate.Event{Camera: v.msg.Camera, Level: actuate.LevelInfo, Kind: "archive", Msg: "archive resumed"})
			continue
		}
		a.mu.Unlock()
	}
}

// save writes one verdict's files, then rotates.
func (a *archive) save(v *record) error {
	dir := filepath.Join(a.cfg.Dir, v.msg.Camera, v.msg.Captured.UTC().Format("20060102"))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("archive dir %s: %w", dir, err)
	}
	base := filepath.Join(dir, fmt.Sprintf("%010d-%s", v.msg.Seq, v.msg.Verdict))
	parts := []struct {
		ext    string
		encode func(*record) ([]byte, error)
	}{{".jpg", encodeFrameJPEG}, {".heat.png", encodeHeatmapPNG}, {".json", encodeVerdictJSON}}
	for _, p := range parts {
		b, err := p.encode(v)
		if err != nil {
			return fmt.Errorf("archive %s: %w", base+p.ext, err)
		}
		if b == nil {
			continue // nothing to write (no anomaly map for an error verdict)
		}
		if err := os.WriteFile(base+p.ext, b, 0o640); err != nil {
			os.Remove(base + p.ext)
			return fmt.Errorf("archive %s: %w", base+p.ext, err)
		}
		a.mu.Lock()
		a.files = append(a.files, archiveFile{base + p.ext, int64(len(b)), time.Now()})
		a.total += int64(len(b))
		a.mu.Unlock()
	}
	a.rotate()
	return nil
}

// rotate deletes the oldest files until the archive fits in MaxBytes.
func (a *archive) rotate() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.total > a.cfg.MaxBytes && len(a.files) > 0 {
		f := a.files[0]
		a.files = a.files[1:]
		a.total -= f.size
		if err := os.Remove(f.path); err != nil && !os.IsNotExist(err) {
			a.log.Warn("archive rotation", "file", f.path, "err", err)
		}
		// Drop the day folder once it is empty; failure just means it is not.
		if d := filepath.Dir(f.path); strings.HasPrefix(d, a.cfg.Dir) && d != a.cfg.Dir {
			os.Remove(d)
		}
	}
}

// usage returns the bytes held and the items skipped, for tests and stats.
func (a *archive) usage() (total int64, skipped uint64, paused bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.total, a.skipped, a.paused
}
