package infer

// Internal functions exposed to the external tests (package infer_test),
// which may import the backends without an import cycle.
var (
	FilterMasks  = filterMasks
	LabelObjects = labelObjects
)
