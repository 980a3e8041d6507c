package infer

import (
	"image"
	"math/rand"
	"slices"
	"testing"
)

// The RGBA fast path of FromImage gives exactly what the generic At path
// gives, also for a sub-image with an offset and a stride.
func TestFromImageRGBAFastPath(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	full := image.NewRGBA(image.Rect(-3, 2, 61, 50))
	for i := range full.Pix {
		full.Pix[i] = uint8(rng.Intn(256))
	}
	sub := full.SubImage(image.Rect(5, 7, 40, 33)).(*image.RGBA)
	for _, img := range []*image.RGBA{full, sub} {
		b := img.Bounds()
		want := &Image{W: b.Dx(), H: b.Dy(), Pix: make([]float32, 3*b.Dx()*b.Dy())}
		fromImageAt(struct{ image.Image }{img}, want) // hides the concrete type
		got := FromImage(img, 0)
		if got.W != want.W || got.H != want.H || !slices.Equal(got.Pix, want.Pix) {
			t.Fatalf("fast path differs from At for %v", b)
		}
	}
}

func BenchmarkFromImageRGBA1080p(b *testing.B) {
	img := image.NewRGBA(image.Rect(0, 0, 1920, 1080))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	b.Run("rgba", func(b *testing.B) {
		for b.Loop() {
			FromImage(img, 224)
		}
	})
	b.Run("generic", func(b *testing.B) {
		for b.Loop() {
			FromImage(struct{ image.Image }{img}, 224)
		}
	})
}
