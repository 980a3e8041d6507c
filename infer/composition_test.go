package infer

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/samlad/samlad/config"
)

// compMap is a 2-channel 8x8 feature map of background cells near (0, 0)
// with parts of kind a near (5, 0) at cells a and of kind b near (0, 5) at
// cells b, each cell jittered.
func compMap(rng *rand.Rand, a, b []int) FeatureMap {
	const w, h = 8, 8
	f := FeatureMap{C: 2, H: h, W: w, Data: make([]float32, 2*w*h)}
	for i := range w * h {
		x, y := 0.0, 0.0
		switch {
		case slices.Contains(a, i):
			x = 5
		case slices.Contains(b, i):
			y = 5
		}
		f.Data[i] = float32(x + 0.3*rng.NormFloat64())
		f.Data[w*h+i] = float32(y + 0.3*rng.NormFloat64())
	}
	return f
}

// cellsAt returns n cells of a part at a random place of an 8x8 grid.
func cellsAt(rng *rand.Rand, n int, taken []int) []int {
	for {
		x0, y0 := rng.IntN(7), rng.IntN(7)
		var out []int
		for i := range n {
			out = append(out, (y0+i/2)*8+x0+i%2)
		}
		if !slices.ContainsFunc(out, func(c int) bool { return c >= 64 || slices.Contains(taken, c) }) {
			return out
		}
	}
}

// TestCompositionCountsKinds: good images hold two parts of kind a and one
// of kind b anywhere; a frame with a third a, or without the b, is far from
// every good composition, a good frame with its parts elsewhere is not, and
// the finding points at the part too many.
func TestCompositionCountsKinds(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	frame := func(na, nb int) (FeatureMap, []int) {
		var a, b []int
		for range na {
			a = append(a, cellsAt(rng, 4, append(a, b...))...)
		}
		for range nb {
			b = append(b, cellsAt(rng, 4, append(a, b...))...)
		}
		return compMap(rng, a, b), a
	}
	bank := &Bank{}
	for range 20 {
		f, _ := frame(2, 1)
		bank.Refs = append(bank.Refs, Reference{Name: "good", Feat: f})
	}
	cm := enrolComposition(bank, 3, 1)
	if err := cm.validate(2, bank.Refs); err != nil {
		t.Fatal(err)
	}
	bank.Composition = cm
	p := config.DefaultPipeline()
	e := &Engine{bank: bank, p: p, compSpread: cm.spread(-1)}
	score := func(f FeatureMap) *compOutcome { return e.compTerm(&f, toHWC(&f, nil), -1, &compScratch{}) }

	var good []float64
	for range 10 {
		f, _ := frame(2, 1)
		good = append(good, score(f).z)
	}
	extraMap, extraCells := frame(3, 1)
	extra := score(extraMap)
	missing, _ := frame(2, 0)
	miss := score(missing)
	top := slices.Max(good)
	if extra.z <= top || miss.z <= top {
		t.Fatalf("good frames score up to %.2f; a part too many %.2f and a part missing %.2f should score above", top, extra.z, miss.z)
	}
	if !extra.over || miss.over {
		t.Errorf("over: extra %v (want true), missing %v (want false)", extra.over, miss.over)
	}
	for _, c := range extra.cells {
		if !slices.Contains(extraCells, c) {
			t.Errorf("extra: painted cell %d is not a cell of kind a %v", c, extraCells)
		}
	}
	if f, ok := extra.finding(64, 5); !ok || f.Kind != KindExtra {
		t.Errorf("extra finding %+v, %v", f, ok)
	}
	if f, ok := miss.finding(64, 5); !ok || f.Kind != KindMissing {
		t.Errorf("missing finding %+v, %v", f, ok)
	}
}

// TestKMeansWordsRepeatable: the same cells give the same words, and three
// well-apart clusters get a word each.
func TestKMeansWordsRepeatable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var cells []float32
	for i := range 300 {
		c := float64(i%3) * 10
		cells = append(cells, float32(c+rng.NormFloat64()), float32(-c+rng.NormFloat64()))
	}
	w1, w2 := kmeansWords(cells, 2, 3), kmeansWords(cells, 2, 3)
	if !slices.Equal(w1, w2) {
		t.Fatalf("words differ between runs: %v and %v", w1, w2)
	}
	seen := map[int]bool{}
	for i := range 300 {
		seen[nearestWord(w1, cells[2*i:2*i+2], 2)*3+i%3] = true
	}
	if len(seen) != 3 {
		t.Errorf("the three clusters share words: %d word-cluster pairs, want 3", len(seen))
	}
}
