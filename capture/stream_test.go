package capture

import (
	"errors"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/samlad/samlad/config"
)

// writeVideo writes n frames of w x h in palette colours to an MJPG AVI
// with OpenCV's VideoWriter (its built-in MJPEG encoder needs no FFmpeg).
func writeVideo(t *testing.T, path string, n, w, h int) {
	t.Helper()
	vw, err := gocv.VideoWriterFile(path, "MJPG", 10, w, h, true)
	if err != nil {
		t.Fatal(err)
	}
	defer vw.Close()
	if !vw.IsOpened() {
		t.Skip("OpenCV's VideoWriter cannot write MJPG/AVI on this machine")
	}
	for i := 0; i < n; i++ {
		c := palette[i%len(palette)]
		m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(float64(c.B), float64(c.G), float64(c.R), 0), h, w, gocv.MatTypeCV8UC3)
		err := vw.Write(m)
		m.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestVideoFileSoftwareTrigger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "line.avi")
	writeVideo(t, path, 5, 64, 48)
	r := start(t, config.Camera{Name: "cam2", Source: "video", URL: path, Trigger: "software", Width: 64, Height: 48}, Options{})
	for i := 0; i < 6; i++ {
		if err := r.Trigger(fmt.Sprintf("P%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 5; i++ {
		f := r.next(t)
		if f.Err != nil {
			t.Fatalf("frame %d: %v", i, f.Err)
		}
		if f.PartID != fmt.Sprintf("P%d", i) || f.Origin != fmt.Sprintf("frame %d", i+1) {
			t.Errorf("frame %d: part %q origin %q", i, f.PartID, f.Origin)
		}
		if b := f.Image.Rect; b.Dx() != 64 || b.Dy() != 48 {
			t.Fatalf("frame %d is %v", i, b)
		}
		// MJPEG is lossy: colours come back within a few levels.
		if c := centre(f.Image); !near(c, palette[i], 12) {
			t.Errorf("frame %d: colour %v, want ~%v", i, c, palette[i])
		}
	}
	// The sixth trigger finds the file at its end.
	if f := r.next(t); f.Err == nil || f.PartID != "P5" || !strings.Contains(f.Err.Error(), "source ended") {
		t.Errorf("trigger past the end: %+v", f)
	}
}

func TestVideoFileLoopsInFreeRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "line.avi")
	writeVideo(t, path, 3, 32, 32)
	r := start(t, config.Camera{Name: "cam2", Source: "video", URL: path, Loop: true}, Options{})
	for i := 0; i < 7; i++ {
		f := r.next(t)
		if f.Err != nil {
			t.Fatalf("frame %d: %v", i, f.Err)
		}
		if c := centre(f.Image); !near(c, palette[i%3], 12) {
			t.Errorf("frame %d: colour %v, want ~%v (the file replays from the start)", i, c, palette[i%3])
		}
	}
}

func TestVideoFileWrongSizeIsAnErrorFrame(t *testing.T) {
	path := filepath.Join(t.TempDir(), "line.avi")
	writeVideo(t, path, 2, 32, 32)
	r := start(t, config.Camera{Name: "cam2", Source: "video", URL: path, Width: 64, Height: 48}, Options{})
	for i := 0; i < 2; i++ {
		f := r.next(t)
		if f.Err == nil || !strings.Contains(f.Err.Error(), "frame is 32x32") || !strings.Contains(f.Err.Error(), path) {
			t.Errorf("frame %d: %+v", i, f)
		}
	}
}

func TestCorruptVideoFileIsLost(t *testing.T) {
	path := writeFile(t, t.TempDir(), "broken.avi", []byte(strings.Repeat("RIFF not really an avi ", 64)))
	r := start(t, config.Camera{Name: "cam2", Source: "video", URL: path, Trigger: "software",
		ReconnectMin: config.Duration(5 * time.Millisecond), ReconnectMax: config.Duration(10 * time.Millisecond)}, Options{})
	r.waitState(t, StateLost, 2)
	for _, e := range r.states.list() {
		if e.State == StateLost && !strings.Contains(e.Err.Error(), path) {
			t.Errorf("lost event does not name the file: %v", e.Err)
		}
	}
}

func TestMissingV4L2DeviceReconnectsWithBackoff(t *testing.T) {
	dev := "/dev/video97"
	if _, err := os.Stat(dev); err == nil {
		t.Skipf("%s exists on this machine", dev)
	}
	min, max := 10*time.Millisecond, 40*time.Millisecond
	r := start(t, config.Camera{Name: "cam3", Source: "v4l2", Device: "97", Trigger: "software", Width: 640, Height: 480,
		ReconnectMin: config.Duration(min), ReconnectMax: config.Duration(max)}, Options{})
	r.waitState(t, StateLost, 5)
	if err := r.Trigger("during-outage"); err != nil {
		t.Fatal(err)
	}
	f := r.next(t)
	if f.Err == nil || f.PartID != "during-outage" || !strings.Contains(f.Err.Error(), dev) {
		t.Errorf("trigger during the outage: %+v", f)
	}
	r.stop(t)

	var lost []StateEvent
	var lastTry time.Time
	for _, e := range r.states.list() {
		switch e.State {
		case StateLost:
			if !lastTry.IsZero() && e.Time.Sub(lastTry) > time.Second {
				t.Errorf("attempt %d took %v", e.Attempt, e.Time.Sub(lastTry))
			}
			lost = append(lost, e)
		case StateReconnecting:
			// The wait before this attempt is at least the announced backoff.
			prev := lost[len(lost)-1]
			if d := e.Time.Sub(prev.Time); d < prev.Retry {
				t.Errorf("attempt %d came after %v, backoff was %v", e.Attempt+1, d, prev.Retry)
			}
			lastTry = e.Time
		}
	}
	want := []time.Duration{10, 20, 40, 40, 40}
	for i, w := range want {
		e := lost[i]
		if e.Attempt != i+1 || e.Retry != w*time.Millisecond {
			t.Errorf("lost event %d: attempt %d retry %v, want %d and %v", i, e.Attempt, e.Retry, i+1, w*time.Millisecond)
		}
		if msg := e.Err.Error(); !strings.Contains(msg, "v4l2 device "+dev) || !errors.Is(e.Err, os.ErrNotExist) {
			t.Errorf("lost event %d: %q should name %s and say it does not exist", i, msg, dev)
		}
	}
	if names := r.states.names(); names[0] != StateOpening || names[len(names)-1] != StateStopped {
		t.Errorf("states %v", names)
	}
}

