package builtin

import (
	"fmt"
	"math"

	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/internal/freelist"
	"github.com/samlad/samlad/infer/internal/workpool"
)

// FeatureStride is the number of input pixels per feature cell (224 px -> 28 cells).
const FeatureStride = 8

// NumChannels is the number of channels of the built-in descriptor.
const NumChannels = 40

// featureVersion names the channel formulas below; bump it when any changes.
const featureVersion = "hc40.v1"

// hogEps regularises the L2 normalisation of the orientation histograms
// (units: mean gradient magnitude of intensity in [0,1]).
const hogEps = 0.01

// Blur scales (pixels) of the intensity pyramid used by the gradient and
// difference-of-Gaussian channels.
const (
	sigmaFine   = 1
	sigmaMid    = 2
	sigmaCoarse = 4
)

// Features computes dense handcrafted descriptors: colour, gradient
// orientation histograms and band-pass texture energies, pooled at stride 8.
//
// Definitions. The image is first cropped to its top-left 8*floor(H/8) x
// 8*floor(W/8) pixels; every filter below replicates edge pixels (ONNX: Pad
// mode=edge). Per pixel, from RGB in [0,1]:
//
//	I  = (R+G+B)/3,  RG = R-G,  BY = (R+G)/2 - B          (opponent colour)
//	G1, G2, G4 = I blurred by Gaussians of sigma 1, 2, 4 px (radius ceil(3 sigma))
//	fine gradient:   (gx, gy) = Sobel(I)/8
//	coarse gradient: gx = (G2[x+2]-G2[x-2])/4, gy likewise
//	orientation responses of a gradient with m = |g| > 0, for bins b = 0..7
//	at angle phi_b = b*pi/8 (unsigned orientation, cosine-squared soft binning):
//	  d_b = ((gx^2-gy^2) cos 2phi_b + 2 gx gy sin 2phi_b) / m^2
//	  r_b = m * max(d_b, 0)^2            (sum over b of r_b = 2m)
//
// meanS(X) is the mean of X over the S x S window centred on the cell
// (the cell's own 8x8 pixels widened by (S-8)/2 on each side), counting only
// pixels inside the cropped image (ONNX: AveragePool, kernel S, stride 8,
// pads (S-8)/2, count_include_pad=0). hog(r, S) is the vector
// h_b = meanS(r_b) normalised as h_b / sqrt(sum h^2 + hogEps^2) (h_b is
// clamped at 0 against rounding in the pooled sums).
//
// Channels (C = 40):
//
//	 0- 2  mean8(I), mean8(RG), mean8(BY)
//	 3- 5  mean24(I), mean24(RG), mean24(BY)
//	 6- 8  2*sqrt(max(0, mean16(X^2) - mean16(X)^2)) for X = I, RG, BY
//	 9-16  hog(fine r, 8)
//	17-24  hog(fine r, 16)
//	25-32  hog(coarse r, 32)
//	33     8*mean16(fine m)
//	34     8*mean32(coarse m)
//	35-37  8*mean16(|I-G1|), 8*mean16(|G1-G2|), 8*mean16(|G2-G4|)
//	38     4*mean16(G1-G4)      (blob polarity)
//	39     4*mean8(I-G4)
//
// The result is deterministic and independent of the worker count.
type Features struct {
	workers int
	kFine   []float32
	kMid    []float32
	kCoarse []float32
	pool    freelist.List[featScratch]
}

// NewFeatures returns the extractor; workers bounds its parallelism (0 = one per CPU).
func NewFeatures(workers int) *Features {
	return &Features{
		workers: workpool.Workers(workers),
		kFine:   gaussKernel(sigmaFine),
		kMid:    gaussKernel(sigmaMid),
		kCoarse: gaussKernel(sigmaCoarse),
	}
}

// Stride implements infer.FeatureExtractor.
func (f *Features) Stride() int { return FeatureStride }

// Extract implements infer.FeatureExtractor.
func (f *Features) Extract(img *infer.Image) (*infer.FeatureMap, error) {
	fm := &infer.FeatureMap{}
	if err := f.ExtractInto(fm, img); err != nil {
		return nil, err
	}
	return fm, nil
}

