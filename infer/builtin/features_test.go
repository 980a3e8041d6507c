package builtin

import (
	"math"
	"testing"

	"github.com/samlad/samlad/infer"
)

// referenceFeatures computes the documented channel formulas directly, pixel
// by pixel and window by window, as an independent check of the fast path
// (block sums, prefix sums, doubled-angle binning).
func referenceFeatures(img *infer.Image) *infer.FeatureMap {
	hc, wc := img.H/8, img.W/8
	h, w := hc*8, wc*8
	at := func(p []float64, x, y int) float64 { // edge replication
		return p[min(max(y, 0), h-1)*w+min(max(x, 0), w-1)]
	}
	I, RG, BY := make([]float64, w*h), make([]float64, w*h), make([]float64, w*h)
	n := img.W * img.H
	for y := range h {
		for x := range w {
			r, g, b := float64(img.Pix[y*img.W+x]), float64(img.Pix[n+y*img.W+x]), float64(img.Pix[2*n+y*img.W+x])
			I[y*w+x], RG[y*w+x], BY[y*w+x] = (r+g+b)/3, r-g, (r+g)/2-b
		}
	}
	gauss := func(sigma float64) []float64 { // direct 2-D convolution
		r := int(math.Ceil(3 * sigma))
		k := make([]float64, 2*r+1)
		var s float64
		for i := range k {
			k[i] = math.Exp(-float64((i-r)*(i-r)) / (2 * sigma * sigma))
			s += k[i]
		}
		out := make([]float64, w*h)
		for y := range h {
			for x := range w {
				var v float64
				for dy := -r; dy <= r; dy++ {
					for dx := -r; dx <= r; dx++ {
						v += k[dy+r] * k[dx+r] / (s * s) * at(I, x+dx, y+dy)
					}
				}
				out[y*w+x] = v
			}
		}
		return out
	}
	G1, G2, G4 := gauss(1), gauss(2), gauss(4)
	// Per-pixel quantities, then explicit window means.
	orient := func(gx, gy float64) (r [8]float64, m float64) {
		m = math.Hypot(gx, gy)
		if m*m < 1e-12 {
			return r, 0
		}
		theta := math.Atan2(gy, gx)
		for b := range 8 {
			c := math.Cos(2 * (theta - float64(b)*math.Pi/8))
			r[b] = m * math.Max(c, 0) * math.Max(c, 0)
		}
		return r, m
	}
	const nq = 29
	q := make([][nq]float64, w*h)
	for y := range h {
		for x := range w {
			v := &q[y*w+x]
			i, rg, by := I[y*w+x], RG[y*w+x], BY[y*w+x]
			v[0], v[1], v[2], v[3], v[4], v[5] = i, rg, by, i*i, rg*rg, by*by
			gx := (at(I, x+1, y-1) + 2*at(I, x+1, y) + at(I, x+1, y+1) - at(I, x-1, y-1) - 2*at(I, x-1, y) - at(I, x-1, y+1)) / 8
			gy := (at(I, x-1, y+1) + 2*at(I, x, y+1) + at(I, x+1, y+1) - at(I, x-1, y-1) - 2*at(I, x, y-1) - at(I, x+1, y-1)) / 8
			r, m := orient(gx, gy)
			copy(v[6:14], r[:])
			v[14] = m
			r, m = orient((at(G2, x+2, y)-at(G2, x-2, y))/4, (at(G2, x, y+2)-at(G2, x, y-2))/4)
			copy(v[15:23], r[:])
			v[23] = m
			g1, g2, g4 := G1[y*w+x], G2[y*w+x], G4[y*w+x]
			v[24], v[25], v[26], v[27], v[28] = math.Abs(i-g1), math.Abs(g1-g2), math.Abs(g2-g4), g1-g4, i-g4
		}
	}
	fm := &infer.FeatureMap{C: NumChannels, H: hc, W: wc, Data: make([]float32, NumChannels*hc*wc)}
	for cy := range hc {
		for cx := range wc {
			mean := func(k, s int) float64 {
				pad := (s - 8) / 2
				var sum float64
				cnt := 0
				for y := cy*8 - pad; y < cy*8+8+pad; y++ {
					for x := cx*8 - pad; x < cx*8+8+pad; x++ {
						if x >= 0 && y >= 0 && x < w && y < h {
							sum += q[y*w+x][k]
							cnt++
						}
					}
				}
				return sum / float64(cnt)
			}
			ch := make([]float64, 0, NumChannels)
			for k := range 3 {
				ch = append(ch, mean(k, 8))
			}
			for k := range 3 {
				ch = append(ch, mean(k, 24))
			}
			for k := range 3 {
				m := mean(k, 16)
				ch = append(ch, 2*math.Sqrt(math.Max(0, mean(3+k, 16)-m*m)))
			}
			hog := func(q0, s int) {
				var hist [8]float64
				var ss float64
				for b := range 8 {
					hist[b] = mean(q0+b, s)
					ss += hist[b] * hist[b]
				}
				for b := range 8 {
					ch = append(ch, hist[b]/math.Sqrt(ss+hogEps*hogEps))
				}
			}
			hog(6, 8)
			hog(6, 16)
			hog(15, 32)
			ch = append(ch, 8*mean(14, 16), 8*mean(23, 32),
				8*mean(24, 16), 8*mean(25, 16), 8*mean(26, 16), 4*mean(27, 16), 4*mean(28, 8))
			for c, v := range ch {
				fm.Data[c*hc*wc+cy*wc+cx] = float32(v)
			}
		}
	}
	return fm
}

