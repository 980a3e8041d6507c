package main

import (
	"testing"

	"github.com/samlad/samlad/eval/scenes"
)

// writeScenes writes a generated split of kind in the MVTec AD layout
// (what samlab scenes --kind K --out DIR writes):
// good training images, test images per anomaly type and as many good ones.
func writeScenes(t *testing.T, dir string, kind scenes.Kind, good, test, size int, anomalies ...scenes.Anomaly) {
	t.Helper()
	if _, err := scenes.WriteSplit(dir, scenes.SplitOptions{Kind: kind, Layout: scenes.MVTecAD, Size: size, Seed: 1,
		TrainGood: good, TestGood: test, TestPerType: test, Anomalies: anomalies}); err != nil {
		t.Fatalf("scenes: %v", err)
	}
}
