package infer

import (
	"image"
	"math"
	"math/rand/v2"
)

// Synthetic anomalies for the enrolment self-check, made from a good
// image and the other good images alone: no test split is ever seen.

// Synthetic anomaly types.
const (
	SynthMissing  = "missing part"
	SynthExtra    = "extra part"
	SynthWrong    = "wrong part"
	SynthMirrored = "mirrored part"
	SynthScratch  = "scratch"
	SynthStain    = "stain"
)

// SynthTypes lists the synthetic types, logical first.
var SynthTypes = []string{SynthMissing, SynthExtra, SynthWrong, SynthMirrored, SynthScratch, SynthStain}

// partMask is a part of a reference at image resolution.
type partMask struct {
	ref, obj int
	box      image.Rectangle
	in       []bool // size x size
}

// synthesizer makes anomalies from the bank's references.
type synthesizer struct {
	bank *Bank
	size int
	rng  *rand.Rand
	imgs []*Image // dequantized references, made on demand
	// lastPart is the box (image pixels) of the part the last anomaly was
	// made on, for the tests.
	lastPart image.Rectangle
}

func newSynthesizer(bank *Bank, seed uint64) *synthesizer {
	return &synthesizer{bank: bank, size: bank.Refs[0].Size, rng: rand.New(rand.NewPCG(seed, 0x5a11ad)),
		imgs: make([]*Image, len(bank.Refs))}
}

func (s *synthesizer) image(r int) *Image {
	if s.imgs[r] == nil {
		ref := &s.bank.Refs[r]
		s.imgs[r] = dequantize(ref.RGB, ref.Size, ref.Size)
	}
	return s.imgs[r]
}

// label is reference r's object label at image pixel (x, y) (0: none).
func (s *synthesizer) label(r, x, y int) int {
	ref := &s.bank.Refs[r]
	return int(ref.Labels[(y*ref.MapH/s.size)*ref.MapW+x*ref.MapW/s.size])
}

// part returns object o of reference r at image resolution, dilated by
// grow pixels.
func (s *synthesizer) part(r, o, grow int) partMask {
	n := s.size
	pm := partMask{ref: r, obj: o, in: make([]bool, n*n)}
	box := image.Rectangle{}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if s.label(r, x, y) == o+1 {
				for dy := -grow; dy <= grow; dy++ {
					for dx := -grow; dx <= grow; dx++ {
						if xx, yy := x+dx, y+dy; xx >= 0 && yy >= 0 && xx < n && yy < n {
							pm.in[yy*n+xx] = true
						}
					}
				}
				box = box.Union(image.Rect(x-grow, y-grow, x+grow+1, y+grow+1))
			}
		}
	}
	pm.box = box.Intersect(image.Rect(0, 0, n, n))
	return pm
}

// stableParts are reference r's objects found in most good images.
func (s *synthesizer) stableParts(r int) []int {
	var out []int
	for i, o := range s.bank.Refs[r].Objects {
		if o.Weight >= layoutStable {
			out = append(out, i)
		}
	}
	return out
}

// erase fills part pm of img with the background: from the nearest other
// good image that has no part there, else the mean colour of the ring
// around the part.
func (s *synthesizer) erase(img *Image, pm partMask, peers []int) {
	n := s.size
	for _, j := range peers {
		free := true
		for y := pm.box.Min.Y; y < pm.box.Max.Y && free; y++ {
			for x := pm.box.Min.X; x < pm.box.Max.X; x++ {
				if pm.in[y*n+x] && s.label(j, x, y) != 0 {
					free = false
					break
				}
			}
		}
		if free {
			src := s.image(j)
			s.copyMasked(img, src, pm, 0, 0, false)
			return
		}
	}
	var sum [3]float64
	var cnt float64
	ring := pm.box.Inset(-3).Intersect(image.Rect(0, 0, n, n))
	for y := ring.Min.Y; y < ring.Max.Y; y++ {
		for x := ring.Min.X; x < ring.Max.X; x++ {
			if i := y*n + x; !pm.in[i] && s.label(pm.ref, x, y) == 0 {
				for c := range 3 {
					sum[c] += float64(img.Pix[c*n*n+i])
				}
				cnt++
			}
		}
	}
	if cnt == 0 {
		return
	}
	for y := pm.box.Min.Y; y < pm.box.Max.Y; y++ {
		for x := pm.box.Min.X; x < pm.box.Max.X; x++ {
			if i := y*n + x; pm.in[i] {
				for c := range 3 {
					img.Pix[c*n*n+i] = float32(sum[c] / cnt)
				}
			}
		}
	}
}

