package builtin

import (
	"fmt"
	"image"
	"math"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/internal/freelist"
	"github.com/samlad/samlad/infer/internal/workpool"
)

// Segmenter is the Felzenszwalb-Huttenlocher efficient graph-based segmenter
// (IJCV 2004) with refinements for objects on textured backgrounds:
//
//  1. FH: the image is smoothed by a Gaussian (sigma), pixels are joined to
//     their 8 neighbours by edges weighted with the Euclidean RGB distance
//     (RGB in 0..255), and edges are merged in increasing weight while the
//     weight does not exceed either component's internal difference plus
//     k/|C|; then components smaller than min_size are merged along the
//     cheapest edges. For an image of other size than ref_size, k scales
//     with the side ratio and min_size with the area ratio.
//  2. Colour merge: adjacent segments closer than merge_colour in mean
//     colour are merged (a grainy background becomes one segment).
//  3. Rims: thin components that smoothing makes along sharp edges are
//     handed to their neighbours; thin parts on a plain background (wires,
//     strokes) stay (refine.go).
//  4. Boundary relaxation: boundary pixels move to the adjacent segment of
//     nearest mean colour, for a few passes.
//  5. Coloured parts: segments of saturated mean colour take in adjacent
//     pixels of their chromaticity and give up grey ones, so a shaded part
//     and its shadow come apart (refine.go, chromaParts).
//  6. Segments that steps 4-5 left under min_size join their closest neighbour.
//
// Every remaining segment is returned as a mask with Score 1; the masks tile
// the image.
type Segmenter struct {
	scale       float32 // k at refArea pixels
	minSize     int     // at refArea pixels
	refArea     int     // 0: scale and minSize are used as given
	mergeColour float64
	kernel      []float32
	workers     int
	pool        freelist.List[segScratch]
}

// segmentVersion names the segmentation algorithm (FH, colour merge, rim
// dissolving, boundary relaxation, small merge); bump it when any changes.
const segmentVersion = "fh8.merge.rim.relax.chroma.v4"

// sortBuckets is the resolution of the counting sort of edge weights
// (0.11 grey levels at 255*sqrt(3)); ties keep raster order.
const sortBuckets = 4096

var maxEdgeWeight = float32(255 * math.Sqrt(3))

// NewSegmenter validates the parameters and returns the segmenter.
func NewSegmenter(p config.Segment, workers int) (*Segmenter, error) {
	if p.Scale < 0 || math.IsNaN(p.Scale) || math.IsInf(p.Scale, 0) {
		return nil, fmt.Errorf("segment.scale = %v: want a finite value >= 0", p.Scale)
	}
	if p.Sigma < 0 || p.Sigma > 10 || math.IsNaN(p.Sigma) {
		return nil, fmt.Errorf("segment.sigma = %v: want 0 <= sigma <= 10", p.Sigma)
	}
	if p.MinSize < 0 {
		return nil, fmt.Errorf("segment.min_size = %d: want >= 0", p.MinSize)
	}
	if p.RefSize < 0 {
		return nil, fmt.Errorf("segment.ref_size = %d: want >= 0 (0 = scale and min_size as given)", p.RefSize)
	}
	if p.MergeColour < 0 || math.IsNaN(p.MergeColour) {
		return nil, fmt.Errorf("segment.merge_colour = %v: want >= 0 (0 = off)", p.MergeColour)
	}
	return &Segmenter{
		scale:       float32(p.Scale),
		minSize:     p.MinSize,
		refArea:     p.RefSize * p.RefSize,
		mergeColour: p.MergeColour,
		kernel:      gaussKernel(p.Sigma),
		workers:     workpool.Workers(workers),
	}, nil
}

type segScratch struct {
	rgb    []float32 // 3 smoothed planes in 0..255, the scaled input, a blur temp
	weight []float32 // 4 per pixel: right, down, down-right, up-right
	order  []int32   // edge ids sorted by weight
	count  []int32
	parent []int32
	size   []int32
	thresh []float32
	label  []int32
	// the image size and edge-weight chunk function of edges; bound once
	// per scratch, as a closure per call would allocate every frame
	w, h          int
	edgeWeightsFn func(lo, hi int)
	// refinement (refine.go)
	run     []uint8
	keep    []bool
	pending []int32
	sums    []float64
	mean    []float32
	remap   []int32
	pairs   []uint64
	nbrs    []int32
	thick   []bool
	// chroma step (refine.go)
	chroma []([3]float32)
	bright []float64
	shared []int
	perim  []int
}

