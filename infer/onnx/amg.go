package onnx

import (
	"math"
	"sort"
)

// Automatic mask generation, ported from segment_anything's
// SamAutomaticMaskGenerator and segment_anything/utils/amg.py. Boxes are
// [x0, y0, x1, y1] with x1, y1 the last pixel inside (inclusive), as SAM's
// batched_mask_to_box returns them.

// cropOverlapRatio and cropNMSThreshold are SAM's defaults.
const (
	cropOverlapRatio = 512.0 / 1500.0
	cropNMSThreshold = 0.7
)

// pointGrid is SAM's build_point_grid: n x n points at cell centres in [0,1].
func pointGrid(n int) [][2]float32 {
	pts := make([][2]float32, 0, n*n)
	off := 1 / (2 * float32(n))
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			// SAM tiles x fastest: points_x = tile(linspace), points_y = tile(linspace).T
			x := off + float32(j)*(1-2*off)/float32(max(n-1, 1))
			y := off + float32(i)*(1-2*off)/float32(max(n-1, 1))
			if n == 1 {
				x, y = 0.5, 0.5
			}
			pts = append(pts, [2]float32{x, y})
		}
	}
	return pts
}

// cropBoxes is SAM's generate_crop_boxes: the whole image, then for layer i
// (1-based) 2^i x 2^i overlapping crops. It returns the boxes ([x0,y0,x1,y1),
// exclusive max) and each box's layer.
func cropBoxes(w, h, layers int) ([][4]int, []int) {
	boxes := [][4]int{{0, 0, w, h}}
	idx := []int{0}
	short := min(w, h)
	cropLen := func(orig, n, overlap int) int {
		return int(math.Ceil(float64(overlap*(n-1)+orig) / float64(n)))
	}
	for l := 0; l < layers; l++ {
		n := 1 << (l + 1)
		overlap := int(cropOverlapRatio * float64(short) * (2 / float64(n)))
		cw, ch := cropLen(w, n, overlap), cropLen(h, n, overlap)
		for i := 0; i < n; i++ { // x0 outer, y0 inner, as itertools.product
			for j := 0; j < n; j++ {
				x0, y0 := (cw-overlap)*i, (ch-overlap)*j
				boxes = append(boxes, [4]int{x0, y0, min(x0+cw, w), min(y0+ch, h)})
				idx = append(idx, l+1)
			}
		}
	}
	return boxes, idx
}

// stabilityScore is SAM's calculate_stability_score: the IoU between the
// mask thresholded at threshold+offset and at threshold-offset.
func stabilityScore(logits []float32, threshold, offset float32) float32 {
	var inter, union int
	hi, lo := threshold+offset, threshold-offset
	for _, v := range logits {
		if v > hi {
			inter++
		}
		if v > lo {
			union++
		}
	}
	if union == 0 {
		return 0
	}
	return float32(inter) / float32(union)
}

// maskBox returns the inclusive bounding box of a w x h binary mask and its
// area; an empty mask gives [0,0,0,0], as in SAM.
func maskBox(bits []uint8, w, h int) ([4]int, int) {
	x0, y0, x1, y1, area := w, h, -1, -1, 0
	for y := 0; y < h; y++ {
		row := bits[y*w : (y+1)*w]
		for x, b := range row {
			if b != 0 {
				area++
				x0, x1 = min(x0, x), max(x1, x)
				y0, y1 = min(y0, y), max(y1, y)
			}
		}
	}
	if area == 0 {
		return [4]int{}, 0
	}
	return [4]int{x0, y0, x1, y1}, area
}

// boxIoU follows torchvision.ops.box_iou on the boxes as given.
func boxIoU(a, b [4]int) float64 {
	areaA := float64(a[2]-a[0]) * float64(a[3]-a[1])
	areaB := float64(b[2]-b[0]) * float64(b[3]-b[1])
	iw := float64(min(a[2], b[2]) - max(a[0], b[0]))
	ih := float64(min(a[3], b[3]) - max(a[1], b[1]))
	if iw <= 0 || ih <= 0 {
		return 0
	}
	inter := iw * ih
	union := areaA + areaB - inter
	if union <= 0 {
		return 0
	}
	return inter / union
}

