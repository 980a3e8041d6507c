package builtin

import (
	"fmt"
	"math"

	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/internal/freelist"
	"github.com/samlad/samlad/infer/internal/workpool"
)

// Joint bilateral upsampling parameters (Kopf et al., SIGGRAPH 2007).
const (
	// jbuSigmaSpatial is the spatial Gaussian, in low-resolution cells. The
	// 3x3 window around the cell holding an output pixel keeps every
	// neighbour closer than 1.5 cells; the truncated weight is below 1.2%.
	jbuSigmaSpatial = 0.5
	// jbuSigmaRange is the range Gaussian on the RGB distance (RGB in [0,1]).
	jbuSigmaRange = 0.12
	// jbuRangeFloor bounds the range weight from below, so that a pixel
	// unlike all its neighbours falls back to spatial interpolation.
	jbuRangeFloor = 1e-4
	// rangeLUTSize entries tabulate exp(-d2/(2 sigma_r^2)) up to the floor.
	rangeLUTSize = 4096
)

// checkFactor accepts the factors of the built-in upsamplers.
func checkFactor(factor int) error {
	switch factor {
	case 1, 2, 4, 8:
		return nil
	}
	return fmt.Errorf("upsample factor %d: want 1, 2, 4 or 8", factor)
}

// checkUpsample validates the inputs common to both upsamplers.
func checkUpsample(img *infer.Image, f *infer.FeatureMap, factor int) error {
	if err := checkFactor(factor); err != nil {
		return err
	}
	if err := checkFeatureMap(f); err != nil {
		return err
	}
	if err := checkImage(img, 1); err != nil {
		return fmt.Errorf("guidance %w", err)
	}
	if img.W < f.W || img.H < f.H {
		return fmt.Errorf("guidance image %dx%d is smaller than the feature grid %dx%d", img.W, img.H, f.W, f.H)
	}
	return nil
}

// JBU is a joint bilateral upsampler guided by the image. Output pixel p of
// the (H*factor) x (W*factor) grid is
//
//	out_c(p) = sum_q w(p,q) f_c(q) / sum_q w(p,q)
//	w(p,q)   = exp(-|u_p - q|^2 / (2 sigma_s^2)) * max(exp(-|I_p - I_q|^2 / (2 sigma_r^2)), floor)
//
// over the low-resolution cells q in the 3x3 window around the cell that
// holds p; u_p is p's centre in cell units, I_p is the mean image colour over
// p's footprint and I_q the mean colour over cell q's footprint (each cell
// covers floor(imgH/H) x floor(imgW/W) pixels from the top left). Factor 1
// returns the features unchanged. The weights of a pixel are computed once
// and applied to every channel.
type JBU struct {
	workers  int
	spatial  map[int][]float32 // factor -> [factor*factor][9] spatial weights
	rangeLUT [rangeLUTSize]float32
	lutScale float32 // index = d2 * lutScale
	pool     freelist.List[jbuScratch]
}

type jbuScratch struct {
	gLo, gHi []float32 // guidance colours: 3 x cells, 3 x output pixels
	parts    []jbuPart

	// The call in progress, read by the chunk functions below. They are
	// bound once per scratch: a closure per call would allocate every frame.
	u       *JBU
	img     *infer.Image
	f       *infer.FeatureMap
	factor  int
	mask    []uint8
	spatial []float32
	out     []float32 // C x H' x W', or H' x W' x C when hwc
	hwc     bool

	meanLoFn, guidanceFn func(lo, hi int)
	cellsFn              func(part, lo, hi int)
}

// bind points the chunk functions at s, the first time s is used.
func (s *jbuScratch) bind() {
	if s.cellsFn == nil {
		s.meanLoFn, s.guidanceFn, s.cellsFn = s.meanLo, s.guidance, s.cells
	}
}

type jbuPart struct {
	w  []float32 // factor*factor x 9 normalised weights of one cell's pixels
	nb []float32 // 9 x C neighbour feature vectors (pixel-major path)
}

