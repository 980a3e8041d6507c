package daemon

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/actuate/mqtttest"
)

// A corrupt image from the camera gets an error verdict (capture failure),
// never a pass, and the frames around it are inspected normally.
func TestCorruptFrameGetsErrorVerdict(t *testing.T) {
	_, bankA, _ := testFixture(t)
	replay := t.TempDir()
	if err := copyFile(filepath.Join(fixture.single, "scratch.png"), filepath.Join(replay, "a.png")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(replay, "b.png"), []byte("\x89PNG\r\n\x1a\nthis is not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(filepath.Join(fixture.single, "scratch.png"), filepath.Join(replay, "c.png")); err != nil {
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
