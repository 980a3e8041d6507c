package daemon

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/actuate/mqtttest"
)

// Fault 7, long form (SAMLAD_OVERLOAD_SECONDS=60; TestOverloadThenRecovery
// is the short form in `make test`): software triggers at twice the
// sustainable rate for that long, then at half of it for 5 s. Every trigger
// gets exactly one verdict, inspected or an explicit overload error; the
// queue stays within its bound and goroutines and heap stay flat while the
// overload lasts; once the rate drops, every frame is inspected again.
func TestOverloadSustained(t *testing.T) {
	secs, _ := strconv.Atoi(os.Getenv("SAMLAD_OVERLOAD_SECONDS"))
	if secs <= 0 {
		t.Skip("long form: set SAMLAD_OVERLOAD_SECONDS (60 in `make soak`); TestOverloadThenRecovery is the short form")
	}
	replay, bankA, _ := testFixture(t)
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, prefix+"/#", mqtttest.RecorderOptions{})
	dir := t.TempDir()
	const work, depth = 50 * time.Millisecond, 4 // one worker: at most 20 frames/s
	path := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: replay, loop: true, queueDepth: depth, workers: 1, deadline: "1s"}.write(t, dir)
	startDaemon(t, path, func(i Inspector) Inspector { return slowInspector{i, work} })
	hmi := commander(t, b)

	var mu sync.Mutex
	var gor []int
	var heap []uint64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			mu.Lock()
			gor, heap = append(gor, runtime.NumGoroutine()), append(heap, m.HeapInuse)
			mu.Unlock()
		}
	}()
	trigger := func(n int, every time.Duration, tag string) {
		next := time.Now()
		for i := range n {
			send(t, hmi, "trigger", fmt.Sprintf("%s-%d", tag, i)) // through MQTT and the command queue
			next = next.Add(every)
			time.Sleep(time.Until(next))
		}
	}
	hot, cool := 40*secs, 50
	trigger(hot, 25*time.Millisecond, "hot") // 40/s
	dropped := time.Now()
	trigger(cool, 100*time.Millisecond, "cool") // 10/s
	close(stopSampling)
	<-sampled
	vs := verdicts(t, rec.Wait(prefix+"/cam1/verdict", hot+cool, 2*time.Minute))
	time.Sleep(300 * time.Millisecond)
	if got := len(rec.Messages(prefix + "/cam1/verdict")); got != hot+cool {
		t.Fatalf("%d verdicts for %d triggers", got, hot+cool)
	}
	checkOrder(t, vs)
	var inspected, explicit int
	recovered := -1
	for i, v := range vs {
		switch {
		case v.Verdict == actuate.Pass || v.Verdict == actuate.Fail:
			inspected++
		case v.Verdict == actuate.Error && v.Reject && (strings.HasPrefix(v.Reason, ReasonOverload) || strings.HasPrefix(v.Reason, ReasonDeadline) || strings.Contains(v.Reason, "trigger queue full")):
			explicit++
			recovered = -1
		default:
			t.Errorf("verdict %d (%s): %s reject=%t %q", i, v.PartID, v.Verdict, v.Reject, v.Reason)
		}
		if v.Verdict != actuate.Error && recovered < 0 {
			recovered = i
		}
	}
	if recovered < 0 || recovered >= hot+cool-10 {
		t.Fatalf("not recovered: the last overload verdict is at index %d of %d", recovered, hot+cool)
	}
	recovery := max(vs[recovered].Captured.Sub(dropped), 0)
	maxQueue := 0
	for _, m := range rec.Messages(prefix + "/stats") {
		var s actuate.Stats
		if err := json.Unmarshal(m.Payload, &s); err == nil && len(s.Cameras) == 1 {
			maxQueue = max(maxQueue, s.Cameras[0].QueueDepth)
		}
	}
	if maxQueue > depth {
		t.Errorf("queue depth %d over its bound %d", maxQueue, depth)
	}
	mu.Lock()
	defer mu.Unlock()
	warm := min(5, len(gor)-1)
	gMax, hMax := 0, uint64(0)
	for i := warm; i < len(gor); i++ {
		gMax, hMax = max(gMax, gor[i]), max(hMax, heap[i])
	}
	t.Logf("%d triggers at 40/s for %d s into a 20/s engine, then %d at 10/s: %d inspected, %d explicit overload/deadline errors, 0 lost; max queue %d of %d; goroutines %d after 5 s, max %d; heap in use %.1f MiB after 5 s, max %.1f MiB; every frame inspected again %v after the rate dropped",
		hot, secs, cool, inspected, explicit, maxQueue, depth, gor[warm], gMax, mib(int64(heap[warm])), mib(int64(hMax)), recovery.Round(time.Millisecond))
	if gMax > gor[warm]+10 {
		t.Errorf("goroutines grew from %d to %d during the overload", gor[warm], gMax)
	}
	if float64(hMax) > 1.5*float64(heap[warm])+16<<20 {
		t.Errorf("heap grew from %.1f to %.1f MiB during the overload", mib(int64(heap[warm])), mib(int64(hMax)))
	}
}
