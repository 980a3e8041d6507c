package builtin

import (
	"fmt"
	"math"

	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/internal/freelist"
	"github.com/samlad/samlad/infer/internal/workpool"
)

// checkImage rejects images the stages cannot work on, naming the problem.
func checkImage(img *infer.Image, minSide int) error {
	if img == nil {
		return fmt.Errorf("image is nil")
	}
	if img.W <= 0 || img.H <= 0 {
		return fmt.Errorf("image size %dx%d is empty", img.W, img.H)
	}
	if img.W < minSide || img.H < minSide {
		return fmt.Errorf("image size %dx%d is smaller than %d px", img.W, img.H, minSide)
	}
	if len(img.Pix) != 3*img.W*img.H {
		return fmt.Errorf("image %dx%d has %d values, want 3*W*H = %d", img.W, img.H, len(img.Pix), 3*img.W*img.H)
	}
	return nil
}

// checkFeatureMap rejects malformed feature tensors.
func checkFeatureMap(f *infer.FeatureMap) error {
	if f == nil {
		return fmt.Errorf("feature map is nil")
	}
	if f.C <= 0 || f.H <= 0 || f.W <= 0 {
		return fmt.Errorf("feature map shape %dx%dx%d is empty", f.C, f.H, f.W)
	}
	if len(f.Data) != f.C*f.H*f.W {
		return fmt.Errorf("feature map %dx%dx%d has %d values, want %d", f.C, f.H, f.W, len(f.Data), f.C*f.H*f.W)
	}
	return nil
}

// gaussKernel returns a normalised 1-D Gaussian of the given sigma, truncated
// at radius ceil(3 sigma). sigma <= 0 gives the identity kernel [1].
func gaussKernel(sigma float64) []float32 {
	if sigma <= 0 {
		return []float32{1}
	}
	r := int(math.Ceil(3 * sigma))
	k := make([]float32, 2*r+1)
	var sum float64
	for i := -r; i <= r; i++ {
		v := math.Exp(-float64(i*i) / (2 * sigma * sigma))
		k[i+r] = float32(v)
		sum += v
	}
	for i := range k {
		k[i] = float32(float64(k[i]) / sum)
	}
	return k
}

// blurPlane convolves the W x H plane src with kernel k along x then y, with
// edge replication (ONNX: Pad mode=edge, then two 1-D Conv). tmp must hold
// W*H values; dst may not alias src.
func blurPlane(dst, src, tmp []float32, w, h int, k []float32, workers int) {
	if len(k)/2 == 0 {
		copy(dst, src[:w*h])
		return
	}
	t := blurTasks.Get()
	defer blurTasks.Put(t)
	if t.rowsFn == nil {
		t.rowsFn, t.colsFn = t.rows, t.cols
	}
	t.dst, t.src, t.tmp, t.w, t.h, t.k = dst, src, tmp, w, h, k
	workpool.Range(workers, h, t.rowsFn)
	workpool.Range(workers, h, t.colsFn)
	t.dst, t.src, t.tmp, t.k = nil, nil, nil, nil
}

// blurTask is one blurPlane call. Its chunk functions are bound once per
// task: closures per call would allocate several times a frame.
type blurTask struct {
	dst, src, tmp  []float32
	w, h           int
	k              []float32
	rowsFn, colsFn func(lo, hi int)
}

var blurTasks freelist.List[blurTask]

// rows blurs rows [lo, hi) of src along x into tmp.
func (t *blurTask) rows(lo, hi int) {
	src, tmp, w, k := t.src, t.tmp, t.w, t.k
	r := len(k) / 2
	for y := lo; y < hi; y++ {
		row := src[y*w : y*w+w]
		out := tmp[y*w : y*w+w]
		for x := 0; x < w; x++ {
			var s float32
			if x >= r && x+r < w {
				seg := row[x-r : x+r+1]
				for i, kv := range k {
					s += kv * seg[i]
				}
			} else {
				for i, kv := range k {
					xx := min(max(x+i-r, 0), w-1)
					s += kv * row[xx]
				}
			}
			out[x] = s
		}
	}
}

// cols blurs rows [lo, hi) of dst along y from tmp.
func (t *blurTask) cols(lo, hi int) {
	dst, tmp, w, h, k := t.dst, t.tmp, t.w, t.h, t.k
	r := len(k) / 2
	for y := lo; y < hi; y++ {
		out := dst[y*w : y*w+w]
		for x := range out {
			out[x] = 0
		}
		for i, kv := range k {
			yy := min(max(y+i-r, 0), h-1)
			row := tmp[yy*w : yy*w+w]
			for x, v := range row {
				out[x] += kv * v
			}
		}
	}
}

// grow returns s resized to n, reusing its storage when large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}
