package heatmap

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
)

// Pair is one outcome of the object matching against a reference: a query
// object matched to a reference object (both boxes), an unmatched query
// object (extra: RefBox empty) or an unmatched reference object (missing:
// QueryBox empty). Boxes are in the images' own pixels.
type Pair struct {
	QueryBox, RefBox image.Rectangle
	Query, Object    int // indexes; -1 for the absent side
	Prob             float64
}

// ObjectsInput is one objects panel: what the engine segmented in the query,
// what it matched each object to in one reference, and the notes (verdict,
// learned rules) printed under them.
type ObjectsInput struct {
	Query image.Image
	// Ref is the reference image, drawn beside the query; nil draws its
	// objects on a blank canvas of the query's size.
	Ref     image.Image
	RefName string
	Pairs   []Pair
	Title   string
	Notes   []string
	Scale   int    // magnification of both images (0 = 1)
	Verdict string // colours the title
}

// Colours of the objects panel: matched pairs take palette colours in
// turn; extra and missing objects are drawn in their own colours, dashed.
var (
	ExtraColour   = color.RGBA{0xff, 0x30, 0x30, 0xff}
	MissingColour = color.RGBA{0xff, 0x40, 0xff, 0xff}
	palette       = []color.RGBA{
		{0x00, 0xe5, 0xff, 0xff}, {0x76, 0xff, 0x03, 0xff}, {0xff, 0xd6, 0x00, 0xff}, {0x29, 0x79, 0xff, 0xff},
		{0xff, 0x91, 0x00, 0xff}, {0x1d, 0xe9, 0xb6, 0xff}, {0xd5, 0x00, 0xf9, 0xff}, {0xc6, 0xff, 0x00, 0xff},
		{0x00, 0xb0, 0xff, 0xff}, {0xff, 0xea, 0x00, 0xff}, {0x64, 0xdd, 0x17, 0xff}, {0xf5, 0x00, 0x57, 0xff},
	}
)

// PairColour is the colour of the i-th matched pair.
func PairColour(i int) color.RGBA { return palette[i%len(palette)] }

// RenderObjects draws the panel: a title, the query (left) and the
// reference (right) with every object boxed and labelled, matched pairs in
// one colour each, extra objects in the query and missing ones in the
// reference (and where they would be in the query) dashed, then the notes.
func RenderObjects(in ObjectsInput) *image.RGBA {
	s := max(in.Scale, 1)
	qb := in.Query.Bounds()
	w, h := qb.Dx()*s, qb.Dy()*s
	const gap, line = 8, 15
	title := line + 4
	notes := len(in.Notes)*line + 6
	out := image.NewRGBA(image.Rect(0, 0, 2*w+gap, title+h+notes))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.RGBA{0x18, 0x18, 0x18, 0xff}), image.Point{}, draw.Src)

	bg := verdictColour(in.Verdict)
	draw.Draw(out, image.Rect(0, 0, out.Bounds().Dx(), title), image.NewUniform(bg), image.Point{}, draw.Src)
	text(out, image.Pt(4, 3), in.Title, 1, color.RGBA{0xff, 0xff, 0xff, 0xff}, color.RGBA{})

	qo, ro := image.Pt(0, title), image.Pt(w+gap, title)
	blit(out, in.Query, qo, s)
	if in.Ref != nil {
		blit(out, in.Ref, ro, s)
	} else {
		draw.Draw(out, image.Rect(ro.X, ro.Y, ro.X+w, ro.Y+h), image.NewUniform(color.RGBA{0x40, 0x40, 0x40, 0xff}), image.Point{}, draw.Src)
	}
	text(out, image.Pt(ro.X+2, ro.Y+2), "reference "+in.RefName, 1, color.RGBA{0xff, 0xff, 0xff, 0xff}, color.RGBA{0, 0, 0, 0xc0})

	place := func(r image.Rectangle, o image.Point) image.Rectangle {
		return image.Rect(r.Min.X*s, r.Min.Y*s, r.Max.X*s, r.Max.Y*s).Add(o).Intersect(image.Rect(o.X, o.Y, o.X+w, o.Y+h))
	}
	label := func(r image.Rectangle, s string, c color.RGBA) {
		y := r.Min.Y - 14
		if y < title {
			y = r.Min.Y + 1
		}
		text(out, image.Pt(r.Min.X+1, y), s, 1, c, color.RGBA{0, 0, 0, 0xc0})
	}
	n := 0
	for _, p := range in.Pairs {
		switch {
		case p.Query >= 0 && p.Object >= 0:
			c := PairColour(n)
			n++
			q, r := place(p.QueryBox, qo), place(p.RefBox, ro)
			rect(out, q, c, 2, false)
			rect(out, r, c, 2, false)
			label(q, fmt.Sprintf("q%d=r%d %.2f", p.Query, p.Object, p.Prob), c)
			label(r, fmt.Sprintf("r%d", p.Object), c)
		case p.Query >= 0:
			q := place(p.QueryBox, qo)
			rect(out, q, ExtraColour, 2, true)
			label(q, fmt.Sprintf("q%d extra %.2f", p.Query, p.Prob), ExtraColour)
		case p.Object >= 0:
			r := place(p.RefBox, ro)
			rect(out, r, MissingColour, 2, true)
			label(r, fmt.Sprintf("r%d missing", p.Object), MissingColour)
			rect(out, place(p.RefBox, qo), MissingColour, 1, true)
		}
	}
	for i, l := range in.Notes {
		text(out, image.Pt(4, title+h+4+i*line), l, 1, color.RGBA{0xe0, 0xe0, 0xe0, 0xff}, color.RGBA{})
	}
	return out
}

// blit draws img magnified s times (nearest neighbour) with its top-left at o.
func blit(dst *image.RGBA, img image.Image, o image.Point, s int) {
	b := img.Bounds()
	for y := 0; y < b.Dy()*s; y++ {
		for x := 0; x < b.Dx()*s; x++ {
			r, g, bl, _ := img.At(b.Min.X+x/s, b.Min.Y+y/s).RGBA()
			dst.SetRGBA(o.X+x, o.Y+y, color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 0xff})
		}
	}
}
