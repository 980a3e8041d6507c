package infer

import (
	"errors"
	"fmt"
	"image"
	"math"
	"slices"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer/internal/register"
	"github.com/samlad/samlad/infer/internal/workpool"
)

// Registration (pipeline.register): a product on a line sits a few pixels
// and a degree or two off from one part to the next, and position-bound
// terms (the place, the layout) then compare a part with the references'
// neighbouring pixels. Enrolment keeps the per-pixel median of the good
// images' gray views, aligned onto each other; every image, good or
// inspected, is moved onto it by the shift and rotation that OpenCV's ECC
// finds (internal/register).

// Limits past which a found motion is not believed: no product on a
// fixture moves that far, so the frame is inspected where it is.
const (
	registerMaxShift   = 0.15 // of the image side
	registerMaxDegrees = 10
)

// Registration is the enrolled template: the median gray view of the
// aligned good images at the input size; Fill is their median colour view
// (planar RGB), which stands in where an aligned frame has no pixels, so
// that the edge the camera did not see looks like a good image's.
type Registration struct {
	W, H     int
	Template []float32
	Fill     []float32
}

// Alignment is how one frame was moved onto the template, in input_size
// pixels and degrees. Failed says why it was left where it was.
type Alignment struct {
	DX, DY, Degrees float64
	Failed          string
	warp            register.Warp
}

// gray is img's luminance plane.
func gray(img *Image) []float32 {
	n := img.W * img.H
	out := make([]float32, n)
	r, g, b := img.Pix[:n], img.Pix[n:2*n], img.Pix[2*n:]
	for i := range out {
		out[i] = 0.299*r[i] + 0.587*g[i] + 0.114*b[i]
	}
	return out
}

// medianOf is the per-pixel median of equal-length planes.
func medianOf(planes [][]float32) []float32 {
	out := make([]float32, len(planes[0]))
	col := make([]float32, len(planes))
	for i := range out {
		for j, p := range planes {
			col[j] = p[i]
		}
		slices.Sort(col)
		n := len(col)
		out[i] = (col[(n-1)/2] + col[n/2]) / 2
	}
	return out
}

// RegisterRule is the registration decision (pipeline.register) and what
// it was learned from: the median correlation of the good images' gray
// views with the template, as taken (Before) and aligned (After).
type RegisterRule struct {
	On bool
	// Learned is false when pipeline.register set On by hand.
	Learned       bool
	Before, After float64
}

// registerExplains is the least share of the good images' difference from
// their template that aligning them must remove for registration to be
// learned: a fixture that moves. Parts that lie anywhere (a bag) leave the
// difference where it was, and resampling them would only blur them.
const registerExplains = 0.5

// Explained is the share of the good images' difference from the template
// (one minus the correlation) that aligning them removes.
func (r RegisterRule) Explained() float64 {
	if r.Before >= 1 {
		return 0
	}
	return 1 - (1-r.After)/(1-r.Before)
}

// String is the rule as enroll prints it.
func (r RegisterRule) String() string {
	on := "each image is aligned onto the good images"
	if !r.On {
		on = "images are taken where they lie"
	}
	if !r.Learned {
		return "registration: " + on + " (pipeline.register set by hand)"
	}
	return fmt.Sprintf("registration: %s (aligning the good images removes %.0f%% of their difference from their median, %.0f%% needed; correlation %.3f as taken, %.3f aligned)",
		on, 100*r.Explained(), 100*registerExplains, r.Before, r.After)
}

// learnRegistration aligns the good inputs (all size x size) onto each
// other: onto their plain median first, then onto the median of those
// aligned views, which is sharp where the first was blurred by the
// motion. With sw auto it keeps the alignment only when it removes most
// of how the good images differ from that median. It returns the inputs
// to enrol (aligned or as given), their warps and the template (nil when
// not registering), and the rule.
func learnRegistration(inputs []*Image, workers int, sw config.Switch) ([]*Image, []register.Warp, *Registration, RegisterRule) {
	rule := RegisterRule{On: sw == config.On, Learned: sw == config.Auto}
	if sw == config.Off {
		return inputs, nil, nil, rule
	}
	w, h := inputs[0].W, inputs[0].H
	grays := make([][]float32, len(inputs))
	workpool.Each(len(inputs), workers, func(i int) { grays[i] = gray(inputs[i]) })
	reg := &Registration{W: w, H: h, Template: medianOf(grays)}
	aligned := make([][]float32, len(inputs))
	workpool.Each(len(inputs), workers, func(i int) {
		wp, _ := reg.estimate(grays[i])
		aligned[i] = make([]float32, w*h)
		if register.Apply(aligned[i], grays[i], w, h, wp, nil) != nil {
			copy(aligned[i], grays[i])
		}
	})
	reg.Template = medianOf(aligned)
	out := make([]*Image, len(inputs))
	warps := make([]register.Warp, len(inputs))
	before, after := make([]float64, len(inputs)), make([]float64, len(inputs))
	workpool.Each(len(inputs), workers, func(i int) {
		out[i], warps[i], _ = reg.align(inputs[i], grays[i])
		before[i] = correlation(reg.Template, grays[i])
		after[i] = correlation(reg.Template, gray(out[i]))
	})
	colour := make([][]float32, len(out))
	for i, img := range out {
		colour[i] = img.Pix
	}
	reg.Fill = medianOf(colour)
	workpool.Each(len(inputs), workers, func(i int) {
		if warps[i] != register.Identity {
			out[i], _ = warped(inputs[i], warps[i], reg.Fill)
		}
	})
	rule.Before, rule.After = median(before), median(after)
	if rule.Learned {
		rule.On = rule.Explained() >= registerExplains
	}
	if !rule.On {
		return inputs, nil, nil, rule
	}
	return out, warps, reg, rule
}

