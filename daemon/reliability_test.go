package daemon

// Fault-injection tests (docs/reliability.md) beyond those in faults_test.go
// and process_test.go: repeated broker outages
// measured on the built binary, SIGKILL with verdicts waiting in the
// outgoing store, store overflow in a long outage, a camera folder that
// disappears, a disk that fills while archiving, path traversal in commands,
// and the daemon's listening sockets. Long forms: SAMLAD_FAULT_FRAMES.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/actuate/mqtttest"
)

// faultFrames is the length of the broker outage run: 150 frames in
// `make test`, SAMLAD_FAULT_FRAMES (1000 in `make soak`) by hand.
func faultFrames(t *testing.T) int {
	if s := os.Getenv("SAMLAD_FAULT_FRAMES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 50 {
			t.Fatalf("SAMLAD_FAULT_FRAMES=%q: want a number >= 50", s)
		}
		return n
	}
	return 150
}

// withMQTT adds lines to the [mqtt] section of the config file at path.
func withMQTT(t *testing.T, path, lines string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "[mqtt]\n", "[mqtt]\n"+lines, 1)
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// rssSampler records a process's resident memory every 50 ms, tagged with
// whether the broker was down at that moment.
type rssSampler struct {
	mu            sync.Mutex
	down          bool
	up, whileDown []int64
	stop          chan struct{}
	done          chan struct{}
}

func sampleRSS(t *testing.T, pid int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
			if err != nil {
				return
			}
			f := strings.Fields(string(b))
			pages, _ := strconv.ParseInt(f[1], 10, 64)
			s.mu.Lock()
			if s.down {
				s.whileDown = append(s.whileDown, pages*int64(os.Getpagesize()))
			} else {
				s.up = append(s.up, pages*int64(os.Getpagesize()))
			}
			s.mu.Unlock()
		}
	}()
	t.Cleanup(s.finish)
	return s
}

func (s *rssSampler) setDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

func (s *rssSampler) finish() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// deliveryReport checks what a persistent QoS 1 subscriber received against
// the contiguous sequence 1..last: nothing lost, first arrivals in order,
// duplicates byte-identical to the first copy (QoS 1 redelivery of the same
// stored message). It returns the number of duplicates.
func deliveryReport(t *testing.T, msgs []mqtttest.Message, from, last uint64) (dups int) {
	t.Helper()
	first := map[uint64][]byte{}
	var prev uint64
	for _, m := range msgs {
		var v actuate.Verdict
		if err := json.Unmarshal(m.Payload, &v); err != nil {
			t.Fatalf("verdict: %v: %s", err, m.Payload)
		}
		if p, ok := first[v.Seq]; ok {
			dups++
			if !bytes.Equal(p, m.Payload) {
				t.Errorf("seq %d arrived twice with different payloads:\n%s\n%s", v.Seq, p, m.Payload)
			}
			continue
		}
		if v.Seq < prev {
			t.Errorf("seq %d first arrived after seq %d: out of order", v.Seq, prev)
		}
		prev = v.Seq
		first[v.Seq] = m.Payload
	}
	lost := 0
	for s := from; s <= last; s++ {
		if _, ok := first[s]; !ok {
			lost++
			if lost <= 10 {
				t.Errorf("seq %d lost", s)
			}
		}
	}
	if lost > 10 {
		t.Errorf("... %d lost in all", lost)
	}
	return dups
}

// storedEntries reads the seq numbers waiting in the outgoing store.
func storedEntries(t *testing.T, dir string) []uint64 {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "*.msg"))
	var seqs []uint64
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			continue // delivered and removed meanwhile
		}
		line, _, _ := bytes.Cut(b, []byte("\n"))
		var e struct {
			Seq uint64 `json:"seq"`
		}
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("store entry %s: %v", n, err)
		}
		seqs = append(seqs, e.Seq)
	}
	slices.Sort(seqs)
	return seqs
}

