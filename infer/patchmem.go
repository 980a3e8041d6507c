package infer

import (
	"errors"
	"fmt"
	"image"
	"math"
	"slices"

	"github.com/samlad/samlad/infer/internal/workpool"
)

// The patch-memory term: PatchCore's nearest-neighbour distance of each
// backbone cell of the frame to the good images' cells, beside the AMM. It
// needs no segmentation and no matching, so it still sees a scratch or a
// stain where the segmenter cut the part differently or the objects did not
// pair up.
//
// The score is the largest mean distance of two neighbouring cells (a cell
// and its farthest neighbour): one cell far from every good cell is often
// the handcrafted descriptor's noise, while a defect reaches into the next
// cell as well.
//
// The search is exact for the image score and cheap per frame:
//   - a local bound first: each cell against the cells within
//     patchWindow of its own position in the k retrieved references (a
//     product that sits where the good ones sat finds its cell there);
//   - then the cells in falling order of that bound against the whole
//     memory (a coreset of every reference's cells), until no pair with a
//     cell left out could beat the best pair found: a cell's exact
//     distance never exceeds its bound.
//
// The map keeps the bound where a cell was not refined; its maximum is the
// exact score.
//
// The place term (place.go) shares the memory's references and
// calibration.

const (
	// patchWindow is the reach of the local search in cells (pose jitter
	// of a few pixels moves a part by less than a cell of 8 px).
	patchWindow = 1
	// patchCoresetShare and patchCoresetMin size the memory: this share of
	// all cells, at least this many (or all, when fewer).
	patchCoresetShare = 0.1
	patchCoresetMin   = 2048
)

// PatchMemory is the patch-memory term's enrolled part.
type PatchMemory struct {
	C int
	// Mem are the coreset cells, one C-vector each; Src[i] is the
	// reference Mem's row i comes from (left out when that reference is
	// itself scored by leave-one-out).
	Mem []float32
	Src []int32
	// Mean and Std standardise the raw score; LOO are the good images'
	// leave-one-out raw scores they come from.
	Mean, Std float64
	LOO       []float64
	// PlaceMean, PlaceStd and PlaceLOO are the same for the place term.
	PlaceMean, PlaceStd float64
	PlaceLOO            []float64
}

// patchScratch is the per-inspection scratch of the term.
type patchScratch struct {
	bound []float32 // per cell: squared distance, bound or exact
	dist  []float64 // per cell: the square root of bound
	order []int
	exact []bool    // per cell: bound holds the exact distance
	pair  []float32 // per cell: mean distance with its farthest neighbour
	cells []float32 // per cell: weighted z-score (patchOutcome.cells)
	// The place term's (place.go): the frame's cells averaged with their
	// neighbours, per cell the distance at its place, and the
	// weighted z-scores.
	near, local, place []float32
}

// patchRefs are the references' cells laid out HWC once per engine.
type patchRefs struct {
	c, h, w int
	cells   [][]float32
	near    [][]float32 // cells averaged with their neighbours (place.go)
}

// nearestAround returns the smallest squared distance of the cell qc at
// (x, y) to the cells of grids[r], r in near, within patchWindow of it.
func (pr *patchRefs) nearestAround(grids [][]float32, qc []float32, x, y int, near []int) float32 {
	c, h, w := pr.c, pr.h, pr.w
	best := float32(math.Inf(1))
	for _, r := range near {
		cells := grids[r]
		for yy := max(0, y-patchWindow); yy <= min(h-1, y+patchWindow); yy++ {
			for xx := max(0, x-patchWindow); xx <= min(w-1, x+patchWindow); xx++ {
				j := yy*w + xx
				if d := sqDistBelow(qc, cells[j*c:(j+1)*c], best); d < best {
					best = d
				}
			}
		}
	}
	return best
}

func newPatchRefs(refs []Reference) *patchRefs {
	f0 := &refs[0].Feat
	pr := &patchRefs{c: f0.C, h: f0.H, w: f0.W, cells: make([][]float32, len(refs))}
	for i := range refs {
		pr.cells[i] = toHWC(&refs[i].Feat, nil)
		pr.near = append(pr.near, neighbourhoods(pr.cells[i], pr.c, pr.h, pr.w, nil))
	}
	return pr
}

