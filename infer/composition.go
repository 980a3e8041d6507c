package infer

import (
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"

	"github.com/samlad/samlad/infer/internal/workpool"
)

// The composition term: how much of each kind of surface the frame holds,
// wherever it lies. Enrolment clusters the good images' feature cells into
// words (k-means); a frame's composition is its count of cells per word. A
// part missing or one too many, a longer bolt or another mix of kinds moves
// cells from one word to another, even where the segmenter joins touching
// parts or cuts one in two, and parts that lie anywhere move none. The raw
// term is the distance to the nearest good image's composition, each word's
// count in units of its spread over the good images, so that a product with
// several good variants is held to its own. (Component histograms compared
// by nearest neighbour, as in ComAD, Liu et al. 2023.)

const (
	// compositionRows bounds the cells k-means clusters (a stride over all
	// of the good images' cells).
	compositionRows = 16384
	// compositionIters bounds the k-means rounds.
	compositionIters = 20
	// compositionFloor is the least spread of a word's count, in cells: a
	// word whose count never varies over the good images still lets a cell
	// or two come and go at a part's edge.
	compositionFloor = 1
)

// Composition is the composition term's enrolled part.
type Composition struct {
	C     int
	Words []float32 // K x C word centres
	// Counts are each reference's cells per word; Assign each reference's
	// word per cell (for the map: where a word is that the frame lacks).
	Counts [][]float32
	Assign [][]uint8
	// Mean and Std standardise the raw term; LOO are the good images'
	// leave-one-out raw values they come from.
	Mean, Std float64
	LOO       []float64
}

// compScratch is the per-inspection scratch of the term.
type compScratch struct {
	assign []uint8
	counts []float32
	cells  []int
}

// kmeansWords clusters the rows of cells (c values each) into k centres,
// from a k-means++ start with a fixed seed, so that enrolment is repeatable.
func kmeansWords(cells []float32, c, k int) []float32 {
	rows := len(cells) / c
	step := max(1, rows/compositionRows)
	var data []float32
	for r := 0; r < rows; r += step {
		data = append(data, cells[r*c:(r+1)*c]...)
	}
	n := len(data) / c
	k = min(k, n)
	rng := rand.New(rand.NewPCG(1, 2))
	words := make([]float32, 0, k*c)
	dist := make([]float32, n)
	for i := range dist {
		dist[i] = float32(math.Inf(1))
	}
	next := rng.IntN(n)
	for len(words) < k*c {
		words = append(words, data[next*c:(next+1)*c]...)
		w := words[len(words)-c:]
		var sum float64
		for i := range n {
			dist[i] = min(dist[i], sqDist(data[i*c:(i+1)*c], w))
			sum += float64(dist[i])
		}
		if sum == 0 {
			break // fewer distinct cells than words
		}
		u := rng.Float64() * sum
		for i := range n {
			if u -= float64(dist[i]); u <= 0 || i == n-1 {
				next = i
				break
			}
		}
	}
	k = len(words) / c
	assign := make([]int, n)
	for i := range assign {
		assign[i] = -1
	}
	sums := make([]float64, k*c)
	sizes := make([]int, k)
	for range compositionIters {
		moved := false
		for i := range n {
			if w := nearestWord(words, data[i*c:(i+1)*c], c); w != assign[i] {
				assign[i], moved = w, true
			}
		}
		if !moved {
			break
		}
		clear(sums)
		clear(sizes)
		for i, w := range assign {
			sizes[w]++
			for j, v := range data[i*c : (i+1)*c] {
				sums[w*c+j] += float64(v)
			}
		}
		for w := range k {
			if sizes[w] == 0 {
				continue // an empty word keeps its centre
			}
			for j := range c {
				words[w*c+j] = float32(sums[w*c+j] / float64(sizes[w]))
			}
		}
	}
	return words
}

// nearestWord returns the index of the centre in words (c values each)
// nearest to v.
func nearestWord(words, v []float32, c int) int {
	best, arg := float32(math.Inf(1)), 0
	for w := 0; w*c < len(words); w++ {
		if d := sqDistBelow(v, words[w*c:(w+1)*c], best); d < best {
			best, arg = d, w
		}
	}
	return arg
}

