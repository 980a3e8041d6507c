package digitanatomy

import "github.com/samlad/samlad/config"

// Recipe returns the pipeline DigitAnatomy is inspected with: base plus
// the engine's layout step (infer/layout.go), scored on its own. Every rule
// of the benchmark is positional (digit p+1 in cell p, upright, present),
// which is what the layout step measures; a line recipe for a fixed grid of
// parts would set the same. Random placements (bags) keep it off.
func Recipe(base config.Pipeline) config.Pipeline {
	base.Layout.Enabled = true
	base.Layout.Only = true
	return base
}
