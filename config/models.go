package config

// Models names the ONNX models used by the "onnx" backend. Each path is a
// manifest (TOML) in the models directory; the manifest names the .onnx file,
// its sha256 and its I/O contract. Load resolves Dir against the config
// file's directory; a relative manifest path is relative to Dir.
type Models struct {
	Dir        string `toml:"dir"`
	Features   string `toml:"features"`  // DINOv2 ViT-S/14, or the built-in extractor as ONNX
	Upsampler  string `toml:"upsampler"` // FeatUp JBU; empty = built-in JBU in Go
	SAMEncoder string `toml:"sam_encoder"`
	SAMDecoder string `toml:"sam_decoder"`
	// FeatureSource chooses the backbone features of the onnx backend:
	// "dinov2" (the features manifest), "sam" (SAM's image embeddings,
	// sharing the segmenter's encoder run) or "builtin" (the handcrafted
	// extractor in Go). Empty: dinov2 when features is set, else sam.
	FeatureSource string `toml:"feature_source"`
	// Segmenter chooses the onnx backend's segmentation: "sam" (default)
	// or "builtin" (the Go graph-based segmenter).
	Segmenter string `toml:"segmenter"`
	// SAM automatic mask generation.
	PointsPerSide      int     `toml:"points_per_side"`
	PointsPerBatch     int     `toml:"points_per_batch"`
	PredIoUThreshold   float64 `toml:"pred_iou_threshold"`
	StabilityThreshold float64 `toml:"stability_threshold"`
	StabilityOffset    float64 `toml:"stability_offset"`
	BoxNMSThreshold    float64 `toml:"box_nms_threshold"`
	MinRegionArea      int     `toml:"min_region_area"`
	CropLayers         int     `toml:"crop_layers"`
	// Prompts: "grid" (points_per_side x points_per_side, SAM's automatic
	// mask generation; for GPUs) or "segments" (one point inside each
	// built-in segment of at least min_proposal_area pixels on the engine
	// grid; a few decoder runs per part, for CPUs).
	Prompts         string `toml:"prompts"`
	MinProposalArea int    `toml:"min_proposal_area"`
}

// Runtime configures ONNX Runtime.
type Runtime struct {
	// Library is the path of libonnxruntime.so.
	Library string `toml:"library"`
	// Providers in order of preference: "tensorrt", "cuda", "cpu".
	Providers []string `toml:"providers"`
	DeviceID  int      `toml:"device_id"`
	Threads   int      `toml:"threads"`
	TensorRT  TensorRT `toml:"tensorrt"`
}

// TensorRT configures the TensorRT execution provider.
type TensorRT struct {
	FP16           bool   `toml:"fp16"`
	EngineCacheDir string `toml:"engine_cache_dir"`
	TimingCacheDir string `toml:"timing_cache_dir"`
	WorkspaceMiB   int    `toml:"workspace_mib"`
	// ProfileShapes are the optimisation-profile shapes for dynamic inputs,
	// as "name:1x3x224x224" strings (min = opt = max when one is given).
	ProfileShapes []string `toml:"profile_shapes"`
}

// DefaultModels returns the model defaults.
func DefaultModels() Models {
	return Models{
		Dir:                "models",
		PointsPerSide:      32,
		PointsPerBatch:     64,
		PredIoUThreshold:   0.88,
		StabilityThreshold: 0.95,
		StabilityOffset:    1.0,
		BoxNMSThreshold:    0.7,
		Prompts:            "grid",
		MinProposalArea:    20,
	}
}

// DefaultRuntime returns the ONNX Runtime defaults.
func DefaultRuntime() Runtime {
	return Runtime{
		Library:   "third_party/onnxruntime/libonnxruntime.so",
		Providers: []string{"cpu"},
		TensorRT:  TensorRT{FP16: true, WorkspaceMiB: 2048},
	}
}
