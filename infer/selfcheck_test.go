package infer_test

import (
	"image"
	"math"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
)

// TestRulesLearnFixedAndLoose: enrolment learns from good images alone that
// the bag's parts lie anywhere and that the box's parts stay in their
// compartments.
func TestRulesLearnFixedAndLoose(t *testing.T) {
	if testing.Short() {
		t.Skip("enrols two products")
	}
	p := config.DefaultPipeline()
	_, box := enrollScenes(t, p, scenes.Box, 24)
	_, bag := enrollScenes(t, p, scenes.Bag, 24)
	for name, b := range map[string]*infer.Bank{"box": box, "bag": bag} {
		t.Logf("%s: %s", name, b.Rules)
	}
	if r := bag.Rules; r.Loose <= 2*r.Fixed || r.MedianReach < 0.35 {
		t.Errorf("bag: %d fixed, %d loose parts, median reach %.2f: want loose parts", r.Fixed, r.Loose, r.MedianReach)
	}
	if r := box.Rules; r.Fixed <= r.Loose || r.MedianReach >= 0.35 {
		t.Errorf("box: %d fixed, %d loose parts, median reach %.2f: want parts that keep to their compartments", r.Fixed, r.Loose, r.MedianReach)
	}
	// Joining neighbours would merge the kit's parts.
	if g := box.Rules.Group; !g.Learned || g.On {
		t.Errorf("box: %s; want each part kept apart", g)
	}
	// The self-check ran on both and reports every type it could make.
	for name, b := range map[string]*infer.Bank{"box": box, "bag": bag} {
		sc := b.SelfCheck
		if sc == nil || len(sc.Types) != len(infer.SynthTypes) {
			t.Fatalf("%s: self-check %+v", name, sc)
		}
		t.Logf("%s: %s", name, sc)
		made, caught := 0, 0
		for _, c := range sc.Types {
			made, caught = made+c.Made, caught+c.Caught
			if c.Caught > c.Made {
				t.Errorf("%s: %s caught %d of %d", name, c.Type, c.Caught, c.Made)
			}
		}
		if made < 4*len(b.Refs) || caught == 0 {
			t.Errorf("%s: %d synthetic anomalies made from %d good images, %d caught", name, made, len(b.Refs), caught)
		}
		if sc.Chosen < sc.Unit {
			t.Errorf("%s: learned weights catch %.2f, fewer than all 1s (%.2f)", name, sc.Chosen, sc.Unit)
		}
	}
}

// TestSynthesizedAnomalies: each synthetic type changes the good image, and
// the ones made in place (missing part, scratch, stain) change nothing
// outside the part they were made on.
func TestSynthesizedAnomalies(t *testing.T) {
	p := config.DefaultPipeline()
	p.InputSize, p.Upsample = 128, 4
	_, bank := enrollScenes(t, p, scenes.Box, 6)
	for _, typ := range infer.SynthTypes {
		made := 0
		for r := range bank.Refs {
			img, ref, part := infer.Synthesize(bank, typ, r)
			if img == nil {
				continue
			}
			made++
			changed, outside := 0, 0
			n := img.W * img.H
			for i := 0; i < n; i++ {
				var d float64
				for c := 0; c < 3; c++ {
					d = max(d, math.Abs(float64(img.Pix[c*n+i]-ref.Pix[c*n+i])))
				}
				if d > 1e-6 {
					changed++
					if !image.Pt(i%img.W, i/img.W).In(part) {
						outside++
					}
				}
			}
			if changed < 4 {
				t.Errorf("%s from reference %d: %d pixels changed", typ, r, changed)
			}
			inPlace := typ == infer.SynthMissing || typ == infer.SynthScratch || typ == infer.SynthStain
			if inPlace && outside > 0 {
				t.Errorf("%s from reference %d: %d of %d changed pixels outside the part %v", typ, r, outside, changed, part)
			}
		}
		if made == 0 && typ != infer.SynthMirrored {
			t.Errorf("%s: none made from %d good boxes", typ, len(bank.Refs))
		}
	}
}