func TestFeaturesMatchReferenceFormulas(t *testing.T) {
	// A non-multiple-of-8 size exercises the crop; shapes give edges of every orientation.
	img, _ := texturedScene(61, 50, 3, []shape{
		{kind: "hex", cx: 20, cy: 22, r: 14, angle: 0.2, col: rgb{0.2, 0.3, 0.8}},
		{kind: "rect", cx: 44, cy: 30, r: 14, angle: 1.1, col: rgb{0.9, 0.8, 0.2}},
	})
	got, err := NewFeatures(2).Extract(img)
	if err != nil {
		t.Fatal(err)
	}
	want := referenceFeatures(img)
	if got.C != want.C || got.H != want.H || got.W != want.W {
		t.Fatalf("shape %dx%dx%d, want %dx%dx%d", got.C, got.H, got.W, want.C, want.H, want.W)
	}
	plane := got.H * got.W
	for i := range got.Data {
		if d := math.Abs(float64(got.Data[i] - want.Data[i])); d > 2e-4 {
			t.Fatalf("channel %d cell %d: got %.6f, reference %.6f", i/plane, i%plane, got.Data[i], want.Data[i])
		}
	}
}

func TestFeaturesShapeAndDeterminism(t *testing.T) {
	img, _, _ := partsScene(224, 5)
	a, err := NewFeatures(1).Extract(img)
	if err != nil {
		t.Fatal(err)
	}
	if a.C != NumChannels || a.H != 28 || a.W != 28 || len(a.Data) != NumChannels*28*28 {
		t.Fatalf("224 px gives %dx%dx%d (%d values), want %dx28x28", a.C, a.H, a.W, len(a.Data), NumChannels)
	}
	f := NewFeatures(3)
	b, _ := f.Extract(img)
	c, _ := f.Extract(img)
	for i := range a.Data {
		if a.Data[i] != b.Data[i] || b.Data[i] != c.Data[i] {
			t.Fatalf("value %d differs between runs or worker counts: %v %v %v", i, a.Data[i], b.Data[i], c.Data[i])
		}
		if math.IsNaN(float64(a.Data[i])) || math.IsInf(float64(a.Data[i]), 0) {
			t.Fatalf("value %d is %v", i, a.Data[i])
		}
	}
	odd := newImage(230, 101, func(x, y int) rgb { return rgb{0.5, 0.5, 0.5} })
	o, err := f.Extract(odd)
	if err != nil {
		t.Fatal(err)
	}
	if o.H != 101/8 || o.W != 230/8 {
		t.Fatalf("230x101 gives %dx%d cells, want %dx%d", o.W, o.H, 230/8, 101/8)
	}
}

