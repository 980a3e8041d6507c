package scenes

import "github.com/samlad/samlad/config"

// LayoutRadius is the box recipe's layout.radius: half the spacing of
// neighbouring compartment centres (6.8 of the 16 units of the image
// side), so that a part compares with the good images' parts of its own
// compartment, wherever it lies inside, and not with its neighbours'.
const LayoutRadius = 6.8 / 16 / 2

// Recipe returns the pipeline a kind of scene is inspected with: base, and
// for the box the engine's layout step (infer/layout.go) beside SAM-LAD's
// own scores. The box has a fixed layout of compartments, each with its
// rule, while the parts lie at random poses inside them: a part moved to
// another compartment keeps every count and appearance and is a layout
// anomaly only. The layout descriptor pools each object whole (grid 1), as
// the parts turn freely; every good image is compared (refs 0). Tuning
// seeds 7, 8, 9 at 4480c05 (logical image AUROC, box, the recipe's keys
// given by --config): 79.5, 90.6, 76.0 without the step; 88.0, 91.8, 84.5
// with it (misplaced 58.3, 73.6, 52.8 -> 81.9, 77.1, 75.7). The bag's
// parts lie anywhere: it keeps base.
func Recipe(kind Kind, base config.Pipeline) config.Pipeline {
	if kind != Box {
		return base
	}
	base.Layout.Enabled = true
	base.Layout.Only = false
	base.Layout.Refs = 0
	base.Layout.Radius = LayoutRadius
	base.Layout.Grid = 1
	return base
}
