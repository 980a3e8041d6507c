package infer

import (
	"image"
	"math"
	"testing"
)

// fragmentView paints rectangles as objects 1..n of a w x w label map.
func fragmentView(w int, boxes ...image.Rectangle) *view {
	v := &view{W: w, H: w, C: 1, Feat: make([]float32, w*w), Labels: make([]uint16, w*w)}
	for i, b := range boxes {
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				v.Labels[y*w+x] = uint16(i + 1)
			}
		}
		v.Objects = append(v.Objects, Object{Box: b, Area: b.Dx() * b.Dy()})
	}
	return v
}

func TestFragmentShare(t *testing.T) {
	// Object 0: a matched part 10x20. Object 1: a 10x10 piece cut off its
	// right end (outline 40, 10 of it on object 0). Object 2: a separate
	// 10x10 extra part. Object 3: a large matched floor (40x30) with
	// object 4, a 6x6 part, lying on it (outline 24, all on the floor).
	v := fragmentView(100,
		image.Rect(10, 10, 30, 20),
		image.Rect(30, 10, 40, 20),
		image.Rect(60, 10, 70, 20),
		image.Rect(10, 50, 50, 80),
		image.Rect(20, 60, 26, 66),
	)
	// The floor's label map has a hole where object 4 lies.
	matched := []bool{true, false, false, true, false}
	unmatched := []float64{0, 1, 1, 0, 1}
	cases := []struct {
		i    int
		want float64
		why  string
	}{
		{1, math.Min(1, 10.0/40/fragmentOutline), "piece of a matched part"},
		{2, 0, "separate extra part"},
		{4, 0, "part on a much larger matched region"},
	}
	for _, c := range cases {
		if got := fragmentShare(v, c.i, matched, unmatched); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("object %d (%s): share %.3f, want %.3f", c.i, c.why, got, c.want)
		}
	}
	// A neighbour that went to the dustbin itself is no anchor.
	unmatched[0] = 0.5
	if got := fragmentShare(v, 1, matched, unmatched); got != 0 {
		t.Errorf("piece of an unmatched object: share %.3f, want 0", got)
	}
	// Nor is a matched neighbour far larger than the piece.
	unmatched[0] = 0
	v.Objects[0].Area = fragmentRatio*v.Objects[1].Area + 1
	if got := fragmentShare(v, 1, matched, unmatched); got != 0 {
		t.Errorf("piece next to a %dx larger object: share %.3f, want 0", fragmentRatio, got)
	}
}
