package daemon

import (
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
)

// The config installed by `make install` must load as it is.
func TestServiceConfigIsValid(t *testing.T) {
	cfg, err := config.Load("../systemd/samlad.toml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Daemon.StateDir != "/var/lib/samlad" || !strings.HasPrefix(cfg.Runtime.TensorRT.EngineCacheDir, "/var/cache/samlad") {
		t.Errorf("state %q / engine cache %q must match StateDirectory= and CacheDirectory= of samlad.service", cfg.Daemon.StateDir, cfg.Runtime.TensorRT.EngineCacheDir)
	}
}

// The unit passes systemd's own checker (also run by `make lint`).
func TestServiceUnitVerifies(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (apt-get install systemd)")
	}
	unit, err := os.ReadFile("../systemd/samlad.service")
	if err != nil {
		t.Fatal(err)
	}
	// verify insists that ExecStart exists: point it at any executable.
	self, _ := os.Executable()
	dir := t.TempDir()
	p := filepath.Join(dir, "samlad.service")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/samlad", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(sa, "verify", p).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// A hung inspection or publisher withholds the watchdog ping.
func TestHealthDetectsStuckLoop(t *testing.T) {
	c := &camera{name: "cam1", busy: make([]atomic.Int64, 2)}
	now := time.Now()
	limit := stuckLimit(500 * time.Millisecond)
	if err := c.healthy(now, limit); err != nil {
		t.Fatalf("idle camera unhealthy: %v", err)
	}
	c.busy[1].Store(now.Add(-limit / 2).UnixNano())
	if err := c.healthy(now, limit); err != nil {
		t.Fatalf("inspection within the limit reported: %v", err)
	}
	c.busy[1].Store(now.Add(-2 * limit).UnixNano())
	if err := c.healthy(now, limit); err == nil || !strings.Contains(err.Error(), "inspection stuck") {
		t.Fatalf("stuck inspection not reported: %v", err)
	}
	c.busy[1].Store(0)
	c.pubBusy.Store(now.Add(-2 * limit).UnixNano())
	if err := c.healthy(now, limit); err == nil || !strings.Contains(err.Error(), "publisher stuck") {
		t.Fatalf("stuck publisher not reported: %v", err)
	}
}

// Findings are reported in the camera frame's pixels, not the engine's.
func TestFindingBoxesInFramePixels(t *testing.T) {
	v := &Verdict{
		Kind: KindFail, Image: &infer.Image{W: 100, H: 100}, Frame: image.NewRGBA(image.Rect(0, 0, 400, 200)),
		Result: &infer.Result{Findings: []infer.Finding{{Kind: infer.KindMissing, Box: image.Rect(10, 20, 30, 50), Area: 300}}},
	}
	f := toMessage(v).Findings[0]
	if f.Box != (actuate.Box{X: 40, Y: 40, W: 80, H: 60}) || f.Area != 2400 {
		t.Errorf("box %+v area %d, want {40 40 80 60} and 2400", f.Box, f.Area)
	}
}

// The daemon warns about a secret file others can read, and not about a
// config file others can read: it holds no secret.
func TestExposedSecretsWarned(t *testing.T) {
	dir := t.TempDir()
	cfgPath, pw := filepath.Join(dir, "samlad.toml"), filepath.Join(dir, "pw")
	if err := os.WriteFile(cfgPath, []byte("[mqtt]\nbroker = \"tcp://127.0.0.1:1883\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pw, []byte("x"), 0o640); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if w := exposedSecrets(cfg); len(w) != 0 {
		t.Fatalf("a 0644 config without secrets reported: %v", w)
	}
	cfg.MQTT.PasswordFile = pw
	if w := exposedSecrets(cfg); len(w) != 0 {
		t.Fatalf("0640 password file reported: %v", w)
	}
	os.Chmod(pw, 0o644)
	if w := exposedSecrets(cfg); len(w) != 1 || !strings.Contains(w[0], pw) {
		t.Fatalf("world-readable password file: %v", w)
	}
}
