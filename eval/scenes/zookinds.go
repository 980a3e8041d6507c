package scenes

import (
	"fmt"
	"math"
	"slices"
)

// The zoo's part types. Sizes are in units (1/16 of the image side).
const (
	Orange     = "orange"
	Nectarine  = "nectarine"
	Granola    = "granola"
	BananaChip = "banana_chip"

	JuiceOrange = "juice_orange"
	JuiceCherry = "juice_cherry"
	JuiceBanana = "juice_banana"
	Label       = "label"
	IconOrange  = "icon_orange"
	IconCherry  = "icon_cherry"
	IconBanana  = "icon_banana"
	Band        = "label_band"

	Pin = "pin"

	BoltLong  = "bolt_long"
	BoltShort = "bolt_short"
	HexNut    = "hex_nut"

	Conn2       = "connector_2"
	Conn3       = "connector_3"
	Conn5       = "connector_5"
	CableYellow = "cable_yellow"
	CableBlue   = "cable_blue"
	CableRed    = "cable_red"

	TabRound = "tablet_round"
	Capsule  = "capsule"
	TabOval  = "tablet_oval"

	IC        = "ic"
	ICSmall   = "ic_small"
	Resistor  = "resistor"
	Capacitor = "capacitor"
	LED       = "led"

	WireRed    = "wire_red"
	WireBlack  = "wire_black"
	WireYellow = "wire_yellow"
	WireGreen  = "wire_green"
	WireBlue   = "wire_blue"
	Housing    = "housing"

	LBracket = "l_bracket"
	FlatBar  = "flat_bar"
)

func noTex(*item, float64, float64, float64) (float64, rgb, float64) { return 1, rgb{}, 0 }

