package builtin

import (
	"math"
	"slices"

	"github.com/samlad/samlad/infer"
)

// Refinements of the raw FH components (the steps 2-5 of Segmenter), all
// measured on the unsmoothed image colours.
//
// Rims: smoothing turns a sharp object edge into a 1-4 px band of
// intermediate colour, which FH keeps as its own long, thin component
// (it exceeds min_size by its length). A component is thin when none of its
// pixels has its whole 5x5 neighbourhood (clipped to the image) inside the
// component; a thin component is a rim unless it is a thin part on a plain
// background (see dissolveRims). Rim pixels are handed, layer by layer from
// the outside in, to the adjacent kept component whose mean colour is
// nearest to the pixel's.
//
// Colour merge: FH splits a large textured background where its colour
// drifts. Adjacent components whose mean colours (RGB, 0..255) differ by less
// than merge_colour are merged, closest pair first, with updated means.
//
// Boundary relaxation and the final small merge: see relaxBoundaries and
// mergeSmall.

// coreRadius is the half side of the neighbourhood that must lie inside a
// component for it to count as more than a rim.
const coreRadius = 2

// maxRimPasses bounds the outside-in passes; a rim is at most 2*coreRadius
// wide, so a few passes always suffice.
const maxRimPasses = 16

// dissolveRims reassigns rim components and returns the new label count.
func dissolveRims(sc *segScratch, img *infer.Image, count int) int {
	w, h := img.W, img.H
	n := w * h
	label := sc.label[:n]

	// run[i] = 1 when the horizontal window of radius coreRadius around i
	// (clipped) holds only i's label.
	sc.run = grow(sc.run, n)
	run := sc.run
	for y := range h {
		row := label[y*w : y*w+w]
		for x := range w {
			ok := uint8(1)
			for xx := max(x-coreRadius, 0); xx <= min(x+coreRadius, w-1); xx++ {
				if row[xx] != row[x] {
					ok = 0
					break
				}
			}
			run[y*w+x] = ok
		}
	}
	sc.keep = grow(sc.keep, count)
	keep := sc.keep
	clear(keep)
	kept := 0
	for y := range h {
		for x := range w {
			i := y*w + x
			l := label[i]
			if keep[l] || run[i] == 0 {
				continue
			}
			core := true
			for yy := max(y-coreRadius, 0); yy <= min(y+coreRadius, h-1) && core; yy++ {
				j := yy*w + x
				core = run[j] == 1 && label[j] == l
			}
			if core {
				keep[l] = true
				kept++
			}
		}
	}
	if kept == 0 || kept == count {
		return count
	}
	// A thin component stays when the thick components it borders all have
	// one colour and its own colour is not a mix of two neighbours': a wire
	// or a pen stroke on a background (even where strokes enclose a part of
	// it). Rims (mixes) and thin bands between thick segments of different
	// colours (a bevel highlight between a part and the floor) are dissolved.
	adjacency(sc, img, count)
	mean := sc.mean
	sc.thick = append(sc.thick[:0], keep...)
	for l := range count {
		if keep[l] {
			continue
		}
		neighbours(sc, int32(l))
		if oneColour(sc, mean) && !mixOfNeighbours(sc, int32(l), mean) {
			keep[l] = true
			kept++
		}
	}
	if kept == count {
		return count
	}

	sc.pending = sc.pending[:0]
	for i, l := range label {
		if !keep[l] {
			sc.pending = append(sc.pending, int32(i))
			label[i] = -1
		}
	}
	// stamp[i] is the pass that assigned pixel i (0 for kept pixels); a pass
	// only reads pixels assigned before it, so the result is order-free.
	stamp := run // reuse: uint8 is enough for maxRimPasses
	clear(stamp)
	plane := n
	for pass := uint8(1); len(sc.pending) > 0 && pass <= maxRimPasses; pass++ {
		rest := sc.pending[:0]
		for _, p := range sc.pending {
			i := int(p)
			x, y := i%w, i/w
			r, g, b := 255*img.Pix[i], 255*img.Pix[plane+i], 255*img.Pix[2*plane+i]
			best, bestD := int32(-1), float32(math.Inf(1))
			try := func(j int) {
				l := label[j]
				if l < 0 || stamp[j] == pass {
					return
				}
				m := mean[3*l : 3*l+3]
				d := (r-m[0])*(r-m[0]) + (g-m[1])*(g-m[1]) + (b-m[2])*(b-m[2])
				if d < bestD || (d == bestD && l < best) {
					best, bestD = l, d
				}
			}
			each4(i, x, y, w, h, try)
			if best < 0 {
				rest = append(rest, p)
				continue
			}
			label[i] = best
			stamp[i] = pass
		}
		sc.pending = rest
	}
	// Pixels no kept component reaches (none in practice) keep one label.
	for _, p := range sc.pending {
		label[p] = int32(count)
		count++
		keep = append(keep, true)
	}
	sc.keep = keep
	return compact(sc, count)
}