// Fault 1: the broker is stopped and restarted several times while the built
// binary free-runs a camera at 25 fps (below the sustainable rate of this
// box, so every frame is inspected): a persistent-session QoS 1 subscriber
// gets every verdict in order, duplicates are identical redeliveries, the
// daemon's RSS while the broker is down stays within 20% of its level with
// the broker up, and each outage's backlog is delivered after the restart.
//
// The broker is stopped with SIGTERM. A SIGKILLed mosquitto loses QoS 1
// messages it acknowledged and had not yet saved (autosave_interval); that
// loss is the broker's, and no publisher can see or repair it.
func TestBrokerRestartsDuringRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	frames := faultFrames(t)
	outages := 3
	if frames >= 500 {
		outages = 5
	}
	replay, bankA, _ := testFixture(t)
	bin := samladBinary(t)
	b := mqtttest.Start(t, mqtttest.Options{Persistence: true})
	rec := b.Record(t, prefix+"/cam1/verdict", mqtttest.RecorderOptions{ClientID: "plc-restarts", Persistent: true})
	dir := t.TempDir()
	path := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: replay, loop: true, trigger: "free", rate: 25, deadline: "2s"}.write(t, dir)
	notify := listenNotify(t)
	p := startProc(t, bin, path, notify)
	p.waitReady(t, notify)
	rss := sampleRSS(t, p.cmd.Process.Pid)

	type outage struct {
		restarted time.Time
		stored    int
	}
	var outs []outage
	// Progress in distinct verdicts (seq numbers), duplicates not counted.
	seen, parsed, lastPub := map[uint64]bool{}, 0, time.Time{}
	distinct := func(n int) func() bool {
		return func() bool {
			ms := rec.Messages("")
			for _, v := range verdicts(t, ms[parsed:]) {
				seen[v.Seq] = true
				lastPub = v.Published
			}
			parsed = len(ms)
			return len(seen) >= n
		}
	}
	for i := range outages {
		n := (i + 1) * frames / (outages + 1)
		waitUntil(t, fmt.Sprintf("%d verdicts", n), time.Duration(frames)*time.Second, distinct(n))
		if i > 0 {
			// The next outage hits a working session (a verdict published
			// a second after the restart arrived), not a reconnection in
			// progress: back-to-back outages keep the backoff growing.
			up := outs[i-1].restarted.Add(time.Second)
			waitUntil(t, "a session a second old", time.Minute, func() bool { distinct(0)(); return lastPub.After(up) })
		}
		rss.setDown(true)
		b.Stop()
		// Down for 1.5 s: about 37 verdicts go to the outgoing store.
		time.Sleep(1500 * time.Millisecond)
		stored := len(storedEntries(t, filepath.Join(dir, "outbox")))
		b.Restart()
		rss.setDown(false)
		outs = append(outs, outage{restarted: time.Now(), stored: stored})
	}
	up := outs[len(outs)-1].restarted.Add(time.Second)
	waitUntil(t, "a session a second old", time.Minute, func() bool { distinct(0)(); return lastPub.After(up) })
	waitUntil(t, fmt.Sprintf("%d verdicts", frames), time.Duration(frames)*time.Second, distinct(frames))
	rss.finish()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit code %d; log:\n%s", code, p.out)
	}
	if left := storedEntries(t, filepath.Join(dir, "outbox")); len(left) != 0 {
		t.Errorf("%d verdicts still in the outgoing store after a clean stop with the broker up", len(left))
	}

	msgs := rec.Messages("")
	vs := verdicts(t, msgs)
	var last uint64
	for _, v := range vs {
		last = max(last, v.Seq)
	}
	dups := deliveryReport(t, msgs, 1, last)
	// Recovery: from the restart to the arrival of the first verdict
	// published after it (delivery is in order, so the backlog is in).
	var recov []string
	worst := time.Duration(0)
	for _, o := range outs {
		for i, v := range vs {
			if v.Published.After(o.restarted) {
				d := msgs[i].Time.Sub(o.restarted)
				worst = max(worst, d)
				recov = append(recov, fmt.Sprintf("%d stored/%v", o.stored, d.Round(10*time.Millisecond)))
				break
			}
		}
		if o.stored == 0 {
			t.Errorf("no verdict waited in the store during an outage: the test did not test buffering")
		}
	}
	baseUp, maxUp, maxDown := slices.Min(rss.up), slices.Max(rss.up), slices.Max(rss.whileDown)
	kinds := map[string]int{}
	for _, v := range vs {
		kinds[v.Verdict]++
	}
	t.Logf("%d verdicts (%v) over %d broker outages of 1.5 s: %d messages received, 0 lost, %d QoS 1 duplicates; per outage stored/recovery: %s; RSS broker up %.1f-%.1f MiB, broker down max %.1f MiB",
		last, kinds, outages, len(msgs), dups, strings.Join(recov, ", "), mib(baseUp), mib(maxUp), mib(maxDown))
	if float64(maxDown) > 1.2*float64(maxUp) {
		t.Errorf("RSS while the broker was down reached %.1f MiB, over 120%% of the %.1f MiB with it up", mib(maxDown), mib(maxUp))
	}
	if worst > 15*time.Second {
		t.Errorf("backlog took %v to deliver after a restart", worst)
	}
}

