package heatmap

import (
	"image"
	"image/color"
	"image/draw"
	"testing"
)

func grey(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{128, 128, 128, 255}), image.Point{}, draw.Src)
	return img
}

// A known scene: a grey 320x240 frame, an 8x8 map with one hot cell at the
// top left and cold elsewhere, a failing score, a structural finding on the
// hot cell and a missing part at the bottom right.
func TestRenderFailingFrame(t *testing.T) {
	const W, H = 320, 240
	m := make([]float32, 64)
	m[0] = 6 // hot: cell (0,0) covers x < 40, y < 30
	in := Input{
		Frame: grey(W, H), Map: m, MapW: 8, MapH: 8, Score: 6, Threshold: 2.5, Verdict: "fail", PartID: "SN-0042",
		Findings: []Finding{
			{Kind: "structural", Box: image.Rect(2, 40, 60, 100), Score: 6},
			{Kind: "missing", Box: image.Rect(200, 150, 300, 230)},
		},
	}
	out := Render(in)
	hdr, leg := Layout(in.Frame.Bounds())
	if got, want := out.Bounds(), image.Rect(0, 0, W+leg, H+hdr); got != want {
		t.Fatalf("size %v, want %v: the frame's own size plus header and legend", got, want)
	}
	// Header: the fail colour, with the verdict written in white.
	if c := out.RGBAAt(W+leg-2, 1); c != FailColour {
		t.Errorf("header colour %v, want fail red %v", c, FailColour)
	}
	white := 0
	for y := 0; y < hdr; y++ {
		for x := 0; x < W/2; x++ {
			if out.RGBAAt(x, y) == (color.RGBA{255, 255, 255, 255}) {
				white++
			}
		}
	}
	if white < 20 {
		t.Errorf("header has %d white text pixels: no verdict written", white)
	}
	// Legend: inferno from the top (hot) to the bottom (cold), a white mark at the threshold.
	x := W + leg - 1
	if c := out.RGBAAt(x, hdr); c != Inferno(1) {
		t.Errorf("legend top %v, want %v", c, Inferno(1))
	}
	if c := out.RGBAAt(x, hdr+H-1); c != Inferno(0) {
		t.Errorf("legend bottom %v, want %v", c, Inferno(0))
	}
	ty := hdr + ThresholdRow(H, in.Threshold, Scale(in.Score, in.Threshold))
	if c := out.RGBAAt(x, ty); c != MarkerColour {
		t.Errorf("legend row %d (threshold %.1f of %.1f) is %v, want the white mark", ty, in.Threshold, Scale(in.Score, in.Threshold), c)
	}
	// Heat where the map is hot, the frame untouched where it is cold.
	if c := out.RGBAAt(10, hdr+10); c.R <= 128 || c.R <= c.B {
		t.Errorf("hot cell pixel %v: no warm heat", c)
	}
	if c := out.RGBAAt(160, hdr+120); c != (color.RGBA{128, 128, 128, 255}) {
		t.Errorf("cold pixel %v: the frame is tinted where nothing is wrong", c)
	}
	// The structural finding is outlined solid; the missing part dashed.
	solid, dashOn, dashOff := 0, 0, 0
	for y := 40; y < 100; y++ {
		if out.RGBAAt(2, hdr+y) == OutlineColour {
			solid++
		}
	}
	for x := 200; x < 300; x++ {
		if out.RGBAAt(x, hdr+150) == OutlineColour {
			dashOn++
		} else {
			dashOff++
		}
	}
	if solid != 60 {
		t.Errorf("structural box left edge: %d of 60 pixels outlined", solid)
	}
	if dashOn < 30 || dashOff < 30 {
		t.Errorf("missing box top edge: %d on, %d off; want a dashed line", dashOn, dashOff)
	}
}

func TestRenderPassAndError(t *testing.T) {
	for _, c := range []struct {
		verdict string
		want    color.RGBA
	}{{"pass", PassColour}, {"error", ErrorColour}} {
		out := Render(Input{Frame: grey(64, 48), Score: 1, Threshold: 2, Verdict: c.verdict})
		_, leg := Layout(image.Rect(0, 0, 64, 48))
		if got := out.RGBAAt(64+leg-1, 0); got != c.want {
			t.Errorf("%s header %v, want %v", c.verdict, got, c.want)
		}
	}
}

// The objects panel: a matched pair in one colour on both sides, an extra
// query object and a missing reference object dashed in their colours, the
// missing one also where it would be in the query.
func TestRenderObjects(t *testing.T) {
	q := grey(100, 80)
	out := RenderObjects(ObjectsInput{Query: q, RefName: "005.png", Verdict: "fail", Title: "extra/000", Notes: []string{"rule 1", "rule 2"},
		Pairs: []Pair{
			{Query: 0, Object: 3, QueryBox: image.Rect(10, 10, 30, 30), RefBox: image.Rect(12, 11, 32, 31), Prob: 0.9},
			{Query: 1, Object: -1, QueryBox: image.Rect(50, 40, 70, 60), Prob: 0.6},
			{Query: -1, Object: 4, RefBox: image.Rect(60, 10, 90, 30), Prob: 0.7},
		}})
	const gap, title = 8, 19
	if got, want := out.Bounds().Size(), image.Pt(2*100+gap, title+80+2*15+6); got != want {
		t.Fatalf("size %v, want %v", got, want)
	}
	if c := out.RGBAAt(out.Bounds().Dx()-1, 0); c != FailColour {
		t.Errorf("title %v, want %v", c, FailColour)
	}
	at := func(x, y int) color.RGBA { return out.RGBAAt(x, y) }
	if at(10, title+20) != PairColour(0) || at(100+gap+12, title+20) != PairColour(0) {
		t.Errorf("matched pair not boxed in one colour on both sides: %v %v", at(10, title+20), at(100+gap+12, title+20))
	}
	on, off := 0, 0
	for x := 50; x < 70; x++ {
		if at(x, title+59) == ExtraColour {
			on++
		} else {
			off++
		}
	}
	if on == 0 || off == 0 {
		t.Errorf("extra box bottom edge: %d on, %d off; want dashed red", on, off)
	}
	if at(100+gap+60, title+12) != MissingColour || at(60, title+12) != MissingColour {
		t.Errorf("missing object not marked in the reference and the query: %v %v", at(100+gap+60, title+12), at(60, title+12))
	}
}
