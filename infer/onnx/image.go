package onnx

import (
	"errors"
	"fmt"

	"github.com/samlad/samlad/infer"
)

// normalizeInto writes img, resized to dstW x dstH (bilinear, half-pixel
// centres as in torch's align_corners=False) and normalised per channel, into
// dst laid out as a 3 x padH x padW planar tensor. Pixels right of dstW or
// below dstH are zero, which is how SAM pads after normalising.
func normalizeInto(dst []float32, img *infer.Image, dstW, dstH, padW, padH int, n Normalize) {
	clear(dst[:3*padW*padH])
	for c := 0; c < 3; c++ {
		mean, std := float32(0), float32(1)
		if len(n.Mean) == 3 {
			mean, std = n.Mean[c], n.Std[c]
		}
		src := img.Pix[c*img.W*img.H : (c+1)*img.W*img.H]
		plane := dst[c*padW*padH:]
		if dstW == img.W && dstH == img.H {
			for y := 0; y < dstH; y++ {
				row := src[y*img.W : (y+1)*img.W]
				out := plane[y*padW : y*padW+dstW]
				for x, v := range row {
					out[x] = (v - mean) / std
				}
			}
			continue
		}
		resizePlane(plane, padW, src, img.W, img.H, dstW, dstH, func(v float32) float32 { return (v - mean) / std })
	}
}

// resizePlane resamples one src plane (sw x sh) to dw x dh into dst with row
// stride dstStride, applying f to each value. Not infer.Resize, which
// box-averages when shrinking and places taps in float64: the ONNX stages
// were measured with these float32 taps, and their inputs keep their bits.
func resizePlane(dst []float32, dstStride int, src []float32, sw, sh, dw, dh int, f func(float32) float32) {
	xs := make([]sample, dw)
	for x := range xs {
		xs[x] = coord(x, sw, dw)
	}
	for y := 0; y < dh; y++ {
		sy := coord(y, sh, dh)
		r0 := src[sy.i0*sw:]
		r1 := src[sy.i1*sw:]
		out := dst[y*dstStride:]
		for x, sx := range xs {
			top := r0[sx.i0]*(1-sx.w) + r0[sx.i1]*sx.w
			bot := r1[sx.i0]*(1-sx.w) + r1[sx.i1]*sx.w
			out[x] = f(top*(1-sy.w) + bot*sy.w)
		}
	}
}

type sample struct {
	i0, i1 int
	w      float32
}

// coord maps output index i of an n_out axis onto an n_in axis with
// half-pixel centres, clamped at the borders.
func coord(i, nIn, nOut int) sample {
	return coordScaled(i, float32(nIn)/float32(nOut), nIn)
}

// coordScaled maps output index i to input position (i+0.5)*scale-0.5.
func coordScaled(i int, scale float32, nIn int) sample {
	s := (float32(i)+0.5)*scale - 0.5
	if s < 0 {
		s = 0
	}
	i0 := int(s)
	if i0 > nIn-1 {
		i0 = nIn - 1
	}
	i1 := min(i0+1, nIn-1)
	return sample{i0, i1, s - float32(i0)}
}

// checkImage rejects an image whose buffer does not match its size.
func checkImage(img *infer.Image) error {
	if img == nil || img.W <= 0 || img.H <= 0 || len(img.Pix) != 3*img.W*img.H {
		if img == nil {
			return errors.New("image is nil")
		}
		return fmt.Errorf("image %dx%d has %d values, want 3*W*H", img.W, img.H, len(img.Pix))
	}
	return nil
}
