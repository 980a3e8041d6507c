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
