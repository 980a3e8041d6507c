package scenes

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"
)

// The zoo's common machinery: the product's pose, its slots, placement,
// the backgrounds and product bodies, and the anomalies every kind can
// take. Each kind (zookinds.go) is a layout function that uses it.

// pose is the whole product's position in the image: its centre in pixels
// and its rotation in radians, jittered per image.
type pose struct{ cx, cy, ang float64 }

// slot is a region of the product where parts lie: a compartment, a cell,
// a cavity, the whole bag. Centre and half sizes in units, product frame.
type slot struct {
	x, y, hx, hy float64
	allowed      []string // the part types that belong here
}

// zooInit jitters the product's pose (shift in units, rotation in degrees)
// and installs the generic placement rules.
func (g *gen) zooInit(shift, deg float64) {
	g.camera = true
	g.pose = pose{
		cx:  float64(g.w)/2 + (g.rng.Float64()*2-1)*shift*g.u,
		cy:  float64(g.h)/2 + (g.rng.Float64()*2-1)*shift*g.u,
		ang: (g.rng.Float64()*2 - 1) * deg * math.Pi / 180,
	}
	g.fits = g.zooFits
	g.spot = g.zooSpot
}

// world maps product coordinates in units to image pixels.
func (g *gen) world(lx, ly float64) (float64, float64) {
	c, s := math.Cos(g.pose.ang), math.Sin(g.pose.ang)
	lx, ly = lx*g.u, ly*g.u
	return g.pose.cx + lx*c - ly*s, g.pose.cy + lx*s + ly*c
}

// local maps image pixels to product coordinates in pixels.
func (g *gen) local(px, py float64) (float64, float64) {
	c, s := math.Cos(g.pose.ang), math.Sin(g.pose.ang)
	dx, dy := px-g.pose.cx, py-g.pose.cy
	return dx*c + dy*s, -dx*s + dy*c
}

// put places a part at product coordinates (units) and relative angle.
func (g *gen) put(typ string, lx, ly, ang float64, sl int) *placed {
	x, y := g.world(lx, ly)
	g.items = append(g.items, placed{item: item{typ: typ, cx: x, cy: y, ang: g.pose.ang + ang}, id: len(g.items), slot: sl})
	return &g.items[len(g.items)-1]
}

// zooFits: inside its slot (bounding circle) and clear of the others by
// the kind's margin; slot -1 only asks for clearance.
func (g *gen) zooFits(it item, sl int, skip ...int) bool {
	b := it.bound(g.u)
	if sl >= 0 && sl < len(g.slots) {
		s := g.slots[sl]
		lx, ly := g.local(it.cx, it.cy)
		if math.Abs(lx-s.x*g.u) > s.hx*g.u-b || math.Abs(ly-s.y*g.u) > s.hy*g.u-b {
			return false
		}
	}
	return !g.overlaps(it, g.margin*g.u, skip)
}

// spin is how far a part placed by zooSpot turns: freely, unless the kind
// holds its parts in one orientation.
func (g *gen) spinOf(typ string) float64 {
	if g.fixedAngle != nil {
		if a, ok := g.fixedAngle[typ]; ok {
			return a + (g.rng.Float64()*2-1)*0.08
		}
	}
	return g.rng.Float64() * 2 * math.Pi
}

// zooSpot draws a free pose for a part in a slot.
func (g *gen) zooSpot(typ string, sl int) (item, bool) {
	if sl < 0 || sl >= len(g.slots) {
		return item{}, false
	}
	s := g.slots[sl]
	b := specs[typ].radius
	if s.hx < b || s.hy < b {
		return item{}, false
	}
	for range 2000 {
		lx := s.x + (g.rng.Float64()*2-1)*(s.hx-b)
		ly := s.y + (g.rng.Float64()*2-1)*(s.hy-b)
		x, y := g.world(lx, ly)
		it := item{typ: typ, cx: x, cy: y, ang: g.pose.ang + g.spinOf(typ)}
		if g.fits(it, sl) {
			return it, true
		}
	}
	return item{}, false
}

