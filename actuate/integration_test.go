package actuate

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/samlad/samlad/actuate/mqtttest"
	"github.com/samlad/samlad/config"
)

const testPrefix = "plant/line1"

var clientSeq atomic.Int64

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testConfig is the MQTT configuration of a client of broker b, with short
// timeouts so that fault tests run quickly.
func testConfig(t testing.TB, b *mqtttest.Broker) config.MQTT {
	cfg := config.DefaultMQTT()
	cfg.Broker = b.URL
	cfg.ClientID = fmt.Sprintf("samlad-test-%d-%d", os.Getpid(), clientSeq.Add(1))
	cfg.Prefix = testPrefix
	cfg.StoreDir = filepath.Join(t.TempDir(), "outbox")
	cfg.ConnectTimeout = config.Duration(2 * time.Second)
	cfg.KeepAlive = config.Duration(5 * time.Second)
	cfg.MaxReconnectInterval = config.Duration(500 * time.Millisecond)
	if b.CAFile != "" {
		cfg.TLS = config.TLS{Enabled: true, CAFile: b.CAFile, CertFile: b.ClientCertFile, KeyFile: b.ClientKeyFile}
	}
	return cfg
}

func dial(t testing.TB, cfg config.MQTT, act config.Actuate, cmds Commands) *Client {
	t.Helper()
	c, err := Dial(cfg, act, cmds, testLogger(t))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c.Close(ctx)
	})
	return c
}

func waitConnected(t testing.TB, c *Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WaitConnected(ctx); err != nil {
		t.Fatalf("WaitConnected: %v", err)
	}
}

func sampleVerdict(seq uint64, verdict string) Verdict {
	now := time.Now()
	v := Verdict{
		Camera: "cam1", Seq: seq, PartID: fmt.Sprintf("P-%04d", seq),
		Captured: now.Add(-40 * time.Millisecond), Inspected: now.Add(-5 * time.Millisecond),
		Verdict: verdict, Score: 0.12, Threshold: 0.5, BankID: "bank-3f2a", Recipe: "widget-a",
	}
	if verdict == Fail {
		v.Reject, v.Score = true, 0.91
		v.Findings = []Finding{
			{Kind: Missing, Box: Box{X: 10, Y: 20, W: 30, H: 40}, Area: 900, Score: 0.91},
			{Kind: Structural, Box: Box{X: 100, Y: 5, W: 8, H: 8}, Area: 40, Score: 0.7},
		}
	}
	return v
}

func decodeVerdicts(t testing.TB, msgs []mqtttest.Message) []Verdict {
	t.Helper()
	out := make([]Verdict, len(msgs))
	for i, m := range msgs {
		if err := json.Unmarshal(m.Payload, &out[i]); err != nil {
			t.Fatalf("verdict %d: %v: %s", i, err, m.Payload)
		}
	}
	return out
}

