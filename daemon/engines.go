package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"

	"github.com/samlad/samlad/capture"
	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/backends"
	"github.com/samlad/samlad/infer/onnx"
)

// engines builds inspection engines on the configured backend. The ONNX
// backend (model sessions on the GPU) is created once per process and shared
// by every bank; the built-in one is cheap and made per engine, so that a
// reload can change any pipeline parameter.
type engines struct {
	mu      sync.Mutex
	onnx    *backends.Opened
	onnxCfg config.Config // the sections the ONNX backend was made with
}

// NewInspector loads the bank at path and prepares an engine for it.
func (e *engines) NewInspector(cfg config.Config, path string) (Inspector, string, error) {
	be, provider, err := e.backend(cfg)
	if err != nil {
		return nil, "", err
	}
	bank, err := infer.LoadBank(path)
	if err != nil {
		return nil, "", err
	}
	eng, err := infer.NewEngine(be, bank, cfg.Pipeline)
	if err != nil {
		return nil, "", fmt.Errorf("bank %s: %w", path, err)
	}
	return eng, provider, nil
}

func (e *engines) backend(cfg config.Config) (*infer.Backend, string, error) {
	if cfg.Pipeline.Backend != onnx.Name {
		be, err := backends.Open(cfg.Runtime, cfg.Models, cfg.Pipeline)
		if err != nil {
			return nil, "", err
		}
		return be.Backend, be.Provider, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.onnx != nil {
		if !sameONNX(e.onnxCfg, cfg) {
			return nil, "", fmt.Errorf("[runtime], [models] or [pipeline] changed for the onnx backend; restart the service to apply")
		}
		return e.onnx.Backend, e.onnx.Provider, nil
	}
	b, err := backends.Open(cfg.Runtime, cfg.Models, cfg.Pipeline)
	if err != nil {
		return nil, "", err
	}
	e.onnx, e.onnxCfg = b, cfg
	return b.Backend, b.Provider, nil
}

// sameONNX reports whether the ONNX backend made for a serves b: the same
// runtime, models and the pipeline settings the sessions are shaped by.
func sameONNX(a, b config.Config) bool {
	pa, pb := a.Pipeline, b.Pipeline
	return reflect.DeepEqual(a.Runtime, b.Runtime) && reflect.DeepEqual(a.Models, b.Models) &&
		pa.InputSize == pb.InputSize && pa.Upsample == pb.Upsample && pa.Upsampler == pb.Upsampler && pa.Workers == pb.Workers
}

// Close releases the ONNX sessions.
func (e *engines) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.onnx.Close()
}

// Enroll builds a bank from the good images in dir (PNG, JPEG, BMP, TIFF,
// WebP) and writes it to out atomically (a half-written bank is never seen
// by a later recipe switch).
func (e *engines) Enroll(cfg config.Config, dir, out string) error {
	be, _, err := e.backend(cfg)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("enrol folder %s: %w", dir, err)
	}
	var good []*infer.Image
	var names []string
	for _, ent := range entries {
		if ent.IsDir() || !capture.IsImageFile(ent.Name()) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, ent.Name()))
		if err != nil {
			return fmt.Errorf("enrol image %s: %w", ent.Name(), err)
		}
		img, err := capture.DecodeImage(data)
		if err != nil {
			return fmt.Errorf("enrol image %s: %w", filepath.Join(dir, ent.Name()), err)
		}
		good = append(good, infer.FromImage(img, cfg.Pipeline.InputSize))
		names = append(names, ent.Name())
	}
	if len(good) == 0 {
		return fmt.Errorf("enrol folder %s holds no images", dir)
	}
	bank, err := infer.Enroll(context.Background(), be, cfg.Pipeline, good, names)
	if err != nil {
		return fmt.Errorf("enrol %s: %w", dir, err)
	}
	// Save replaces out atomically: a running camera keeps the old bank
	// until the new one is whole.
	return bank.Save(out)
}
