package capture

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/samlad/samlad/config"
)

// goodFolder writes n PNG images 00.png.. in palette colours.
func goodFolder(t *testing.T, n int) (string, []string) {
	dir := t.TempDir()
	var paths []string
	for i := 0; i < n; i++ {
		paths = append(paths, writeFile(t, dir, fmt.Sprintf("%02d.png", i), encodePNG(t, testImage(32, 24, palette[i%len(palette)]))))
	}
	// Not images: skipped by the folder source.
	writeFile(t, dir, "notes.txt", []byte("line 3 good parts"))
	writeFile(t, dir, ".hidden.png", []byte("junk"))
	return dir, paths
}

func TestFolderFreeRunAtRate(t *testing.T) {
	dir, paths := goodFolder(t, 6)
	const rate = 50.0
	r := start(t, config.Camera{Name: "cam1", Source: "folder", Folder: dir, Trigger: "free", Rate: rate}, Options{})
	var got []Frame
	for f := range r.Frames() {
		got = append(got, f)
	}
	if len(got) != len(paths) {
		t.Fatalf("got %d frames, want %d", len(got), len(paths))
	}
	for i, f := range got {
		if f.Err != nil {
			t.Fatalf("frame %d: %v", i, f.Err)
		}
		if f.Origin != paths[i] || f.Index != uint64(i+1) || f.Camera != "cam1" || f.PartID != "" {
			t.Errorf("frame %d: origin %s index %d camera %s part %q", i, f.Origin, f.Index, f.Camera, f.PartID)
		}
		if c := centre(f.Image); c != palette[i] {
			t.Errorf("frame %d: colour %v, want %v", i, c, palette[i])
		}
	}
	// The rate is a floor on the spacing: 5 intervals of 20 ms.
	if span, min := got[5].Time.Sub(got[0].Time), time.Duration(5*0.9*float64(time.Second)/rate); span < min {
		t.Errorf("6 frames at %v fps took %v, want >= %v", rate, span, min)
	}
	r.stop(t)
	want := []State{StateOpening, StateOnline, StateEnded, StateStopped}
	if got := r.states.names(); !slices.Equal(got, want) {
		t.Errorf("states %v, want %v", got, want)
	}
}

