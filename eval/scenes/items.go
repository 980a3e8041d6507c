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
)

// spec is the appearance of an object type. Sizes are in units u (1/16 of
// the image side), so scenes look the same at every resolution.
type spec struct {
	color  rgb
	radius float64 // bounding radius, units
	finish finish
}

// specs: distinct hues and sizes so that a classical colour, gradient and
// texture feature can tell the types apart, as real part families differ.
var specs = map[string]spec{
	Nut:        {rgb{0.80, 0.63, 0.24}, 1.10, metal},  // brass hex nut
	Washer:     {rgb{0.56, 0.58, 0.62}, 1.05, metal},  // steel washer
	LongScrew:  {rgb{0.34, 0.45, 0.72}, 1.95, metal},  // blue-zinc screw
	ShortScrew: {rgb{0.16, 0.16, 0.18}, 1.15, metal},  // black-oxide screw
	Block:      {rgb{0.20, 0.62, 0.26}, 1.20, matte},  // green rubber block
	Cap:        {rgb{0.96, 0.50, 0.10}, 0.78, matte},  // orange cap
	Ball:       {rgb{0.16, 0.30, 0.82}, 0.58, sphere}, // blue ball
	Bar:        {rgb{0.95, 0.80, 0.16}, 1.66, matte},  // yellow bar
}

// notch is a circular bite out of an object (a dent), in local pixels.
type notch struct{ x, y, r float64 }

// item is one placed object: type, centre in pixels, rotation in radians.
type item struct {
	typ    string
	cx, cy float64
	ang    float64
	notch  *notch
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

func (it item) sdf(px, py, u float64) float64 {
	x, y := it.local(px, py)
	d := baseSDF(it.typ, x, y, u)
	if it.notch != nil {
		d = math.Max(d, it.notch.r-math.Hypot(x-it.notch.x, y-it.notch.y))
	}
	return d
}

func (it item) bound(u float64) float64 { return specs[it.typ].radius * u }

func (it item) coverage(w, h int, u float64) mask {
	return rasterize(w, h, it.cx, it.cy, it.bound(u), func(x, y float64) float64 { return it.sdf(x, y, u) })
}

// light is the direction towards the key light (up-left), image coordinates.
var lightX, lightY = -0.6, -0.8

// paint draws the object with its shading over the canvas where m covers it.
func (it item) paint(c *canvas, m mask, u float64, grain *valueNoise) {
	sp := specs[it.typ]
	rb := it.bound(u)
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
			case sphere:
				r := 0.55 * u
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
			f *= texture(it.typ, lx, ly, u)
			if it.notch != nil {
				// Deformed metal around a dent catches less light.
				if dn := math.Hypot(lx-it.notch.x, ly-it.notch.y) - it.notch.r; dn < 0.12*u+1.2 {
					f *= 0.62
				}
			}
			f *= 1 + 0.06*float64(grain.at(px, py))
			col := sp.color
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
