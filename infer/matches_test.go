package infer_test

import (
	"context"
	"testing"

	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
)

// TestMatchesAgreeWithFindings inspects a bank image (its nearest
// reference is itself: every matched pair must pair a box with itself)
// and bag scenes with an extra or a missing part under a low threshold,
// whose logical findings must be objects the matches leave unmatched
// (unless the layout step, the composition or the place term decided the
// score).
func TestMatchesAgreeWithFindings(t *testing.T) {
	p := testPipeline()
	p.MinArea, p.MaxArea = 0, 0 // calibrated
	be, bank := enrollScenes(t, p, scenes.Bag, 10)
	q := p
	q.Threshold = 1
	eng, err := infer.NewEngine(be, bank, q)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := sceneImages(t, scenes.Bag, scenes.Good, 1000, 1, p.InputSize)
	res, err := eng.Inspect(context.Background(), good[0])
	if err != nil {
		t.Fatal(err)
	}
	checkMatchShape(t, res)
	self, pairs := 0, 0
	for _, m := range res.Matches {
		if m.Ref == 0 && m.Matched() {
			pairs++
			if m.QueryBox == m.RefBox {
				self++
			}
		}
	}
	if pairs == 0 || self != pairs {
		t.Errorf("bank image against itself: %d of %d matched pairs pair a box with itself", self, pairs)
	}

	logical := 0
	for _, an := range []scenes.Anomaly{scenes.Extra, scenes.Missing} {
		imgs, _ := sceneImages(t, scenes.Bag, an, 300, 4, p.InputSize)
		for i, img := range imgs {
			res, err := eng.Inspect(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			checkMatchShape(t, res)
			for _, f := range res.Findings {
				// The layout step's finding, when it decided the score,
				// names its own part or place, not a matching's object.
				if f.Score == res.Layout && res.Layout == res.Score && f.Kind != infer.KindStructural {
					continue
				}
				// So does the composition term's: the cells of a kind of
				// surface there is too much or too little of.
				if f.Score == res.Composition && res.Composition == res.Score && f.Kind != infer.KindStructural {
					continue
				}
				// And the place term's: a feature cell unlike the good
				// images' at its place.
				if f.Score == res.Place && res.Place == res.Score && f.Kind != infer.KindStructural {
					continue
				}
				switch f.Kind {
				case infer.KindExtra, infer.KindMismatched:
					logical++
					if !someMatch(res, func(m infer.Match) bool { return m.Query >= 0 && m.Object < 0 && m.QueryBox == f.Box }) {
						t.Errorf("%s %d: %s finding %v is not a query object left unmatched", an, i, f.Kind, f.Box)
					}
				case infer.KindMissing:
					logical++
					if !someMatch(res, func(m infer.Match) bool { return m.Ref == 0 && m.Query < 0 && m.RefBox == f.Box }) {
						t.Errorf("%s %d: missing finding %v is not an unmatched object of the nearest reference", an, i, f.Box)
					}
				case infer.KindStructural:
					// The patch-memory term points at a feature cell, not an object.
					if f.Score == res.Patch && res.Patch == res.Score {
						continue
					}
					if !someMatch(res, func(m infer.Match) bool { return m.Matched() && m.QueryBox == f.Box }) {
						t.Errorf("%s %d: structural finding %v is not a matched query object", an, i, f.Box)
					}
				}
			}
		}
	}
	t.Logf("bank image: %d matched pairs with itself; %d logical findings checked", pairs, logical)
	if logical == 0 {
		t.Error("no logical finding on extra/missing scenes: the check above saw nothing")
	}
}

// checkMatchShape checks the bookkeeping: per reference each query object
// appears once, each reference object at most once, probabilities in [0, 1].
func checkMatchShape(t *testing.T, res *infer.Result) {
	t.Helper()
	type key struct{ ref, obj int }
	queries, objects := map[key]int{}, map[key]int{}
	for _, m := range res.Matches {
		if m.Ref < 0 || m.Ref >= len(res.References) || m.Prob < 0 || m.Prob > 1+1e-9 || (m.Query < 0 && m.Object < 0) {
			t.Fatalf("bad match %+v (references %d)", m, len(res.References))
		}
		if m.Query >= 0 {
			queries[key{m.Ref, m.Query}]++
		}
		if m.Object >= 0 {
			objects[key{m.Ref, m.Object}]++
		}
	}
	for k, n := range queries {
		if n != 1 {
			t.Errorf("query object %d appears %d times against reference %d", k.obj, n, k.ref)
		}
	}
	for k, n := range objects {
		if n != 1 {
			t.Errorf("reference object %d of reference %d appears %d times", k.obj, k.ref, n)
		}
	}
}

func someMatch(res *infer.Result, ok func(infer.Match) bool) bool {
	for _, m := range res.Matches {
		if ok(m) {
			return true
		}
	}
	return false
}
