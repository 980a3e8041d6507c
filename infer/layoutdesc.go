package infer

import (
	"image"
	"math"
	"slices"

	"github.com/samlad/samlad/config"
)

// The layout step's part descriptors: what a part looks like and how it
// is shaped at its place (layout.go).

// layoutDescLen is the length of a layout descriptor of c channels, with
// outline histograms when mirror is on.
func layoutDescLen(c, grid int, mirror bool) int {
	n := grid*grid*(c+1) + layoutFine*layoutFine
	if mirror {
		n += grid * grid * layoutEdgeBins
	}
	return n
}

// layoutDescribe returns the raw layout descriptor of each object of v:
// that of its part (layoutGroups with radius, a fraction of the map side).
// Over the union of the part's boxes: per cell of a grid x grid split, the
// mean feature vector over the cell's pixels that lie in any object and the
// fraction of those pixels in the part; then per cell of a layoutFine x
// layoutFine split, the fraction of its area in the part; then, with
// mirror, per cell of the grid the part outline's orientation histogram
// (layoutEdges). Pooling features
// over all objects in the box rather than the part's alone makes the
// descriptor depend on what is there rather than on how the segmenter cut
// it; the occupancies keep the part's shape. Pixels outside every object
// are left out of the features: the engine computes query features only
// inside objects.
func layoutDescribe(v *view, grid int, radius float64, mirror bool) [][]float32 {
	c := v.C
	cells := grid * grid
	fineCells := layoutFine * layoutFine
	part := layoutGroups(v.Objects, radius*float64(v.W))
	byPart := map[int][]float32{}
	out := make([][]float32, len(v.Objects))
	cnt := make([]int, cells)
	in := make([]int, cells)
	fine := make([]int, fineCells)
	for i := range v.Objects {
		p := part[i]
		if d, ok := byPart[p]; ok {
			out[i] = slices.Clone(d)
			continue
		}
		var box image.Rectangle
		for j, o := range v.Objects {
			if part[j] == p {
				box = box.Union(o.Box)
			}
		}
		d := make([]float32, layoutDescLen(c, grid, mirror))
		clear(cnt)
		clear(in)
		clear(fine)
		bw, bh := box.Dx(), box.Dy()
		for y := box.Min.Y; y < box.Max.Y; y++ {
			gy, fy := (y-box.Min.Y)*grid/bh, (y-box.Min.Y)*layoutFine/bh
			for x := box.Min.X; x < box.Max.X; x++ {
				l := v.Labels[y*v.W+x]
				if l == 0 {
					continue
				}
				cell := gy*grid + (x-box.Min.X)*grid/bw
				cnt[cell]++
				if part[l-1] == p {
					in[cell]++
					fine[fy*layoutFine+(x-box.Min.X)*layoutFine/bw]++
				}
				dst := d[cell*c : (cell+1)*c]
				for ch, f := range v.at(x, y) {
					dst[ch] += f
				}
			}
		}
		for cell, n := range cnt {
			if n == 0 {
				continue
			}
			inv := 1 / float32(n)
			for ch := range c {
				d[cell*c+ch] *= inv
			}
			d[cells*c+cell] = layoutOccupancy * float32(in[cell]) * inv
		}
		// A fine cell spans bw*bh/fineCells pixels (fractions of pixels
		// where the box does not divide evenly).
		cellArea := float32(bw*bh) / float32(fineCells)
		for k, n := range fine {
			d[cells*(c+1)+k] = layoutFineWeight * min(1, float32(n)/cellArea)
		}
		if mirror {
			layoutEdges(d[cells*(c+1)+fineCells:], v, part, p, box, grid)
		}
		byPart[p] = d
		out[i] = d
	}
	return out
}

// groupRadiusLearned groups parts when layout.radius is learned: objects
// are grouped before the reaches are known.
const groupRadiusLearned = 0.1

// groupRadius is the radius layoutDescribe groups objects within when
// they are grouped.
func groupRadius(l config.Layout) float64 {
	if l.Radius == 0 {
		return groupRadiusLearned
	}
	return l.Radius
}

// layoutGroups links objects whose centroids lie within lim map pixels of
// each other, transitively, and returns each object's part: the smallest
// index among its objects. With lim 0 each object is a part of its own.
func layoutGroups(objs []Object, lim float64) []int {
	n := len(objs)
	part := make([]int, n)
	for i := range part {
		part[i] = i
	}
	if lim <= 0 {
		return part
	}
	root := func(i int) int {
		for part[i] != i {
			part[i] = part[part[i]]
			i = part[i]
		}
		return i
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			dx := float64(objs[i].CX - objs[j].CX)
			dy := float64(objs[i].CY - objs[j].CY)
			if dx*dx+dy*dy <= lim*lim {
				a, b := root(i), root(j)
				part[max(a, b)] = min(a, b)
			}
		}
	}
	for i := range part {
		part[i] = root(i)
	}
	return part
}

