// Package backends opens the stage backend a configuration names, so that the
// CLI, the evaluation and the daemon all choose and label backends one way.
package backends

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
	"github.com/samlad/samlad/infer/onnx"
)

// Opened is a ready backend. Close releases its ONNX sessions, if any.
type Opened struct {
	*infer.Backend
	// Provider says where the stages run: "builtin", or for ONNX the
	// execution provider of each model, e.g. "onnx (features=cpu, sam_decoder=cuda)".
	Provider string
	onnx     *onnx.Backend
}

// Open builds the backend named by p.Backend.
func Open(rt config.Runtime, m config.Models, p config.Pipeline) (*Opened, error) {
	switch p.Backend {
	case builtin.Name, "":
		be, err := builtin.New(p)
		if err != nil {
			return nil, err
		}
		return &Opened{Backend: be, Provider: builtin.Name}, nil
	case onnx.Name:
		b, err := onnx.New(rt, m, p)
		if err != nil {
			return nil, err
		}
		return &Opened{Backend: b.Stages(), Provider: providerLabel(b, rt), onnx: b}, nil
	}
	return nil, fmt.Errorf("pipeline.backend = %q: want %q or %q", p.Backend, builtin.Name, onnx.Name)
}

// Models describes each ONNX model (file, checksum, provider); nil for the built-in backend.
func (o *Opened) Models() []string {
	if o.onnx == nil {
		return nil
	}
	return o.onnx.Describe()
}

// Close releases the backend.
func (o *Opened) Close() error {
	if o == nil || o.onnx == nil {
		return nil
	}
	return o.onnx.Close()
}

func providerLabel(b *onnx.Backend, rt config.Runtime) string {
	var parts []string
	for model, prov := range b.Providers() {
		parts = append(parts, model+"="+prov)
	}
	sort.Strings(parts)
	label := "onnx (" + strings.Join(parts, ", ")
	if slices.Contains(rt.Providers, onnx.ProviderTensorRT) {
		label += fmt.Sprintf("; tensorrt fp16 %v", rt.TensorRT.FP16)
	}
	return label + ")"
}
