package actuate

import (
	"context"
	"runtime"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/samlad/samlad/actuate/mqtttest"
	"github.com/samlad/samlad/config"
)

// BenchmarkRejectLatency measures PublishVerdict until the reject reaches a
// subscriber on the same broker (durable store write, then QoS 1 publish),
// against a bare paho QoS 1 publish to a subscriber in the same run.
func BenchmarkRejectLatency(b *testing.B) {
	br := mqtttest.Start(b, mqtttest.Options{})
	got := make(chan struct{}, 16)
	sub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(br.URL).SetClientID("bench-sub"))
	if tok := sub.Connect(); tok.Wait() && tok.Error() != nil {
		b.Fatal(tok.Error())
	}
	defer sub.Disconnect(100)
	sub.Subscribe("bench/#", 1, func(mqtt.Client, mqtt.Message) { got <- struct{}{} }).Wait()
	wait := func() {
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			b.Fatal("message not received")
		}
	}

	b.Run("paho-baseline", func(b *testing.B) {
		pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(br.URL).SetClientID("bench-pub"))
		if tok := pub.Connect(); tok.Wait() && tok.Error() != nil {
			b.Fatal(tok.Error())
		}
		defer pub.Disconnect(100)
		for b.Loop() {
			pub.Publish("bench/raw", 1, false, `{"seq":1,"part_id":"P-1","reject":true}`)
			wait()
		}
	})
	for _, fsync := range []bool{true, false} {
		name := "actuate-fsync"
		if !fsync {
			name = "actuate-no-fsync"
		}
		b.Run(name, func(b *testing.B) {
			cfg := testConfig(b, br)
			cfg.Prefix, cfg.StoreNoFsync = "bench", !fsync
			c, err := Dial(cfg, config.DefaultActuate(), Commands{}, testLogger(b))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close(context.Background())
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := c.WaitConnected(ctx); err != nil {
				b.Fatal(err)
			}
			v := sampleVerdict(1, Fail)
			for b.Loop() {
				v.Seq++
				if err := c.PublishVerdict(v); err != nil {
					b.Fatal(err)
				}
				wait() // the reject
				wait() // the verdict
			}
		})
	}
}

// TestMemoryBoundedWhileDown publishes many large verdicts while the broker
// is down: only the store's index stays in memory, not the payloads.
func TestMemoryBoundedWhileDown(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{})
	cfg := testConfig(t, b)
	cfg.StoreLimit, cfg.StoreNoFsync = 200, true // memory is the point here, not durability
	b.Stop()
	c := dial(t, cfg, config.DefaultActuate(), Commands{})
	v := sampleVerdict(0, Fail)
	for range 400 { // about 40 kB of JSON per verdict
		v.Findings = append(v.Findings, Finding{Kind: Structural, Box: Box{1, 2, 3, 4}, Area: 12, Score: 0.5})
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	const n = 1500 // 60 MB of verdicts if they were kept in memory
	for i := uint64(1); i <= n; i++ {
		v.Seq = i
		if err := c.PublishVerdict(v); err != nil {
			t.Fatal(err)
		}
	}
	grown := int64(heap()) - int64(before)
	t.Logf("heap grew by %d kB over %d verdicts of ~40 kB while the broker was down; %d wait in the store", grown/1024, n, c.Pending())
	if grown > 8<<20 {
		t.Errorf("heap grew by %d MB while the broker was down: verdicts are held in memory", grown>>20)
	}
	if c.Pending() != cfg.StoreLimit {
		t.Errorf("pending = %d, want the limit %d", c.Pending(), cfg.StoreLimit)
	}
}
