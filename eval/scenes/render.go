package scenes

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
)

// rgb is a linear colour with channels in [0,1].
type rgb [3]float32

// canvas is a float RGB image, row-major, three floats per pixel. Rendering
// happens in float so that shadows, shading and blending compose without
// banding; it is quantised once at the end.
type canvas struct {
	w, h int
	pix  []float32
}

func newCanvas(w, h int) *canvas {
	return &canvas{w: w, h: h, pix: make([]float32, 3*w*h)}
}

func (c *canvas) set(x, y int, col rgb) {
	i := 3 * (y*c.w + x)
	c.pix[i], c.pix[i+1], c.pix[i+2] = col[0], col[1], col[2]
}

// blend mixes col over the pixel with opacity a.
func (c *canvas) blend(x, y int, col rgb, a float32) {
	i := 3 * (y*c.w + x)
	for k := 0; k < 3; k++ {
		c.pix[i+k] += (col[k] - c.pix[i+k]) * a
	}
}

func (c *canvas) scale(x, y int, f float32) {
	i := 3 * (y*c.w + x)
	c.pix[i] *= f
	c.pix[i+1] *= f
	c.pix[i+2] *= f
}

// toRGBA adds Gaussian sensor noise of the given standard deviation (in
// [0,1] units) and quantises to 8 bits.
func (c *canvas) toRGBA(rng *rand.Rand, sigma float64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, c.w, c.h))
	for p := 0; p < c.w*c.h; p++ {
		for k := 0; k < 3; k++ {
			v := float64(c.pix[3*p+k]) + rng.NormFloat64()*sigma
			img.Pix[4*p+k] = uint8(math.Round(255 * clamp01(v)))
		}
		img.Pix[4*p+3] = 255
	}
	return img
}

func clamp01(v float64) float64 {
	if v < 0 {
		return 0
	}
	if v > 1 {
		return 1
	}
	return v
}

// valueNoise is seeded lattice noise with smooth interpolation, the basis of
// the background textures.
type valueNoise struct {
	gw, gh int
	cell   float64
	v      []float32
}

func newValueNoise(rng *rand.Rand, w, h int, cell float64) *valueNoise {
	gw, gh := int(float64(w)/cell)+3, int(float64(h)/cell)+3
	n := &valueNoise{gw: gw, gh: gh, cell: cell, v: make([]float32, gw*gh)}
	for i := range n.v {
		n.v[i] = float32(rng.Float64()*2 - 1)
	}
	return n
}

// at returns noise in [-1,1] at pixel coordinates (x, y).
func (n *valueNoise) at(x, y float64) float32 {
	fx, fy := x/n.cell, y/n.cell
	ix, iy := int(fx), int(fy)
	tx, ty := fx-float64(ix), fy-float64(iy)
	tx, ty = tx*tx*(3-2*tx), ty*ty*(3-2*ty)
	if ix < 0 || iy < 0 || ix+1 >= n.gw || iy+1 >= n.gh {
		return 0
	}
	a := float64(n.v[iy*n.gw+ix])
	b := float64(n.v[iy*n.gw+ix+1])
	c := float64(n.v[(iy+1)*n.gw+ix])
	d := float64(n.v[(iy+1)*n.gw+ix+1])
	return float32((a*(1-tx)+b*tx)*(1-ty) + (c*(1-tx)+d*tx)*ty)
}

// mask is a coverage map in [0,1] over the rectangle r of the image.
type mask struct {
	r image.Rectangle
	a []float32
}

func (m mask) at(x, y int) float32 {
	if !(image.Point{x, y}.In(m.r)) {
		return 0
	}
	return m.a[(y-m.r.Min.Y)*m.r.Dx()+(x-m.r.Min.X)]
}

// gray returns the pixels with coverage above thr as 255 in a full-size image.
func (m mask) gray(w, h int, thr float32) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	m.orInto(g, thr)
	return g
}

