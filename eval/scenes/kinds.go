package scenes

import "slices"

// Kinds of the product zoo beside Bag and Box. Each is modelled on the
// logic of one of MVTec LOCO AD's categories or on a product a plant
// inspects; Rule says each one's rule in words.
const (
	BreakfastBox       Kind = "breakfast_box"       // compartments with fixed quantities and a ratio
	JuiceBottle        Kind = "juice_bottle"        // fill level and label agree with the content
	Pushpins           Kind = "pushpins"            // exactly one pin per cell
	ScrewBag           Kind = "screw_bag"           // exact counts of bolts of two lengths, nuts, washers
	SplicingConnectors Kind = "splicing_connectors" // connector sizes, cable colour and position agree
	Blister            Kind = "blister"             // a kit blister: a fixed tablet type per cavity
	PCB                Kind = "pcb"                 // a board with components at fixed places and orientations
	Harness            Kind = "harness"             // a cable harness: wire colours in a fixed order
	Bracket            Kind = "bracket"             // parts in nests with one fixed orientation
)

// kindSpec is one kind of the zoo: its rule, its anomaly types (logical
// first), the layout that builds a good scene, and the absolute saturation
// area of a missing object in units² (u = image side / 16) for
// defects_config.json.
type kindSpec struct {
	rule       string
	anomalies  []Anomaly
	layout     func(g *gen) error
	missingSat float64
}

var kindSpecs = map[Kind]kindSpec{
	Bag: {rule: "a bag of loose fasteners: 2 nuts, 2 washers, 1 long and 1 short screw anywhere",
		anomalies: []Anomaly{Missing, Extra, WrongType, Scratch, Dent, Stain}, layout: (*gen).layoutBag, missingSat: 1.5},
	Box: {rule: "a kit box of 4 compartments: 1 block, 2 caps, 3 balls, 1 bar, each in its own compartment",
		anomalies: []Anomaly{Missing, Extra, WrongType, Misplaced, Scratch, Dent, Stain}, layout: (*gen).layoutBox, missingSat: 1.5},
	BreakfastBox: {rule: "left compartment 2 oranges and 1 nectarine; right compartment a pile of granola of fixed size with 2 banana chips",
		anomalies: []Anomaly{Missing, Extra, WrongType, WrongSize, Misplaced, Dent, Stain, Contamination}, layout: (*gen).layoutBreakfast, missingSat: 0.8},
	JuiceBottle: {rule: "one of three juices; the label's fruit matches the juice colour, the fill level is fixed, both labels sit at fixed heights",
		anomalies: []Anomaly{Missing, FillLevel, WrongCombination, Misplaced, Scratch, Stain, Contamination}, layout: (*gen).layoutBottle, missingSat: 0.6},
	Pushpins: {rule: "a 5x3 grid of cells, exactly one yellow pin in each",
		anomalies: []Anomaly{Missing, Extra, WrongColour, Bent, Cut, Chip, Contamination}, layout: (*gen).layoutPushpins, missingSat: 0.4},
	ScrewBag: {rule: "a bag of 2 long bolts, 1 short bolt, 2 nuts and 2 washers, all steel, anywhere, touching allowed",
		anomalies: []Anomaly{Missing, Extra, WrongType, WrongSize, Bent, Scratch, Contamination}, layout: (*gen).layoutScrewBag, missingSat: 0.8},
	SplicingConnectors: {rule: "two connectors of the same size (2, 3 or 5 poles), a cable whose colour matches the size (yellow, blue, red) joining the same pole on both",
		anomalies: []Anomaly{Missing, WrongSize, WrongCombination, Misplaced, Cut, Chip, Contamination}, layout: (*gen).layoutConnectors, missingSat: 1.0},
	Blister: {rule: "a 4x2 blister, each cavity with one tablet of its fixed type (round, capsule, oval)",
		anomalies: []Anomaly{Missing, WrongType, Swapped, WrongColour, Crack, Chip, Stain}, layout: (*gen).layoutBlister, missingSat: 0.6},
	PCB: {rule: "a board with 2 ICs, 4 resistors, 2 capacitors and 1 LED at fixed places and orientations",
		anomalies: []Anomaly{Missing, WrongType, Rotated, WrongColour, Scratch, Crack, Contamination}, layout: (*gen).layoutPCB, missingSat: 0.4},
	Harness: {rule: "five wires red, black, yellow, green, blue in this order between two housings",
		anomalies: []Anomaly{Missing, Swapped, WrongColour, Cut, Bent, Contamination}, layout: (*gen).layoutHarness, missingSat: 1.0},
	Bracket: {rule: "a 3x2 tray of nests, each with one L-bracket, all in the same orientation",
		anomalies: []Anomaly{Missing, Rotated, WrongType, Bent, Chip, Scratch}, layout: (*gen).layoutBracket, missingSat: 1.0},
}

// AllKinds lists every kind of the zoo: bag and box, then the others.
func AllKinds() []Kind {
	return []Kind{Bag, Box, BreakfastBox, JuiceBottle, Pushpins, ScrewBag, SplicingConnectors, Blister, PCB, Harness, Bracket}
}

// Kinds lists the two original kinds, bag and box, which the engine's own
// tests (infer/) were written for and pin; AllKinds lists the whole zoo.
func Kinds() []Kind { return []Kind{Bag, Box} }

// Rule says a kind's rule in words ("" for an unknown kind).
func Rule(k Kind) string { return kindSpecs[k].rule }

// The protocol. It was fixed in code before any engine setting was chosen
// on the zoo, and it binds every change to the engine's defaults:
//
//   - Every default and every engine decision (terms, fusion, thresholds,
//     learned-rule heuristics) is chosen on TuningKinds and TuningSeeds only.
//   - ReportingKinds are evaluated at the end, on ReportingSeeds, with the
//     defaults only (no recipe, no --config), and reported as they come out:
//     a result on a reporting kind is never fed back into a setting.
//   - No setting may depend on knowing which anomaly types a test split
//     holds (only good images, and synthetic anomalies made from them).
//   - The headline figures are the reporting kinds' defaults-only figures.
//
// Three reporting kinds (juice_bottle, splicing_connectors, harness) are
// unlike every tuning kind: their rules tie colour, level and position
// together rather than counting parts.
//
// Changing the split or the seeds after tuning has begun invalidates the
// reported figures; add new kinds to the reporting side instead.

// TuningKinds are the kinds engine settings may be chosen on.
func TuningKinds() []Kind { return []Kind{Bag, Box, ScrewBag, Blister, PCB} }

// ReportingKinds are the kinds the headline figures are measured on.
func ReportingKinds() []Kind {
	return []Kind{BreakfastBox, JuiceBottle, Pushpins, SplicingConnectors, Harness, Bracket}
}

// TuningSeeds are the generator seeds settings may be chosen on.
var TuningSeeds = []int64{7, 8, 9, 10, 11, 12}

// ReportingSeeds are the fresh seeds of the reported figures.
var ReportingSeeds = []int64{101, 202, 303}

// Split names a side of the protocol.
type Split string

const (
	TuningSplit    Split = "tuning"
	ReportingSplit Split = "reporting"
)

// SplitKinds returns the kinds and seeds of a side of the protocol.
func SplitKinds(s Split) ([]Kind, []int64, bool) {
	switch s {
	case TuningSplit:
		return TuningKinds(), slices.Clone(TuningSeeds), true
	case ReportingSplit:
		return ReportingKinds(), slices.Clone(ReportingSeeds), true
	}
	return nil, nil, false
}