// sameColour is the mean-colour distance (RGB 0..255) within which thick
// neighbours count as one background for a thin component.
const sameColour = 20

// oneColour reports whether the thick components among sc.nbrs have mean
// colours within sameColour of each other.
func oneColour(sc *segScratch, mean []float32) bool {
	for i, a := range sc.nbrs {
		if !sc.thick[a] {
			continue
		}
		for _, b := range sc.nbrs[i+1:] {
			if !sc.thick[b] {
				continue
			}
			var d float32
			for c := range 3 {
				v := mean[3*a+int32(c)] - mean[3*b+int32(c)]
				d += v * v
			}
			if d > sameColour*sameColour {
				return false
			}
		}
	}
	return true
}

// neighbours fills sc.nbrs with the labels adjacent to l (adjacency's pairs).
func neighbours(sc *segScratch, l int32) {
	sc.nbrs = sc.nbrs[:0]
	for _, pr := range sc.pairs {
		a, b := int32(pr>>32), int32(pr&0xffffffff)
		switch l {
		case a:
			sc.nbrs = append(sc.nbrs, b)
		case b:
			sc.nbrs = append(sc.nbrs, a)
		}
	}
}

// mixOfNeighbours reports whether the mean colour of label l lies close to
// the line between the mean colours of two of its neighbours A and B,
// between them (with 10% slack at either end) and within max(12, |A-B|/4)
// of the line (RGB 0..255). Needs adjacency's means and neighbours(l).
func mixOfNeighbours(sc *segScratch, l int32, mean []float32) bool {
	m := mean[3*l : 3*l+3]
	for i, a := range sc.nbrs {
		ma := mean[3*a : 3*a+3]
		for _, b := range sc.nbrs[i+1:] {
			mb := mean[3*b : 3*b+3]
			var dd, dm float32
			for c := range 3 {
				dd += (mb[c] - ma[c]) * (mb[c] - ma[c])
				dm += (m[c] - ma[c]) * (mb[c] - ma[c])
			}
			if dd < 1 {
				continue
			}
			t := dm / dd
			if t < -0.1 || t > 1.1 {
				continue
			}
			var res float32
			for c := range 3 {
				v := m[c] - (ma[c] + t*(mb[c]-ma[c]))
				res += v * v
			}
			if res <= max(12*12, dd/16) {
				return true
			}
		}
	}
	return false
}

// componentMeans returns the mean RGB (0..255) of each label as 3 floats.
func componentMeans(sc *segScratch, img *infer.Image, count int) []float32 {
	n := img.W * img.H
	sc.sums = grow(sc.sums, 4*count)
	clear(sc.sums)
	for i, l := range sc.label[:n] {
		s := sc.sums[4*l : 4*l+4]
		s[0] += float64(img.Pix[i])
		s[1] += float64(img.Pix[n+i])
		s[2] += float64(img.Pix[2*n+i])
		s[3]++
	}
	sc.mean = grow(sc.mean, 3*count)
	for l := range count {
		s := sc.sums[4*l : 4*l+4]
		for k := range 3 {
			sc.mean[3*l+k] = float32(255 * s[k] / max(s[3], 1))
		}
	}
	return sc.mean
}