// countWords assigns each cell of hwc (c values each) its nearest word
// into assign and adds the cell to counts, shared between its two nearest
// words in inverse proportion to their distances: a cell at a part's edge,
// or of a shade between two words, moves its count smoothly as the part or
// the lighting moves, where a hard choice would flip it.
func countWords(words, hwc []float32, c int, assign []uint8, counts []float32) {
	clear(counts)
	for i := range assign {
		v := hwc[i*c : (i+1)*c]
		d1, d2 := math.Inf(1), math.Inf(1)
		w1, w2 := 0, -1
		for w := 0; w*c < len(words); w++ {
			d := float64(sqDist(v, words[w*c:(w+1)*c]))
			switch {
			case d < d1:
				d2, w2 = d1, w1
				d1, w1 = d, w
			case d < d2:
				d2, w2 = d, w
			}
		}
		assign[i] = uint8(w1)
		if w2 < 0 || d1 == 0 {
			counts[w1]++
			continue
		}
		r1, r2 := math.Sqrt(d1), math.Sqrt(d2)
		counts[w1] += float32(r2 / (r1 + r2))
		counts[w2] += float32(r1 / (r1 + r2))
	}
}

// enrolComposition learns k words from the bank's references, counts each
// reference's cells per word and calibrates the term by leave-one-out.
func enrolComposition(bank *Bank, k, workers int) *Composition {
	c := bank.Refs[0].Feat.C
	hwc := make([][]float32, len(bank.Refs))
	var all []float32
	for i := range bank.Refs {
		hwc[i] = toHWC(&bank.Refs[i].Feat, nil)
		all = append(all, hwc[i]...)
	}
	cm := &Composition{C: c, Words: kmeansWords(all, c, k)}
	nw := len(cm.Words) / c
	cm.Counts, cm.Assign = make([][]float32, len(hwc)), make([][]uint8, len(hwc))
	workpool.Each(len(hwc), workers, func(i int) {
		cm.Assign[i], cm.Counts[i] = make([]uint8, len(hwc[i])/c), make([]float32, nw)
		countWords(cm.Words, hwc[i], c, cm.Assign[i], cm.Counts[i])
	})
	cm.LOO = make([]float64, len(hwc))
	for i := range cm.LOO {
		cm.LOO[i], _ = cm.distance(cm.Counts[i], cm.spread(i), i)
	}
	cm.Mean, cm.Std = meanStd(cm.LOO)
	cm.Std = max(cm.Std, sdStructFrac*math.Abs(cm.Mean), 1e-9)
	return cm
}

// distance returns the distance of counts to the nearest reference's (other
// than exclude), each word's difference in units of its spread scale over
// the references (without exclude), and that reference.
func (cm *Composition) distance(counts []float32, scale []float64, exclude int) (float64, int) {
	best, arg := math.Inf(1), -1
	for r, rc := range cm.Counts {
		if r == exclude {
			continue
		}
		var d float64
		for w, v := range counts {
			x := float64(v-rc[w]) / scale[w]
			d += x * x
		}
		if d < best {
			best, arg = d, r
		}
	}
	return math.Sqrt(best), arg
}

// spread is each word's standard deviation of count over the references
// other than exclude, at least compositionFloor.
func (cm *Composition) spread(exclude int) []float64 {
	nw := len(cm.Words) / cm.C
	out := make([]float64, nw)
	for w := range nw {
		var xs []float64
		for r, rc := range cm.Counts {
			if r != exclude {
				xs = append(xs, float64(rc[w]))
			}
		}
		_, sd := meanStd(xs)
		out[w] = max(sd, compositionFloor)
	}
	return out
}

// z standardises a raw value.
func (cm *Composition) z(raw float64) float64 { return (raw - cm.Mean) / cm.Std }

// compOutcome is the composition term of one frame.
type compOutcome struct {
	z      float64 // weighted, standardised distance
	over   bool    // the word that differs most is there too often (else too seldom)
	cells  []int   // feature cells of that word to paint: the frame's, or the nearest reference's where it is too seldom
	cw, ch int
}