// per-pixel quantities summed over 4x4 blocks before window pooling.
const (
	qI       = 0
	qRG      = 1
	qBY      = 2
	qI2      = 3
	qRG2     = 4
	qBY2     = 5
	qFine    = 6  // 8 orientation responses of the fine gradient
	qFineM   = 14 // fine gradient magnitude
	qCoarse  = 15 // 8 orientation responses of the coarse gradient
	qCoarseM = 23 // coarse gradient magnitude
	qD1      = 24 // |I-G1|
	qD2      = 25 // |G1-G2|
	qD3      = 26 // |G2-G4|
	qBlob    = 27 // G1-G4
	qHigh    = 28 // I-G4
	numQ     = 29
)

// block is the side of the pooling blocks; every window is a union of blocks.
const block = 4

type featScratch struct {
	planes []float32 // I, RG, BY, G1, G2, G4, tmp: 7 planes
	blocks []float32 // numQ x Hb x Wb block sums
	prefix []float64 // numQ x (Hb+1) x (Wb+1) prefix sums of blocks

	// The call in progress, read by the chunk functions below. They are
	// bound once per scratch: a closure per call would allocate every frame.
	f                            *Features
	img                          *infer.Image
	dst                          *infer.FeatureMap
	w, h, wb, hb, wc, hc         int
	colourFn, blocksFn, prefixFn func(lo, hi int)
	cellsFn                      func(lo, hi int)
}

// orientation bin directions (cos 2phi_b, sin 2phi_b).
var binCos, binSin = func() (c, s [8]float32) {
	for b := range 8 {
		a := 2 * float64(b) * math.Pi / 8
		c[b], s[b] = float32(math.Cos(a)), float32(math.Sin(a))
	}
	return
}()

// ExtractInto computes the features of img into dst, reusing dst.Data when it
// is large enough, so that a caller can extract without allocating.
func (f *Features) ExtractInto(dst *infer.FeatureMap, img *infer.Image) error {
	if err := checkImage(img, FeatureStride); err != nil {
		return fmt.Errorf("builtin features: %w", err)
	}
	hc, wc := img.H/FeatureStride, img.W/FeatureStride
	h, w := hc*FeatureStride, wc*FeatureStride
	hb, wb := h/block, w/block
	n := w * h

	s := f.pool.Get()
	defer f.pool.Put(s)
	if s.cellsFn == nil {
		s.colourFn, s.blocksFn, s.prefixFn, s.cellsFn = s.colour, s.accumulate, s.prefixSums, s.cells
	}
	s.f, s.img, s.dst = f, img, dst
	defer func() { s.f, s.img, s.dst = nil, nil, nil }()
	s.w, s.h, s.wb, s.hb, s.wc, s.hc = w, h, wb, hb, wc, hc
	s.planes = grow(s.planes, 7*n)
	pI, g1, g2, g4, tmp := s.plane(0), s.plane(3), s.plane(4), s.plane(5), s.plane(6)

	// Opponent colour of the cropped image.
	workpool.Range(f.workers, h, s.colourFn)
	blurPlane(g1, pI, tmp, w, h, f.kFine, f.workers)
	blurPlane(g2, pI, tmp, w, h, f.kMid, f.workers)
	blurPlane(g4, pI, tmp, w, h, f.kCoarse, f.workers)

	s.blocks = grow(s.blocks, numQ*hb*wb)
	clear(s.blocks)
	workpool.Range(f.workers, hb, s.blocksFn)

	// Prefix sums over blocks, one quantity per task.
	s.prefix = grow(s.prefix, numQ*(hb+1)*(wb+1))
	workpool.Range(f.workers, numQ, s.prefixFn)

	dst.C, dst.H, dst.W = NumChannels, hc, wc
	dst.Data = grow(dst.Data, NumChannels*hc*wc)
	workpool.Range(f.workers, hc, s.cellsFn)
	return nil
}

