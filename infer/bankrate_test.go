package infer_test

import (
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
)

// A bank inspected without its config file keeps the false-reject rate it
// was enrolled with, so that the threshold `enroll` printed is the one
// used, and every key it is bound to.
func TestBankKeepsItsFalseRejectRate(t *testing.T) {
	p := testPipeline()
	p.FalseRejectRate = 0.05
	p.Photometric, p.Register, p.CompositionWords = false, config.On, 8
	be, bank := enrollScenes(t, p, scenes.Bag, 6)
	q := bank.Pipeline(config.DefaultPipeline())
	if q.FalseRejectRate != 0.05 {
		t.Fatalf("bank pipeline false_reject_rate %g, enrolled with 0.05", q.FalseRejectRate)
	}
	if d := infer.BankDiffs(bank, q); len(d) > 0 {
		t.Fatalf("the bank's own pipeline differs from it in %v", d)
	}
	eng, err := infer.NewEngine(be, bank, q)
	if err != nil {
		t.Fatal(err)
	}
	if got := eng.Calibration().Threshold; got != bank.Calib.Threshold {
		t.Errorf("threshold %g without the config, %g at enrolment", got, bank.Calib.Threshold)
	}
	q.FalseRejectRate = 0.01 // an explicit config still overrides it
	strict, err := infer.NewEngine(be, bank, q)
	if err != nil {
		t.Fatal(err)
	}
	if strict.Calibration().Threshold <= bank.Calib.Threshold {
		t.Errorf("threshold at 1%% %g, at 5%% %g: want it higher", strict.Calibration().Threshold, bank.Calib.Threshold)
	}
}