// compTerm scores the frame's standardised features f, whose cells are
// also given HWC; nil when the bank has no composition or its weight is 0.
func (e *Engine) compTerm(f *FeatureMap, cells []float32, exclude int, s *compScratch) *compOutcome {
	cm := e.bank.Composition
	if cm == nil || e.p.CompositionWeight == 0 {
		return nil
	}
	c, n := cm.C, f.W*f.H
	s.assign = grown(s.assign, n)
	s.counts = grown(s.counts, len(cm.Words)/c)
	countWords(cm.Words, cells, c, s.assign, s.counts)
	scale := e.compSpread
	if exclude >= 0 {
		scale = cm.spread(exclude)
	}
	raw, near := cm.distance(s.counts, scale, exclude)
	co := &compOutcome{z: e.p.CompositionWeight * cm.z(raw), cw: f.W, ch: f.H}
	if near < 0 {
		return co
	}
	// The word whose count changed most for its size, and where it is: a
	// part too many or too few takes its cells from or gives them to the
	// background, whose count changes as much but is large.
	word, top := 0, -1.0
	for w, v := range s.counts {
		ref := cm.Counts[near][w]
		if d := math.Abs(float64(v-ref)) / float64(max(v, ref)+compositionFloor); d > top {
			word, top = w, d
		}
	}
	co.over = s.counts[word] > cm.Counts[near][word]
	src, other := s.assign, cm.Assign[near]
	if !co.over {
		src, other = other, src
	}
	s.cells = s.cells[:0]
	for i, w := range src {
		if int(w) == word && int(other[i]) != word {
			s.cells = append(s.cells, i)
		}
	}
	if len(s.cells) == 0 { // the same places: all of the word's cells
		for i, w := range src {
			if int(w) == word {
				s.cells = append(s.cells, i)
			}
		}
	}
	co.cells = s.cells
	return co
}

// paint raises the map pixels of the outcome's cells to its z-score.
func (co *compOutcome) paint(m []float32, mw, mh int, w float64) {
	v := float32(w * co.z)
	for _, i := range co.cells {
		cx, cy := i%co.cw, i/co.cw
		for y := cy * mh / co.ch; y < (cy+1)*mh/co.ch; y++ {
			for x := cx * mw / co.cw; x < (cx+1)*mw/co.cw; x++ {
				m[y*mw+x] = max(m[y*mw+x], v)
			}
		}
	}
}

// finding is the outcome's cells as one finding in input_size pixels: extra
// where the frame holds too much of a kind, missing where too little.
func (co *compOutcome) finding(size int, score float64) (Finding, bool) {
	if len(co.cells) == 0 {
		return Finding{}, false
	}
	var b image.Rectangle
	for _, i := range co.cells {
		b = b.Union(image.Rect(i%co.cw, i/co.cw, i%co.cw+1, i/co.cw+1))
	}
	sx, sy := float64(size)/float64(co.cw), float64(size)/float64(co.ch)
	box := image.Rect(int(float64(b.Min.X)*sx), int(float64(b.Min.Y)*sy), int(float64(b.Max.X)*sx+0.5), int(float64(b.Max.Y)*sy+0.5))
	kind := KindMissing
	if co.over {
		kind = KindExtra
	}
	return Finding{Kind: kind, Box: box, Area: int(float64(len(co.cells)) * sx * sy), Score: round4(score)}, true
}

// validate checks that a decoded composition fits the bank (nil: the term
// is off).
func (cm *Composition) validate(c int, refs []Reference) error {
	if cm == nil {
		return nil
	}
	nw := 0
	if cm.C > 0 {
		nw = len(cm.Words) / cm.C
	}
	if cm.C != c || nw == 0 || nw > 256 || len(cm.Words) != nw*c || len(cm.Counts) != len(refs) || len(cm.Assign) != len(refs) || len(cm.LOO) != len(refs) || !(cm.Std > 0) {
		return errors.New("composition: does not fit the bank; re-enrol with `samlad enroll`")
	}
	for i, r := range refs {
		if len(cm.Counts[i]) != nw || len(cm.Assign[i]) != r.Feat.W*r.Feat.H {
			return fmt.Errorf("composition: reference %s does not fit; re-enrol with `samlad enroll`", r.Name)
		}
	}
	return nil
}
