package daemon

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/samlad/samlad/actuate/mqtttest"
)

// rssBytes reads the resident set size of process pid.
func rssBytes(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		t.Skipf("no /proc/%d/statm: %v", pid, err)
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func soakFrames(t *testing.T) int {
	frames := 300
	if s := os.Getenv("SAMLAD_SOAK_FRAMES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 {
			t.Fatalf("SAMLAD_SOAK_FRAMES=%q: want a number >= 100", s)
		}
		frames = n
	}
	return frames
}

// The built binary on a free-running camera at 60 fps for SAMLAD_SOAK_FRAMES
// frames (300 by default; set 5000 or more for a real soak): after warm-up
// (a fifth of the frames) its resident memory stays within 10% and its
// thread count stays put, every frame has its verdict in order, and it
// stops cleanly.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	frames := soakFrames(t)
	replay, bankA, _ := testFixture(t)
	bin := samladBinary(t)
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, prefix+"/cam1/verdict", mqtttest.RecorderOptions{})
	dir := t.TempDir()
	path := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: replay, loop: true, trigger: "free", rate: 60, queueDepth: 8}.write(t, dir)
	notify := listenNotify(t)
	p := startProc(t, bin, path, notify)
	p.waitReady(t, notify)
	pid := p.cmd.Process.Pid

	rec.Wait("", frames/5, 5*time.Minute)
	rss0, th0 := rssBytes(t, pid), threads(t, pid)
	rec.Wait("", frames, time.Duration(frames)*time.Second)
	rss1, th1 := rssBytes(t, pid), threads(t, pid)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit code %d; log:\n%s", code, p.out)
	}

	vs := verdicts(t, rec.Messages(""))
	checkOrder(t, vs)
	kinds := map[string]int{}
	for _, v := range vs {
		kinds[v.Verdict]++
	}
	t.Logf("%d frames at 60 fps: %v; RSS %.1f -> %.1f MiB and threads %d -> %d after warm-up",
		len(vs), kinds, float64(rss0)/(1<<20), float64(rss1)/(1<<20), th0, th1)
	if float64(rss1) > 1.10*float64(rss0) {
		t.Errorf("RSS grew from %d to %d bytes (> 10%%)", rss0, rss1)
	}
	if th1 > th0+2 {
		t.Errorf("threads grew from %d to %d", th0, th1)
	}
}

func threads(t *testing.T, pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc/%d/status: %v", pid, err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// In process, stopping the daemon leaves no goroutine of its own behind.
func TestNoGoroutineLeak(t *testing.T) {
	replay, bankA, _ := testFixture(t)
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, prefix+"/cam1/verdict", mqtttest.RecorderOptions{})
	runtime.GC()
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	path := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: replay, loop: true, trigger: "free", rate: 60, queueDepth: 8}.write(t, dir)
	r := startDaemon(t, path, nil)
	rec.Wait("", 60, time.Minute)
	r.stop(t)
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before the daemon, %d after it stopped:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}
