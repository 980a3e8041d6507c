package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"gocv.io/x/gocv"

	"github.com/samlad/samlad/actuate/mqtttest"
	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
)

// syncBuffer is a bytes.Buffer safe to read while collect writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// goodFolder writes a few generated good parts to replay as a camera.
func goodFolder(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bag")
	writeScenes(t, dir, scenes.Bag, n, 0, 64)
	return filepath.Join(dir, "train", "good")
}

// collectConfig parses a config holding one camera.
func collectConfig(t *testing.T, camera string) config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(camera), filepath.Join(t.TempDir(), "line.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

var collectedName = regexp.MustCompile(`^line1-(\d{6})-\d{8}T\d{6}\.\d{3}Z(-[A-Za-z0-9_.-]+)?\.png$`)

// collected lists the PNG files of dir, checking each name and that each
// decodes at the camera's size; no temporary file may be left.
func collected(t *testing.T, dir string, side int) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left: %s", e.Name())
			continue
		}
		if !strings.HasPrefix(e.Name(), "line1-") {
			continue
		}
		if !collectedName.MatchString(e.Name()) {
			t.Errorf("file name %q: want line1-<seq>-<UTC time>[-<part id>].png", e.Name())
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() != side || img.Bounds().Dy() != side {
			t.Errorf("%s: not a %dx%d PNG: %v", e.Name(), side, side, err)
		}
		names = append(names, e.Name())
	}
	return names
}

// A free-running folder camera: N frames saved as PNG, numbered on from
// what the folder already holds, no file replaced, and the result ready
// for samlad enroll.
func TestCollectFreeRunFolder(t *testing.T) {
	good := goodFolder(t, 4)
	cfg := collectConfig(t, fmt.Sprintf("[[camera]]\nname = \"line1\"\nsource = \"folder\"\nfolder = %q\nloop = true\nrate = 0\nbank = \"line1.bank\"\n", good))
	out := filepath.Join(t.TempDir(), "collected")
	os.MkdirAll(out, 0o755)
	old := filepath.Join(out, "line1-000002-20260101T000000.000Z.png")
	os.WriteFile(old, []byte("an earlier frame"), 0o644)
	other := filepath.Join(out, "notes.txt")
	os.WriteFile(other, []byte("keep"), 0o644)

	var stdout, stderr syncBuffer
	rc := collectFrames(context.Background(), collectOptions{cfg: cfg, cfgArg: "line.toml", camera: cfg.Cameras[0], out: out, count: 6, prefix: "line1"}, &stdout, &stderr)
	if rc != 0 {
		t.Fatalf("rc %d\n%s", rc, stderr.String())
	}
	if b, _ := os.ReadFile(old); string(b) != "an earlier frame" {
		t.Errorf("an existing file was replaced")
	}
	if b, _ := os.ReadFile(other); string(b) != "keep" {
		t.Errorf("another file was touched")
	}
	os.Remove(old)
	names := collected(t, out, 64)
	if len(names) != 6 {
		t.Fatalf("%d files, want 6: %v\n%s", len(names), names, stderr.String())
	}
	for i, n := range names {
		if seq := collectedName.FindStringSubmatch(n)[1]; seq != fmt.Sprintf("%06d", i+3) {
			t.Errorf("file %d is %s: numbering should go on after the folder's highest (2)", i, n)
		}
	}
	if got := strings.Count(stderr.String(), "saved "+out); got != 6 {
		t.Errorf("%d progress lines for 6 frames (off a terminal, one per frame):\n%s", got, stderr.String())
	}
	for _, want := range []string{"saved 6 frames to " + out, "the count was reached", "samlad enroll --config line.toml --good " + out} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout.String())
		}
	}
	// The collected folder enrols.
	bank := filepath.Join(t.TempDir(), "line1.bank")
	if rc, _, stderr := captureOutput(t, func() int {
		return runEnroll([]string{"--good", out, "--out", bank})
	}); rc != 0 {
		t.Errorf("enroll the collected frames: rc %d: %s", rc, stderr)
	}
}

// Ctrl-C (here: the context) stops collection with every saved file whole.
func TestCollectInterrupted(t *testing.T) {
	good := goodFolder(t, 3)
	cfg := collectConfig(t, fmt.Sprintf("[[camera]]\nname = \"line1\"\nsource = \"folder\"\nfolder = %q\nloop = true\nrate = 50\nbank = \"b.bank\"\n", good))
	out := filepath.Join(t.TempDir(), "collected")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if m, _ := filepath.Glob(filepath.Join(out, "line1-*.png")); len(m) >= 3 {
				break
			}
		}
		cancel()
	}()
	var stdout, stderr syncBuffer
	rc := collectFrames(ctx, collectOptions{cfg: cfg, camera: cfg.Cameras[0], out: out, prefix: "line1"}, &stdout, &stderr)
	if rc != 0 || !strings.Contains(stdout.String(), "interrupted") {
		t.Fatalf("rc %d, stdout %q, stderr %q", rc, stdout.String(), stderr.String())
	}
	if names := collected(t, out, 64); len(names) < 3 {
		t.Errorf("%d files after the interrupt, want at least 3", len(names))
	}
}

