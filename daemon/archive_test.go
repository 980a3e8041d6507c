package daemon

import (
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
)

type eventLog struct {
	mu sync.Mutex
	ev []actuate.Event
}

func (l *eventLog) add(e actuate.Event) { l.mu.Lock(); l.ev = append(l.ev, e); l.mu.Unlock() }
func (l *eventLog) find(kind, substr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.ev {
		if e.Kind == kind && strings.Contains(e.Msg, substr) {
			return true
		}
	}
	return false
}

func testImage(w, h int) *infer.Image {
	img := &infer.Image{W: w, H: h, Pix: make([]float32, 3*w*h)}
	for i := range img.Pix {
		img.Pix[i] = float32(i%97) / 97
	}
	return img
}

func ngVerdict(seq uint64) *record {
	img := testImage(64, 64)
	dec := Rule{}.Decide(nil, "deadline: test")
	return &record{msg: actuate.Verdict{Camera: "cam1", Seq: seq, Verdict: dec.Verdict, Reject: dec.Reject, Reason: dec.Reason,
		Score: dec.Score, Threshold: dec.Threshold, Captured: time.Now()}, img: img, frame: img.ToRGBA()}
}

func dirSize(t *testing.T, dir string) (total int64, files int) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			info, _ := d.Info()
			total += info.Size()
			files++
		}
		return nil
	})
	return
}

// The archive keeps the newest files within its size cap.
func TestArchiveRotatesWithinCap(t *testing.T) {
	dir := t.TempDir()
	var ev eventLog
	const cap = 20 << 10
	a := newArchive(config.Archive{Enabled: true, Dir: dir, MaxBytes: cap, Keep: "fail"}, slog.Default(), ev.add)
	for i := uint64(1); i <= 40; i++ {
		a.offer(ngVerdict(i))
		time.Sleep(2 * time.Millisecond) // let the writer keep up; skipping is tested elsewhere
	}
	a.close()
	total, files := dirSize(t, dir)
	if total > cap || files == 0 {
		t.Fatalf("archive holds %d bytes in %d files; cap %d", total, files, cap)
	}
	if _, err := os.Stat(filepath.Join(dir, "cam1", time.Now().UTC().Format("20060102"), "0000000040-error.json")); err != nil {
		t.Fatalf("newest verdict not archived: %v", err)
	}
	if ev.find("archive", "paused") {
		t.Fatal("archive paused without a write error")
	}
}

// A write error pauses archiving with a warning event and resumes later.
func TestArchivePausesOnWriteError(t *testing.T) {
	base := t.TempDir()
	blocker := filepath.Join(base, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	defer func(d time.Duration) { archiveRetry = d }(archiveRetry)
	archiveRetry = 50 * time.Millisecond
	var ev eventLog
	// A directory below a regular file cannot be created, even by root.
	a := newArchive(config.Archive{Enabled: true, Dir: filepath.Join(blocker, "archive"), MaxBytes: 1 << 20, Keep: "fail"}, slog.Default(), ev.add)
	a.offer(ngVerdict(1))
	waitFor(t, func() bool { return ev.find("archive", "paused") })
	if _, _, paused := a.usage(); !paused {
		t.Fatal("archive not paused after a write error")
	}
	if err := os.Remove(blocker); err != nil { // the operator clears the fault
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	a.offer(ngVerdict(2))
	waitFor(t, func() bool { return ev.find("archive", "resumed") })
	a.close()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
