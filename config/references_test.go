package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// With the onnx backend, the model manifests (relative to models.dir) and
// the runtime library are checked too, each at its own line.
func TestCheckFilesModels(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "models", "sam_encoder.toml"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "samlad.toml")
	src := `[pipeline]
backend = "onnx"
[models]
dir = "models"
sam_encoder = "sam_encoder.toml"
sam_decoder = "sam_decoder.toml"
[runtime]
library = "lib/libonnxruntime.so"
`
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := CheckFiles(p)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("want 2 errors, got %v", err)
	}
	if e := errs[0]; e.Key != "models.sam_decoder" || e.Line != 6 || !strings.Contains(e.Msg, "does not exist") ||
		!strings.Contains(e.Value, filepath.Join(dir, "models", "sam_decoder.toml")) {
		t.Errorf("decoder: %v", e)
	}
	if e := errs[1]; e.Key != "runtime.library" || e.Line != 8 || !strings.Contains(e.Msg, "make deps") {
		t.Errorf("library: %v", e)
	}
}