// patchScore returns the raw term (the largest mean distance of two
// neighbouring cells of the frame's cells q, HWC on pr's grid, to their
// nearest memory cells) and leaves each cell's mean with its farthest
// neighbour in s.pair. self >= 0 is a reference scored by leave-one-out:
// its memory rows are left out, and backup (rows of other references, C
// each) searched too.
func (pm *PatchMemory) patchScore(pr *patchRefs, q []float32, near []int, self int, backup []float32, s *patchScratch) float64 {
	c, h, w := pr.c, pr.h, pr.w
	n := h * w
	s.bound, s.dist, s.order = grown(s.bound, n), grown(s.dist, n), grown(s.order, n)
	s.exact, s.pair = grown(s.exact, n), grown(s.pair, n)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			s.bound[i], s.order[i] = pr.nearestAround(pr.cells, q[i*c:(i+1)*c], x, y, near), i
			s.dist[i], s.exact[i] = math.Sqrt(float64(s.bound[i])), false
		}
	}
	slices.SortFunc(s.order, func(a, b int) int {
		switch {
		case s.bound[a] > s.bound[b]:
			return -1
		case s.bound[a] < s.bound[b]:
			return 1
		}
		return 0
	})
	var top, peak float64 // the best exact pair, the largest exact distance
	rows := len(pm.Src)
	for _, i := range s.order {
		// Every pair with a cell not yet refined is at most this.
		if b := s.dist[i]; (b+max(peak, b))/2 <= top {
			break
		}
		qc := q[i*c : (i+1)*c]
		best := s.bound[i]
		for r := 0; r < rows; r++ {
			if int(pm.Src[r]) == self {
				continue
			}
			if d := sqDistBelow(qc, pm.Mem[r*c:(r+1)*c], best); d < best {
				best = d
			}
		}
		for r := 0; r+c <= len(backup); r += c {
			if d := sqDistBelow(qc, backup[r:r+c], best); d < best {
				best = d
			}
		}
		d := math.Sqrt(float64(best))
		s.bound[i], s.dist[i], s.exact[i] = best, d, true
		peak = max(peak, d)
		if n == 1 {
			top = d // a lone cell pairs with itself
		}
		x, y := i%w, i/w
		for yy := max(0, y-1); yy <= min(h-1, y+1); yy++ {
			for xx := max(0, x-1); xx <= min(w-1, x+1); xx++ {
				if j := yy*w + xx; j != i && s.exact[j] {
					top = max(top, (d+s.dist[j])/2)
				}
			}
		}
	}
	for i, d := range s.dist {
		far := -1.0
		x, y := i%w, i/w
		for yy := max(0, y-1); yy <= min(h-1, y+1); yy++ {
			for xx := max(0, x-1); xx <= min(w-1, x+1); xx++ {
				if j := yy*w + xx; j != i {
					far = max(far, s.dist[j])
				}
			}
		}
		if far < 0 {
			far = d // a lone cell pairs with itself
		}
		s.pair[i] = float32((d + far) / 2)
	}
	return top
}

// enrolPatchMemory builds the memory from the bank's references and
// calibrates the term by leave-one-out: each good image against the
// memory without its own cells and its nearest other references.
func enrolPatchMemory(bank *Bank, k, workers int) *PatchMemory {
	pr := newPatchRefs(bank.Refs)
	c := pr.c
	var all []float32
	var src []int32
	for i, cells := range pr.cells {
		all = append(all, cells...)
		for range len(cells) / c {
			src = append(src, int32(i))
		}
	}
	rows := len(src)
	keep := min(rows, max(patchCoresetMin, int(patchCoresetShare*float64(rows))))
	pm := &PatchMemory{C: c}
	var sel farthest
	if keep == rows {
		pm.Mem, pm.Src = all, src
	} else {
		sel = farthestPoints(all, c, keep)
		for _, r := range sel.picks {
			pm.Mem = append(pm.Mem, all[r*c:(r+1)*c]...)
			pm.Src = append(pm.Src, src[r])
		}
	}
	n := len(bank.Refs)
	pm.LOO, pm.PlaceLOO = make([]float64, n), make([]float64, n)
	ix := scanIndex(bank.Refs)
	workpool.Each(n, workers, func(i int) {
		near := ix.others(i, k)
		var backup []float32
		if keep < rows {
			backup = pm.backups(all, src, &sel, i)
		}
		s := &patchScratch{}
		pm.LOO[i] = pm.patchScore(pr, pr.cells[i], near, i, backup, s)
		pm.PlaceLOO[i] = placeScore(pr, pr.near[i], near, s)
	})
	pm.Mean, pm.Std = spread(pm.LOO)
	pm.PlaceMean, pm.PlaceStd = spread(pm.PlaceLOO)
	return pm
}