func init() {
	u := func(v float64) float64 { return v } // documents units
	_ = u
	// breakfast_box
	specs[Orange] = spec{color: rgb{0.95, 0.52, 0.08}, radius: 1.05, finish: sphere,
		sdf: func(it *item, x, y, u float64) float64 { return sdCircle(x, y, 1.0*u) },
		tex: func(it *item, x, y, u float64) (float64, rgb, float64) {
			f := 1 + 0.08*hnoise(x/(0.09*u), y/(0.09*u)) // dimpled peel
			if math.Hypot(x-0.15*u, y+0.1*u) < 0.1*u {
				return 0.6, rgb{0.3, 0.35, 0.1}, 1 // stem scar
			}
			return f, rgb{}, 0
		}}
	specs[Nectarine] = spec{color: rgb{0.78, 0.16, 0.12}, radius: 0.95, finish: sphere,
		sdf: func(it *item, x, y, u float64) float64 { return sdCircle(x, y, 0.9*u) },
		tex: func(it *item, x, y, u float64) (float64, rgb, float64) {
			b := clamp01(0.5 + 0.9*hnoise(x/(0.5*u)+3, y/(0.5*u)))
			return 1, rgb{0.95, 0.7, 0.2}, 0.55 * b // yellow blush
		}}
	specs[Granola] = spec{color: rgb{0.72, 0.55, 0.32}, radius: 2.35, finish: matte,
		sdf: func(it *item, x, y, u float64) float64 {
			a := math.Atan2(y, x)
			return math.Hypot(x, y) - 2.05*u*(1+0.07*math.Sin(3*a+1)+0.05*math.Sin(7*a+2))
		},
		tex: func(it *item, x, y, u float64) (float64, rgb, float64) {
			n := hnoise(x/(0.22*u), y/(0.22*u))
			m := hnoise(x/(0.5*u)+9, y/(0.5*u))
			return 0.85 + 0.3*n, rgb{0.45, 0.3, 0.15}, clamp01(0.4 * (m + 0.3)) // clusters and oats
		}}
	specs[BananaChip] = spec{color: rgb{0.94, 0.85, 0.58}, radius: 0.6, finish: matte,
		sdf: func(it *item, x, y, u float64) float64 { return sdCircle(x, y, 0.55*u) },
		tex: func(it *item, x, y, u float64) (float64, rgb, float64) {
			if r := math.Hypot(x, y); r < 0.22*u && hnoise(x/(0.06*u), y/(0.06*u)) > 0.3 {
				return 0.8, rgb{0.5, 0.35, 0.2}, 0.6 // seeds
			}
			return 1 + 0.06*hnoise(x/(0.1*u), y/(0.1*u)), rgb{}, 0
		}}

	// juice_bottle: the liquid's floor is 4.25 units below its centre;
	// aux is the height of its surface above the centre, in pixels.
	liquid := func(c rgb) spec {
		return spec{color: c, radius: 5.2, finish: flat,
			sdf: func(it *item, x, y, u float64) float64 {
				return sdRoundBox(x, y-(4.25*u-it.aux)/2, 2.35*u, (4.25*u+it.aux)/2, 0.5*u)
			},
			tex: func(it *item, x, y, u float64) (float64, rgb, float64) {
				if y < -it.aux+0.25*u {
					return 1.2, rgb{1, 1, 1}, 0.25 // meniscus
				}
				return 0.85 + 0.2*clamp01(1-math.Abs(x)/(2.35*u)) + 0.04*hnoise(x/(0.3*u), y/(0.3*u)), rgb{}, 0
			}}
	}
	specs[JuiceOrange] = liquid(rgb{0.98, 0.6, 0.12})
	specs[JuiceCherry] = liquid(rgb{0.5, 0.05, 0.1})
	specs[JuiceBanana] = liquid(rgb{0.95, 0.9, 0.62})
	specs[Label] = spec{color: rgb{0.96, 0.95, 0.9}, radius: 2.8, finish: flat,
		sdf: func(it *item, x, y, u float64) float64 { return sdRoundBox(x, y, 2.2*u, 1.55*u, 0.2*u) },
		tex: func(it *item, x, y, u float64) (float64, rgb, float64) {
			if d := sdRoundBox(x, y, 2.2*u, 1.55*u, 0.2*u); d > -0.18*u && d < -0.08*u {
				return 1, rgb{0.1, 0.4, 0.2}, 1 // border
			}
			if y > 0.75*u && y < 1.25*u && math.Abs(x) < 1.6*u && math.Mod(x+2*u, 0.3*u) < 0.2*u && (y < 0.9*u || y > 1.1*u) {
				return 1, rgb{0.2, 0.2, 0.2}, 0.9 // text
			}
			return 1, rgb{}, 0
		}}
	icon := func(c rgb, sdf func(x, y, u float64) float64) spec {
		return spec{color: c, radius: 0.9, finish: flat,
			sdf: func(it *item, x, y, u float64) float64 { return sdf(x, y, u) },
			tex: func(it *item, x, y, u float64) (float64, rgb, float64) {
				return 1 - 0.25*clamp01(-sdf(x, y, u)/(0.3*u)), rgb{}, 0
			}}
	}
	specs[IconOrange] = icon(rgb{0.95, 0.5, 0.05}, func(x, y, u float64) float64 {
		return math.Min(sdCircle(x, y+0.05*u, 0.6*u), sdRoundBox(x-0.25*u, y+0.7*u, 0.25*u, 0.1*u, 0.08*u))
	})
	specs[IconCherry] = icon(rgb{0.75, 0.05, 0.12}, func(x, y, u float64) float64 {
		c := math.Min(sdCircle(x+0.35*u, y-0.3*u, 0.35*u), sdCircle(x-0.35*u, y-0.3*u, 0.35*u))
		return math.Min(c, math.Min(sdSegment(x, y, -0.3*u, 0, 0.1*u, -0.75*u, 0.05*u), sdSegment(x, y, 0.3*u, 0, 0.1*u, -0.75*u, 0.05*u)))
	})
	specs[IconBanana] = icon(rgb{0.95, 0.85, 0.1}, func(x, y, u float64) float64 {
		return math.Max(sdCircle(x, y+0.35*u, 0.8*u), -sdCircle(x, y+0.75*u, 0.75*u))
	})
	specs[Band] = spec{color: rgb{0.96, 0.95, 0.9}, radius: 2.4, finish: flat,
		sdf: func(it *item, x, y, u float64) float64 { return sdRoundBox(x, y, 2.2*u, 0.42*u, 0.1*u) },
		tex: func(it *item, x, y, u float64) (float64, rgb, float64) {
			if math.Abs(y) < 0.12*u && math.Abs(x) < 1.3*u && math.Mod(x+2*u, 0.25*u) < 0.17*u {
				return 1, rgb{0.1, 0.2, 0.6}, 1
			}
			return 1, rgb{}, 0
		}}

	// pushpins: head centred at -0.45u, needle along +x.
	specs[Pin] = spec{color: rgb{0.95, 0.8, 0.12}, radius: 1.1, finish: matte, long: true,
		sdf: func(it *item, x, y, u float64) float64 {
			head := sdCircle(x+0.45*u, y, 0.52*u)
			collar := sdRoundBox(x-0.12*u, y, 0.12*u, 0.2*u, 0.05*u)
			needle := sdSegment(x, y, 0.2*u, 0, 1.05*u, 0, 0.075*u*(1.2-0.6*clamp01((x-0.2*u)/(0.85*u))))
			return math.Min(math.Min(head, collar), needle)
		},
		tex: func(it *item, x, y, u float64) (float64, rgb, float64) {
			if x > 0.2*u {
				return 1.1, rgb{0.75, 0.76, 0.8}, 1 // steel needle
			}
			if x > -0.02*u {
				return 0.9, rgb{}, 0
			}
			if math.Hypot(x+0.62*u, y+0.18*u) < 0.13*u {
				return 1.35, rgb{1, 1, 1}, 0.5 // highlight
			}
			return 1, rgb{}, 0
		}}

	// screw_bag: bolts' aux is their length in units (0: the type's).
	bolt := func(l float64) spec {
		return spec{color: rgb{0.74, 0.76, 0.8}, radius: l/2 + 0.1, finish: metal, long: true,
			sdf: func(it *item, x, y, u float64) float64 {
				ll := l
				if it.aux > 0 {
					ll = it.aux
				}
				hx := -ll/2*u + 0.42*u
				head := sdHexagon(x-hx, y, 0.42*u)
				shaft := sdRoundBox(x-(hx+ll/2*u)/2-0.2*u, y, (ll/2*u-hx)/2+0.2*u, 0.2*u, 0.08*u)
				return math.Min(head, shaft)
			},
			tex: func(it *item, x, y, u float64) (float64, rgb, float64) {
				ll := l
				if it.aux > 0 {
					ll = it.aux
				}
				if x > -ll/2*u+0.9*u {
					return 0.82 + 0.2*(0.5+0.5*math.Sin(2*math.Pi*x/math.Max(2, 0.22*u))), rgb{}, 0 // thread
				}
				return 1.05, rgb{}, 0
			}}
	}
	specs[BoltLong] = bolt(3.6)
	specs[BoltShort] = bolt(2.4)
	specs[HexNut] = spec{color: rgb{0.74, 0.75, 0.78}, radius: 0.85, finish: metal,
		sdf: func(it *item, x, y, u float64) float64 {
			return math.Max(sdHexagon(x, y, 0.72*u), 0.33*u-math.Hypot(x, y))
		},
		tex: func(it *item, x, y, u float64) (float64, rgb, float64) {
			if math.Hypot(x, y) < 0.45*u {
				return 0.75, rgb{}, 0
			}
			return 1, rgb{}, 0
		}}

	// splicing_connectors: aux is the pole count; the body is vertical,
	// levers on the outer side (-x), cable entries on the inner side (+x).
	conn := func(n float64) spec {
		hy := n*0.5 + 0.3
		return spec{color: rgb{0.85, 0.87, 0.88}, radius: math.Hypot(0.9, hy), finish: matte,
			sdf: func(it *item, x, y, u float64) float64 { return sdRoundBox(x, y, 0.9*u, hy*u, 0.2*u) },
			tex: func(it *item, x, y, u float64) (float64, rgb, float64) {
				k := math.Round(y/u/1.0*2) / 2 // pole rows every 1u
				_ = k
				for p := 0; p < int(n); p++ {
					py := (float64(p) - (n-1)/2) * u
					if x < -0.1*u && math.Abs(y-py) < 0.36*u && x > -0.8*u {
						return 1, rgb{0.95, 0.5, 0.08}, 1 // lever
					}
					if math.Hypot(x-0.45*u, y-py) < 0.2*u {
						return 0.5, rgb{0.25, 0.25, 0.28}, 1 // entry
					}
				}
				return 1, rgb{}, 0
			}}
	}
	specs[Conn2], specs[Conn3], specs[Conn5] = conn(2), conn(3), conn(5)
	cable := func(c rgb) spec {
		return spec{color: c, radius: 5, finish: matte, long: true,
			sdf: func(it *item, x, y, u float64) float64 { return sdPoly(it.poly, x, y, 0.24*u) },
			tex: func(it *item, x, y, u float64) (float64, rgb, float64) {
				d := sdPoly(it.poly, x, y, 0) / (0.24 * u)
				return 0.75 + 0.45*clamp01(1-d*d), rgb{}, 0
			}}
	}
	specs[CableYellow], specs[CableBlue], specs[CableRed] = cable(rgb{0.95, 0.82, 0.1}), cable(rgb{0.12, 0.32, 0.85}), cable(rgb{0.85, 0.1, 0.1})

	// blister tablets
	specs[TabRound] = spec{color: rgb{0.95, 0.95, 0.93}, radius: 0.8, finish: matte,
		sdf: func(it *item, x, y, u float64) float64 { return sdCircle(x, y, 0.75*u) },
		tex: func(it *item, x, y, u float64) (float64, rgb, float64) {
			if math.Abs(x) < 0.04*u+0.5 && math.Abs(y) < 0.55*u {
				return 0.82, rgb{}, 0 // score line
			}
			return 1, rgb{}, 0
		}}
	specs[Capsule] = spec{color: rgb{0.95, 0.82, 0.15}, radius: 1.1, finish: matte,
		sdf: func(it *item, x, y, u float64) float64 { return sdRoundBox(x, y, 1.05*u, 0.45*u, 0.44*u) },
		tex: func(it *item, x, y, u float64) (float64, rgb, float64) {
			if x < 0 {
				return 1, rgb{0.8, 0.12, 0.12}, 1
			}
			return 1, rgb{}, 0
		}}
	specs[TabOval] = spec{color: rgb{0.92, 0.6, 0.66}, radius: 1.0, finish: matte,
		sdf: func(it *item, x, y, u float64) float64 { return sdRoundBox(x, y, 0.9*u, 0.55*u, 0.5*u) },
		tex: noTex}

	// pcb components
	ic := func(hx, hy float64, legs int) spec {
		return spec{color: rgb{0.1, 0.1, 0.11}, radius: math.Hypot(hx, hy+0.35) + 0.05, finish: matte,
			sdf: func(it *item, x, y, u float64) float64 {
				d := sdRoundBox(x, y, hx*u, hy*u, 0.08*u)
				for l := 0; l < legs; l++ {
					lx := (float64(l) - float64(legs-1)/2) * (2*hx - 0.5) / float64(max(1, legs-1)) * u
					d = math.Min(d, sdRoundBox(x-lx, math.Abs(y)-(hy+0.17)*u, 0.12*u, 0.18*u, 0.03*u))
				}
				return d
			},
			tex: func(it *item, x, y, u float64) (float64, rgb, float64) {
				if math.Abs(y) > hy*u {
					return 1.2, rgb{0.78, 0.78, 0.8}, 1 // tinned legs
				}
				if math.Hypot(x+(hx-0.35)*u, y+(hy-0.3)*u) < 0.14*u {
					return 1, rgb{0.45, 0.45, 0.47}, 1 // pin-1 mark
				}
				return 1 + 0.05*hnoise(x/(0.15*u), y/(0.15*u)), rgb{}, 0
			}}
	}
	specs[IC] = ic(1.5, 0.9, 4)
	specs[ICSmall] = ic(0.95, 0.6, 3)
	bands := [][3]rgb{{{0.45, 0.25, 0.1}, {0.1, 0.1, 0.1}, {0.85, 0.1, 0.1}}, {{0.95, 0.85, 0.1}, {0.55, 0.2, 0.65}, {0.95, 0.5, 0.05}}, {{0.85, 0.1, 0.1}, {0.85, 0.1, 0.1}, {0.45, 0.25, 0.1}}}
	specs[Resistor] = spec{color: rgb{0.85, 0.74, 0.55}, radius: 1.3, finish: matte,
		sdf: func(it *item, x, y, u float64) float64 {
			return math.Min(sdRoundBox(x, y, 0.75*u, 0.3*u, 0.15*u), sdSegment(x, y, -1.25*u, 0, 1.25*u, 0, 0.07*u))
		},
		tex: func(it *item, x, y, u float64) (float64, rgb, float64) {
			if math.Abs(x) > 0.75*u {
				return 1.2, rgb{0.78, 0.78, 0.8}, 1
			}
			b := bands[int(it.aux)%len(bands)]
			for k, bx := range []float64{-0.4, -0.12, 0.16} {
				if math.Abs(x-bx*u) < 0.08*u {
					return 1, b[k], 1
				}
			}
			return 1, rgb{}, 0
		}}
	specs[Capacitor] = spec{color: rgb{0.12, 0.18, 0.45}, radius: 0.8, finish: matte,
		sdf: func(it *item, x, y, u float64) float64 { return sdCircle(x, y, 0.75*u) },
		tex: func(it *item, x, y, u float64) (float64, rgb, float64) {
			if x > 0.42*u {
				return 1, rgb{0.8, 0.82, 0.85}, 1 // polarity stripe
			}
			if (math.Abs(x) < 0.04*u+0.5 || math.Abs(y) < 0.04*u+0.5) && math.Hypot(x, y) < 0.4*u {
				return 1.6, rgb{}, 0 // vent cross
			}
			return 1, rgb{}, 0
		}}
	specs[LED] = spec{color: rgb{0.88, 0.1, 0.08}, radius: 0.45, finish: sphere,
		sdf: func(it *item, x, y, u float64) float64 { return sdCircle(x, y, 0.42*u) }, tex: noTex}

	// harness
	wire := func(c rgb) spec {
		return spec{color: c, radius: 5, finish: matte, long: true,
			sdf: func(it *item, x, y, u float64) float64 { return sdPoly(it.poly, x, y, 0.22*u) },
			tex: func(it *item, x, y, u float64) (float64, rgb, float64) {
				d := sdPoly(it.poly, x, y, 0) / (0.22 * u)
				return 0.72 + 0.5*clamp01(1-d*d), rgb{}, 0
			}}
	}
	specs[WireRed], specs[WireBlack], specs[WireYellow] = wire(rgb{0.85, 0.1, 0.1}), wire(rgb{0.13, 0.13, 0.14}), wire(rgb{0.95, 0.82, 0.1})
	specs[WireGreen], specs[WireBlue] = wire(rgb{0.1, 0.6, 0.2}), wire(rgb{0.12, 0.3, 0.85})
	specs[Housing] = spec{color: rgb{0.22, 0.22, 0.24}, radius: 3.05, finish: matte,
		sdf: func(it *item, x, y, u float64) float64 { return sdRoundBox(x, y, 0.9*u, 2.9*u, 0.2*u) },
		tex: func(it *item, x, y, u float64) (float64, rgb, float64) {
			for k := -2; k <= 2; k++ {
				if math.Abs(y-float64(k)*1.05*u) < 0.3*u && math.Abs(x) < 0.5*u {
					return 0.6, rgb{}, 0 // cavity
				}
			}
			if math.Abs(x) < 0.12*u && y < -2.3*u {
				return 1, rgb{0.9, 0.9, 0.9}, 0.8 // latch mark
			}
			return 1, rgb{}, 0
		}}

	// bracket: an L with a hole in the long arm; the flat bar lacks the
	// short arm.
	lb := func(short bool) func(it *item, x, y, u float64) float64 {
		return func(it *item, x, y, u float64) float64 {
			d := sdRoundBox(x, y+0.45*u, 1.45*u, 0.38*u, 0.1*u)
			if short {
				d = math.Min(d, sdRoundBox(x+1.07*u, y-0.35*u, 0.38*u, 0.95*u, 0.1*u))
			}
			return math.Max(d, 0.2*u-math.Hypot(x-0.75*u, y+0.45*u))
		}
	}
	brTex := func(it *item, x, y, u float64) (float64, rgb, float64) {
		return 1 + 0.06*hnoise(x/(0.8*u), y/(0.05*u)), rgb{}, 0 // brushed
	}
	specs[LBracket] = spec{color: rgb{0.6, 0.63, 0.7}, radius: 1.75, finish: metal, sdf: lb(true), tex: brTex, long: true}
	specs[FlatBar] = spec{color: rgb{0.6, 0.63, 0.7}, radius: 1.6, finish: metal, sdf: lb(false), tex: brTex, long: true}
}

