package infer

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// clusteredRefs makes n references whose global vectors (c x g x g) lie
// around a few centres, as good images of one product do. The deviations
// are mostly smooth in space (constant over 3x3 cells: a part lying a bit
// differently), plus a little cell-level noise.
func clusteredRefs(rng *rand.Rand, n, c, g int) []Reference {
	dim := c * g * g
	centres := make([][]float32, 6)
	for i := range centres {
		centres[i] = make([]float32, dim)
		for j := range centres[i] {
			centres[i][j] = float32(rng.NormFloat64())
		}
	}
	refs := make([]Reference, n)
	for i := range refs {
		v := slices.Clone(centres[rng.IntN(len(centres))])
		smooth := make([]float32, c*((g+2)/3)*((g+2)/3))
		for j := range smooth {
			smooth[j] = 0.4 * float32(rng.NormFloat64())
		}
		for ch := 0; ch < c; ch++ {
			for y := 0; y < g; y++ {
				for x := 0; x < g; x++ {
					j := (ch*g+y)*g + x
					v[j] += smooth[(ch*((g+2)/3)+y/3)*((g+2)/3)+x/3] + 0.1*float32(rng.NormFloat64())
				}
			}
		}
		refs[i].Global = v
	}
	return refs
}

func TestRefIndexKeysAreLowerBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	refs := clusteredRefs(rng, 50, 7, 14)
	ix := newRefIndex(refs, 7, 14, 14)
	for li, l := range ix.levels {
		for i := 1; i < len(refs); i++ {
			full := sqDist(refs[i].Global, refs[0].Global)
			lb := sqDist(l.keys[i*l.dim:(i+1)*l.dim], l.keys[:l.dim])
			if lb > full*(1+1e-5) {
				t.Fatalf("level %d ref %d: key distance %v exceeds full %v", li, i, lb, full)
			}
		}
	}
}

// TestRefIndexMatchesScan: a bank within the last budget gets the plain
// scan's exact answer; a larger one references nearly as close.
func TestRefIndexMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 5, exactBudget, 300, 1200} {
		refs := clusteredRefs(rng, n, 5, 15)
		ix := newRefIndex(refs, 5, 15, 15)
		var s retrievalScratch
		found, total := 0, 0
		var gotD, wantD float64
		for q := 0; q < 30; q++ {
			query := clusteredRefs(rng, 1, 5, 15)[0].Global
			for _, k := range []int{1, 2, 4} {
				got := ix.nearest(query, k, &s)
				want := nearestRefs(refs, query, k, -1)
				if len(got) != len(want) {
					t.Fatalf("n %d k %d: %d results, want %d", n, k, len(got), len(want))
				}
				if n <= exactBudget && !slices.Equal(got, want) {
					t.Fatalf("n %d k %d: index %v, scan %v", n, k, got, want)
				}
				for j, g := range got {
					if slices.Contains(want, g) {
						found++
					}
					gotD += float64(sqDist(refs[g].Global, query))
					wantD += float64(sqDist(refs[want[j]].Global, query))
				}
				total += len(want)
			}
		}
		excess := 100 * (gotD/wantD - 1)
		t.Logf("n %d: recall %.3f, found references %.2f%% farther", n, float64(found)/float64(total), excess)
		if excess > 2 {
			t.Errorf("n %d: the index's references are %.2f%% farther than the scan's, want <= 2%%", n, excess)
		}
	}
}