// gstreamerOK reports whether OpenCV here can run a videotestsrc pipeline.
func gstreamerOK(t *testing.T) {
	t.Helper()
	vc, err := gocv.VideoCaptureFileWithAPI("videotestsrc num-buffers=1 ! videoconvert ! appsink", gocv.VideoCaptureGstreamer)
	ok := err == nil && vc.IsOpened()
	vc.Close()
	if !ok {
		t.Skip("OpenCV cannot open a GStreamer videotestsrc pipeline here (needs OpenCV built with GStreamer and gstreamer1.0-plugins-base)")
	}
}

func TestGStreamerHardwareTrigger(t *testing.T) {
	gstreamerOK(t)
	// Each frame of a hardware-triggered camera is a part; videotestsrc
	// stands in for the camera. Its end after 4 buffers is a lost camera.
	pipe := "videotestsrc num-buffers=4 pattern=blue ! video/x-raw,width=64,height=48 ! videoconvert ! video/x-raw,format=BGR ! appsink"
	r := start(t, config.Camera{Name: "gige", Source: "gstreamer", Pipeline: pipe, Trigger: "hardware", Width: 64, Height: 48,
		ReconnectMin: config.Duration(5 * time.Millisecond)}, Options{})
	for i := 0; i < 8; i++ { // two openings of the pipeline
		f := r.next(t)
		if f.Err != nil {
			t.Fatalf("frame %d: %v", i, f.Err)
		}
		if c := centre(f.Image); !near(c, color.RGBA{0, 0, 255, 255}, 2) {
			t.Errorf("frame %d: colour %v, want blue", i, c)
		}
	}
	r.waitState(t, StateReconnecting, 2)
	for _, e := range r.states.list() {
		if e.State == StateLost && !strings.Contains(e.Err.Error(), "gstreamer pipeline: read failed after 4 frames") {
			t.Errorf("lost: %v", e.Err)
		}
	}
}

func TestGStreamerLiveSoftwareTrigger(t *testing.T) {
	gstreamerOK(t)
	pipe := "videotestsrc is-live=true pattern=green ! video/x-raw,width=32,height=32,framerate=60/1 ! videoconvert ! video/x-raw,format=BGR ! appsink"
	r := start(t, config.Camera{Name: "gige", Source: "gstreamer", Pipeline: pipe, Trigger: "software"}, Options{})
	r.waitState(t, StateOnline, 1)
	for i := 0; i < 3; i++ {
		if err := r.Trigger(fmt.Sprint("part", i)); err != nil {
			t.Fatal(err)
		}
		f := r.next(t)
		if f.Err != nil || f.PartID != fmt.Sprint("part", i) || f.Time.Before(f.Triggered) {
			t.Fatalf("trigger %d: %+v", i, f)
		}
		if c := centre(f.Image); !near(c, color.RGBA{0, 255, 0, 255}, 2) {
			t.Errorf("frame %d: colour %v, want green", i, c)
		}
	}
	// Untriggered frames of the running camera are read and discarded.
	select {
	case f := <-r.Frames():
		t.Fatalf("untriggered frame %+v", f)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestLostLiveCameraAnswersEveryTrigger(t *testing.T) {
	gstreamerOK(t)
	// The camera delivers 3 frames and then disappears; 10 triggers were
	// waiting. Each gets exactly one frame: an image or the loss.
	pipe := "videotestsrc is-live=true num-buffers=3 ! video/x-raw,width=32,height=32,framerate=20/1 ! videoconvert ! video/x-raw,format=BGR ! appsink"
	r := start(t, config.Camera{Name: "gige", Source: "gstreamer", Pipeline: pipe, Trigger: "software",
		ReconnectMin: config.Duration(time.Hour)}, Options{TriggerBuffer: 10})
	for i := 0; i < 10; i++ {
		if err := r.Trigger(fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	images, errs := 0, 0
	for i := 0; i < 10; i++ {
		f := r.next(t)
		if f.PartID != fmt.Sprint(i) {
			t.Fatalf("frame %d answers part %q", i, f.PartID)
		}
		switch {
		case f.Err == nil:
			images++
		case strings.Contains(f.Err.Error(), "read failed after 3 frames"):
			errs++
		default:
			t.Errorf("part %d: %v", i, f.Err)
		}
	}
	if images > 3 || errs < 7 {
		t.Errorf("%d images and %d loss errors from a camera that gave 3 frames", images, errs)
	}
	r.waitState(t, StateLost, 1)
}
