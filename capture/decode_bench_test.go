package capture

import (
	"image"
	"image/color"
	"testing"

	"gocv.io/x/gocv"
)

// benchScene is a 1280x720 frame with enough texture to be a fair JPEG/PNG.
func benchScene() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 1280, 720))
	for y := 0; y < 720; y++ {
		for x := 0; x < 1280; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(x ^ y), uint8(3 * x), uint8(y + x/7), 255})
		}
	}
	return img
}

// openCVDecode is the baseline: OpenCV's imdecode plus the same RGBA copy
// the stream source makes.
func openCVDecode(b *testing.B, data []byte) {
	m, err := gocv.IMDecode(data, gocv.IMReadColor)
	if err != nil || m.Empty() {
		b.Fatal("imdecode failed", err)
	}
	rgba := gocv.NewMat()
	gocv.CvtColor(m, &rgba, gocv.ColorBGRToRGBA)
	_ = rgba.ToBytes()
	rgba.Close()
	m.Close()
}

// BenchmarkDecode compares DecodeImage (Go decoders) with OpenCV's imdecode
// on the same 1280x720 files; the ratio is what strict, memory-safe decoding
// of replayed folders costs.
//
//	go test -run '^$' -bench Decode -benchmem ./capture
func BenchmarkDecode(b *testing.B) {
	scene := benchScene()
	files := map[string][]byte{"jpeg": encodeJPEG(b, scene), "png": encodePNG(b, scene)}
	for _, format := range []string{"jpeg", "png"} {
		data := files[format]
		b.Run(format+"/go", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				if _, err := DecodeImage(data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(format+"/opencv", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				openCVDecode(b, data)
			}
		})
	}
}
