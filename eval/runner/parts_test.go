package runner

import (
	"context"
	"image"
	"path/filepath"
	"testing"

	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
)

// oracle segments each image into its true parts (read from the split's
// part masks in order); merged returns one segment covering everything.
type oracle struct {
	labels [][]uint8
	size   int
	merged bool
}

func (o *oracle) Segment(img *infer.Image) ([]infer.Mask, error) {
	l := o.labels[0]
	o.labels = o.labels[1:]
	if o.merged {
		m := infer.Mask{W: o.size, H: o.size, Bits: make([]uint8, len(l)), Box: image.Rect(0, 0, o.size, o.size)}
		for i := range m.Bits {
			m.Bits[i], m.Area = 1, m.Area+1
		}
		return []infer.Mask{m}, nil
	}
	var out []infer.Mask
	for id := uint8(1); id < 255; id++ {
		m := infer.Mask{W: o.size, H: o.size, Bits: make([]uint8, len(l))}
		for i, v := range l {
			if v == id {
				m.Bits[i] = 1
				m.Area++
				m.Box = m.Box.Union(image.Rect(i%o.size, i/o.size, i%o.size+1, i/o.size+1))
			}
		}
		if m.Area > 0 {
			out = append(out, m)
		}
	}
	return out, nil
}

// Part recall reads the split's per-part masks: segments equal to the true
// parts find every part; one segment over the whole image finds none.
func TestPartRecall(t *testing.T) {
	dir := t.TempDir()
	tr, err := scenes.WriteSplit(dir, scenes.SplitOptions{Kind: scenes.Blister, Layout: scenes.MVTecAD, Size: 96, Seed: 3, TrainGood: 3})
	if err != nil {
		t.Fatal(err)
	}
	const size = 96
	for _, merged := range []bool{false, true} {
		o := &oracle{size: size, merged: merged}
		for _, im := range tr.Images {
			l, err := readLabels(filepath.Join(dir, filepath.FromSlash(im.Parts)), size)
			if err != nil {
				t.Fatal(err)
			}
			o.labels = append(o.labels, l)
		}
		pr, err := MeasurePartRecall(context.Background(), o, dir, size)
		if err != nil {
			t.Fatal(err)
		}
		want := 24 // 8 tablets in each of 3 images
		if merged {
			want = 0
		}
		if pr.Images != 3 || pr.Parts.N != 24 || pr.Parts.K != want || pr.Types["capsule"].N != 9 || pr.PartsIoU.N != 24 || (!merged && pr.PartsIoU.K != 24) {
			t.Errorf("merged %v: %d images, parts %+v, types %v", merged, pr.Images, pr.Parts, pr.Types)
		}
	}
}
