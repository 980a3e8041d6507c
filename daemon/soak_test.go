package daemon

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/actuate/mqtttest"
)

// rssBytes reads the resident set size of this process.
func rssBytes(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// A free-running camera for SAMLAD_SOAK_FRAMES frames (300 by default; set
// it to 5000 or more for a real soak): after warm-up the goroutine count
// stays put and the resident memory stays within 10%, and every frame has
// its verdict in order.
func TestSoak(t *testing.T) {
	frames := 300
	if s := os.Getenv("SAMLAD_SOAK_FRAMES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 {
			t.Fatalf("SAMLAD_SOAK_FRAMES=%q: want a number >= 100", s)
		}
		frames = n
	}
	replay, bankA, _ := testFixture(t)
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, prefix+"/cam1/verdict", mqtttest.RecorderOptions{})
	dir := t.TempDir()
	path := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: replay, loop: true, trigger: "free", rate: 60, queueDepth: 8}.write(t, dir)
	r := startDaemon(t, path, nil)

	warm := frames / 5
	rec.Wait("", warm, 5*time.Minute)
	runtime.GC()
	g0, rss0 := runtime.NumGoroutine(), rssBytes(t)
	rec.Wait("", frames, time.Duration(frames)*time.Second)
	runtime.GC()
	g1, rss1 := runtime.NumGoroutine(), rssBytes(t)
	r.stop(t)

	vs := verdicts(t, rec.Messages(""))
	checkOrder(t, vs)
	kinds := map[string]int{}
	for _, v := range vs {
		kinds[v.Verdict]++
	}
	t.Logf("%d frames: %v; goroutines %d -> %d; RSS %.1f -> %.1f MiB after warm-up", len(vs), kinds, g0, g1, float64(rss0)/(1<<20), float64(rss1)/(1<<20))
	if g1 > g0+3 {
		t.Errorf("goroutines grew from %d to %d", g0, g1)
	}
	if float64(rss1) > 1.10*float64(rss0) {
		t.Errorf("RSS grew from %d to %d bytes (> 10%%)", rss0, rss1)
	}
	if kinds[actuate.Error] > 0 {
		t.Logf("note: %d error verdicts at 60 fps on this machine (overload is reported, not hidden)", kinds[actuate.Error])
	}
}
