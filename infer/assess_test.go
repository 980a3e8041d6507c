package infer

import (
	"image"
	"math"
	"testing"
)

// TestLogicalCountFewestUnmatched checks that the logical count is taken
// against the reference that agrees best: a good frame is not charged for
// one reference's odd object, while a part missing from the frame counts
// against every reference, the extra ones (countRefs) included.
func TestLogicalCountFewestUnmatched(t *testing.T) {
	unit := func(i int) []float32 {
		d := make([]float32, 4)
		d[i] = 1
		return d
	}
	// refView is a reference with one stable object per descriptor.
	refView := func(descs ...[]float32) (*view, [][]float32) {
		var boxes []image.Rectangle
		for i := range descs {
			boxes = append(boxes, image.Rect(4*i, 0, 4*i+3, 3))
		}
		v := fragmentView(16, boxes...)
		for i := range v.Objects {
			v.Objects[i].Weight, v.Objects[i].StructScale = 1, 1
		}
		return v, descs
	}
	a, b, c := unit(0), unit(1), unit(2)
	agree, agreeD := refView(a, b)
	odd, oddD := refView(a, b, c) // holds an object the frame has not
	lacks, lacksD := refView(a)   // lacks an object the frame has
	pr := params{k: 2, dustbin: 0.5, matchThreshold: 0.2, tau: 0.05, iters: 100, mode: ModeFull, align: "nn", eps: 0.01, score: "max", workers: 1, structScale: 1}
	count := func(q *view, qDesc [][]float32, refs []*view, refDesc [][][]float32, extra []countRef) float64 {
		return assess(q, qDesc, refs, refDesc, extra, nil, pr, make([]float32, q.W*q.H)).logical
	}

	good, goodD := refView(a, b)
	if got := count(good, goodD, []*view{odd, lacks}, [][][]float32{oddD, lacksD}, []countRef{{agreeD, agree.Objects}}); got > 0.05 {
		t.Errorf("good frame: logical %.3f, want about 0: the extra reference agrees with it", got)
	}
	if got := count(good, goodD, []*view{odd, lacks}, [][][]float32{oddD, lacksD}, nil); got < 0.9 {
		t.Errorf("good frame against two disagreeing references: logical %.3f, want about 1", got)
	}
	missing, missingD := refView(a)
	got := count(missing, missingD, []*view{odd, agree}, [][][]float32{oddD, agreeD}, []countRef{{agreeD, agree.Objects}})
	if math.Abs(got-1) > 0.1 {
		t.Errorf("frame missing a part every reference has: logical %.3f, want about 1", got)
	}
}
