package register

import (
	"math"
	"math/rand/v2"
	"testing"
)

// scene is a w x h gray image of a few soft blobs and bars on a ramp.
func scene(w, h int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	type blob struct{ x, y, s, v float64 }
	var bs []blob
	for range 12 {
		bs = append(bs, blob{r.Float64() * float64(w), r.Float64() * float64(h), 4 + 10*r.Float64(), r.Float64() - 0.3})
	}
	out := make([]float32, w*h)
	for y := range h {
		for x := range w {
			v := 0.2 + 0.3*float64(x)/float64(w)
			for _, b := range bs {
				dx, dy := float64(x)-b.x, float64(y)-b.y
				v += b.v * math.Exp(-(dx*dx+dy*dy)/(2*b.s*b.s))
			}
			out[y*w+x] = float32(v)
		}
	}
	return out
}

func TestEstimateRecoversShiftAndRotation(t *testing.T) {
	const w, h = 160, 120 // not square: x and y must not trade places
	tmpl := scene(w, h, 3)
	for _, c := range []struct{ dx, dy, deg float64 }{{0, 0, 0}, {6, -3, 0}, {-4, 7, 1.5}, {9, 5, -2}} {
		a := c.deg * math.Pi / 180
		truth := Warp{float32(math.Cos(a)), float32(-math.Sin(a)), float32(c.dx), float32(math.Sin(a)), float32(math.Cos(a)), float32(c.dy)}
		// img is tmpl moved by truth's inverse, so that truth takes tmpl's grid onto img.
		img := make([]float32, w*h)
		inv := truth.Inverse()
		if err := Apply(img, tmpl, w, h, inv, nil); err != nil {
			t.Fatal(err)
		}
		got, rho, err := Estimate(tmpl, img, w, h)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		gx, gy := got.Shift()
		if math.Abs(gx-c.dx) > 0.5 || math.Abs(gy-c.dy) > 0.5 || math.Abs(got.Degrees()-c.deg) > 0.3 || rho < 0.95 {
			t.Errorf("%+v: got shift (%.2f, %.2f), %.2f degrees, correlation %.3f", c, gx, gy, got.Degrees(), rho)
		}
		// Applying the estimate brings img back onto tmpl away from the edges.
		back := make([]float32, w*h)
		if err := Apply(back, img, w, h, got, nil); err != nil {
			t.Fatal(err)
		}
		var worst float64
		for y := 15; y < h-15; y++ {
			for x := 15; x < w-15; x++ {
				worst = max(worst, math.Abs(float64(back[y*w+x]-tmpl[y*w+x])))
			}
		}
		if worst > 0.05 {
			t.Errorf("%+v: aligned image differs from the template by up to %.3f", c, worst)
		}
	}
}

func TestInverse(t *testing.T) {
	a := 1.5 * math.Pi / 180
	w := Warp{float32(math.Cos(a)), float32(-math.Sin(a)), 4, float32(math.Sin(a)), float32(math.Cos(a)), -7}
	x, y := w.Point(30, 12)
	if bx, by := w.Inverse().Point(x, y); math.Abs(bx-30) > 1e-4 || math.Abs(by-12) > 1e-4 {
		t.Errorf("inverse takes (%g, %g) to (%g, %g), want (30, 12)", x, y, bx, by)
	}
}

// Where the moved image has no pixels, Apply keeps the fill; elsewhere
// it resamples the image.
func TestApplyFill(t *testing.T) {
	const w, h = 40, 30
	src, fill := make([]float32, w*h), make([]float32, w*h)
	for i := range src {
		src[i], fill[i] = 1, -1
	}
	dst := make([]float32, w*h)
	if err := Apply(dst, src, w, h, Warp{1, 0, 5, 0, 1, 0}, fill); err != nil {
		t.Fatal(err)
	}
	// Template column x reads image column x+5: the last five have none.
	// The column before them and the last row need a neighbour beyond the
	// image to interpolate and may take either.
	for y := range h - 1 {
		for x := range w {
			want := float32(1)
			switch {
			case x == w-6:
				continue
			case x > w-6:
				want = -1
			}
			if dst[y*w+x] != want {
				t.Fatalf("(%d, %d) = %g, want %g", x, y, dst[y*w+x], want)
			}
		}
	}
}

func TestEstimateFailsCleanlyOnUncorrelatedImages(t *testing.T) {
	const w, h = 64, 64
	flat := make([]float32, w*h)
	for i := range flat {
		flat[i] = 0.5
	}
	if _, _, err := Estimate(scene(w, h, 1), flat, w, h); err == nil {
		t.Error("a flat image registered without error")
	}
	if _, _, err := Estimate(scene(w, h, 1), make([]float32, 10), w, h); err == nil {
		t.Error("a short image registered without error")
	}
}

func TestScaled(t *testing.T) {
	a := 2 * math.Pi / 180
	w := Warp{float32(math.Cos(a)), float32(-math.Sin(a)), 3, float32(math.Sin(a)), float32(math.Cos(a)), -2}
	s := w.Scaled(4, 2)
	if dx, dy := s.Shift(); dx != 12 || dy != -4 {
		t.Errorf("scaled shift (%g, %g), want (12, -4)", dx, dy)
	}
	// A point p of the small grid maps to w(p); scaled, S p maps to S w(p).
	px, py := float32(10), float32(7)
	wx, wy := w[0]*px+w[1]*py+w[2], w[3]*px+w[4]*py+w[5]
	sx, sy := s[0]*4*px+s[1]*2*py+s[2], s[3]*4*px+s[4]*2*py+s[5]
	if math.Abs(float64(sx-4*wx)) > 1e-4 || math.Abs(float64(sy-2*wy)) > 1e-4 {
		t.Errorf("scaled warp maps (%g, %g) to (%g, %g), want (%g, %g)", 4*px, 2*py, sx, sy, 4*wx, 2*wy)
	}
}
