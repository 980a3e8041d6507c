package digitanatomy

import "github.com/samlad/samlad/config"

// Recipe returns the per-product recipe DigitAnatomy was inspected with
// (its figures are labelled as recipe figures; make eval-recipes): the
// layout step alone, since every rule of the benchmark is positional
// (digit p+1 in cell p, upright, present). Every good image is compared
// on a 4 x 4 grid per part; mirrored digits are wrong digits
// (layout.mirror); thin strokes need small segments and more of them
// (segment.min_size, max_objects); the benchmark has no extra digits, and
// strokes split off a digit would look like some (no excess term).
func Recipe(base config.Pipeline) config.Pipeline {
	base.Layout.Enabled = true
	base.Layout.Only = true
	base.Layout.Refs = 0
	base.Layout.Grid = 4
	base.Layout.Mirror = config.On
	base.Layout.ExcessWeight = 0
	base.Layout.Radius, base.Layout.Group = 0.15, config.On
	base.MaxObjects = 24
	base.Segment.MinSize = 20
	return base
}
