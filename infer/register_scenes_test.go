package infer_test

import (
	"context"
	"image"
	"math"
	"slices"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
)

// shifted is img moved by (dx, dy) pixels, its edges replicated.
func shifted(img *image.RGBA, dx, dy int) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			sx, sy := min(max(x-dx, b.Min.X), b.Max.X-1), min(max(y-dy, b.Min.Y), b.Max.Y-1)
			out.SetRGBA(x, y, img.RGBAAt(sx, sy))
		}
	}
	return out
}

// alignedBlisters is an engine for n good blisters enrolled with
// pipeline.register on.
func alignedBlisters(t *testing.T, n int) (*infer.Engine, config.Pipeline) {
	t.Helper()
	p := config.DefaultPipeline()
	p.Register = config.On
	be, bank := enrollScenes(t, p, scenes.Blister, n)
	if bank.Registration == nil {
		t.Fatal("the bank holds no registration template")
	}
	eng, err := infer.NewEngine(be, bank, p)
	if err != nil {
		t.Fatal(err)
	}
	return eng, p
}

// TestRegisterFollowsTheProduct: with pipeline.register, a blister moved
// by a known shift is found moved by it, and the finding that explains a
// missing tablet lies on the tablet's place in the moved frame.
func TestRegisterFollowsTheProduct(t *testing.T) {
	if testing.Short() {
		t.Skip("enrols 12 scenes")
	}
	eng, p := alignedBlisters(t, 12)
	sc, err := scenes.Generate(scenes.Blister, 700, p.InputSize, scenes.Missing)
	if err != nil {
		t.Fatal(err)
	}
	const dx, dy = 7, -5
	at := func(img *image.RGBA) *infer.Result {
		res, err := eng.Inspect(context.Background(), infer.FromImage(img, p.InputSize))
		if err != nil {
			t.Fatal(err)
		}
		if res.Alignment == nil || res.Alignment.Failed != "" {
			t.Fatalf("alignment %+v", res.Alignment)
		}
		return res
	}
	still, moved := at(sc.Image), at(shifted(sc.Image, dx, dy))
	if gx, gy := moved.Alignment.DX-still.Alignment.DX, moved.Alignment.DY-still.Alignment.DY; math.Abs(gx-dx) > 1 || math.Abs(gy-dy) > 1 {
		// The warp takes the template's grid to the frame's: the template's
		// parts sit (dx, dy) further on in the moved frame.
		t.Errorf("a frame moved by (%d, %d) was found moved by (%.1f, %.1f) more", dx, dy, gx, gy)
	}
	truth := sc.GT.Bounds()
	var gt image.Rectangle
	for y := truth.Min.Y; y < truth.Max.Y; y++ {
		for x := truth.Min.X; x < truth.Max.X; x++ {
			if sc.GT.GrayAt(x, y).Y > 0 {
				gt = gt.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	for _, c := range []struct {
		name  string
		res   *infer.Result
		where image.Rectangle
	}{{"still", still, gt}, {"moved", moved, gt.Add(image.Pt(dx, dy))}} {
		if c.res.Score <= c.res.Threshold || len(c.res.Findings) == 0 {
			t.Errorf("%s: a missing tablet scored %.2f against threshold %.2f with %d findings", c.name, c.res.Score, c.res.Threshold, len(c.res.Findings))
			continue
		}
		if box := c.res.Findings[0].Box; !box.Overlaps(c.where) {
			t.Errorf("%s: the first finding %v (%s) misses the missing tablet's place %v", c.name, box, c.res.Findings[0].Kind, c.where)
		}
	}

	// The same finding, moved with the frame.
	if len(still.Findings) > 0 && len(moved.Findings) > 0 {
		a, b := still.Findings[0].Box, moved.Findings[0].Box
		if d := b.Min.Sub(a.Min).Sub(image.Pt(dx, dy)); abs(d.X) > 2 || abs(d.Y) > 2 {
			t.Errorf("the first finding is at %v in the frame and at %v in the frame moved by (%d, %d)", a, b, dx, dy)
		}
	}
	// The anomaly map's peak, moved with the frame.
	spx, spy := peak(still)
	mpx, mpy := peak(moved)
	sx, sy := float64(dx*still.MapW)/float64(p.InputSize), float64(dy*still.MapH)/float64(p.InputSize)
	if math.Abs(mpx-spx-sx) > 3 || math.Abs(mpy-spy-sy) > 3 {
		t.Errorf("the map's peak is at (%.0f, %.0f) in the frame and at (%.0f, %.0f) in the frame moved by (%.0f, %.0f) cells", spx, spy, mpx, mpy, sx, sy)
	}
}

// peak is the centre of the anomaly map's cells within 2% of its maximum.
func peak(r *infer.Result) (x, y float64) {
	top := slices.Max(r.Map)
	var n float64
	for i, v := range r.Map {
		if v >= 0.98*top {
			x += float64(i % r.MapW)
			y += float64(i / r.MapW)
			n++
		}
	}
	return x / n, y / n
}

func abs(v int) int { return max(v, -v) }

// TestRegisterKeepsInspectingWhatItCannotAlign: a blank frame does not
// correlate with the product; it is inspected where it is and says why.
func TestRegisterKeepsInspectingWhatItCannotAlign(t *testing.T) {
	if testing.Short() {
		t.Skip("enrols 6 scenes")
	}
	eng, _ := alignedBlisters(t, 6)
	blank := &infer.Image{W: 300, H: 200, Pix: make([]float32, 3*300*200)}
	res, err := eng.Inspect(context.Background(), blank)
	if err != nil {
		t.Fatal(err)
	}
	if res.Alignment == nil || res.Alignment.Failed == "" {
		t.Errorf("a blank frame was aligned: %+v", res.Alignment)
	}
	if !(res.Score > res.Threshold) {
		t.Errorf("a blank frame scored %.2f, not above the threshold %.2f", res.Score, res.Threshold)
	}
}