func TestVerdictRejectStateTopics(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, testPrefix+"/#", mqtttest.RecorderOptions{})
	act := config.DefaultActuate() // json rejects, heatmaps for failures only
	c := dial(t, testConfig(t, b), act, Commands{})
	waitConnected(t, c)

	pass := sampleVerdict(1, Pass)
	pass.Heatmap = []byte("\xff\xd8pass-jpeg")
	fail := sampleVerdict(2, Fail)
	fail.Heatmap = []byte("\xff\xd8fail-jpeg")
	for _, v := range []Verdict{pass, fail} {
		if err := c.PublishVerdict(v); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.PublishCameraState("cam1", CameraLost, "device /dev/video0 vanished"); err != nil {
		t.Fatal(err)
	}
	if err := c.PublishState("cam1", SetThreshold, "0.5"); err != nil {
		t.Fatal(err)
	}
	if err := c.PublishStats(Stats{UptimeS: 12, Provider: "builtin", Cameras: []CameraStats{{Camera: "cam1", Pass: 1, Fail: 1}}}); err != nil {
		t.Fatal(err)
	}

	verdicts := decodeVerdicts(t, rec.Wait(testPrefix+"/cam1/verdict", 2, 5*time.Second))
	if verdicts[0].Seq != 1 || verdicts[0].Verdict != Pass || verdicts[0].Reject || verdicts[0].PartID != "P-0001" {
		t.Errorf("first verdict = %+v", verdicts[0])
	}
	f := verdicts[1]
	if f.Seq != 2 || f.Verdict != Fail || !f.Reject || len(f.Findings) != 2 || f.Findings[0].Kind != Missing ||
		f.Findings[0].Box != (Box{10, 20, 30, 40}) || f.BankID != "bank-3f2a" || f.Recipe != "widget-a" || f.Threshold != 0.5 {
		t.Errorf("fail verdict = %+v", f)
	}
	if f.LatencyMS < 40 || f.Published.Before(f.Captured) || f.Inspected.IsZero() {
		t.Errorf("timestamps: capture %v inspect %v publish %v latency %vms", f.Captured, f.Inspected, f.Published, f.LatencyMS)
	}

	rejects := rec.Wait(testPrefix+"/cam1/reject", 2, 5*time.Second)
	var r0, r1 map[string]any
	json.Unmarshal(rejects[0].Payload, &r0)
	json.Unmarshal(rejects[1].Payload, &r1)
	if r0["seq"] != 1.0 || r0["reject"] != false || r0["part_id"] != "P-0001" || len(r0) != 3 {
		t.Errorf("pass reject = %s", rejects[0].Payload)
	}
	if r1["seq"] != 2.0 || r1["reject"] != true || r1["reason"] != "1 missing, 1 structural" || len(r1) != 4 {
		t.Errorf("fail reject = %s", rejects[1].Payload)
	}
	for _, m := range rejects {
		if m.Retained {
			t.Errorf("reject on %s is retained", m.Topic)
		}
	}
	// heatmap=fail: only the failure's heatmap goes out.
	heat := rec.Wait(testPrefix+"/cam1/heatmap", 1, 5*time.Second)
	if string(heat[0].Payload) != "\xff\xd8fail-jpeg" {
		t.Errorf("heatmap = %q", heat[0].Payload)
	}
	status := rec.Wait(testPrefix+"/cam1/status", 1, 5*time.Second)
	var st CameraStatus
	if err := json.Unmarshal(status[0].Payload, &st); err != nil || st.State != CameraLost || !strings.Contains(st.Detail, "vanished") {
		t.Errorf("camera status = %s (%v)", status[0].Payload, err)
	}
	if s := rec.Wait(testPrefix+"/cam1/threshold/state", 1, 5*time.Second); string(s[0].Payload) != "0.5" {
		t.Errorf("threshold state = %s", s[0].Payload)
	}
	stats := rec.Wait(testPrefix+"/stats", 1, 5*time.Second)
	var sv Stats
	if err := json.Unmarshal(stats[0].Payload, &sv); err != nil || !sv.Link.Connected || sv.Provider != "builtin" || len(sv.Cameras) != 1 {
		t.Errorf("stats = %s (%v)", stats[0].Payload, err)
	}
	if a := rec.Wait(testPrefix+"/available", 1, 5*time.Second); string(a[0].Payload) != Online {
		t.Errorf("available = %s", a[0].Payload)
	}
	if len(rec.Messages(testPrefix+"/cam1/heatmap")) != 1 {
		t.Errorf("pass heatmap published with heatmap=fail")
	}

	// A retained message reaches a subscriber that comes later.
	late := b.Record(t, testPrefix+"/+/status", mqtttest.RecorderOptions{})
	if m := late.Wait(testPrefix+"/+/status", 1, 5*time.Second); !m[0].Retained {
		t.Errorf("camera status not retained")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	avail := rec.Wait(testPrefix+"/available", 2, 5*time.Second)
	if got := string(avail[len(avail)-1].Payload); got != Offline {
		t.Errorf("available after Close = %q, want offline", got)
	}
	reason := rec.Wait(testPrefix+"/available/reason", 2, 5*time.Second)
	if got := string(reason[len(reason)-1].Payload); got != ReasonStopped {
		t.Errorf("available/reason after Close = %q, want stopped", got)
	}
	if err := c.PublishVerdict(sampleVerdict(3, Pass)); !errors.Is(err, ErrClosed) {
		t.Errorf("PublishVerdict after Close = %v, want ErrClosed", err)
	}
}

func TestPlainRejectFormat(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, testPrefix+"/cam1/reject", mqtttest.RecorderOptions{})
	act := config.DefaultActuate()
	act.RejectFormat = RejectPlain
	c := dial(t, testConfig(t, b), act, Commands{})
	for i, kind := range []string{Pass, Fail, Error} {
		v := sampleVerdict(uint64(41+i), kind)
		if kind == Error {
			v.Reject, v.Reason = true, "deadline: inspection took 612ms > 500ms"
		}
		if err := c.PublishVerdict(v); err != nil {
			t.Fatal(err)
		}
	}
	got := rec.Wait(testPrefix+"/cam1/reject", 3, 10*time.Second)
	want := []string{"41;P-0041;0", "42;P-0042;1", "43;P-0043;1"}
	for i := range want {
		if string(got[i].Payload) != want[i] {
			t.Errorf("reject %d = %q, want %q", i, got[i].Payload, want[i])
		}
	}
}

