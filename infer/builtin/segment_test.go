package builtin

import (
	"image"
	"math"
	"slices"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
)

func defaultSegmenter(t *testing.T) *Segmenter {
	t.Helper()
	s, err := NewSegmenter(config.DefaultPipeline().Segment, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkPartition asserts that the masks tile the image and that Area and
// Box agree with the bits.
func checkPartition(t *testing.T, masks []infer.Mask, w, h int) {
	t.Helper()
	cover := make([]int, w*h)
	for k, m := range masks {
		if m.W != w || m.H != h || len(m.Bits) != w*h {
			t.Fatalf("mask %d is %dx%d with %d bits, want %dx%d", k, m.W, m.H, len(m.Bits), w, h)
		}
		area := 0
		box := image.Rectangle{}
		for i, b := range m.Bits {
			if b != 0 {
				cover[i]++
				area++
				box = box.Union(image.Rect(i%w, i/w, i%w+1, i/w+1))
			}
		}
		if area != m.Area || box != m.Box || area == 0 {
			t.Fatalf("mask %d: area %d box %v, bits give area %d box %v", k, m.Area, m.Box, area, box)
		}
		if m.Score != 1 {
			t.Fatalf("mask %d score %v, want 1", k, m.Score)
		}
	}
	for i, c := range cover {
		if c != 1 {
			t.Fatalf("pixel (%d,%d) is in %d masks, want 1", i%w, i/w, c)
		}
	}
}

func TestSegmentRecoversObjectsOnTexture(t *testing.T) {
	s := defaultSegmenter(t)
	for _, size := range []int{224, 320, 448} {
		for seed := uint64(1); seed <= 3; seed++ {
			img, gt, shapes := partsScene(size, seed)
			masks, err := s.Segment(img)
			if err != nil {
				t.Fatal(err)
			}
			checkPartition(t, masks, size, size)
			// Each drawn object is one segment.
			for i, g := range gt {
				best := 0.0
				for _, m := range masks {
					best = max(best, iou(g, m.Bits))
				}
				if best < 0.9 {
					t.Errorf("%d px seed %d: %s %d best IoU %.2f, want >= 0.9", size, seed, shapes[i].kind, i, best)
				}
			}
			// And nothing else falls in an object-sized area range
			// (1%..10% of the image): the grainy background is one segment.
			n := size * size
			objects := 0
			for _, m := range masks {
				if m.Area >= n/100 && m.Area <= n/10 {
					objects++
				}
			}
			if objects != len(gt) {
				t.Errorf("%d px seed %d: %d object-sized segments, want %d (of %d segments)", size, seed, objects, len(gt), len(masks))
			}
		}
	}
}

func TestSegmentRespectsMinSize(t *testing.T) {
	img, _, _ := partsScene(224, 2)
	for _, minSize := range []int{20, 50, 200, 1000} {
		s, err := NewSegmenter(config.Segment{Scale: 300, Sigma: 0.8, MinSize: minSize, MergeColour: 20}, 0)
		if err != nil {
			t.Fatal(err)
		}
		masks, err := s.Segment(img)
		if err != nil {
			t.Fatal(err)
		}
		checkPartition(t, masks, 224, 224)
		for k, m := range masks {
			if m.Area < minSize {
				t.Errorf("min_size %d: mask %d has area %d", minSize, k, m.Area)
			}
		}
	}
}

func TestSegmentSimpleImages(t *testing.T) {
	s := defaultSegmenter(t)
	flat := newImage(64, 48, func(x, y int) rgb { return rgb{0.3, 0.5, 0.4} })
	masks, err := s.Segment(flat)
	if err != nil {
		t.Fatal(err)
	}
	if len(masks) != 1 || masks[0].Area != 64*48 {
		t.Fatalf("flat image gives %d segments, want 1 covering it", len(masks))
	}
	halves := newImage(64, 48, func(x, y int) rgb {
		if x < 40 {
			return rgb{0.2, 0.2, 0.8}
		}
		return rgb{0.9, 0.6, 0.1}
	})
	masks, err = s.Segment(halves)
	if err != nil {
		t.Fatal(err)
	}
	checkPartition(t, masks, 64, 48)
	if len(masks) != 2 || masks[0].Box != image.Rect(0, 0, 40, 48) || masks[1].Box != image.Rect(40, 0, 64, 48) {
		t.Fatalf("two halves give %d segments %v, want boxes (0,0)-(40,48) and (40,0)-(64,48)", len(masks), masks)
	}
	one := newImage(1, 1, func(x, y int) rgb { return rgb{1, 1, 1} })
	if masks, err = s.Segment(one); err != nil || len(masks) != 1 {
		t.Fatalf("1x1 image: %d masks, %v", len(masks), err)
	}
}

func TestSegmentBadInput(t *testing.T) {
	s := defaultSegmenter(t)
	for name, img := range map[string]*infer.Image{
		"nil":          nil,
		"zero size":    {},
		"short pixels": {W: 4, H: 4, Pix: make([]float32, 5)},
	} {
		if _, err := s.Segment(img); err == nil {
			t.Errorf("%s image: no error", name)
		}
	}
	for _, p := range []config.Segment{
		{Scale: -1, Sigma: 0.8, MinSize: 50},
		{Scale: 300, Sigma: -0.1, MinSize: 50},
		{Scale: 300, Sigma: 50, MinSize: 50},
		{Scale: 300, Sigma: 0.8, MinSize: -1},
		{Scale: 300, Sigma: 0.8, MinSize: 50, MergeColour: -2},
	} {
		if _, err := NewSegmenter(p, 0); err == nil {
			t.Errorf("segment %+v: no error", p)
		} else {
			t.Logf("%+v: %v", p, err)
		}
	}
}

func TestSegmentDeterministicAcrossWorkers(t *testing.T) {
	img, _, _ := partsScene(224, 7)
	var runs [][]infer.Mask
	for _, workers := range []int{1, 3} {
		s, err := NewSegmenter(config.DefaultPipeline().Segment, workers)
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.Segment(img)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, m)
	}
	if len(runs[0]) != len(runs[1]) {
		t.Fatalf("%d segments with 1 worker, %d with 3", len(runs[0]), len(runs[1]))
	}
	for k := range runs[0] {
		if runs[0][k].Box != runs[1][k].Box || !slices.Equal(runs[0][k].Bits, runs[1][k].Bits) {
			t.Fatalf("segment %d differs between 1 and 3 workers", k)
		}
	}
}

// TestSegmentKeepsThinStrokes: thin parts (wires, pen strokes) 2-4 px wide
// on a plain background must stay segments, not be taken for the blurred
// rims the refinement dissolves.
func TestSegmentKeepsThinStrokes(t *testing.T) {
	s := defaultSegmenter(t)
	for _, width := range []float64{2, 3, 4} {
		stroke := make([]bool, 224*224)
		img := newImage(224, 224, func(x, y int) rgb {
			fx, fy := float64(x), float64(y)
			on := (math.Abs(fy-40) <= width/2 && fx > 20 && fx < 200) || // horizontal
				(math.Abs(fx-200) <= width/2 && fy > 70 && fy < 200) || // vertical
				(math.Abs(fx-fy+10)/math.Sqrt2 <= width/2 && fx > 40 && fx < 170) // diagonal
			if on {
				stroke[y*224+x] = true
				return rgb{0.95, 0.95, 0.9}
			}
			return rgb{0.1, 0.1, 0.12}
		})
		masks, err := s.Segment(img)
		if err != nil {
			t.Fatal(err)
		}
		checkPartition(t, masks, 224, 224)
		// The background is the largest segment; count stroke pixels elsewhere.
		bg := 0
		for k, m := range masks {
			if m.Area > masks[bg].Area {
				bg = k
			}
		}
		kept, total := 0, 0
		for i, on := range stroke {
			if on {
				total++
				if masks[bg].Bits[i] == 0 {
					kept++
				}
			}
		}
		t.Logf("width %.0f: %d segments, %d/%d stroke pixels outside the background", width, len(masks), kept, total)
		if kept < total*8/10 {
			t.Errorf("width %.0f: only %d of %d stroke pixels are segmented apart from the background", width, kept, total)
		}
	}
}