// Fault 1, overflow: an outage that outlasts mqtt.store_limit. With the
// default policy drop_oldest the oldest waiting verdicts are dropped (the
// newest reach the PLC), and store_overflow events name the dropped ranges;
// every other verdict arrives, in order.
func TestStoreOverflowInLongOutage(t *testing.T) {
	replay, bankA, _ := testFixture(t)
	b := mqtttest.Start(t, mqtttest.Options{Persistence: true})
	rec := b.Record(t, prefix+"/#", mqtttest.RecorderOptions{ClientID: "plc-overflow", Persistent: true})
	dir := t.TempDir()
	path := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: replay, loop: true, trigger: "free", rate: 25}.write(t, dir)
	const limit = 10
	withMQTT(t, path, fmt.Sprintf("store_limit = %d\nstore_overflow = \"drop_oldest\"\n", limit))
	r := startDaemon(t, path, nil)
	rec.Wait(prefix+"/cam1/verdict", 5, 30*time.Second)
	b.Stop()
	waitUntil(t, "the store full", 30*time.Second, func() bool { return len(storedEntries(t, filepath.Join(dir, "outbox"))) >= limit })
	time.Sleep(time.Second) // about 25 more verdicts than the store holds
	b.Restart()
	waitEvent(t, rec, "store_overflow", "dropped")
	n := len(rec.Messages(prefix + "/cam1/verdict"))
	rec.Wait(prefix+"/cam1/verdict", n+5, 30*time.Second)
	r.stop(t)

	// A loaded machine may publish slower than the camera delivers after
	// the restart, so the store can overflow more than once: every event
	// reports its own range, and their union must account for every loss.
	type span struct{ from, to uint64 }
	var spans []span
	dropped := 0
	re := regexp.MustCompile(`dropped the (\d+) oldest verdicts, from cam1 seq (\d+) to cam1 seq (\d+)`)
	for _, m := range rec.Messages(prefix + "/events") {
		if s := re.FindStringSubmatch(string(m.Payload)); s != nil {
			n, _ := strconv.Atoi(s[1])
			f, _ := strconv.ParseUint(s[2], 10, 64)
			l, _ := strconv.ParseUint(s[3], 10, 64)
			if n == 0 || l-f+1 != uint64(n) {
				t.Errorf("store_overflow event %q: %d dropped but seq %d to %d", m.Payload, n, f, l)
			}
			spans = append(spans, span{f, l})
			dropped += n
		}
	}
	if len(spans) == 0 {
		t.Fatalf("no store_overflow event; events:\n%s", mqtttest.Format(rec.Messages(prefix+"/events")))
	}
	msgs := rec.Messages(prefix + "/cam1/verdict")
	got := map[uint64]bool{}
	var last uint64
	for _, v := range verdicts(t, msgs) {
		got[v.Seq] = true
		last = max(last, v.Seq)
	}
	lost, overlap := 0, 0
	for s := uint64(1); s <= last; s++ {
		inDropped := false
		for _, sp := range spans {
			inDropped = inDropped || (s >= sp.from && s <= sp.to)
		}
		switch {
		case got[s] && inDropped:
			overlap++ // sent before the broker went away, then dropped from the store
		case !got[s] && !inDropped:
			lost++
			t.Errorf("seq %d neither received nor reported dropped", s)
		}
	}
	t.Logf("store_limit %d: %d verdicts, %d dropped (in %d store_overflow events: %v), %d of those had reached the broker before it stopped, %d lost unreported",
		limit, last, dropped, len(spans), spans, overlap, lost)
}

