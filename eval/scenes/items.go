package scenes

import (
	"math"
)

// Object types. Bag scenes hold fasteners; box scenes hold kit parts.
const (
	Nut         = "nut"
	Washer      = "washer"
	LongScrew   = "screw_long"
	ShortScrew  = "screw_short"
	Block       = "block"
	Cap         = "cap"
	Ball        = "ball"
	Bar         = "bar"
	screwHeadR  = 0.55 // screw head radius, units
	screwShaftW = 0.28 // screw shaft half-width, units
)

// finish selects the shading model of an object.
type finish int

const (
	matte finish = iota
	metal
	sphere
	flat // print: no bevel, no relief
)

// spec is the appearance of an object type. Sizes are in units u (1/16 of
// the image side), so scenes look the same at every resolution.
type spec struct {
	color  rgb
	radius float64 // bounding radius, units
	finish finish
	// The zoo's part types give their shape and surface as functions
	// (local pixel coordinates); bag and box types use baseSDF and texture.
	sdf func(it *item, x, y, u float64) float64
	// tex returns a brightness factor and a colour mixed in with weight a.
	tex func(it *item, x, y, u float64) (f float64, mix rgb, a float64)
	// long: the part is slender (a wire, a pin, a bolt) and can be cut or bent.
	long bool
}

// specs: distinct hues and sizes so that a classical colour, gradient and
// texture feature can tell the types apart, as real part families differ.
var specs = map[string]spec{
	Nut:        {color: rgb{0.80, 0.63, 0.24}, radius: 1.10, finish: metal},  // brass hex nut
	Washer:     {color: rgb{0.56, 0.58, 0.62}, radius: 1.05, finish: metal},  // steel washer
	LongScrew:  {color: rgb{0.34, 0.45, 0.72}, radius: 1.95, finish: metal},  // blue-zinc screw
	ShortScrew: {color: rgb{0.16, 0.16, 0.18}, radius: 1.15, finish: metal},  // black-oxide screw
	Block:      {color: rgb{0.20, 0.62, 0.26}, radius: 1.20, finish: matte},  // green rubber block
	Cap:        {color: rgb{0.96, 0.50, 0.10}, radius: 0.78, finish: matte},  // orange cap
	Ball:       {color: rgb{0.16, 0.30, 0.82}, radius: 0.58, finish: sphere}, // blue ball
	Bar:        {color: rgb{0.95, 0.80, 0.16}, radius: 1.66, finish: matte},  // yellow bar
}

// notch is a circular bite out of an object (a dent or a chip), in local
// pixels.
type notch struct {
	x, y, r float64
	chip    bool
}

// item is one placed object: type, centre in pixels, rotation in radians.
// The zoo's fields are zero for bag and box parts.
type item struct {
	typ    string
	cx, cy float64
	ang    float64
	notch  *notch

	scale  float64      // size factor (0: 1)
	col    *rgb         // colour instead of the type's
	bend   float64      // radians, bent about local x = bendAt (pixels)
	bendAt float64      //
	cutAt  *float64     // local x (pixels) where a gap severs the part
	aux    float64      // a type's own parameter (a length, a level, a pole count)
	poly   [][2]float64 // a type's own path (wires), local pixels
	rad    float64      // bounding radius in pixels where the type's varies
	grow   float64      // pixels a bent part reaches beyond its radius
}

func screwLength(typ string) float64 {
	if typ == LongScrew {
		return 3.8
	}
	return 2.2
}

// baseSDF is the object's signed distance in local pixel coordinates.
func baseSDF(typ string, x, y, u float64) float64 {
	switch typ {
	case Nut:
		return math.Max(sdHexagon(x, y, 0.95*u), 0.45*u-math.Hypot(x, y))
	case Washer:
		r := math.Hypot(x, y)
		return math.Max(r-1.05*u, 0.48*u-r)
	case LongScrew, ShortScrew:
		l := screwLength(typ) * u
		hr, sw := screwHeadR*u, screwShaftW*u
		head := sdCircle(x-(-l/2+hr), y, hr)
		shaft := sdRoundBox(x-hr/2, y, (l-hr)/2, sw, sw*0.5)
		return math.Min(head, shaft)
	case Block:
		return sdRoundBox(x, y, 0.85*u, 0.85*u, 0.22*u)
	case Cap:
		return sdCircle(x, y, 0.75*u)
	case Ball:
		return sdCircle(x, y, 0.55*u)
	case Bar:
		return sdRoundBox(x, y, 1.6*u, 0.4*u, 0.15*u)
	}
	return math.Inf(1)
}

func (it item) local(px, py float64) (float64, float64) {
	c, s := math.Cos(it.ang), math.Sin(it.ang)
	dx, dy := px-it.cx, py-it.cy
	return dx*c + dy*s, -dx*s + dy*c
}

// shape is the part's signed distance in local pixels before a notch.
func (it item) shape(x, y, u float64) float64 {
	sp := specs[it.typ]
	if sp.sdf == nil && it.scale == 0 && it.bend == 0 && it.cutAt == nil {
		return baseSDF(it.typ, x, y, u)
	}
	s := 1.0
	if it.scale != 0 {
		s = it.scale
		x, y = x/s, y/s
	}
	if it.bend != 0 && x > it.bendAt {
		c, sn := math.Cos(it.bend), math.Sin(it.bend)
		dx := x - it.bendAt
		x, y = it.bendAt+dx*c+y*sn, -dx*sn+y*c
	}
	var d float64
	if sp.sdf != nil {
		d = sp.sdf(&it, x, y, u)
	} else {
		d = baseSDF(it.typ, x, y, u)
	}
	if it.cutAt != nil {
		d = math.Max(d, 0.22*u-math.Abs(x-*it.cutAt))
	}
	return d * s
}

