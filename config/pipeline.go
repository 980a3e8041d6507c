package config

// Pipeline configures the SAM-LAD engine: the backend, the stage parameters and
// the calibrated values. A zero calibrated value (Dustbin, MatchThreshold,
// MinArea, MaxArea, Threshold) means "take it from the bank's calibration".
type Pipeline struct {
	// Backend selects the stage implementations: "builtin" (no weights) or "onnx".
	Backend string `toml:"backend"`
	// InputSize is the side of the square image the engine works on, in pixels.
	InputSize int `toml:"input_size"`
	// K is the number of nearest good reference images used per query.
	K int `toml:"k"`
	// Upsample is the feature upsampling factor: 1, 2, 4 or 8 (16 with FeatUp).
	Upsample int `toml:"upsample"`
	// Upsampler is "jbu" (joint bilateral, image-guided) or "bilinear".
	Upsampler string `toml:"upsampler"`
	// Descriptor is the object pooling: "dcga" (GMP + channel/object graph
	// attention, the paper), "gmp" or "gap" (plain pooling). The default
	// "gap" was chosen by measurement on the generated scenes with the
	// built-in features (docs/engine.md "How the engine decides").
	Descriptor string `toml:"descriptor"`
	// DCGAPooling is the squeeze inside DCGA: "gmp" (paper) or "gap".
	DCGAPooling string `toml:"dcga_pooling"`
	// PositionWeight adds the object's normalised position to its descriptor.
	// It helps fixed layouts (trays, grids) and hurts random placement (bags).
	PositionWeight float64 `toml:"position_weight"`
	// Mode is "full" (matched + unmatched + missing maps) or "light" (the
	// paper's eq. 16: only unmatched objects are scored).
	Mode string `toml:"mode"`
	// Align places the query object over its reference: "none" (paper),
	// "centroid", "box", or "nn" (per position, the reference object's
	// position with the nearest feature: follows rotated parts).
	Align string `toml:"align"`
	// Epsilon regularises the per-position covariance (Sigma + eps*I).
	Epsilon float64 `toml:"epsilon"`
	// SinkhornIters is the number of log-domain Sinkhorn iterations.
	SinkhornIters int `toml:"sinkhorn_iters"`
	// MatchTemperature divides the cosine scores before Sinkhorn: smaller
	// makes the assignment harder (closer to a permutation).
	MatchTemperature float64 `toml:"match_temperature"`
	// Dustbin is the OT trash-bin score (a cosine similarity); 0 = calibrated.
	Dustbin float64 `toml:"dustbin"`
	// MatchThreshold is the minimum assignment probability of a match; 0 = calibrated.
	MatchThreshold float64 `toml:"match_threshold"`
	// MinArea and MaxArea filter object masks, as fractions of the image area; 0 = calibrated.
	MinArea float64 `toml:"min_area"`
	MaxArea float64 `toml:"max_area"`
	// MaxObjects caps the number of objects per image (largest kept).
	MaxObjects int `toml:"max_objects"`
	// Threshold is the pass/fail threshold on the image score; 0 = calibrated.
	Threshold float64 `toml:"threshold"`
	// FalseRejectRate is the share of good parts the calibrated threshold
	// is set to reject (estimated from the good images' leave-one-out
	// scores); it trades false rejects against escapes.
	FalseRejectRate float64 `toml:"false_reject_rate"`
	// ThresholdMargin scales the calibrated threshold (1.0 = as calibrated).
	ThresholdMargin float64 `toml:"threshold_margin"`
	// Score reduces the map to an image score: "max" or "topk" (mean of the top 1%).
	Score string `toml:"score"`
	// StructuralWeight and LogicalWeight scale the two standardised parts of
	// the image score, max(structural, logical). Lower one for a recipe
	// where it is noisy (e.g. structural 0.5 for loose parts in a bag
	// whose appearance varies with pose).
	StructuralWeight float64 `toml:"structural_weight"`
	LogicalWeight    float64 `toml:"logical_weight"`
	// PatchWeight scales the patch-memory term (nearest-neighbour distance
	// of each feature cell to the good images' cells); 0 leaves it out. Its
	// default, above the others', was chosen on the tuning kinds
	// (eval/results/tuning): it ranks surface defects best of the terms.
	PatchWeight float64 `toml:"patch_weight"`
	// PlaceWeight scales the place term: each feature cell, averaged with
	// its neighbours, against the retrieved good images' at its own place
	// only, so a part of the wrong kind where another belongs counts even
	// though the patch memory holds its kind elsewhere; 0 leaves it out.
	PlaceWeight float64 `toml:"place_weight"`
	// CompositionWords is how many kinds of surface (k-means words over the
	// good images' feature cells) the composition term counts; 0 leaves the
	// term out. CompositionWeight scales the term.
	CompositionWords  int     `toml:"composition_words"`
	CompositionWeight float64 `toml:"composition_weight"`
	// Fusion forms the image score from the standardised terms: "max"
	// (the most anomalous term decides) or "sum" (the sum of their
	// positive parts).
	Fusion string `toml:"fusion"`
	// LearnWeights lets the enrolment self-check weigh the terms: it makes
	// synthetic anomalies from the good images and keeps the weights that
	// catch most of them at the false-reject rate; false gives every term
	// weight 1.
	LearnWeights bool `toml:"learn_weights"`
	// Photometric matches every image to the good images' lighting before
	// its features are computed: a gain per colour channel and a linear
	// gradient of illumination across the field, fitted against the
	// per-pixel median of the good images (infer/photometric.go), so that
	// lamp drift is not an anomaly. It corrects the engine's input_size
	// view; stages that read the camera frame (SAM) see it as taken.
	Photometric bool `toml:"photometric"`
	// Register aligns every image to the good images before its features
	// are computed: a shift and a rotation found by OpenCV's ECC against
	// the median of the aligned good images (infer/register.go), so that a
	// product that sits a few pixels or a degree off is compared part by
	// part with its references. Stages that read the camera frame (SAM)
	// see the frame moved the same way. "auto" learns at enrolment whether
	// the good images have a fixture that moves.
	Register Switch `toml:"register"`
	// Coreset keeps at most this many references in the bank (0 = all).
	Coreset int `toml:"coreset"`
	// Segmentation parameters of the built-in graph segmenter.
	Segment Segment `toml:"segment"`
	// Layout is the layout step: parts against the good images' parts at
	// their place, counted per kind (on by default, its rules learned).
	Layout Layout `toml:"layout"`
	// Workers bounds the engine's worker pool; 0 = number of CPUs.
	Workers int `toml:"workers"`
}