// Fault 2: with the broker down the built binary accepts verdicts into its
// persistent outgoing store and is SIGKILLed. After a restart (broker up
// again) every stored verdict is delivered, in order, and new frames get
// new numbers: none reused, and none skipped but the frames in flight.
func TestSIGKILLDeliversStoredVerdictsAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	replay, bankA, _ := testFixture(t)
	bin := samladBinary(t)
	b := mqtttest.Start(t, mqtttest.Options{Persistence: true})
	rec := b.Record(t, prefix+"/cam1/verdict", mqtttest.RecorderOptions{ClientID: "plc-sigkill", Persistent: true})
	dir := t.TempDir()
	store := filepath.Join(dir, "outbox")
	path := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: replay, loop: true, trigger: "free", rate: 20, deadline: "2s"}.write(t, dir)
	notify := listenNotify(t)
	p := startProc(t, bin, path, notify)
	p.waitReady(t, notify)
	rec.Wait("", 10, 30*time.Second)
	b.Stop()
	waitUntil(t, "15 verdicts in the store", 30*time.Second, func() bool { return len(storedEntries(t, store)) >= 15 })
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.wait(t)
	stored := storedEntries(t, store)
	before := verdicts(t, rec.Messages(""))
	var maxBefore uint64
	for _, v := range before {
		maxBefore = max(maxBefore, v.Seq)
	}
	maxBefore = max(maxBefore, stored[len(stored)-1])

	b.Restart()
	restarted := time.Now()
	p = startProc(t, bin, path, notify)
	waitUntil(t, "the stored verdicts and 5 new ones", 60*time.Second, func() bool {
		seen, fresh := map[uint64]bool{}, 0
		for _, m := range rec.Messages("") {
			var v actuate.Verdict
			json.Unmarshal(m.Payload, &v)
			seen[v.Seq] = true
			if v.Seq > maxBefore {
				fresh++
			}
		}
		for _, s := range stored {
			if !seen[s] {
				return false
			}
		}
		return fresh >= 5
	})
	recovered := time.Since(restarted)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit code %d; log:\n%s", code, p.out)
	}

	msgs := rec.Messages("")
	dups := deliveryReport(t, msgs, 1, stored[len(stored)-1])
	var firstNew uint64
	for _, v := range verdicts(t, msgs) {
		if v.Seq > maxBefore && firstNew == 0 {
			firstNew = v.Seq
		}
		if v.Published.After(restarted) && v.Seq <= maxBefore && !slices.Contains(stored, v.Seq) {
			t.Errorf("seq %d published by the new process reuses a number of the killed one", v.Seq)
		}
	}
	t.Logf("SIGKILL with %d verdicts in the store (seq %d-%d): all delivered after restart in %v, %d duplicates; new frames start at seq %d (numbers %d-%d skipped, never reused)",
		len(stored), stored[0], stored[len(stored)-1], recovered.Round(10*time.Millisecond), dups, firstNew, maxBefore+1, firstNew-1)
	if firstNew <= maxBefore {
		t.Errorf("first new seq %d does not follow %d", firstNew, maxBefore)
	}
}

