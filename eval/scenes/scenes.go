// Package scenes renders seeded, deterministic inspection scenes with logical
// and structural anomalies and their pixel and per-object ground truth: the
// product zoo.
//
// A Bag is a tray of randomly placed fasteners with fixed counts (2 nuts, 2
// washers, 1 long and 1 short screw); a Box is a kit box with four
// compartments whose rules fix the item type and count (1 block, 2 caps, 3
// balls, 1 bar). The zoo's other kinds (kinds.go, zoo.go) follow the logic
// of MVTec LOCO AD's five categories and of products a plant inspects, and
// are rendered as a camera sees them: textured backgrounds, soft shadows,
// lighting gain, tint and gradient that drift, pose jitter of the whole
// product, blur and sensor noise, varied per image (camera.go). The same
// (kind, seed, size, anomaly) always gives the same pixels. The split of
// the kinds into tuning and reporting kinds is the evaluation protocol
// (TuningKinds, ReportingKinds).
package scenes

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"slices"
)

// Kind is a scene family.
type Kind string

const (
	Bag Kind = "bag"
	Box Kind = "box"
)

// Anomaly is the defect type of a scene; Good means none.
type Anomaly string

const (
	Good      Anomaly = "good"
	Missing   Anomaly = "missing"    // an expected object is absent
	Extra     Anomaly = "extra"      // one object too many
	WrongType Anomaly = "wrong_type" // an object replaced by another type
	Misplaced Anomaly = "misplaced"  // an object in the wrong compartment (box only)
	Scratch   Anomaly = "scratch"
	Dent      Anomaly = "dent"  // a notch bitten out of an object's edge
	Stain     Anomaly = "stain" // contamination

	WrongSize        Anomaly = "wrong_size"        // a part of a size (length, amount) no good image has
	WrongColour      Anomaly = "wrong_colour"      // a part of a colour no good image has at its place
	WrongCombination Anomaly = "wrong_combination" // parts that are each fine but do not go together
	Swapped          Anomaly = "swapped"           // two parts in each other's place (wrong order)
	Rotated          Anomaly = "rotated"           // a part in the wrong orientation
	FillLevel        Anomaly = "fill_level"        // a fill level that is too high or too low
	Crack            Anomaly = "crack"             // a dark, jagged fracture line
	Chip             Anomaly = "chip"              // a piece broken off an edge
	Contamination    Anomaly = "contamination"     // loose particles on a part
	Cut              Anomaly = "cut"               // a part severed across
	Bent             Anomaly = "bent"              // a part bent out of shape
)

var logicalAnomalies = map[Anomaly]bool{Missing: true, Extra: true, WrongType: true, Misplaced: true,
	WrongSize: true, WrongColour: true, WrongCombination: true, Swapped: true, Rotated: true, FillLevel: true}

// Logical reports whether the anomaly breaks a layout rule rather than
// damaging a surface.
func (a Anomaly) Logical() bool { return logicalAnomalies[a] }

