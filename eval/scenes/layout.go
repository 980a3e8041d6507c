package scenes

import (
	"fmt"
	"math"
	"slices"
)

// bagContents is the fixed count rule of a bag, in canonical ID order.
var bagContents = []string{Nut, Nut, Washer, Washer, LongScrew, ShortScrew}

// boxRules: compartment i (reading order) holds boxRules[i].n items of type
// boxRules[i].typ.
var boxRules = []struct {
	typ string
	n   int
}{{Block, 1}, {Cap, 2}, {Ball, 3}, {Bar, 1}}

// overlaps reports whether it comes within margin of any item not in skip.
func (g *gen) overlaps(it item, margin float64, skip []int) bool {
	b := it.bound(g.u)
	for j, q := range g.items {
		if !slices.Contains(skip, j) && math.Hypot(it.cx-q.cx, it.cy-q.cy) < b+q.bound(g.u)+margin {
			return true
		}
	}
	return false
}

// layoutBag places the fasteners at random, non-overlapping poses inside a
// plastic bag lying on a table.
func (g *gen) layoutBag() error {
	u := g.u
	bx := float64(g.w)/2 + (g.rng.Float64()*2-1)*0.25*u
	by := float64(g.h)/2 + (g.rng.Float64()*2-1)*0.25*u
	half := 6.8 * u
	inner := half - 0.3*u
	g.fits = func(it item, _ int, skip ...int) bool {
		b := it.bound(u)
		return math.Abs(it.cx-bx) <= inner-b && math.Abs(it.cy-by) <= inner-b && !g.overlaps(it, 0.35*u, skip)
	}
	g.spot = func(typ string, slot int) (item, bool) {
		b := specs[typ].radius * u
		for range 3000 {
			it := item{typ: typ,
				cx:  bx + (g.rng.Float64()*2-1)*(inner-b),
				cy:  by + (g.rng.Float64()*2-1)*(inner-b),
				ang: g.rng.Float64() * 2 * math.Pi}
			if g.fits(it, slot) {
				return it, true
			}
		}
		return item{}, false
	}
	// Largest first so that random placement always finds room.
	order := []int{4, 5, 2, 3, 0, 1}
	placedAt := make([]placed, len(bagContents))
	for attempt := 0; ; attempt++ {
		g.items = g.items[:0]
		ok := true
		for _, id := range order {
			it, found := g.spot(bagContents[id], -1)
			if !found {
				ok = false
				break
			}
			placedAt[id] = placed{item: it, id: id, slot: -1}
			g.items = append(g.items, placedAt[id])
		}
		if ok {
			break
		}
		if attempt == 20 {
			return fmt.Errorf("could not place the bag contents without overlap")
		}
	}
	g.items = append(g.items[:0], placedAt...)

	g.paintBG = func(c *canvas) {
		coarse := newValueNoise(g.rr, g.w, g.h, 5*u)
		fine := newValueNoise(g.rr, g.w, g.h, 1.5)
		wrinkle := newValueNoise(g.rr, g.w, g.h, 2.2*u)
		table := rgb{0.74, 0.72, 0.66}
		film := rgb{0.86, 0.89, 0.93}
		for y := 0; y < g.h; y++ {
			for x := 0; x < g.w; x++ {
				px, py := float64(x)+0.5, float64(y)+0.5
				// Table: coarse mottling, fine grain and a lighting falloff.
				f := 1 + 0.06*float64(coarse.at(px, py)) + 0.04*float64(fine.at(px, py))
				f *= 1.05 - 0.12*math.Hypot(px/float64(g.w)-0.35, py/float64(g.h)-0.3)
				var col rgb
				for k := range col {
					col[k] = float32(float64(table[k]) * f)
				}
				c.set(x, y, col)
				// Bag film: a faint tint, wrinkle highlights and a seam.
				d := sdRoundBox(px-bx, py-by, half, half, 0.8*u)
				if a := float32(clamp01(0.5 - d)); a > 0 {
					c.blend(x, y, film, 0.22*a)
					if w := float64(wrinkle.at(px, py)); w > 0.45 {
						c.blend(x, y, rgb{1, 1, 1}, float32(0.7*(w-0.45))*a)
					}
					if d > -0.25*u {
						c.blend(x, y, rgb{0.45, 0.46, 0.5}, 0.35*a)
					}
					if s := py - (by - half); s < 0.7*u && math.Mod(px, math.Max(2, 0.25*u)) < 1 {
						c.blend(x, y, rgb{0.55, 0.56, 0.6}, 0.3*a) // heat seal
					}
				}
			}
		}
	}
	return nil
}