// A software-triggered camera takes one frame per MQTT trigger on the
// topic run uses, the part id in the file name; a retained trigger is
// never a part, and an online daemon under the prefix gets a warning.
func TestCollectSoftwareTriggerMQTT(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{})
	good := goodFolder(t, 3)
	cfg := collectConfig(t, fmt.Sprintf("[mqtt]\nbroker = %q\nprefix = \"plant/line1\"\n\n[[camera]]\nname = \"line1\"\nsource = \"folder\"\nfolder = %q\nloop = true\ntrigger = \"software\"\nbank = \"b.bank\"\n", b.URL, good))

	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL).SetClientID("collect-test-plc").SetProtocolVersion(4))
	if tok := pub.Connect(); tok.Wait() && tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer pub.Disconnect(100)
	topic := "plant/line1/line1/trigger/set"
	pub.Publish(topic, 1, true, "SN-RETAINED").Wait()
	pub.Publish("plant/line1/available", 1, true, "online").Wait()

	out := filepath.Join(t.TempDir(), "collected")
	done := make(chan int)
	var stdout, stderr syncBuffer
	go func() {
		done <- collectFrames(context.Background(), collectOptions{cfg: cfg, camera: cfg.Cameras[0], out: out, count: 3, prefix: "line1"}, &stdout, &stderr)
	}()
	rc := triggerUntilDone(t, pub, topic, done, &stderr)
	if rc != 0 {
		t.Fatalf("rc %d:\n%s", rc, stderr.String())
	}
	names := collected(t, out, 64)
	if len(names) != 3 {
		t.Fatalf("%d files, want 3: %v", len(names), names)
	}
	for _, n := range names {
		if !regexp.MustCompile(`-SN-\d+\.png$`).MatchString(n) {
			t.Errorf("%s: the trigger's part id is not in the name", n)
		}
	}
	for _, want := range []string{"one frame per trigger on " + topic, "retained message on " + topic + " ignored", "warning: samlad is online under plant/line1"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	pub.Publish(topic, 1, true, "").Wait() // clear the retained trigger
}

// triggerUntilDone is the PLC: a trigger every 100 ms until collect
// returns (a trigger sent before collect subscribed is simply not seen).
func triggerUntilDone(t *testing.T, pub mqtt.Client, topic string, done <-chan int, stderr *syncBuffer) int {
	t.Helper()
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	timeout := time.After(30 * time.Second)
	for i := 1; ; i++ {
		select {
		case rc := <-done:
			return rc
		case <-ticker.C:
			pub.Publish(topic, 1, false, fmt.Sprintf(`{"part_id":"SN-%d"}`, i)).Wait()
		case <-timeout:
			t.Fatalf("collect did not stop after its triggered frames:\n%s", stderr.String())
		}
	}
}

// Under the plant ACL of docs/mqtt.md, with the PLC's trigger write that
// docs/quickstart-line.md adds, collect runs as the appliance's user: it
// reads the trigger topic (the availability topic it may not read is only
// a courtesy).
func TestCollectUnderPlantACL(t *testing.T) {
	doc, err := os.ReadFile("../../docs/mqtt.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, _ := strings.Cut(string(doc), "### Plant ACL example")
	_, acl, _ := strings.Cut(sec, "```\n")
	acl, _, _ = strings.Cut(acl, "```")
	const reject = "topic read plant/line1/+/reject\n"
	if !strings.Contains(acl, "user plc\n"+reject) {
		t.Fatalf("docs/mqtt.md's ACL has no plc user reading rejects:\n%s", acl)
	}
	acl = strings.Replace(acl, reject, reject+"topic write plant/line1/+/trigger/set\n", 1)
	quick, err := os.ReadFile("../../docs/quickstart-line.md")
	if err != nil || !strings.Contains(string(quick), "`topic write plant/line1/+/trigger/set`") {
		t.Fatalf("docs/quickstart-line.md no longer gives the PLC's trigger line this test adds (%v)", err)
	}
	b := mqtttest.Start(t, mqtttest.Options{Users: map[string]string{"samlad": "pw-app", "plc": "pw-plc"}, ACL: acl})
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("pw-app\n"), 0o600)
	good := goodFolder(t, 3)
	cfg := collectConfig(t, fmt.Sprintf("[mqtt]\nbroker = %q\nprefix = \"plant/line1\"\nusername = \"samlad\"\npassword_file = %q\n\n[[camera]]\nname = \"line1\"\nsource = \"folder\"\nfolder = %q\nloop = true\ntrigger = \"software\"\nbank = \"b.bank\"\n", b.URL, pwFile, good))
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL).SetClientID("collect-test-plc").SetProtocolVersion(4).SetUsername("plc").SetPassword("pw-plc"))
	if tok := pub.Connect(); tok.Wait() && tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer pub.Disconnect(100)
	out := filepath.Join(t.TempDir(), "collected")
	done := make(chan int)
	var stdout, stderr syncBuffer
	go func() {
		done <- collectFrames(context.Background(), collectOptions{cfg: cfg, camera: cfg.Cameras[0], out: out, count: 2, prefix: "line1"}, &stdout, &stderr)
	}()
	if rc := triggerUntilDone(t, pub, "plant/line1/line1/trigger/set", done, &stderr); rc != 0 {
		t.Fatalf("rc %d:\n%s", rc, stderr.String())
	}
	if names := collected(t, out, 64); len(names) != 2 {
		t.Errorf("%d files, want 2: %v\n%s", len(names), names, stderr.String())
	}
}