// stripes draws a sinusoidal grating whose intensity varies along angle theta.
func stripes(size int, theta float64) *infer.Image {
	return newImage(size, size, func(x, y int) rgb {
		u := float64(x)*math.Cos(theta) + float64(y)*math.Sin(theta)
		v := float32(0.5 + 0.4*math.Sin(u*2*math.Pi/9))
		return rgb{v, v, v}
	})
}

func TestFeaturesOrientationBins(t *testing.T) {
	f := NewFeatures(0)
	for bin := 0; bin < 8; bin++ {
		theta := float64(bin) * math.Pi / 8
		fm, err := f.Extract(stripes(64, theta))
		if err != nil {
			t.Fatal(err)
		}
		plane := fm.H * fm.W
		cell := 3*fm.W + 3
		for _, group := range []int{9, 17, 25} {
			best := 0
			for b := range 8 {
				if fm.Data[(group+b)*plane+cell] > fm.Data[(group+best)*plane+cell] {
					best = b
				}
			}
			if best != bin {
				t.Errorf("grating at %.1f deg: histogram at channel %d peaks in bin %d, want %d", theta*180/math.Pi, group, best, bin)
			}
		}
	}
}

// patchDescriptor concatenates the 3x3 cells around the cell holding (x, y).
func patchDescriptor(fm *infer.FeatureMap, x, y int) []float32 {
	var d []float32
	cx, cy := x/8, y/8
	for c := range fm.C {
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				d = append(d, fm.Data[c*fm.H*fm.W+(cy+dy)*fm.W+cx+dx])
			}
		}
	}
	return d
}

func dist(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]-b[i]) * float64(a[i]-b[i])
	}
	return math.Sqrt(s)
}

func TestFeaturesDiscriminateShapeAndColour(t *testing.T) {
	grey := rgb{0.7, 0.7, 0.72}
	// Same-kind objects sit at the same phase of the 8 px grid, 64 px apart.
	img, _ := texturedScene(224, 224, 9, []shape{
		{kind: "washer", cx: 52, cy: 52, r: 18, col: grey},
		{kind: "washer", cx: 116, cy: 52, r: 18, col: grey},
		{kind: "rect", cx: 180, cy: 52, r: 20, angle: 0.6, col: grey},
		{kind: "hex", cx: 52, cy: 148, r: 18, col: grey},
		{kind: "washer", cx: 116, cy: 148, r: 18, col: rgb{0.85, 0.2, 0.15}},
	})
	fm, err := NewFeatures(0).Extract(img)
	if err != nil {
		t.Fatal(err)
	}
	w1, w2 := patchDescriptor(fm, 52, 52), patchDescriptor(fm, 116, 52)
	same := dist(w1, w2)
	for _, o := range []struct {
		name string
		x, y int
	}{{"screw", 180, 52}, {"nut", 52, 148}, {"red washer", 116, 148}} {
		d := dist(w1, patchDescriptor(fm, o.x, o.y))
		t.Logf("washer vs washer %.3f, washer vs %s %.3f", same, o.name, d)
		if d < 3*same {
			t.Errorf("washer vs %s distance %.3f is not 3x the washer vs washer distance %.3f", o.name, d, same)
		}
	}
}

func TestFeaturesBadInput(t *testing.T) {
	f := NewFeatures(0)
	for name, img := range map[string]*infer.Image{
		"nil":          nil,
		"empty":        {},
		"negative":     {W: -8, H: 8},
		"too small":    {W: 7, H: 64, Pix: make([]float32, 3*7*64)},
		"short pixels": {W: 16, H: 16, Pix: make([]float32, 16*16)},
	} {
		if _, err := f.Extract(img); err == nil {
			t.Errorf("%s image: no error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if f.Stride() != 8 {
		t.Errorf("stride %d, want 8", f.Stride())
	}
}
