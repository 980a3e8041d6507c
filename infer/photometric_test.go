package infer

import (
	"math"
	"math/rand/v2"
	"testing"
)

// A lamp change (gain per channel, gradient across the field) is fitted
// and undone, though a part has moved: the moved part's pixels disagree
// with the median and do not steer the fit.
func TestPhotometricUndoesLighting(t *testing.T) {
	const size = 64
	rng := rand.New(rand.NewPCG(1, 2))
	base := &Image{W: size, H: size, Pix: make([]float32, 3*size*size)}
	for i := range base.Pix {
		x, y := i%size, i/size%size
		base.Pix[i] = float32(0.3 + 0.2*math.Sin(float64(x)/5)*math.Cos(float64(y)/7) + 0.1*float64(i/(size*size)))
	}
	var goods []*Image
	for range 5 {
		g := &Image{W: size, H: size, Pix: make([]float32, len(base.Pix))}
		for i, v := range base.Pix {
			g.Pix[i] = v + float32(rng.NormFloat64()*0.005)
		}
		goods = append(goods, g)
	}
	pm := learnPhotometric(goods)

	want := Lighting{LogGain: [3]float64{0.1, -0.05, 0.02}, SlopeX: 0.15, SlopeY: -0.1}
	lit := &Image{W: size, H: size, Pix: make([]float32, len(base.Pix))}
	n := size * size
	for c := range 3 {
		for y := range size {
			for x := range size {
				i := c*n + y*size + x
				v := base.Pix[i]
				if x >= 40 && x < 56 && y >= 8 && y < 24 { // a part where the good images have none
					v = 0.9
				}
				lit.Pix[i] = v * float32(math.Exp(want.at(c, (float64(x)+0.5)/size-0.5, (float64(y)+0.5)/size-0.5)))
			}
		}
	}
	got := pm.fit(lit)
	for c := range 3 {
		if math.Abs(got.LogGain[c]-want.LogGain[c]) > 0.01 {
			t.Errorf("channel %d: log gain %.4f, want %.4f", c, got.LogGain[c], want.LogGain[c])
		}
	}
	if math.Abs(got.SlopeX-want.SlopeX) > 0.01 || math.Abs(got.SlopeY-want.SlopeY) > 0.01 {
		t.Errorf("slopes %.4f, %.4f, want %.4f, %.4f", got.SlopeX, got.SlopeY, want.SlopeX, want.SlopeY)
	}
	fixed := pm.correct(lit)
	if v := fixed.Pix[20*size+10]; math.Abs(float64(v-base.Pix[20*size+10])) > 0.01 {
		t.Errorf("background pixel %.4f after correction, want %.4f", v, base.Pix[20*size+10])
	}
	if v := fixed.Pix[16*size+48]; math.Abs(float64(v)-0.9) > 0.02 {
		t.Errorf("the moved part %.4f after correction, want 0.9: a part is not lighting", v)
	}
}