func (it item) sdf(px, py, u float64) float64 {
	x, y := it.local(px, py)
	d := it.shape(x, y, u)
	if it.notch != nil {
		d = math.Max(d, it.notch.r-math.Hypot(x-it.notch.x, y-it.notch.y))
	}
	return d
}

func (it item) bound(u float64) float64 {
	b := specs[it.typ].radius * u
	if it.rad > 0 {
		b = it.rad
	}
	if it.scale > 1 {
		b *= it.scale
	}
	return b + it.grow
}

// colour is the part's base colour.
func (it item) colour() rgb {
	if it.col != nil {
		return *it.col
	}
	return specs[it.typ].color
}

func (it item) coverage(w, h int, u float64) mask {
	return rasterize(w, h, it.cx, it.cy, it.bound(u), func(x, y float64) float64 { return it.sdf(x, y, u) })
}

// light is the direction towards the key light (up-left), image coordinates.
var lightX, lightY = -0.6, -0.8

// paint draws the object with its shading over the canvas where m covers it.
func (it item) paint(c *canvas, m mask, u float64, grain *valueNoise) {
	sp := specs[it.typ]
	rb := it.bound(u) - it.grow
	bevel := 0.18*u + 1
	for y := m.r.Min.Y; y < m.r.Max.Y; y++ {
		for x := m.r.Min.X; x < m.r.Max.X; x++ {
			a := m.at(x, y)
			if a <= 0 {
				continue
			}
			px, py := float64(x)+0.5, float64(y)+0.5
			lx, ly := it.local(px, py)
			d := it.sdf(px, py, u)
			toLight := ((px-it.cx)*lightX + (py-it.cy)*lightY) / rb
			var f float64
			var spec float64
			switch sp.finish {
			case flat:
				f = 1
			case sphere:
				r := 0.55 * u
				if sp.sdf != nil {
					r = it.bound(u)
				}
				nx, ny := (px-it.cx)/r, (py-it.cy)/r
				nz := math.Sqrt(math.Max(0, 1-nx*nx-ny*ny))
				diff := math.Max(0, (nx*lightX*0.6 + ny*lightY*0.6 + nz*0.8))
				f = 0.3 + 0.8*diff
				spec = 0.45 * math.Pow(diff, 24)
			default:
				f = 0.92 + 0.16*toLight
				e := clamp01(-d / bevel)
				f *= 0.7 + 0.3*e
				if toLight > 0 {
					f += 0.3 * (1 - e) * toLight
				}
			}
			col := sp.color
			if sp.tex != nil {
				tf, mix, ma := sp.tex(&it, lx, ly, u)
				f *= tf
				col = it.colour()
				for k := range col {
					col[k] += (mix[k] - col[k]) * float32(ma)
				}
			} else {
				f *= texture(it.typ, lx, ly, u)
				if it.col != nil {
					col = *it.col
				}
			}
			if it.notch != nil {
				// Deformed metal around a dent catches less light; a chip
				// shows a bright fracture face.
				if dn := math.Hypot(lx-it.notch.x, ly-it.notch.y) - it.notch.r; dn < 0.12*u+1.2 {
					if it.notch.chip {
						f = f*0.5 + 0.55
					} else {
						f *= 0.62
					}
				}
			}
			f *= 1 + 0.06*float64(grain.at(px, py))
			var out rgb
			for k := 0; k < 3; k++ {
				out[k] = float32(float64(col[k])*f + spec)
			}
			c.blend(x, y, out, a)
		}
	}
}

// texture is the per-type surface detail: threads, drive slots, grooves.
func texture(typ string, x, y, u float64) float64 {
	switch typ {
	case LongScrew, ShortScrew:
		l := screwLength(typ) * u
		hr := screwHeadR * u
		hx := -l/2 + hr
		if math.Hypot(x-hx, y) < hr {
			if math.Abs(x-hx) < math.Max(0.6, 0.1*u) && math.Abs(y) < 0.7*hr {
				return 0.5 // drive slot
			}
			return 1.08
		}
		if x > hx+hr {
			pitch := math.Max(2.2, 0.3*u)
			return 0.82 + 0.18*(0.5+0.5*math.Sin(2*math.Pi*x/pitch)) + 0.15*math.Exp(-y*y/(0.02*u*u))
		}
	case Nut:
		if math.Hypot(x, y) < 0.58*u {
			return 0.78 // threaded bore
		}
	case Washer:
		if r := math.Hypot(x, y); r > 0.9*u {
			return 0.9
		}
	case Cap:
		if math.Abs(math.Hypot(x, y)-0.5*u) < math.Max(0.5, 0.06*u) {
			return 0.7 // moulded groove
		}
	case Block:
		if sdRoundBox(x, y, 0.85*u, 0.85*u, 0.22*u) < -0.25*u {
			return 1.06 // flat top face
		}
	}
	return 1
}
