// Package builtin is the default SAM-LAD backend, which needs no model
// weights: handcrafted dense features (colour, gradient orientation
// histograms, band-pass texture energies), Felzenszwalb-Huttenlocher graph
// segmentation and joint bilateral (or bilinear) feature upsampling.
package builtin

import (
	"fmt"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
)

// Name is the backend name stored in banks.
const Name = "builtin"

// New builds the built-in backend from the pipeline configuration. Its
// Fingerprint changes whenever a parameter that changes the features, the
// segments or the upsampled maps changes.
func New(p config.Pipeline) (*infer.Backend, error) {
	seg, err := NewSegmenter(p.Segment, p.Workers)
	if err != nil {
		return nil, fmt.Errorf("builtin backend: %w", err)
	}
	var up infer.Upsampler
	var upPrint string
	switch p.Upsampler {
	case "jbu", "":
		up = NewJBU(p.Workers)
		upPrint = fmt.Sprintf("jbu(s=%g,r=%g,floor=%g,win=3)", jbuSigmaSpatial, jbuSigmaRange, jbuRangeFloor)
	case "bilinear":
		up = NewBilinear(p.Workers)
		upPrint = "bilinear"
	default:
		return nil, fmt.Errorf("builtin backend: upsampler %q: want \"jbu\" or \"bilinear\"", p.Upsampler)
	}
	sg := p.Segment
	fp := fmt.Sprintf("%s features=%s stride=%d seg=%s(scale=%g,sigma=%g,min_size=%d,ref_size=%d,merge_colour=%g) up=%s",
		Name, featureVersion, FeatureStride, segmentVersion, sg.Scale, sg.Sigma, sg.MinSize, sg.RefSize, sg.MergeColour, upPrint)
	return &infer.Backend{
		Name:        Name,
		Fingerprint: fp,
		Features:    NewFeatures(p.Workers),
		Segmenter:   seg,
		Upsampler:   up,
	}, nil
}
