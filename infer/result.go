package infer

import (
	"encoding/json"
	"image"
	"math"
)

// Kinds of a Finding.
const (
	KindMissing    = "missing"    // a reference object with no counterpart in the frame
	KindExtra      = "extra"      // a frame object with no counterpart in the references
	KindMismatched = "mismatched" // a frame object in the place of a missing one: the wrong part
	KindStructural = "structural" // a matched object whose appearance is off (scratch, dent, dirt)
)

// Result is the outcome of inspecting one frame.
type Result struct {
	// Score is the image anomaly score, in units of the spread of the
	// leave-one-out scores of the good images (see "How the engine decides").
	// Threshold is the bank's calibrated threshold. The engine gives no
	// verdict: daemon.Rule.Decide judges Score against a threshold.
	Score     float64 `json:"score"`
	Threshold float64 `json:"threshold"`
	// Structural and Logical are the two parts of Score: the standardised
	// appearance score of the objects and the standardised soft count of
	// unmatched objects (0 in light mode, which has no logical part).
	Structural float64 `json:"structural"`
	Logical    float64 `json:"logical"`
	// Layout, Patch, Place and Composition are the layout step's, the
	// patch memory's, the place's and the composition's standardised terms
	// (0 when off).
	Layout      float64 `json:"layout"`
	Patch       float64 `json:"patch"`
	Place       float64 `json:"place"`
	Composition float64 `json:"composition"`
	// Map is the anomaly map, MapH rows of MapW values, on the engine's
	// upsampled feature grid (which covers the input_size x input_size image).
	Map  []float32 `json:"-"`
	MapW int       `json:"-"`
	MapH int       `json:"-"`
	// Findings explain the score, strongest first.
	Findings []Finding `json:"findings"`
	// Timings are the per-stage wall times, in pipeline order.
	Timings []StageTiming `json:"timings"`
	// Alignment is how the frame was moved onto the good images
	// (pipeline.register); nil when off.
	Alignment *Alignment `json:"-"`
	// References names the good images the frame was compared with.
	References []string `json:"references"`
	// Matches is the object matching's outcome against each reference,
	// for evaluation; not part of the wire form.
	Matches []Match `json:"-"`
	// terms are the standardised terms before the learned weights, for
	// the enrolment self-check.
	terms terms
}

// Terms returns the frame's standardised terms before the learned weights,
// by TermNames (a term that is off is absent), for the evaluation's
// per-term diagnostics.
func (r *Result) Terms() map[string]float64 { return r.terms.named() }

// named maps the terms that are on to their TermNames.
func (t terms) named() map[string]float64 {
	out := make(map[string]float64, numTerms)
	for i, v := range t {
		if !math.IsInf(v, -1) {
			out[TermNames[i]] = v
		}
	}
	return out
}

// Finding is one object that contributes to the verdict.
type Finding struct {
	Kind string `json:"kind"`
	// Box is in input_size pixel coordinates (the engine's square image);
	// in JSON it is {"x","y","w","h"}, the box form of the verdict message
	// (actuate.Box), which daemon.WireFindings scales to frame pixels.
	Box   image.Rectangle
	Area  int
	Score float64
}

// StageTiming is the wall time of one pipeline stage.
type StageTiming struct {
	Stage string  `json:"stage"`
	Ms    float64 `json:"ms"`
}

// Stage names, in pipeline order.
const (
	StagePreprocess   = "preprocess"
	StageFeatures     = "features"
	StageRetrieval    = "retrieval"
	StageSegmentation = "segmentation"
	StageObjects      = "objects" // the masks labelled on the map grid, ahead of upsampling
	StageUpsampling   = "upsampling"
	StageDCGA         = "dcga"
	StageOMM          = "omm"    // matching against the k references and the logical count's
	StageAMM          = "amm"    // the structural maps of the matched objects
	StageTerms        = "terms"  // layout, patch memory and composition
	StageResult       = "result" // fusion, map and findings
)

// findingJSON is Finding's JSON form, the verdict message's: the box as
// {"x","y","w","h"}, its top-left corner and size.
type findingJSON struct {
	Kind string `json:"kind"`
	Box  struct {
		X int `json:"x"`
		Y int `json:"y"`
		W int `json:"w"`
		H int `json:"h"`
	} `json:"box"`
	Area  int     `json:"area"`
	Score float64 `json:"score"`
}

// MarshalJSON writes the box as {"x","y","w","h"}.
func (f Finding) MarshalJSON() ([]byte, error) {
	j := findingJSON{Kind: f.Kind, Area: f.Area, Score: f.Score}
	b := f.Box.Canon()
	j.Box.X, j.Box.Y, j.Box.W, j.Box.H = b.Min.X, b.Min.Y, b.Dx(), b.Dy()
	return json.Marshal(j)
}

// UnmarshalJSON reads the form MarshalJSON writes.
func (f *Finding) UnmarshalJSON(data []byte) error {
	var j findingJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	b := j.Box
	*f = Finding{Kind: j.Kind, Box: image.Rect(b.X, b.Y, b.X+b.W, b.Y+b.H), Area: j.Area, Score: j.Score}
	return nil
}
