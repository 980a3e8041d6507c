package infer

import (
	"encoding/json"
	"image"
	"math"
)

// Verdicts of a Result.
const (
	VerdictPass = "pass"
	VerdictFail = "fail"
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
	Score     float64 `json:"score"`
	Threshold float64 `json:"threshold"`
	Verdict   string  `json:"verdict"`
	// Structural and Logical are the two parts of Score: the standardised
	// appearance score of the objects and the standardised soft count of
	// unmatched objects (0 in light mode, which has no logical part).
	Structural float64 `json:"structural"`
	Logical    float64 `json:"logical"`
	// Layout and Patch are the layout step's and the patch memory's
	// standardised terms (0 when off).
	Layout float64 `json:"layout"`
	Patch  float64 `json:"patch"`
	// Map is the anomaly map, MapH rows of MapW values, on the engine's
	// upsampled feature grid (which covers the input_size x input_size image).
	Map  []float32 `json:"-"`
	MapW int       `json:"-"`
	MapH int       `json:"-"`
	// Findings explain the verdict, strongest first.
	Findings []Finding `json:"findings"`
	// Timings are the per-stage wall times, in pipeline order.
	Timings []StageTiming `json:"timings"`
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
func (r *Result) Terms() map[string]float64 {
	out := make(map[string]float64, numTerms)
	for i, v := range r.terms {
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
	// in JSON it is [x0, y0, x1, y1].
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
	StageUpsampling   = "upsampling"
	StageObjects      = "objects"
	StageDCGA         = "dcga"
	StageOMM          = "omm"
	StageAMM          = "amm"
	StageTerms        = "terms"
	StageResult       = "result"
)

// findingJSON is Finding's wire form: the box as [x0, y0, x1, y1].
type findingJSON struct {
	Kind  string  `json:"kind"`
	Box   [4]int  `json:"box"`
	Area  int     `json:"area"`
	Score float64 `json:"score"`
}

// MarshalJSON writes the box as [x0, y0, x1, y1] (x1, y1 exclusive).
func (f Finding) MarshalJSON() ([]byte, error) {
	b := f.Box
	return json.Marshal(findingJSON{f.Kind, [4]int{b.Min.X, b.Min.Y, b.Max.X, b.Max.Y}, f.Area, f.Score})
}

// UnmarshalJSON reads the form MarshalJSON writes.
func (f *Finding) UnmarshalJSON(data []byte) error {
	var j findingJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*f = Finding{Kind: j.Kind, Box: image.Rect(j.Box[0], j.Box[1], j.Box[2], j.Box[3]), Area: j.Area, Score: j.Score}
	return nil
}