// sdPoly is the distance to a polyline minus half-width hw.
func sdPoly(pts [][2]float64, x, y, hw float64) float64 {
	d := math.Inf(1)
	for i := 0; i+1 < len(pts); i++ {
		d = math.Min(d, sdSegment(x, y, pts[i][0], pts[i][1], pts[i+1][0], pts[i+1][1], hw))
	}
	return d
}

// polyRad is the bounding radius of a polyline part.
func polyRad(pts [][2]float64, hw float64) float64 {
	r := 0.0
	for _, p := range pts {
		r = math.Max(r, math.Hypot(p[0], p[1]))
	}
	return r + hw + 1
}

// bezier samples a quadratic Bezier curve into n segments.
func bezier(a, k, b [2]float64, n int) [][2]float64 {
	out := make([][2]float64, n+1)
	for s := 0; s <= n; s++ {
		t := float64(s) / float64(n)
		for j := range 2 {
			out[s][j] = (1-t)*(1-t)*a[j] + 2*(1-t)*t*k[j] + t*t*b[j]
		}
	}
	return out
}

func typesOf(ps ...string) func(p placed) bool {
	return func(p placed) bool { return slices.Contains(ps, p.typ) }
}

// layoutBreakfast: a white tray with two compartments. Left: 2 oranges
// and 1 nectarine; right: a granola pile of fixed size and 2 banana chips.
func (g *gen) layoutBreakfast() error {
	g.zooInit(0.3, 2)
	g.margin = 0.12
	g.slots = []slot{{x: -3.55, y: 0, hx: 3.2, hy: 4.6, allowed: []string{Orange, Nectarine}},
		{x: 3.55, y: 0, hx: 3.2, hy: 4.6, allowed: []string{Granola, BananaChip}}}
	g.types = []string{Orange, Nectarine, BananaChip}
	g.surface = typesOf(Orange, Nectarine, Granola)
	g.sizeable = typesOf(Granola)
	if err := g.fill(0, Orange, Orange, Nectarine); err != nil {
		return err
	}
	g.put(Granola, 3.55+(g.rng.Float64()*2-1)*0.3, -1.9+(g.rng.Float64()*2-1)*0.3, g.rng.Float64()*2*math.Pi, 1)
	if err := g.fill(1, BananaChip, BananaChip); err != nil {
		return err
	}
	g.paintBG = func(c *canvas) {
		g.table(c, rgb{0.42, 0.3, 0.2}, 6, 1.3)
		tray := func(lx, ly float64) float64 { return sdRoundBox(lx, ly, 7.3*g.u, 5.0*g.u, 0.6*g.u) }
		g.body(c, tray, rgb{0.9, 0.9, 0.87}, 1, func(x, y int, lx, ly, d float64) {
			for _, s := range g.slots {
				g.recess(c, x, y, sdRoundBox(lx-s.x*g.u, ly-s.y*g.u, s.hx*g.u+0.1*g.u, s.hy*g.u+0.1*g.u, 0.5*g.u), rgb{0.84, 0.84, 0.8})
			}
		})
	}
	return nil
}

