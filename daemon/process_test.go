package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/actuate/mqtttest"
	"github.com/samlad/samlad/config"
)

// buildBinary builds cmd/samlad once per test run.
var binary struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// samladBinaryTags builds cmd/samlad with build tags (a test-only variant),
// once per tag set per test run.
var tagged sync.Map // tags -> *taggedBinary

type taggedBinary struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

func samladBinaryTags(t *testing.T, tags string) string {
	t.Helper()
	v, _ := tagged.LoadOrStore(tags, &taggedBinary{})
	tb := v.(*taggedBinary)
	tb.once.Do(func() {
		dir, err := os.MkdirTemp("", "samlad-bin-")
		if err != nil {
			tb.err = err
			return
		}
		tb.path = filepath.Join(dir, "samlad") // removed by TestMain
		gobin, err := exec.LookPath("go")
		if err != nil {
			gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		cmd := exec.Command(gobin, "build", "-tags", tags, "-o", tb.path, "./cmd/samlad")
		cmd.Dir = ".."
		tb.out, tb.err = cmd.CombinedOutput()
	})
	if tb.err != nil {
		t.Fatalf("go build -tags %s ./cmd/samlad: %v\n%s", tags, tb.err, tb.out)
	}
	return tb.path
}

func samladBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "samlad-bin-")
		if err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(dir, "samlad")
		gobin, err := exec.LookPath("go")
		if err != nil {
			gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		cmd := exec.Command(gobin, "build", "-o", binary.path, "./cmd/samlad")
		cmd.Dir = ".."
		binary.out, binary.err = cmd.CombinedOutput()
	})
	if binary.err != nil {
		t.Fatalf("go build ./cmd/samlad: %v\n%s", binary.err, binary.out)
	}
	return binary.path
}

// notifySocket collects sd_notify datagrams as systemd would.
type notifySocket struct {
	path string
	conn *net.UnixConn
	mu   sync.Mutex
	msgs []string
}

func listenNotify(t *testing.T) *notifySocket {
	t.Helper()
	n := &notifySocket{path: filepath.Join(t.TempDir(), "notify.sock")}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: n.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	n.conn = conn
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			n.msgs = append(n.msgs, string(buf[:k]))
			n.mu.Unlock()
		}
	}()
	return n
}

func (n *notifySocket) count(msg string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, m := range n.msgs {
		if strings.Contains(m, msg) {
			c++
		}
	}
	return c
}

type proc struct {
	cmd    *exec.Cmd
	out    *bytes.Buffer
	exited chan error
}