// NewJBU returns the joint bilateral upsampler; workers bounds its parallelism.
func NewJBU(workers int) *JBU {
	u := &JBU{workers: workpool.Workers(workers), spatial: map[int][]float32{}}
	twoR2 := 2 * jbuSigmaRange * jbuSigmaRange
	maxD2 := -math.Log(jbuRangeFloor) * twoR2
	u.lutScale = float32((rangeLUTSize - 1) / maxD2)
	for i := range u.rangeLUT {
		d2 := float64(i) / float64(u.lutScale)
		u.rangeLUT[i] = float32(max(math.Exp(-d2/twoR2), jbuRangeFloor))
	}
	for _, f := range []int{2, 4, 8} {
		tab := make([]float32, f*f*9)
		for sy := range f {
			for sx := range f {
				dy := (float64(sy)+0.5)/float64(f) - 0.5
				dx := (float64(sx)+0.5)/float64(f) - 0.5
				for j := range 9 {
					ny, nx := float64(j/3-1), float64(j%3-1)
					d2 := (ny-dy)*(ny-dy) + (nx-dx)*(nx-dx)
					tab[(sy*f+sx)*9+j] = float32(math.Exp(-d2 / (2 * jbuSigmaSpatial * jbuSigmaSpatial)))
				}
			}
		}
		u.spatial[f] = tab
	}
	return u
}

// Upsample implements infer.Upsampler.
func (u *JBU) Upsample(img *infer.Image, f *infer.FeatureMap, factor int) (*infer.FeatureMap, error) {
	out := &infer.FeatureMap{}
	if err := u.UpsampleInto(out, img, f, factor); err != nil {
		return nil, err
	}
	return out, nil
}

// footprint returns the pixel span [lo, hi) of output index o of n*factor
// outputs over size pixels, where the n inputs each cover size/n pixels.
func footprint(o, factor, size, n int) (lo, hi int) {
	r := size / n
	lo = o * r / factor
	hi = max((o+1)*r/factor, lo+1)
	return lo, hi
}

// meanColour writes the mean RGB of img over [y0,y1) x [x0,x1) to dst[0], dst[stride], dst[2*stride].
func meanColour(dst []float32, stride int, img *infer.Image, y0, y1, x0, x1 int) {
	plane := img.W * img.H
	inv := 1 / float32((y1-y0)*(x1-x0))
	for c := range 3 {
		var s float32
		for y := y0; y < y1; y++ {
			row := img.Pix[c*plane+y*img.W:]
			for x := x0; x < x1; x++ {
				s += row[x]
			}
		}
		dst[c*stride] = s * inv
	}
}

// UpsampleInto upsamples f into dst, reusing dst.Data when large enough.
// dst must not alias f.
func (u *JBU) UpsampleInto(dst *infer.FeatureMap, img *infer.Image, f *infer.FeatureMap, factor int) error {
	if err := checkUpsample(img, f, factor); err != nil {
		return fmt.Errorf("jbu upsample: %w", err)
	}
	dst.C, dst.H, dst.W = f.C, f.H*factor, f.W*factor
	dst.Data = grow(dst.Data, f.C*dst.H*dst.W)
	if factor == 1 {
		copy(dst.Data, f.Data)
		return nil
	}
	u.upsample(img, f, factor, nil, dst.Data, false)
	return nil
}

// UpsampleHWC upsamples f into pixel-major order, out[(y*W'+x)*C + c] with
// W' = f.W*factor, reusing dst's storage when large enough. It saves a
// transpose to callers that read all channels of one pixel together.
func (u *JBU) UpsampleHWC(dst []float32, img *infer.Image, f *infer.FeatureMap, factor int) ([]float32, error) {
	return u.UpsampleHWCMasked(dst, img, f, factor, nil)
}

// UpsampleHWCMasked is UpsampleHWC computed only where mask (H'xW' at the
// output resolution, nil = everywhere) is non-zero; elsewhere the output is
// 0. A caller that needs the features only inside its object masks saves
// the work on the rest: low-resolution cells without a masked pixel are
// skipped whole.
func (u *JBU) UpsampleHWCMasked(dst []float32, img *infer.Image, f *infer.FeatureMap, factor int, mask []uint8) ([]float32, error) {
	if err := checkUpsample(img, f, factor); err != nil {
		return nil, fmt.Errorf("jbu upsample: %w", err)
	}
	ho, wo, nc := f.H*factor, f.W*factor, f.C
	if mask != nil && len(mask) != ho*wo {
		return nil, fmt.Errorf("jbu upsample: mask has %d values, want %dx%d", len(mask), wo, ho)
	}
	dst = grow(dst, nc*ho*wo)
	if factor == 1 {
		transposeHWC(dst, f)
		applyMaskHWC(dst, mask, nc)
		return dst, nil
	}
	u.upsample(img, f, factor, mask, dst, true)
	return dst, nil
}