// spread is the mean and standard deviation a term is standardised by,
// the deviation kept off 0 when the good images score alike.
func spread(loo []float64) (mean, std float64) {
	mean, std = meanStd(loo)
	return mean, max(std, sdStructFrac*math.Abs(mean), 1e-9)
}

// backups returns the rows a coreset chosen without reference self would
// hold in place of self's: the farthest-point selection continued, from
// the other references' rows, over the other references' cells (all, by
// source src, with the full selection sel), for as many rows as self had.
// A good image scored by leave-one-out then meets the memory a new frame
// meets: neither the holes where its own rows stood nor rows picked for
// being near it.
func (pm *PatchMemory) backups(all []float32, src []int32, sel *farthest, self int) []float32 {
	c := pm.C
	mine, kept := 0, make([]int, 0, len(pm.Src))
	for r, s := range pm.Src {
		if int(s) == self {
			mine++
		} else {
			kept = append(kept, r)
		}
	}
	if mine == 0 {
		return nil
	}
	rows := len(src)
	dist := make([]float32, rows)
	for i := range rows {
		if int(src[i]) == self {
			dist[i] = -1 // not a candidate
			continue
		}
		if int(pm.Src[sel.nearest[i]]) != self {
			dist[i] = sel.dist[i] // its nearest row stays
			continue
		}
		best := float32(math.Inf(1))
		for _, k := range kept {
			best = min(best, sqDistBelow(all[i*c:(i+1)*c], pm.Mem[k*c:(k+1)*c], best))
		}
		dist[i] = best
	}
	out := make([]float32, 0, mine*c)
	for range mine {
		far := 0
		for i, d := range dist {
			if d > dist[far] {
				far = i
			}
		}
		if dist[far] <= 0 {
			break
		}
		row := all[far*c : (far+1)*c]
		out = append(out, row...)
		for i, d := range dist {
			if d > 0 {
				dist[i] = min(d, sqDistBelow(all[i*c:(i+1)*c], row, d))
			}
		}
	}
	return out
}

// farthest is a farthest-point selection: the rows picked, and each row's
// nearest pick (an index into picks) with its squared distance to it.
type farthest struct {
	picks   []int
	nearest []int32
	dist    []float32
}

// farthestPoints picks n rows of mem by farthest-point selection.
func farthestPoints(mem []float32, c, n int) farthest {
	rows := len(mem) / c
	dist := make([]float32, rows)
	nearest := make([]int32, rows)
	for i := range dist {
		dist[i] = float32(math.Inf(1))
	}
	picks := make([]int, 0, n)
	last := 0
	for len(picks) < n {
		picks = append(picks, last)
		lr := mem[last*c : (last+1)*c]
		best := 0
		for i := 0; i < rows; i++ {
			if d := sqDist(mem[i*c:(i+1)*c], lr); d < dist[i] {
				dist[i], nearest[i] = d, int32(len(picks)-1)
			}
			if dist[i] > dist[best] {
				best = i
			}
		}
		last = best
	}
	return farthest{picks: picks, nearest: nearest, dist: dist}
}

// z and placeZ standardise a raw patch and place score.
func (pm *PatchMemory) z(raw float64) float64      { return (raw - pm.Mean) / pm.Std }
func (pm *PatchMemory) placeZ(raw float64) float64 { return (raw - pm.PlaceMean) / pm.PlaceStd }

// patchOutcome is the patch-memory or the place term of one frame.
type patchOutcome struct {
	z      float64   // weighted, standardised largest cell distance
	cells  []float32 // per feature cell: its weighted z-score
	cw, ch int       // feature grid
	cell   int       // the cell behind z
	kind   string    // what a finding at the cell is
}