// Segment implements infer.Segmenter.
func (s *Segmenter) Segment(img *infer.Image) ([]infer.Mask, error) {
	if err := checkImage(img, 1); err != nil {
		return nil, fmt.Errorf("builtin segmenter: %w", err)
	}
	sc := s.pool.Get()
	defer s.pool.Put(sc)
	w, h := img.W, img.H
	n := w * h
	s.smooth(sc, img)
	s.edges(sc, w, h)
	k, minSize := s.params(n)
	s.merge(sc, w, n, k, minSize)
	count := labelComponents(sc, n)
	count = s.mergeColours(sc, img, count)
	count = dissolveRims(sc, img, count)
	count = relaxBoundaries(sc, img, count)
	count = chromaParts(sc, img, count, s.reach(n))
	count = mergeShadows(sc, img, count)
	count = mergeSmall(sc, img, count, minSize)
	return masks(sc.label, count, w, h), nil
}

func (s *Segmenter) smooth(sc *segScratch, img *infer.Image) {
	n := img.W * img.H
	sc.rgb = grow(sc.rgb, 5*n)
	scaled, tmp := sc.rgb[3*n:4*n], sc.rgb[4*n:5*n]
	for c := range 3 {
		for i, v := range img.Pix[c*n : (c+1)*n] {
			scaled[i] = 255 * v
		}
		blurPlane(sc.rgb[c*n:(c+1)*n], scaled, tmp, img.W, img.H, s.kernel, s.workers)
	}
}

// edges computes the 4 forward edge weights of every pixel (NaN marks an
// edge leaving the image) and counting-sorts the valid edges by weight.
func (s *Segmenter) edges(sc *segScratch, w, h int) {
	n := w * h
	sc.weight = grow(sc.weight, 4*n)
	if sc.edgeWeightsFn == nil {
		sc.edgeWeightsFn = sc.edgeWeights
	}
	sc.w, sc.h = w, h
	workpool.Range(s.workers, h, sc.edgeWeightsFn)

	sc.count = grow(sc.count, sortBuckets+1)
	clear(sc.count)
	key := func(wt float32) int32 {
		return int32(min(wt*(sortBuckets-1)/maxEdgeWeight, sortBuckets-1))
	}
	valid := 0
	for _, wt := range sc.weight {
		if wt == wt { // not NaN
			sc.count[key(wt)+1]++
			valid++
		}
	}
	for k := 1; k <= sortBuckets; k++ {
		sc.count[k] += sc.count[k-1]
	}
	sc.order = grow(sc.order, valid)
	for id, wt := range sc.weight {
		if wt == wt {
			k := key(wt)
			sc.order[sc.count[k]] = int32(id)
			sc.count[k]++
		}
	}
}

// endpoints returns the two pixels joined by edge id.
func endpoints(id int32, w int) (int32, int32) {
	i := id >> 2
	switch id & 3 {
	case 0:
		return i, i + 1
	case 1:
		return i, i + int32(w)
	case 2:
		return i, i + int32(w) + 1
	default:
		return i, i - int32(w) + 1
	}
}

func find(parent []int32, x int32) int32 {
	for parent[x] != x {
		parent[x] = parent[parent[x]] // path halving
		x = parent[x]
	}
	return x
}

// union joins the roots a and b by size and returns the new root.
func union(parent, size []int32, a, b int32) int32 {
	if size[a] < size[b] {
		a, b = b, a
	}
	parent[b] = a
	size[a] += size[b]
	return a
}

// params returns k and min_size for an image of n pixels: min_size scales
// with the area ratio n/refArea and k with the side ratio, its square root.
// (Scaling k with the area as well merges soft-edged objects into the
// background at 448 px in the generated scenes; the side ratio holds both.)
func (s *Segmenter) params(n int) (k float32, minSize int) {
	if s.refArea == 0 {
		return s.scale, s.minSize
	}
	r := float64(n) / float64(s.refArea)
	k = s.scale * float32(math.Sqrt(r))
	minSize = int(math.Round(float64(s.minSize) * r))
	if s.minSize > 0 {
		minSize = max(minSize, 1)
	}
	return k, minSize
}

// reach returns the chroma step's pass count for an image of n pixels:
// chromaReach at ref_size, following the side.
func (s *Segmenter) reach(n int) int {
	if s.refArea == 0 {
		return chromaReach
	}
	return max(1, int(math.Round(chromaReach*math.Sqrt(float64(n)/float64(s.refArea)))))
}

