package runner

import (
	"context"
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/datasets"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
)

// A hand-worked case: query truth a, a, b, c (c anomalous, so it
// corresponds to nothing); one reference with a, b. Pairs: (a, a) correct,
// (b, a) wrong, (c, b) wrong, (a, background) unmapped. Against a second
// reference without truth nothing counts.
func TestMatchingByHand(t *testing.T) {
	box := func(x int) image.Rectangle { return image.Rect(x, 0, x+10, 10) }
	query := []truthObject{{"a", box(0)}, {"a", box(20)}, {"b", box(40)}, {"", box(60)}}
	ref := []truthObject{{"a", box(100)}, {"b", box(120)}}
	res := &infer.Result{References: []string{"r0", "r1"}, Matches: []infer.Match{
		{Ref: 0, Query: 0, Object: 0, QueryBox: box(1), RefBox: box(100)},
		{Ref: 0, Query: 1, Object: 1, QueryBox: box(40), RefBox: box(100)},
		{Ref: 0, Query: 2, Object: 2, QueryBox: box(60), RefBox: box(120)},
		{Ref: 0, Query: 3, Object: 3, QueryBox: box(20), RefBox: box(200)},
		{Ref: 0, Query: 4, Object: -1, QueryBox: box(0)},
		{Ref: 0, Query: -1, Object: 4, RefBox: box(120)},
		{Ref: 1, Query: 0, Object: 0, QueryBox: box(0), RefBox: box(0)},
	}}
	var m Matching
	m.addMatches(res, query, [][]truthObject{ref, nil})
	m.finish()
	// Relevant: a, a, b (c has no counterpart key); found: the first a.
	want := Matching{Pairs: 4, Mapped: 3, Correct: 1, Relevant: 3, Found: 1, Precision: 1.0 / 3, Recall: 1.0 / 3, F1: 1.0 / 3}
	if m != want {
		t.Errorf("got %+v, want %+v", m, want)
	}
}

// DigitAnatomy cells: a non-anomalous cell keys on its position, an
// anomalous one on nothing, an empty one is no object.
func TestReadObjectTruthCells(t *testing.T) {
	dir := t.TempDir()
	truth := `{"images":[{"path":"test/swapped/000.png","cells":[
		{"pos":0,"digit":1,"box":{"Min":{"X":1,"Y":2},"Max":{"X":9,"Y":30}}},
		{"pos":1,"digit":3,"anomalous":true,"box":{"Min":{"X":33,"Y":2},"Max":{"X":60,"Y":30}}},
		{"pos":2,"digit":-1,"box":{"Min":{"X":0,"Y":0},"Max":{"X":0,"Y":0}}}]}]}`
	if err := os.WriteFile(filepath.Join(dir, "truth.json"), []byte(truth), 0o644); err != nil {
		t.Fatal(err)
	}
	got := readObjectTruth(dir)["test/swapped/000.png"]
	if len(got) != 2 || got[0].key != "cell 0" || got[1].key != "" || got[0].box != image.Rect(1, 2, 9, 30) {
		t.Errorf("cells read as %+v", got)
	}
	if s := scaleTruth(got[:1], 96, 96, 192); s[0].box != image.Rect(2, 4, 18, 60) {
		t.Errorf("scaled box %v, want (2,4)-(18,60)", s[0].box)
	}
}

// End to end on a generated box split whose only test image is a copy of
// a training image, with k = 1: its nearest reference is itself, so every
// matched pair whose boxes are truth objects pairs an object with itself.
func TestEvaluateMatchingOnIdenticalImage(t *testing.T) {
	dir := t.TempDir()
	tr, err := scenes.WriteSplit(dir, scenes.SplitOptions{Kind: scenes.Box, Layout: scenes.MVTecAD, Size: 128, Seed: 7,
		TrainGood: 6, TestGood: 1, TestPerType: 0})
	if err != nil {
		t.Fatal(err)
	}
	var train, test int = -1, -1
	for i, im := range tr.Images {
		switch im.Split {
		case "train":
			train = i
		case "test":
			test = i
		}
	}
	if train < 0 || test < 0 {
		t.Fatalf("split has no train or test image: %+v", tr.Images)
	}
	b, err := os.ReadFile(filepath.Join(dir, tr.Images[train].Path))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, tr.Images[test].Path), b, 0o644); err != nil {
		t.Fatal(err)
	}
	tr.Images[test].Objects = tr.Images[train].Objects
	tb, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, scenes.TruthFile), tb, 0o644); err != nil {
		t.Fatal(err)
	}
	p := config.DefaultPipeline()
	p.InputSize, p.Upsample, p.K, p.Workers = 128, 4, 1, 2
	rep, err := Evaluate(context.Background(), dir, Options{Layout: datasets.MVTecAD, Pipeline: p, ImageOnly: true,
		NewBackend: builtinBackend})
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Categories[0].Matching
	if m == nil {
		t.Fatal("no matching quality on a generated split")
	}
	t.Logf("matching on the identical image: %+v", *m)
	if m.Mapped == 0 || m.Precision != 1 || m.Found == 0 || m.Relevant != len(tr.Images[train].Objects) {
		t.Errorf("matching %+v: want mapped pairs, precision 1, some found, relevant = %d truth objects", *m, len(tr.Images[train].Objects))
	}
}
