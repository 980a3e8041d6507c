package infer

import "image"

// Match is one OMM outcome, kept for evaluation (matching precision and
// recall where the truth is known). Boxes are in input_size pixels.
//
// There is one Match per query object and reference, and one per reference
// object that no query object matched in that reference.
type Match struct {
	// Ref indexes Result.References: the reference this outcome is against.
	Ref int
	// Query is the query object's index, -1 for an unmatched reference object.
	Query int
	// Object is the matched reference object's index, -1 for an unmatched
	// query object.
	Object   int
	QueryBox image.Rectangle // zero when Query = -1
	RefBox   image.Rectangle // zero when Object = -1
	// Prob is the Sinkhorn assignment probability of the pair, or the
	// dustbin probability of the unmatched object.
	Prob float64
}

// Matched says whether the entry pairs a query object with a reference object.
func (m Match) Matched() bool { return m.Query >= 0 && m.Object >= 0 }

// matchesOf lists the OMM outcomes of an assessment in one allocation.
// order lists the references in the order of Result.References.
func matchesOf(q *view, refs []*view, a *assessment, order []int, size int) []Match {
	n := 0
	for _, mt := range a.matchings {
		n += mt.M
		for _, hit := range mt.RefMatched {
			if !hit {
				n++
			}
		}
	}
	out := make([]Match, 0, n)
	for pos, r := range order {
		mt := a.matchings[r]
		for i := 0; i < mt.M; i++ {
			m := Match{Ref: pos, Query: i, Object: mt.Match[i], QueryBox: mapToInput(q.Objects[i].Box, q.W, size), Prob: mt.p(i, mt.N)}
			if j := mt.Match[i]; j >= 0 {
				m.RefBox, m.Prob = mapToInput(refs[r].Objects[j].Box, refs[r].W, size), mt.p(i, j)
			}
			out = append(out, m)
		}
		for j, hit := range mt.RefMatched {
			if !hit {
				out = append(out, Match{Ref: pos, Query: -1, Object: j, RefBox: mapToInput(refs[r].Objects[j].Box, refs[r].W, size), Prob: mt.p(mt.M, j)})
			}
		}
	}
	return out
}
