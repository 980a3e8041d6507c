package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/actuate/mqtttest"
	"github.com/samlad/samlad/config"
)

// A corrupt image from the camera gets an error verdict (capture failure),
// never a pass, and the frames around it are inspected normally.
func TestCorruptFrameGetsErrorVerdict(t *testing.T) {
	_, bankA, _ := testFixture(t)
	replay := t.TempDir()
	if err := copyFile(filepath.Join(fixture.single, "top.png"), filepath.Join(replay, "a.png")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(replay, "b.png"), []byte("\x89PNG\r\n\x1a\nthis is not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(filepath.Join(fixture.single, "top.png"), filepath.Join(replay, "c.png")); err != nil {
		t.Fatal(err)
	}
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, prefix+"/cam1/verdict", mqtttest.RecorderOptions{})
	dir := t.TempDir()
	path := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: replay, loop: true}.write(t, dir)
	startDaemon(t, path, nil)
	hmi := commander(t, b)
	for _, id := range []string{"a", "b", "c"} {
		send(t, hmi, "trigger", id)
	}
	vs := verdicts(t, rec.Wait(prefix+"/cam1/verdict", 3, 30*time.Second))
	checkOrder(t, vs)
	if vs[1].PartID != "b" || vs[1].Verdict != actuate.Error || !vs[1].Reject || !strings.HasPrefix(vs[1].Reason, ReasonCapture) {
		t.Errorf("corrupt frame: %+v", vs[1])
	}
	for _, i := range []int{0, 2} {
		if vs[i].Verdict == actuate.Error {
			t.Errorf("frame %s around the corrupt one: %s %s", vs[i].PartID, vs[i].Verdict, vs[i].Reason)
		}
	}
}

// The broker goes down twice during a free-running replay: a persistent QoS 1
// subscriber still gets every verdict, in order, each seq at least once
// (duplicates only as QoS 1 allows), nothing lost. The broker is stopped, not
// SIGKILLed: a killed mosquitto loses what it had acknowledged but not yet
// saved, which no publisher can recover (see the mosquitto autosave options).
func TestBrokerOutagesLoseNoVerdict(t *testing.T) {
	if testing.Short() {
		t.Skip("broker outage run")
	}
	replay, bankA, _ := testFixture(t)
	b := mqtttest.Start(t, mqtttest.Options{Persistence: true})
	rec := b.Record(t, prefix+"/cam1/verdict", mqtttest.RecorderOptions{ClientID: "plc-line1", Persistent: true})
	dir := t.TempDir()
	path := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: replay, loop: true, trigger: "free", rate: 25}.write(t, dir)
	r := startDaemon(t, path, nil)
	for range 2 {
		n := len(rec.Messages(""))
		rec.Wait("", n+20, 30*time.Second)
		b.Stop()
		time.Sleep(700 * time.Millisecond) // verdicts pile up in the outgoing store
		b.Restart()
	}
	n := len(rec.Messages(""))
	rec.Wait("", n+20, 30*time.Second)
	r.stop(t) // stops the camera; what was captured is published before exit

	vs := verdicts(t, rec.Messages(""))
	last := vs[len(vs)-1].Seq
	seen := map[uint64]int{}
	var prev uint64
	for _, v := range vs {
		seen[v.Seq]++
		if v.Seq < prev && seen[v.Seq] == 1 {
			t.Fatalf("seq %d first arrived after seq %d: out of order", v.Seq, prev)
		}
		prev = max(prev, v.Seq)
	}
	dups := 0
	for s := uint64(1); s <= last; s++ {
		switch seen[s] {
		case 0:
			t.Errorf("seq %d lost", s)
		case 1:
		default:
			dups += seen[s] - 1
		}
	}
	t.Logf("%d verdicts over two broker outages: %d messages received, %d QoS 1 duplicates, 0 lost", last, len(vs), dups)
}

// The optional health endpoint answers on the configured loopback address.
func TestHealthEndpoint(t *testing.T) {
	replay, bankA, _ := testFixture(t)
	b := mqtttest.Start(t, mqtttest.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	path := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: replay, loop: true, health: addr}.write(t, dir)
	startDaemon(t, path, nil)
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		t.Fatalf("GET /healthz: %d %q", resp.StatusCode, body)
	}
}

