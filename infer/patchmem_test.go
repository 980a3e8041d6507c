package infer

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPatchBackups: the backups of the reference left out are the rows a
// coreset chosen without it would hold: the farthest-point selection
// continued from the other references' rows over their cells, as many as
// it owned (not the cells nearest its own, which a new frame would not
// meet), and none for a reference that owns no row.
func TestPatchBackups(t *testing.T) {
	// Three references of two 1-channel cells each.
	all := []float32{0, 10, 1, 9, 4, 20}
	src := []int32{0, 0, 1, 1, 2, 2}
	sel := farthestPoints(all, 1, 3)
	pm := &PatchMemory{C: 1}
	for _, r := range sel.picks {
		pm.Mem, pm.Src = append(pm.Mem, all[r]), append(pm.Src, src[r])
	}
	if !slices.Equal(pm.Mem, []float32{0, 20, 10}) {
		t.Fatalf("coreset %v, want [0 20 10]", pm.Mem)
	}
	// Without reference 0 the memory keeps 20; 1 lies farthest from it,
	// then 9 from both.
	if got := pm.backups(all, src, &sel, 0); !slices.Equal(got, []float32{1, 9}) {
		t.Errorf("backups of reference 0: %v, want [1 9]", got)
	}
	// Without reference 2 the memory keeps 0 and 10; of the others' cells
	// 1 and 9 lie farthest from it, 1 away (the first wins), though 10, the
	// cell nearest its own row 20, lies nearer that.
	if got := pm.backups(all, src, &sel, 2); !slices.Equal(got, []float32{1}) {
		t.Errorf("backups of reference 2: %v, want [1]", got)
	}
	if got := pm.backups(all, src, &sel, 1); len(got) != 0 {
		t.Errorf("reference 1 owns no row: backups %v", got)
	}
}

// The backups, which reuse each cell's nearest row from the full
// selection, equal the selection continued from scratch.
func TestPatchBackupsBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const c, refs, per, keep = 3, 6, 20, 25
	all := make([]float32, c*refs*per)
	src := make([]int32, refs*per)
	for i := range all {
		all[i] = float32(rng.NormFloat64())
	}
	for i := range src {
		src[i] = int32(i / per)
	}
	sel := farthestPoints(all, c, keep)
	pm := &PatchMemory{C: c}
	for _, r := range sel.picks {
		pm.Mem, pm.Src = append(pm.Mem, all[r*c:(r+1)*c]...), append(pm.Src, src[r])
	}
	for self := range refs {
		var mem [][]float32
		mine := 0
		for r, s := range pm.Src {
			if int(s) == self {
				mine++
			} else {
				mem = append(mem, pm.Mem[r*c:(r+1)*c])
			}
		}
		var want []float32
		for range mine {
			far, farD := -1, float32(0)
			for i := range src {
				if int(src[i]) == self {
					continue
				}
				d := float32(math.Inf(1))
				for _, m := range mem {
					d = min(d, sqDist(all[i*c:(i+1)*c], m))
				}
				if d > farD {
					far, farD = i, d
				}
			}
			if far < 0 {
				break
			}
			mem = append(mem, all[far*c:(far+1)*c])
			want = append(want, all[far*c:(far+1)*c]...)
		}
		if got := pm.backups(all, src, &sel, self); !slices.Equal(got, want) {
			t.Errorf("reference %d: backups %v, want %v", self, got, want)
		}
	}
}

