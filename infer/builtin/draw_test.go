package builtin

import (
	"math"
	"math/rand/v2"

	"github.com/samlad/samlad/infer"
)

// Test inputs drawn here: a wood-like textured background with sensor noise,
// and parts (washers, nuts, screws, discs) with soft shadows and shading.

type rgb [3]float32

type shape struct {
	kind   string // "disc", "washer", "hex", "rect"
	cx, cy float64
	r      float64 // radius, or half length for "rect"
	angle  float64
	col    rgb
}

// inside reports whether (x, y) lies in the shape.
func (s shape) inside(x, y float64) bool {
	dx, dy := x-s.cx, y-s.cy
	switch s.kind {
	case "disc":
		return dx*dx+dy*dy <= s.r*s.r
	case "washer":
		d2 := dx*dx + dy*dy
		return d2 <= s.r*s.r && d2 >= 0.16*s.r*s.r
	case "hex":
		// regular hexagon: |projection| <= r*cos(30deg) on 3 axes.
		for k := range 3 {
			a := s.angle + float64(k)*math.Pi/3
			if math.Abs(dx*math.Cos(a)+dy*math.Sin(a)) > s.r*math.Sqrt(3)/2 {
				return false
			}
		}
		return true
	case "rect":
		u := dx*math.Cos(s.angle) + dy*math.Sin(s.angle)
		v := -dx*math.Sin(s.angle) + dy*math.Cos(s.angle)
		return math.Abs(u) <= s.r && math.Abs(v) <= s.r/4
	}
	return false
}

// newImage returns a W x H image filled by fn(x, y).
func newImage(w, h int, fn func(x, y int) rgb) *infer.Image {
	img := &infer.Image{W: w, H: h, Pix: make([]float32, 3*w*h)}
	for y := range h {
		for x := range w {
			c := fn(x, y)
			for k := range 3 {
				img.Pix[k*w*h+y*w+x] = min(max(c[k], 0), 1)
			}
		}
	}
	return img
}

// texturedScene draws shapes (with a soft shadow offset down-right) over a
// grainy background with per-pixel noise, and returns the image and each
// shape's ground-truth mask.
func texturedScene(w, h int, seed uint64, shapes []shape) (*infer.Image, [][]uint8) {
	rng := rand.New(rand.NewPCG(seed, 7))
	noise := make([]float32, w*h)
	for i := range noise {
		noise[i] = float32(rng.NormFloat64() * 0.015)
	}
	phase := rng.Float64() * 6
	gt := make([][]uint8, len(shapes))
	for i := range gt {
		gt[i] = make([]uint8, w*h)
	}
	img := newImage(w, h, func(x, y int) rgb {
		fx, fy := float64(x), float64(y)
		grain := float32(0.04*math.Sin(fx*0.35+3*math.Sin(fy*0.05+phase)) + 0.02*math.Sin(fy*0.9+fx*0.1))
		c := rgb{0.55 + grain, 0.45 + grain, 0.32 + grain}
		for _, s := range shapes {
			if s.inside(fx-3, fy-3) { // soft shadow
				for k := range c {
					c[k] *= 0.8
				}
			}
		}
		for i, s := range shapes {
			if s.inside(fx, fy) {
				shade := float32(1 - 0.15*(fx-s.cx+fy-s.cy)/(2*s.r))
				for k := range c {
					c[k] = s.col[k] * shade
				}
				gt[i][y*w+x] = 1
				for j := range i { // later shapes occlude earlier ones
					gt[j][y*w+x] = 0
				}
			}
		}
		n := noise[y*w+x]
		return rgb{c[0] + n, c[1] + n, c[2] + n}
	})
	return img, gt
}

// partsScene is a tray of fasteners at size px (coordinates scale with it).
func partsScene(size int, seed uint64) (*infer.Image, [][]uint8, []shape) {
	s := float64(size) / 224
	steel := rgb{0.75, 0.77, 0.8}
	brass := rgb{0.85, 0.7, 0.3}
	dark := rgb{0.2, 0.22, 0.25}
	shapes := []shape{
		{kind: "washer", cx: 50 * s, cy: 50 * s, r: 24 * s, col: steel},
		{kind: "hex", cx: 150 * s, cy: 55 * s, r: 22 * s, angle: 0.3, col: dark},
		{kind: "rect", cx: 70 * s, cy: 160 * s, r: 40 * s, angle: 0.5, col: steel},
		{kind: "disc", cx: 165 * s, cy: 160 * s, r: 20 * s, col: brass},
		{kind: "hex", cx: 110 * s, cy: 108 * s, r: 16 * s, angle: 0.1, col: brass},
	}
	img, gt := texturedScene(size, size, seed, shapes)
	return img, gt, shapes
}

func iou(a, b []uint8) float64 {
	var inter, union int
	for i := range a {
		if a[i] != 0 && b[i] != 0 {
			inter++
		}
		if a[i] != 0 || b[i] != 0 {
			union++
		}
	}
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}
