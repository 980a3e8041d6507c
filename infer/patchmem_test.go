package infer

import (
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
// to the part that belongs there in the place term.
func TestPlaceSeesSwappedCells(t *testing.T) {
	// Two references of seven 1-channel cells (C=1, H=1, W=7): part A (0)
	// at the left end, part B (10) at the right, background 5 between.
	good := []float32{0, 5, 5, 5, 5, 5, 10}
	pr := &patchRefs{c: 1, h: 1, w: 7, cells: [][]float32{good, good}}
	pm := &PatchMemory{C: 1, Mem: []float32{0, 5, 10}, Src: []int32{0, 0, 1}}
	s := &patchScratch{}
	patch, place := pm.patchScore(pr, good, []int{0, 1}, -1, nil, s)
	if patch != 0 || place != 0 {
		t.Errorf("a good frame scores patch %g and place %g, want 0 and 0", patch, place)
	}
	swapped := []float32{10, 5, 5, 5, 5, 5, 0}
	patch, place = pm.patchScore(pr, swapped, []int{0, 1}, -1, nil, s)
	if patch != 0 {
		t.Errorf("swapped parts score patch %g, want 0: the memory holds both kinds", patch)
	}
	if place != 5 {
		t.Errorf("swapped parts score place %g, want 5 (part B against A and the background beside it)", place)
	}
	if s.local[0] != 25 || s.local[3] != 0 {
		t.Errorf("place distances per cell %v, want 25 (squared) at the swapped ends and 0 between", s.local)
	}
}