// patchTerm scores the frame's standardised features f, whose cells are
// also given HWC, against the memory (patch) and, averaged with their
// neighbours, against the retrieved references near at their place
// (place.go); nil for a term the bank lacks or whose weight is 0.
func (e *Engine) patchTerm(f *FeatureMap, cells []float32, near []int, exclude int, s *patchScratch) (patch, place *patchOutcome) {
	pm := e.bank.Patch
	if pm == nil || e.p.PatchWeight == 0 && e.p.PlaceWeight == 0 {
		return nil, nil
	}
	if e.p.PatchWeight > 0 {
		raw := pm.patchScore(e.patchRefs, cells, near, exclude, nil, s)
		patch = newPatchOutcome(f, e.p.PatchWeight, pm.z, raw, s.pair, &s.cells, KindStructural)
	}
	if e.p.PlaceWeight > 0 {
		s.near = neighbourhoods(cells, f.C, f.H, f.W, s.near)
		raw := placeScore(e.patchRefs, s.near, near, s)
		place = newPatchOutcome(f, e.p.PlaceWeight, pm.placeZ, raw, s.local, &s.place, KindMismatched)
	}
	return patch, place
}

// newPatchOutcome weighs and standardises the raw score and the per-cell
// distances d (in buf) with z.
func newPatchOutcome(f *FeatureMap, w float64, z func(float64) float64, raw float64, d []float32, buf *[]float32, kind string) *patchOutcome {
	*buf = slices.Grow((*buf)[:0], len(d))[:len(d)]
	po := &patchOutcome{z: w * z(raw), cells: *buf, cw: f.W, ch: f.H, cell: -1, kind: kind}
	best := float32(math.Inf(-1))
	for i, v := range d {
		po.cells[i] = float32(w * z(float64(v)))
		if po.cells[i] > best {
			best, po.cell = po.cells[i], i
		}
	}
	return po
}

// paint raises each map pixel to its cell's z-score (the map grid is the
// feature grid upsampled).
func (po *patchOutcome) paint(m []float32, mw, mh int, w float64) {
	for y := 0; y < mh; y++ {
		cy := min(y*po.ch/mh, po.ch-1)
		for x := 0; x < mw; x++ {
			if v := float32(w) * po.cells[cy*po.cw+min(x*po.cw/mw, po.cw-1)]; v > m[y*mw+x] {
				m[y*mw+x] = v
			}
		}
	}
}

// finding is the cell behind the term, as a finding of the term's kind in
// input_size pixels.
func (po *patchOutcome) finding(size int, score float64) Finding {
	x, y := po.cell%po.cw, po.cell/po.cw
	sx, sy := float64(size)/float64(po.cw), float64(size)/float64(po.ch)
	b := image.Rect(int(float64(x)*sx), int(float64(y)*sy), int(float64(x+1)*sx+0.5), int(float64(y+1)*sy+0.5))
	return Finding{Kind: po.kind, Box: b, Area: b.Dx() * b.Dy(), Score: round4(score)}
}

// validate checks that a decoded memory fits the bank (nil: an older bank
// without the term is refused by its version before this).
func (pm *PatchMemory) validate(c, refs int) error {
	if pm == nil {
		return errors.New("patch memory: missing; re-enrol with `samlad enroll`")
	}
	if pm.C != c || len(pm.Mem) != c*len(pm.Src) || len(pm.Src) == 0 {
		return fmt.Errorf("patch memory: %d cells of %d channels do not fit the bank's %d channels; re-enrol with `samlad enroll`", len(pm.Src), pm.C, c)
	}
	for _, s := range pm.Src {
		if s < 0 || int(s) >= refs {
			return fmt.Errorf("patch memory: a cell names reference %d of %d; re-enrol with `samlad enroll`", s, refs)
		}
	}
	if len(pm.LOO) != refs || !(pm.Std > 0) || len(pm.PlaceLOO) != refs || !(pm.PlaceStd > 0) {
		return errors.New("patch memory: calibration does not fit the bank; re-enrol with `samlad enroll`")
	}
	return nil
}