// layoutBottle: a glass bottle of one of three juices; the label's fruit
// matches the juice, the fill level and the labels' heights are fixed.
func (g *gen) layoutBottle() error {
	g.zooInit(0.25, 1.5)
	g.shadowK = 0.12
	juices := []string{JuiceOrange, JuiceCherry, JuiceBanana}
	icons := []string{IconOrange, IconCherry, IconBanana}
	v := g.rng.IntN(3)
	const top, bottom = -2.4, 6.1 // liquid surface and floor, units
	liq := g.put(juices[v], 0, (top+bottom)/2, 0, -1)
	liq.aux = (bottom - top) / 2 * g.u
	g.put(Label, 0, 1.7, 0, -1)
	g.put(icons[v], (g.rng.Float64()*2-1)*0.1, 1.1+(g.rng.Float64()*2-1)*0.1, 0, -1)
	g.put(Band, 0, 4.7, 0, -1)
	g.surface = typesOf(append(juices, Label)...)
	g.hooks = map[Anomaly]func() error{
		Missing: func() error { // the fruit print, the neck band or the juice
			i := []int{0, 2, 3}[g.rng.IntN(3)]
			p := g.items[i]
			g.defects = append(g.defects, Defect{Missing, g.regionOf(p.item)})
			g.absent = append(g.absent, p)
			g.items = slices.Delete(g.items, i, i+1)
			return nil
		},
		FillLevel: func() error {
			p := g.items[0]
			lvl := top - 1.5
			if g.rng.IntN(2) == 0 {
				lvl = top + 1.3
			}
			it := p.item
			it.aux = ((top+bottom)/2 - lvl) * g.u
			g.defects = append(g.defects, Defect{FillLevel, g.changed(p.item, it)})
			g.absent = append(g.absent, p)
			g.items[0] = placed{item: it, id: p.id, slot: -1, anomalous: true}
			return nil
		},
		WrongCombination: func() error { // the label shows another fruit
			p := g.items[2]
			it := p.item
			it.typ = icons[(v+1+g.rng.IntN(2))%3]
			g.defects = append(g.defects, Defect{WrongCombination, g.regionOf(p.item, it)})
			g.absent = append(g.absent, p)
			g.items[2] = placed{item: it, id: p.id, slot: -1, anomalous: true}
			return nil
		},
		Misplaced: func() error { // the main label stuck too high
			dy := -(2.0 + 0.8*g.rng.Float64())
			var reg []item
			for _, i := range []int{1, 2} {
				p := g.items[i]
				it := p.item
				lx, ly := g.local(it.cx, it.cy)
				it.cx, it.cy = g.world(lx/g.u, ly/g.u+dy)
				reg = append(reg, p.item, it)
				g.absent = append(g.absent, p)
				g.items[i] = placed{item: it, id: p.id, slot: -1, anomalous: true}
			}
			g.defects = append(g.defects, Defect{Misplaced, g.regionOf(reg...)})
			return nil
		},
	}
	g.paintBG = func(c *canvas) {
		g.table(c, rgb{0.78, 0.78, 0.76}, 1, 0.8)
		glass := func(lx, ly float64) float64 {
			u := g.u
			b := sdRoundBox(lx, ly-0.6*u, 2.7*u, 5.8*u, 1.0*u)
			n := sdRoundBox(lx, ly+5.6*u, 1.0*u, 1.6*u, 0.3*u)
			return math.Min(b, n)
		}
		g.body(c, glass, rgb{0.62, 0.7, 0.68}, 0.55, func(x, y int, lx, ly, d float64) {
			// Glass highlights and the cap.
			if s := math.Abs(lx + 1.9*g.u); s < 0.25*g.u && ly > -4*g.u && ly < 5*g.u {
				c.blend(x, y, rgb{1, 1, 1}, float32(0.35*(1-s/(0.25*g.u))))
			}
			if cd := sdRoundBox(lx, ly+7.1*g.u, 1.15*g.u, 0.55*g.u, 0.15*g.u); cd < 0.5 {
				c.blend(x, y, rgb{0.15, 0.35, 0.2}, float32(clamp01(0.5-cd)))
			}
		})
	}
	return nil
}