// fill places each listed type in the slot, largest first, retrying the
// whole slot when random placement runs out of room.
func (g *gen) fill(sl int, types ...string) error {
	order := slices.Clone(types)
	slices.SortStableFunc(order, func(a, b string) int {
		if specs[a].radius > specs[b].radius {
			return -1
		}
		if specs[a].radius < specs[b].radius {
			return 1
		}
		return 0
	})
	start := len(g.items)
	for range 20 {
		g.items = g.items[:start]
		ok := true
		for _, typ := range order {
			it, found := g.zooSpot(typ, sl)
			if !found {
				ok = false
				break
			}
			g.items = append(g.items, placed{item: it, id: len(g.items), slot: sl})
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("could not place %v in slot %d", types, sl)
}

// extraZoo adds a part that belongs to a slot, in that slot.
func (g *gen) extraZoo() error {
	for _, sl := range g.rng.Perm(len(g.slots)) {
		al := g.slots[sl].allowed
		if len(al) == 0 {
			continue
		}
		if it, ok := g.zooSpot(al[g.rng.IntN(len(al))], sl); ok {
			g.items = append(g.items, placed{item: it, id: -1, slot: sl, anomalous: true})
			g.defects = append(g.defects, Defect{Extra, g.regionOf(it)})
			return nil
		}
	}
	return fmt.Errorf("no free place for an extra part")
}

// misplacedZoo moves a part into a slot where its type does not belong.
func (g *gen) misplacedZoo() error {
	for _, i := range g.rng.Perm(len(g.items)) {
		p := g.items[i]
		for _, sl := range g.rng.Perm(len(g.slots)) {
			if sl == p.slot || slices.Contains(g.slots[sl].allowed, p.typ) {
				continue
			}
			it, ok := g.zooSpot(p.typ, sl)
			if !ok {
				continue
			}
			it.col, it.aux, it.poly, it.rad = p.col, p.aux, p.poly, p.rad
			g.defects = append(g.defects, Defect{Misplaced, g.regionOf(p.item)}, Defect{Misplaced, g.regionOf(it)})
			g.absent = append(g.absent, p)
			g.items[i] = placed{item: it, id: p.id, slot: sl, anomalous: true}
			return nil
		}
	}
	return fmt.Errorf("no part can be moved to a slot where it does not belong")
}

// swapped exchanges the types of two parts of different types (of the
// kind's types) at their poses: each is where the other belongs.
func (g *gen) swapped() error {
	idx := g.rng.Perm(len(g.items))
	for _, i := range idx {
		for _, j := range idx {
			p, q := g.items[i], g.items[j]
			if i == j || p.typ == q.typ || !slices.Contains(g.types, p.typ) || !slices.Contains(g.types, q.typ) {
				continue
			}
			a, b := p.item, q.item
			a.typ, b.typ = q.typ, p.typ
			if !g.fits(a, -1, i, j) || !g.fits(b, -1, i, j) {
				continue
			}
			g.defects = append(g.defects, Defect{Swapped, g.regionOf(p.item, a)}, Defect{Swapped, g.regionOf(q.item, b)})
			g.absent = append(g.absent, p, q)
			g.items[i] = placed{item: a, id: p.id, slot: p.slot, anomalous: true}
			g.items[j] = placed{item: b, id: q.id, slot: q.slot, anomalous: true}
			return nil
		}
	}
	return fmt.Errorf("no two parts of different types to swap")
}

// wrongSize shrinks or grows one part (of those sizeable selects).
func (g *gen) wrongSize() error {
	for _, i := range g.rng.Perm(len(g.items)) {
		p := g.items[i]
		if g.sizeable != nil && !g.sizeable(p) {
			continue
		}
		for _, f := range []float64{0.68, 1.32} {
			it := p.item
			it.scale = f
			if f > 1 && !g.fits(it, p.slot, i) {
				continue
			}
			g.defects = append(g.defects, Defect{WrongSize, g.regionOf(p.item, it)})
			g.absent = append(g.absent, p)
			g.items[i] = placed{item: it, id: p.id, slot: p.slot, anomalous: true}
			return nil
		}
	}
	return fmt.Errorf("no part can change its size")
}

// palette are the colours a part of the wrong colour is drawn from.
var palette = []rgb{{0.85, 0.12, 0.1}, {0.15, 0.65, 0.2}, {0.15, 0.3, 0.85}, {0.6, 0.2, 0.7}, {0.95, 0.95, 0.95}, {0.1, 0.1, 0.1}, {0.95, 0.55, 0.05}, {0.95, 0.85, 0.1}}

// wrongColour gives one part a colour far from its own.
func (g *gen) wrongColour() error {
	for _, i := range g.rng.Perm(len(g.items)) {
		p := g.items[i]
		if g.colourable != nil && !g.colourable(p) {
			continue
		}
		own := p.colour()
		var far []rgb
		for _, c := range palette {
			d := math.Abs(float64(c[0]-own[0])) + math.Abs(float64(c[1]-own[1])) + math.Abs(float64(c[2]-own[2]))
			if d > 0.7 && !slices.Contains(g.forbidden, c) {
				far = append(far, c)
			}
		}
		if len(far) == 0 {
			continue
		}
		col := far[g.rng.IntN(len(far))]
		it := p.item
		it.col = &col
		g.defects = append(g.defects, Defect{WrongColour, g.regionOf(it)})
		g.absent = append(g.absent, p)
		g.items[i] = placed{item: it, id: p.id, slot: p.slot, anomalous: true}
		return nil
	}
	return fmt.Errorf("no part can change its colour")
}

// changed returns the pixels where two versions of a part differ, grown by
// one pixel: the truth of a part cut or bent.
func (g *gen) changed(a, b item) *image.Gray {
	ma, mb := a.coverage(g.w, g.h, g.u), b.coverage(g.w, g.h, g.u)
	r := ma.r.Union(mb.r)
	out := image.NewGray(image.Rect(0, 0, g.w, g.h))
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if math.Abs(float64(ma.at(x, y)-mb.at(x, y))) > 0.3 {
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						if (image.Point{x + dx, y + dy}).In(out.Rect) {
							out.SetGray(x+dx, y+dy, color.Gray{Y: 255})
						}
					}
				}
			}
		}
	}
	return out
}