// plane returns the i-th w x h plane of s.planes (I, RG, BY, G1, G2, G4, tmp).
func (s *featScratch) plane(i int) []float32 {
	n := s.w * s.h
	return s.planes[i*n : (i+1)*n]
}

// colour writes the opponent colour planes of image rows [lo, hi).
func (s *featScratch) colour(lo, hi int) {
	img, w := s.img, s.w
	pI, pRG, pBY := s.plane(0), s.plane(1), s.plane(2)
	plane := img.W * img.H
	for y := lo; y < hi; y++ {
		src := y * img.W
		for x := 0; x < w; x++ {
			r, g, b := img.Pix[src+x], img.Pix[plane+src+x], img.Pix[2*plane+src+x]
			i := y*w + x
			pI[i] = (r + g + b) / 3
			pRG[i] = r - g
			pBY[i] = (r+g)/2 - b
		}
	}
}

// accumulate adds the block sums of block rows [lo, hi).
func (s *featScratch) accumulate(lo, hi int) {
	w, h, nb := s.w, s.h, s.hb*s.wb
	pI, pRG, pBY, g1, g2, g4 := s.plane(0), s.plane(1), s.plane(2), s.plane(3), s.plane(4), s.plane(5)
	for y := lo * block; y < hi*block; y++ {
		accumulateRow(s.blocks, nb, (y/block)*s.wb, y, w, h, pI, pRG, pBY, g1, g2, g4)
	}
}

// prefixSums writes the prefix sums of quantities [lo, hi).
func (s *featScratch) prefixSums(lo, hi int) {
	hb, wb := s.hb, s.wb
	nb, pw := hb*wb, wb+1
	np := (hb + 1) * pw
	for q := lo; q < hi; q++ {
		bs := s.blocks[q*nb : (q+1)*nb]
		ps := s.prefix[q*np : (q+1)*np]
		clear(ps[:pw])
		for by := 0; by < hb; by++ {
			ps[(by+1)*pw] = 0
			var run float64
			for bx := 0; bx < wb; bx++ {
				run += float64(bs[by*wb+bx])
				ps[(by+1)*pw+bx+1] = ps[by*pw+bx+1] + run
			}
		}
	}
}

// cells writes the features of cell rows [lo, hi).
func (s *featScratch) cells(lo, hi int) {
	pw := s.wb + 1
	np := (s.hb + 1) * pw
	for cy := lo; cy < hi; cy++ {
		for cx := 0; cx < s.wc; cx++ {
			s.f.cell(s.dst, s.prefix, np, pw, s.hb, s.wb, cy, cx)
		}
	}
}

// accumulateRow adds the per-pixel quantities of image row y into the block
// sums of its block row (which starts at block index base). Each block's
// 4 pixels are summed locally first.
func accumulateRow(bs []float32, nb, base, y, w, h int, pI, pRG, pBY, g1, g2, g4 []float32) {
	ym, yp := max(y-1, 0)*w, min(y+1, h-1)*w
	ym2, yp2 := max(y-2, 0)*w, min(y+2, h-1)*w
	row := y * w
	var acc [numQ]float32
	for x0 := 0; x0 < w; x0 += block {
		acc = [numQ]float32{}
		for x := x0; x < x0+block; x++ {
			i := row + x
			iv, rg, by := pI[i], pRG[i], pBY[i]
			acc[qI] += iv
			acc[qRG] += rg
			acc[qBY] += by
			acc[qI2] += iv * iv
			acc[qRG2] += rg * rg
			acc[qBY2] += by * by

			xm, xp := max(x-1, 0), min(x+1, w-1)
			gx := (pI[ym+xp] + 2*pI[row+xp] + pI[yp+xp] - pI[ym+xm] - 2*pI[row+xm] - pI[yp+xm]) / 8
			gy := (pI[yp+xm] + 2*pI[yp+x] + pI[yp+xp] - pI[ym+xm] - 2*pI[ym+x] - pI[ym+xp]) / 8
			addOrientations((*[9]float32)(acc[qFine:qFineM+1]), gx, gy)

			xm2, xp2 := max(x-2, 0), min(x+2, w-1)
			gx = (g2[row+xp2] - g2[row+xm2]) / 4
			gy = (g2[yp2+x] - g2[ym2+x]) / 4
			addOrientations((*[9]float32)(acc[qCoarse:qCoarseM+1]), gx, gy)

			v1, v2, v4 := g1[i], g2[i], g4[i]
			acc[qD1] += abs32(iv - v1)
			acc[qD2] += abs32(v1 - v2)
			acc[qD3] += abs32(v2 - v4)
			acc[qBlob] += v1 - v4
			acc[qHigh] += iv - v4
		}
		b := base + x0/block
		for q, v := range acc {
			bs[q*nb+b] += v
		}
	}
}

