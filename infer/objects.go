package infer

import (
	"cmp"
	"image"
	"slices"
)

// filterMasks keeps the masks whose area, as a fraction of the image, lies
// in [minArea, maxArea] (paper 3.4.2), largest first, at most maxObjects.
func filterMasks(masks []Mask, imgArea int, minArea, maxArea float64, maxObjects int) []Mask {
	out := make([]Mask, 0, len(masks))
	for _, m := range masks {
		f := float64(m.Area) / float64(imgArea)
		if m.Area > 0 && f >= minArea && (maxArea <= 0 || f <= maxArea) {
			out = append(out, m)
		}
	}
	// SortStableFunc, unlike sort.SliceStable, needs no reflection and no allocation.
	slices.SortStableFunc(out, func(a, b Mask) int { return cmp.Compare(b.Area, a.Area) })
	if maxObjects > 0 && len(out) > maxObjects {
		out = out[:maxObjects]
	}
	return out
}

// labelObjects draws the masks onto a W x H label grid (nearest sampling of
// each mask at the grid cell centre; where masks overlap the smaller one,
// drawn last, wins) and measures each object on the grid. Masks that vanish
// at grid resolution are dropped.
func labelObjects(masks []Mask, w, h int) ([]uint16, []Object) {
	labels := make([]uint16, w*h)
	for i, m := range masks {
		if m.W <= 0 || m.H <= 0 || len(m.Bits) != m.W*m.H {
			continue
		}
		sx, sy := float64(m.W)/float64(w), float64(m.H)/float64(h)
		for y := 0; y < h; y++ {
			my := min(int((float64(y)+0.5)*sy), m.H-1)
			row := m.Bits[my*m.W : (my+1)*m.W]
			for x := 0; x < w; x++ {
				if row[min(int((float64(x)+0.5)*sx), m.W-1)] != 0 {
					labels[y*w+x] = uint16(i + 1)
				}
			}
		}
	}
	return relabel(labels, w, h, len(masks))
}

// relabel renumbers labels densely (dropping empty ones) and measures boxes,
// areas and centroids.
func relabel(labels []uint16, w, h, n int) ([]uint16, []Object) {
	type acc struct {
		box    image.Rectangle
		area   int
		sx, sy float64
	}
	// Frames have few objects: their sums fit on the stack.
	var small [64]acc
	accs := small[:0]
	if n+1 <= len(small) {
		accs = small[:n+1]
	} else {
		accs = make([]acc, n+1)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			l := labels[y*w+x]
			if l == 0 {
				continue
			}
			a := &accs[l]
			p := image.Rect(x, y, x+1, y+1)
			if a.area == 0 {
				a.box = p
			} else {
				a.box = a.box.Union(p)
			}
			a.area++
			a.sx += float64(x)
			a.sy += float64(y)
		}
	}
	remap := make([]uint16, n+1)
	var objs []Object
	if n > 0 {
		objs = make([]Object, 0, n)
	}
	for l := 1; l <= n; l++ {
		a := accs[l]
		if a.area == 0 {
			continue
		}
		objs = append(objs, Object{Box: a.box, Area: a.area,
			CX: float32(a.sx / float64(a.area)), CY: float32(a.sy / float64(a.area))})
		remap[l] = uint16(len(objs))
	}
	for i, l := range labels {
		labels[i] = remap[l]
	}
	return labels, objs
}

// view is one image ready for matching and measurement: its upsampled,
// standardised features in pixel-major (HWC) order on the map grid, and
// its objects.
type view struct {
	W, H, C int
	Feat    []float32 // Feat[(y*W+x)*C + c]
	Labels  []uint16
	Objects []Object
}

// at returns the feature vector at grid position (x, y).
func (v *view) at(x, y int) []float32 {
	i := (y*v.W + x) * v.C
	return v.Feat[i : i+v.C]
}

// toHWC transposes a C x H x W map into dst (pixel-major), reusing dst.
func toHWC(f *FeatureMap, dst []float32) []float32 {
	n := f.C * f.H * f.W
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	hw := f.H * f.W
	for y := 0; y < f.H; y++ {
		row := dst[y*f.W*f.C : (y+1)*f.W*f.C]
		for c := 0; c < f.C; c++ {
			src := f.Data[c*hw+y*f.W : c*hw+(y+1)*f.W]
			for x, v := range src {
				row[x*f.C+c] = v
			}
		}
	}
	return dst
}

// pool squeezes each object's feature map to one C-vector: the maximum
// (GMP) or mean (GAP) of mask x features over the object's pixels. Pooling
// over the mask's pixels rather than the whole masked map keeps GAP
// independent of object size and GMP independent of the sign of features.
func pool(v *view, gmp bool) [][]float32 {
	m := len(v.Objects)
	out := make([][]float32, m)
	buf := make([]float32, m*v.C)
	for i := range out {
		out[i] = buf[i*v.C : (i+1)*v.C]
		if gmp {
			for c := range out[i] {
				out[i][c] = -1e30
			}
		}
	}
	for p, l := range v.Labels {
		if l == 0 {
			continue
		}
		o := out[l-1]
		f := v.Feat[p*v.C : (p+1)*v.C]
		if gmp {
			for c, x := range f {
				o[c] = max(o[c], x)
			}
		} else {
			for c, x := range f {
				o[c] += x
			}
		}
	}
	if !gmp {
		for i, o := range out {
			inv := 1 / float32(v.Objects[i].Area)
			for c := range o {
				o[c] *= inv
			}
		}
	}
	return out
}
