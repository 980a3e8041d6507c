package infer

// Relevance is how much an object's absence or excess counts in the
// logical score (for relevance_test.go, package infer_test).
func Relevance(o *Object) float64 { return o.relevance() }