// applyMaskHWC zeroes the pixels of a pixel-major map where mask is 0.
func applyMaskHWC(dst []float32, mask []uint8, nc int) {
	for i, m := range mask {
		if m == 0 {
			clear(dst[i*nc : (i+1)*nc])
		}
	}
}

// cellMasked reports whether the factor x factor output block of cell
// (cy, cx) holds a non-zero mask pixel.
func cellMasked(mask []uint8, factor, wo, cy, cx int) bool {
	for sy := range factor {
		row := (cy*factor+sy)*wo + cx*factor
		for _, m := range mask[row : row+factor] {
			if m != 0 {
				return true
			}
		}
	}
	return false
}

// transposeHWC writes the C x H x W map f pixel-major into dst.
func transposeHWC(dst []float32, f *infer.FeatureMap) {
	plane := f.H * f.W
	for i := range plane {
		o := dst[i*f.C : (i+1)*f.C]
		for c := range o {
			o[c] = f.Data[c*plane+i]
		}
	}
}

// upsample computes the guidance colours, then for every low-resolution
// cell its pixels' weights, and applies them to out (cells in parallel),
// pixel-major when hwc. With a mask, cells without a masked output pixel
// are zeroed instead.
func (u *JBU) upsample(img *infer.Image, f *infer.FeatureMap, factor int, mask []uint8, out []float32, hwc bool) {
	h, w := f.H, f.W
	ho, wo := h*factor, w*factor
	nLo, nHi := h*w, ho*wo

	s := u.pool.Get()
	defer u.pool.Put(s)
	s.bind()
	s.u, s.img, s.f, s.factor, s.mask, s.out, s.hwc = u, img, f, factor, mask, out, hwc
	s.spatial = u.spatial[factor]
	defer func() { s.u, s.img, s.f, s.mask, s.out, s.spatial = nil, nil, nil, nil, nil, nil }()
	s.gLo = grow(s.gLo, 3*nLo)
	s.gHi = grow(s.gHi, 3*nHi)
	workpool.Range(u.workers, h, s.meanLoFn)
	if img.H/h == factor && img.W/w == factor {
		// One image pixel per output pixel: copy the rows.
		plane := img.W * img.H
		for c := range 3 {
			for oy := range ho {
				copy(s.gHi[c*nHi+oy*wo:c*nHi+oy*wo+wo], img.Pix[c*plane+oy*img.W:])
			}
		}
	} else {
		workpool.Range(u.workers, ho, s.guidanceFn)
	}

	workers := min(u.workers, h)
	if len(s.parts) < workers {
		s.parts = append(s.parts, make([]jbuPart, workers-len(s.parts))...)
	}
	workpool.Parts(workers, h, s.cellsFn)
}

// meanLo writes the mean colour of the image footprint of cell rows [lo, hi).
func (s *jbuScratch) meanLo(lo, hi int) {
	h, w, img := s.f.H, s.f.W, s.img
	nLo := h * w
	for cy := lo; cy < hi; cy++ {
		y0, y1 := footprint(cy, 1, img.H, h)
		for cx := range w {
			x0, x1 := footprint(cx, 1, img.W, w)
			meanColour(s.gLo[cy*w+cx:], nLo, img, y0, y1, x0, x1)
		}
	}
}

// guidance writes the mean colour of every output pixel's image footprint
// in output rows [lo, hi).
func (s *jbuScratch) guidance(lo, hi int) {
	h, w, img, factor := s.f.H, s.f.W, s.img, s.factor
	ho, wo := h*factor, w*factor
	nHi := ho * wo
	for oy := lo; oy < hi; oy++ {
		y0, y1 := footprint(oy, factor, img.H, h)
		for ox := range wo {
			x0, x1 := footprint(ox, factor, img.W, w)
			meanColour(s.gHi[oy*wo+ox:], nHi, img, y0, y1, x0, x1)
		}
	}
}