func (m mask) orInto(g *image.Gray, thr float32) {
	for y := m.r.Min.Y; y < m.r.Max.Y; y++ {
		for x := m.r.Min.X; x < m.r.Max.X; x++ {
			if m.at(x, y) > thr {
				g.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
}

// rasterize evaluates a signed distance function (pixels, negative inside)
// over a disc of radius rad around (cx, cy), with one pixel of anti-aliasing.
func rasterize(w, h int, cx, cy, rad float64, sdf func(x, y float64) float64) mask {
	r := image.Rect(int(cx-rad)-2, int(cy-rad)-2, int(cx+rad)+3, int(cy+rad)+3).Intersect(image.Rect(0, 0, w, h))
	m := mask{r: r, a: make([]float32, r.Dx()*r.Dy())}
	i := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			m.a[i] = float32(clamp01(0.5 - sdf(float64(x)+0.5, float64(y)+0.5)))
			i++
		}
	}
	return m
}

// Signed distance functions in local coordinates (pixels).

func sdCircle(x, y, r float64) float64 { return math.Hypot(x, y) - r }

func sdRoundBox(x, y, hx, hy, rad float64) float64 {
	qx, qy := math.Abs(x)-hx+rad, math.Abs(y)-hy+rad
	return math.Hypot(math.Max(qx, 0), math.Max(qy, 0)) + math.Min(math.Max(qx, qy), 0) - rad
}

// sdHexagon is a regular hexagon with apothem r (flat sides at y = ±r).
func sdHexagon(x, y, r float64) float64 {
	const kx, ky, kz = -0.866025404, 0.5, 0.577350269
	x, y = math.Abs(x), math.Abs(y)
	d := 2 * math.Min(kx*x+ky*y, 0)
	x -= d * kx
	y -= d * ky
	x -= math.Max(-kz*r, math.Min(x, kz*r))
	y -= r
	l := math.Hypot(x, y)
	if y < 0 {
		return -l
	}
	return l
}

// sdSegment is the distance to the segment a-b minus half-width hw.
func sdSegment(x, y, ax, ay, bx, by, hw float64) float64 {
	px, py := x-ax, y-ay
	dx, dy := bx-ax, by-ay
	t := (px*dx + py*dy) / (dx*dx + dy*dy + 1e-12)
	t = math.Max(0, math.Min(1, t))
	return math.Hypot(px-dx*t, py-dy*t) - hw
}

// boxBlur blurs a single-channel w x h field in place with a separable box
// filter of radius r, applied passes times (3 passes approximate a Gaussian).
func boxBlur(f []float32, w, h, r, passes int) {
	tmp := make([]float32, len(f))
	for p := 0; p < passes; p++ {
		blur1D(f, tmp, w, h, r, 1, w)
		blur1D(tmp, f, h, w, r, w, 1)
	}
}

// blur1D blurs n lines of length l; step is the stride along a line and
// lineStep the stride between lines. Borders clamp.
func blur1D(src, dst []float32, l, n, r, step, lineStep int) {
	norm := 1 / float32(2*r+1)
	for j := 0; j < n; j++ {
		base := j * lineStep
		var acc float32
		for k := -r; k <= r; k++ {
			acc += src[base+clampInt(k, 0, l-1)*step]
		}
		for i := 0; i < l; i++ {
			dst[base+i*step] = acc * norm
			acc += src[base+clampInt(i+r+1, 0, l-1)*step] - src[base+clampInt(i-r, 0, l-1)*step]
		}
	}
}

func clampInt(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// blurExact is boxBlur summed afresh at every pixel: slower, but a change
// in one place of the field leaves every pixel beyond the filter's reach
// bit-identical (the running sums of boxBlur carry rounding along a line).
// The zoo's kinds use it so that an anomalous scene equals its good scene
// away from the defect.
func blurExact(f []float32, w, h, r, passes int) {
	tmp := make([]float32, len(f))
	norm := 1 / float32(2*r+1)
	for p := 0; p < passes; p++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				var acc float32
				for k := -r; k <= r; k++ {
					acc += f[y*w+clampInt(x+k, 0, w-1)]
				}
				tmp[y*w+x] = acc * norm
			}
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				var acc float32
				for k := -r; k <= r; k++ {
					acc += tmp[clampInt(y+k, 0, h-1)*w+x]
				}
				f[y*w+x] = acc * norm
			}
		}
	}
}