// layoutPushpins: a 5x3 box of cells, one pin lying in each.
func (g *gen) layoutPushpins() error {
	g.zooInit(0.3, 1.5)
	g.margin = 0.05
	for r := range 3 {
		for c := range 5 {
			g.slots = append(g.slots, slot{x: float64(c-2) * 2.8, y: float64(r-1) * 2.8, hx: 1.25, hy: 1.25, allowed: []string{Pin}})
		}
	}
	g.surface = typesOf(Pin)
	g.forbidden = []rgb{{0.95, 0.85, 0.1}}
	for s := range g.slots {
		if err := g.fill(s, Pin); err != nil {
			return err
		}
	}
	g.hooks = map[Anomaly]func() error{
		Extra: func() error { // a second pin in a cell, touching the first
			sl := g.rng.IntN(len(g.slots))
			var own placed
			for _, p := range g.items {
				if p.slot == sl {
					own = p
				}
			}
			th := g.rng.Float64() * 2 * math.Pi
			it := item{typ: Pin, cx: own.cx + math.Cos(th)*0.55*g.u, cy: own.cy + math.Sin(th)*0.55*g.u, ang: g.rng.Float64() * 2 * math.Pi}
			g.items = append(g.items, placed{item: it, id: -1, slot: sl, anomalous: true})
			g.defects = append(g.defects, Defect{Extra, g.regionOf(it)})
			return nil
		},
	}
	g.paintBG = func(c *canvas) {
		g.table(c, rgb{0.3, 0.32, 0.36}, 1, 1)
		box := func(lx, ly float64) float64 { return sdRoundBox(lx, ly, 7.3*g.u, 4.4*g.u, 0.4*g.u) }
		g.body(c, box, rgb{0.78, 0.8, 0.82}, 1, func(x, y int, lx, ly, d float64) {
			for _, s := range g.slots {
				g.recess(c, x, y, sdRoundBox(lx-s.x*g.u, ly-s.y*g.u, 1.28*g.u, 1.28*g.u, 0.2*g.u), rgb{0.7, 0.72, 0.75})
			}
		})
	}
	return nil
}

