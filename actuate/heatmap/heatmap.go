// Package heatmap renders an inspection result as an image a person reads
// at a glance: the frame at its own resolution with the anomaly map in a
// perceptual colour map (inferno) where it is warm, a legend bar marked at
// the threshold, a header with the verdict, score / threshold and part id,
// and each finding outlined and labelled (missing parts dashed, where the
// reference has them). It knows nothing of the engine: callers pass plain
// data, in frame pixels.
package heatmap

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/samlad/samlad/actuate"
)

// Finding is one outlined region.
type Finding struct {
	// Kind is missing, extra, mismatched or structural.
	Kind string
	// Box is in frame pixels; for a missing part, where the reference has it.
	Box   image.Rectangle
	Score float64
}

// Input is what is drawn.
type Input struct {
	Frame image.Image
	// Map is the anomaly map, MapH rows of MapW values, covering the whole
	// frame (it is stretched to the frame's size).
	Map        []float32
	MapW, MapH int
	Score      float64
	Threshold  float64
	Verdict    string // actuate.Pass, Fail or Error
	PartID     string
	Findings   []Finding
}

// Colours of the parts; the outlines are cyan, which inferno never uses.
var (
	PassColour    = color.RGBA{0x1b, 0x7f, 0x3a, 0xff}
	FailColour    = color.RGBA{0xc0, 0x1c, 0x28, 0xff}
	ErrorColour   = color.RGBA{0x5e, 0x5c, 0x64, 0xff}
	OutlineColour = color.RGBA{0x00, 0xe5, 0xff, 0xff}
	MarkerColour  = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

// Layout returns the header height and legend width for a frame of size b.
func Layout(b image.Rectangle) (header, legend int) {
	side := max(b.Dx(), b.Dy())
	return max(18, side/20), max(14, side/28)
}

// Scale is the legend's top value: the threshold's double, or the score
// when higher, so the threshold mark sits at mid-height or below.
func Scale(score, threshold float64) float64 {
	hi := 2 * threshold
	if finite(score) && score > hi {
		hi = score
	}
	if !(hi > 0) {
		hi = 1
	}
	return hi
}

// Render draws in. The result is the frame's width plus the legend, and the
// frame's height plus the header.
func Render(in Input) *image.RGBA {
	fb := in.Frame.Bounds()
	W, H := fb.Dx(), fb.Dy()
	hdr, leg := Layout(fb)
	out := image.NewRGBA(image.Rect(0, 0, W+leg, H+hdr))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.RGBA{0x20, 0x20, 0x20, 0xff}), image.Point{}, draw.Src)
	body := image.Rect(0, hdr, W, hdr+H)
	draw.Draw(out, body, in.Frame, fb.Min, draw.Src)

	hi := Scale(in.Score, in.Threshold)
	// Heat only where the map is warm (from a quarter of the threshold
	// up), so that the frame's own colours stay readable elsewhere.
	lo := 0.25 * in.Threshold
	if !(lo > 0) {
		lo = 0.25 * hi
	}
	if in.MapW > 0 && in.MapH > 0 && len(in.Map) >= in.MapW*in.MapH {
		sx, sy := float64(in.MapW)/float64(W), float64(in.MapH)/float64(H)
		for y := 0; y < H; y++ {
			for x := 0; x < W; x++ {
				v := bilinear(in.Map, in.MapW, in.MapH, (float64(x)+0.5)*sx-0.5, (float64(y)+0.5)*sy-0.5)
				if !(v > lo) {
					continue
				}
				c := Inferno(v / hi)
				a := min(0.35+0.4*(v-lo)/max(in.Threshold-lo, 1e-9), 0.75)
				o := out.RGBAAt(x, hdr+y)
				out.SetRGBA(x, hdr+y, color.RGBA{mix(o.R, c.R, a), mix(o.G, c.G, a), mix(o.B, c.B, a), 0xff})
			}
		}
	}

	// Legend: inferno from 0 (bottom) to hi (top), a white mark at the threshold.
	for y := 0; y < H; y++ {
		c := Inferno(1 - float64(y)/float64(max(H-1, 1)))
		for x := W + 2; x < W+leg; x++ {
			out.SetRGBA(x, hdr+y, c)
		}
	}
	if in.Threshold > 0 {
		ty := hdr + ThresholdRow(H, in.Threshold, hi)
		for x := W; x < W+leg; x++ {
			for d := -1; d <= 1; d++ {
				out.SetRGBA(x, ty+d, MarkerColour)
			}
		}
	}

	// Findings, outlined in the frame and labelled above their box.
	scale := max(1, hdr/16)
	for _, f := range in.Findings {
		r := f.Box.Add(image.Pt(0, hdr)).Intersect(body)
		if r.Empty() {
			continue
		}
		rect(out, r, OutlineColour, max(1, scale), f.Kind == "missing")
		label := f.Kind
		if f.Kind != "missing" && finite(f.Score) {
			label = fmt.Sprintf("%s %.1f", f.Kind, f.Score)
		}
		ly := r.Min.Y - 13*scale - 1
		if ly < hdr {
			ly = r.Min.Y + 1
		}
		text(out, image.Pt(r.Min.X+1, ly), label, scale, OutlineColour, color.RGBA{0, 0, 0, 0xc0})
	}

	// Header: the verdict's colour, the verdict, score / threshold, part id.
	bg := verdictColour(in.Verdict)
	draw.Draw(out, image.Rect(0, 0, W+leg, hdr), image.NewUniform(bg), image.Point{}, draw.Src)
	line := strings.ToUpper(in.Verdict)
	if finite(in.Score) && finite(in.Threshold) {
		line += fmt.Sprintf("  %.2f / %.2f", in.Score, in.Threshold)
	}
	if in.PartID != "" {
		line += "  " + in.PartID
	}
	hs := max(1, (hdr-4)/13)
	text(out, image.Pt(4, (hdr-13*hs)/2), line, hs, color.RGBA{0xff, 0xff, 0xff, 0xff}, color.RGBA{})
	return out
}