// TestChildProcess is not a test: it is the client process that
// TestLastWillOnKill and TestStoreSurvivesSIGKILL start and kill.
func TestChildProcess(t *testing.T) {
	spec := os.Getenv("SAMLAD_ACTUATE_CHILD")
	if spec == "" {
		t.Skip("helper process for the kill tests")
	}
	var cfg config.MQTT
	if err := json.Unmarshal([]byte(spec), &cfg); err != nil {
		t.Fatal(err)
	}
	c, err := Dial(cfg, config.DefaultActuate(), Commands{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("SAMLAD_ACTUATE_CHILD_WAIT") != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.WaitConnected(ctx); err != nil {
			t.Fatal(err)
		}
	}
	n, _ := strconv.Atoi(os.Getenv("SAMLAD_ACTUATE_CHILD_VERDICTS"))
	for i := 1; i <= n; i++ {
		if err := c.PublishVerdict(sampleVerdict(uint64(i), Fail)); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Println("READY")
	time.Sleep(time.Minute) // until killed
}

// startChild runs TestChildProcess with cfg and waits for its READY line.
func startChild(t *testing.T, cfg config.MQTT, verdicts int, waitConnected bool) *exec.Cmd {
	t.Helper()
	spec, _ := json.Marshal(cfg)
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildProcess$")
	cmd.Env = append(os.Environ(), "SAMLAD_ACTUATE_CHILD="+string(spec), "SAMLAD_ACTUATE_CHILD_VERDICTS="+strconv.Itoa(verdicts))
	if waitConnected {
		cmd.Env = append(cmd.Env, "SAMLAD_ACTUATE_CHILD_WAIT=1")
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "READY" {
				ready <- true
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatal("child process did not get ready")
	}
	return cmd
}

func TestLastWillOnKill(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, testPrefix+"/available", mqtttest.RecorderOptions{})
	child := startChild(t, testConfig(t, b), 0, true)
	if m := rec.Wait(testPrefix+"/available", 1, 5*time.Second); string(m[0].Payload) != Online {
		t.Fatalf("available = %s, want online", m[0].Payload)
	}
	child.Process.Kill() // SIGKILL: no DISCONNECT, the broker sees the socket close
	child.Wait()
	m := rec.Wait(testPrefix+"/available", 2, 10*time.Second)
	if string(m[1].Payload) != Offline {
		t.Fatalf("after SIGKILL available = %s, want offline", m[1].Payload)
	}
	// The Last Will is retained: a monitor started later still sees it.
	late := b.Record(t, testPrefix+"/available", mqtttest.RecorderOptions{})
	if m := late.Wait(testPrefix+"/available", 1, 5*time.Second); string(m[0].Payload) != Offline || !m[0].Retained {
		t.Errorf("late subscriber sees available = %s retained=%t", m[0].Payload, m[0].Retained)
	}
}

func TestTLSClientCertificates(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{RequireClientCert: true})
	rec := b.Record(t, testPrefix+"/cam1/verdict", mqtttest.RecorderOptions{})
	cfg := testConfig(t, b)
	c := dial(t, cfg, config.DefaultActuate(), Commands{})
	waitConnected(t, c)
	if err := c.PublishVerdict(sampleVerdict(7, Fail)); err != nil {
		t.Fatal(err)
	}
	if v := decodeVerdicts(t, rec.Wait(testPrefix+"/cam1/verdict", 1, 5*time.Second)); v[0].Seq != 7 {
		t.Errorf("verdict over mTLS = %+v", v[0])
	}

	t.Run("no client certificate", func(t *testing.T) {
		cfg := testConfig(t, b)
		cfg.TLS.CertFile, cfg.TLS.KeyFile = "", ""
		err := connectErr(t, cfg, 3*time.Second)
		if !strings.Contains(err.Error(), b.URL) || !strings.Contains(err.Error(), "cert_file") {
			t.Errorf("error does not name the broker and the fix: %v", err)
		}
	})
	t.Run("unknown CA", func(t *testing.T) {
		other := mqtttest.Start(t, mqtttest.Options{TLS: true})
		cfg := testConfig(t, b)
		cfg.TLS.CAFile = other.CAFile
		err := connectErr(t, cfg, 3*time.Second)
		if !strings.Contains(err.Error(), "not trusted") || !strings.Contains(err.Error(), "ca_file") {
			t.Errorf("error does not say the certificate is not trusted: %v", err)
		}
	})
}

// connectErr dials cfg and returns the connection error after at most
// wait, failing the test if it connects.
func connectErr(t *testing.T, cfg config.MQTT, wait time.Duration) error {
	t.Helper()
	c := dial(t, cfg, config.DefaultActuate(), Commands{})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	err := c.WaitConnected(ctx)
	if err == nil {
		t.Fatal("connected, want an error")
	}
	t.Logf("error: %v", err)
	return err
}

func TestCredentials(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{Users: map[string]string{"line1": "s3cret-pw"}})
	pwFile := filepath.Join(t.TempDir(), "mqtt.pw")
	os.WriteFile(pwFile, []byte("s3cret-pw\n"), 0o600)

	cfg := testConfig(t, b)
	cfg.Username, cfg.PasswordFile = "line1", pwFile
	waitConnected(t, dial(t, cfg, config.DefaultActuate(), Commands{}))

	t.Setenv("SAMLAD_TEST_MQTT_PW", "s3cret-pw")
	cfg = testConfig(t, b)
	cfg.Username, cfg.PasswordEnv = "line1", "SAMLAD_TEST_MQTT_PW"
	waitConnected(t, dial(t, cfg, config.DefaultActuate(), Commands{}))

	t.Setenv("SAMLAD_TEST_MQTT_PW", "wrong")
	cfg.StoreDir = filepath.Join(t.TempDir(), "outbox")
	start := time.Now()
	err := connectErr(t, cfg, 20*time.Second)
	var ce *ConnectError
	if !errors.As(err, &ce) || !ce.Refused() {
		t.Fatalf("bad password: %v, want a refused *ConnectError", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("WaitConnected took %v to report a refusal; it should return at once", time.Since(start))
	}
	for _, want := range []string{b.URL, "refused", "CONNACK code", "mqtt.password_file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}

	t.Run("missing password file", func(t *testing.T) {
		cfg := testConfig(t, b)
		cfg.Username, cfg.PasswordFile = "line1", filepath.Join(t.TempDir(), "absent")
		if _, err := Dial(cfg, config.DefaultActuate(), Commands{}, testLogger(t)); err == nil || !strings.Contains(err.Error(), "mqtt.password_file") {
			t.Errorf("Dial = %v, want an error naming mqtt.password_file", err)
		}
	})
	t.Run("unset env var", func(t *testing.T) {
		cfg := testConfig(t, b)
		cfg.Username, cfg.PasswordEnv = "line1", "SAMLAD_TEST_NO_SUCH_VAR"
		if _, err := Dial(cfg, config.DefaultActuate(), Commands{}, testLogger(t)); err == nil || !strings.Contains(err.Error(), "SAMLAD_TEST_NO_SUCH_VAR") {
			t.Errorf("Dial = %v, want an error naming the variable", err)
		}
	})
}

func TestUnreachableBroker(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{})
	cfg := testConfig(t, b)
	b.Stop()
	c := dial(t, cfg, config.DefaultActuate(), Commands{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := c.WaitConnected(ctx)
	if err == nil || !strings.Contains(err.Error(), "unreachable") || !strings.Contains(err.Error(), b.URL) {
		t.Fatalf("WaitConnected = %v, want an unreachable error naming %s", err, b.URL)
	}
	// Verdicts are still accepted: they wait in the store.
	if err := c.PublishVerdict(sampleVerdict(1, Fail)); err != nil || c.Pending() != 1 {
		t.Fatalf("PublishVerdict while down = %v, pending %d", err, c.Pending())
	}
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := c.Close(ctx); err == nil || !strings.Contains(err.Error(), "1 verdicts not yet delivered") || !strings.Contains(err.Error(), cfg.StoreDir) {
		t.Errorf("Close with the broker down = %v, want it to say 1 verdict stays in %s", err, cfg.StoreDir)
	}
}

// TestLinkCutMidRun cuts the link abruptly (reset, as a pulled cable or a
// crashed broker looks to the client) three times while verdicts keep
// coming, with messages in flight; the broker and its subscriber stay up.
func TestLinkCutMidRun(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, testPrefix+"/#", mqtttest.RecorderOptions{})
	proxy := b.Proxy(t)
	cfg := testConfig(t, b)
	cfg.Broker = proxy.URL
	c := dial(t, cfg, config.DefaultActuate(), Commands{})
	waitConnected(t, c)

	const n = 800
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := uint64(1); i <= n; i++ {
			if err := c.PublishVerdict(sampleVerdict(i, Fail)); err != nil {
				t.Errorf("PublishVerdict %d: %v", i, err)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	for range 3 {
		time.Sleep(300 * time.Millisecond)
		proxy.Cut()
		time.Sleep(300 * time.Millisecond)
		proxy.Restore()
		waitConnected(t, c) // so that the next cut hits a live session
	}
	wg.Wait()
	got := decodeVerdicts(t, rec.Wait(testPrefix+"/cam1/verdict", n, 20*time.Second))
	dups := checkOrder(t, got, seqRange(1, n))
	t.Logf("%d verdicts across 3 link cuts: %d received, %d QoS 1 duplicates", n, len(got), dups)
	// Each cut made the broker publish the Last Will; each reconnection, online.
	var avail []string
	for _, m := range rec.Messages(testPrefix + "/available") {
		avail = append(avail, string(m.Payload))
	}
	if strings.Count(strings.Join(avail, " "), Offline) < 3 || avail[len(avail)-1] != Online {
		t.Errorf("availability sequence %v: want offline after each cut and online at the end", avail)
	}
}

func TestStaleRejectsWithheld(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{Persistence: true})
	rec := b.Record(t, testPrefix+"/#", mqtttest.RecorderOptions{ClientID: "qa-stale", Persistent: true})
	cfg := testConfig(t, b)
	act := config.DefaultActuate()
	act.RejectMaxAge = config.Duration(time.Second)
	b.Stop()
	c := dial(t, cfg, act, Commands{})
	for i := uint64(1); i <= 3; i++ {
		if err := c.PublishVerdict(sampleVerdict(i, Fail)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1200 * time.Millisecond) // the conveyor has moved on
	b.Restart()
	checkOrder(t, decodeVerdicts(t, rec.Wait(testPrefix+"/cam1/verdict", 3, 10*time.Second)), seqRange(1, 3))
	if err := c.PublishVerdict(sampleVerdict(4, Fail)); err != nil { // a fresh one
		t.Fatal(err)
	}
	rejects := rec.Wait(testPrefix+"/cam1/reject", 1, 5*time.Second)
	if len(rejects) != 1 || !strings.HasPrefix(string(rejects[0].Payload), `{"seq":4,`) {
		t.Errorf("rejects sent: want only the fresh seq 4:\n%s", mqtttest.Format(rejects))
	}
	ev := rec.Wait(testPrefix+"/events", 1, 5*time.Second)
	if !strings.Contains(mqtttest.Format(ev), `"kind":"stale_reject"`) {
		t.Errorf("no stale_reject event:\n%s", mqtttest.Format(ev))
	}
}

// checkOrder checks that the received sequence numbers are want, in order,
// allowing QoS 1 redeliveries (a seq seen again). It returns the duplicates.
func checkOrder(t *testing.T, got []Verdict, want []uint64) (dups int) {
	t.Helper()
	seen := map[uint64]bool{}
	var uniq []uint64
	for _, v := range got {
		if seen[v.Seq] {
			dups++
			continue
		}
		seen[v.Seq] = true
		uniq = append(uniq, v.Seq)
	}
	if fmt.Sprint(uniq) != fmt.Sprint(want) {
		t.Errorf("received seq %v\nwant %v", uniq, want)
	}
	return dups
}

func seqRange(from, to uint64) []uint64 {
	var s []uint64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

func TestBufferedAcrossBrokerRestarts(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{Persistence: true})
	rec := b.Record(t, testPrefix+"/cam1/verdict", mqtttest.RecorderOptions{ClientID: "qa-recorder", Persistent: true})
	c := dial(t, testConfig(t, b), config.DefaultActuate(), Commands{})
	waitConnected(t, c)

	const n = 400
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a line at about 400 parts per second
		defer wg.Done()
		for i := uint64(1); i <= n; i++ {
			if err := c.PublishVerdict(sampleVerdict(i, Fail)); err != nil {
				t.Errorf("PublishVerdict %d: %v", i, err)
			}
			time.Sleep(2500 * time.Microsecond)
		}
	}()
	maxPending := 0
	for range 2 { // two outages while verdicts keep coming
		time.Sleep(200 * time.Millisecond)
		b.Stop()
		time.Sleep(300 * time.Millisecond)
		maxPending = max(maxPending, c.Pending())
		b.Restart()
	}
	wg.Wait()
	got := decodeVerdicts(t, rec.Wait(testPrefix+"/cam1/verdict", n, 20*time.Second))
	dups := checkOrder(t, got, seqRange(1, n))
	t.Logf("%d verdicts sent across 2 broker restarts: %d received, %d QoS 1 duplicates, up to %d waited in the store", n, len(got), dups, maxPending)
	if maxPending == 0 {
		t.Errorf("no verdict waited in the store during the outages; the test did not test buffering")
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.Pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if p := c.Pending(); p != 0 {
		t.Errorf("%d verdicts still pending after delivery", p)
	}
}

func TestStoreSurvivesSIGKILL(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{Persistence: true})
	rec := b.Record(t, testPrefix+"/cam1/verdict", mqtttest.RecorderOptions{ClientID: "qa-recorder-kill", Persistent: true})
	cfg := testConfig(t, b)
	b.Stop()
	// The child accepts 25 verdicts while the broker is down and is killed.
	child := startChild(t, cfg, 25, false)
	child.Process.Kill()
	child.Wait()

	b.Restart()
	c := dial(t, cfg, config.DefaultActuate(), Commands{}) // the next process, same store
	got := decodeVerdicts(t, rec.Wait(testPrefix+"/cam1/verdict", 25, 10*time.Second))
	checkOrder(t, got, seqRange(1, 25))
	// And the new process carries on after them.
	if err := c.PublishVerdict(sampleVerdict(26, Pass)); err != nil {
		t.Fatal(err)
	}
	got = decodeVerdicts(t, rec.Wait(testPrefix+"/cam1/verdict", 26, 10*time.Second))
	checkOrder(t, got, seqRange(1, 26))
}

func TestStoreOverflow(t *testing.T) {
	for _, tc := range []struct {
		policy   string
		wantSeq  []uint64
		wantText string
	}{
		{DropOldest, seqRange(16, 25), "dropped the 15 oldest verdicts, from cam1 seq 1 to cam1 seq 15"},
		{RefuseNew, seqRange(1, 10), "refused 15 new verdicts, from cam1 seq 11 to cam1 seq 25"},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			b := mqtttest.Start(t, mqtttest.Options{Persistence: true})
			rec := b.Record(t, testPrefix+"/#", mqtttest.RecorderOptions{ClientID: "qa-overflow", Persistent: true})
			cfg := testConfig(t, b)
			cfg.StoreLimit, cfg.StoreOverflow = 10, tc.policy
			b.Stop()
			c := dial(t, cfg, config.DefaultActuate(), Commands{})
			var refused int
			for i := uint64(1); i <= 25; i++ {
				err := c.PublishVerdict(sampleVerdict(i, Fail))
				switch {
				case errors.Is(err, ErrStoreFull):
					refused++
				case err != nil:
					t.Fatal(err)
				}
			}
			if c.Pending() != 10 {
				t.Errorf("pending = %d, want the limit 10", c.Pending())
			}
			if want := map[string]int{DropOldest: 0, RefuseNew: 15}[tc.policy]; refused != want {
				t.Errorf("%d verdicts refused, want %d", refused, want)
			}
			b.Restart()
			got := decodeVerdicts(t, rec.Wait(testPrefix+"/cam1/verdict", 10, 10*time.Second))
			checkOrder(t, got, tc.wantSeq)
			ev := rec.Wait(testPrefix+"/events", 1, 5*time.Second)
			found := false
			for _, m := range ev {
				var e Event
				json.Unmarshal(m.Payload, &e)
				if e.Kind == "store_overflow" && e.Level == LevelError && strings.Contains(e.Msg, tc.wantText) {
					found = true
				}
			}
			if !found {
				t.Errorf("no store_overflow event saying %q:\n%s", tc.wantText, mqtttest.Format(ev))
			}
		})
	}
}

// recordingHandler is a CommandHandler that remembers what it was asked.
type recordingHandler struct {
	mu   sync.Mutex
	cmds []Command
}

func (h *recordingHandler) HandleCommand(_ context.Context, cmd Command) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	// How it was delivered is checked in delivery_test.go.
	cmd.Received, cmd.Delivery = time.Time{}, nil
	h.cmds = append(h.cmds, cmd)
	switch cmd.Setting {
	case SetThreshold:
		if cmd.Threshold > 100 {
			return "", fmt.Errorf("threshold %g is above the bank's calibrated range", cmd.Threshold)
		}
		return strconv.FormatFloat(cmd.Threshold, 'g', -1, 64), nil
	case SetTrigger:
		return "", nil
	case SetRecipe, SetEnroll:
		return cmd.Path, nil
	}
	return strconv.FormatBool(cmd.Enabled), nil
}

