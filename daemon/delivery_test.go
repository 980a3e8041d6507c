package daemon

// Every trigger gets a verdict (docs/reliability.md): MQTT triggers across
// broker and daemon kills, stale, refused and retained triggers.

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/actuate/mqtttest"
	"github.com/samlad/samlad/capture"
	"github.com/samlad/samlad/infer"
)

// offlineScores inspects every replayed image with bank, as `samlad
// inspect` would: the only scores a real verdict may carry.
func offlineScores(t *testing.T, replay, bank string) []float64 {
	t.Helper()
	cfg := testPipelineConfig()
	eng := &engines{}
	insp, _, err := eng.NewInspector(cfg, bank)
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join(replay, "*.png"))
	var scores []float64
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := capture.DecodeImage(data)
		if err != nil {
			t.Fatal(err)
		}
		res, err := insp.Inspect(context.Background(), infer.FromImage(img, testSize))
		if err != nil {
			t.Fatal(err)
		}
		scores = append(scores, res.Score)
	}
	return scores
}

func knownScore(scores []float64, s float64) bool {
	for _, k := range scores {
		if math.Abs(k-s) <= 1e-9*max(1, math.Abs(k)) {
			return true
		}
	}
	return false
}

// triggerPLC publishes triggers at QoS 1 like a PLC and remembers which the
// broker acknowledged (PUBACK). It reconnects on its own after an outage;
// a trigger it cannot hand to the broker is not acknowledged.
type triggerPLC struct {
	t      *testing.T
	url    string
	client mqtt.Client
	mu     sync.Mutex
	acked  []string
	failed []string
	down   time.Time // when the broker was last found unreachable
}

func (p *triggerPLC) send(partID, payload string) {
	if p.client == nil && time.Since(p.down) < 250*time.Millisecond {
		// The broker was unreachable a moment ago: this trigger is not
		// acknowledged, and the rate holds steady.
		p.mu.Lock()
		p.failed = append(p.failed, partID)
		p.mu.Unlock()
		return
	}
	if p.client == nil || !p.client.IsConnectionOpen() {
		if p.client != nil {
			p.client.Disconnect(0)
		}
		p.client = mqtt.NewClient(mqtt.NewClientOptions().AddBroker(p.url).SetClientID(fmt.Sprintf("plc-%d", time.Now().UnixNano())).
			SetAutoReconnect(false).SetConnectTimeout(time.Second).SetProtocolVersion(4))
		if tok := p.client.Connect(); !tok.WaitTimeout(2*time.Second) || tok.Error() != nil {
			p.client, p.down = nil, time.Now()
			p.mu.Lock()
			p.failed = append(p.failed, partID)
			p.mu.Unlock()
			return
		}
	}
	tok := p.client.Publish(prefix+"/cam1/trigger/set", 1, false, payload)
	ok := tok.WaitTimeout(3*time.Second) && tok.Error() == nil
	p.mu.Lock()
	if ok {
		p.acked = append(p.acked, partID)
	} else {
		p.failed = append(p.failed, partID)
	}
	p.mu.Unlock()
	if !ok {
		p.client.Disconnect(0)
		p.client, p.down = nil, time.Now()
	}
}

// triggerReport groups the verdicts received by part id: distinct seq
// numbers per part (a QoS 1 redelivery of one verdict repeats its seq).
type triggerReport struct {
	bySeq    map[uint64]actuate.Verdict
	byPart   map[string][]uint64
	redelivs int
}

func collect(t *testing.T, msgs []mqtttest.Message) triggerReport {
	r := triggerReport{bySeq: map[uint64]actuate.Verdict{}, byPart: map[string][]uint64{}}
	for _, v := range verdicts(t, msgs) {
		if _, ok := r.bySeq[v.Seq]; ok {
			r.redelivs++
			continue
		}
		r.bySeq[v.Seq] = v
		r.byPart[v.PartID] = append(r.byPart[v.PartID], v.Seq)
	}
	return r
}

