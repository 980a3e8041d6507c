package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVersionModelsBuiltin(t *testing.T) {
	var out, errOut bytes.Buffer
	if rc := runVersionTo([]string{"--models"}, &out, &errOut); rc != 0 {
		t.Fatalf("exit %d: %s", rc, errOut.String())
	}
	if !strings.Contains(out.String(), "backend: builtin") {
		t.Errorf("want the built-in backend named, got:\n%s", out.String())
	}
}

// With the fixture models and a provider list that asks for CUDA first, the
// CPU-only ONNX Runtime falls back and every model reports cpu.
func TestVersionModelsONNXShowsProviderInUse(t *testing.T) {
	lib := os.Getenv("SAMLAD_ORT_LIB")
	if lib == "" {
		lib, _ = filepath.Abs("../../third_party/onnxruntime/libonnxruntime.so")
	}
	if _, err := os.Stat(lib); err != nil {
		t.Skipf("ONNX Runtime library not found (%v); run make deps", err)
	}
	models, _ := filepath.Abs("../../models/testdata")
	cfg := writeConfig(t, `[pipeline]
backend = "onnx"
[models]
dir = "`+models+`"
features = "features.toml"
upsampler = "upsampler.toml"
sam_encoder = "sam_encoder.toml"
sam_decoder = "sam_decoder.toml"
[runtime]
library = "`+lib+`"
providers = ["cuda", "cpu"]
`)
	var out, errOut bytes.Buffer
	if rc := runVersionTo([]string{"--models", "--config", cfg}, &out, &errOut); rc != 0 {
		t.Fatalf("exit %d: %s", rc, errOut.String())
	}
	for _, want := range []string{"features.onnx=cpu", "sam_encoder: sam_encoder.onnx sha256:", "provider=cpu"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "=cuda") {
		t.Errorf("a model claims the CUDA provider on a CPU-only runtime:\n%s", out.String())
	}
}