// Fault 3: the camera's folder disappears mid-run (an unmounted share, a
// pulled USB disk). Triggers answered while it is gone are error verdicts
// (capture), never passes; the camera's retained status says lost, with
// retries backing off; when the folder returns it is reopened and
// inspection resumes.
func TestCameraFolderDisappears(t *testing.T) {
	replay, bankA, _ := testFixture(t)
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, prefix+"/#", mqtttest.RecorderOptions{})
	dir := t.TempDir()
	cam := filepath.Join(dir, "camera")
	if err := os.MkdirAll(cam, 0o755); err != nil {
		t.Fatal(err)
	}
	imgs, _ := filepath.Glob(filepath.Join(replay, "*.png"))
	for _, p := range imgs[:2] {
		if err := copyFile(p, filepath.Join(cam, filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}
	path := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: cam, loop: true,
		cameras: "reconnect_min = \"100ms\"\nreconnect_max = \"800ms\"\n"}.write(t, dir)
	startDaemon(t, path, nil)
	hmi := commander(t, b)
	verdictTopic := prefix + "/cam1/verdict"

	send(t, hmi, "trigger", "before")
	rec.Wait(verdictTopic, 1, 30*time.Second)
	if err := os.Rename(cam, cam+".gone"); err != nil {
		t.Fatal(err)
	}
	// The next triggers find the files gone, then the folder.
	const gone = 8
	for i := range gone {
		send(t, hmi, "trigger", fmt.Sprintf("gone-%d", i))
		time.Sleep(150 * time.Millisecond)
	}
	vs := verdicts(t, rec.Wait(verdictTopic, 1+gone, 30*time.Second))
	for _, v := range vs[1:] {
		if v.Verdict != actuate.Error || !v.Reject || !strings.HasPrefix(v.Reason, ReasonCapture) {
			t.Errorf("trigger %s while the folder is gone: %s reject=%t %q", v.PartID, v.Verdict, v.Reject, v.Reason)
		}
	}
	// Lost, with the backoff growing between attempts.
	re := regexp.MustCompile(`retry (\d+) in ([0-9.]+m?s)`)
	var delays []time.Duration
	waitUntil(t, "two lost states with retries", 10*time.Second, func() bool {
		delays = delays[:0]
		for _, m := range rec.Messages(prefix + "/cam1/status") {
			var st actuate.CameraStatus
			if json.Unmarshal(m.Payload, &st) == nil && st.State == actuate.CameraLost {
				if s := re.FindStringSubmatch(st.Detail); s != nil {
					d, _ := time.ParseDuration(s[2])
					delays = append(delays, d)
				}
			}
		}
		return len(delays) >= 3
	})
	if !(delays[1] > delays[0] && delays[2] > delays[1]) {
		t.Errorf("reconnect delays %v: want growing (exponential backoff)", delays)
	}
	back := time.Now()
	if err := os.Rename(cam+".gone", cam); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "camera ok again", 10*time.Second, func() bool {
		ms := rec.Messages(prefix + "/cam1/status")
		var st actuate.CameraStatus
		return len(ms) > 0 && json.Unmarshal(ms[len(ms)-1].Payload, &st) == nil && st.State == actuate.CameraOK && ms[len(ms)-1].Time.After(back)
	})
	reopened := time.Since(back)
	send(t, hmi, "trigger", "after")
	vs = verdicts(t, rec.Wait(verdictTopic, 2+gone, 30*time.Second))
	checkOrder(t, vs)
	if v := vs[len(vs)-1]; v.PartID != "after" || v.Verdict == actuate.Error {
		t.Errorf("after the folder returned: %s %s %q", v.PartID, v.Verdict, v.Reason)
	}
	t.Logf("%d triggers while the folder was gone: all capture error verdicts (first: %q); retry delays %v; reopened %v after the folder returned",
		gone, vs[1].Reason, delays, reopened.Round(10*time.Millisecond))
}

