package scenes

import (
	"math"
)

// applyCamera changes the finished scene as a camera in a plant sees it,
// differently for every image: a lighting gain, a colour tint and a linear
// gradient of illumination across the field (lamps drift and age), and,
// in about 40 % of the images, a slight defocus blur (a 3-pixel box). It returns the
// sensor noise level for the image. Its draws come from a stream of their
// own, so an anomalous scene and the good scene of the same seed share
// the same camera.
func (g *gen) applyCamera(c *canvas) float64 {
	r := newRng(g.seed, 4)
	gain := 0.86 + 0.26*r.Float64()
	var tint [3]float64
	for k := range tint {
		tint[k] = 1 + (r.Float64()*2-1)*0.05
	}
	th := r.Float64() * 2 * math.Pi
	slope := (r.Float64()*2 - 1) * 0.22 // relative change across the image side
	gx, gy := math.Cos(th)*slope/float64(g.w), math.Sin(th)*slope/float64(g.h)
	blur := r.Float64()
	sigma := 0.006 + 0.016*r.Float64()
	for y := 0; y < g.h; y++ {
		for x := 0; x < g.w; x++ {
			f := gain * (1 + gx*(float64(x)-float64(g.w)/2) + gy*(float64(y)-float64(g.h)/2))
			i := 3 * (y*g.w + x)
			for k := 0; k < 3; k++ {
				c.pix[i+k] *= float32(f * tint[k])
			}
		}
	}
	if blur < 0.4 {
		passes := 1
		ch := make([]float32, g.w*g.h)
		for k := 0; k < 3; k++ {
			for p := range ch {
				ch[p] = c.pix[3*p+k]
			}
			blurExact(ch, g.w, g.h, 1, passes)
			for p := range ch {
				c.pix[3*p+k] = ch[p]
			}
		}
	}
	return sigma
}

// hnoise is smooth value noise in [-1, 1] on a unit lattice, from a hash
// of the lattice point: surface texture of parts, the same wherever the
// part is drawn.
func hnoise(x, y float64) float64 {
	fx, fy := math.Floor(x), math.Floor(y)
	tx, ty := x-fx, y-fy
	tx, ty = tx*tx*(3-2*tx), ty*ty*(3-2*ty)
	ix, iy := int64(fx), int64(fy)
	a, b := hash2(ix, iy), hash2(ix+1, iy)
	c, d := hash2(ix, iy+1), hash2(ix+1, iy+1)
	return (a*(1-tx)+b*tx)*(1-ty) + (c*(1-tx)+d*tx)*ty
}

func hash2(i, j int64) float64 {
	h := uint64(i)*0x9e3779b97f4a7c15 ^ uint64(j)*0xc2b2ae3d27d4eb4f
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 32
	return float64(h>>11)/float64(uint64(1)<<53)*2 - 1
}
