package builtin

import (
	"image"
	"testing"

	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
)

// TestSegmentGeneratedScenes runs the default segmenter on the project's
// scene generator (good bag and box scenes at 224 px, as the engine sees
// them) and checks that the parts come out as segments and that the four box
// compartments stay apart.
func TestSegmentGeneratedScenes(t *testing.T) {
	s := defaultSegmenter(t)
	const size, n = 224, 12
	for _, kind := range scenes.Kinds() {
		found, total, fourFloors := 0, 0, 0
		for seed := int64(1000); seed < 1000+n; seed++ {
			sc, err := scenes.Generate(kind, seed, size, scenes.Good)
			if err != nil {
				t.Fatal(err)
			}
			masks, err := s.Segment(infer.FromImage(sc.Image, size))
			if err != nil {
				t.Fatal(err)
			}
			checkPartition(t, masks, size, size)
			for i, o := range sc.Objects {
				total++
				if segmented(masks, sc.Labels, uint16(i+1), o.Box) {
					found++
				}
			}
			// A compartment floor is about 80x80 px; merged floors are larger.
			floors := 0
			for _, m := range masks {
				dx, dy := m.Box.Dx(), m.Box.Dy()
				if m.Area >= size*size/25 && dx >= 60 && dx <= 100 && dy >= 60 && dy <= 100 {
					floors++
				}
			}
			if floors >= 4 {
				fourFloors++
			}
		}
		share := float64(found) / float64(total)
		t.Logf("%s: %d/%d parts segmented", kind, found, total)
		if share < 0.75 {
			t.Errorf("%s: only %d of %d parts segmented", kind, found, total)
		}
		if kind == scenes.Box {
			t.Logf("box: %d/%d images keep the 4 compartment floors apart", fourFloors, n)
		}
		if kind == scenes.Box && fourFloors < n {
			t.Errorf("box: the 4 compartment floors are separate segments in only %d of %d images", fourFloors, n)
		}
	}
}

// segmented reports whether one mask holds over 80% of the part's pixels
// (labels value id) while lying over 80% inside the part's box (a washer's
// hole may join the washer; the background may not).
func segmented(masks []infer.Mask, labels *image.Gray16, id uint16, box image.Rectangle) bool {
	w := labels.Rect.Dx()
	for _, m := range masks {
		in, part, inBox := 0, 0, 0
		for i, b := range m.Bits {
			x, y := i%w, i/w
			isPart := labels.Gray16At(x, y).Y == id
			if isPart {
				part++
			}
			if b == 0 {
				continue
			}
			if isPart {
				in++
			}
			if image.Pt(x, y).In(box) {
				inBox++
			}
		}
		if part > 0 && float64(in) > 0.8*float64(part) && float64(inBox) > 0.8*float64(m.Area) {
			return true
		}
	}
	return false
}