// addOrientations adds the 8 soft-binned orientation responses r_b and the
// magnitude m of gradient (gx, gy) to acc[0:8] and acc[8]. With
// p_b = (gx^2-gy^2) cos 2phi_b + 2 gx gy sin 2phi_b, r_b = max(p_b,0)^2 / m^3;
// bins b and b+4 have opposite p, so 4 products serve all 8 bins.
func addOrientations(acc *[9]float32, gx, gy float32) {
	m2 := gx*gx + gy*gy
	if m2 < 1e-12 {
		return
	}
	m := float32(math.Sqrt(float64(m2)))
	inv := 1 / (m2 * m)
	c2, s2 := gx*gx-gy*gy, 2*gx*gy
	for k := range 4 {
		p := c2*binCos[k] + s2*binSin[k]
		if p > 0 {
			acc[k] += p * p * inv
		} else {
			acc[k+4] += p * p * inv
		}
	}
	acc[8] += m
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// window returns the block range [lo, hi) of the S-pixel window of cell c,
// where e = (S-8)/8 is the widening in blocks on each side.
func window(c, e, n int) (lo, hi int) {
	return max(2*c-e, 0), min(2*c+2+e, n)
}

// cell writes the 40 channels of cell (cy, cx).
func (f *Features) cell(dst *infer.FeatureMap, prefix []float64, np, pw, hb, wb, cy, cx int) {
	plane := dst.H * dst.W
	at := cy*dst.W + cx
	set := func(ch int, v float64) { dst.Data[ch*plane+at] = float32(v) }

	// mean over the S window (e blocks of widening) of quantity q.
	type win struct {
		y0, y1, x0, x1 int
		inv            float64
	}
	mk := func(e int) win {
		y0, y1 := window(cy, e, hb)
		x0, x1 := window(cx, e, wb)
		return win{y0, y1, x0, x1, 1 / float64((y1-y0)*(x1-x0)*block*block)}
	}
	w8, w16, w24, w32 := mk(0), mk(1), mk(2), mk(3)
	mean := func(q int, wn win) float64 {
		p := prefix[q*np:]
		return (p[wn.y1*pw+wn.x1] - p[wn.y0*pw+wn.x1] - p[wn.y1*pw+wn.x0] + p[wn.y0*pw+wn.x0]) * wn.inv
	}

	for k := range 3 {
		set(k, mean(qI+k, w8))
		set(3+k, mean(qI+k, w24))
		m := mean(qI+k, w16)
		set(6+k, 2*math.Sqrt(max(0, mean(qI2+k, w16)-m*m)))
	}
	hog := func(ch, q0 int, wn win) {
		var h [8]float64
		var ss float64
		for b := range 8 {
			h[b] = max(mean(q0+b, wn), 0)
			ss += h[b] * h[b]
		}
		inv := 1 / math.Sqrt(ss+hogEps*hogEps)
		for b := range 8 {
			set(ch+b, h[b]*inv)
		}
	}
	hog(9, qFine, w8)
	hog(17, qFine, w16)
	hog(25, qCoarse, w32)
	set(33, 8*mean(qFineM, w16))
	set(34, 8*mean(qCoarseM, w32))
	set(35, 8*mean(qD1, w16))
	set(36, 8*mean(qD2, w16))
	set(37, 8*mean(qD3, w16))
	set(38, 4*mean(qBlob, w16))
	set(39, 4*mean(qHigh, w8))
}