// Commands that try to leave bank_dir or enroll_dir, by `../`, an absolute
// path or a symlink, are refused with an event; the camera stays on its bank.
func TestCommandPathsStayInsideTheirDirectories(t *testing.T) {
	_, bankA, bankB := testFixture(t)
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, prefix+"/#", mqtttest.RecorderOptions{})
	dir := t.TempDir()
	banks, enroll := filepath.Join(dir, "banks"), filepath.Join(dir, "enroll")
	for _, d := range []string{banks, enroll} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	goodB := filepath.Join(fixture.dir, "good-b")
	if err := os.Symlink(bankB, filepath.Join(banks, "link.bank")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(goodB, filepath.Join(enroll, "link")); err != nil {
		t.Fatal(err)
	}
	path := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: fixture.single, loop: true, bankDir: banks, enrollDir: enroll}.write(t, dir)
	startDaemon(t, path, nil)
	hmi := commander(t, b)
	rel, _ := filepath.Rel(banks, bankB)
	relGood, _ := filepath.Rel(enroll, goodB)
	attempts := []struct{ setting, payload string }{
		{"recipe", rel}, // ../../..../bank-b.bank
		{"recipe", bankB},
		{"recipe", "sub/../../" + filepath.Base(bankB)},
		{"recipe", "link.bank"},
		{"recipe", "/etc/passwd"},
		{"enroll", relGood},
		{"enroll", goodB},
		{"enroll", "link"},
		{"enroll", "../../../../../../tmp"},
	}
	for _, a := range attempts {
		n := len(rec.Messages(prefix + "/events"))
		send(t, hmi, a.setting, a.payload)
		refused := func() bool {
			for _, m := range rec.Messages(prefix + "/events")[n:] {
				if e := string(m.Payload); strings.Contains(e, `"kind":"command"`) && strings.Contains(e, "refused") {
					return true
				}
			}
			return false
		}
		waitUntil(t, fmt.Sprintf("%s %q refused", a.setting, a.payload), 10*time.Second, refused)
	}
	send(t, hmi, "trigger", "after")
	v := verdicts(t, rec.Wait(prefix+"/cam1/verdict", 1, 30*time.Second))[0]
	if v.BankID != bankID(bankA) || v.Verdict == actuate.Error {
		t.Errorf("after refused commands the verdict is on bank %q (%s %s); want %q", v.BankID, v.Verdict, v.Reason, bankID(bankA))
	}
	if n := len(rec.Messages(prefix + "/cam1/recipe/state")); n != 1 {
		t.Errorf("recipe state published %d times; want only the start value", n)
	}
	if ms, _ := filepath.Glob(filepath.Join(banks, "*.bank")); len(ms) != 1 {
		t.Errorf("bank_dir holds %v: an enrolment ran", ms)
	}
	t.Logf("%d traversal attempts (../, absolute, symlink out) refused with events", len(attempts))
}

// socketInodes returns the inodes of the sockets process pid holds.
func socketInodes(t *testing.T, pid int) map[string]bool {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Skipf("cannot list /proc/%d/fd: %v", pid, err)
	}
	out := map[string]bool{}
	for _, fd := range fds {
		l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())) // a closed fd reads as ""
		if ino, ok := strings.CutPrefix(l, "socket:["); ok {
			out[strings.TrimSuffix(ino, "]")] = true
		}
	}
	return out
}

// listeners returns the TCP sockets in LISTEN state and the bound UDP
// sockets that process pid holds, as "proto local-address" strings.
func listeners(t *testing.T, pid int) []string {
	t.Helper()
	inodes := socketInodes(t, pid)
	var out []string
	for _, proto := range []string{"tcp", "tcp6", "udp", "udp6"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, proto))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 10 || !inodes[fs[9]] {
				continue
			}
			// tcp state 0A is LISTEN; any UDP socket can receive.
			if strings.HasPrefix(proto, "udp") || fs[3] == "0A" {
				out = append(out, proto+" "+hexAddr(fs[1]))
			}
		}
		f.Close()
	}
	return out
}

// hexAddr renders /proc/net/tcp's "0100007F:1F90" as "127.0.0.1:8080" (IPv4).
func hexAddr(s string) string {
	h, p, _ := strings.Cut(s, ":")
	port, _ := strconv.ParseUint(p, 16, 16)
	if len(h) != 8 {
		return s
	}
	v, _ := strconv.ParseUint(h, 16, 32)
	return fmt.Sprintf("%d.%d.%d.%d:%d", v&0xff, v>>8&0xff, v>>16&0xff, v>>24, port)
}