func (h *recordingHandler) commands() []Command {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Command(nil), h.cmds...)
}

func TestCommands(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, testPrefix+"/#", mqtttest.RecorderOptions{})
	banks, enroll := t.TempDir(), t.TempDir()
	op := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL).SetClientID("operator"))
	if tok := op.Connect(); tok.Wait() && tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer op.Disconnect(100)
	send := func(topic, payload string, retained bool) {
		if tok := op.Publish(testPrefix+"/"+topic, 1, retained, payload); tok.Wait() && tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	// A retained command left on the broker would replay at every
	// (re)connection: it is refused when the subscription delivers it.
	send("cam2/enabled/set", "OFF", true)

	h := &recordingHandler{}
	c := dial(t, testConfig(t, b), config.DefaultActuate(), Commands{Handler: h, Cameras: []string{"cam1", "cam2"}, BankDir: banks, EnrollDir: enroll})
	waitConnected(t, c)
	bad := []struct{ topic, payload, want string }{
		{"cam1/threshold/set", "abc", "not a finite number"},
		{"cam1/threshold/set", "NaN", "not a finite number"},
		{"cam1/enabled/set", "maybe", "not a switch value"},
		{"cam9/enabled/set", "true", "unknown camera"},
		{"cam1/colour/set", "red", "unknown setting"},
		{"cam1/recipe/set", "../../etc/passwd", "leaves the allowed directory"},
		{"cam1/enroll/set", "/etc", "leaves the allowed directory"},
		{"cam1/trigger/set", "P;1;0", "part id"},
		{"cam1/trigger/set", `{"part_id": 7}`, "part_id"},
		{"cam1/trigger/set", "\xff\xfe", "not UTF-8"},
		{"cam1/threshold/set", strings.Repeat("9", 5000), "over the 4096-byte limit"},
		{"cam1/threshold/set", "500", "failed: threshold 500 is above"},
	}
	for _, m := range bad {
		send(m.topic, m.payload, false)
	}
	// The good ones, after the bad: the client survived them all.
	send("cam1/threshold/set", "0.42", false)
	send("cam1/trigger/set", `{"part_id":"SN-0042"}`, false)
	send("cam1/trigger/set", "{}", false)
	send("cam1/trigger/set", "", false) // as when a retained trigger is cleared: never a part
	send("cam2/enabled/set", "off", false)
	send("cam1/recipe/set", "widget-b.bank", false)

	events := rec.Wait(testPrefix+"/events", len(bad)+2, 10*time.Second)
	var msgs []string
	for _, m := range events {
		var e Event
		if err := json.Unmarshal(m.Payload, &e); err != nil {
			t.Fatal(err)
		}
		if e.Kind != "command" || e.Level != LevelError {
			t.Errorf("event %+v: want kind command, level error", e)
		}
		msgs = append(msgs, e.Msg)
	}
	all := strings.Join(msgs, "\n")
	for _, m := range bad {
		if !strings.Contains(all, m.want) {
			t.Errorf("no event says %q for %s %.20q", m.want, m.topic, m.payload)
		}
	}
	if !strings.Contains(all, "retained command") {
		t.Errorf("no event refuses the retained command")
	}
	if !strings.Contains(all, "empty message on "+testPrefix+"/cam1/trigger/set ignored") {
		t.Errorf("no event says the empty trigger message was ignored")
	}

	rec.Wait(testPrefix+"/cam1/recipe/state", 1, 5*time.Second)
	late := b.Record(t, testPrefix+"/cam1/threshold/state", mqtttest.RecorderOptions{})
	state := late.Wait(testPrefix+"/cam1/threshold/state", 1, 5*time.Second)
	if string(state[0].Payload) != "0.42" || !state[0].Retained {
		t.Errorf("threshold state = %s retained=%t, want retained 0.42", state[0].Payload, state[0].Retained)
	}
	cmds := h.commands()
	want := []Command{
		{Camera: "cam1", Setting: SetThreshold, Threshold: 500},
		{Camera: "cam1", Setting: SetThreshold, Threshold: 0.42},
		{Camera: "cam1", Setting: SetTrigger, PartID: "SN-0042"},
		{Camera: "cam1", Setting: SetTrigger},
		{Camera: "cam2", Setting: SetEnabled, Enabled: false},
		{Camera: "cam1", Setting: SetRecipe, Path: filepath.Join(banks, "widget-b.bank")},
	}
	if fmt.Sprint(cmds) != fmt.Sprint(want) {
		t.Errorf("handler got\n%+v\nwant\n%+v", cmds, want)
	}
}