// layoutScrewBag: a bag of 2 long bolts, 1 short bolt, 2 nuts and 2
// washers, all steel, anywhere; parts may touch.
func (g *gen) layoutScrewBag() error {
	g.zooInit(0.25, 2)
	g.margin = -0.45
	all := []string{BoltLong, BoltShort, HexNut, Washer}
	g.slots = []slot{{x: 0, y: 0, hx: 6.2, hy: 6.2, allowed: all}}
	g.types = all
	g.sizeable = typesOf(BoltLong, BoltShort)
	if err := g.fill(0, BoltLong, BoltLong, BoltShort, HexNut, HexNut, Washer, Washer); err != nil {
		return err
	}
	g.hooks = map[Anomaly]func() error{
		WrongSize: func() error { // a bolt of a length the bag never holds
			for _, i := range g.rng.Perm(len(g.items)) {
				p := g.items[i]
				if !g.sizeable(p) {
					continue
				}
				it := p.item
				it.aux = []float64{3.0, 4.5}[g.rng.IntN(2)]
				it.rad = (it.aux/2 + 0.1) * g.u
				if !g.fits(it, 0, i) {
					continue
				}
				g.defects = append(g.defects, Defect{WrongSize, g.regionOf(p.item, it)})
				g.absent = append(g.absent, p)
				g.items[i] = placed{item: it, id: p.id, slot: 0, anomalous: true}
				return nil
			}
			return fmt.Errorf("no bolt can change its length")
		},
	}
	g.paintBG = func(c *canvas) {
		g.table(c, rgb{0.2, 0.22, 0.27}, 1, 1.2) // a dark mat: steel on it stands out, as a station is lit
		wr := newValueNoise(g.rr, g.w, g.h, 2*g.u)
		bag := func(lx, ly float64) float64 { return sdRoundBox(lx, ly, 6.9*g.u, 6.9*g.u, 0.8*g.u) }
		g.body(c, bag, rgb{0.86, 0.88, 0.92}, 0.15, func(x, y int, lx, ly, d float64) {
			if w := float64(wr.at(float64(x), float64(y))); w > 0.5 {
				c.blend(x, y, rgb{1, 1, 1}, float32(0.35*(w-0.5)))
			}
		})
	}
	return nil
}