// cells weighs and applies the cells of rows [lo, hi) with chunk part's buffers.
func (s *jbuScratch) cells(part, lo, hi int) {
	f, factor, mask, out := s.f, s.factor, s.mask, s.out
	h, w := f.H, f.W
	wo, nc := w*factor, f.C
	p := &s.parts[part]
	p.w = grow(p.w, factor*factor*9)
	p.nb = grow(p.nb, 9*f.C)
	for cy := lo; cy < hi; cy++ {
		for cx := range w {
			if mask != nil && !cellMasked(mask, factor, wo, cy, cx) {
				for sy := range factor {
					row := (cy*factor+sy)*wo + cx*factor
					clear(out[row*nc : (row+factor)*nc])
				}
				continue
			}
			s.u.cellWeights(p.w, s, s.spatial, factor, h, w, cy, cx)
			if s.hwc {
				applyCellHWC(out, f, p.w, p.nb, factor, cy, cx, mask)
			} else {
				applyCell(out, f, p.w, factor, cy, cx)
			}
		}
	}
}

// cellWeights fills wt[k*9+j], the normalised weight of neighbour j of the
// k-th output pixel of cell (cy, cx); neighbours outside the grid weigh 0.
func (u *JBU) cellWeights(wt []float32, s *jbuScratch, spatial []float32, factor, h, w, cy, cx int) {
	nLo := h * w
	wo := w * factor
	nHi := len(s.gHi) / 3
	var nbIdx [9]int
	var ok [9]bool
	for j := range 9 {
		ny, nx := cy+j/3-1, cx+j%3-1
		ok[j] = ny >= 0 && ny < h && nx >= 0 && nx < w
		if ok[j] {
			nbIdx[j] = ny*w + nx
		}
	}
	for sy := range factor {
		for sx := range factor {
			k := sy*factor + sx
			op := (cy*factor+sy)*wo + cx*factor + sx
			pr, pg, pb := s.gHi[op], s.gHi[nHi+op], s.gHi[2*nHi+op]
			ww := wt[k*9 : k*9+9]
			sp := spatial[k*9 : k*9+9]
			var sum float32
			for j := range 9 {
				if !ok[j] {
					ww[j] = 0
					continue
				}
				q := nbIdx[j]
				dr, dg, db := pr-s.gLo[q], pg-s.gLo[nLo+q], pb-s.gLo[2*nLo+q]
				// Past the table (or NaN from a corrupt pixel) the weight is the floor.
				idx := rangeLUTSize - 1
				if t := (dr*dr + dg*dg + db*db) * u.lutScale; t < rangeLUTSize-1 {
					idx = int(t)
				}
				v := sp[j] * u.rangeLUT[idx]
				ww[j] = v
				sum += v
			}
			inv := 1 / sum
			for j := range ww {
				ww[j] *= inv
			}
		}
	}
}

// applyCell writes every channel of the factor x factor output pixels of
// cell (cy, cx) as the weighted sum of its 3x3 neighbours (clamped indices
// carry weight 0 outside the grid).
func applyCell(out []float32, f *infer.FeatureMap, wt []float32, factor, cy, cx int) {
	h, w := f.H, f.W
	plane := h * w
	wo := w * factor
	nHi := plane * factor * factor
	var idx [9]int
	for j := range 9 {
		ny, nx := min(max(cy+j/3-1, 0), h-1), min(max(cx+j%3-1, 0), w-1)
		idx[j] = ny*w + nx
	}
	base := cy*factor*wo + cx*factor
	for c := range f.C {
		src := f.Data[c*plane : (c+1)*plane]
		n0, n1, n2, n3, n4, n5, n6, n7, n8 := src[idx[0]], src[idx[1]], src[idx[2]], src[idx[3]], src[idx[4]], src[idx[5]], src[idx[6]], src[idx[7]], src[idx[8]]
		dstC := out[c*nHi+base:]
		k := 0
		for sy := range factor {
			row := dstC[sy*wo : sy*wo+factor]
			for sx := range row {
				ww := wt[k*9 : k*9+9 : k*9+9]
				row[sx] = ww[0]*n0 + ww[1]*n1 + ww[2]*n2 + ww[3]*n3 + ww[4]*n4 + ww[5]*n5 + ww[6]*n6 + ww[7]*n7 + ww[8]*n8
				k++
			}
		}
	}
}

