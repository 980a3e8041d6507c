package daemon

import (
	"fmt"
	"os"
	"runtime"
	"sort"
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

// rssAnonBytes reads the anonymous part of process pid's resident set
// (RssAnon: heap, C allocations, stacks). A leak grows it; the file-backed
// part (shared libraries' code) is left out, because the kernel evicts and
// reloads those pages under memory pressure from other processes.
func rssAnonBytes(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc/%d/status: %v", pid, err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "RssAnon:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Skipf("no RssAnon in /proc/%d/status", pid)
	return 0
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

// soakLimitKiB is the growth of anonymous RSS TestSoak allows, in KiB per
// 1,000 frames, as the robust (Theil-Sen) slope against frames after
// warm-up, midway between what a bounded daemon and the injected leak
// measure on a loaded machine (docs/reliability.md: at most +3.2 MiB per
// 1,000 frames bounded, at least +8.0 with the leak, whose heap goal grows
// with it).
const soakLimitKiB = 4608

// soakWarmup is how many frames pass before RSS is sampled: the engine,
// the outgoing store, paho and the GC reach their working sizes.
const soakWarmup = 600

// soakSample is one RSS reading at a frame count.
type soakSample struct {
	frames int
	rss    int64
}

// soakFloorWindow is how many consecutive samples one floor point takes
// its minimum over.
const soakFloorWindow = 15

// floors is the lower envelope of the samples: the smallest RSS of each
// window of n consecutive ones. Between collections RSS saws up and down by
// more than a run's leak, and on a loaded machine the collections come at
// other times, so raw samples give slopes of several MiB per 1,000 frames
// with nothing leaking; what a collection leaves, the floor, only rises
// with memory that stays alive.
func floors(s []soakSample, n int) []soakSample {
	var out []soakSample
	for i := 0; i < len(s); i += n {
		lo := s[i]
		for _, x := range s[i:min(i+n, len(s))] {
			if x.rss < lo.rss {
				lo = x
			}
		}
		out = append(out, lo)
	}
	return out
}

// theilSen is the median of the slopes between every pair of samples, in
// KiB per 1,000 frames.
func theilSen(s []soakSample) float64 {
	var slopes []float64
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if df := s[j].frames - s[i].frames; df > 0 {
				slopes = append(slopes, float64(s[j].rss-s[i].rss)/1024/float64(df)*1000)
			}
		}
	}
	if len(slopes) == 0 {
		return 0
	}
	sort.Float64s(slopes)
	return slopes[len(slopes)/2]
}

type soakResult struct {
	frames     int
	slope      float64 // KiB per 1,000 frames
	samples    []soakSample
	th0, th1   int
	kinds      map[string]int
	rssFirst   int64
	rssLast    int64
	rssMaxSeen int64
}

// runSoak runs bin on a free-running camera at 60 fps for frames frames and
// samples its anonymous RSS about 180 times after warm-up.
func runSoak(t *testing.T, bin string, frames int) soakResult {
	replay, bankA, _ := testFixture(t)
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, prefix+"/cam1/verdict", mqtttest.RecorderOptions{})
	dir := t.TempDir()
	path := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: replay, loop: true, trigger: "free", rate: 60, queueDepth: 8}.write(t, dir)
	notify := listenNotify(t)
	// A tighter GC shrinks the sawtooth of RSS between collections from
	// ~10 MiB to a few, so that the slope shows what stays alive; a leak
	// grows RSS under any GOGC.
	p := startProc(t, bin, path, notify, "GOGC=25")
	p.waitReady(t, notify)
	pid := p.cmd.Process.Pid

	warm := min(soakWarmup, frames/2)
	rec.Wait("", warm, 5*time.Minute)
	r := soakResult{frames: frames, th0: threads(t, pid), kinds: map[string]int{}}
	step := max((frames-warm)/180, 1)
	for n := warm; n <= frames; n += step {
		rec.Wait("", n, time.Duration(frames)*time.Second)
		r.samples = append(r.samples, soakSample{len(rec.Messages("")), rssAnonBytes(t, pid)})
	}
	r.th1 = threads(t, pid)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit code %d; log:\n%s", code, p.out)
	}
	vs := verdicts(t, rec.Messages(""))
	checkOrder(t, vs)
	for _, v := range vs {
		r.kinds[v.Verdict]++
	}
	r.slope = theilSen(floors(r.samples, soakFloorWindow))
	r.rssFirst, r.rssLast = r.samples[0].rss, r.samples[len(r.samples)-1].rss
	for _, s := range r.samples {
		r.rssMaxSeen = max(r.rssMaxSeen, s.rss)
	}
	t.Logf("%d frames at 60 fps: %v; %d anonymous RSS samples after %d warm-up frames: %.1f -> %.1f MiB (max %.1f), slope %+.0f KiB per 1,000 frames (limit %d); threads %d -> %d",
		len(vs), r.kinds, len(r.samples), warm, mib(r.rssFirst), mib(r.rssLast), mib(r.rssMaxSeen), r.slope, soakLimitKiB, r.th0, r.th1)
	if testing.Verbose() {
		var b strings.Builder
		for _, s := range r.samples {
			fmt.Fprintf(&b, " %d:%.1f", s.frames, mib(s.rss))
		}
		t.Logf("anonymous RSS MiB by frame:%s", b.String())
	}
	return r
}

// soakFailures says what a soak result breaks: RSS growing faster than
// soakLimitKiB per 1,000 frames, or threads growing.
func soakFailures(r soakResult) []string {
	var out []string
	if r.slope >= soakLimitKiB {
		out = append(out, fmt.Sprintf("anonymous RSS grows %.0f KiB per 1,000 frames after warm-up (limit %d): a leak", r.slope, soakLimitKiB))
	}
	if r.th1 > r.th0+2 {
		out = append(out, fmt.Sprintf("threads grew from %d to %d", r.th0, r.th1))
	}
	return out
}

func soakLength(t *testing.T) int {
	if os.Getenv("SAMLAD_SOAK_FRAMES") != "" {
		return soakFrames(t)
	}
	return 2400
}

// The built binary on a free-running camera at 60 fps for 2,400 frames
// (SAMLAD_SOAK_FRAMES in `make soak`): after a warm-up of 600 frames its
// anonymous RSS, sampled 180 times, grows less than soakLimitKiB per 1,000 frames
// (Theil-Sen slope: single readings are at the mercy of GC), its threads
// stay put, every frame has its verdict in order, and it stops cleanly.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	r := runSoak(t, samladBinary(t), soakLength(t))
	for _, f := range soakFailures(r) {
		t.Error(f)
	}
}

// The same soak on a binary built with -tags samlad_leak, which keeps 5 MiB
// per 1,000 frames alive (leakhook_samlad_leak.go): the check must catch it.
func TestSoakCatchesInjectedLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	r := runSoak(t, samladBinaryTags(t, "samlad_leak"), soakLength(t))
	f := soakFailures(r)
	if len(f) == 0 {
		t.Fatalf("an injected leak of 5 MiB per 1,000 frames passed the soak check (slope %.0f KiB per 1,000 frames)", r.slope)
	}
	t.Logf("caught: %s", strings.Join(f, "; "))
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