// A hardware-triggered camera: each frame it delivers is saved (a
// GStreamer videotestsrc stands in for a camera on its trigger line).
func TestCollectHardwareTrigger(t *testing.T) {
	vc, err := gocv.VideoCaptureFileWithAPI("videotestsrc num-buffers=1 ! videoconvert ! appsink", gocv.VideoCaptureGstreamer)
	ok := err == nil && vc.IsOpened()
	vc.Close()
	if !ok {
		t.Skip("OpenCV cannot open a GStreamer videotestsrc pipeline here (needs OpenCV built with GStreamer and gstreamer1.0-plugins-base)")
	}
	pipe := "videotestsrc num-buffers=10 pattern=ball ! video/x-raw,width=64,height=64 ! videoconvert ! video/x-raw,format=BGR ! appsink"
	cfg := collectConfig(t, fmt.Sprintf("[[camera]]\nname = \"line1\"\nsource = \"gstreamer\"\npipeline = %q\ntrigger = \"hardware\"\nbank = \"b.bank\"\n", pipe))
	out := filepath.Join(t.TempDir(), "collected")
	var stdout, stderr syncBuffer
	if rc := collectFrames(context.Background(), collectOptions{cfg: cfg, camera: cfg.Cameras[0], out: out, count: 4, prefix: "line1"}, &stdout, &stderr); rc != 0 {
		t.Fatalf("rc %d:\n%s", rc, stderr.String())
	}
	if names := collected(t, out, 64); len(names) != 4 {
		t.Errorf("%d files, want 4: %v", len(names), names)
	}
	if !strings.Contains(stderr.String(), "one frame per hardware trigger") {
		t.Errorf("stderr: %s", stderr.String())
	}
}

// Usage errors name what is wrong.
func TestCollectUsage(t *testing.T) {
	dir := t.TempDir()
	two := filepath.Join(dir, "two.toml")
	os.WriteFile(two, []byte("[[camera]]\nname = \"a\"\nsource = \"folder\"\nfolder = \"x\"\nbank = \"a.bank\"\n\n[[camera]]\nname = \"b\"\nsource = \"folder\"\nfolder = \"y\"\ntrigger = \"software\"\nbank = \"b.bank\"\n"), 0o644)
	for _, c := range []struct {
		args []string
		rc   int
		want string
	}{
		{[]string{"--config", two}, 2, "--config FILE and --out DIR are required"},
		{[]string{"--config", two, "--out", dir}, 2, "2 cameras (a, b): choose one with --camera"},
		{[]string{"--config", two, "--out", dir, "--camera", "c"}, 2, `no camera "c" (the config has a, b)`},
		{[]string{"--config", two, "--out", dir, "--camera", "b", "--rate", "2"}, 2, "--rate is for free-running cameras"},
		{[]string{"--config", two, "--out", dir, "--camera", "a", "--prefix", "../x"}, 2, "--prefix"},
		{[]string{"--config", filepath.Join(dir, "absent.toml"), "--out", dir}, 1, "absent.toml"},
	} {
		rc, _, stderr := captureOutput(t, func() int { return runCollect(c.args) })
		if rc != c.rc || !strings.Contains(stderr, c.want) {
			t.Errorf("collect %v: rc %d, stderr %q; want rc %d and %q", c.args, rc, stderr, c.rc, c.want)
		}
	}
}
