package infer

import (
	"errors"
	"fmt"
	"slices"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer/internal/register"
	"github.com/samlad/samlad/infer/internal/workpool"
)

// preprocess is step 1: the engine's input_size x input_size view of the
// frame, in [0,1], aligned onto the good images (register.go) and matched
// to their lighting (photometric.go). Stages that see the frame as the
// camera took it (SAM) get the frame, moved as its view was.
func (e *Engine) preprocess(frame *Image) (*Image, *Image, *Alignment, error) {
	img := resized(frame, e.p.InputSize)
	reg := e.bank.Registration
	if reg == nil {
		return frame, engineView(img, e.bank.Photometric), nil, nil
	}
	img, wp, a := reg.align(img, nil)
	frame, err := alignFrame(e.be, frame, e.p.InputSize, wp)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("preprocess: %w", err)
	}
	return frame, engineView(img, e.bank.Photometric), &a, nil
}

// resized is img at size x size (img itself when it is).
func resized(img *Image, size int) *Image {
	if img.W != size || img.H != size {
		return Resize(img, size, size)
	}
	return img
}

// goodViews are the good images as enrolment and the baseline start from.
type goodViews struct {
	inputs []*Image // size x size, aligned when reg is not nil
	photo  *Photometric
	reg    *Registration
	warps  []register.Warp // how each input was aligned; nil without reg
	rule   RegisterRule
}

// warp is how good image i was aligned: the identity without registration.
func (v goodViews) warp(i int) register.Warp {
	if v.warps == nil {
		return register.Identity
	}
	return v.warps[i]
}

// goodInputs resizes good images to size x size, aligns them onto each
// other as align says, and with photometric learns their lighting from
// them.
func goodInputs(good []*Image, size int, photometric bool, align config.Switch, workers int) goodViews {
	var v goodViews
	v.inputs = make([]*Image, len(good))
	workpool.Each(len(good), workers, func(i int) { v.inputs[i] = resized(good[i], size) })
	v.inputs, v.warps, v.reg, v.rule = learnRegistration(v.inputs, workers, align)
	if photometric {
		v.photo = learnPhotometric(v.inputs)
	}
	return v
}

// engineView is what the engine works on from a resized image: matched to
// the good images' lighting (photo nil: as it is) and held in 8 bits, as
// the bank holds its references, so that a good image inspected later
// shows the engine the pixels it was enrolled with.
func engineView(img *Image, photo *Photometric) *Image {
	var out *Image
	if photo != nil {
		out = photo.correct(img) // a copy of its own
	} else {
		out = &Image{W: img.W, H: img.H, Pix: slices.Clone(img.Pix)}
	}
	for i, v := range out.Pix { // dequantize(quantize(out)) in place
		out.Pix[i] = float32(to8(v)) / 255
	}
	return out
}

// extractFrame is step 2, the backbone features: extract with the frame as
// the camera took it handed to a FrameFeatureExtractor; other extractors
// get img, the resized view.
func extractFrame(be *Backend, frame, img *Image, bank *Bank) (*FeatureMap, error) {
	if fe, ok := be.Features.(FrameFeatureExtractor); ok && frame != nil {
		return extract(&Backend{Features: frameFeatures{fe, frame}}, img, bank)
	}
	return extract(be, img, bank)
}

// extract runs the backbone and standardises its channels with the bank's
// normalisation (nil bank: leave as is).
func extract(be *Backend, img *Image, bank *Bank) (*FeatureMap, error) {
	f, err := be.Features.Extract(img)
	if err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	if f == nil || f.C <= 0 || f.H <= 0 || f.W <= 0 || len(f.Data) != f.C*f.H*f.W {
		return nil, errors.New("features: backend returned a malformed feature map")
	}
	if bank != nil {
		r := &bank.Refs[0].Feat
		if f.C != r.C || f.H != r.H || f.W != r.W {
			return nil, fmt.Errorf("features: backend gives %dx%dx%d, bank holds %dx%dx%d", f.C, f.H, f.W, r.C, r.H, r.W)
		}
		standardize(f, bank.Norm)
	}
	return f, nil
}

func standardize(f *FeatureMap, n ChannelNorm) {
	hw := f.H * f.W
	for c := 0; c < f.C; c++ {
		m, s := n.Mean[c], n.InvStd[c]
		plane := f.Data[c*hw : (c+1)*hw]
		for i, v := range plane {
			plane[i] = (v - m) * s
		}
	}
}
