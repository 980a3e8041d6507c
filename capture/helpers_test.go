package capture

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/samlad/samlad/config"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		code = checkNoLiveMats()
	}
	os.Exit(code)
}

// testImage is a w x h image filled with c, with a dark mark at the top-left
// so that it is not a single flat colour.
func testImage(w, h int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetRGBA(x, y, c)
		}
	}
	for y := 0; y < h/4; y++ {
		for x := 0; x < w/4; x++ {
			img.SetRGBA(x, y, color.RGBA{10, 10, 10, 255})
		}
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// palette gives each test frame a distinct, JPEG-robust colour.
var palette = []color.RGBA{
	{220, 30, 30, 255}, {30, 200, 40, 255}, {40, 60, 220, 255}, {230, 220, 40, 255},
	{200, 40, 200, 255}, {40, 210, 210, 255}, {240, 140, 20, 255}, {128, 128, 128, 255},
}

// centre returns the colour at the centre of img, away from the mark.
func centre(img *image.RGBA) color.RGBA {
	return img.RGBAAt(img.Rect.Dx()*3/4, img.Rect.Dy()*3/4)
}

func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) int {
		if x > y {
			return int(x - y)
		}
		return int(y - x)
	}
	return d(a.R, b.R) <= tol && d(a.G, b.G) <= tol && d(a.B, b.B) <= tol
}

// states records a camera's state events.
type states struct {
	mu     sync.Mutex
	events []StateEvent
}

func (s *states) add(e StateEvent) {
	s.mu.Lock()
	s.events = append(s.events, e)
	s.mu.Unlock()
}

func (s *states) list() []StateEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]StateEvent(nil), s.events...)
}

func (s *states) names() []State {
	var out []State
	for _, e := range s.list() {
		out = append(out, e.State)
	}
	return out
}

// running is a camera whose Run goroutine the test owns.
type running struct {
	*Camera
	states *states
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func start(t *testing.T, cfg config.Camera, opts Options) *running {
	t.Helper()
	st := &states{}
	opts.OnState = st.add
	cam, err := New(cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Camera: cam, states: st, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- cam.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels Run, drains Frames and waits for Run to return.
func (r *running) stop(t *testing.T) {
	r.once.Do(func() { r.stopOnce(t) })
}

func (r *running) stopOnce(t *testing.T) {
	r.cancel()
	for range r.Frames() {
	}
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// next waits for the next frame.
func (r *running) next(t *testing.T) Frame {
	t.Helper()
	select {
	case f, ok := <-r.Frames():
		if !ok {
			t.Fatal("Frames closed early")
		}
		return f
	case <-time.After(20 * time.Second):
		t.Fatal("no frame within 20s")
	}
	return Frame{}
}

// waitState waits until the camera has reported at least n events of state s.
func (r *running) waitState(t *testing.T, s State, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		count := 0
		for _, e := range r.states.list() {
			if e.State == s {
				count++
			}
		}
		if count >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no %d x %s within 20s; states: %v", n, s, r.states.names())
}

func ctxWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

func renameDir(from, to string) error { return os.Rename(from, to) }