// nms is greedy box non-maximum suppression (torchvision.ops.nms): it keeps
// boxes in decreasing score order, dropping any whose IoU with a kept box
// exceeds threshold. It returns the kept indices, best first.
func nms(boxes [][4]int, scores []float64, threshold float64) []int {
	order := make([]int, len(boxes))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return scores[order[a]] > scores[order[b]] })
	var keep []int
	for _, i := range order {
		ok := true
		for _, k := range keep {
			if boxIoU(boxes[i], boxes[k]) > threshold {
				ok = false
				break
			}
		}
		if ok {
			keep = append(keep, i)
		}
	}
	return keep
}

// nearCropEdge is SAM's is_box_near_crop_edge: the box touches a crop border
// that is not also an image border (such masks are cut by the crop). Boxes
// and crop are in image coordinates; the crop box has an exclusive max.
func nearCropEdge(box [4]int, crop [4]int, w, h int, atol float64) bool {
	img := [4]int{0, 0, w, h}
	for i := 0; i < 4; i++ {
		nearCrop := math.Abs(float64(box[i]-crop[i])) <= atol
		nearImg := math.Abs(float64(box[i]-img[i])) <= atol
		if nearCrop && !nearImg {
			return true
		}
	}
	return false
}

// removeSmallRegions is SAM's remove_small_regions: with holes, background
// components smaller than minArea are filled; otherwise foreground
// components smaller than minArea are removed (keeping the largest if all
// are small). Connectivity is 8, as cv2.connectedComponentsWithStats. It
// returns the new mask and whether it changed.
func removeSmallRegions(bits []uint8, w, h, minArea int, holes bool) ([]uint8, bool) {
	work := make([]uint8, len(bits))
	for i, b := range bits {
		if (b != 0) != holes {
			work[i] = 1
		}
	}
	labels, sizes := components8(work, w, h)
	var small []bool = make([]bool, len(sizes))
	anySmall := false
	for l, s := range sizes {
		if l > 0 && s < minArea {
			small[l] = true
			anySmall = true
		}
	}
	if !anySmall {
		return bits, false
	}
	out := make([]uint8, len(bits))
	if holes {
		// keep the mask (label 0 of the inverted image) plus the small holes
		for i, l := range labels {
			if l == 0 || small[l] {
				out[i] = 1
			}
		}
		return out, true
	}
	keep := make([]bool, len(sizes))
	any := false
	for l := 1; l < len(sizes); l++ {
		if !small[l] {
			keep[l], any = true, true
		}
	}
	if !any {
		largest := 1
		for l := 2; l < len(sizes); l++ {
			if sizes[l] > sizes[largest] {
				largest = l
			}
		}
		keep[largest] = true
	}
	for i, l := range labels {
		if keep[l] {
			out[i] = 1
		}
	}
	return out, true
}

// components8 labels the 8-connected components of the non-zero pixels;
// label 0 is the background. sizes[l] is the pixel count of label l.
func components8(bits []uint8, w, h int) ([]int32, []int) {
	labels := make([]int32, len(bits))
	sizes := []int{0}
	var stack []int
	for start, b := range bits {
		if b == 0 {
			sizes[0]++
			continue
		}
		if labels[start] != 0 {
			continue
		}
		l := int32(len(sizes))
		sizes = append(sizes, 0)
		labels[start] = l
		stack = append(stack[:0], start)
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			sizes[l]++
			px, py := p%w, p/w
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					x, y := px+dx, py+dy
					if x < 0 || y < 0 || x >= w || y >= h {
						continue
					}
					q := y*w + x
					if bits[q] != 0 && labels[q] == 0 {
						labels[q] = l
						stack = append(stack, q)
					}
				}
			}
		}
	}
	return labels, sizes
}