// LogicalAnomalies lists every logical anomaly type of the zoo.
func LogicalAnomalies() []Anomaly {
	var out []Anomaly
	for a := range logicalAnomalies {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// Anomalies lists the anomaly types defined for a kind, logical first.
func Anomalies(k Kind) []Anomaly { return slices.Clone(kindSpecs[k].anomalies) }

// Object is the truth for one object. Across images of a kind, a query
// object corresponds to a reference object when Type and Slot agree.
type Object struct {
	ID        int             `json:"id"`   // index in the normal layout; -1 for an extra object
	Type      string          `json:"type"` // e.g. "nut", "ball"
	Slot      int             `json:"slot"` // box compartment 0..3, -1 in a bag
	Box       image.Rectangle `json:"box"`
	Anomalous bool            `json:"anomalous"` // extra, wrong type, misplaced or damaged
	// Angle is the part's rotation relative to the product (radians).
	Angle float64 `json:"angle"`
	// Scale, Colour and Param are set where a part differs from its type:
	// its size factor, its colour (#rrggbb) instead of the type's, and the
	// type's own parameter in units (a bolt's length, the juice's half
	// height, a resistor's value, the cable's pole offset).
	Scale float64 `json:"scale,omitempty"`
	// Place is the part's centre in the product's frame, in units (1/16 of
	// the image side), free of the product's pose jitter.
	Place  [2]float64 `json:"place"`
	Colour string     `json:"colour,omitempty"`
	Param  float64    `json:"param,omitempty"`
}

// Defect is one connected defect region (one channel in MVTec LOCO terms).
// For an absent object the region is where the object should be.
type Defect struct {
	Anomaly Anomaly
	Mask    *image.Gray // 255 inside the region
}

// Scene is one rendered image with its ground truth.
type Scene struct {
	Kind    Kind
	Anomaly Anomaly
	Image   *image.RGBA
	GT      *image.Gray   // union of Defects (255); all zero for a good scene
	Defects []Defect      // empty for a good scene
	Objects []Object      // objects visible in the image
	Absent  []Object      // expected objects not in their place (missing, replaced, moved away)
	Labels  *image.Gray16 // index into Objects plus one at each object pixel, else 0
}

// MinSize is the smallest image side at which objects stay recognisable.
const MinSize = 64

// placed is an item with its truth.
type placed struct {
	item
	id        int
	slot      int
	anomalous bool
}

// gen holds the state while one scene is built.
type gen struct {
	kind    Kind
	w, h    int
	u       float64
	rng     *rand.Rand // layout, then anomaly choices
	rr      *rand.Rand // rendering: textures and sensor noise
	items   []placed
	absent  []placed
	defects []Defect
	// fits reports whether an item can stand at its pose without touching
	// others (indices in skip are ignored) and inside its slot.
	fits func(it item, slot int, skip ...int) bool
	// spot draws a random free pose for a type in a slot.
	spot func(typ string, slot int) (item, bool)
	// slotType is the rule of each box compartment.
	slotType []string
	paintBG  func(c *canvas)

	// The zoo's kinds (zoo.go): the seed (for the camera stream), the
	// product's pose, its slots, the anomaly steps a kind does its own way,
	// and whether the camera model applies (bag and box keep their
	// original rendering).
	seed   int64
	pose   pose
	slots  []slot
	types  []string // the part types wrong_type draws from
	margin float64  // clearance between parts' bounding circles, units (negative: they may touch)
	hooks  map[Anomaly]func() error
	camera bool
	// surface selects the parts that carry surface defects (nil: large ones).
	surface func(p placed) bool
	// sizeable and colourable select the parts wrong_size and wrong_colour
	// may change (nil: any); forbidden are colours a wrong colour may not be.
	sizeable, colourable func(p placed) bool
	forbidden            []rgb
	// fixedAngle holds the relative angle of parts that keep one
	// orientation; others turn freely.
	fixedAngle map[string]float64
	shadowK    float64 // shadow strength of the parts (0: 0.45)
}

// Generate renders one scene. Bad arguments return an error, never a panic.
func Generate(kind Kind, seed int64, size int, anomaly Anomaly) (Scene, error) {
	if size < MinSize {
		return Scene{}, fmt.Errorf("scene size %d: must be at least %d pixels", size, MinSize)
	}
	spec, ok := kindSpecs[kind]
	if !ok {
		return Scene{}, fmt.Errorf("scene kind %q: want one of %v", kind, AllKinds())
	}
	if anomaly != Good && !slices.Contains(Anomalies(kind), anomaly) {
		return Scene{}, fmt.Errorf("anomaly %q is not defined for kind %s: want good or one of %v", anomaly, kind, Anomalies(kind))
	}
	g := &gen{kind: kind, w: size, h: size, u: float64(size) / 16,
		rng: newRng(seed, 1), rr: newRng(seed, 3), seed: seed}
	if err := spec.layout(g); err != nil {
		return Scene{}, fmt.Errorf("generate %s seed %d: %w", kind, seed, err)
	}
	// Separate streams keep an anomalous scene identical to the good scene
	// of the same seed everywhere except around the defect.
	g.rng = newRng(seed, 2)
	var err error
	if h := g.hooks[anomaly]; h != nil {
		err = h()
	} else {
		err = g.layoutAnomaly(anomaly)
	}
	if err != nil {
		return Scene{}, fmt.Errorf("generate %s/%s seed %d: %w", kind, anomaly, seed, err)
	}

	c := newCanvas(g.w, g.h)
	g.paintBG(c)
	covs := make([]mask, len(g.items))
	for i, p := range g.items {
		covs[i] = p.coverage(g.w, g.h, g.u)
	}
	shadowK := float32(0.45)
	if g.shadowK > 0 {
		shadowK = float32(g.shadowK)
	}
	g.shadows(c, covs, shadowK)
	grain := newValueNoise(g.rr, g.w, g.h, 1.3)
	for i, p := range g.items {
		p.paint(c, covs[i], g.u, grain)
	}
	switch anomaly {
	case Scratch:
		err = g.scratch(c, covs)
	case Stain:
		err = g.stain(c, covs)
	case Crack:
		err = g.crack(c, covs)
	case Contamination:
		err = g.contamination(c, covs)
	}
	if err != nil {
		return Scene{}, fmt.Errorf("generate %s/%s seed %d: %w", kind, anomaly, seed, err)
	}
	noise := 0.012
	if g.camera {
		noise = g.applyCamera(c)
	}

	sc := Scene{Kind: kind, Anomaly: anomaly, Defects: g.defects,
		Image:  c.toRGBA(g.rr, noise),
		GT:     image.NewGray(image.Rect(0, 0, g.w, g.h)),
		Labels: image.NewGray16(image.Rect(0, 0, g.w, g.h))}
	for _, d := range g.defects {
		for i, v := range d.Mask.Pix {
			sc.GT.Pix[i] |= v
		}
	}
	for i, p := range g.items {
		sc.Objects = append(sc.Objects, g.truth(p, covs[i]))
		m := covs[i]
		for y := m.r.Min.Y; y < m.r.Max.Y; y++ {
			for x := m.r.Min.X; x < m.r.Max.X; x++ {
				if m.at(x, y) > 0.5 {
					sc.Labels.SetGray16(x, y, color.Gray16{Y: uint16(i + 1)})
				}
			}
		}
	}
	for _, p := range g.absent {
		sc.Absent = append(sc.Absent, g.truth(p, p.coverage(g.w, g.h, g.u)))
	}
	return sc, nil
}

// layoutAnomaly applies an anomaly that changes the parts before painting;
// the painted ones (scratch, stain, crack, contamination) come later.
func (g *gen) layoutAnomaly(anomaly Anomaly) error {
	var err error
	switch anomaly {
	case Missing:
		err = g.missing()
	case Extra:
		err = g.extra()
	case WrongType:
		err = g.wrongType()
	case Misplaced:
		err = g.misplaced()
	case Dent:
		err = g.dent(false)
	case Chip:
		err = g.dent(true)
	case Swapped:
		err = g.swapped()
	case WrongSize:
		err = g.wrongSize()
	case WrongColour:
		err = g.wrongColour()
	case Cut:
		err = g.cut()
	case Bent:
		err = g.bent()
	}
	return err
}

func newRng(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x5ca1ab1e00+stream))
}

