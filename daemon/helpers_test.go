package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/actuate/mqtttest"
	"github.com/samlad/samlad/capture"
	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
)

// testSize keeps the daemon tests fast on two cores: small generated scenes
// through the real built-in engine.
const testSize = 96

// fixture is a generated bag-scene split and two banks enrolled from
// disjoint sets of its good images (A and B), shared by the tests.
var fixture struct {
	once         sync.Once
	dir          string // split root: train/good, test/good, test/<anomaly>
	bankA, bankB string
	replay       string // folder replayed as a camera: good and anomalous test images
	single       string // folder holding one anomalous (scratched) image
	err          error
}

func testFixture(t *testing.T) (replay, bankA, bankB string) {
	t.Helper()
	fixture.once.Do(func() {
		dir, err := os.MkdirTemp("", "samlad-daemon-test-")
		if err != nil {
			fixture.err = err
			return
		}
		fixture.dir = dir
		fixture.err = buildFixture(dir)
	})
	if fixture.err != nil {
		t.Fatalf("test fixture: %v", fixture.err)
	}
	return fixture.replay, fixture.bankA, fixture.bankB
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.dir != "" {
		os.RemoveAll(fixture.dir)
	}
	if binary.path != "" {
		os.RemoveAll(filepath.Dir(binary.path))
	}
	tagged.Range(func(_, v any) bool {
		if p := v.(*taggedBinary).path; p != "" {
			os.RemoveAll(filepath.Dir(p))
		}
		return true
	})
	os.Exit(code)
}

