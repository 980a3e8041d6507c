package capture

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/jpeg" // formats a replayed folder may hold
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// MaxPixels bounds the size of a decoded image (64 Mpx, 256 MiB as RGBA).
// The header is checked before any pixel is decoded, so a corrupt or hostile
// file cannot make the daemon allocate more.
const MaxPixels = 64 << 20

// ErrEmptyImage is returned for a zero-byte image file.
var ErrEmptyImage = errors.New("empty file")

// DecodeImage decodes a PNG, JPEG, BMP, TIFF or WebP image into RGBA.
//
// It uses Go's own decoders, not OpenCV's: they are memory-safe, and they
// report a truncated file as an error where libjpeg would fill the missing
// rows with grey and succeed. It never panics; corrupt, truncated and
// oversized inputs return an error.
func DecodeImage(data []byte) (img *image.RGBA, err error) {
	if len(data) == 0 {
		return nil, ErrEmptyImage
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("read image header: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxPixels/cfg.Height {
		return nil, fmt.Errorf("%s image of %dx%d pixels: outside 1..%d pixels", format, cfg.Width, cfg.Height, MaxPixels)
	}
	// A decoder bug must not take the daemon down with it: a panic on a
	// hostile file becomes this file's error.
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("decode %s image: decoder panic: %v", format, r)
		}
	}()
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode %s image: %w", format, err)
	}
	return toRGBA(src), nil
}

// toRGBA returns img as an *image.RGBA with its origin at (0,0).
func toRGBA(img image.Image) *image.RGBA {
	b := img.Bounds()
	if rgba, ok := img.(*image.RGBA); ok && b.Min == (image.Point{}) {
		return rgba
	}
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Rect, img, b.Min, draw.Src)
	return out
}
