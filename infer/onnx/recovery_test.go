package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

// recoverySession opens the fixture features model from dir on a two-step
// chain whose first step stands in for a GPU provider: both are cpu here,
// and testFault makes the first one fail at runtime while gpuDown says so.
func recoverySession(t *testing.T, dir string, gpuDown *bool) *session {
	t.Helper()
	rt, _, _ := fixtureConfig(t, dir)
	if err := acquireEnv(rt.Library); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(releaseEnv)
	m, err := LoadManifest(filepath.Join(dir, "features.toml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSession(rt, []string{ProviderCPU, ProviderCPU}, m,
		[]tensorShape{{"image", ort.NewShape(1, 3, 28, 28)}}, []tensorShape{{"patch_tokens", ort.NewShape(1, 4, 16)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	s.testFault = func(idx int) error {
		if idx == 0 && *gpuDown {
			return errors.New("stand-in for a GPU failure: device lost")
		}
		return nil
	}
	return s
}

// TestTransientProviderFailure: a runtime failure moves the model to the
// next provider and the frame still runs; after the backoff the first
// provider is tried again (a failed try doubles the wait), and once it
// works the model moves back.
func TestTransientProviderFailure(t *testing.T) {
	logs := captureLogs(t)
	gpuDown := true
	s := recoverySession(t, fixtureDir, &gpuDown)
	if err := s.run(nil, nil); err != nil {
		t.Fatalf("run with the first provider failing: %v (want the fallback to run it)", err)
	}
	if s.idx != 1 || s.retryAt.IsZero() || s.backoff != retryMin {
		t.Fatalf("after the failure: provider %d, retry at %v, backoff %v; want 1, set, %v", s.idx, s.retryAt, s.backoff, retryMin)
	}
	// Before the backoff has passed, nothing is retried.
	if err := s.run(nil, nil); err != nil || s.idx != 1 {
		t.Fatalf("within the backoff: provider %d, err %v", s.idx, err)
	}
	s.retryAt = time.Now().Add(-time.Second)
	if err := s.run(nil, nil); err != nil || s.idx != 1 || s.backoff != 2*retryMin {
		t.Fatalf("retry while still failing: provider %d, backoff %v, err %v; want 1, %v", s.idx, s.backoff, err, 2*retryMin)
	}
	gpuDown = false
	s.retryAt = time.Now().Add(-time.Second)
	if err := s.run(nil, nil); err != nil || s.idx != 0 || !s.retryAt.IsZero() {
		t.Fatalf("retry once it works: provider %d, err %v; want back on 0", s.idx, err)
	}
	if out := logs.String(); !strings.Contains(out, "works again") || !strings.Contains(out, "still failing") {
		t.Errorf("logs lack the retry lines:\n%s", out)
	}
}

// TestFallbackReverifiesModel: a model file changed on disk since start is
// not reopened on the fallback provider; the error names the file and the
// mismatch.
func TestFallbackReverifiesModel(t *testing.T) {
	dir := copyFixtures(t)
	gpuDown := true
	s := recoverySession(t, dir, &gpuDown)
	f, err := os.OpenFile(filepath.Join(dir, "features.onnx"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0})
	f.Close()
	err = s.run(nil, nil)
	if err == nil || !strings.Contains(err.Error(), "features.onnx") || !strings.Contains(err.Error(), "a different file") {
		t.Fatalf("fallback with a changed model file: err = %v, want a refusal naming the file and the mismatch", err)
	}
}
