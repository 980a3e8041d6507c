package infer

// Hooks for the retrieval benchmark (bench_retrieval_test.go, package
// infer_test, which needs the built-in backend and so cannot be internal).

// RefIndex is the retrieval index with reusable query scratch.
type RefIndex struct {
	refs []Reference
	ix   *refIndex
	s    retrievalScratch
	g    []float32
}

// NewRefIndex indexes global vectors laid out c x gh x gw.
func NewRefIndex(globals [][]float32, c, gh, gw int) *RefIndex {
	refs := make([]Reference, len(globals))
	for i, g := range globals {
		refs[i].Global = g
	}
	return &RefIndex{refs: refs, ix: newRefIndex(refs, c, gh, gw)}
}

// Retrieve is the engine's retrieval stage: the global vector of f, then
// the k nearest references by the index.
func (r *RefIndex) Retrieve(f *FeatureMap, k int) []int {
	r.g = globalVectorInto(f, r.g)
	return r.ix.nearest(r.g, k, &r.s)
}

// Scan is retrieval by a plain scan of every global vector (scanIndex, the
// engine's retrieval before the index).
func (r *RefIndex) Scan(f *FeatureMap, k int) []int {
	r.g = globalVectorInto(f, r.g)
	return scanIndex(r.refs).nearest(r.g, k, &r.s)
}

// StandardFeatures are f's backbone features standardised with the bank's
// channel normalisation, as Inspect computes them.
func StandardFeatures(be *Backend, bank *Bank, img *Image) (*FeatureMap, error) {
	return extract(be, img, bank)
}

// GlobalVector is the retrieval key of standardised features.
func GlobalVector(f *FeatureMap) []float32 { return globalVector(f) }

// SqDist is the squared Euclidean distance of the retrieval.
func SqDist(a, b []float32) float32 { return sqDist(a, b) }
