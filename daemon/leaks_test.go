package daemon

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/actuate/mqtttest"
	"github.com/samlad/samlad/capture"
)

// writeReplayVideo writes the replay folder's images as an MJPG AVI, so that
// the soak runs through OpenCV's capture path, where frames are gocv.Mats.
func writeReplayVideo(t *testing.T, replay, path string) {
	t.Helper()
	imgs, _ := filepath.Glob(filepath.Join(replay, "*.png"))
	vw, err := gocv.VideoWriterFile(path, "MJPG", 25, testSize, testSize, true)
	if err != nil {
		t.Fatal(err)
	}
	defer vw.Close()
	if !vw.IsOpened() {
		t.Skip("OpenCV's VideoWriter cannot write MJPG/AVI on this machine")
	}
	for _, p := range imgs {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := capture.DecodeImage(data)
		if err != nil {
			t.Fatal(err)
		}
		m, err := gocv.ImageToMatRGB(img)
		if err != nil {
			t.Fatal(err)
		}
		err = vw.Write(m)
		m.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// In process, through OpenCV's video capture at 60 fps for
// SAMLAD_SOAK_FRAMES frames (300 by default; `make soak` runs 5000 built
// with -tags matprofile): the goroutine count after warm-up stays put, every
// frame gets its verdict in order, and once the daemon stopped no goroutine
// of its own and (with matprofile) no gocv.Mat is left.
func TestSoakInProcessLeaks(t *testing.T) {
	frames := soakFrames(t)
	replay, bankA, _ := testFixture(t)
	dir := t.TempDir()
	video := filepath.Join(dir, "line.avi")
	writeReplayVideo(t, replay, video)
	b := mqtttest.Start(t, mqtttest.Options{})
	rec := b.Record(t, prefix+"/cam1/verdict", mqtttest.RecorderOptions{})
	path := testConfig{broker: b.URL, stateDir: dir, bank: bankA, replay: replay, loop: true, trigger: "free", rate: 60, queueDepth: 8}.write(t, dir)
	cfg, _ := os.ReadFile(path)
	src := strings.Replace(string(cfg), "source = \"folder\"\nfolder = \""+replay+"\"", "source = \"video\"\nurl = \""+video+"\"", 1)
	if src == string(cfg) {
		t.Fatal("could not switch the test camera to the video source")
	}
	os.WriteFile(path, []byte(src), 0o600)

	runtime.GC()
	g0, mats0 := runtime.NumGoroutine(), liveMats()
	r := startDaemon(t, path, nil)
	rec.Wait("", frames/5, 5*time.Minute)
	gWarm := runtime.NumGoroutine()
	gMax, matsMax := gWarm, liveMats()
	for n := frames / 5; n < frames; n += frames / 20 {
		rec.Wait("", n, time.Duration(frames)*time.Second)
		gMax, matsMax = max(gMax, runtime.NumGoroutine()), max(matsMax, liveMats())
	}
	rec.Wait("", frames, time.Duration(frames)*time.Second)
	gEnd := runtime.NumGoroutine()
	r.stop(t)
	vs := verdicts(t, rec.Messages(""))
	checkOrder(t, vs)
	kinds := map[string]int{}
	for _, v := range vs {
		k := v.Verdict
		if v.Verdict == actuate.Error {
			k, _, _ = strings.Cut(v.Reason, ":") // overload, deadline, capture, inspect
		}
		kinds[k]++
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > g0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	gAfter := runtime.NumGoroutine()
	mats := liveMats()
	t.Logf("%d frames from a video at 60 fps: %v; goroutines before %d, after warm-up %d, max %d, end %d, after stop %d; live gocv.Mat before %d, max while running %d, after stop %d (-1: built without -tags matprofile)",
		len(vs), kinds, g0, gWarm, gMax, gEnd, gAfter, mats0, matsMax, mats)
	if mats0 >= 0 && matsMax <= mats0 {
		t.Error("no gocv.Mat live while the video camera ran: is the profile counting?")
	}
	if gMax > gWarm+4 {
		t.Errorf("goroutines grew from %d after warm-up to %d", gWarm, gMax)
	}
	if gAfter > g0 {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before the daemon, %d after it stopped:\n%s", g0, gAfter, buf[:runtime.Stack(buf, true)])
	}
	if mats != mats0 {
		t.Errorf("%d gocv.Mat live after the daemon stopped, %d before", mats, mats0)
	}
}
