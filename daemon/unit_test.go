package daemon

import (
	"encoding/json"
	"image"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// Findings are reported in the camera frame's pixels, not the engine's,
// with boxes grown outwards to whole pixels.
func TestFindingBoxesInFramePixels(t *testing.T) {
	fs := []infer.Finding{
		{Kind: infer.KindMissing, Box: image.Rect(10, 20, 30, 50), Area: 300},
		{Kind: infer.KindExtra, Box: image.Rect(1, 1, 2, 2), Area: 1},
	}
	got := WireFindings(fs, 100, image.Rect(0, 0, 400, 200))
	want := []actuate.Finding{
		{Kind: infer.KindMissing, Box: actuate.Box{X: 40, Y: 40, W: 80, H: 60}, Area: 2400},
		{Kind: infer.KindExtra, Box: actuate.Box{X: 4, Y: 2, W: 4, H: 2}, Area: 8},
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings %+v, want %+v", got, want)
	}
	// Downscaling keeps a box's far edges outside it (rounded up).
	if f := WireFindings(fs[:1], 224, image.Rect(0, 0, 100, 100))[0]; f.Box != (actuate.Box{X: 4, Y: 8, W: 10, H: 15}) {
		t.Errorf("downscaled box %+v, want {4 8 10 15}", f.Box)
	}
	if f := WireFindings(nil, 100, image.Rect(0, 0, 1, 1)); f == nil || len(f) != 0 {
		t.Errorf("no findings gave %#v, want an empty list", f)
	}
}

// The alignment, like the boxes, is in the frame's pixels; a bank that
// does not align frames leaves it out of the message.
func TestAlignmentInFramePixels(t *testing.T) {
	a := &infer.Alignment{DX: 7, DY: -2.5, Degrees: 1.234567}
	got := WireAlignment(a, 224, image.Rect(0, 0, 640, 448))
	if want := (actuate.Alignment{DX: 20, DY: -5, Degrees: 1.23}); got == nil || *got != want {
		t.Errorf("alignment %+v, want %+v", got, want)
	}
	failed := WireAlignment(&infer.Alignment{Failed: "register: no convergence"}, 224, image.Rect(0, 0, 224, 224))
	if failed == nil || failed.Failed == "" {
		t.Errorf("a failed alignment became %+v", failed)
	}
	b, err := json.Marshal(actuate.Verdict{Alignment: WireAlignment(nil, 224, image.Rect(0, 0, 10, 10))})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "alignment") {
		t.Errorf("a verdict without alignment encodes it: %s", b)
	}
}

// There is one box form: the engine's findings (eval reports) encode as
// the verdict message's do, {"x","y","w","h"}.
func TestOneBoxForm(t *testing.T) {
	f := infer.Finding{Kind: infer.KindStructural, Box: image.Rect(3, 4, 10, 20), Area: 50, Score: 1.5}
	a, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(WireFindings([]infer.Finding{f}, 64, image.Rect(0, 0, 64, 64))[0])
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) || !strings.Contains(string(b), `"box":{"x":3,"y":4,"w":7,"h":16}`) {
		t.Errorf("engine finding %s, wire finding %s; want both with box {x:3,y:4,w:7,h:16}", a, b)
	}
	var back infer.Finding
	if err := json.Unmarshal(a, &back); err != nil || back != f {
		t.Errorf("round trip: %+v, %v; want %+v", back, err, f)
	}
}

