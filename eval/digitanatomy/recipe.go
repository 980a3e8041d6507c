package digitanatomy

import "github.com/samlad/samlad/config"

// Recipe returns the per-product recipe DigitAnatomy was inspected with
// (its figures are labelled as recipe figures; make eval-recipes): the
// layout step alone, since every rule of the benchmark is positional
// (digit p+1 in cell p, upright, present). Every good image is compared
// on a 4 x 4 grid per part; thin strokes need small segments and more of
// them (segment.min_size, max_objects); the benchmark has no extra digits,
// and strokes split off a digit would look like some (no excess term).
// That mirrored digits are wrong and that strokes are joined into digits
// is learned at enrolment (layout.mirror, layout.group "auto").
func Recipe(base config.Pipeline) config.Pipeline {
	base.Layout.Enabled = true
	base.Layout.Only = true
	base.Layout.Refs = 0
	base.Layout.Grid = 4
	base.Layout.ExcessWeight = 0
	base.Layout.Radius = 0.15
	base.MaxObjects = 24
	base.Segment.MinSize = 20
	return base
}