func startProc(t *testing.T, bin, config string, notify *notifySocket, env ...string) *proc {
	t.Helper()
	p := &proc{out: &bytes.Buffer{}, exited: make(chan error, 1)}
	p.cmd = exec.Command(bin, "run", "--config", config)
	p.cmd.Env = append(append(os.Environ(), "NOTIFY_SOCKET="+notify.path, "WATCHDOG_USEC=300000"), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// waitReady waits for READY=1, failing with the daemon's log if it exits
// or does not get ready within 60 s.
func (p *proc) waitReady(t *testing.T, notify *notifySocket) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for notify.count("READY=1") == 0 {
		select {
		case err := <-p.exited:
			p.exited <- err
			t.Fatalf("samlad exited before READY=1 (%v); log:\n%s", err, p.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no READY=1 within 60s; log:\n%s", p.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-p.exited:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(30 * time.Second):
		t.Fatalf("samlad did not exit within 30s; log:\n%s", p.out)
		return -1
	}
}

func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The built binary under a systemd-like notify socket: READY after connect,
// watchdog pings, SIGHUP with a broken config refused while verdicts go on,
// SIGTERM finishes in-flight frames, publishes `stopped`, exits 0; the seq
// continues after a clean restart, and after SIGKILL (LWT `offline`) a
// restart never reuses a seq number.
func TestProcessLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	replay, bankA, _ := testFixture(t)
	bin := samladBinary(t)
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, prefix+"/#", mqtttest.RecorderOptions{})
	dir := t.TempDir()
	tc := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: replay, loop: true, trigger: "free", rate: 10, deadline: "2s"}
	path := tc.write(t, dir)
	verdictTopic := prefix + "/cam1/verdict"
	avail := func() string {
		ms := rec.Messages(prefix + "/available")
		if len(ms) == 0 {
			return ""
		}
		return string(ms[len(ms)-1].Payload)
	}

	// Run 1: ready, watchdog, reload refused, clean stop.
	notify := listenNotify(t)
	p := startProc(t, bin, path, notify)
	p.waitReady(t, notify)
	rec.Wait(verdictTopic, 5, 30*time.Second)
	waitUntil(t, "watchdog pings", 5*time.Second, func() bool { return notify.count("WATCHDOG=1") >= 3 })
	if err := os.WriteFile(path, []byte("[daemon]\ndeadline = \"soon\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitEvent(t, rec, "reload", "refused")
	n := len(rec.Messages(verdictTopic))
	rec.Wait(verdictTopic, n+3, 30*time.Second) // still inspecting on the old config
	tc.write(t, dir)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM; log:\n%s", code, p.out)
	}
	waitUntil(t, "available = offline", 5*time.Second, func() bool { return avail() == actuate.Offline })
	// What a dashboard connecting now sees, retained: offline, stopped.
	late := b.Record(t, prefix+"/available/#", mqtttest.RecorderOptions{})
	for topic, want := range map[string]string{prefix + "/available": actuate.Offline, prefix + "/available/reason": actuate.ReasonStopped} {
		if m := late.Wait(topic, 1, 5*time.Second); string(m[0].Payload) != want || !m[0].Retained {
			t.Errorf("after SIGTERM a new subscriber gets %s = %q retained=%t, want retained %q", topic, m[0].Payload, m[0].Retained, want)
		}
	}
	if notify.count("STOPPING=1") == 0 {
		t.Error("no STOPPING=1 notification")
	}
	run1 := verdicts(t, rec.Messages(verdictTopic))
	checkOrder(t, run1)
	if run1[0].Seq != 1 {
		t.Errorf("first seq %d, want 1", run1[0].Seq)
	}
	last := run1[len(run1)-1].Seq

	// Run 2: a clean restart continues the sequence exactly; then SIGKILL.
	p = startProc(t, bin, path, notify)
	rec.Wait(verdictTopic, len(run1)+5, 30*time.Second)
	run2 := verdicts(t, rec.Messages(verdictTopic))[len(run1):]
	if run2[0].Seq != last+1 {
		t.Errorf("after a clean restart the first seq is %d, want %d", run2[0].Seq, last+1)
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.wait(t)
	waitUntil(t, "LWT offline", 10*time.Second, func() bool { return avail() == actuate.Offline })
	killedAt := len(rec.Messages(verdictTopic))
	seen := map[uint64]time.Time{}
	for _, v := range verdicts(t, rec.Messages(verdictTopic)) {
		seen[v.Seq] = v.Captured
	}

	if r := rec.Messages(prefix + "/available/reason"); string(r[len(r)-1].Payload) != actuate.ReasonRunning {
		t.Errorf("after SIGKILL available/reason = %q, want running (offline + running: lost, not stopped)", r[len(r)-1].Payload)
	}
	var maxSeen uint64
	for s := range seen {
		maxSeen = max(maxSeen, s)
	}

	// Run 3: after SIGKILL no number is reused for a new frame; a restart
	// event carries the last seq handed out, and new frames follow it.
	p = startProc(t, bin, path, notify)
	rec.Wait(verdictTopic, killedAt+5, 30*time.Second)
	var firstNew uint64
	for _, v := range verdicts(t, rec.Messages(verdictTopic))[killedAt:] {
		if at, ok := seen[v.Seq]; ok && !at.Equal(v.Captured) {
			t.Fatalf("seq %d reused after SIGKILL: captured %v before, %v now", v.Seq, at, v.Captured)
		}
		if _, ok := seen[v.Seq]; !ok && firstNew == 0 {
			firstNew = v.Seq
		}
	}
	var restart *actuate.Event
	for _, m := range rec.Messages(prefix + "/events") {
		var e actuate.Event
		if json.Unmarshal(m.Payload, &e) == nil && e.Kind == "restart" {
			restart = &e
		}
	}
	switch {
	case restart == nil:
		t.Error("no restart event after SIGKILL")
	case restart.LastSeq < maxSeen || firstNew != restart.LastSeq+1:
		t.Errorf("restart event last_seq %d; last verdict received %d, first new seq %d: want last_seq >= %d and the new seqs to follow it", restart.LastSeq, maxSeen, firstNew, maxSeen)
	default:
		t.Logf("SIGKILL: last verdict received seq %d, restart event last_seq %d (%d frames in flight), new frames from seq %d", maxSeen, restart.LastSeq, restart.LastSeq-maxSeen, firstNew)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit code %d; log:\n%s", code, p.out)
	}
}

// With the ONNX Runtime backend loaded (fixture models with the real I/O
// contract, CPU provider), the built binary inspects, reports the provider
// in its stats, and still stops cleanly on SIGTERM: providers that replace
// Go's signal handlers must not break shutdown.
func TestProcessONNXBackendStopsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	lib := os.Getenv("SAMLAD_ORT_LIB")
	if lib == "" {
		lib = "../third_party/onnxruntime/libonnxruntime.so"
	}
	lib, _ = filepath.Abs(lib)
	if _, err := os.Stat(lib); err != nil {
		t.Skipf("ONNX Runtime library not found (%v): run `make deps` or set SAMLAD_ORT_LIB", err)
	}
	models, _ := filepath.Abs("../models/testdata")
	_, _, _ = testFixture(t)
	bin := samladBinary(t)
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, prefix+"/#", mqtttest.RecorderOptions{})
	dir := t.TempDir()
	onnxSections := fmt.Sprintf("[pipeline]\nbackend = \"onnx\"\ninput_size = 112\nworkers = 1\n\n"+
		"[runtime]\nlibrary = %q\nproviders = [\"cpu\"]\nthreads = 1\n\n"+
		"[models]\ndir = %q\nfeatures = \"features.toml\"\nupsampler = \"upsampler.toml\"\nsam_encoder = \"sam_encoder.toml\"\nsam_decoder = \"sam_decoder.toml\"\npoints_per_side = 8\npoints_per_batch = 16\nmin_region_area = 20\n\n", lib, models)
	bank := filepath.Join(dir, "onnx.bank")
	// A slow rate and a long deadline: the test is about the provider and
	// the stop, and a loaded test machine must not turn frames into errors.
	tc := testConfig{broker: b.URL, stateDir: dir, bank: bank, replay: fixture.replay, loop: true, trigger: "free", rate: 1, deadline: "60s", pipeline: onnxSections}
	path := tc.write(t, dir)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	eng := &engines{}
	if err := eng.Enroll(cfg, filepath.Join(fixture.dir, "good-a"), bank); err != nil {
		t.Fatalf("enrol with the onnx backend: %v", err)
	}
	eng.Close()

	notify := listenNotify(t)
	p := startProc(t, bin, path, notify)
	p.waitReady(t, notify)
	rec.Wait(prefix+"/cam1/verdict", 3, 60*time.Second)
	n := len(rec.Messages(prefix + "/stats"))
	var st actuate.Stats
	if err := json.Unmarshal(rec.Wait(prefix+"/stats", n+1, 10*time.Second)[n].Payload, &st); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(st.Provider, "onnx (") || !strings.Contains(st.Provider, "=cpu") ||
		strings.Contains(st.Provider, "=cuda") || strings.Contains(st.Provider, "=tensorrt") {
		t.Errorf("provider in stats %q, want every model on cpu", st.Provider)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM with the onnx backend; log:\n%s", code, p.out)
	}
	ms := rec.Messages(prefix + "/available")
	if len(ms) == 0 || string(ms[len(ms)-1].Payload) != actuate.Offline {
		t.Errorf("availability after SIGTERM: %s", mqtttest.Format(ms))
	}
	vs := verdicts(t, rec.Messages(prefix+"/cam1/verdict"))
	checkOrder(t, vs)
	for _, v := range vs {
		if v.Verdict == actuate.Error {
			t.Errorf("seq %d: %s", v.Seq, v.Reason)
		}
	}
}
