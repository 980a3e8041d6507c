package config

// Layout configures the engine's layout step (infer/layout.go): each object
// is scored against the objects at its own position in a larger set of good
// references, relative to the objects at the other positions, and
// reference objects left uncovered at their position count as missing.
// Where a part may lie is learned per part at enrolment (its reach), so
// the step serves fixed layouts and loose parts alike.
type Layout struct {
	// Enabled turns the layout step on.
	Enabled bool `toml:"enabled"`
	// Refs is how many nearest good references each query is compared with
	// (0 = all of the bank).
	Refs int `toml:"refs"`
	// Radius is the distance between object centroids, as a fraction of the
	// image side, within which a reference object counts as "at the same
	// position", and within which objects are grouped into one part (a
	// part the segmenter cut into pieces is described as one); about half
	// the spacing between neighbouring slots.
	Radius float64 `toml:"radius"`
	// Group joins the objects within Radius of each other into one part:
	// "auto" (enrolment learns it from the good images: on when joining
	// makes the number of parts per good image clearly steadier than the
	// number of segments, as for handwritten digits the segmenter cuts into
	// strokes), "on" or "off" (parts the segmenter keeps whole, where
	// joining would merge a part with its neighbours).
	Group Switch `toml:"group"`
	// Mirror says whether a part's left-right mirror image counts as wrong:
	// "auto" (enrolment learns it from the good images: on when their parts
	// fit their like in the other good images clearly better than their
	// mirror images do, as handwritten digits or left and right brackets;
	// off for symmetric parts and parts that turn over freely), "on" or
	// "off". When on, the descriptor gains the part outline's orientation
	// histograms and a part that resembles its position's parts better
	// when mirrored counts as out of place.
	Mirror Switch `toml:"mirror"`
	// Grid is the number of cells per side of the layout descriptor: the
	// part's box (the union of its objects' boxes) is split into Grid x
	// Grid cells, each pooled separately, so that the descriptor keeps the
	// part's shape and orientation.
	Grid int `toml:"grid"`
	// ObjectWeight scales the standardised "part out of place" value (a
	// part resembling another position's good parts more than its own's,
	// or none well); 0 leaves it out, for recipes without positions (a
	// bag of loose parts) that use the step to count parts.
	ObjectWeight float64 `toml:"object_weight"`
	// MissingWeight scales the standardised "position left empty" value
	// against the object value; 0 leaves it out. It also rises where a
	// part is present but odd, and good images where the segmenter lost a
	// part give it a long tail, so below 1 it does not outrank odd parts.
	MissingWeight float64 `toml:"missing_weight"`
	// ExcessWeight scales the standardised "part too many" value: a part
	// left over when each good image's parts claim the nearest similar part
	// of the frame, one each; 0 leaves it out. For layouts where one part
	// too many is a defect (kits, trays); 0 where the segmenter leaves
	// pieces of parts over (handwritten digits cut into strokes).
	ExcessWeight float64 `toml:"excess_weight"`
	// Only makes the layout z-score the image score on its own, for recipes
	// whose every rule is positional (a fixed grid of parts); otherwise the
	// image score is the largest of the structural, logical and layout ones.
	Only bool `toml:"only"`
}

// Switch is a setting enrolment learns from the good images ("auto")
// unless it is set by hand ("on" or "off").
type Switch string

// Values of a Switch.
const (
	Auto Switch = "auto"
	On   Switch = "on"
	Off  Switch = "off"
)

// DefaultLayout returns the layout step's defaults.
func DefaultLayout() Layout {
	return Layout{Enabled: true, Refs: 32, Group: Auto, Mirror: Auto, Grid: 3, ObjectWeight: 1, MissingWeight: 0.5, ExcessWeight: 1}
}
