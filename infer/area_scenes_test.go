package infer_test

import (
	"context"
	"image"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
)

// TestCalibratedAreaKeepsBoxParts enrols good box scenes with the area
// filter calibrated (rule 1) and checks that every part of every good
// image becomes an object: the 3 balls, the smallest parts, used to lose
// to the 11-15 floor, rim and table segments under max_objects (0.5-0.75
// balls per image were kept), and the max_area cut must lie between the
// parts and the compartment floors.
func TestCalibratedAreaKeepsBoxParts(t *testing.T) {
	p := config.DefaultPipeline()
	p.MinArea, p.MaxArea = 0, 0
	be, err := builtin.New(p)
	if err != nil {
		t.Fatal(err)
	}
	const n = 12
	good, scs := sceneImages(t, scenes.Box, scenes.Good, 1000, n, p.InputSize)
	bank, err := infer.Enroll(context.Background(), be, p, good, nil)
	if err != nil {
		t.Fatal(err)
	}
	cal := bank.Calib
	t.Logf("min_area %.4f max_area %.4f", cal.MinArea, cal.MaxArea)
	// Parts are up to ~1.3% of the image, compartment floors ~9%.
	if cal.MaxArea < 0.015 || cal.MaxArea > 0.05 {
		t.Errorf("max_area %.4f, want between the parts (<= 1.5%%) and the floors (>= 5%%)", cal.MaxArea)
	}
	parts, kept := 0, 0
	for i, r := range bank.Refs {
		for _, o := range scs[i].Objects {
			parts++
			for _, obj := range r.Objects {
				if boxIoU(o.Box, mapToInputBox(obj.Box, r.MapW, p.InputSize)) >= 0.5 {
					kept++
					break
				}
			}
		}
	}
	t.Logf("%d/%d parts are objects", kept, parts)
	if kept < parts*95/100 {
		t.Errorf("only %d of %d parts of the good images are objects", kept, parts)
	}
}

// mapToInputBox scales a map-grid box to input pixels.
func mapToInputBox(b image.Rectangle, mapW, size int) image.Rectangle {
	s := func(v int) int { return v * size / mapW }
	return image.Rect(s(b.Min.X), s(b.Min.Y), s(b.Max.X), s(b.Max.Y))
}

func boxIoU(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	i := float64(in.Dx() * in.Dy())
	return i / (float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - i)
}