// compact renumbers the labels in use to 0..k-1 in raster order of first
// pixel and returns k.
func compact(sc *segScratch, count int) int {
	sc.remap = grow(sc.remap, count)
	for i := range sc.remap {
		sc.remap[i] = -1
	}
	k := int32(0)
	for i, l := range sc.label {
		if sc.remap[l] < 0 {
			sc.remap[l] = k
			k++
		}
		sc.label[i] = sc.remap[l]
	}
	return int(k)
}

// adjacency fills sc.pairs with the distinct pairs of 4-adjacent labels
// (lo<<32 | hi) and starts a union-find over the labels in sc.parent, with
// colour sums in sc.sums.
func adjacency(sc *segScratch, img *infer.Image, count int) {
	w, h := img.W, img.H
	label := sc.label
	sc.pairs = sc.pairs[:0]
	add := func(a, b int32) {
		if a != b {
			sc.pairs = append(sc.pairs, uint64(min(a, b))<<32|uint64(max(a, b)))
		}
	}
	for y := range h {
		for x := range w {
			i := y*w + x
			if x+1 < w {
				add(label[i], label[i+1])
			}
			if y+1 < h {
				add(label[i], label[i+w])
			}
		}
	}
	slices.Sort(sc.pairs)
	sc.pairs = slices.Compact(sc.pairs)
	componentMeans(sc, img, count)
	sc.parent = grow(sc.parent, count)
	for i := range count {
		sc.parent[i] = int32(i)
	}
}

// meanDist is the RGB distance (0..255) between the means of roots a and b.
func meanDist(sums []float64, a, b int32) float64 {
	sa, sb := sums[4*a:4*a+4], sums[4*b:4*b+4]
	var d float64
	for k := range 3 {
		v := 255 * (sa[k]/sa[3] - sb[k]/sb[3])
		d += v * v
	}
	return math.Sqrt(d)
}

// mergeClosest repeatedly merges the adjacent pair of roots with the closest
// mean colours among the pairs that eligible accepts (given the roots and
// their distance), until none is left. Ties go to the first pair in order.
func mergeClosest(sc *segScratch, count int, eligible func(k int, a, b int32, d float64) bool) {
	parent, sums := sc.parent[:count], sc.sums
	for {
		best, bestD := -1, math.Inf(1)
		var ba, bb int32
		for k, pr := range sc.pairs {
			a, b := find(parent, int32(pr>>32)), find(parent, int32(pr&0xffffffff))
			if a == b {
				continue
			}
			if d := meanDist(sums, a, b); d < bestD && eligible(k, a, b, d) {
				best, bestD, ba, bb = k, d, min(a, b), max(a, b)
			}
		}
		if best < 0 {
			return
		}
		parent[bb] = ba
		for k := range 4 {
			sums[4*int(ba)+k] += sums[4*int(bb)+k]
		}
	}
}

// relabel applies the union-find of mergeClosest to the labels.
func relabel(sc *segScratch, count int) int {
	for i, l := range sc.label {
		sc.label[i] = find(sc.parent, l)
	}
	return compact(sc, count)
}

// largeMergeShare is the image share above which a segment counts as large
// in the colour merge.
const largeMergeShare = 0.01