// slender selects the parts that can be cut or bent.
func slender(p placed) bool { return specs[p.typ].long }

// cut severs a slender part across, at a point inside it.
func (g *gen) cut() error {
	for _, i := range g.rng.Perm(len(g.items)) {
		p := g.items[i]
		if !slender(p) {
			continue
		}
		for range 10 {
			x, y, ok := g.randomInside(p.item)
			if !ok {
				break
			}
			lx, _ := p.local(x, y)
			at := lx
			it := p.item
			it.cutAt = &at
			m := g.changed(p.item, it)
			if nonZeroGray(m) < 4 {
				continue
			}
			g.defects = append(g.defects, Defect{Cut, m})
			g.items[i].item, g.items[i].anomalous = it, true
			return nil
		}
	}
	return fmt.Errorf("no slender part to cut")
}

// bent bends a slender part: the outer part of a pin or bolt turns about a
// point on it; a wire gets a kink.
func (g *gen) bent() error {
	for _, i := range g.rng.Perm(len(g.items)) {
		p := g.items[i]
		if !slender(p) {
			continue
		}
		it := p.item
		if len(p.poly) > 2 {
			k := 1 + g.rng.IntN(len(p.poly)-2)
			poly := slices.Clone(p.poly)
			a, b := poly[k-1], poly[k+1]
			dx, dy := b[0]-a[0], b[1]-a[1]
			n := math.Hypot(dx, dy) + 1e-9
			s := 0.75 * g.u
			if g.rng.IntN(2) == 0 {
				s = -s
			}
			poly[k] = [2]float64{poly[k][0] - dy/n*s, poly[k][1] + dx/n*s}
			it.poly = poly
			it.grow = 0.8 * g.u
		} else {
			b := p.bound(g.u)
			it.bendAt = (0.1 + 0.35*g.rng.Float64()) * b
			it.bend = 0.4 + 0.25*g.rng.Float64()
			it.grow = 0.2 * g.u
			if g.rng.IntN(2) == 0 {
				it.bend = -it.bend
			}
		}
		m := g.changed(p.item, it)
		if nonZeroGray(m) < 4 {
			continue
		}
		g.defects = append(g.defects, Defect{Bent, m})
		g.items[i].item, g.items[i].anomalous = it, true
		return nil
	}
	return fmt.Errorf("no slender part to bend")
}