// ThresholdRow is the legend row (from the frame's top) of the threshold
// mark for a frame H pixels high and a legend scale hi.
func ThresholdRow(H int, threshold, hi float64) int {
	t := min(max(threshold/hi, 0), 1)
	return int(math.Round((1 - t) * float64(H-1)))
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func mix(a, b uint8, t float64) uint8 { return uint8(float64(a)*(1-t) + float64(b)*t + 0.5) }

// rect outlines r with lines w pixels wide, dashed when asked.
func rect(img *image.RGBA, r image.Rectangle, c color.RGBA, w int, dashed bool) {
	dash := 6 * w
	on := func(i int) bool { return !dashed || (i/dash)%2 == 0 }
	for k := 0; k < w; k++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if on(x - r.Min.X) {
				set(img, x, r.Min.Y+k, c)
				set(img, x, r.Max.Y-1-k, c)
			}
		}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			if on(y - r.Min.Y) {
				set(img, r.Min.X+k, y, c)
				set(img, r.Max.X-1-k, y, c)
			}
		}
	}
}

func set(img *image.RGBA, x, y int, c color.RGBA) {
	if image.Pt(x, y).In(img.Bounds()) {
		img.SetRGBA(x, y, c)
	}
}

// text writes s with the 7x13 basic font magnified scale times, its top-left
// corner at p, on bg (transparent when bg's alpha is 0).
func text(img *image.RGBA, p image.Point, s string, scale int, fg, bg color.RGBA) {
	face := basicfont.Face7x13
	w := font.MeasureString(face, s).Ceil()
	small := image.NewRGBA(image.Rect(0, 0, w, 13))
	d := font.Drawer{Dst: small, Src: image.NewUniform(fg), Face: face, Dot: fixed.P(0, 11)}
	d.DrawString(s)
	for y := 0; y < 13*scale; y++ {
		for x := 0; x < w*scale; x++ {
			c := small.RGBAAt(x/scale, y/scale)
			px, py := p.X+x, p.Y+y
			if !image.Pt(px, py).In(img.Bounds()) {
				continue
			}
			if c.A > 0x80 {
				img.SetRGBA(px, py, fg)
			} else if bg.A > 0 {
				o := img.RGBAAt(px, py)
				a := float64(bg.A) / 255
				img.SetRGBA(px, py, color.RGBA{mix(o.R, bg.R, a), mix(o.G, bg.G, a), mix(o.B, bg.B, a), 0xff})
			}
		}
	}
}

// verdictColour is the header's colour for a verdict: pass, fail, or
// anything else (an error).
func verdictColour(v string) color.RGBA {
	switch v {
	case actuate.Pass:
		return PassColour
	case actuate.Fail:
		return FailColour
	}
	return ErrorColour
}

// bilinear samples as infer.Bilinear does, in float64 (actuate may not
// import infer).
func bilinear(m []float32, w, h int, x, y float64) float64 {
	x = min(max(x, 0), float64(w-1))
	y = min(max(y, 0), float64(h-1))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
	fx, fy := x-float64(x0), y-float64(y0)
	a := float64(m[y0*w+x0])*(1-fx) + float64(m[y0*w+x1])*fx
	b := float64(m[y1*w+x0])*(1-fx) + float64(m[y1*w+x1])*fx
	return a*(1-fy) + b*fy
}

// inferno is matplotlib's inferno colour map at 9 evenly spaced stops.
var inferno = [...][3]float64{
	{0, 0, 4}, {31, 12, 72}, {85, 15, 109}, {136, 34, 106}, {186, 54, 85},
	{227, 89, 51}, {249, 140, 10}, {249, 201, 50}, {252, 255, 164},
}

// Inferno maps t in [0, 1] (clamped) to the inferno colour map.
func Inferno(t float64) color.RGBA {
	if !(t > 0) {
		t = 0
	}
	t = min(t, 1) * float64(len(inferno)-1)
	i := min(int(t), len(inferno)-2)
	f := t - float64(i)
	c := func(k int) uint8 { return uint8(inferno[i][k]*(1-f) + inferno[i+1][k]*f + 0.5) }
	return color.RGBA{c(0), c(1), c(2), 0xff}
}
