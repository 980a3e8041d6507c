package onnx

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
)

const (
	fixtureDir      = "../../models/testdata"
	builtinManifest = "../../models/builtin/builtin_features.toml"
)

// ortLibrary finds libonnxruntime.so (SAMLAD_ORT_LIB, then the copy `make
// deps` unpacks) or skips the test.
func ortLibrary(t testing.TB) string {
	t.Helper()
	lib := os.Getenv("SAMLAD_ORT_LIB")
	if lib == "" {
		lib = "../../third_party/onnxruntime/libonnxruntime.so"
	}
	abs, err := filepath.Abs(lib)
	if err == nil {
		_, err = os.Stat(abs)
	}
	if err != nil {
		t.Skipf("ONNX Runtime library not found (%v): run `make deps` or set SAMLAD_ORT_LIB", err)
	}
	return abs
}

// fixtureConfig is the configuration that runs the fixture models on the CPU
// provider with a small point grid.
func fixtureConfig(t testing.TB, dir string) (config.Runtime, config.Models, config.Pipeline) {
	return fixtureSections(ortLibrary(t), dir)
}

func fixtureSections(library, dir string) (config.Runtime, config.Models, config.Pipeline) {
	rt := config.DefaultRuntime()
	rt.Library = library
	rt.Threads = 1
	m := config.DefaultModels()
	m.Dir = dir
	m.Features = "features.toml"
	m.Upsampler = "upsampler.toml"
	m.SAMEncoder = "sam_encoder.toml"
	m.SAMDecoder = "sam_decoder.toml"
	m.PointsPerSide = 8
	m.PointsPerBatch = 16
	m.MinRegionArea = 20
	p := config.DefaultPipeline()
	p.Backend = Name
	p.Workers = 1
	return rt, m, p
}

func newFixtureBackend(t testing.TB) *Backend {
	t.Helper()
	rt, m, p := fixtureConfig(t, fixtureDir)
	b, err := New(rt, m, p)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// copyFixtures copies the fixture models and manifests to a temp dir so a
// test can damage them.
func copyFixtures(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".onnx") && !strings.HasSuffix(e.Name(), ".toml") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(fixtureDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// editFile applies a string replacement to a file and fails if nothing changed.
func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if !strings.Contains(s, old) {
		t.Fatalf("%s has no %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(s, old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// captureLogs routes slog to a buffer for the test's duration.
func captureLogs(t *testing.T) *syncBuffer {
	t.Helper()
	buf := &syncBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return buf
}

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

var _ io.Writer = (*syncBuffer)(nil)

// rect is a filled axis-aligned rectangle of one colour in a test scene.
type rect struct {
	x0, y0, x1, y1 int
	r, g, b        float32
}

// scene draws rectangles over a grey background: a stand-in for parts on a tray.
func scene(w, h int, rects ...rect) *infer.Image {
	img := &infer.Image{W: w, H: h, Pix: make([]float32, 3*w*h)}
	for i := 0; i < w*h; i++ {
		img.Pix[i], img.Pix[w*h+i], img.Pix[2*w*h+i] = 0.5, 0.5, 0.5
	}
	for _, r := range rects {
		for y := r.y0; y < r.y1; y++ {
			for x := r.x0; x < r.x1; x++ {
				i := y*w + x
				img.Pix[i], img.Pix[w*h+i], img.Pix[2*w*h+i] = r.r, r.g, r.b
			}
		}
	}
	return img
}