// mergeColours merges adjacent components of similar mean colour and
// returns the new label count.
func (s *Segmenter) mergeColours(sc *segScratch, img *infer.Image, count int) int {
	if s.mergeColour <= 0 || count < 2 {
		return count
	}
	adjacency(sc, img, count)
	small := largeMergeShare * float64(img.W*img.H)
	mergeClosest(sc, count, func(k int, a, b int32, d float64) bool {
		// The smaller segment's mean is the less certain one: below 1% of the
		// image the full merge_colour applies, above it the limit shrinks to
		// 3/4 with sqrt(1%/share), so two large regions of distinct shade
		// (neighbouring box compartments) stay apart; a tighter floor would
		// split blotches off a tray.
		m := min(sc.sums[4*a+3], sc.sums[4*b+3])
		limit := s.mergeColour * max(0.75, min(1, math.Sqrt(small/m)))
		return d < limit
	})
	return relabel(sc, count)
}

// mergeSmall merges every component smaller than min_size (boundary moves
// can shrink one) into its adjacent component of the closest mean colour.
func mergeSmall(sc *segScratch, img *infer.Image, count, minSize int) int {
	if minSize <= 1 || count < 2 {
		return count
	}
	adjacency(sc, img, count)
	small := false
	for l := range count {
		small = small || sc.sums[4*l+3] < float64(minSize)
	}
	if !small {
		return count
	}
	limit := float64(minSize)
	mergeClosest(sc, count, func(_ int, a, b int32, _ float64) bool {
		return sc.sums[4*a+3] < limit || sc.sums[4*b+3] < limit
	})
	return relabel(sc, count)
}

// relaxPasses bounds the boundary relaxation; each pass moves a boundary by
// at most one pixel.
const relaxPasses = 2 * coreRadius

// relaxBoundaries moves each boundary pixel to the 4-adjacent component whose
// mean colour is strictly nearest to the pixel's own colour, for a few
// passes with means recomputed per pass. It removes what is left of
// rims that FH joined to a neighbouring segment (a shadow, say). Moves of a
// pass are decided on the labels at its start. Returns the label count.
func relaxBoundaries(sc *segScratch, img *infer.Image, count int) int {
	w, h := img.W, img.H
	n := w * h
	label := sc.label[:n]
	componentMeans(sc, img, count)
	mean, sums := sc.mean, sc.sums
	for range relaxPasses {
		sc.pending = sc.pending[:0]
		sc.remap = sc.remap[:0] // new labels of the pending pixels
		for y := range h {
			for x := range w {
				i := y*w + x
				own := label[i]
				if (x == 0 || label[i-1] == own) && (x+1 == w || label[i+1] == own) &&
					(y == 0 || label[i-w] == own) && (y+1 == h || label[i+w] == own) {
					continue
				}
				r, g, b := 255*img.Pix[i], 255*img.Pix[n+i], 255*img.Pix[2*n+i]
				d2 := func(l int32) float32 {
					m := mean[3*l : 3*l+3]
					return (r-m[0])*(r-m[0]) + (g-m[1])*(g-m[1]) + (b-m[2])*(b-m[2])
				}
				best, bestD := own, d2(own)
				try := func(j int) {
					if l := label[j]; l != own {
						if d := d2(l); d < bestD || (d == bestD && l < best && best != own) {
							best, bestD = l, d
						}
					}
				}
				each4(i, x, y, w, h, try)
				if best != own {
					sc.pending = append(sc.pending, int32(i))
					sc.remap = append(sc.remap, best)
				}
			}
		}
		if len(sc.pending) == 0 {
			break
		}
		// Apply the moves, keeping the colour sums exact, then refresh the means.
		for k, p := range sc.pending {
			from, to := label[p], sc.remap[k]
			label[p] = to
			for c := range 3 {
				v := float64(img.Pix[c*n+int(p)])
				sums[4*from+int32(c)] -= v
				sums[4*to+int32(c)] += v
			}
			sums[4*from+3]--
			sums[4*to+3]++
		}
		for l := range count {
			s := sums[4*l : 4*l+4]
			for c := range 3 {
				mean[3*l+c] = float32(255 * s[c] / max(s[3], 1))
			}
		}
	}
	return compact(sc, count)
}

