package infer

import (
	"math"
	"slices"
	"testing"
)

// TestPatchBackups: the backup of a memory row of the reference left out is
// the nearest cell of the other references (not of itself, however near),
// one per row it owns, and none for a reference that owns no row.
func TestPatchBackups(t *testing.T) {
	// Three references of two 1-channel cells each (C=1, H=1, W=2).
	pr := &patchRefs{c: 1, h: 1, w: 2, cells: [][]float32{{0, 10}, {1, 9}, {4, 20}}}
	pm := &PatchMemory{C: 1, Mem: []float32{0, 10, 20}, Src: []int32{0, 0, 2}}
	if got := pm.backups(pr, 0); !slices.Equal(got, []float32{1, 9}) {
		t.Errorf("backups of reference 0: %v, want [1 9] (reference 1's cells nearest to 0 and 10)", got)
	}
	if got := pm.backups(pr, 2); !slices.Equal(got, []float32{10}) {
		t.Errorf("backups of reference 2: %v, want [10]", got)
	}
	if got := pm.backups(pr, 1); len(got) != 0 {
		t.Errorf("reference 1 owns no row: backups %v", got)
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