// TestCorruptStoreEntry: an entry damaged on disk (here one flipped byte)
// is set aside with an event; the others are still delivered in order.
func TestCorruptStoreEntry(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, testPrefix+"/#", mqtttest.RecorderOptions{})
	cfg := testConfig(t, b)
	o, _, err := openOutbox(cfg.StoreDir, 10, DropOldest, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 3; i++ {
		body, _ := json.Marshal(sampleVerdict(i, Fail))
		o.put(entry{Camera: "cam1", Seq: i, Msgs: []outMsg{{Topic: testPrefix + "/cam1/verdict", QoS: 1, Payload: body}}})
	}
	o.close()
	second := o.path(o.after(0, 3)[1])
	data, _ := os.ReadFile(second)
	data[20] ^= 0x01
	os.WriteFile(second, data, 0o640)

	dial(t, cfg, config.DefaultActuate(), Commands{})
	checkOrder(t, decodeVerdicts(t, rec.Wait(testPrefix+"/cam1/verdict", 2, 10*time.Second)), []uint64{1, 3})
	ev := rec.Wait(testPrefix+"/events", 1, 5*time.Second)
	if !strings.Contains(string(ev[0].Payload), "unreadable") || !strings.Contains(string(ev[0].Payload), corruptExt) {
		t.Errorf("event = %s, want it to say the entry was set aside", ev[0].Payload)
	}
	if _, err := os.Stat(second + corruptExt); err != nil {
		t.Errorf("damaged entry not kept for inspection: %v", err)
	}
}

func TestHeatmapModes(t *testing.T) {
	pass, fail := sampleVerdict(1, Pass), sampleVerdict(2, Fail)
	pass.Heatmap, fail.Heatmap = []byte{0xff, 0xd8}, []byte{0xff, 0xd8}
	noJPEG := sampleVerdict(3, Fail)
	for mode, want := range map[string][3]bool{
		HeatmapAll:  {true, true, false},
		HeatmapFail: {false, true, false},
		"":          {false, true, false},
		HeatmapOff:  {false, false, false},
	} {
		c := &Client{act: config.Actuate{Heatmap: mode}}
		got := [3]bool{c.wantHeatmap(pass), c.wantHeatmap(fail), c.wantHeatmap(noJPEG)}
		if got != want {
			t.Errorf("heatmap=%q: pass/fail/none = %v, want %v", mode, got, want)
		}
	}
}