// Coloured parts (the chroma step). FH and the steps above compare RGB
// distances, so a shaded part splits where its shading darkens: a ball's
// dark half can join its shadow and the grey rim of its compartment, and
// caps keep a crescent of their shadow. Shading scales the three channels alike and
// leaves the chromaticity (r, g, b) / (r + g + b) of a coloured surface in
// place, while shadows on grey or brown surfaces stay low in chroma. A
// segment whose mean colour lies at least partChroma from grey in
// chromaticity is taken as a coloured part. Pass by pass, each boundary
// pixel of another segment whose own (smoothed) chromaticity lies within
// chromaTol of an adjacent part's joins that part, and each boundary pixel
// of a part that is grey (below greyChroma) leaves it for an adjacent
// segment that is not a part. Then adjacent parts of one chromaticity
// merge. Grey images (digits, steel parts) have no parts and are left
// as they are.
const (
	// partChroma lies between the chromaticity of coloured parts and that
	// of wood, floors, backgrounds and brass; chosen on the tuning kinds
	// (eval/results/tuning).
	partChroma = 0.22
	chromaTol  = 0.06
	greyChroma = 0.1
	// hueTol is 1 - cos(20 degrees); partShare the least saturation,
	// relative to the part's, of a pixel that may join it.
	hueTol    = 0.06
	partShare = 0.7
	// darkSum is the RGB sum (0..765) below which sensor noise decides a
	// pixel's chromaticity.
	darkSum = 30
	// chromaReach is how far (pixels at ref_size) a part may grow or
	// shrink: a ball's dark half is up to about 6 px thick at 224 px.
	chromaReach = 8
)

// chromaOf returns the chromaticity of (r, g, b) minus grey's (1/3 each)
// and the RGB sum.
func chromaOf(r, g, b float32) (c [3]float32, sum float32) {
	sum = r + g + b
	if sum <= 0 {
		return c, 0
	}
	return [3]float32{r/sum - 1.0/3, g/sum - 1.0/3, b/sum - 1.0/3}, sum
}

func chromaDist(a, b [3]float32) float32 {
	d0, d1, d2 := a[0]-b[0], a[1]-b[1], a[2]-b[2]
	return float32(math.Sqrt(float64(d0*d0 + d1*d1 + d2*d2)))
}

func chromaNorm(a [3]float32) float32 { return chromaDist(a, [3]float32{}) }

// hueDist is 1 - cos of the angle between pixel chromaticity c and part
// chromaticity p, or +Inf when c is less than partShare of p's distance
// from grey: highlights and dark edges change a part's saturation, not its
// hue, while a brown background of a similar hue is far less saturated
// than an orange part.
func hueDist(c, p [3]float32) float32 {
	nc, np := chromaNorm(c), chromaNorm(p)
	if nc < partShare*np || np == 0 {
		return float32(math.Inf(1))
	}
	return 1 - (c[0]*p[0]+c[1]*p[1]+c[2]*p[2])/(nc*np)
}

