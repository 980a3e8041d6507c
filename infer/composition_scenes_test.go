package infer_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
)

// TestCompositionSeesLooseParts: in a bag of loose parts (segments join
// where parts touch and come apart elsewhere), the composition term alone
// ranks a part too many and a part missing above good bags.
func TestCompositionSeesLooseParts(t *testing.T) {
	if testing.Short() {
		t.Skip("enrols 24 scenes")
	}
	p := config.DefaultPipeline()
	be, bank := enrollScenes(t, p, scenes.Bag, 24)
	eng, err := infer.NewEngine(be, bank, p)
	if err != nil {
		t.Fatal(err)
	}
	good := termScores(t, eng, scenes.Bag, scenes.Good, 500, 8, p.InputSize, "composition")["composition"]
	for _, an := range []scenes.Anomaly{scenes.Extra, scenes.Missing} {
		bad := termScores(t, eng, scenes.Bag, an, 600, 8, p.InputSize, "composition")["composition"]
		auc := goodBadAUROC(t, good, bad)
		t.Logf("%s: composition AUROC %.3f (good %.2v, %s %.2v)", an, auc, good, an, bad)
		if auc < 0.8 {
			t.Errorf("%s: the composition term ranks %s bags above good ones with AUROC %.3f, want >= 0.8", an, an, auc)
		}
	}
}

// TestBankRefusesCompositionMismatch: a bank whose composition words do
// not fit its pipeline.composition_words, or that lost them, is refused on
// load with a message naming the term and what to do.
func TestBankRefusesCompositionMismatch(t *testing.T) {
	p := testPipeline()
	_, bank := enrollScenes(t, p, scenes.Bag, 6)
	if bank.Composition == nil {
		t.Fatal("a bank enrolled with the defaults holds no composition words")
	}
	for name, spoil := range map[string]func(b *infer.Bank){
		"words dropped":     func(b *infer.Bank) { b.Composition = nil },
		"counts cut short":  func(b *infer.Bank) { b.Composition.Counts = b.Composition.Counts[1:] },
		"words of 0 length": func(b *infer.Bank) { b.Composition.Words = nil },
	} {
		_, fresh := enrollScenes(t, p, scenes.Bag, 6)
		spoil(fresh)
		path := filepath.Join(t.TempDir(), "line.bank")
		if err := fresh.Save(path); err != nil {
			t.Fatal(err)
		}
		_, err := infer.LoadBank(path)
		if err == nil || !strings.Contains(err.Error(), "composition") || !strings.Contains(err.Error(), "re-enrol") {
			t.Errorf("%s: load error %v, want one naming the composition and re-enrolment", name, err)
		}
	}
}
