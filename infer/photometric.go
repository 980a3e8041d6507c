package infer

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// The photometric model (pipeline.photometric): lamps drift and age, so the
// same product is seen brighter or darker, tinted, and lit more from one
// side from one image to the next. Enrolment keeps the per-pixel median of
// the good images (the product's fixture and background as they usually
// look); every image, good or inspected, is then matched to it by a gain
// per colour channel and one linear gradient of illumination across the
// field, fitted robustly (parts that moved or are missing do not steer it)
// in the log domain, where illumination multiplies. What is left is the
// scene itself, not its lighting.

const (
	// photoFloor keeps the log of dark pixels finite and their noise small.
	photoFloor = 0.04
	// photoStep subsamples the pixels the fit reads.
	photoStep = 4
	// photoRounds of refitting without the pixels that disagree.
	photoRounds = 3
	// photoOutlier is how many robust spreads (1.4826 x MAD) a pixel's
	// residual may lie from the fit and still steer it; photoMinSpread
	// keeps a near-perfect fit from discarding everything.
	photoOutlier   = 3
	photoMinSpread = 0.01
)

// Photometric is the enrolled lighting reference: the per-pixel median of
// the good images at the input size, planar RGB.
type Photometric struct {
	W, H   int
	Median []float32
}

// Lighting is a fitted lighting change of an image against the median:
// the log gain per channel and the log-linear gradient across the field
// (per image side, from its centre).
type Lighting struct {
	LogGain        [3]float64
	SlopeX, SlopeY float64
}

// learnPhotometric returns the per-pixel median of imgs (all of one size).
func learnPhotometric(imgs []*Image) *Photometric {
	planes := make([][]float32, len(imgs))
	for i, img := range imgs {
		planes[i] = img.Pix
	}
	return &Photometric{W: imgs[0].W, H: imgs[0].H, Median: medianOf(planes)}
}

// fit returns img's lighting against the median: least squares on the log
// ratio over the subsampled pixels, refitted photoRounds times without
// those whose residual lies beyond photoOutlier robust spreads.
func (pm *Photometric) fit(img *Image) Lighting {
	w, h := pm.W, pm.H
	n := w * h
	type obs struct {
		c      int
		x, y   float64
		r      float64
		inlier bool
	}
	os := make([]obs, 0, 3*((h+photoStep-1)/photoStep)*((w+photoStep-1)/photoStep))
	for y := 0; y < h; y += photoStep {
		for x := 0; x < w; x += photoStep {
			i := y*w + x
			for c := range 3 {
				v, m := float64(img.Pix[c*n+i]), float64(pm.Median[c*n+i])
				if v < photoFloor || m < photoFloor {
					continue
				}
				os = append(os, obs{c: c, x: (float64(x)+0.5)/float64(w) - 0.5, y: (float64(y)+0.5)/float64(h) - 0.5,
					r: math.Log(v) - math.Log(m), inlier: true})
			}
		}
	}
	var l Lighting
	if len(os) < 16 {
		return l
	}
	res := make([]float64, 0, len(os))
	sorted := make([]float64, len(os)) // quantile sorts in place; res keeps the order
	for round := range photoRounds {
		// Normal equations of r = gain[c] + sx x + sy y.
		var ata [5][5]float64
		var atb [5]float64
		used := 0
		for _, o := range os {
			if !o.inlier {
				continue
			}
			used++
			var row [5]float64
			row[o.c], row[3], row[4] = 1, o.x, o.y
			for a := range 5 {
				atb[a] += row[a] * o.r
				for b := a; b < 5; b++ {
					ata[a][b] += row[a] * row[b]
				}
			}
		}
		if used < 16 {
			break
		}
		sym := mat.NewSymDense(5, nil)
		for a := range 5 {
			for b := a; b < 5; b++ {
				sym.SetSym(a, b, ata[a][b])
			}
		}
		var sol mat.VecDense
		if err := sol.SolveVec(sym, mat.NewVecDense(5, atb[:])); err != nil {
			break
		}
		for c := range 3 {
			l.LogGain[c] = sol.AtVec(c)
		}
		l.SlopeX, l.SlopeY = sol.AtVec(3), sol.AtVec(4)
		if round == photoRounds-1 {
			break
		}
		res = res[:0]
		for _, o := range os {
			res = append(res, math.Abs(o.r-l.at(o.c, o.x, o.y)))
		}
		lim := photoOutlier * max(1.4826*quantile(sorted[:copy(sorted, res)], 0.5), photoMinSpread)
		for k := range os {
			os[k].inlier = res[k] <= lim
		}
	}
	return l
}

// at is the modelled log change of channel c at centred position (x, y).
func (l Lighting) at(c int, x, y float64) float64 {
	return l.LogGain[c] + l.SlopeX*x + l.SlopeY*y
}

// correct returns a copy of img with its fitted lighting change undone.
func (pm *Photometric) correct(img *Image) *Image {
	l := pm.fit(img)
	w, h := img.W, img.H
	n := w * h
	out := &Image{W: w, H: h, Pix: make([]float32, len(img.Pix))}
	// The change is separable: exp(-gain) exp(-sx x) exp(-sy y).
	fx, fy := make([]float32, w), make([]float32, h)
	for x := range fx {
		fx[x] = float32(math.Exp(-l.SlopeX * ((float64(x)+0.5)/float64(w) - 0.5)))
	}
	for y := range fy {
		fy[y] = float32(math.Exp(-l.SlopeY * ((float64(y)+0.5)/float64(h) - 0.5)))
	}
	for c := range 3 {
		g := float32(math.Exp(-l.LogGain[c]))
		for y := range h {
			gy := g * fy[y]
			src, dst := img.Pix[c*n+y*w:c*n+(y+1)*w], out.Pix[c*n+y*w:c*n+(y+1)*w]
			for x, v := range src {
				dst[x] = min(max(v*gy*fx[x], 0), 1)
			}
		}
	}
	return out
}

// validate checks a decoded model against the input size.
func (pm *Photometric) validate(size int) error {
	if pm == nil {
		return nil
	}
	if pm.W != size || pm.H != size || len(pm.Median) != 3*size*size {
		return fmt.Errorf("photometric: median image %dx%d (%d values), bank input size %d", pm.W, pm.H, len(pm.Median), size)
	}
	for _, v := range pm.Median {
		if !(v >= 0 && v <= 1) {
			return errors.New("photometric: median image values must lie in [0, 1]")
		}
	}
	return nil
}