func (g *gen) truth(p placed, m mask) Object {
	var r image.Rectangle
	for y := m.r.Min.Y; y < m.r.Max.Y; y++ {
		for x := m.r.Min.X; x < m.r.Max.X; x++ {
			if m.at(x, y) > 0.5 {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	o := Object{ID: p.id, Type: p.typ, Slot: p.slot, Box: r, Anomalous: p.anomalous,
		Angle: math.Remainder(p.ang-g.pose.ang, 2*math.Pi), Scale: p.scale}
	if g.camera {
		lx, ly := g.local(p.cx, p.cy)
		o.Place = [2]float64{math.Round(lx/g.u*100) / 100, math.Round(ly/g.u*100) / 100}
	}
	if p.col != nil {
		o.Colour = fmt.Sprintf("#%02x%02x%02x", uint8(255*p.col[0]), uint8(255*p.col[1]), uint8(255*p.col[2]))
	}
	if p.typ == JuiceOrange || p.typ == JuiceCherry || p.typ == JuiceBanana {
		o.Param = math.Round(p.aux/g.u*100) / 100
	} else {
		o.Param = p.aux
	}
	return o
}

// shadows darkens the canvas under a blurred, offset copy of the objects.
func (g *gen) shadows(c *canvas, covs []mask, strength float32) {
	f := make([]float32, g.w*g.h)
	ox, oy := int(math.Round(0.12*g.u)), int(math.Round(0.2*g.u))
	for _, m := range covs {
		for y := m.r.Min.Y; y < m.r.Max.Y; y++ {
			for x := m.r.Min.X; x < m.r.Max.X; x++ {
				sx, sy := x+ox, y+oy
				if sx < g.w && sy < g.h {
					f[sy*g.w+sx] = max(f[sy*g.w+sx], m.at(x, y))
				}
			}
		}
	}
	if g.camera {
		blurExact(f, g.w, g.h, max(1, int(0.16*g.u)), 3)
	} else {
		boxBlur(f, g.w, g.h, max(1, int(0.16*g.u)), 3)
	}
	for y := 0; y < g.h; y++ {
		for x := 0; x < g.w; x++ {
			c.scale(x, y, 1-strength*f[y*g.w+x])
		}
	}
}

// pick returns a random index into g.items whose item satisfies ok.
func (g *gen) pick(ok func(p placed) bool) (int, bool) {
	var idx []int
	for i, p := range g.items {
		if ok(p) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return 0, false
	}
	return idx[g.rng.IntN(len(idx))], true
}

func (g *gen) regionOf(its ...item) *image.Gray {
	out := image.NewGray(image.Rect(0, 0, g.w, g.h))
	for _, it := range its {
		it.coverage(g.w, g.h, g.u).orInto(out, 0.5)
	}
	return out
}

func (g *gen) missing() error {
	i, _ := g.pick(func(placed) bool { return true })
	p := g.items[i]
	g.defects = append(g.defects, Defect{Missing, g.regionOf(p.item)})
	g.absent = append(g.absent, p)
	g.items = slices.Delete(g.items, i, i+1)
	return nil
}

func (g *gen) extra() error {
	if g.slots != nil {
		return g.extraZoo()
	}
	for _, slot := range g.rng.Perm(max(1, len(g.slotType))) {
		typ := g.randomType()
		if g.kind == Box {
			typ = g.slotType[slot]
		} else {
			slot = -1
		}
		if it, ok := g.spot(typ, slot); ok {
			g.items = append(g.items, placed{item: it, id: -1, slot: slot, anomalous: true})
			g.defects = append(g.defects, Defect{Extra, g.regionOf(it)})
			return nil
		}
	}
	return fmt.Errorf("no free place for an extra object")
}

func (g *gen) randomType() string {
	types := []string{Nut, Washer, LongScrew, ShortScrew}
	if g.kind == Box {
		types = g.slotType
	} else if g.types != nil {
		types = g.types
	}
	return types[g.rng.IntN(len(types))]
}

// wrongType replaces one object by another type at the same pose.
func (g *gen) wrongType() error {
	for _, i := range g.rng.Perm(len(g.items)) {
		p := g.items[i]
		for range 8 {
			typ := g.randomType()
			if typ == p.typ {
				continue
			}
			it := item{typ: typ, cx: p.cx, cy: p.cy, ang: p.ang}
			if g.fits(it, p.slot, i) {
				g.defects = append(g.defects, Defect{WrongType, g.regionOf(p.item, it)})
				g.absent = append(g.absent, p)
				g.items[i] = placed{item: it, id: p.id, slot: p.slot, anomalous: true}
				return nil
			}
		}
	}
	return fmt.Errorf("no object can be replaced by another type without overlap")
}

// misplaced moves one box item into another compartment.
func (g *gen) misplaced() error {
	if g.slots != nil {
		return g.misplacedZoo()
	}
	for _, i := range g.rng.Perm(len(g.items)) {
		p := g.items[i]
		for _, slot := range g.rng.Perm(len(g.slotType)) {
			if slot == p.slot || g.slotType[slot] == p.typ {
				continue
			}
			if it, ok := g.spot(p.typ, slot); ok {
				g.defects = append(g.defects, Defect{Misplaced, g.regionOf(p.item)}, Defect{Misplaced, g.regionOf(it)})
				g.absent = append(g.absent, p)
				g.items[i] = placed{item: it, id: p.id, slot: slot, anomalous: true}
				return nil
			}
		}
	}
	return fmt.Errorf("no object can be moved to another compartment")
}

// randomInside returns a random point well inside the item.
func (g *gen) randomInside(it item) (float64, float64, bool) {
	b := it.bound(g.u)
	depth := math.Min(1.5, 0.1*g.u)
	for range 500 {
		x := it.cx + (g.rng.Float64()*2-1)*b
		y := it.cy + (g.rng.Float64()*2-1)*b
		if it.sdf(x, y, g.u) < -depth {
			return x, y, true
		}
	}
	return 0, 0, false
}

// dent bites a circular notch out of an object's outer edge; a chip is the
// same bite with a bright fracture face instead of dark deformed metal.
func (g *gen) dent(chip bool) error {
	i, ok := g.pick(g.large)
	if !ok {
		return fmt.Errorf("no object large enough for a dent")
	}
	p := &g.items[i]
	r := math.Max(2, 0.5*g.u)
	var ct, st, t float64
	for try := 0; ; try++ {
		theta := g.rng.Float64() * 2 * math.Pi
		ct, st = math.Cos(theta), math.Sin(theta)
		// March in from outside along the ray to the outer boundary.
		t = p.bound(g.u) + 1
		for t > 0 && p.shape(t*ct, t*st, g.u) > 0 {
			t -= 0.25
		}
		// The zoo's parts take the bite where the part is thick, not on a
		// pin's needle or a wire's end.
		if !g.camera || try == 30 || p.shape((t-0.35*g.u)*ct, (t-0.35*g.u)*st, g.u) < -0.15*g.u {
			break
		}
	}
	n := notch{x: (t + 0.3*r) * ct, y: (t + 0.3*r) * st, r: r, chip: chip}
	orig := p.item
	p.notch = &n
	p.anomalous = true
	rim := 0.12*g.u + 1.2
	m := rasterize(g.w, g.h, p.cx, p.cy, p.bound(g.u), func(x, y float64) float64 {
		lx, ly := orig.local(x, y)
		return math.Max(orig.sdf(x, y, g.u), math.Hypot(lx-n.x, ly-n.y)-n.r-rim)
	})
	a := Dent
	if chip {
		a = Chip
	}
	g.defects = append(g.defects, Defect{a, m.gray(g.w, g.h, 0.5)})
	return nil
}

// scratch draws a thin, slightly curved line across one of the larger
// objects; of a few random candidates it keeps the longest visible one.
func (g *gen) scratch(c *canvas, covs []mask) error {
	i, ok := g.pick(g.large)
	if !ok {
		return fmt.Errorf("no object large enough for a scratch")
	}
	p := g.items[i]
	hw := math.Max(0.7, 0.09*g.u)
	var best mask
	bestN := -1
	for range 12 {
		line, ok := g.scratchLine(p.item, hw)
		if !ok {
			continue
		}
		n := 0
		for y := line.r.Min.Y; y < line.r.Max.Y; y++ {
			for x := line.r.Min.X; x < line.r.Max.X; x++ {
				if line.at(x, y)*covs[i].at(x, y) > 0.3 {
					n++
				}
			}
		}
		if n > bestN {
			best, bestN = line, n
		}
	}
	if bestN <= 0 {
		return fmt.Errorf("no surface for a scratch on %s", p.typ)
	}
	col := rgb{0.92, 0.92, 0.95} // bare metal or stress-whitened plastic
	sp := p.colour()
	if 0.3*sp[0]+0.59*sp[1]+0.11*sp[2] > 0.6 {
		col = rgb{0.25, 0.22, 0.2}
	}
	gt := image.NewGray(image.Rect(0, 0, g.w, g.h))
	for y := best.r.Min.Y; y < best.r.Max.Y; y++ {
		for x := best.r.Min.X; x < best.r.Max.X; x++ {
			a := best.at(x, y) * covs[i].at(x, y)
			if a > 0 {
				c.blend(x, y, col, 0.9*a)
			}
			if a > 0.3 {
				gt.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	g.items[i].anomalous = true
	g.defects = append(g.defects, Defect{Scratch, gt})
	return nil
}

// large selects objects big enough to carry a visible surface defect; a
// zoo kind may name its own (g.surface).
func (g *gen) large(p placed) bool {
	if g.surface != nil {
		return g.surface(p)
	}
	return specs[p.typ].radius >= 1
}

// scratchLine rasterises a quadratic Bezier stroke through a random point
// of the object.
func (g *gen) scratchLine(it item, hw float64) (mask, bool) {
	cx, cy, ok := g.randomInside(it)
	if !ok {
		return mask{}, false
	}
	half := 0.8 * it.bound(g.u)
	if g.camera {
		half = math.Min(half, 1.4*g.u) // a scratch, not a stroke across a bottle
	}
	th := g.rng.Float64() * math.Pi
	dx, dy := math.Cos(th)*half, math.Sin(th)*half
	bend := (g.rng.Float64()*2 - 1) * 0.25 * half
	ax, ay, bx, by := cx-dx, cy-dy, cx+dx, cy+dy
	kx, ky := cx-dy/half*bend, cy+dx/half*bend // control point
	const segs = 8
	pts := make([][2]float64, segs+1)
	for s := 0; s <= segs; s++ {
		t := float64(s) / segs
		pts[s] = [2]float64{(1-t)*(1-t)*ax + 2*(1-t)*t*kx + t*t*bx, (1-t)*(1-t)*ay + 2*(1-t)*t*ky + t*t*by}
	}
	return rasterize(g.w, g.h, cx, cy, half+math.Abs(bend)+hw, func(x, y float64) float64 {
		d := math.Inf(1)
		for s := 0; s < segs; s++ {
			d = math.Min(d, sdSegment(x, y, pts[s][0], pts[s][1], pts[s+1][0], pts[s+1][1], hw))
		}
		return d
	}), true
}

// stain drops an irregular dark blob of contamination on an object.
func (g *gen) stain(c *canvas, covs []mask) error {
	i, _ := g.pick(func(placed) bool { return true })
	cx, cy, ok := g.randomInside(g.items[i].item)
	if !ok {
		return fmt.Errorf("no surface for a stain on %s", g.items[i].typ)
	}
	r := math.Max(2.5, 0.45*g.u*(0.8+0.4*g.rng.Float64()))
	p1, p2 := g.rng.Float64()*2*math.Pi, g.rng.Float64()*2*math.Pi
	blob := rasterize(g.w, g.h, cx, cy, 1.5*r, func(x, y float64) float64 {
		a := math.Atan2(y-cy, x-cx)
		return math.Hypot(x-cx, y-cy) - r*(1+0.22*math.Sin(3*a+p1)+0.12*math.Sin(5*a+p2))
	})
	col := rgb{0.22, 0.15, 0.07}
	for y := blob.r.Min.Y; y < blob.r.Max.Y; y++ {
		for x := blob.r.Min.X; x < blob.r.Max.X; x++ {
			if a := blob.at(x, y); a > 0 {
				c.blend(x, y, col, 0.8*a)
			}
		}
	}
	g.items[i].anomalous = true
	g.defects = append(g.defects, Defect{Stain, blob.gray(g.w, g.h, 0.5)})
	return nil
}
