package backends

import (
	"strings"
	"testing"

	"github.com/samlad/samlad/config"
)

func TestOpenBuiltin(t *testing.T) {
	cfg := config.Default()
	o, err := Open(cfg.Runtime, cfg.Models, cfg.Pipeline)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if o.Provider != "builtin" || o.Features == nil || o.Segmenter == nil || o.Upsampler == nil {
		t.Fatalf("builtin backend incomplete: %+v", o)
	}
	if o.Models() != nil {
		t.Fatalf("builtin backend lists models: %v", o.Models())
	}
}

func TestOpenUnknownBackendNamesIt(t *testing.T) {
	cfg := config.Default()
	cfg.Pipeline.Backend = "tensorflow"
	_, err := Open(cfg.Runtime, cfg.Models, cfg.Pipeline)
	if err == nil || !strings.Contains(err.Error(), `"tensorflow"`) {
		t.Fatalf("want an error naming the backend, got %v", err)
	}
}