func nonZeroGray(m *image.Gray) (n int) {
	for _, v := range m.Pix {
		if v != 0 {
			n++
		}
	}
	return n
}

// crack draws a dark, jagged fracture line across a part.
func (g *gen) crack(c *canvas, covs []mask) error {
	i, ok := g.pick(g.large)
	if !ok {
		return fmt.Errorf("no part large enough for a crack")
	}
	p := g.items[i]
	cx, cy, ok := g.randomInside(p.item)
	if !ok {
		return fmt.Errorf("no surface for a crack on %s", p.typ)
	}
	half := 0.85 * p.bound(g.u)
	th := g.rng.Float64() * math.Pi
	dx, dy := math.Cos(th), math.Sin(th)
	const segs = 7
	pts := make([][2]float64, segs+1)
	for s := 0; s <= segs; s++ {
		t := (float64(s)/segs*2 - 1) * half
		j := 0.0
		if s > 0 && s < segs {
			j = (g.rng.Float64()*2 - 1) * 0.18 * g.u
		}
		pts[s] = [2]float64{cx + dx*t - dy*j, cy + dy*t + dx*j}
	}
	hw := math.Max(0.55, 0.05*g.u)
	line := rasterize(g.w, g.h, cx, cy, half+0.3*g.u, func(x, y float64) float64 {
		d := math.Inf(1)
		for s := 0; s < segs; s++ {
			d = math.Min(d, sdSegment(x, y, pts[s][0], pts[s][1], pts[s+1][0], pts[s+1][1], hw))
		}
		return d
	})
	gt := image.NewGray(image.Rect(0, 0, g.w, g.h))
	n := 0
	for y := line.r.Min.Y; y < line.r.Max.Y; y++ {
		for x := line.r.Min.X; x < line.r.Max.X; x++ {
			a := line.at(x, y) * covs[i].at(x, y)
			if a > 0 {
				c.blend(x, y, rgb{0.08, 0.07, 0.07}, 0.85*a)
			}
			if a > 0.3 {
				gt.SetGray(x, y, color.Gray{Y: 255})
				n++
			}
		}
	}
	if n == 0 {
		return fmt.Errorf("no surface for a crack on %s", p.typ)
	}
	g.items[i].anomalous = true
	g.defects = append(g.defects, Defect{Crack, gt})
	return nil
}

// contamination scatters a few small particles (dirt, swarf) on a part.
func (g *gen) contamination(c *canvas, covs []mask) error {
	i, ok := g.pick(g.large)
	if !ok {
		i, _ = g.pick(func(placed) bool { return true })
	}
	p := g.items[i]
	cx, cy, ok := g.randomInside(p.item)
	if !ok {
		return fmt.Errorf("no surface for contamination on %s", p.typ)
	}
	cols := []rgb{{0.12, 0.1, 0.08}, {0.3, 0.22, 0.12}, {0.75, 0.75, 0.78}}
	col := cols[g.rng.IntN(len(cols))]
	own := p.colour()
	if math.Abs(float64(col[0]+col[1]+col[2]-own[0]-own[1]-own[2])) < 0.6 {
		col = cols[(slices.Index(cols, col)+1)%len(cols)]
	}
	n := 4 + g.rng.IntN(4)
	type speck struct{ x, y, r float64 }
	sp := make([]speck, n)
	for k := range sp {
		sp[k] = speck{cx + (g.rng.Float64()*2-1)*0.55*g.u, cy + (g.rng.Float64()*2-1)*0.55*g.u, math.Max(0.9, (0.1+0.12*g.rng.Float64())*g.u)}
	}
	blob := rasterize(g.w, g.h, cx, cy, 0.9*g.u, func(x, y float64) float64 {
		d := math.Inf(1)
		for _, s := range sp {
			d = math.Min(d, math.Hypot(x-s.x, y-s.y)-s.r)
		}
		return d
	})
	for y := blob.r.Min.Y; y < blob.r.Max.Y; y++ {
		for x := blob.r.Min.X; x < blob.r.Max.X; x++ {
			if a := blob.at(x, y); a > 0 {
				c.blend(x, y, col, 0.9*a)
			}
		}
	}
	g.items[i].anomalous = true
	g.defects = append(g.defects, Defect{Contamination, blob.gray(g.w, g.h, 0.3)})
	return nil
}