// chromaParts grows and trims coloured parts (see above) and returns the
// new label count. passes bounds the growth in pixels.
func chromaParts(sc *segScratch, img *infer.Image, count, passes int) int {
	w, h := img.W, img.H
	n := w * h
	label := sc.label[:n]
	mean := componentMeans(sc, img, count)
	sc.keep = grow(sc.keep, count)
	part := sc.keep[:count]
	sc.chroma = grow(sc.chroma, count)
	pc := sc.chroma[:count]
	any := false
	for l := range count {
		pc[l], _ = chromaOf(mean[3*l], mean[3*l+1], mean[3*l+2])
		part[l] = chromaNorm(pc[l]) >= partChroma
		any = any || part[l]
	}
	if !any {
		return count
	}
	// The smoothed planes (0..255) give each pixel's chromaticity.
	r, g, b := sc.rgb[:n], sc.rgb[n:2*n], sc.rgb[2*n:3*n]
	for range passes {
		sc.pending = sc.pending[:0]
		sc.remap = sc.remap[:0]
		for y := range h {
			for x := range w {
				i := y*w + x
				own := label[i]
				if (x == 0 || label[i-1] == own) && (x+1 == w || label[i+1] == own) &&
					(y == 0 || label[i-w] == own) && (y+1 == h || label[i+w] == own) {
					continue
				}
				c, sum := chromaOf(r[i], g[i], b[i])
				best, bestD := own, float32(math.Inf(1))
				if part[own] {
					bestD = hueDist(c, pc[own])
				}
				peel := part[own] && sum >= darkSum && chromaNorm(c) < greyChroma
				try := func(j int) {
					l := label[j]
					if l == own {
						return
					}
					switch {
					case peel && !part[l]:
						// The nearest mean colour among the non-parts.
						m := mean[3*l : 3*l+3]
						d := (r[i]-m[0])*(r[i]-m[0]) + (g[i]-m[1])*(g[i]-m[1]) + (b[i]-m[2])*(b[i]-m[2])
						if best == own || d < bestD || (d == bestD && l < best) {
							best, bestD = l, d
						}
					case !peel && part[l] && sum >= darkSum:
						if d := hueDist(c, pc[l]); d < hueTol && (d < bestD || (d == bestD && l < best)) {
							best, bestD = l, d
						}
					}
				}
				each4(i, x, y, w, h, try)
				if best != own {
					sc.pending = append(sc.pending, int32(i))
					sc.remap = append(sc.remap, best)
				}
			}
		}
		if len(sc.pending) == 0 {
			break
		}
		for k, p := range sc.pending {
			label[p] = sc.remap[k]
		}
	}
	// Trimming may cut a segment in pieces (one part's dark half and
	// another's, joined by the grey rim between them): each piece gets its
	// own label before the merge.
	count = splitComponents(sc, w, h)
	// Adjacent parts of one hue that share a good length of boundary (a
	// part FH cut in two) merge; two parts that touch at a corner stay apart.
	adjacency(sc, img, count)
	shared, perim := boundaryLengths(sc, w, h, count)
	chroma := func(a int32) [3]float32 {
		s := sc.sums[4*a : 4*a+4]
		c, _ := chromaOf(float32(s[0]), float32(s[1]), float32(s[2]))
		return c
	}
	mergeClosest(sc, count, func(k int, a, b int32, _ float64) bool {
		pr := sc.pairs[k]
		lo, hi := int32(pr>>32), int32(pr&0xffffffff)
		if float64(shared[k]) < sharedBoundary*float64(min(perim[lo], perim[hi])) {
			return false
		}
		ca, cb := chroma(a), chroma(b)
		na, nb := chromaNorm(ca), chromaNorm(cb)
		return na >= partChroma && nb >= partChroma &&
			1-(ca[0]*cb[0]+ca[1]*cb[1]+ca[2]*cb[2])/(na*nb) < hueTol
	})
	return relabel(sc, count)
}

// sharedBoundary is the least share of the shorter boundary that two
// parts must share to merge.
const sharedBoundary = 0.2

// splitComponents gives every 4-connected piece of a label its own label
// (raster order) and returns the count.
func splitComponents(sc *segScratch, w, h int) int {
	n := w * h
	label := sc.label[:n]
	sc.parent = grow(sc.parent, n)
	parent := sc.parent[:n]
	for i := range parent {
		parent[i] = int32(i)
	}
	join := func(a, b int32) {
		ra, rb := find(parent, a), find(parent, b)
		if ra != rb {
			parent[max(ra, rb)] = min(ra, rb)
		}
	}
	for y := range h {
		for x := range w {
			i := y*w + x
			if x > 0 && label[i-1] == label[i] {
				join(int32(i-1), int32(i))
			}
			if y > 0 && label[i-w] == label[i] {
				join(int32(i-w), int32(i))
			}
		}
	}
	return labelComponents(sc, n)
}

