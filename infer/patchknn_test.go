package infer_test

import (
	"context"
	"math"
	"testing"

	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
)

// The baseline built from a bank scores exactly as the one built from the
// enrolled images: the bank keeps every reference's standardised features.
func TestPatchKNNFromBankMatchesGoodImages(t *testing.T) {
	p := testPipeline()
	be, bank := enrollScenes(t, p, scenes.Box, 4)
	good, _ := sceneImages(t, scenes.Box, scenes.Good, 1000, 4, p.InputSize)
	direct, err := infer.NewPatchKNN(context.Background(), be, p, good, 0)
	if err != nil {
		t.Fatal(err)
	}
	fromBank, err := infer.NewPatchKNNFromBank(be, bank)
	if err != nil {
		t.Fatal(err)
	}
	queries, _ := sceneImages(t, scenes.Box, scenes.Missing, 5000, 2, p.InputSize)
	extra, _ := sceneImages(t, scenes.Box, scenes.Good, 6000, 1, p.InputSize)
	for i, q := range append(queries, extra...) {
		want, _, _, _, err := direct.Score(q)
		if err != nil {
			t.Fatal(err)
		}
		got, _, _, _, err := fromBank.Score(q)
		if err != nil {
			t.Fatal(err)
		}
		if want <= 0 || math.Abs(got-want) > 1e-4*want {
			t.Errorf("query %d: from bank %.6f, from good images %.6f", i, got, want)
		}
	}
	if _, err := infer.NewPatchKNNFromBank(be, &infer.Bank{}); err == nil {
		t.Error("an empty bank gave a baseline")
	}
}