// layoutEdges writes into dst, per cell of a grid x grid split of box, the
// histogram of the part's outline orientations: the Sobel gradient of the
// part's mask (objects of part p), unsigned, each pixel adding its
// magnitude times max(cos 2(a - a_b), 0)^2 to bin b of angle a_b (as the
// built-in features bin image gradients), each cell's histogram scaled to norm
// layoutEdgeWeight (plus 1 in the denominator, so that a cell with little
// outline stays small). Unlike the backend's features, it mirrors exactly
// (layoutMirror).
func layoutEdges(dst []float32, v *view, part []int, p int, box image.Rectangle, grid int) {
	in := func(x, y int) float64 {
		if x < 0 || y < 0 || x >= v.W || y >= v.H {
			return 0
		}
		if l := v.Labels[y*v.W+x]; l != 0 && part[l-1] == p {
			return 1
		}
		return 0
	}
	var cos2, sin2 [layoutEdgeBins]float64
	for b := range layoutEdgeBins {
		phi := float64(b) * math.Pi / layoutEdgeBins
		cos2[b], sin2[b] = math.Cos(2*phi), math.Sin(2*phi)
	}
	bw, bh := box.Dx(), box.Dy()
	// The outline lies on the box's border pixels and one pixel beyond.
	for y := box.Min.Y - 1; y <= box.Max.Y; y++ {
		cy := min(max((y-box.Min.Y)*grid/bh, 0), grid-1)
		for x := box.Min.X - 1; x <= box.Max.X; x++ {
			gx := in(x+1, y-1) + 2*in(x+1, y) + in(x+1, y+1) - in(x-1, y-1) - 2*in(x-1, y) - in(x-1, y+1)
			gy := in(x-1, y+1) + 2*in(x, y+1) + in(x+1, y+1) - in(x-1, y-1) - 2*in(x, y-1) - in(x+1, y-1)
			m2 := gx*gx + gy*gy
			if m2 == 0 {
				continue
			}
			m := math.Sqrt(m2)
			cell := cy*grid + min(max((x-box.Min.X)*grid/bw, 0), grid-1)
			for b := range layoutEdgeBins {
				if c := ((gx*gx-gy*gy)*cos2[b] + 2*gx*gy*sin2[b]) / m2; c > 0 {
					dst[cell*layoutEdgeBins+b] += float32(m * c * c)
				}
			}
		}
	}
	for cell := range grid * grid {
		h := dst[cell*layoutEdgeBins : (cell+1)*layoutEdgeBins]
		var ss float64
		for _, x := range h {
			ss += float64(x) * float64(x)
		}
		s := float32(layoutEdgeWeight / (math.Sqrt(ss) + 1))
		for b := range h {
			h[b] *= s
		}
	}
}

// layoutMirror returns the raw descriptor d (of c channels, grid) of the
// part mirrored left-right, as far as it is known: the occupancies,
// silhouette and outline histograms mirror exactly (columns reversed, the
// orientation bin of angle a moved to that of pi - a); the features are
// left as they are, since only the backend knows how its channels mirror.
// The mirror term thus compares the part's shape with and without a
// mirror, on the same features.
func layoutMirror(d []float32, c, grid int) []float32 {
	out := slices.Clone(d)
	cells := grid * grid
	occ, fine, edges := d[cells*c:], d[cells*(c+1):], d[cells*(c+1)+layoutFine*layoutFine:]
	oOcc, oFine, oEdges := out[cells*c:], out[cells*(c+1):], out[cells*(c+1)+layoutFine*layoutFine:]
	for gy := range grid {
		for gx := range grid {
			src, dst := gy*grid+gx, gy*grid+grid-1-gx
			oOcc[dst] = occ[src]
			for b := range layoutEdgeBins {
				oEdges[dst*layoutEdgeBins+b] = edges[src*layoutEdgeBins+(layoutEdgeBins-b)%layoutEdgeBins]
			}
		}
	}
	for y := range layoutFine {
		for x := range layoutFine {
			oFine[y*layoutFine+layoutFine-1-x] = fine[y*layoutFine+x]
		}
	}
	return out
}

// layoutMirrors returns the finished descriptors of the parts of raw
// (not yet finished; with outline histograms) mirrored, or nil when the
// bank's step does not tell mirror images apart.
func layoutMirrors(raw [][]float32, lb *LayoutBank) [][]float32 {
	if !lb.Mirror {
		return nil
	}
	grid, mean := lb.Grid, lb.Mean
	c := (len(mean)-layoutFine*layoutFine)/(grid*grid) - 1 - layoutEdgeBins
	out := make([][]float32, len(raw))
	for i, d := range raw {
		out[i] = layoutMirror(d, c, grid)
	}
	return finishLayout(out, mean)
}

// finishLayout centres raw descriptors by mean and L2-normalises them.
func finishLayout(raw [][]float32, mean []float32) [][]float32 {
	for _, d := range raw {
		for i := range d {
			d[i] -= mean[i]
		}
		normalize(d)
	}
	return raw
}
