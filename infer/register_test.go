package infer

import (
	"math"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer/internal/register"
)

func goodScenes(t *testing.T, kind scenes.Kind, n int) []*Image {
	t.Helper()
	var out []*Image
	for s := 1000; s < 1000+n; s++ {
		sc, err := scenes.Generate(kind, int64(s), 224, scenes.Good)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, FromImage(sc.Image, 224))
	}
	return out
}

// A blister on a fixture that moves is learned as one to align; a bag of
// loose parts, whose difference from its median aligning cannot remove,
// is taken as it lies. Hand settings are obeyed.
func TestRegisterRuleLearned(t *testing.T) {
	blister, bag := goodScenes(t, scenes.Blister, 12), goodScenes(t, scenes.Bag, 12)
	_, warps, reg, rule := learnRegistration(blister, 2, config.Auto)
	if !rule.On || !rule.Learned || reg == nil || len(warps) != len(blister) {
		t.Errorf("blister: %s; template %v", rule, reg != nil)
	}
	if rule.After <= rule.Before {
		t.Errorf("blister: aligning lowered the correlation with the template from %.3f to %.3f", rule.Before, rule.After)
	}
	out, warps, reg, rule := learnRegistration(bag, 2, config.Auto)
	if rule.On || reg != nil || warps != nil || &out[0] != &bag[0] {
		t.Errorf("bag: %s; template %v", rule, reg != nil)
	}
	if _, _, reg, rule := learnRegistration(bag, 2, config.On); !rule.On || rule.Learned || reg == nil {
		t.Errorf("bag with register on: %s; template %v", rule, reg != nil)
	}
	if _, _, reg, rule := learnRegistration(blister, 2, config.Off); rule.On || reg != nil {
		t.Errorf("blister with register off: %s; template %v", rule, reg != nil)
	}
}

// frameReader is a segmenter that reads the camera frame, as SAM does.
type frameReader struct{ Segmenter }

func (frameReader) SegmentFrame(*Image, int, int) ([]Mask, error) { return nil, nil }

// A stage that reads the camera frame (SAM) sees it moved as the engine's
// view was: the aligned frame, resized, is the aligned view, for a frame
// that is not square.
func TestAlignFrameFollowsTheView(t *testing.T) {
	const size = 112
	var good []*Image
	for _, g := range goodScenes(t, scenes.Blister, 8) {
		good = append(good, Resize(g, size, size))
	}
	_, _, reg, rule := learnRegistration(good, 2, config.On)
	if reg == nil {
		t.Fatalf("no template: %s", rule)
	}
	sc, err := scenes.Generate(scenes.Blister, 900, 224, scenes.Good)
	if err != nil {
		t.Fatal(err)
	}
	// As a wide camera sees it, the product 24 px right and 12 px up.
	frame, err := warped(Resize(FromImage(sc.Image, 224), 300, 180), register.Warp{1, 0, -24, 0, 1, 12}, nil)
	if err != nil {
		t.Fatal(err)
	}
	view, wp, a := reg.align(Resize(frame, size, size), nil)
	if a.Failed != "" || wp == register.Identity {
		t.Fatalf("the view was not aligned: %+v", a)
	}
	be := &Backend{Segmenter: frameReader{}}
	moved, err := alignFrame(be, frame, size, wp)
	if err != nil {
		t.Fatal(err)
	}
	if got := meanAbsDiff(Resize(moved, size, size), view, 12); got > 0.015 {
		t.Errorf("the aligned frame, resized, differs from the aligned view by %.3f on average", got)
	}
	if f, err := alignFrame(&Backend{}, frame, size, wp); f != nil || err != nil {
		t.Errorf("a backend that reads no frame was handed one (%v)", err)
	}
}

// meanAbsDiff is the mean absolute difference of two images' pixels at
// least margin from their edges (where a moved image replicates its own).
func meanAbsDiff(a, b *Image, margin int) float64 {
	var sum float64
	var n int
	for c := range 3 {
		for y := margin; y < a.H-margin; y++ {
			for x := margin; x < a.W-margin; x++ {
				i := c*a.W*a.H + y*a.W + x
				sum += math.Abs(float64(a.Pix[i] - b.Pix[i]))
				n++
			}
		}
	}
	return sum / float64(n)
}