// boundaryLengths counts, for each pair of sc.pairs, the 4-adjacent pixel
// pairs across its two labels, and for each label all such pairs.
func boundaryLengths(sc *segScratch, w, h, count int) (shared, perim []int) {
	label := sc.label
	sc.shared, sc.perim = grow(sc.shared, len(sc.pairs)), grow(sc.perim, count)
	shared, perim = sc.shared[:len(sc.pairs)], sc.perim[:count]
	clear(shared)
	clear(perim)
	add := func(a, b int32) {
		if a == b {
			return
		}
		k, _ := slices.BinarySearch(sc.pairs, uint64(min(a, b))<<32|uint64(max(a, b)))
		shared[k]++
		perim[a]++
		perim[b]++
	}
	for y := range h {
		for x := range w {
			i := y*w + x
			if x+1 < w {
				add(label[i], label[i+1])
			}
			if y+1 < h {
				add(label[i], label[i+w])
			}
		}
	}
	return shared, perim
}

// Shadows. A part casts a soft shadow that FH keeps as its own small
// segment when it is dark enough (cap and bar shadows on the box floors
// reach 0.3-0.4% of the image, as large as a ball): a segment that
// matches nothing from one good image to the next. A segment under
// largeMergeShare of the image that touches a coloured part, is not one,
// and is a darker copy of another neighbour (mean chromaticity within
// shadowTol, brightness shadowDark to shadowLight of the neighbour's) joins
// that neighbour. Scenes without coloured parts are left as they are.
const (
	shadowTol   = 0.04
	shadowDark  = 0.4
	shadowLight = 0.95
)

// mergeShadows applies the shadow rule and returns the new label count.
func mergeShadows(sc *segScratch, img *infer.Image, count int) int {
	n := img.W * img.H
	adjacency(sc, img, count)
	sums := sc.sums
	sc.chroma, sc.bright = grow(sc.chroma, count), grow(sc.bright, count)
	chroma, bright := sc.chroma[:count], sc.bright[:count]
	sc.keep = grow(sc.keep, count)
	part := sc.keep[:count]
	any := false
	for l := range count {
		s := sums[4*l : 4*l+4]
		chroma[l], _ = chromaOf(float32(s[0]), float32(s[1]), float32(s[2]))
		bright[l] = (s[0] + s[1] + s[2]) / max(s[3], 1)
		part[l] = chromaNorm(chroma[l]) >= partChroma
		any = any || part[l]
	}
	if !any {
		return count
	}
	limit := largeMergeShare * float64(n)
	merged := false
	for l := range int32(count) {
		if part[l] || sums[4*l+3] >= limit {
			continue
		}
		neighbours(sc, l)
		touches := false
		for _, o := range sc.nbrs {
			touches = touches || part[o]
		}
		if !touches {
			continue
		}
		best, bestD := int32(-1), float32(shadowTol)
		for _, o := range sc.nbrs {
			if part[o] || sums[4*o+3] <= sums[4*l+3] {
				continue
			}
			r := bright[l] / max(bright[o], 1e-9)
			if d := chromaDist(chroma[l], chroma[o]); r >= shadowDark && r <= shadowLight && d < bestD {
				best, bestD = o, d
			}
		}
		if best >= 0 {
			sc.parent[l] = best
			merged = true
		}
	}
	if !merged {
		return count
	}
	return relabel(sc, count)
}

// each4 calls f with the 4-neighbours of pixel i = y*w + x of a w x h
// image.
func each4(i, x, y, w, h int, f func(j int)) {
	if x > 0 {
		f(i - 1)
	}
	if x+1 < w {
		f(i + 1)
	}
	if y > 0 {
		f(i - w)
	}
	if y+1 < h {
		f(i + w)
	}
}