// copyMasked copies src's pixels under pm into dst moved by (dx, dy),
// mirrored left-right about the part's box when mirror.
func (s *synthesizer) copyMasked(dst, src *Image, pm partMask, dx, dy int, mirror bool) {
	n := s.size
	for y := pm.box.Min.Y; y < pm.box.Max.Y; y++ {
		for x := pm.box.Min.X; x < pm.box.Max.X; x++ {
			if !pm.in[y*n+x] {
				continue
			}
			tx := x + dx
			if mirror {
				tx = pm.box.Min.X + pm.box.Max.X - 1 - x + dx
			}
			ty := y + dy
			if tx < 0 || ty < 0 || tx >= n || ty >= n {
				continue
			}
			for c := range 3 {
				dst.Pix[c*n*n+ty*n+tx] = src.Pix[c*n*n+y*n+x]
			}
		}
	}
}

// clone copies reference r's image.
func (s *synthesizer) clone(r int) *Image {
	src := s.image(r)
	return &Image{W: src.W, H: src.H, Pix: append([]float32(nil), src.Pix...)}
}

// make returns an anomaly of type typ made from reference r (nil when the
// image offers none, e.g. no free place for an extra part).
func (s *synthesizer) make(typ string, r int, peers []int) *Image {
	parts := s.stableParts(r)
	if len(parts) == 0 {
		return nil
	}
	o := parts[s.rng.IntN(len(parts))]
	pm := s.part(r, o, 2)
	if pm.box.Empty() {
		return nil
	}
	img := s.clone(r)
	s.lastPart = pm.box
	switch typ {
	case SynthMissing:
		s.erase(img, pm, peers)
	case SynthExtra:
		dx, dy, ok := s.freePlace(r, pm)
		if !ok {
			return nil
		}
		s.copyMasked(img, s.image(r), pm, dx, dy, false)
	case SynthWrong:
		wr, wo := s.unlike(r, o)
		if wr < 0 {
			return nil
		}
		other := s.part(wr, wo, 2)
		s.erase(img, pm, peers)
		c0, c1 := center(pm.box), center(other.box)
		s.copyMasked(img, s.image(wr), other, c0.X-c1.X, c0.Y-c1.Y, false)
	case SynthMirrored:
		if !s.asymmetric(r, pm) {
			return nil
		}
		src := s.clone(r)
		s.erase(img, pm, peers)
		s.copyMasked(img, src, pm, 0, 0, true)
	case SynthScratch:
		s.scratch(img, pm)
	case SynthStain:
		s.stain(img, pm)
	}
	return img
}