// Must show (issue 18): 300 MQTT triggers at 10 per second, each published
// at QoS 1 by a PLC that waits for the broker's PUBACK, while the broker is
// SIGKILLed twice and the daemon (the built binary) once. Every acknowledged
// trigger gets exactly one verdict, real or error; none gets two; no pass
// is invented (every pass and fail carries a score that an offline
// inspection of a replayed image gives); no verdict names a part that was
// never triggered.
func TestTriggersSurviveBrokerAndDaemonKills(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	const total, rate = 300, 10
	replay, bankA, _ := testFixture(t)
	scores := offlineScores(t, replay, bankA)
	bin := samladBinary(t)
	b := mqtttest.Start(t, mqtttest.Options{Persistence: true})
	rec := b.Record(t, prefix+"/cam1/verdict", mqtttest.RecorderOptions{ClientID: "plc-verdicts", Persistent: true})
	dir := t.TempDir()
	path := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: replay, loop: true, trigger: "software", deadline: "2s"}.write(t, dir)
	notify := listenNotify(t)
	p := startProc(t, bin, path, notify)
	p.waitReady(t, notify)

	plc := &triggerPLC{t: t, url: b.URL}
	type fault struct {
		at   int
		what string
		down time.Duration
	}
	faults := []fault{{60, "broker", 2 * time.Second}, {140, "daemon", 3 * time.Second}, {220, "broker", 2 * time.Second}}
	var faultLog []string
	var faultWG sync.WaitGroup
	start := time.Now()
	tick := time.NewTicker(time.Second / rate)
	for i := range total {
		<-tick.C
		if len(faults) > 0 && faults[0].at == i {
			f := faults[0]
			faults = faults[1:]
			faultWG.Wait()
			faultWG.Add(1)
			go func() {
				defer faultWG.Done()
				switch f.what {
				case "broker":
					b.Kill()
					time.Sleep(f.down)
					b.Restart()
				case "daemon":
					p.cmd.Process.Signal(syscall.SIGKILL)
					p.wait(t)
					time.Sleep(f.down)
					p = startProc(t, bin, path, notify)
				}
			}()
			faultLog = append(faultLog, fmt.Sprintf("%s SIGKILLed at trigger %d for %v", f.what, i, f.down))
		}
		id := fmt.Sprintf("T%03d", i)
		payload := id // half carry their own ts, half do not
		if i%2 == 0 {
			payload = fmt.Sprintf(`{"part_id":%q,"ts":%d}`, id, time.Now().UnixMilli())
		}
		plc.send(id, payload)
	}
	tick.Stop()
	faultWG.Wait()
	sent := time.Since(start)

	plc.mu.Lock()
	acked := slices.Clone(plc.acked)
	failed := slices.Clone(plc.failed)
	plc.mu.Unlock()
	answered := func() int {
		r := collect(t, rec.Messages(""))
		n := 0
		for _, id := range acked {
			if len(r.byPart[id]) > 0 {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(60 * time.Second)
	for answered() < len(acked) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // a duplicate would arrive now
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Errorf("exit code %d after SIGTERM; log:\n%s", code, p.out)
	}

	r := collect(t, rec.Messages(""))
	var missing, dups, invented, phantom []string
	kinds := map[string]int{}
	stale := 0
	for _, id := range acked {
		switch n := len(r.byPart[id]); {
		case n == 0:
			missing = append(missing, id)
		case n > 1:
			dups = append(dups, fmt.Sprintf("%s: seqs %v", id, r.byPart[id]))
		}
	}
	for seq, v := range r.bySeq {
		kinds[v.Verdict]++
		if strings.HasPrefix(v.Reason, "stale trigger") {
			stale++
		}
		if !strings.HasPrefix(v.PartID, "T") {
			phantom = append(phantom, fmt.Sprintf("seq %d part %q", seq, v.PartID))
		}
		switch v.Verdict {
		case actuate.Pass, actuate.Fail:
			if !knownScore(scores, v.Score) || v.Inspected.IsZero() {
				invented = append(invented, fmt.Sprintf("seq %d %s score %v", seq, v.Verdict, v.Score))
			}
		case actuate.Error:
			if !v.Reject {
				invented = append(invented, fmt.Sprintf("seq %d error without reject", seq))
			}
		}
	}
	sort.Strings(missing)
	t.Logf("%d triggers in %v (%s): %d acknowledged by the broker, %d not (sent while it was down)",
		total, sent.Round(100*time.Millisecond), strings.Join(faultLog, "; "), len(acked), len(failed))
	t.Logf("verdicts: %d distinct (%v; %d stale), %d QoS 1 redeliveries of one verdict; acknowledged triggers without a verdict: %d; with two or more: %d; invented passes: %d; phantom parts: %d",
		len(r.bySeq), kinds, stale, r.redelivs, len(missing), len(dups), len(invented), len(phantom))
	if len(missing) > 0 {
		t.Errorf("acknowledged triggers without a verdict: %v", missing)
	}
	if len(dups) > 0 {
		t.Errorf("triggers with more than one verdict: %v", dups)
	}
	if len(invented) > 0 {
		t.Errorf("verdicts not computed by the engine: %v", invented)
	}
	if len(phantom) > 0 {
		t.Errorf("verdicts for parts never triggered: %v", phantom)
	}
	if len(acked) < total/2 {
		t.Errorf("only %d of %d triggers acknowledged: the run did not exercise delivery", len(acked), total)
	}
}

// Through MQTT into the in-process daemon: a retained trigger left on the
// broker and the empty retained message that clears it make no verdict; a
// bad part id, a trigger that waited past the deadline (its ts) and
// triggers beyond a full inspection queue each get an error verdict that
// rejects, with the reason. Every other trigger gets its real verdict:
// one verdict per trigger.
func TestRefusedAndStaleTriggersGetErrorVerdicts(t *testing.T) {
	replay, bankA, _ := testFixture(t)
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, prefix+"/cam1/verdict", mqtttest.RecorderOptions{})
	hmi := commander(t, b)
	if tok := hmi.Publish(prefix+"/cam1/trigger/set", 1, true, "RETAINED"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	dir := t.TempDir()
	path := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: replay, loop: true, trigger: "software", deadline: "5s", queueDepth: 1, workers: 1}.write(t, dir)
	// Slow enough that the burst below, sent within milliseconds, finds
	// the one-frame queue full even on a loaded machine.
	slow := func(i Inspector) Inspector { return slowInspector{i, time.Second} }
	startDaemon(t, path, slow)
	if tok := hmi.Publish(prefix+"/cam1/trigger/set", 1, true, ""); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	send(t, hmi, "trigger", "BAD ID")
	send(t, hmi, "trigger", fmt.Sprintf(`{"part_id":"OLD","ts":%q}`, time.Now().Add(-10*time.Second).UTC().Format(time.RFC3339Nano)))
	const burst = 8
	for i := range burst {
		send(t, hmi, "trigger", fmt.Sprintf("B%d", i))
	}
	want := 2 + burst
	msgs := rec.Wait("", want, 60*time.Second)
	time.Sleep(time.Second) // anything extra (a phantom part) would arrive now
	vs := verdicts(t, rec.Messages(""))
	checkOrder(t, vs)
	if len(vs) != want {
		t.Errorf("%d verdicts for %d triggers:\n%s", len(vs), want, mqtttest.Format(msgs))
	}
	byPart := map[string]actuate.Verdict{}
	overload, real := 0, 0
	for _, v := range vs {
		byPart[v.PartID] = v
		t.Logf("seq %d part %q: %s reject=%t %s", v.Seq, v.PartID, v.Verdict, v.Reject, v.Reason)
		if strings.HasPrefix(v.PartID, "B") {
			if v.Verdict == actuate.Error {
				overload++
				if !v.Reject || !strings.Contains(v.Reason, "queue full") {
					t.Errorf("burst trigger %s: error verdict reject=%t reason %q, want reject and the full queue", v.PartID, v.Reject, v.Reason)
				}
			} else {
				real++
			}
		}
	}
	bad := byPart[""] // the bad part id is not echoed as one
	if bad.Verdict != actuate.Error || !bad.Reject || !strings.Contains(bad.Reason, `part id "BAD ID"`) {
		t.Errorf("bad part id: verdict %q reject=%t reason %q, want an error that rejects and names the part id", bad.Verdict, bad.Reject, bad.Reason)
	}
	old := byPart["OLD"]
	if old.Verdict != actuate.Error || !old.Reject || !strings.HasPrefix(old.Reason, "stale trigger: waited 10.") {
		t.Errorf("stale trigger: verdict %q reject=%t reason %q, want an error that rejects: stale trigger: waited 10.x s", old.Verdict, old.Reject, old.Reason)
	}
	if _, ok := byPart["RETAINED"]; ok {
		t.Error("the retained trigger fired")
	}
	if overload == 0 || real == 0 {
		t.Errorf("burst of %d: %d real verdicts, %d for the full queue; want both kinds", burst, real, overload)
	}
}
