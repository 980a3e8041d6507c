package onnx

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
)

// upsampler runs a FeatUp JBU stack exported with one output per level,
// "features_2x", "features_4x", ... (each JBU layer doubles the resolution,
// guided by the image); Upsample returns the level asked for.
type upsampler struct {
	sess    *session
	norm    Normalize
	size    int
	c, h, w int
	factors map[int]int // factor -> output index
}

func newUpsampler(rt config.Runtime, chain []string, m *Manifest, size, c, h, w int) (*upsampler, error) {
	if m.Kind != KindUpsampler {
		return nil, fmt.Errorf("model manifest %s: kind %q, the upsampling stage needs %q", m.path, m.Kind, KindUpsampler)
	}
	imgSpec, err := m.input("image")
	if err != nil {
		return nil, err
	}
	featSpec, err := m.input("features")
	if err != nil {
		return nil, err
	}
	imgShape, err := resolve(m, imgSpec, []int64{1, 3, int64(size), int64(size)})
	if err != nil {
		return nil, err
	}
	featShape, err := resolve(m, featSpec, []int64{1, int64(c), int64(h), int64(w)})
	if err != nil {
		return nil, err
	}
	u := &upsampler{norm: m.Normalize, size: size, c: c, h: h, w: w, factors: map[int]int{}}
	var outs []tensorShape
	for _, o := range m.Outputs {
		f, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(o.Name, "features_"), "x"))
		if err != nil || f < 2 || !strings.HasPrefix(o.Name, "features_") {
			return nil, fmt.Errorf("model manifest %s: upsampler output %q is not named features_<factor>x", m.path, o.Name)
		}
		shape, err := resolve(m, o, []int64{1, int64(c), int64(h * f), int64(w * f)})
		if err != nil {
			return nil, err
		}
		u.factors[f] = len(outs)
		outs = append(outs, tensorShape{o.Name, shape})
	}
	u.sess, err = newSession(rt, chain, m, []tensorShape{{"image", imgShape}, {"features", featShape}}, outs, nil)
	if err != nil {
		return nil, err
	}
	return u, nil
}

func (u *upsampler) has(factor int) bool { _, ok := u.factors[factor]; return ok }

func (u *upsampler) Upsample(img *infer.Image, f *infer.FeatureMap, factor int) (*infer.FeatureMap, error) {
	if err := checkImage(img); err != nil {
		return nil, fmt.Errorf("upsample %s: %w", u.sess.model, err)
	}
	if f == nil || len(f.Data) != f.C*f.H*f.W {
		return nil, fmt.Errorf("upsample %s: feature map is nil or its data does not match C*H*W", u.sess.model)
	}
	if factor == 1 {
		return &infer.FeatureMap{C: f.C, H: f.H, W: f.W, Data: append([]float32(nil), f.Data...)}, nil
	}
	idx, ok := u.factors[factor]
	if !ok {
		return nil, fmt.Errorf("upsample %s: no %dx output (model has %v)", u.sess.model, factor, u.factorList())
	}
	if img.W != u.size || img.H != u.size || f.C != u.c || f.H != u.h || f.W != u.w {
		return nil, fmt.Errorf("upsample %s: got image %dx%d and features %dx%dx%d, the session is built for %dx%d and %dx%dx%d",
			u.sess.model, img.W, img.H, f.C, f.H, f.W, u.size, u.size, u.c, u.h, u.w)
	}
	out := &infer.FeatureMap{C: f.C, H: f.H * factor, W: f.W * factor}
	err := u.sess.run(func(in [][]float32) {
		normalizeInto(in[0], img, u.size, u.size, u.size, u.size, u.norm)
		copy(in[1], f.Data)
	}, func(o [][]float32) {
		out.Data = append([]float32(nil), o[idx]...)
	})
	if err != nil {
		return nil, fmt.Errorf("upsample features: %w", err)
	}
	return out, nil
}

func (u *upsampler) factorList() []int {
	var fs []int
	for f := 2; f <= 64; f *= 2 {
		if u.has(f) {
			fs = append(fs, f)
		}
	}
	return fs
}