// layoutBox places a four-compartment kit box at a slightly random pose and
// fills each compartment by its rule at random poses.
func (g *gen) layoutBox() error {
	u := g.u
	cx := float64(g.w)/2 + (g.rng.Float64()*2-1)*0.25*u
	cy := float64(g.h)/2 + (g.rng.Float64()*2-1)*0.25*u
	ang := (g.rng.Float64()*2 - 1) * 0.05
	ca, sa := math.Cos(ang), math.Sin(ang)
	toWorld := func(x, y float64) (float64, float64) { return cx + x*ca - y*sa, cy + x*sa + y*ca }
	toLocal := func(x, y float64) (float64, float64) {
		dx, dy := x-cx, y-cy
		return dx*ca + dy*sa, -dx*sa + dy*ca
	}
	const half, wall, comp = 7.0, 0.35, 3.25 // units; walls and dividers are the body between floors
	slotCentre := func(s int) (float64, float64) {
		return float64(2*(s%2)-1) * 3.4 * u, float64(2*(s/2)-1) * 3.4 * u
	}
	g.slotType = make([]string, len(boxRules))
	for s, r := range boxRules {
		g.slotType[s] = r.typ
	}
	g.fits = func(it item, slot int, skip ...int) bool {
		b := it.bound(u)
		lx, ly := toLocal(it.cx, it.cy)
		sx, sy := slotCentre(slot)
		lim := comp*u - b - 0.1*u
		return math.Abs(lx-sx) <= lim && math.Abs(ly-sy) <= lim && !g.overlaps(it, 0.3*u, skip)
	}
	g.spot = func(typ string, slot int) (item, bool) {
		b := specs[typ].radius * u
		sx, sy := slotCentre(slot)
		lim := comp*u - b - 0.1*u
		if lim < 0 {
			return item{}, false
		}
		for range 3000 {
			x, y := toWorld(sx+(g.rng.Float64()*2-1)*lim, sy+(g.rng.Float64()*2-1)*lim)
			it := item{typ: typ, cx: x, cy: y, ang: ang + g.rng.Float64()*2*math.Pi}
			if g.fits(it, slot) {
				return it, true
			}
		}
		return item{}, false
	}
	id := 0
	for s, r := range boxRules {
		for range r.n {
			it, ok := g.spot(r.typ, s)
			if !ok {
				return fmt.Errorf("could not place %d %s in compartment %d", r.n, r.typ, s)
			}
			g.items = append(g.items, placed{item: it, id: id, slot: s})
			id++
		}
	}

	g.paintBG = func(c *canvas) {
		grain := newValueNoise(g.rr, g.w, g.h, 1.2)
		coarse := newValueNoise(g.rr, g.w, g.h, 4*u)
		wood := rgb{0.62, 0.47, 0.31}
		body := rgb{0.27, 0.29, 0.33}
		floor := rgb{0.40, 0.42, 0.46}
		shadow := make([]float32, g.w*g.h)
		for y := 0; y < g.h; y++ {
			for x := 0; x < g.w; x++ {
				lx, ly := toLocal(float64(x)+0.5-0.15*u, float64(y)+0.5-0.25*u)
				shadow[y*g.w+x] = float32(clamp01(0.5 - sdRoundBox(lx, ly, half*u, half*u, 0.6*u)))
			}
		}
		boxBlur(shadow, g.w, g.h, max(1, int(0.25*u)), 3)
		for y := 0; y < g.h; y++ {
			for x := 0; x < g.w; x++ {
				px, py := float64(x)+0.5, float64(y)+0.5
				// Wood: grain stretched along x, slow colour drift, falloff.
				f := 1 + 0.08*float64(grain.at(px*0.15, py)) + 0.07*float64(coarse.at(px, py))
				f *= 1.05 - 0.12*math.Hypot(px/float64(g.w)-0.35, py/float64(g.h)-0.3)
				f *= 1 - 0.5*float64(shadow[y*g.w+x])
				var col rgb
				for k := range col {
					col[k] = float32(float64(wood[k]) * f)
				}
				c.set(x, y, col)
				lx, ly := toLocal(px, py)
				d := sdRoundBox(lx, ly, half*u, half*u, 0.6*u)
				a := float32(clamp01(0.5 - d))
				if a == 0 {
					continue
				}
				// Body, lit rim on the upper-left walls.
				bc := body
				if d > -wall*u {
					lit := float32(1 + 0.3*math.Max(0, (lightX*lx+lightY*ly)/(half*u)))
					bc = rgb{body[0] * lit, body[1] * lit, body[2] * lit}
				}
				c.blend(x, y, bc, a)
				// Compartment floors with ambient occlusion near the walls.
				for s := range boxRules {
					sx, sy := slotCentre(s)
					fd := sdRoundBox(lx-sx, ly-sy, comp*u, comp*u, 0.3*u)
					if fa := float32(clamp01(0.5 - fd)); fa > 0 {
						ao := 0.72 + 0.28*clamp01(-fd/(0.8*u))
						n := 1 + 0.04*float64(grain.at(px, py))
						var fc rgb
						for k := range fc {
							fc[k] = float32(float64(floor[k]) * ao * n)
						}
						c.blend(x, y, fc, fa)
					}
				}
			}
		}
	}
	return nil
}