func buildFixture(dir string) error {
	split := filepath.Join(dir, "split")
	if _, err := scenes.WriteSplit(split, scenes.SplitOptions{
		Kind: scenes.Bag, Layout: scenes.MVTecAD, Size: testSize, Seed: 7,
		TrainGood: 10, TestGood: 3, TestPerType: 1,
	}); err != nil {
		return err
	}
	// Two banks from disjoint good images, so a verdict's bank is checkable.
	good, err := filepath.Glob(filepath.Join(split, "train", "good", "*.png"))
	if err != nil || len(good) < 10 {
		return fmt.Errorf("want 10 good images, got %d (%v)", len(good), err)
	}
	cfg := testPipelineConfig()
	eng := &engines{}
	for i, bank := range []*string{&fixture.bankA, &fixture.bankB} {
		sub := filepath.Join(dir, fmt.Sprintf("good-%c", 'a'+i))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		for _, g := range good[i*5 : i*5+5] {
			if err := copyFile(g, filepath.Join(sub, fmt.Sprintf("%c_%s", 'a'+i, filepath.Base(g)))); err != nil {
				return err
			}
		}
		*bank = filepath.Join(dir, fmt.Sprintf("bank-%c.bank", 'a'+i))
		if err := eng.Enroll(cfg, sub, *bank); err != nil {
			return err
		}
	}
	// The replay folder: every test image (good and anomalous), flat.
	fixture.replay = filepath.Join(dir, "replay")
	if err := os.MkdirAll(fixture.replay, 0o755); err != nil {
		return err
	}
	test, _ := filepath.Glob(filepath.Join(split, "test", "*", "*.png"))
	// The single-image camera replays the test image bank A scores highest,
	// so that a threshold override can move it either side.
	insp, _, err := eng.NewInspector(cfg, fixture.bankA)
	if err != nil {
		return err
	}
	best, bestScore := "", math.Inf(-1)
	for _, p := range test {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		img, err := capture.DecodeImage(data)
		if err != nil {
			return err
		}
		res, err := insp.Inspect(context.Background(), infer.FromImage(img, testSize))
		if err != nil {
			return err
		}
		if res.Score > bestScore {
			best, bestScore = p, res.Score
		}
	}
	fixture.single = filepath.Join(dir, "single")
	if err := os.MkdirAll(fixture.single, 0o755); err != nil {
		return err
	}
	if err := copyFile(best, filepath.Join(fixture.single, "top.png")); err != nil {
		return err
	}
	for _, p := range test {
		name := filepath.Base(filepath.Dir(p)) + "_" + filepath.Base(p)
		if err := copyFile(p, filepath.Join(fixture.replay, name)); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

func testPipelineConfig() config.Config {
	cfg := config.Default()
	cfg.Pipeline.InputSize = testSize
	cfg.Pipeline.Workers = 1
	return cfg
}

// testConfig is what the tests vary in the TOML file.
type testConfig struct {
	broker, stateDir    string
	bank, replay        string
	trigger             string // software or free
	rate                float64
	loop                bool
	deadline            string
	queueDepth, workers int
	archiveDir          string
	bankDir, enrollDir  string
	health              string
	pipeline            string // replaces the built-in [pipeline] section (and may add [runtime], [models])
	cameras             string // more [[camera]] tables
}

// write renders the config file into dir and returns its path.
func (tc testConfig) write(t *testing.T, dir string) string {
	t.Helper()
	if tc.trigger == "" {
		tc.trigger = "software"
	}
	if tc.deadline == "" {
		tc.deadline = "10s"
	}
	if tc.queueDepth == 0 {
		tc.queueDepth = 32
	}
	if tc.workers == 0 {
		tc.workers = 2
	}
	var b strings.Builder
	if tc.pipeline != "" {
		b.WriteString(tc.pipeline)
	} else {
		fmt.Fprintf(&b, "[pipeline]\ninput_size = %d\nworkers = 1\n\n", testSize)
	}
	fmt.Fprintf(&b, "[[camera]]\nname = \"cam1\"\nsource = \"folder\"\nfolder = %q\nloop = %t\ntrigger = %q\nbank = %q\nrecipe = \"bag\"\n", tc.replay, tc.loop, tc.trigger, tc.bank)
	if tc.rate > 0 {
		fmt.Fprintf(&b, "rate = %g\n", tc.rate)
	}
	b.WriteString(tc.cameras)
	fmt.Fprintf(&b, "\n[mqtt]\nbroker = %q\nclient_id = \"samlad-test\"\nprefix = \"plant/line1\"\nstore_dir = %q\nstats_interval = \"200ms\"\nconnect_timeout = \"2s\"\n",
		tc.broker, filepath.Join(tc.stateDir, "outbox"))
	fmt.Fprintf(&b, "\n[actuate]\nheatmap = \"fail\"\n")
	fmt.Fprintf(&b, "\n[daemon]\ndeadline = %q\nqueue_depth = %d\nworkers = %d\nstate_dir = %q\n", tc.deadline, tc.queueDepth, tc.workers, tc.stateDir)
	if tc.bankDir != "" {
		fmt.Fprintf(&b, "bank_dir = %q\n", tc.bankDir)
	}
	if tc.enrollDir != "" {
		fmt.Fprintf(&b, "enroll_dir = %q\n", tc.enrollDir)
	}
	if tc.health != "" {
		fmt.Fprintf(&b, "health = %q\n", tc.health)
	}
	if tc.archiveDir != "" {
		fmt.Fprintf(&b, "\n[archive]\nenabled = true\ndir = %q\nmax_bytes = 1000000\nkeep = \"all\"\n", tc.archiveDir)
	}
	path := filepath.Join(dir, "samlad.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const prefix = "plant/line1"

// running is a daemon started in-process against a real broker.
type running struct {
	d      *Daemon
	cancel context.CancelFunc
	done   chan error
}

// startDaemon runs the daemon on the config file with the real engine,
// broker and folder camera. wrap, when set, wraps each engine (fault
// injection at the engine's edge: delays, errors).
func startDaemon(t *testing.T, path string, wrap func(Inspector) Inspector) *running {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	deps := DefaultDeps(log)
	if wrap != nil {
		inner := deps.NewInspector
		deps.NewInspector = func(cfg config.Config, bank string) (Inspector, string, error) {
			insp, prov, err := inner(cfg, bank)
			if err != nil {
				return nil, "", err
			}
			return wrap(insp), prov, nil
		}
	}
	r := &running{d: New(path, cfg, deps), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.d.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for !r.d.Ready() {
		select {
		case err := <-r.done:
			t.Fatalf("daemon stopped before ready: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("daemon not ready within 20s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop stops the daemon cleanly and checks that Run returned nil.
func (r *running) stop(t *testing.T) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("daemon stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("daemon did not stop within 30s")
	}
}

// testWriter sends the daemon's log to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// commander publishes operator commands like a plant HMI would.
func commander(t *testing.T, b *mqtttest.Broker) mqtt.Client {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL).SetClientID(fmt.Sprintf("hmi-%d", time.Now().UnixNano())))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("commander connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func send(t *testing.T, c mqtt.Client, setting, payload string) {
	t.Helper()
	tok := c.Publish(prefix+"/cam1/"+setting+"/set", 1, false, payload)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", setting, tok.Error())
	}
}

func verdicts(t *testing.T, msgs []mqtttest.Message) []actuate.Verdict {
	t.Helper()
	out := make([]actuate.Verdict, len(msgs))
	for i, m := range msgs {
		if err := json.Unmarshal(m.Payload, &out[i]); err != nil {
			t.Fatalf("verdict %d: %v: %s", i, err, m.Payload)
		}
	}
	return out
}

// checkOrder fails unless the verdicts carry consecutive seq numbers.
func checkOrder(t *testing.T, vs []actuate.Verdict) {
	t.Helper()
	for i := 1; i < len(vs); i++ {
		if vs[i].Seq != vs[i-1].Seq+1 {
			t.Fatalf("verdict %d has seq %d after %d: want consecutive", i, vs[i].Seq, vs[i-1].Seq)
		}
	}
}

// slowInspector delays every inspection (honouring the deadline, as a stage
// that checks ctx would) before running the real engine.
type slowInspector struct {
	Inspector
	delay time.Duration
}

func (s slowInspector) Inspect(ctx context.Context, img *infer.Image) (*infer.Result, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.Inspector.Inspect(ctx, img)
}