// Decide is the one place a verdict is made: the operator's threshold, the
// non-finite checks and the fail-safe.
func TestDecide(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	res := func(score, threshold float64) *infer.Result {
		return &infer.Result{Score: score, Threshold: threshold}
	}
	deadline := ReasonDeadline + ": no result in time for the 500ms deadline"
	for _, tc := range []struct {
		name    string
		rule    Rule
		res     *infer.Result
		failure string
		want    Decision
	}{
		{"pass", Rule{}, res(1, 2), "", Decision{Verdict: actuate.Pass, Score: 1, Threshold: 2}},
		{"at the threshold passes", Rule{}, res(2, 2), "", Decision{Verdict: actuate.Pass, Score: 2, Threshold: 2}},
		{"fail", Rule{}, res(3, 2), "", Decision{Verdict: actuate.Fail, Reject: true, Score: 3, Threshold: 2}},
		{"operator threshold fails a bank pass", Rule{Threshold: 0.5}, res(1, 2), "", Decision{Verdict: actuate.Fail, Reject: true, Score: 1, Threshold: 0.5}},
		{"operator threshold passes a bank fail", Rule{Threshold: 5}, res(3, 2), "", Decision{Verdict: actuate.Pass, Score: 3, Threshold: 5}},
		{"NaN score", Rule{}, res(nan, 2), "", Decision{Verdict: actuate.Error, Reject: true, Reason: "inspect: engine returned score NaN", Score: nan, Threshold: 2}},
		{"NaN score, operator threshold", Rule{Threshold: 5}, res(nan, 2), "", Decision{Verdict: actuate.Error, Reject: true, Reason: "inspect: engine returned score NaN", Score: nan, Threshold: 5}},
		{"+Inf score", Rule{}, res(inf, 2), "", Decision{Verdict: actuate.Error, Reject: true, Reason: "inspect: engine returned score +Inf", Score: inf, Threshold: 2}},
		{"-Inf score", Rule{}, res(-inf, 2), "", Decision{Verdict: actuate.Error, Reject: true, Reason: "inspect: engine returned score -Inf", Score: -inf, Threshold: 2}},
		{"NaN score, fail-safe pass", Rule{FailSafe: "pass"}, res(nan, 2), "", Decision{Verdict: actuate.Error, Reason: "inspect: engine returned score NaN", Score: nan, Threshold: 2}},
		{"missing threshold", Rule{}, res(1, 0), "", Decision{Verdict: actuate.Error, Reject: true,
			Reason: "inspect: no threshold to judge score 1 against (bank threshold 0)", Score: 1, Threshold: nan}},
		{"NaN threshold", Rule{}, res(1, nan), "", Decision{Verdict: actuate.Error, Reject: true,
			Reason: "inspect: no threshold to judge score 1 against (bank threshold NaN)", Score: 1, Threshold: nan}},
		{"missing threshold, operator's set", Rule{Threshold: 2}, res(1, 0), "", Decision{Verdict: actuate.Pass, Score: 1, Threshold: 2}},
		{"deadline, fail-safe reject", Rule{FailSafe: "fail"}, nil, deadline, Decision{Verdict: actuate.Error, Reject: true, Reason: deadline, Score: nan, Threshold: nan}},
		{"deadline, default fail-safe rejects", Rule{}, nil, deadline, Decision{Verdict: actuate.Error, Reject: true, Reason: deadline, Score: nan, Threshold: nan}},
		{"deadline, fail-safe pass", Rule{FailSafe: "pass"}, nil, deadline, Decision{Verdict: actuate.Error, Reason: deadline, Score: nan, Threshold: nan}},
		{"stage error", Rule{Threshold: 5}, nil, "inspect: features: out of memory", Decision{Verdict: actuate.Error, Reject: true, Reason: "inspect: features: out of memory", Score: nan, Threshold: nan}},
		{"a failure outweighs a result", Rule{}, res(1, 2), "deadline: late", Decision{Verdict: actuate.Error, Reject: true, Reason: "deadline: late", Score: nan, Threshold: nan}},
		{"no result", Rule{}, nil, "", Decision{Verdict: actuate.Error, Reject: true, Reason: "inspect: engine returned no result", Score: nan, Threshold: nan}},
	} {
		got := tc.rule.Decide(tc.res, tc.failure)
		same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
		if got.Verdict != tc.want.Verdict || got.Reject != tc.want.Reject || got.Reason != tc.want.Reason ||
			!same(got.Score, tc.want.Score) || !same(got.Threshold, tc.want.Threshold) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// An error verdict without a result publishes "score":null and
// "threshold":null, never 0.
func TestErrorVerdictHasNullScore(t *testing.T) {
	dec := Rule{}.Decide(nil, ReasonCapture+": empty frame")
	b, err := json.Marshal(actuate.Verdict{Verdict: dec.Verdict, Reject: dec.Reject, Reason: dec.Reason, Score: dec.Score, Threshold: dec.Threshold})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.Contains(s, `"score":null`) || !strings.Contains(s, `"threshold":null`) {
		t.Errorf("error verdict %s, want score and threshold null", s)
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
