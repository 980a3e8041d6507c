package onnx

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
	ort "github.com/yalue/onnxruntime_go"
)

// Model kinds a manifest may declare; each stage accepts exactly one.
const (
	KindFeatures   = "features"
	KindUpsampler  = "upsampler"
	KindSAMEncoder = "sam_encoder"
	KindSAMDecoder = "sam_decoder"
)

// Manifest describes one ONNX model file and the I/O contract it must have.
// It is a TOML file next to the model (models/*.toml); the export scripts
// write it with the checksum of the file they produced.
type Manifest struct {
	Kind   string `toml:"kind"`
	File   string `toml:"file"`
	SHA256 string `toml:"sha256"`
	// Bytes is the file size; it tells a truncated copy from a different model.
	Bytes int64 `toml:"bytes"`
	// Opset is the default-domain opset the file is stamped with.
	Opset int64 `toml:"opset"`
	// PatchSize is the backbone's pixels per token (14 for DINOv2 ViT-S/14).
	PatchSize int          `toml:"patch_size"`
	Normalize Normalize    `toml:"normalize"`
	Inputs    []TensorSpec `toml:"inputs"`
	Outputs   []TensorSpec `toml:"outputs"`

	// path is the manifest's own path; dir resolves File.
	path string
}

// Normalize is the per-channel (x - mean) / std applied to an RGB image in
// [0,1] before it enters the model. Empty means no normalisation.
type Normalize struct {
	Mean []float32 `toml:"mean"`
	Std  []float32 `toml:"std"`
}

// TensorSpec is one graph input or output; -1 marks a dynamic dimension.
type TensorSpec struct {
	Name  string  `toml:"name"`
	Shape []int64 `toml:"shape"`
	DType string  `toml:"dtype"`
}

func (t TensorSpec) String() string {
	return fmt.Sprintf("%q %v %s", t.Name, t.Shape, t.DType)
}