// TestPlaceSeesSwappedCells: two parts swapped between their places score
// nothing in the patch memory, which holds both kinds, and their distance
// to the neighbourhood that belongs there in the place term.
func TestPlaceSeesSwappedCells(t *testing.T) {
	// Two references of seven 1-channel cells (C=1, H=1, W=7): part A (0)
	// at the left end, part B (10) at the right, background 5 between.
	good := []float32{0, 5, 5, 5, 5, 5, 10}
	pr := &patchRefs{c: 1, h: 1, w: 7, cells: [][]float32{good, good}}
	for _, cells := range pr.cells {
		pr.near = append(pr.near, neighbourhoods(cells, 1, 1, 7, nil))
	}
	want := []float64{2.5, 10.0 / 3, 5, 5, 5, 20.0 / 3, 7.5}
	for i, v := range pr.near[0] {
		if math.Abs(float64(v)-want[i]) > 1e-5 {
			t.Fatalf("neighbourhoods %v, want %v (each cell averaged with the cells beside it)", pr.near[0], want)
		}
	}
	pm := &PatchMemory{C: 1, Mem: []float32{0, 5, 10}, Src: []int32{0, 0, 1}}
	s := &patchScratch{}
	if patch, place := pm.patchScore(pr, good, []int{0, 1}, -1, nil, s), placeScore(pr, pr.near[0], []int{0, 1}, s); patch != 0 || place != 0 {
		t.Errorf("a good frame scores patch %g and place %g, want 0 and 0", patch, place)
	}
	swapped := []float32{10, 5, 5, 5, 5, 5, 0}
	if patch := pm.patchScore(pr, swapped, []int{0, 1}, -1, nil, s); patch != 0 {
		t.Errorf("swapped parts score patch %g, want 0: the memory holds both kinds", patch)
	}
	// The swapped end's neighbourhood (7.5) against the good ones within a
	// cell of it (2.5 and 10/3).
	place := placeScore(pr, neighbourhoods(swapped, 1, 1, 7, nil), []int{0, 1}, s)
	if math.Abs(place-(7.5-10.0/3)) > 1e-5 {
		t.Errorf("swapped parts score place %g, want %g", place, 7.5-10.0/3)
	}
	if s.local[3] != 0 {
		t.Errorf("place distances per cell %v, want 0 in the middle, where nothing moved", s.local)
	}
}

// TestPatchScorePairs: the term is the largest mean distance of two
// neighbouring cells, so a lone far cell counts half and a defect over two
// cells in full; the pruned search agrees with scoring every pair.
func TestPatchScorePairs(t *testing.T) {
	// One reference of five 1-channel cells in a row, all 0: the memory.
	pr := &patchRefs{c: 1, h: 1, w: 5, cells: [][]float32{{0, 0, 0, 0, 0}}}
	pm := &PatchMemory{C: 1, Mem: []float32{0}, Src: []int32{0}}
	s := &patchScratch{}
	if got := pm.patchScore(pr, []float32{0, 0, 4, 0, 0}, []int{0}, -1, nil, s); got != 2 {
		t.Errorf("a lone cell at distance 4 scores %g, want 2", got)
	}
	if got := pm.patchScore(pr, []float32{0, 0, 4, 4, 0}, []int{0}, -1, nil, s); got != 4 {
		t.Errorf("two neighbouring cells at distance 4 score %g, want 4", got)
	}
	if want := []float32{0, 2, 4, 4, 2}; !slices.Equal(s.pair, want) {
		t.Errorf("per-cell pair means %v, want %v", s.pair, want)
	}
	// A random 2-channel 9 x 7 frame against a random memory of 3
	// references: the pruned search returns the best pair of exact
	// distances, and no cell's pair mean in the map exceeds it.
	rng := rand.New(rand.NewPCG(3, 4))
	const c, h, w = 2, 7, 9
	random := func() []float32 {
		v := make([]float32, c*h*w)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	pr = &patchRefs{c: c, h: h, w: w, cells: [][]float32{random(), random(), random()}}
	pm = &PatchMemory{C: c}
	for r, cells := range pr.cells {
		pm.Mem = append(pm.Mem, cells...)
		for range h * w {
			pm.Src = append(pm.Src, int32(r))
		}
	}
	for trial := range 20 {
		q := random()
		got := pm.patchScore(pr, q, []int{0, 1}, -1, nil, s)
		exact := make([]float64, h*w)
		for i := range exact {
			best := math.Inf(1)
			for r := 0; r < len(pm.Src); r++ {
				best = min(best, float64(sqDist(q[i*c:(i+1)*c], pm.Mem[r*c:(r+1)*c])))
			}
			exact[i] = math.Sqrt(best)
		}
		var want float64
		for i := range exact {
			for j := range exact {
				if dx, dy := i%w-j%w, i/w-j/w; i != j && dx*dx <= 1 && dy*dy <= 1 {
					want = max(want, (exact[i]+exact[j])/2)
				}
			}
		}
		if math.Abs(got-want) > 1e-5 {
			t.Fatalf("trial %d: pruned search %g, every pair %g", trial, got, want)
		}
		if top := slices.Max(s.pair); math.Abs(float64(top)-want) > 1e-5 {
			t.Fatalf("trial %d: map maximum %g, score %g", trial, top, want)
		}
	}
}