// Triggers at twice the sustainable rate, then at half of it: every trigger
// gets exactly one verdict (inspected, or an explicit overload/trigger-busy
// error), the queue never exceeds its bound, and once the rate drops every
// frame is inspected again within the deadline.
func TestOverloadThenRecovery(t *testing.T) {
	replay, bankA, _ := testFixture(t)
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, prefix+"/#", mqtttest.RecorderOptions{})
	dir := t.TempDir()
	const work = 50 * time.Millisecond // one worker: at most 20 frames/s
	path := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: replay, loop: true, queueDepth: 4, workers: 1, deadline: "1s"}.write(t, dir)
	startDaemon(t, path, func(i Inspector) Inspector { return slowInspector{i, work} })
	hmi := commander(t, b)

	trigger := func(n int, every time.Duration, tag string) {
		for i := range n {
			send(t, hmi, "trigger", fmt.Sprintf("%s-%d", tag, i)) // through MQTT and the command queue
			time.Sleep(every)
		}
	}
	const hot, cool = 80, 15
	trigger(hot, 25*time.Millisecond, "hot")    // 40/s for 2 s
	trigger(cool, 100*time.Millisecond, "cool") // 10/s
	vs := verdicts(t, rec.Wait(prefix+"/cam1/verdict", hot+cool, 60*time.Second))
	time.Sleep(300 * time.Millisecond)
	if got := len(rec.Messages(prefix + "/cam1/verdict")); got != hot+cool {
		t.Fatalf("%d verdicts for %d triggers", got, hot+cool)
	}
	checkOrder(t, vs)
	var over, busy, late, inspected int
	for i, v := range vs {
		switch {
		case v.Verdict == actuate.Pass || v.Verdict == actuate.Fail:
			inspected++
		case v.Verdict == actuate.Error && strings.HasPrefix(v.Reason, ReasonOverload):
			over++
		case v.Verdict == actuate.Error && strings.Contains(v.Reason, "trigger queue full"):
			busy++
		case v.Verdict == actuate.Error && strings.HasPrefix(v.Reason, ReasonDeadline) && i < hot:
			late++ // queued in the burst past the deadline: also explicit
		default:
			t.Errorf("verdict %d (%s): %s %q", i, v.PartID, v.Verdict, v.Reason)
		}
		if i >= hot+5 && (v.Verdict == actuate.Error || v.LatencyMS > 1000) { // a few frames to drain the burst
			t.Errorf("after the burst, verdict %s: %s %q %.0f ms", v.PartID, v.Verdict, v.Reason, v.LatencyMS)
		}
	}
	if over+busy+late == 0 {
		t.Error("no overload verdicts at twice the sustainable rate")
	}
	for _, m := range rec.Messages(prefix + "/stats") {
		var s actuate.Stats
		if err := json.Unmarshal(m.Payload, &s); err == nil && len(s.Cameras) == 1 && s.Cameras[0].QueueDepth > 4 {
			t.Errorf("queue depth %d over its bound 4", s.Cameras[0].QueueDepth)
		}
	}
	t.Logf("%d triggers: %d inspected, %d overload, %d trigger-busy, %d past the deadline; last %d at 10/s all inspected", hot+cool, inspected, over, busy, late, cool-5)
}

// A broker that refuses the credentials stops the start with a clear error
// (retrying would not help), instead of waiting forever unready.
func TestRefusedCredentialsFailTheStart(t *testing.T) {
	_, bankA, _ := testFixture(t)
	b := mqtttest.Start(t, mqtttest.Options{Users: map[string]string{"samlad": "right"}})
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tc := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: fixture.single, loop: true}
	path := tc.write(t, dir)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MQTT.Username, cfg.MQTT.PasswordFile = "samlad", pw
	d := New(path, cfg, DefaultDeps(slog.New(slog.NewTextHandler(testWriter{t}, nil))))
	done := make(chan error, 1)
	go func() { done <- d.Run(context.Background()) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), "password") {
			t.Fatalf("start with a wrong password: %v", err)
		}
		t.Logf("start refused: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("daemon still starting 20s after the broker refused its credentials")
	}
	if d.Ready() {
		t.Error("ready without a broker connection")
	}
}

// A camera that cannot be opened is reported (retained status "lost" with
// the reason, retried with backoff) and the other camera keeps inspecting.
func TestBrokenCameraDoesNotStopTheOthers(t *testing.T) {
	replay, bankA, _ := testFixture(t)
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, prefix+"/#", mqtttest.RecorderOptions{})
	dir := t.TempDir()
	broken := fmt.Sprintf("\n[[camera]]\nname = \"cam2\"\nsource = \"v4l2\"\ndevice = %q\ntrigger = \"software\"\nbank = %q\nreconnect_min = \"100ms\"\nreconnect_max = \"200ms\"\n",
		filepath.Join(dir, "video99"), bankA)
	path := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: replay, loop: true, trigger: "free", rate: 20, cameras: broken}.write(t, dir)
	startDaemon(t, path, nil)
	rec.Wait(prefix+"/cam1/verdict", 10, 30*time.Second)
	var status actuate.CameraStatus
	waitUntil(t, "cam2 status lost", 10*time.Second, func() bool {
		ms := rec.Messages(prefix + "/cam2/status")
		return len(ms) > 0 && json.Unmarshal(ms[len(ms)-1].Payload, &status) == nil && status.State == actuate.CameraLost
	})
	if !strings.Contains(status.Detail, "video99") {
		t.Errorf("lost status without the device: %q", status.Detail)
	}
	// A trigger for the lost camera gets an error verdict, not silence.
	hmi := commander(t, b)
	if tok := hmi.Publish(prefix+"/cam2/trigger/set", 1, false, "part-9"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	vs := verdicts(t, rec.Wait(prefix+"/cam2/verdict", 1, 30*time.Second))
	if vs[0].PartID != "part-9" || vs[0].Verdict != actuate.Error || !vs[0].Reject {
		t.Errorf("trigger on the lost camera: %+v", vs[0])
	}
	t.Logf("cam2: %s (%s); its trigger: %s", status.State, status.Detail, vs[0].Reason)
}
