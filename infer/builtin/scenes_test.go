package builtin

import (
	"image"
	"math"
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

// TestDescriptorsIdentifyPartTypes checks the three stages together on
// generated scenes: each part's segment (the one holding most of its
// pixels), max-pooled over the 8x JBU-upsampled features and standardised
// per channel, must find a part of its own type as its nearest neighbour
// (cosine) among the parts of the other images.
func TestDescriptorsIdentifyPartTypes(t *testing.T) {
	const size, n = 224, 12
	f, up, seg := NewFeatures(0), NewJBU(0), defaultSegmenter(t)
	for _, kind := range scenes.Kinds() {
		type part struct {
			img  int
			typ  string
			desc []float64
		}
		var parts []part
		for s := range n {
			sc, err := scenes.Generate(kind, int64(2000+s), size, scenes.Good)
			if err != nil {
				t.Fatal(err)
			}
			img := infer.FromImage(sc.Image, size)
			fm, err := f.Extract(img)
			if err != nil {
				t.Fatal(err)
			}
			u, err := up.Upsample(img, fm, 8)
			if err != nil {
				t.Fatal(err)
			}
			masks, err := seg.Segment(img)
			if err != nil {
				t.Fatal(err)
			}
			for i, o := range sc.Objects {
				m := holder(masks, sc.Labels, uint16(i+1))
				desc := make([]float64, u.C)
				for c := range desc {
					desc[c] = math.Inf(-1)
					for p, b := range m.Bits {
						if b != 0 {
							desc[c] = max(desc[c], float64(u.Data[c*size*size+p]))
						}
					}
				}
				parts = append(parts, part{s, o.Type, desc})
			}
		}
		// Standardise each channel over all parts, then L2-normalise.
		for c := range parts[0].desc {
			var mean, sq float64
			for _, p := range parts {
				mean += p.desc[c] / float64(len(parts))
			}
			for _, p := range parts {
				sq += (p.desc[c] - mean) * (p.desc[c] - mean) / float64(len(parts))
			}
			for _, p := range parts {
				p.desc[c] = (p.desc[c] - mean) / (math.Sqrt(sq) + 1e-9)
			}
		}
		for _, p := range parts {
			var s float64
			for _, v := range p.desc {
				s += v * v
			}
			for c := range p.desc {
				p.desc[c] /= math.Sqrt(s)
			}
		}
		correct := 0
		for _, a := range parts {
			best, bestType := math.Inf(-1), ""
			for _, b := range parts {
				if b.img == a.img {
					continue
				}
				var dot float64
				for c := range a.desc {
					dot += a.desc[c] * b.desc[c]
				}
				if dot > best {
					best, bestType = dot, b.typ
				}
			}
			if bestType == a.typ {
				correct++
			}
		}
		t.Logf("%s: %d/%d parts have a nearest neighbour of their own type", kind, correct, len(parts))
		if float64(correct) < 0.95*float64(len(parts)) {
			t.Errorf("%s: only %d of %d parts have a nearest neighbour of their own type", kind, correct, len(parts))
		}
	}
}

// holder returns the mask holding most pixels of the part labelled id.
func holder(masks []infer.Mask, labels *image.Gray16, id uint16) infer.Mask {
	w := labels.Rect.Dx()
	best, bestIn := 0, -1
	for k, m := range masks {
		in := 0
		for i, b := range m.Bits {
			if b != 0 && labels.Gray16At(i%w, i/w).Y == id {
				in++
			}
		}
		if in > bestIn {
			best, bestIn = k, in
		}
	}
	return masks[best]
}