// correlation is the normalised cross-correlation of two planes, what ECC
// maximises.
func correlation(a, b []float32) float64 {
	var ma, mb float64
	for i := range a {
		ma += float64(a[i])
		mb += float64(b[i])
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	var ab, aa, bb float64
	for i := range a {
		x, y := float64(a[i])-ma, float64(b[i])-mb
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// estimate is the motion of a gray view against the template: the
// identity, with the reason, when ECC fails or finds an implausible one.
func (r *Registration) estimate(g []float32) (register.Warp, string) {
	wp, _, err := register.Estimate(r.Template, g, r.W, r.H)
	if err != nil {
		return register.Identity, err.Error()
	}
	dx, dy := wp.Shift()
	if math.Hypot(dx, dy) > registerMaxShift*float64(max(r.W, r.H)) || math.Abs(wp.Degrees()) > registerMaxDegrees {
		return register.Identity, fmt.Sprintf("register: found shift (%.1f, %.1f) px and %.1f degrees, beyond the %.0f%% and %d degrees a fixture allows", dx, dy, wp.Degrees(), 100*registerMaxShift, registerMaxDegrees)
	}
	return wp, ""
}

// align returns img (the template's size; g its gray view, nil to compute)
// moved onto the template, the warp used and how.
func (r *Registration) align(img *Image, g []float32) (*Image, register.Warp, Alignment) {
	if g == nil {
		g = gray(img)
	}
	wp, failed := r.estimate(g)
	a := Alignment{Failed: failed, warp: wp}
	a.DX, a.DY = wp.Shift()
	a.Degrees = wp.Degrees()
	if wp == register.Identity {
		return img, wp, a
	}
	out, err := warped(img, wp, r.Fill)
	if err != nil {
		return img, register.Identity, Alignment{Failed: err.Error(), warp: register.Identity}
	}
	return out, wp, a
}

// warped is img resampled through wp, with fill where img has no pixels
// (nil: its nearest edge pixel).
func warped(img *Image, wp register.Warp, fill []float32) (*Image, error) {
	out := &Image{W: img.W, H: img.H, Pix: make([]float32, len(img.Pix))}
	if err := register.Apply(out.Pix, img.Pix, img.W, img.H, wp, fill); err != nil {
		return nil, err
	}
	return out, nil
}

// alignFrame moves the camera frame the way its input_size view of the
// given size was moved, for the stages that read the frame (SAM); nil
// when the backend has none, so that nothing reads an unaligned frame.
func alignFrame(be *Backend, frame *Image, size int, wp register.Warp) (*Image, error) {
	if !readsFrame(be) {
		return nil, nil
	}
	if wp == register.Identity {
		return frame, nil
	}
	return warped(frame, wp.Scaled(float64(frame.W)/float64(size), float64(frame.H)/float64(size)), nil)
}

// readsFrame reports whether a stage of be reads the camera frame.
func readsFrame(be *Backend) bool {
	_, ff := be.Features.(FrameFeatureExtractor)
	_, fs := be.Segmenter.(FrameSegmenter)
	return ff || fs
}

// unalignMap moves an anomaly map on the template's grid (w x h cells
// over the size x size input) back onto the frame's.
func unalignMap(m []float32, w, h, size int, wp register.Warp) {
	if wp == register.Identity {
		return
	}
	src := slices.Clone(m)
	s := float64(w) / float64(size)
	if register.Apply(m, src, w, h, wp.Scaled(s, float64(h)/float64(size)).Inverse(), nil) != nil {
		copy(m, src)
	}
}

// unalignBox moves a box on the template's grid (size x size) onto the
// image wp aligned: the bounds of its moved corners, clipped.
func unalignBox(b image.Rectangle, size int, wp register.Warp) image.Rectangle {
	if wp == register.Identity || b.Empty() {
		return b
	}
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, c := range [4][2]int{{b.Min.X, b.Min.Y}, {b.Max.X, b.Min.Y}, {b.Min.X, b.Max.Y}, {b.Max.X, b.Max.Y}} {
		x, y := wp.Point(float64(c[0]), float64(c[1]))
		x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
	}
	return image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1)), int(math.Ceil(y1))).Intersect(image.Rect(0, 0, size, size))
}

// unalignBoxes moves the findings onto the frame and the matches' boxes
// onto the frame and each reference's own image, where the evaluation's
// truth and the objects panel are.
func (e *Engine) unalignBoxes(res *Result, refIdx, order []int, wp register.Warp) {
	size := e.p.InputSize
	for i := range res.Findings {
		res.Findings[i].Box = unalignBox(res.Findings[i].Box, size, wp)
	}
	for i := range res.Matches {
		m := &res.Matches[i]
		m.QueryBox = unalignBox(m.QueryBox, size, wp)
		m.RefBox = unalignBox(m.RefBox, size, e.bank.Refs[refIdx[order[m.Ref]]].Warp)
	}
}

// validate checks a decoded template against the input size.
func (r *Registration) validate(size int) error {
	if r == nil {
		return nil
	}
	if r.W != size || r.H != size || len(r.Template) != size*size || len(r.Fill) != 3*size*size {
		return fmt.Errorf("register: template %dx%d (%d gray and %d colour values), bank input size %d; re-enrol with `samlad enroll`", r.W, r.H, len(r.Template), len(r.Fill), size)
	}
	for _, v := range slices.Concat(r.Template, r.Fill) {
		if !(v >= 0 && v <= 1) {
			return errors.New("register: template values must lie in [0, 1]; re-enrol with `samlad enroll`")
		}
	}
	return nil
}
