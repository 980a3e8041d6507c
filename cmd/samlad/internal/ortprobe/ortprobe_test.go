package ortprobe

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestProbeLibrary(t *testing.T) {
	lib := os.Getenv("SAMLAD_ORT_LIB")
	if lib == "" {
		lib, _ = filepath.Abs("../../../../third_party/onnxruntime/libonnxruntime.so")
	}
	if _, err := os.Stat(lib); err != nil {
		t.Skipf("ONNX Runtime library not found (%v); run make deps", err)
	}
	info, err := Probe(lib)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(filepath.Dir(lib), "VERSION"))
	if info.Version == "" || (len(want) > 0 && info.Version != strings.TrimSpace(string(want))) {
		t.Errorf("version %q, the unpacked package says %q", info.Version, strings.TrimSpace(string(want)))
	}
	if !slices.Contains(info.Providers, "CPUExecutionProvider") {
		t.Errorf("providers %v lack the CPU provider", info.Providers)
	}
}

func TestProbeNotALibrary(t *testing.T) {
	if _, err := Probe(filepath.Join(t.TempDir(), "absent.so")); err == nil {
		t.Error("a missing file probed without error")
	}
	p := filepath.Join(t.TempDir(), "libonnxruntime.so")
	if err := os.WriteFile(p, []byte("not ELF"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Probe(p); err == nil || !strings.Contains(err.Error(), "dlopen") {
		t.Errorf("Probe(text file) = %v, want a dlopen error", err)
	}
}