func center(r image.Rectangle) image.Point {
	return image.Pt((r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2)
}

// freePlace finds a shift that puts part pm on background of its image.
func (s *synthesizer) freePlace(r int, pm partMask) (dx, dy int, ok bool) {
	n := s.size
	for range 40 {
		dx = s.rng.IntN(n) - pm.box.Min.X - pm.box.Dx()/2
		dy = s.rng.IntN(n) - pm.box.Min.Y - pm.box.Dy()/2
		moved := pm.box.Add(image.Pt(dx, dy))
		if !moved.In(image.Rect(0, 0, n, n)) || moved.Overlaps(pm.box) {
			continue
		}
		free := true
		for y := pm.box.Min.Y; y < pm.box.Max.Y && free; y++ {
			for x := pm.box.Min.X; x < pm.box.Max.X; x++ {
				if pm.in[y*n+x] && s.label(r, x+dx, y+dy) != 0 {
					free = false
					break
				}
			}
		}
		if free {
			return dx, dy, true
		}
	}
	return 0, 0, false
}

// unlike returns the stable part of any good image least like object o of
// reference r (its descriptor's cosine lowest), or -1 when every part is
// alike.
func (s *synthesizer) unlike(r, o int) (int, int) {
	d := s.bank.Refs[r].Objects[o].Desc
	best, br, bo := unlikeMax, -1, -1
	for j := range s.bank.Refs {
		for _, k := range s.stableParts(j) {
			if c := float64(dot(d, s.bank.Refs[j].Objects[k].Desc)); c < best {
				best, br, bo = c, j, k
			}
		}
	}
	return br, bo
}

// unlikeMax is the largest cosine at which another part counts as another
// kind for the wrong-part anomaly.
const unlikeMax = 0.5

// asymmetric reports whether mirroring part pm changes it: the mean
// absolute difference of the part and its mirror image, inside the part.
func (s *synthesizer) asymmetric(r int, pm partMask) bool {
	n := s.size
	img := s.image(r)
	var diff, cnt float64
	for y := pm.box.Min.Y; y < pm.box.Max.Y; y++ {
		for x := pm.box.Min.X; x < pm.box.Max.X; x++ {
			mx := pm.box.Min.X + pm.box.Max.X - 1 - x
			if !pm.in[y*n+x] {
				continue
			}
			cnt++
			if !pm.in[y*n+mx] {
				diff += 1
				continue
			}
			for c := range 3 {
				diff += math.Abs(float64(img.Pix[c*n*n+y*n+x]-img.Pix[c*n*n+y*n+mx])) / 3
			}
		}
	}
	return cnt > 0 && diff/cnt > mirrorMinChange
}

// mirrorMinChange is the mean change per pixel from which a part's mirror
// image counts as another part.
const mirrorMinChange = 0.08

// scratch draws a thin line of contrasting brightness across the part.
func (s *synthesizer) scratch(img *Image, pm partMask) {
	n := s.size
	c := center(pm.box)
	a := s.rng.Float64() * math.Pi
	half := 0.4 * math.Hypot(float64(pm.box.Dx()), float64(pm.box.Dy()))
	mean := s.meanIntensity(img, pm)
	for t := -half; t <= half; t += 0.5 {
		x := int(math.Round(float64(c.X) + t*math.Cos(a)))
		y := int(math.Round(float64(c.Y) + t*math.Sin(a)))
		for _, p := range [...]image.Point{{x, y}, {x + 1, y}} {
			if p.X < 0 || p.Y < 0 || p.X >= n || p.Y >= n || !pm.in[p.Y*n+p.X] {
				continue
			}
			for ch := range 3 {
				v := &img.Pix[ch*n*n+p.Y*n+p.X]
				if mean > 0.5 {
					*v *= 0.3
				} else {
					*v = min(*v+0.55, 1)
				}
			}
		}
	}
}

// stain blends a dark brown blob over part of the part.
func (s *synthesizer) stain(img *Image, pm partMask) {
	n := s.size
	var in []int
	for i, v := range pm.in {
		if v {
			in = append(in, i)
		}
	}
	if len(in) == 0 {
		return
	}
	ctr := in[s.rng.IntN(len(in))]
	cx, cy := ctr%n, ctr/n
	r := max(3, 0.45*math.Sqrt(float64(len(in))))
	colour := [3]float32{0.22, 0.14, 0.05}
	for _, i := range in {
		x, y := i%n, i/n
		d := math.Hypot(float64(x-cx), float64(y-cy)) / r
		if d >= 1 {
			continue
		}
		a := float32(0.85 * (1 - d*d*d*d))
		for ch := range 3 {
			v := &img.Pix[ch*n*n+i]
			*v = (1-a)*(*v) + a*colour[ch]
		}
	}
}

func (s *synthesizer) meanIntensity(img *Image, pm partMask) float64 {
	n := s.size
	var sum, cnt float64
	for i, v := range pm.in {
		if v {
			sum += float64(img.Pix[i]+img.Pix[n*n+i]+img.Pix[2*n*n+i]) / 3
			cnt++
		}
	}
	if cnt == 0 {
		return 0.5
	}
	return sum / cnt
}
