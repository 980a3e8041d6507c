package daemon

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"slices"
	"testing"

	"github.com/samlad/samlad/actuate/heatmap"
	"github.com/samlad/samlad/config"
)

// checkHeatmapJPEG checks a published heatmap of a failed frame: the camera
// frame's own size (within actuate.heatmap_max_side) plus the legend and
// header, and a header in the fail colour.
func checkHeatmapJPEG(t *testing.T, payload []byte, framePath string) {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(payload))
	if err != nil {
		t.Fatalf("heatmap is not a JPEG: %v", err)
	}
	f, err := os.Open(framePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	frame, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	fb := frame.Bounds()
	if side, maxSide := max(fb.Dx(), fb.Dy()), config.DefaultActuate().HeatmapMaxSide; side > maxSide {
		fb = image.Rect(0, 0, fb.Dx()*maxSide/side, fb.Dy()*maxSide/side)
	}
	hdr, leg := heatmap.Layout(fb)
	if got, want := img.Bounds().Size(), image.Pt(fb.Dx()+leg, fb.Dy()+hdr); got != want {
		t.Errorf("heatmap size %v, want the frame's %v plus legend %d and header %d", got, fb.Size(), leg, hdr)
	}
	// The header's median colour: its text may run to the edge of a small
	// frame, so no single pixel is sure to be background.
	var rs, gs, bs []uint8
	for y := img.Bounds().Min.Y; y < img.Bounds().Min.Y+hdr; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			p := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			rs, gs, bs = append(rs, p.R), append(gs, p.G), append(bs, p.B)
		}
	}
	median := func(v []uint8) uint8 { slices.Sort(v); return v[len(v)/2] }
	c := color.RGBA{median(rs), median(gs), median(bs), 255}
	w := heatmap.FailColour
	near := func(a, b uint8) bool { return int(a)-int(b) < 24 && int(b)-int(a) < 24 }
	if !near(c.R, w.R) || !near(c.G, w.G) || !near(c.B, w.B) {
		t.Errorf("heatmap header %v, want the fail colour %v", c, w)
	}
}