// Segment configures the built-in Felzenszwalb-Huttenlocher segmenter.
type Segment struct {
	Scale   float64 `toml:"scale"`    // k in the FH paper: larger means larger segments
	Sigma   float64 `toml:"sigma"`    // Gaussian pre-smoothing
	MinSize int     `toml:"min_size"` // components smaller than this (pixels) are merged
	// MergeColour merges adjacent segments whose mean colours (RGB 0..255)
	// differ by less than this; 0 = off.
	MergeColour float64 `toml:"merge_colour"`
	// RefSize is the image side that Scale and MinSize are set for; at other
	// sizes the segmenter scales Scale with the side and MinSize with the
	// area, so the same values serve any input size. 0 = use them as given.
	RefSize int `toml:"ref_size"`
}

// DefaultPipeline returns the engine defaults.
func DefaultPipeline() Pipeline {
	return Pipeline{
		Backend:           "builtin",
		InputSize:         224,
		K:                 4,
		Upsample:          8,
		Upsampler:         "jbu",
		Descriptor:        "gap",
		DCGAPooling:       "gmp",
		Mode:              "full",
		Align:             "nn",
		Epsilon:           0.01,
		SinkhornIters:     100,
		MatchTemperature:  0.05,
		MaxObjects:        16,
		FalseRejectRate:   0.01,
		ThresholdMargin:   1.0,
		Score:             "max",
		StructuralWeight:  1,
		LogicalWeight:     1,
		PatchWeight:       1.5,
		PlaceWeight:       1,
		CompositionWords:  16,
		CompositionWeight: 1,
		Fusion:            "max",
		LearnWeights:      false,
		Photometric:       true,
		Register:          Auto,
		Segment:           Segment{Scale: 300, Sigma: 0.8, MinSize: 50, MergeColour: 20, RefSize: 224},
		Layout:            DefaultLayout(),
	}
}