// The built binary opens no listening socket by default; with [daemon]
// health set it opens exactly that one, on the configured loopback address.
// A config file readable by every user holds no secret: no warning at start.
func TestNoListenerByDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	replay, bankA, _ := testFixture(t)
	bin := samladBinary(t)
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, prefix+"/cam1/verdict", mqtttest.RecorderOptions{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := ln.Addr().String()
	ln.Close()
	for _, health := range []string{"", free} {
		dir := t.TempDir()
		path := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: replay, loop: true, trigger: "free", rate: 10, health: health}.write(t, dir)
		// The second run's config file is readable by every user; it holds
		// no secret (a password is refused in it), so nothing is exposed.
		if health != "" {
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		notify := listenNotify(t)
		p := startProc(t, bin, path, notify)
		p.waitReady(t, notify)
		n := len(rec.Messages(""))
		rec.Wait("", n+3, 30*time.Second) // inspecting and publishing
		got := listeners(t, p.cmd.Process.Pid)
		socks := len(socketInodes(t, p.cmd.Process.Pid))
		p.cmd.Process.Signal(syscall.SIGTERM)
		if code := p.wait(t); code != 0 {
			t.Fatalf("exit code %d; log:\n%s", code, p.out)
		}
		if strings.Contains(p.out.String(), "secret exposed") {
			t.Errorf("a config file without secrets (health %q) warned of a secret exposed; log:\n%s", health, p.out)
		}
		if health == "" {
			if len(got) != 0 {
				t.Errorf("listening sockets without [daemon] health: %v", got)
			}
			t.Logf("default config: %d sockets open, none listening", socks)
		} else {
			if len(got) != 1 || got[0] != "tcp "+health {
				t.Errorf("with health = %q the listening sockets are %v", health, got)
			}
			t.Logf("health = %q: listening sockets %v", health, got)
		}
	}
}

// Fault 6: the archive's disk fills. The built binary runs in a private
// mount namespace (unshare, no privileges needed) with its archive on a
// 256 KiB tmpfs: once writes fail with ENOSPC archiving pauses with a
// published warning naming the cause, and every frame still gets its
// verdict.
func TestArchiveDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare (util-linux) not installed")
	}
	if out, err := exec.Command(unshare, "-Urm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt").CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs in a user namespace here (%v: %s)", err, out)
	}
	replay, bankA, _ := testFixture(t)
	bin := samladBinary(t)
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, prefix+"/#", mqtttest.RecorderOptions{})
	dir := t.TempDir()
	archive := filepath.Join(dir, "archive")
	if err := os.MkdirAll(archive, 0o755); err != nil {
		t.Fatal(err)
	}
	tc := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: replay, loop: true, trigger: "free", rate: 20, archiveDir: archive}
	path := tc.write(t, dir)
	// A cap (100 MB) far above the disk, so that the disk fills first.
	cfg, _ := os.ReadFile(path)
	os.WriteFile(path, bytes.Replace(cfg, []byte("max_bytes = 1000000"), []byte("max_bytes = 100000000"), 1), 0o600)

	notify := listenNotify(t)
	p := &proc{out: &bytes.Buffer{}, exited: make(chan error, 1)}
	p.cmd = exec.Command(unshare, "-Urm", "sh", "-c", `mount -t tmpfs -o size=256k samlad-archive "$0" && exec "$@"`, archive, bin, "run", "--config", path)
	p.cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+notify.path)
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
	p.waitReady(t, notify)
	waitEvent(t, rec, "archive", "no space left on device")
	paused := len(rec.Messages(prefix + "/cam1/verdict"))
	rec.Wait(prefix+"/cam1/verdict", paused+20, 30*time.Second)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit code %d; log:\n%s", code, p.out)
	}
	vs := verdicts(t, rec.Messages(prefix+"/cam1/verdict"))
	checkOrder(t, vs)
	kinds := map[string]int{}
	for _, v := range vs {
		kinds[v.Verdict]++
		if v.Verdict == actuate.Error && !strings.HasPrefix(v.Reason, ReasonOverload) {
			t.Errorf("seq %d: %s", v.Seq, v.Reason)
		}
	}
	var warn string
	for _, m := range rec.Messages(prefix + "/events") {
		if strings.Contains(string(m.Payload), `"kind":"archive"`) {
			warn = string(m.Payload)
			break
		}
	}
	t.Logf("archive disk (256 KiB tmpfs) full after %d verdicts; %d verdicts in all (%v), in order; event: %s", paused, len(vs), kinds, warn)
}
