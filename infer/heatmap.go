package infer

import (
	"image"
	"image/color"
	"image/draw"
)

// Heatmap renders an anomaly map as a colour image of size w x h (jet-like
// colour map, more opaque where hotter). Values at or below lo are fully
// transparent, values at or above hi are opaque red.
func Heatmap(m []float32, mw, mh, w, h int, lo, hi float64) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	if mw == 0 || mh == 0 || len(m) < mw*mh {
		return out
	}
	span := hi - lo
	if span <= 0 {
		span = 1
	}
	sx, sy := float64(mw)/float64(w), float64(mh)/float64(h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := float64(Bilinear(m, mw, mh, (float64(x)+0.5)*sx-0.5, (float64(y)+0.5)*sy-0.5))
			if v <= lo {
				continue
			}
			t := min((v-lo)/span, 1)
			c := jet(t)
			out.SetNRGBA(x, y, color.NRGBA{c.R, c.G, c.B, uint8(60 + 170*t)})
		}
	}
	return out
}

// Overlay draws the heatmap of res over img (the engine's input image or
// the original frame; the map is stretched to img's size). Findings are
// outlined in white, scaled from input_size coordinates to img's size.
func Overlay(img image.Image, res *Result, inputSize int) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	hi := res.Threshold
	if hi <= 0 {
		hi = 1
	}
	hm := Heatmap(res.Map, res.MapW, res.MapH, b.Dx(), b.Dy(), 0, hi)
	draw.Draw(out, out.Bounds(), hm, image.Point{}, draw.Over)
	if inputSize > 0 {
		fx, fy := float64(b.Dx())/float64(inputSize), float64(b.Dy())/float64(inputSize)
		for _, f := range res.Findings {
			r := image.Rect(int(float64(f.Box.Min.X)*fx), int(float64(f.Box.Min.Y)*fy),
				int(float64(f.Box.Max.X)*fx), int(float64(f.Box.Max.Y)*fy))
			outline(out, r, color.RGBA{255, 255, 255, 255})
		}
	}
	return out
}

func outline(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	if r.Empty() {
		return
	}
	for x := r.Min.X; x < r.Max.X; x++ {
		img.SetRGBA(x, r.Min.Y, c)
		img.SetRGBA(x, r.Max.Y-1, c)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		img.SetRGBA(r.Min.X, y, c)
		img.SetRGBA(r.Max.X-1, y, c)
	}
}

// jet maps t in [0,1] to blue -> cyan -> yellow -> red.
func jet(t float64) color.RGBA {
	f := func(a float64) uint8 { return uint8(min(max(a, 0), 1)*255 + 0.5) }
	r := 1.5 - abs(4*t-3)
	g := 1.5 - abs(4*t-2)
	b := 1.5 - abs(4*t-1)
	return color.RGBA{f(r), f(g), f(b), 255}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