// merge runs the FH merge over the sorted edges, then the min_size pass.
func (s *Segmenter) merge(sc *segScratch, w, n int, k float32, minSize int) {
	sc.parent = grow(sc.parent, n)
	sc.size = grow(sc.size, n)
	sc.thresh = grow(sc.thresh, n)
	for i := range n {
		sc.parent[i] = int32(i)
		sc.size[i] = 1
		sc.thresh[i] = k // Int({p}) = 0, tau = k/1
	}
	parent, size, thresh := sc.parent, sc.size, sc.thresh
	for _, id := range sc.order {
		p, q := endpoints(id, w)
		a, b := find(parent, p), find(parent, q)
		if a == b {
			continue
		}
		wt := sc.weight[id]
		if wt <= thresh[a] && wt <= thresh[b] {
			// Edges come in increasing weight, so wt is the new internal difference.
			r := union(parent, size, a, b)
			thresh[r] = wt + k/float32(size[r])
		}
	}
	if minSize <= 1 {
		return
	}
	// Count the small components so the pass can stop once none is left.
	small := 0
	for i := range n {
		if parent[i] == int32(i) && int(size[i]) < minSize {
			small++
		}
	}
	for _, id := range sc.order {
		if small == 0 {
			break
		}
		p, q := endpoints(id, w)
		a, b := find(parent, p), find(parent, q)
		if a == b {
			continue
		}
		sa, sb := int(size[a]) < minSize, int(size[b]) < minSize
		if !sa && !sb {
			continue
		}
		r := union(parent, size, a, b)
		if sa {
			small--
		}
		if sb {
			small--
		}
		if int(size[r]) < minSize {
			small++
		}
	}
}

// edgeWeights fills the edge weights of the pixels in rows [lo, hi).
func (sc *segScratch) edgeWeights(lo, hi int) {
	w, h := sc.w, sc.h
	n := w * h
	r, g, b := sc.rgb[:n], sc.rgb[n:2*n], sc.rgb[2*n:3*n]
	dist := func(i, j int) float32 {
		dr, dg, db := r[i]-r[j], g[i]-g[j], b[i]-b[j]
		return float32(math.Sqrt(float64(dr*dr + dg*dg + db*db)))
	}
	nan := float32(math.NaN())
	for y := lo; y < hi; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			e := sc.weight[4*i : 4*i+4]
			e[0], e[1], e[2], e[3] = nan, nan, nan, nan
			if x+1 < w {
				e[0] = dist(i, i+1)
				if y+1 < h {
					e[2] = dist(i, i+w+1)
				}
				if y > 0 {
					e[3] = dist(i, i-w+1)
				}
			}
			if y+1 < h {
				e[1] = dist(i, i+w)
			}
		}
	}
}

// labelComponents writes compact component ids, numbered in raster order of
// their first pixel, to sc.label and returns the count.
func labelComponents(sc *segScratch, n int) int {
	sc.label = grow(sc.label, n)
	label := sc.label
	for i := range label {
		label[i] = -1
	}
	var count int32
	for i := range n {
		// The root's slot holds the component id once any member was seen;
		// it is set at or before the scan reaches the root itself.
		r := find(sc.parent, int32(i))
		if label[r] < 0 {
			label[r] = count
			count++
		}
		label[i] = label[r]
	}
	return int(count)
}

// masks returns one mask per label 0..count-1, all backed by one allocation.
func masks(label []int32, count, w, h int) []infer.Mask {
	n := w * h
	out := make([]infer.Mask, count)
	bits := make([]uint8, count*n)
	for k := range out {
		// An inverted box that the first pixel replaces (image.Rect would reorder it).
		empty := image.Rectangle{Min: image.Pt(w, h)}
		out[k] = infer.Mask{W: w, H: h, Bits: bits[k*n : (k+1)*n : (k+1)*n], Score: 1, Box: empty}
	}
	for y := range h {
		for x := range w {
			m := &out[label[y*w+x]]
			m.Bits[y*w+x] = 1
			m.Area++
			m.Box.Min.X = min(m.Box.Min.X, x)
			m.Box.Min.Y = min(m.Box.Min.Y, y)
			m.Box.Max.X = max(m.Box.Max.X, x+1)
			m.Box.Max.Y = max(m.Box.Max.Y, y+1)
		}
	}
	return out
}
