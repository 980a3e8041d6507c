package infer_test

import (
	"testing"

	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
)

// TestBackgroundSegmentsCountLittle: the logical score counts unmatched
// objects by their relevance. On box scenes the segmenter also returns
// pieces of rims, floors and shadows that come and go between good
// frames; they must count little against a part the kit always holds, or
// their coming and going hides a missing or extra part.
func TestBackgroundSegmentsCountLittle(t *testing.T) {
	p, bank, scs := enrollGoodBoxes(t, 12)
	var part, bg, bgWeight float64
	var nPart, nBg int
	for i, r := range bank.Refs {
		for k := range r.Objects {
			obj := &r.Objects[k]
			best, typ := 0.0, ""
			for _, o := range scs[i].Objects {
				if v := boxIoU(o.Box, mapToInputBox(obj.Box, r.MapW, p.InputSize)); v > best {
					best, typ = v, o.Type
				}
			}
			switch {
			case best >= 0.5 && typ != scenes.Bar:
				part += infer.Relevance(obj)
				nPart++
			case best < 0.1:
				bg += infer.Relevance(obj)
				bgWeight += float64(obj.Weight)
				nBg++
			}
		}
	}
	if nPart == 0 || nBg == 0 {
		t.Fatalf("%d part and %d background objects; want some of each", nPart, nBg)
	}
	part, bg, bgWeight = part/float64(nPart), bg/float64(nBg), bgWeight/float64(nBg)
	t.Logf("mean relevance: parts %.3f (%d), background %.3f (%d, mean weight %.3f)", part, nPart, bg, nBg, bgWeight)
	if part < 0.8 {
		t.Errorf("parts' mean relevance %.3f, want >= 0.8", part)
	}
	if bg > 0.1 {
		t.Errorf("background segments' mean relevance %.3f, want <= 0.1", bg)
	}
}