// layoutConnectors: two connectors of one size (2, 3 or 5 poles) joined
// by a cable whose colour goes with the size, at the same pole on both.
func (g *gen) layoutConnectors() error {
	g.zooInit(0.3, 2)
	conns := []string{Conn2, Conn3, Conn5}
	cables := []string{CableYellow, CableBlue, CableRed}
	poles := []int{2, 3, 5}
	v := g.rng.IntN(3)
	n := poles[v]
	k := g.rng.IntN(n)
	sag := (0.8 + 1.6*g.rng.Float64()) * float64(1-2*g.rng.IntN(2))
	pole := func(p, n int) float64 { return (float64(p) - float64(n-1)/2) * 1.0 }
	mkCable := func(typ string, kl, kr int) item {
		a := [2]float64{-3.6 * g.u, pole(kl, n) * g.u}
		b := [2]float64{3.6 * g.u, pole(kr, n) * g.u}
		m := [2]float64{0, (a[1]+b[1])/2 + sag*g.u}
		it := item{typ: typ, cx: g.pose.cx, cy: g.pose.cy, ang: g.pose.ang, poly: bezier(a, m, b, 14)}
		it.rad = polyRad(it.poly, 0.24*g.u)
		it.aux = float64(kr - (n - 1 - kl)) // 0: the same pole on both connectors
		return it
	}
	g.items = append(g.items, placed{item: mkCable(cables[v], k, n-1-k), id: 0, slot: -1})
	g.put(conns[v], -4.3, (g.rng.Float64()*2-1)*0.2, (g.rng.Float64()*2-1)*0.05, -1)
	g.put(conns[v], 4.3, (g.rng.Float64()*2-1)*0.2, math.Pi+(g.rng.Float64()*2-1)*0.05, -1)
	g.surface = typesOf(conns...)
	g.hooks = map[Anomaly]func() error{
		WrongSize: func() error { // one connector of another size
			i := 1 + g.rng.IntN(2)
			p := g.items[i]
			it := p.item
			it.typ = conns[(v+1+g.rng.IntN(2))%3]
			g.defects = append(g.defects, Defect{WrongSize, g.regionOf(p.item, it)})
			g.absent = append(g.absent, p)
			g.items[i] = placed{item: it, id: p.id, slot: -1, anomalous: true}
			return nil
		},
		WrongCombination: func() error { // a cable colour of another size
			p := g.items[0]
			it := p.item
			it.typ = cables[(v+1+g.rng.IntN(2))%3]
			g.defects = append(g.defects, Defect{WrongCombination, g.regionOf(it)})
			g.absent = append(g.absent, p)
			g.items[0] = placed{item: it, id: p.id, slot: -1, anomalous: true}
			return nil
		},
		Misplaced: func() error { // the cable ends at another pole on the right
			p := g.items[0]
			kr := (n - 1 - k + 1 + g.rng.IntN(n-1)) % n
			it := mkCable(p.typ, k, kr)
			g.defects = append(g.defects, Defect{Misplaced, g.changed(p.item, it)})
			g.absent = append(g.absent, p)
			g.items[0] = placed{item: it, id: p.id, slot: -1, anomalous: true}
			return nil
		},
	}
	g.paintBG = func(c *canvas) {
		g.table(c, rgb{0.24, 0.3, 0.34}, 1, 1.4)
	}
	return nil
}

// layoutBlister: a 4x2 blister card, each cavity with its own tablet type.
func (g *gen) layoutBlister() error {
	g.zooInit(0.3, 1.5)
	rule := []string{TabRound, Capsule, TabOval, TabRound, Capsule, TabOval, TabRound, Capsule}
	for s, typ := range rule {
		g.slots = append(g.slots, slot{x: (float64(s%4) - 1.5) * 3.2, y: (float64(s/4) - 0.5) * 4.0, hx: 1.4, hy: 1.55, allowed: []string{typ}})
	}
	g.types = []string{TabRound, Capsule, TabOval}
	g.surface = func(placed) bool { return true }
	for s, typ := range rule {
		sl := g.slots[s]
		ang := math.Pi/2 + (g.rng.Float64()*2-1)*0.15
		if typ == TabRound {
			ang = g.rng.Float64() * 2 * math.Pi
		}
		g.put(typ, sl.x+(g.rng.Float64()*2-1)*0.12, sl.y+(g.rng.Float64()*2-1)*0.12, ang, s)
	}
	g.paintBG = func(c *canvas) {
		g.table(c, rgb{0.36, 0.42, 0.5}, 1, 1)
		card := func(lx, ly float64) float64 { return sdRoundBox(lx, ly, 7.0*g.u, 4.4*g.u, 0.5*g.u) }
		brushed := newValueNoise(g.rr, g.w, g.h, 0.9)
		g.body(c, card, rgb{0.76, 0.77, 0.79}, 1, func(x, y int, lx, ly, d float64) {
			c.scale(x, y, 1+0.05*brushed.at(lx*0.1+200, ly+200))
			for _, s := range g.slots {
				bd := sdRoundBox(lx-s.x*g.u, ly-s.y*g.u, 1.35*g.u, 1.5*g.u, 0.9*g.u)
				if a := clamp01(0.5 - bd); a > 0 {
					c.blend(x, y, rgb{0.62, 0.66, 0.7}, float32(0.6*a))
					if bd > -0.25*g.u {
						c.blend(x, y, rgb{1, 1, 1}, float32(0.4*a))
					}
				}
			}
		})
	}
	return nil
}

