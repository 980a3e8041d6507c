package onnx

import (
	"fmt"

	"github.com/samlad/samlad/infer"
)

// SAMFeatureGrid is the side of the feature grid SAM's embeddings are
// resampled to when they serve as the backbone features: the frame's valid
// part of the 64 x 64 embedding grid (the rest is padding) is area-averaged
// to 32 x 32 over the engine's input_size x input_size view of the frame.
const SAMFeatureGrid = 32

// samFeatures serves SAM's image embeddings (256 channels) as the backbone
// features when no DINOv2 model is given (models.feature_source = "sam").
// The encoder run is shared with the segmenter: both see the frame as the
// camera took it, and the embeddings are cached by the frame's content.
type samFeatures struct {
	s    *sam
	size int // pipeline.input_size
	c    int
	embH int
	embW int
}

func newSAMFeatures(s *sam, inputSize int, embShape []int64) (*samFeatures, error) {
	if inputSize%SAMFeatureGrid != 0 {
		return nil, fmt.Errorf("pipeline.input_size %d: SAM features need a multiple of %d", inputSize, SAMFeatureGrid)
	}
	return &samFeatures{s: s, size: inputSize, c: int(embShape[1]), embH: int(embShape[2]), embW: int(embShape[3])}, nil
}

func (f *samFeatures) Stride() int { return f.size / SAMFeatureGrid }

// Extract takes img as the frame.
func (f *samFeatures) Extract(img *infer.Image) (*infer.FeatureMap, error) {
	return f.ExtractFrame(img, f.size, f.size)
}

// ExtractFrame implements infer.FrameFeatureExtractor: the embeddings of
// frame, valid part only, on the SAMFeatureGrid grid covering the frame.
func (f *samFeatures) ExtractFrame(frame *infer.Image, w, h int) (*infer.FeatureMap, error) {
	if err := checkImage(frame); err != nil {
		return nil, fmt.Errorf("sam features: %w", err)
	}
	if w != f.size || h != f.size {
		return nil, fmt.Errorf("sam features: grid %dx%d, built for input_size %d", w, h, f.size)
	}
	const n = SAMFeatureGrid
	fm := &infer.FeatureMap{C: f.c, H: n, W: n, Data: make([]float32, f.c*n*n)}
	g := f.s.geometry(frame.W, frame.H)
	vw := float64(g.newW) * float64(f.embW) / float64(f.s.side)
	vh := float64(g.newH) * float64(f.embH) / float64(f.s.side)
	if _, err := f.s.encode(frame, func(emb []float32) {
		poolValid(fm.Data, emb, f.c, f.embH, f.embW, n, n, vw, vh)
	}); err != nil {
		return nil, fmt.Errorf("sam features: %w", err)
	}
	return fm, nil
}

// poolValid area-averages the top-left vw x vh cells (fractional) of a c x eh x ew map into dst, c x gh x gw.
func poolValid(dst, src []float32, c, eh, ew, gh, gw int, vw, vh float64) {
	type span struct {
		i0, i1 int
		w0, w1 float64 // weights of the first and last cell
	}
	spans := func(n int, valid float64, g int) []span {
		out := make([]span, g)
		for i := range out {
			a, b := float64(i)*valid/float64(g), float64(i+1)*valid/float64(g)
			i0, i1 := int(a), min(int(b-1e-9), n-1)
			out[i] = span{i0, i1, float64(i0+1) - a, b - float64(i1)}
			if i0 == i1 {
				out[i].w0 = b - a
			}
		}
		return out
	}
	xs, ys := spans(ew, vw, gw), spans(eh, vh, gh)
	weight := func(s span, i int) float64 {
		switch i {
		case s.i0:
			return s.w0
		case s.i1:
			return s.w1
		}
		return 1
	}
	for ch := 0; ch < c; ch++ {
		plane := src[ch*eh*ew:]
		for gy, sy := range ys {
			for gx, sx := range xs {
				var sum, wsum float64
				for y := sy.i0; y <= sy.i1; y++ {
					wy := weight(sy, y)
					for x := sx.i0; x <= sx.i1; x++ {
						wt := wy * weight(sx, x)
						sum += wt * float64(plane[y*ew+x])
						wsum += wt
					}
				}
				dst[ch*gh*gw+gy*gw+gx] = float32(sum / wsum)
			}
		}
	}
}