func TestFolderSoftwareTriggerWithPartIDs(t *testing.T) {
	dir, paths := goodFolder(t, 3)
	r := start(t, config.Camera{Name: "cam1", Source: "folder", Folder: dir, Trigger: "software", Loop: true}, Options{})
	for i := 0; i < 7; i++ {
		if err := r.Trigger(fmt.Sprintf("part-%d", i)); err != nil {
			t.Fatalf("Trigger %d: %v", i, err)
		}
	}
	for i := 0; i < 7; i++ {
		f := r.next(t)
		if f.Err != nil {
			t.Fatalf("frame %d: %v", i, f.Err)
		}
		if f.PartID != fmt.Sprintf("part-%d", i) || f.Origin != paths[i%3] || f.Triggered.IsZero() || f.Time.Before(f.Triggered) {
			t.Errorf("frame %d: part %q origin %s triggered %v time %v", i, f.PartID, f.Origin, f.Triggered, f.Time)
		}
		if c := centre(f.Image); c != palette[i%3] {
			t.Errorf("frame %d: colour %v, want %v", i, c, palette[i%3])
		}
	}
	// Nothing is captured without a trigger.
	select {
	case f := <-r.Frames():
		t.Fatalf("untriggered frame %+v", f)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestFolderBadFilesBecomeErrorFrames(t *testing.T) {
	dir := t.TempDir()
	good := encodePNG(t, testImage(32, 24, palette[0]))
	goodJPEG := encodeJPEG(t, testImage(32, 24, palette[1]))
	files := []struct {
		name  string
		data  []byte
		want  string // substring of the error; "" = good frame
		image bool
	}{
		{"00_good.png", good, "", true},
		{"01_empty.png", nil, "empty file", false},
		{"02_truncated.png", good[:len(good)/2], "png", false},
		{"03_garbage.jpg", []byte("this is not a jpeg at all, just text"), "header", false},
		{"04_truncated.jpg", goodJPEG[:len(goodJPEG)*2/3], "EOF", false},
		{"05_wrong_size.png", encodePNG(t, testImage(16, 16, palette[2])), "frame is 16x16, camera \"cam1\" expects 32x24", false},
		{"06_header_only.png", good[:40], "", false},
		{"07_good.jpg", goodJPEG, "", true},
	}
	for _, f := range files {
		writeFile(t, dir, f.name, f.data)
	}
	r := start(t, config.Camera{Name: "cam1", Source: "folder", Folder: dir, Width: 32, Height: 24}, Options{})
	var got []Frame
	for f := range r.Frames() {
		got = append(got, f)
	}
	if len(got) != len(files) {
		t.Fatalf("got %d frames, want %d (one per file, bad ones included)", len(got), len(files))
	}
	for i, want := range files {
		f := got[i]
		path := filepath.Join(dir, want.name)
		if f.Origin != path {
			t.Errorf("frame %d: origin %s, want %s", i, f.Origin, path)
		}
		if want.image {
			if f.Err != nil || f.Image == nil {
				t.Errorf("%s: err %v, image %v", want.name, f.Err, f.Image != nil)
			}
			continue
		}
		if f.Err == nil || f.Image != nil {
			t.Errorf("%s: want an error frame, got err %v image %v", want.name, f.Err, f.Image != nil)
			continue
		}
		if msg := f.Err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, want.want) {
			t.Errorf("%s: error %q should name the file and say %q", want.name, msg, want.want)
		}
	}
	if c := centre(got[7].Image); !near(c, palette[1], 8) {
		t.Errorf("good JPEG colour %v, want ~%v", c, palette[1])
	}
}

func TestFolderEndedAnswersTriggersWithErrors(t *testing.T) {
	dir, _ := goodFolder(t, 2)
	r := start(t, config.Camera{Name: "cam1", Source: "folder", Folder: dir, Trigger: "software"}, Options{})
	for i := 0; i < 4; i++ {
		if err := r.Trigger(fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 4; i++ {
		f := r.next(t)
		if f.PartID != fmt.Sprint(i) {
			t.Fatalf("frame %d has part %q", i, f.PartID)
		}
		if ended := i >= 2; ended != (f.Err != nil) {
			t.Fatalf("frame %d: err %v", i, f.Err)
		}
		if i >= 2 && !strings.Contains(f.Err.Error(), "source ended") {
			t.Errorf("frame %d: %v", i, f.Err)
		}
	}
	r.waitState(t, StateEnded, 1)
}

func TestFolderMissingIsReopenedWithBackoff(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "later")
	r := start(t, config.Camera{Name: "cam1", Source: "folder", Folder: dir, Trigger: "software",
		ReconnectMin: config.Duration(5 * time.Millisecond), ReconnectMax: config.Duration(20 * time.Millisecond)}, Options{})
	r.waitState(t, StateLost, 2)
	// A trigger while the folder is missing is answered, not dropped.
	if err := r.Trigger("p1"); err != nil {
		t.Fatal(err)
	}
	f := r.next(t)
	if f.Err == nil || f.PartID != "p1" || !strings.Contains(f.Err.Error(), dir) {
		t.Fatalf("want an error frame for p1 naming %s, got %+v", dir, f)
	}
	// The folder appears (a share mounted late): the camera comes online.
	good, _ := goodFolder(t, 1)
	if err := renameDir(good, dir); err != nil {
		t.Fatal(err)
	}
	r.waitState(t, StateOnline, 1)
	if err := r.Trigger("p2"); err != nil {
		t.Fatal(err)
	}
	if f := r.next(t); f.Err != nil || f.PartID != "p2" {
		t.Fatalf("after reconnect: %+v", f)
	}
}

func TestStopAnswersAcceptedTriggers(t *testing.T) {
	dir, _ := goodFolder(t, 3)
	st := &states{}
	cam, err := New(config.Camera{Name: "cam1", Source: "folder", Folder: dir, Trigger: "software", Loop: true}, Options{FrameBuffer: 1, OnState: st.add})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if err := cam.Trigger(fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := ctxWithCancel()
	done := make(chan error, 1)
	go func() { done <- cam.Run(ctx) }()
	// The consumer is slow: only the first frame is taken before the stop.
	first := <-cam.Frames()
	cancel()
	got := []Frame{first}
	for f := range cam.Frames() {
		got = append(got, f)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("5 triggers, %d frames", len(got))
	}
	for i, f := range got {
		if f.PartID != fmt.Sprint(i) || f.Index != uint64(i+1) {
			t.Errorf("frame %d: part %q index %d", i, f.PartID, f.Index)
		}
		if f.Err != nil && !errors.Is(f.Err, ErrStopped) {
			t.Errorf("frame %d: %v", i, f.Err)
		}
	}
	if got[4].Err == nil {
		t.Errorf("last trigger was captured after stop?")
	}
	if err := cam.Trigger("late"); !errors.Is(err, ErrStopped) {
		t.Errorf("Trigger after stop: %v", err)
	}
}

func TestTriggerRefusals(t *testing.T) {
	dir, _ := goodFolder(t, 1)
	free, err := New(config.Camera{Name: "cam1", Source: "folder", Folder: dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := free.Trigger("x"); !errors.Is(err, ErrNotSoftware) {
		t.Errorf("free-run Trigger: %v", err)
	}
	sw, err := New(config.Camera{Name: "cam1", Source: "folder", Folder: dir, Trigger: "software"}, Options{TriggerBuffer: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Run is not started: the queue fills and the third trigger is refused.
	for i, want := range []error{nil, nil, ErrTriggerBusy} {
		if err := sw.Trigger("x"); !errors.Is(err, want) {
			t.Errorf("trigger %d: %v, want %v", i, err, want)
		}
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		cfg  config.Camera
		want string
	}{
		{config.Camera{Name: "Cam 1", Source: "folder", Folder: "x"}, "camera name"},
		{config.Camera{Name: "c", Source: "usb"}, `source = "usb"`},
		{config.Camera{Name: "c", Source: "v4l2"}, "needs device"},
		{config.Camera{Name: "c", Source: "gstreamer", Pipeline: "videotestsrc ! autovideosink"}, "appsink"},
		{config.Camera{Name: "c", Source: "video"}, "needs url"},
		{config.Camera{Name: "c", Source: "folder", Folder: "x", Trigger: "hardware"}, "hardware"},
		{config.Camera{Name: "c", Source: "folder", Folder: "x", Trigger: "plc"}, `trigger = "plc"`},
		{config.Camera{Name: "c", Source: "folder", Folder: "x", Rate: -1}, "rate"},
		{config.Camera{Name: "c", Source: "folder", Folder: "x", Width: 640}, "width"},
		{config.Camera{Name: "c", Source: "folder", Folder: "x", ReconnectMin: config.Duration(time.Minute), ReconnectMax: config.Duration(time.Second)}, "reconnect_min"},
	} {
		_, err := New(tc.cfg, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want it to mention %q", tc.cfg, err, tc.want)
		}
	}
}
