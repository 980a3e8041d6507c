package onnx

import (
	"fmt"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
)

// features runs a ViT backbone (DINOv2 ViT-S/14 in production) whose output
// is patch tokens [1, N, C] in row-major patch order, and reshapes them to
// C x H' x W'. The session is built for one square input size; the image
// must be that size (the engine resizes to pipeline.input_size).
//
// Input sizes: any multiple of the patch size is accepted, others are
// refused at start. For DINOv2, 224 gives 16x16 tokens from positional
// embeddings interpolated from its native 37x37 grid, 448 gives 32x32 (about
// 4x the compute), 518 the native 37x37. A model exported with static shapes
// (models/export) runs only at its export size, and the manifest says so.
type features struct {
	sess       *session
	norm       Normalize
	size, grid int
	channels   int
	patch      int
}

func newFeatures(rt config.Runtime, chain []string, m *Manifest, size int) (*features, error) {
	if m.Kind != KindFeatures {
		return nil, fmt.Errorf("model manifest %s: kind %q, the features stage needs %q", m.path, m.Kind, KindFeatures)
	}
	if m.PatchSize <= 0 {
		return nil, fmt.Errorf("model manifest %s: patch_size is missing", m.path)
	}
	if size <= 0 || size%m.PatchSize != 0 {
		return nil, fmt.Errorf("pipeline.input_size %d is not a multiple of %s's patch size %d", size, m.File, m.PatchSize)
	}
	inSpec, err := m.input("image")
	if err != nil {
		return nil, err
	}
	outSpec, err := m.output("patch_tokens")
	if err != nil {
		return nil, err
	}
	if len(outSpec.Shape) != 3 || outSpec.Shape[2] <= 0 {
		return nil, fmt.Errorf("model manifest %s: patch_tokens must be [1, N, C] with a fixed C, got %v", m.path, outSpec.Shape)
	}
	grid := size / m.PatchSize
	c := int(outSpec.Shape[2])
	in, err := resolve(m, inSpec, []int64{1, 3, int64(size), int64(size)})
	if err != nil {
		return nil, err
	}
	out, err := resolve(m, outSpec, []int64{1, int64(grid * grid), int64(c)})
	if err != nil {
		return nil, err
	}
	s, err := newSession(rt, chain, m, []tensorShape{{"image", in}}, []tensorShape{{"patch_tokens", out}}, nil)
	if err != nil {
		return nil, err
	}
	return &features{sess: s, norm: m.Normalize, size: size, grid: grid, channels: c, patch: m.PatchSize}, nil
}

func (f *features) Stride() int { return f.patch }

func (f *features) Extract(img *infer.Image) (*infer.FeatureMap, error) {
	if err := checkImage(img); err != nil {
		return nil, fmt.Errorf("features %s: %w", f.sess.model, err)
	}
	if img.W != f.size || img.H != f.size {
		return nil, fmt.Errorf("features %s: image is %dx%d, the session is built for %dx%d (pipeline.input_size)", f.sess.model, img.W, img.H, f.size, f.size)
	}
	n := f.grid * f.grid
	fm := &infer.FeatureMap{C: f.channels, H: f.grid, W: f.grid, Data: make([]float32, f.channels*n)}
	err := f.sess.run(func(in [][]float32) {
		normalizeInto(in[0], img, f.size, f.size, f.size, f.size, f.norm)
	}, func(out [][]float32) {
		tok := out[0]
		for p := 0; p < n; p++ {
			row := tok[p*f.channels : (p+1)*f.channels]
			for c, v := range row {
				fm.Data[c*n+p] = v
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("extract features: %w", err)
	}
	return fm, nil
}

// FeatureStage is one features model run on its own, outside a full ONNX
// backend: e.g. the built-in extractor exported as ONNX
// (models/builtin/builtin_features.toml), so that the built-in backend's
// feature stage can run on TensorRT or CUDA.
type FeatureStage struct {
	*features
	closed bool
}

// NewFeatureStage verifies the manifest's model and opens it for square
// images of side inputSize, on the first provider of rt that works.
func NewFeatureStage(rt config.Runtime, manifest string, inputSize int) (*FeatureStage, error) {
	chain, err := providerChain(rt)
	if err != nil {
		return nil, err
	}
	m, err := LoadManifest(manifest)
	if err != nil {
		return nil, err
	}
	f, err := openVerified(rt.Library, []*Manifest{m}, func() (*features, error) {
		return newFeatures(rt, chain, m, inputSize)
	})
	if err != nil {
		return nil, err
	}
	return &FeatureStage{features: f}, nil
}

// Provider is the execution provider the model runs on.
func (f *FeatureStage) Provider() string { return f.sess.currentProvider() }

// Close releases the session and, if it is the last user, ONNX Runtime.
func (f *FeatureStage) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	f.sess.close()
	releaseEnv()
	return nil
}
