package infer_test

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/digitanatomy"
	"github.com/samlad/samlad/infer"
)

// TestRulesLearnMirrorAndGrouping: enrolment learns from good images alone
// that a mirrored digit or a mirrored letter F is wrong, and that a washer,
// its own mirror image, passes mirrored; and that the strokes the segmenter
// cuts digits into are joined into parts, while whole shapes are not.
func TestRulesLearnMirrorAndGrouping(t *testing.T) {
	if testing.Short() {
		t.Skip("enrols three products")
	}
	p := config.DefaultPipeline()
	rulesOf := func(imgs []*infer.Image) infer.Rules {
		t.Helper()
		_, bank := enrollImages(t, p, imgs)
		return bank.Rules
	}
	for _, c := range []struct {
		name  string
		shape func(x, y float64) bool
		want  bool
	}{
		{"letter F", letterF, true},
		{"washer", washer, false},
	} {
		var imgs []*infer.Image
		for s := range 16 {
			imgs = append(imgs, infer.FromImage(shapeGrid(c.shape, uint64(s)), p.InputSize))
		}
		rules := rulesOf(imgs)
		r, g := rules.Mirror, rules.Group
		t.Logf("%s:\n%s", c.name, rules)
		if !r.Learned || r.On != c.want || r.Compared == 0 {
			t.Errorf("%s: %s; want mirror images to count as wrong: %v", c.name, r, c.want)
		}
		if !g.Learned || g.On || g.Segments < 8 {
			t.Errorf("%s: %s; want the 9 whole shapes kept apart", c.name, g)
		}
	}

	digits := mnistDigits(t, true)
	var imgs []*infer.Image
	for s := range 24 {
		im, err := digitanatomy.Generate(digits, int64(500+s), digitanatomy.Good)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, infer.FromImage(im.Gray, p.InputSize))
	}
	rules := rulesOf(imgs)
	t.Logf("digits:\n%s", rules)
	if !rules.Mirror.On {
		t.Errorf("digits: %s; want mirrored digits to count as wrong", rules.Mirror)
	}
	if g := rules.Group; !g.On || g.Segments <= g.Parts {
		t.Errorf("digits: %s; want the strokes joined into parts", g)
	}
}

// shapeGrid draws shape (given in the unit square, y down) dark on a light,
// noisy tray, in a 3 x 3 grid, each copy shifted by a few pixels.
func shapeGrid(shape func(x, y float64) bool, seed uint64) image.Image {
	const size, cell = 192, 64
	rng := rand.New(rand.NewPCG(seed, 7))
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			v := uint8(200 + rng.IntN(16))
			img.Set(x, y, color.RGBA{v, v, v - 10, 255})
		}
	}
	for c := range 9 {
		ox := float64(c%3*cell) + 12 + 4*rng.Float64()
		oy := float64(c/3*cell) + 12 + 4*rng.Float64()
		for y := range 40 {
			for x := range 40 {
				if shape((float64(x)+0.5)/40, (float64(y)+0.5)/40) {
					img.Set(int(ox)+x, int(oy)+y, color.RGBA{40, 50, 90, 255})
				}
			}
		}
	}
	return img
}

// letterF is an F: a stem on the left, a top bar and a shorter middle bar.
func letterF(x, y float64) bool {
	return x < 0.3 || y < 0.25 && x < 0.9 || y > 0.45 && y < 0.65 && x < 0.7
}

// washer is a ring.
func washer(x, y float64) bool {
	r := math.Hypot(x-0.5, y-0.5)
	return r > 0.25 && r < 0.48
}