// table paints a textured work surface: mottling, fine grain (stretched
// along x by streak > 1, as wood or brushed metal), and lamp falloff.
func (g *gen) table(c *canvas, base rgb, streak, contrast float64) {
	coarse := newValueNoise(g.rr, g.w, g.h, 4*g.u)
	fine := newValueNoise(g.rr, g.w, g.h, 1.3)
	weave := newValueNoise(g.rr, g.w, g.h, 0.6*g.u)
	for y := 0; y < g.h; y++ {
		for x := 0; x < g.w; x++ {
			px, py := float64(x)+0.5, float64(y)+0.5
			f := 1 + contrast*(0.07*float64(coarse.at(px, py))+0.06*float64(fine.at(px/streak, py))+0.04*float64(weave.at(px, py)))
			f *= 1.05 - 0.12*math.Hypot(px/float64(g.w)-0.35, py/float64(g.h)-0.3)
			c.set(x, y, rgb{base[0] * float32(f), base[1] * float32(f), base[2] * float32(f)})
		}
	}
}

// body paints the product's body (a tray, a board, a card) given its
// signed distance in product pixels: a soft drop shadow on the table, the
// body with a lit rim, then fill for the inside (floors, print) where set.
func (g *gen) body(c *canvas, sdf func(lx, ly float64) float64, col rgb, alpha float32, fill func(x, y int, lx, ly, d float64)) {
	sh := make([]float32, g.w*g.h)
	ox, oy := 0.15*g.u, 0.25*g.u
	for y := 0; y < g.h; y++ {
		for x := 0; x < g.w; x++ {
			lx, ly := g.local(float64(x)+0.5-ox, float64(y)+0.5-oy)
			sh[y*g.w+x] = float32(clamp01(0.5 - sdf(lx, ly)))
		}
	}
	blurExact(sh, g.w, g.h, max(1, int(0.3*g.u)), 3)
	grain := newValueNoise(g.rr, g.w, g.h, 1.1)
	for y := 0; y < g.h; y++ {
		for x := 0; x < g.w; x++ {
			c.scale(x, y, 1-0.45*sh[y*g.w+x])
			lx, ly := g.local(float64(x)+0.5, float64(y)+0.5)
			d := sdf(lx, ly)
			a := float32(clamp01(0.5 - d))
			if a == 0 {
				continue
			}
			lit := 1 + 0.04*float64(grain.at(float64(x), float64(y)))
			if d > -0.3*g.u {
				lit *= 1 + 0.35*math.Max(0, (lightX*lx+lightY*ly)/(7*g.u)) - 0.1
			}
			c.blend(x, y, rgb{col[0] * float32(lit), col[1] * float32(lit), col[2] * float32(lit)}, a*alpha)
			if fill != nil {
				fill(x, y, lx, ly, d)
			}
		}
	}
}

// recess darkens a floor region (a compartment, a cell, a nest) of the
// body with ambient occlusion towards its walls; d is the recess's signed
// distance in pixels.
func (g *gen) recess(c *canvas, x, y int, d float64, floor rgb) {
	if a := float32(clamp01(0.5 - d)); a > 0 {
		ao := float32(0.72 + 0.28*clamp01(-d/(0.7*g.u)))
		c.blend(x, y, rgb{floor[0] * ao, floor[1] * ao, floor[2] * ao}, a)
	}
}