// layoutPCB: a board with components at fixed places and orientations.
func (g *gen) layoutPCB() error {
	g.zooInit(0.3, 1.5)
	g.margin = 0.05
	j := func() float64 { return (g.rng.Float64()*2 - 1) * 0.08 }
	g.put(IC, -2.6+j(), -2.2+j(), j()*0.3, -1)
	g.put(ICSmall, 3.4+j(), -2.6+j(), j()*0.3, -1)
	for k, x := range []float64{-4.5, -1.5, 1.5, 4.5} {
		p := g.put(Resistor, x+j(), 1.5+j(), j()*0.3, -1)
		p.aux = float64([]int{0, 1, 2, 0}[k])
	}
	g.put(Capacitor, -5.6+j(), -2.2+j(), j(), -1)
	g.put(Capacitor, 5.9+j(), -2.6+j(), j(), -1)
	g.put(LED, 0.5+j(), -2.3+j(), 0, -1)
	g.types = []string{Resistor, Capacitor, LED, ICSmall}
	g.surface = typesOf(IC, ICSmall, Capacitor, Resistor)
	g.colourable = typesOf(Resistor, Capacitor, LED)
	g.hooks = map[Anomaly]func() error{
		Rotated: func() error { // a polarised part turned half round
			i, ok := g.pick(typesOf(IC, ICSmall, Capacitor))
			if !ok {
				return fmt.Errorf("no polarised part")
			}
			p := g.items[i]
			it := p.item
			it.ang += math.Pi
			g.defects = append(g.defects, Defect{Rotated, g.regionOf(p.item, it)})
			g.absent = append(g.absent, p)
			g.items[i] = placed{item: it, id: p.id, slot: -1, anomalous: true}
			return nil
		},
	}
	g.paintBG = func(c *canvas) {
		g.table(c, rgb{0.55, 0.55, 0.58}, 1, 1)
		board := func(lx, ly float64) float64 { return sdRoundBox(lx, ly, 7.3*g.u, 5.4*g.u, 0.3*g.u) }
		g.body(c, board, rgb{0.1, 0.4, 0.2}, 1, func(x, y int, lx, ly, d float64) {
			u := g.u
			tx, ty := lx/u, ly/u
			// Traces, pads, a header and mounting holes.
			if (math.Abs(math.Mod(ty+20, 1.3)-0.65) < 0.06 && math.Abs(tx) < 6.5 && ty > -0.4 && ty < 5) || (math.Abs(math.Mod(tx+20, 1.5)-0.75) < 0.06 && ty > -5 && ty < -0.7) {
				c.blend(x, y, rgb{0.2, 0.55, 0.28}, 0.8)
			}
			if ty > 3.6 && ty < 4.6 && math.Abs(tx) < 5 && math.Hypot(math.Mod(tx+20, 1.0)-0.5, ty-4.1) < 0.3 {
				c.blend(x, y, rgb{0.85, 0.7, 0.35}, 0.95)
			}
			for _, h := range [][2]float64{{-6.6, -4.7}, {6.6, -4.7}, {-6.6, 4.7}, {6.6, 4.7}} {
				if r := math.Hypot(tx-h[0], ty-h[1]); r < 0.4 {
					c.blend(x, y, rgb{0.85, 0.7, 0.35}, 1)
					if r < 0.22 {
						c.set(x, y, rgb{0.08, 0.08, 0.08})
					}
				}
			}
		})
	}
	return nil
}

// layoutHarness: five wires red, black, yellow, green, blue in this order
// between two housings.
func (g *gen) layoutHarness() error {
	g.zooInit(0.3, 2)
	wires := []string{WireRed, WireBlack, WireYellow, WireGreen, WireBlue}
	bow := (g.rng.Float64()*2 - 1) * 0.8
	for k, typ := range wires {
		y := (float64(k) - 2) * 1.05
		var pts [][2]float64
		for s := 0; s <= 12; s++ {
			t := float64(s) / 12
			x := -5.0 + 10*t
			w := (y + bow*math.Sin(math.Pi*t) + 0.12*math.Sin(2*math.Pi*t*2+float64(k))) * g.u
			if s == 0 || s == 12 {
				w = y * g.u
			}
			pts = append(pts, [2]float64{x * g.u, w})
		}
		it := item{typ: typ, cx: g.pose.cx, cy: g.pose.cy, ang: g.pose.ang, poly: pts}
		it.rad = polyRad(pts, 0.22*g.u)
		g.items = append(g.items, placed{item: it, id: k, slot: -1})
	}
	g.put(Housing, -5.6, 0, (g.rng.Float64()*2-1)*0.03, -1)
	g.put(Housing, 5.6, 0, (g.rng.Float64()*2-1)*0.03, -1)
	g.types = wires
	g.margin = -100 // wires lie side by side; swapping colours needs no room
	g.colourable = typesOf(wires...)
	g.forbidden = []rgb{{0.85, 0.12, 0.1}, {0.15, 0.65, 0.2}, {0.15, 0.3, 0.85}, {0.1, 0.1, 0.1}, {0.95, 0.85, 0.1}}
	g.surface = typesOf(append(wires, Housing)...)
	g.paintBG = func(c *canvas) {
		g.table(c, rgb{0.7, 0.68, 0.62}, 5, 1.2)
	}
	return nil
}

// layoutBracket: a 3x2 tray of nests, each with an L-bracket in one
// fixed orientation.
func (g *gen) layoutBracket() error {
	g.zooInit(0.3, 1.5)
	g.margin = 0.05
	for r := range 2 {
		for c := range 3 {
			g.slots = append(g.slots, slot{x: float64(c-1) * 4.6, y: float64(r)*4.6 - 2.3, hx: 2.1, hy: 2.1, allowed: []string{LBracket}})
		}
	}
	g.types = []string{LBracket, FlatBar}
	g.fixedAngle = map[string]float64{LBracket: 0, FlatBar: 0}
	for s, sl := range g.slots {
		g.put(LBracket, sl.x+(g.rng.Float64()*2-1)*0.15, sl.y+(g.rng.Float64()*2-1)*0.15, (g.rng.Float64()*2-1)*0.06, s)
	}
	g.hooks = map[Anomaly]func() error{
		Rotated: func() error { // one bracket turned half round
			i := g.rng.IntN(len(g.items))
			p := g.items[i]
			it := p.item
			it.ang += math.Pi
			g.defects = append(g.defects, Defect{Rotated, g.regionOf(p.item, it)})
			g.absent = append(g.absent, p)
			g.items[i] = placed{item: it, id: p.id, slot: p.slot, anomalous: true}
			return nil
		},
	}
	g.paintBG = func(c *canvas) {
		g.table(c, rgb{0.35, 0.3, 0.26}, 6, 1.2)
		tray := func(lx, ly float64) float64 { return sdRoundBox(lx, ly, 7.3*g.u, 5.0*g.u, 0.4*g.u) }
		g.body(c, tray, rgb{0.3, 0.32, 0.35}, 1, func(x, y int, lx, ly, d float64) {
			for _, s := range g.slots {
				g.recess(c, x, y, sdRoundBox(lx-s.x*g.u, ly-s.y*g.u, 2.1*g.u, 2.1*g.u, 0.3*g.u), rgb{0.22, 0.23, 0.26})
			}
		})
	}
	return nil
}
