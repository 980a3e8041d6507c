package onnx

import (
	"reflect"
	"testing"
)

func TestPointGridAndCropBoxesMatchSAM(t *testing.T) {
	got := pointGrid(2)
	want := [][2]float32{{0.25, 0.25}, {0.75, 0.25}, {0.25, 0.75}, {0.75, 0.75}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pointGrid(2) = %v, want %v", got, want)
	}
	// SAM generate_crop_boxes((224, 224), 1, 512/1500): overlap int(76.46) = 76,
	// crop side ceil((76 + 224) / 2) = 150, origins 0 and 74.
	boxes, layers := cropBoxes(224, 224, 1)
	wantBoxes := [][4]int{{0, 0, 224, 224}, {0, 0, 150, 150}, {0, 74, 150, 224}, {74, 0, 224, 150}, {74, 74, 224, 224}}
	if !reflect.DeepEqual(boxes, wantBoxes) || !reflect.DeepEqual(layers, []int{0, 1, 1, 1, 1}) {
		t.Errorf("cropBoxes = %v %v, want %v", boxes, layers, wantBoxes)
	}
}

func TestStabilityScore(t *testing.T) {
	// A sharp mask: every logit is far from 0, so both thresholds agree.
	sharp := []float32{-10, -10, 10, 10, 10, -10}
	if s := stabilityScore(sharp, 0, 1); s != 1 {
		t.Errorf("sharp mask stability %v, want 1", s)
	}
	// A soft edge: 2 pixels above +1, 5 above -1 -> 0.4.
	soft := []float32{5, 2, 0.5, 0, -0.5, -3}
	if s := stabilityScore(soft, 0, 1); s != 0.4 {
		t.Errorf("soft mask stability %v, want 0.4", s)
	}
	if s := stabilityScore([]float32{-5, -5}, 0, 1); s != 0 {
		t.Errorf("empty mask stability %v, want 0", s)
	}
}

func TestMaskBoxInclusive(t *testing.T) {
	bits := make([]uint8, 6*5)
	bits[1*6+2], bits[3*6+4] = 1, 1
	box, area := maskBox(bits, 6, 5)
	if box != [4]int{2, 1, 4, 3} || area != 2 {
		t.Errorf("maskBox = %v %d, want [2 1 4 3] 2", box, area)
	}
	if box, area := maskBox(make([]uint8, 4), 2, 2); box != [4]int{} || area != 0 {
		t.Errorf("empty maskBox = %v %d", box, area)
	}
}

func TestNMS(t *testing.T) {
	boxes := [][4]int{
		{0, 0, 10, 10},   // 0: score 0.8
		{1, 1, 11, 11},   // 1: IoU 81/119 = 0.68 with 0, score 0.9
		{0, 0, 10, 9},    // 2: IoU 0.9 with 0, score 0.7
		{50, 50, 60, 60}, // 3: disjoint, score 0.1
	}
	scores := []float64{0.8, 0.9, 0.7, 0.1}
	if got := nms(boxes, scores, 0.7); !reflect.DeepEqual(got, []int{1, 0, 3}) {
		t.Errorf("nms(0.7) = %v, want [1 0 3]", got)
	}
	if got := nms(boxes, scores, 0.5); !reflect.DeepEqual(got, []int{1, 3}) {
		t.Errorf("nms(0.5) = %v, want [1 3]", got)
	}
}

func TestNearCropEdge(t *testing.T) {
	crop := [4]int{74, 0, 224, 150}
	// touches the crop's left edge (x0 = 74), which is inside the image
	if !nearCropEdge([4]int{76, 40, 120, 80}, crop, 224, 224, 4) {
		t.Error("box on the crop's inner edge not flagged")
	}
	// touches the crop's top edge, which is also the image border
	if nearCropEdge([4]int{100, 0, 140, 60}, crop, 224, 224, 4) {
		t.Error("box on the image border flagged")
	}
	if nearCropEdge([4]int{100, 40, 140, 60}, crop, 224, 224, 4) {
		t.Error("interior box flagged")
	}
}

// drawMask builds a w x h mask from rows of '#' and '.'.
func drawMask(rows ...string) ([]uint8, int, int) {
	w, h := len(rows[0]), len(rows)
	bits := make([]uint8, w*h)
	for y, r := range rows {
		for x, c := range r {
			if c == '#' {
				bits[y*w+x] = 1
			}
		}
	}
	return bits, w, h
}

func TestRemoveSmallRegions(t *testing.T) {
	bits, w, h := drawMask(
		"##########",
		"##..######",
		"##..######",
		"##########",
		"..........",
		"........##",
	)
	filled, changed := removeSmallRegions(bits, w, h, 5, true)
	wantFilled, _, _ := drawMask(
		"##########",
		"##########",
		"##########",
		"##########",
		"..........",
		"........##",
	)
	if !changed || !reflect.DeepEqual(filled, wantFilled) {
		t.Errorf("holes: changed=%v\n%v", changed, filled)
	}
	cleaned, changed := removeSmallRegions(filled, w, h, 5, false)
	wantCleaned, _, _ := drawMask(
		"##########",
		"##########",
		"##########",
		"##########",
		"..........",
		"..........",
	)
	if !changed || !reflect.DeepEqual(cleaned, wantCleaned) {
		t.Errorf("islands: changed=%v\n%v", changed, cleaned)
	}
	if _, changed := removeSmallRegions(cleaned, w, h, 5, false); changed {
		t.Error("clean mask reported as changed")
	}
	// Every island small: SAM keeps the largest.
	tiny, w, h := drawMask(
		"#...##",
		"....##",
	)
	kept, _ := removeSmallRegions(tiny, w, h, 10, false)
	wantKept, _, _ := drawMask(
		"....##",
		"....##",
	)
	if !reflect.DeepEqual(kept, wantKept) {
		t.Errorf("all-small islands kept %v, want the largest", kept)
	}
	// A diagonal touch is one region under 8-connectivity.
	diag, w, h := drawMask(
		"##..",
		"##..",
		"..##",
		"..##",
	)
	if _, changed := removeSmallRegions(diag, w, h, 6, false); changed {
		t.Error("8-connected diagonal region split")
	}
}

func TestPostprocessSmallRegionsPrefersUnchanged(t *testing.T) {
	// Two nearly identical masks; the first has a speck that will be removed,
	// so NMS must keep the second (unchanged, score 1).
	a, w, h := drawMask(
		"######....",
		"######....",
		"######....",
		"........#.",
	)
	b, _, _ := drawMask(
		"######....",
		"######....",
		"######....",
		"..........",
	)
	s := &sam{amg: AMG{MinRegionArea: 3}}
	ca := candidate{bits: a, iou: 0.99}
	cb := candidate{bits: b, iou: 0.9}
	got := s.postprocessSmallRegions([]candidate{ca, cb}, w, h, 0.7)
	if len(got) != 1 || got[0].iou != 0.9 || got[0].area != 18 {
		t.Fatalf("kept %d masks, first iou %v area %d; want the unchanged mask", len(got), got[0].iou, got[0].area)
	}
}
