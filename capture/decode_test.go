package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

func encodeWith(t testing.TB, enc func(*bytes.Buffer, image.Image) error, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := enc(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodeImageFormats(t *testing.T) {
	src := testImage(20, 10, palette[2])
	for name, data := range map[string][]byte{
		"png":  encodePNG(t, src),
		"jpeg": encodeJPEG(t, src),
		"bmp":  encodeWith(t, func(b *bytes.Buffer, i image.Image) error { return bmp.Encode(b, i) }, src),
		"tiff": encodeWith(t, func(b *bytes.Buffer, i image.Image) error { return tiff.Encode(b, i, nil) }, src),
		"gray png": encodePNG(t, func() image.Image {
			g := image.NewGray(image.Rect(5, 5, 25, 15)) // origin not at 0,0
			for i := range g.Pix {
				g.Pix[i] = 77
			}
			return g
		}()),
	} {
		img, err := DecodeImage(data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if img.Rect != image.Rect(0, 0, 20, 10) {
			t.Errorf("%s: bounds %v", name, img.Rect)
		}
		want := palette[2]
		if name == "gray png" {
			want = color.RGBA{77, 77, 77, 255}
		}
		if c := centre(img); !near(c, want, 6) {
			t.Errorf("%s: colour %v, want ~%v", name, c, want)
		}
	}
}

// pngWithSize rewrites the IHDR chunk of a valid PNG to claim w x h.
func pngWithSize(t testing.TB, w, h uint32) []byte {
	data := encodePNG(t, testImage(4, 4, palette[0]))
	// 8-byte signature, then IHDR: length(4) "IHDR"(4) width(4) height(4) ...
	binary.BigEndian.PutUint32(data[16:], w)
	binary.BigEndian.PutUint32(data[20:], h)
	binary.BigEndian.PutUint32(data[29:], crc32.ChecksumIEEE(data[12:29]))
	return data
}

func TestDecodeImageRejectsBadInput(t *testing.T) {
	good := encodePNG(t, testImage(20, 10, palette[0]))
	jpg := encodeJPEG(t, testImage(20, 10, palette[0]))
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"empty":             {nil, "empty file"},
		"text":              {[]byte("hello"), "image: unknown format"},
		"png signature":     {good[:8], "header"},
		"truncated png":     {good[:len(good)-20], "png"},
		"truncated jpeg":    {jpg[:len(jpg)/2], "EOF"},
		"jpeg header only":  {jpg[:300], "EOF"},
		"bit-flipped png":   {flip(good, 40), "png"},
		"huge claimed size": {pngWithSize(t, 1<<20, 1<<20), "outside 1.."},
	} {
		img, err := DecodeImage(tc.data)
		if err == nil || img != nil {
			t.Errorf("%s: decoded without error", name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want it to say %q", name, err, tc.want)
		}
	}
	if _, err := DecodeImage(nil); !errors.Is(err, ErrEmptyImage) {
		t.Errorf("empty: %v", err)
	}
}

func flip(data []byte, i int) []byte {
	out := bytes.Clone(data)
	out[i] ^= 0xff
	return out
}

// FuzzDecode checks that no input makes the image decoding path panic, hang
// or return an image together with an error. Bounded run:
//
//	go test -run '^$' -fuzz FuzzDecode -fuzztime 60s ./capture
func FuzzDecode(f *testing.F) {
	png := encodePNG(f, testImage(16, 12, palette[0]))
	jpg := encodeJPEG(f, testImage(16, 12, palette[1]))
	for _, seed := range [][]byte{
		png, png[:len(png)/2], png[:33], flip(png, 50),
		jpg, jpg[:len(jpg)/2], jpg[:200], flip(jpg, 300),
		encodeWith(f, func(b *bytes.Buffer, i image.Image) error { return bmp.Encode(b, i) }, testImage(8, 8, palette[2])),
		pngWithSize(f, 1<<20, 1<<20),
		nil,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := DecodeImage(data)
		if (img == nil) == (err == nil) {
			t.Fatalf("image %v with error %v", img != nil, err)
		}
		if err != nil && strings.Contains(err.Error(), "decoder panic") {
			t.Fatalf("decoder panicked: %v", err)
		}
		if img != nil && (img.Rect.Min != image.Point{} || len(img.Pix) != 4*img.Rect.Dx()*img.Rect.Dy()) {
			t.Fatalf("malformed RGBA %v with %d bytes", img.Rect, len(img.Pix))
		}
	})
}