// LoadManifest reads and checks a manifest file for internal consistency. It
// does not open the model; Verify does.
func LoadManifest(path string) (*Manifest, error) {
	var m Manifest
	md, err := toml.DecodeFile(path, &m)
	if err != nil {
		return nil, fmt.Errorf("model manifest %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("model manifest %s: unknown key %q", path, und[0].String())
	}
	m.path = path
	var problems []string
	switch m.Kind {
	case KindFeatures, KindUpsampler, KindSAMEncoder, KindSAMDecoder:
	default:
		problems = append(problems, fmt.Sprintf("kind %q is not one of features, upsampler, sam_encoder, sam_decoder", m.Kind))
	}
	if m.File == "" {
		problems = append(problems, "file is empty")
	}
	if len(m.SHA256) != 64 {
		problems = append(problems, "sha256 must be 64 hex digits (run the export script, or sha256sum the file)")
	}
	if m.Opset <= 0 {
		problems = append(problems, "opset is missing")
	}
	if n := len(m.Normalize.Mean); n != len(m.Normalize.Std) || (n != 0 && n != 3) {
		problems = append(problems, "normalize.mean and normalize.std need 3 values each")
	}
	for _, s := range m.Normalize.Std {
		if s == 0 {
			problems = append(problems, "normalize.std has a zero")
		}
	}
	if len(m.Inputs) == 0 || len(m.Outputs) == 0 {
		problems = append(problems, "inputs and outputs must be listed")
	}
	for _, t := range append(append([]TensorSpec{}, m.Inputs...), m.Outputs...) {
		if t.DType != "float32" {
			problems = append(problems, fmt.Sprintf("tensor %q: dtype %q (only float32 is used)", t.Name, t.DType))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("model manifest %s: %s", path, strings.Join(problems, "; "))
	}
	return &m, nil
}

// ModelPath is the model file's path (File is relative to the manifest).
func (m *Manifest) ModelPath() string {
	if filepath.IsAbs(m.File) {
		return m.File
	}
	return filepath.Join(filepath.Dir(m.path), m.File)
}

// Verify refuses a model file that is missing, truncated, not the file the
// manifest names (checksum), stamped with another opset, or whose graph
// inputs/outputs differ from the manifest. ORT must be initialised.
func (m *Manifest) Verify() error {
	path := m.ModelPath()
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("model %s (manifest %s): %w; export it with models/export or fix \"file\"", path, m.path, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("model %s: read: %w", path, err)
	}
	if m.Bytes > 0 && n != m.Bytes {
		what := "a different file"
		if n < m.Bytes {
			what = "truncated"
		}
		return fmt.Errorf("model %s is %s: manifest %s expects %d bytes, found %d", path, what, m.path, m.Bytes, n)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, m.SHA256) {
		return fmt.Errorf("model %s: checksum mismatch: manifest %s expects sha256 %s, file has %s (a different or corrupted model)", path, m.path, m.SHA256, got)
	}
	opset, err := readOpset(path)
	if err != nil {
		return fmt.Errorf("model %s: %w", path, err)
	}
	if opset != m.Opset {
		return fmt.Errorf("model %s: wrong opset: manifest %s expects opset %d, file is stamped with %d", path, m.path, m.Opset, opset)
	}
	ins, outs, err := ort.GetInputOutputInfo(path)
	if err != nil {
		return fmt.Errorf("model %s: ONNX Runtime cannot load it (opset %d, wrong or corrupt model?): %w", path, opset, err)
	}
	if err := compareIO("input", m.Inputs, ins); err != nil {
		return fmt.Errorf("model %s does not match manifest %s: %w", path, m.path, err)
	}
	if err := compareIO("output", m.Outputs, outs); err != nil {
		return fmt.Errorf("model %s does not match manifest %s: %w", path, m.path, err)
	}
	return nil
}

func compareIO(what string, want []TensorSpec, got []ort.InputOutputInfo) error {
	found := make([]string, len(got))
	byName := map[string]ort.InputOutputInfo{}
	for i, g := range got {
		found[i] = ioString(g)
		byName[g.Name] = g
	}
	if len(want) != len(got) {
		return fmt.Errorf("expected %d %ss %v, graph has %d: %v", len(want), what, want, len(got), found)
	}
	for _, w := range want {
		g, ok := byName[w.Name]
		if !ok {
			return fmt.Errorf("expected %s %v, graph has %v", what, w, found)
		}
		if g.OrtValueType != ort.ONNXTypeTensor || g.DataType != ort.TensorElementDataTypeFloat ||
			!equalDims(w.Shape, g.Dimensions) {
			return fmt.Errorf("%s %q: expected %v %s, graph has %s", what, w.Name, w.Shape, w.DType, ioString(g))
		}
	}
	return nil
}

func ioString(g ort.InputOutputInfo) string {
	dtype := g.DataType.String()
	if g.DataType == ort.TensorElementDataTypeFloat {
		dtype = "float32"
	}
	return fmt.Sprintf("%q %v %s", g.Name, []int64(g.Dimensions), dtype)
}

func equalDims(want []int64, got ort.Shape) bool {
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if want[i] != got[i] {
			return false
		}
	}
	return true
}

func (m *Manifest) input(name string) (TensorSpec, error) {
	return findSpec(m, "input", m.Inputs, name)
}

func (m *Manifest) output(name string) (TensorSpec, error) {
	return findSpec(m, "output", m.Outputs, name)
}

func findSpec(m *Manifest, what string, specs []TensorSpec, name string) (TensorSpec, error) {
	for _, s := range specs {
		if s.Name == name {
			return s, nil
		}
	}
	return TensorSpec{}, fmt.Errorf("model manifest %s: a %s model needs %s %q", m.path, m.Kind, what, name)
}

// resolve fills the dynamic (-1) dimensions of spec with the concrete ones
// and checks the fixed ones agree.
func resolve(m *Manifest, spec TensorSpec, concrete []int64) (ort.Shape, error) {
	if len(concrete) != len(spec.Shape) {
		return nil, fmt.Errorf("model %s: tensor %q has rank %d, the stage needs rank %d", m.ModelPath(), spec.Name, len(spec.Shape), len(concrete))
	}
	for i, d := range spec.Shape {
		if d >= 0 && d != concrete[i] {
			return nil, fmt.Errorf("model %s: tensor %q is fixed at %v, the configuration needs %v (re-export the model for this size)", m.ModelPath(), spec.Name, spec.Shape, concrete)
		}
	}
	return ort.NewShape(concrete...), nil
}

// readOpset returns the default-domain opset from the ModelProto's
// opset_import (field 8), walking the protobuf wire format without decoding
// the graph. A file that is not a complete protobuf is reported as such.
func readOpset(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	opset := int64(-1)
	err = walkProto(data, func(field int, wire int, v uint64, b []byte) error {
		if field != 8 || wire != 2 {
			return nil
		}
		domain, version := "", int64(0)
		if err := walkProto(b, func(f, w int, v uint64, b []byte) error {
			switch {
			case f == 1 && w == 2:
				domain = string(b)
			case f == 2 && w == 0:
				version = int64(v)
			}
			return nil
		}); err != nil {
			return err
		}
		if domain == "" || domain == "ai.onnx" {
			opset = version
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("not a complete ONNX file (truncated or another format): %w", err)
	}
	if opset < 0 {
		return 0, errors.New("not an ONNX model: no default-domain opset_import")
	}
	return opset, nil
}

// walkProto calls fn for each top-level field of a protobuf message.
func walkProto(data []byte, fn func(field, wire int, v uint64, b []byte) error) error {
	for len(data) > 0 {
		key, n := uvarint(data)
		if n <= 0 {
			return errors.New("bad field key")
		}
		data = data[n:]
		field, wire := int(key>>3), int(key&7)
		var v uint64
		var b []byte
		switch wire {
		case 0:
			v, n = uvarint(data)
			if n <= 0 {
				return errors.New("bad varint")
			}
			data = data[n:]
		case 1:
			if len(data) < 8 {
				return errors.New("short fixed64")
			}
			data = data[8:]
		case 2:
			l, n := uvarint(data)
			if n <= 0 || uint64(len(data)-n) < l {
				return errors.New("field runs past the end of the file")
			}
			b = data[n : n+int(l)]
			data = data[n+int(l):]
		case 5:
			if len(data) < 4 {
				return errors.New("short fixed32")
			}
			data = data[4:]
		default:
			return fmt.Errorf("unknown wire type %d", wire)
		}
		if err := fn(field, wire, v, b); err != nil {
			return err
		}
	}
	return nil
}

func uvarint(b []byte) (uint64, int) {
	var x uint64
	for i := 0; i < len(b) && i < 10; i++ {
		x |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return x, i + 1
		}
	}
	return 0, 0
}