// applyCellHWC is applyCell writing pixel-major output: it gathers the 9
// neighbours' C-vectors once, then each output pixel is a weighted sum of
// 9 contiguous vectors (0 where a non-nil mask is 0).
func applyCellHWC(out []float32, f *infer.FeatureMap, wt, nb []float32, factor, cy, cx int, mask []uint8) {
	h, w, nc := f.H, f.W, f.C
	plane := h * w
	wo := w * factor
	for j := range 9 {
		ny, nx := min(max(cy+j/3-1, 0), h-1), min(max(cx+j%3-1, 0), w-1)
		q := ny*w + nx
		v := nb[j*nc : (j+1)*nc]
		for c := range v {
			v[c] = f.Data[c*plane+q]
		}
	}
	n0, n1, n2 := nb[0:nc], nb[nc:2*nc], nb[2*nc:3*nc]
	n3, n4, n5 := nb[3*nc:4*nc], nb[4*nc:5*nc], nb[5*nc:6*nc]
	n6, n7, n8 := nb[6*nc:7*nc], nb[7*nc:8*nc], nb[8*nc:9*nc]
	k := 0
	for sy := range factor {
		for sx := range factor {
			ww := wt[k*9 : k*9+9 : k*9+9]
			w0, w1, w2, w3, w4, w5, w6, w7, w8 := ww[0], ww[1], ww[2], ww[3], ww[4], ww[5], ww[6], ww[7], ww[8]
			p := (cy*factor+sy)*wo + cx*factor + sx
			o := out[p*nc:][:nc]
			if mask != nil && mask[p] == 0 {
				clear(o)
				k++
				continue
			}
			for c := range o {
				o[c] = w0*n0[c] + w1*n1[c] + w2*n2[c] + w3*n3[c] + w4*n4[c] + w5*n5[c] + w6*n6[c] + w7*n7[c] + w8*n8[c]
			}
			k++
		}
	}
}

// Bilinear is plain bilinear upsampling (half-pixel centres, edges clamped;
// PyTorch interpolate with align_corners=False). The image is not used
// beyond validation. Factor 1 returns the features unchanged.
type Bilinear struct {
	workers int
	pool    freelist.List[bilinearScratch]
}

type bilinearScratch struct {
	xTaps, yTaps []bilinearTap
	rows         [][]float32 // per worker: H x W' horizontally interpolated rows
	hwc          []float32   // the input, pixel-major
}

// bilinearTap is output index o's two source indices and the second's weight.
type bilinearTap struct {
	i0, i1 int
	a      float32
}

// NewBilinear returns the bilinear upsampler.
func NewBilinear(workers int) *Bilinear { return &Bilinear{workers: workpool.Workers(workers)} }

// Upsample implements infer.Upsampler.
func (b *Bilinear) Upsample(img *infer.Image, f *infer.FeatureMap, factor int) (*infer.FeatureMap, error) {
	out := &infer.FeatureMap{}
	if err := b.UpsampleInto(out, img, f, factor); err != nil {
		return nil, err
	}
	return out, nil
}

// taps fills t with the taps of n*factor outputs over n inputs: float32
// taps shared by every channel, not infer.Bilinear per value, which would
// cost the hot path and change the upsampled features' bits.
func taps(t []bilinearTap, factor, n int) {
	for o := range t {
		u := (float32(o)+0.5)/float32(factor) - 0.5
		u = min(max(u, 0), float32(n-1))
		i0 := int(u)
		t[o] = bilinearTap{i0, min(i0+1, n-1), u - float32(i0)}
	}
}

