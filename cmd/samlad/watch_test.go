package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/actuate/mqtttest"
	"github.com/samlad/samlad/config"
)

// TestWatchOnce runs `samlad watch --once` over mutual TLS against a real
// broker where an appliance has published, and reads the screen it prints.
func TestWatchOnce(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{RequireClientCert: true})
	cfg := config.DefaultMQTT()
	cfg.Broker, cfg.Prefix, cfg.ClientID = b.URL, "plant/line9", "watch-test-appliance"
	cfg.StoreDir = filepath.Join(t.TempDir(), "outbox")
	cfg.TLS = config.TLS{Enabled: true, CAFile: b.CAFile, CertFile: b.ClientCertFile, KeyFile: b.ClientKeyFile}
	app, err := actuate.Dial(cfg, config.DefaultActuate(), actuate.Commands{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := app.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	app.PublishCameraState("cam1", actuate.CameraOK, "")
	v := actuate.Verdict{Camera: "cam1", Seq: 7, PartID: "SN-7", Captured: time.Now(), Verdict: actuate.Fail, Reject: true,
		Score: 0.8, Threshold: 0.5, Findings: []actuate.Finding{{Kind: actuate.Extra, Box: actuate.Box{X: 5, Y: 6, W: 7, H: 8}}}}

	tech, key := b.ClientCert("technician")
	args := []string{"--broker", b.URL, "--prefix", "plant/line9", "--ca", b.CAFile, "--cert", tech, "--key", key, "--once", "1500ms"}
	out := captureStdout(t, func() {
		go func() {
			time.Sleep(500 * time.Millisecond) // while watch listens
			app.PublishVerdict(v)
		}()
		if code := runWatch(args); code != 0 {
			t.Errorf("watch exit code %d", code)
		}
	})
	for _, want := range []string{"appliance: online", "cam1         ok", "#7 SN-7 FAIL", "extra@(5,6 7x8)"} {
		if !strings.Contains(out, want) {
			t.Errorf("watch screen lacks %q:\n%s", want, out)
		}
	}
}

func TestWatchErrors(t *testing.T) {
	if code := runWatch(nil); code != 2 {
		t.Errorf("no --broker: exit %d, want 2", code)
	}
	if code := runWatch([]string{"--broker", "tcp://127.0.0.1:1", "--prefix", "a/#"}); code != 2 {
		t.Errorf("wildcard prefix: exit %d, want 2", code)
	}
	if code := runWatch([]string{"--broker", "tcp://127.0.0.1:1"}); code != 1 {
		t.Errorf("unreachable broker: exit %d, want 1", code)
	}
}

func captureStdout(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() { b, _ := io.ReadAll(r); done <- string(b) }()
	f()
	os.Stdout = old
	w.Close()
	return <-done
}
