package infer

import "image"

// Internal functions exposed to the external tests (package infer_test),
// which may import the backends without an import cycle.
var (
	FilterMasks  = filterMasks
	LabelObjects = labelObjects
)

// Synthesize makes synthetic anomaly typ from reference r of bank b with a
// fixed seed, and returns the part it was made on (its box in image pixels)
// with the untouched reference image.
func Synthesize(b *Bank, typ string, r int) (img, ref *Image, part image.Rectangle) {
	s := newSynthesizer(b, 7)
	img = s.make(typ, r, scanIndex(b.Refs).others(r, 4))
	if img == nil {
		return nil, s.image(r), image.Rectangle{}
	}
	return img, s.image(r), s.lastPart
}