// UpsampleInto upsamples f into dst, reusing dst.Data when large enough.
// dst must not alias f.
func (b *Bilinear) UpsampleInto(dst *infer.FeatureMap, img *infer.Image, f *infer.FeatureMap, factor int) error {
	if err := checkUpsample(img, f, factor); err != nil {
		return fmt.Errorf("bilinear upsample: %w", err)
	}
	h, w := f.H, f.W
	ho, wo := h*factor, w*factor
	dst.C, dst.H, dst.W = f.C, ho, wo
	dst.Data = grow(dst.Data, f.C*ho*wo)
	if factor == 1 {
		copy(dst.Data, f.Data)
		return nil
	}
	s := b.pool.Get()
	defer b.pool.Put(s)
	s.xTaps, s.yTaps = grow(s.xTaps, wo), grow(s.yTaps, ho)
	taps(s.xTaps, factor, w)
	taps(s.yTaps, factor, h)
	workers := min(b.workers, f.C)
	if len(s.rows) < workers {
		s.rows = append(s.rows, make([][]float32, workers-len(s.rows))...)
	}
	workpool.Parts(workers, f.C, func(part, lo, hi int) {
		rows := grow(s.rows[part], h*wo)
		s.rows[part] = rows
		for c := lo; c < hi; c++ {
			src := f.Data[c*h*w : (c+1)*h*w]
			for y := range h {
				in, out := src[y*w:y*w+w], rows[y*wo:y*wo+wo]
				for ox, t := range s.xTaps {
					out[ox] = in[t.i0] + t.a*(in[t.i1]-in[t.i0])
				}
			}
			out := dst.Data[c*ho*wo : (c+1)*ho*wo]
			for oy, t := range s.yTaps {
				r0, r1 := rows[t.i0*wo:t.i0*wo+wo], rows[t.i1*wo:t.i1*wo+wo]
				row := out[oy*wo : oy*wo+wo]
				for ox := range row {
					row[ox] = r0[ox] + t.a*(r1[ox]-r0[ox])
				}
			}
		}
	})
	return nil
}

// UpsampleHWC upsamples f into pixel-major order, out[(y*W'+x)*C + c] with
// W' = f.W*factor, reusing dst's storage when large enough.
func (b *Bilinear) UpsampleHWC(dst []float32, img *infer.Image, f *infer.FeatureMap, factor int) ([]float32, error) {
	return b.UpsampleHWCMasked(dst, img, f, factor, nil)
}

// UpsampleHWCMasked is UpsampleHWC computed only where mask (H'xW' at the
// output resolution, nil = everywhere) is non-zero; elsewhere the output is 0.
func (b *Bilinear) UpsampleHWCMasked(dst []float32, img *infer.Image, f *infer.FeatureMap, factor int, mask []uint8) ([]float32, error) {
	if err := checkUpsample(img, f, factor); err != nil {
		return nil, fmt.Errorf("bilinear upsample: %w", err)
	}
	h, w, nc := f.H, f.W, f.C
	ho, wo := h*factor, w*factor
	if mask != nil && len(mask) != ho*wo {
		return nil, fmt.Errorf("bilinear upsample: mask has %d values, want %dx%d", len(mask), wo, ho)
	}
	dst = grow(dst, nc*ho*wo)
	if factor == 1 {
		transposeHWC(dst, f)
		applyMaskHWC(dst, mask, nc)
		return dst, nil
	}
	s := b.pool.Get()
	defer b.pool.Put(s)
	s.xTaps, s.yTaps = grow(s.xTaps, wo), grow(s.yTaps, ho)
	taps(s.xTaps, factor, w)
	taps(s.yTaps, factor, h)
	s.hwc = grow(s.hwc, nc*h*w)
	transposeHWC(s.hwc, f)
	workpool.Range(b.workers, ho, func(lo, hi int) {
		for oy := lo; oy < hi; oy++ {
			ty := s.yTaps[oy]
			for ox, tx := range s.xTaps {
				o := dst[(oy*wo+ox)*nc:][:nc]
				if mask != nil && mask[oy*wo+ox] == 0 {
					clear(o)
					continue
				}
				v00 := s.hwc[(ty.i0*w+tx.i0)*nc:][:nc]
				v01 := s.hwc[(ty.i0*w+tx.i1)*nc:][:nc]
				v10 := s.hwc[(ty.i1*w+tx.i0)*nc:][:nc]
				v11 := s.hwc[(ty.i1*w+tx.i1)*nc:][:nc]
				w00, w01 := (1-ty.a)*(1-tx.a), (1-ty.a)*tx.a
				w10, w11 := ty.a*(1-tx.a), ty.a*tx.a
				for c := range o {
					o[c] = w00*v00[c] + w01*v01[c] + w10*v10[c] + w11*v11[c]
				}
			}
		}
	})
	return dst, nil
}
