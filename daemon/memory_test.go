package daemon

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/samlad/samlad/actuate/mqtttest"
	"github.com/samlad/samlad/capture"
	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
)

// TestMemoryAt224 measures the built daemon's resident memory at the
// default engine and input size (builtin, 224 px) and the default [daemon]
// settings, on generated bag scenes: MQTT triggers at 5 per second, then at
// twice the rate the engine sustains on this machine. It writes the
// figures the README quotes to the Markdown file SAMLAD_MEMORY_REPORT names
// (`make memory` writes docs/results/memory-224.md) and is skipped
// otherwise. It asserts nothing about the figures: they are this
// machine's, under whatever load it has.
func TestMemoryAt224(t *testing.T) {
	out := os.Getenv("SAMLAD_MEMORY_REPORT")
	if out == "" {
		t.Skip("set SAMLAD_MEMORY_REPORT to the report file (make memory) to measure")
	}
	const size, phase = 224, 20 * time.Second
	dir := t.TempDir()
	split := filepath.Join(dir, "split")
	if _, err := scenes.WriteSplit(split, scenes.SplitOptions{Kind: scenes.Bag, Layout: scenes.MVTecAD, Size: size, Seed: 7, TrainGood: 10, TestGood: 6, TestPerType: 1}); err != nil {
		t.Fatal(err)
	}
	replay := filepath.Join(dir, "replay")
	os.MkdirAll(replay, 0o755)
	test, _ := filepath.Glob(filepath.Join(split, "test", "*", "*.png"))
	for _, p := range test {
		if err := copyFile(p, filepath.Join(replay, filepath.Base(filepath.Dir(p))+"_"+filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Default()
	bank := filepath.Join(dir, "bag.bank")
	eng := &engines{}
	if err := eng.Enroll(cfg, filepath.Join(split, "train", "good"), bank); err != nil {
		t.Fatal(err)
	}
	// The rate the engine sustains: daemon workers over the mean time of
	// one inspection (after one warm-up inspection).
	insp, _, err := eng.NewInspector(cfg, bank)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(test[0])
	img, err := capture.DecodeImage(data)
	if err != nil {
		t.Fatal(err)
	}
	insp.Inspect(context.Background(), infer.FromImage(img, size))
	start := time.Now()
	for range 5 {
		insp.Inspect(context.Background(), infer.FromImage(img, size))
	}
	perFrame := time.Since(start) / 5
	dc := config.DefaultDaemon()
	sustained := float64(dc.Workers) / perFrame.Seconds()

	bin := samladBinary(t)
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, prefix+"/cam1/verdict", mqtttest.RecorderOptions{})
	path := testConfig{broker: b.URL, stateDir: dir, bank: bank, replay: replay, loop: true, trigger: "software",
		deadline: dc.Deadline.D().String(), queueDepth: dc.QueueDepth, workers: dc.Workers,
		pipeline: fmt.Sprintf("[pipeline]\ninput_size = %d\n\n", size)}.write(t, dir)
	notify := listenNotify(t)
	p := startProc(t, bin, path, notify)
	p.waitReady(t, notify)
	pid := p.cmd.Process.Pid
	idle := rssBytes(t, pid)

	plc := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL).SetClientID("plc-memory"))
	if tok := plc.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer plc.Disconnect(100)

	type row struct {
		name           string
		rate           float64
		sent           int
		kinds          map[string]int
		lo, med, hi    float64
		samples, first int
	}
	run := func(name string, rate float64) row {
		r := row{name: name, rate: rate, kinds: map[string]int{}, first: len(rec.Messages(""))}
		var mu sync.Mutex
		var rss []int64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					mu.Lock()
					rss = append(rss, rssBytes(t, pid))
					mu.Unlock()
				}
			}
		}()
		end := time.Now().Add(phase)
		tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
		for time.Now().Before(end) {
			<-tick.C
			plc.Publish(prefix+"/cam1/trigger/set", 1, false, fmt.Sprintf("%s-%d", name, r.sent))
			r.sent++
		}
		tick.Stop()
		rec.Wait("", r.first+r.sent, time.Minute)
		close(stop)
		<-done
		for _, v := range verdicts(t, rec.Messages(""))[r.first:] {
			k := v.Verdict
			if v.Verdict == "error" {
				reason, _, _ := strings.Cut(v.Reason, ":")
				k = "error (" + reason + ")"
			}
			r.kinds[k]++
		}
		slices.Sort(rss)
		r.samples = len(rss)
		r.lo, r.med, r.hi = mib(rss[0]), mib(rss[len(rss)/2]), mib(rss[len(rss)-1])
		return r
	}
	rows := []row{run("steady", 5), run("overload", 2*sustained)}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit code %d; log:\n%s", code, p.out)
	}

	commit, _ := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	var md strings.Builder
	fmt.Fprintf(&md, "# samlad resident memory at 224 px\n\n")
	fmt.Fprintf(&md, "Generated by `make memory` (`TestMemoryAt224` in daemon/memory_test.go) at commit %s on %s; do not edit by hand.\n\n",
		strings.TrimSpace(string(commit)), time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&md, "The built `samlad` binary with the default engine (`%s`, %d px) and the default `[daemon]` settings (deadline %v, queue_depth %d, workers %d), one software-triggered camera replaying %d generated bag scenes, triggers over MQTT (QoS 1) for %v per phase, RSS read from /proc every 100 ms. Machine: %d CPUs (GOMAXPROCS %d), %s; shared with other builds, so rates and latencies are this machine's under its load.\n\n",
		cfg.Pipeline.Backend, size, dc.Deadline.D(), dc.QueueDepth, dc.Workers, len(test), phase, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Fprintf(&md, "One inspection took %.1f ms here, so %d workers sustain about %.1f frames/s; the overload phase triggers at twice that.\n\n", float64(perFrame.Microseconds())/1000, dc.Workers, sustained)
	fmt.Fprintf(&md, "RSS after start, before the first trigger: %.1f MiB.\n\n", mib(idle))
	fmt.Fprintf(&md, "| phase | triggers/s | triggers | verdicts | RSS min | RSS median | RSS max |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		var ks []string
		for _, k := range slices.Sorted(maps.Keys(r.kinds)) {
			ks = append(ks, fmt.Sprintf("%d %s", r.kinds[k], k))
		}
		fmt.Fprintf(&md, "| %s | %.1f | %d | %s | %.1f MiB | %.1f MiB | %.1f MiB |\n", r.name, r.rate, r.sent, strings.Join(ks, ", "), r.lo, r.med, r.hi)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, []byte(md.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s:\n%s", out, md.String())
}
