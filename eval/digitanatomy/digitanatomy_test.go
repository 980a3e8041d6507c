package digitanatomy

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func testDigits(t *testing.T) *Digits {
	t.Helper()
	dir, err := DataDir()
	if err != nil {
		t.Fatal(err)
	}
	d, err := Load(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestLoadRealMNIST(t *testing.T) {
	d := testDigits(t)
	total := 0
	for c, idx := range d.byClass {
		if len(idx) < 800 {
			t.Errorf("class %d: %d test digits, MNIST has about 1000", c, len(idx))
		}
		total += len(idx)
	}
	if total != 10000 {
		t.Errorf("MNIST test split has %d digits, want 10000", total)
	}
	if _, err := Load(t.TempDir(), true); err == nil {
		t.Error("loading from an empty directory must fail")
	}
}

func inkIn(g *image.Gray, r image.Rectangle) (n int) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if g.GrayAt(x, y).Y > inkLevel {
				n++
			}
		}
	}
	return n
}

func cellRect(p int) image.Rectangle {
	return image.Rect((p%3)*Cell, (p/3)*Cell, (p%3+1)*Cell, (p/3+1)*Cell)
}

func TestGenerate(t *testing.T) {
	d := testDigits(t)
	for seed := int64(0); seed < 6; seed++ {
		good, err := Generate(d, seed, Good)
		if err != nil {
			t.Fatal(err)
		}
		if good.Gray.Rect.Dx() != Size || good.Gray.Rect.Dy() != Size {
			t.Fatalf("image is %v", good.Gray.Rect)
		}
		for p, c := range good.Cells {
			if c.Digit != p+1 || c.Anomalous || c.Box.Empty() || !c.Box.In(cellRect(p)) {
				t.Errorf("seed %d good cell %d: %+v", seed, p, c)
			}
		}
		if inkIn(good.GT, good.GT.Rect) != 0 {
			t.Errorf("seed %d: good image has ground truth", seed)
		}
		again, _ := Generate(d, seed, Good)
		if !bytes.Equal(good.Gray.Pix, again.Gray.Pix) {
			t.Errorf("seed %d: not deterministic", seed)
		}
		for _, a := range Anomalies() {
			im, err := Generate(d, seed, a)
			if err != nil {
				t.Fatal(err)
			}
			var bad []int
			for p, c := range im.Cells {
				if c.Anomalous {
					bad = append(bad, p)
				}
			}
			wantBad := 1
			if a == Swapped {
				wantBad = 2
			}
			if len(bad) != wantBad {
				t.Fatalf("seed %d %s: anomalous cells %v", seed, a, bad)
			}
			for p := range 9 {
				r := cellRect(p)
				same := true
				for y := r.Min.Y; y < r.Max.Y; y++ {
					same = same && bytes.Equal(good.Gray.Pix[y*Size+r.Min.X:y*Size+r.Max.X], im.Gray.Pix[y*Size+r.Min.X:y*Size+r.Max.X])
				}
				gtInk := 0
				for y := r.Min.Y; y < r.Max.Y; y++ {
					for x := r.Min.X; x < r.Max.X; x++ {
						if im.GT.GrayAt(x, y).Y != 0 {
							gtInk++
						}
					}
				}
				if slices.Contains(bad, p) {
					if gtInk == 0 {
						t.Errorf("seed %d %s cell %d: no ground truth", seed, a, p)
					}
				} else if !same || gtInk != 0 {
					t.Errorf("seed %d %s cell %d: normal cell changed (%v) or marked (%d px)", seed, a, p, !same, gtInk)
				}
			}
			c := im.Cells[bad[0]]
			switch a {
			case Missing:
				if c.Digit != -1 || inkIn(im.Gray, cellRect(bad[0])) != 0 {
					t.Errorf("seed %d missing: cell %+v still inked", seed, c)
				}
			case Swapped:
				c2 := im.Cells[bad[1]]
				if c.Digit != c2.Expected || c2.Digit != c.Expected {
					t.Errorf("seed %d swapped: %+v %+v", seed, c, c2)
				}
			case Flipped:
				if !c.Flipped || c.Digit != c.Expected || c.Source != good.Cells[bad[0]].Source {
					t.Errorf("seed %d flipped: %+v", seed, c)
				}
				// The drawn cell is the good cell mirrored.
				r := cellRect(bad[0])
				for y := r.Min.Y; y < r.Max.Y; y++ {
					for x := r.Min.X; x < r.Max.X; x++ {
						if im.Gray.GrayAt(x, y) != good.Gray.GrayAt(r.Min.X+r.Max.X-1-x, y) {
							t.Fatalf("seed %d flipped: pixel %d,%d is not the mirror", seed, x, y)
						}
					}
				}
			case Zero:
				if c.Digit != 0 || c.Box.Empty() {
					t.Errorf("seed %d zero: %+v", seed, c)
				}
			}
		}
	}
	if _, err := Generate(d, 1, "upside_down"); err == nil {
		t.Error("unknown anomaly accepted")
	}
}

func TestWriteSplit(t *testing.T) {
	dir := t.TempDir()
	tr, err := WriteSplit(dir, Options{Seed: 5, TrainGood: 3, TestPerType: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Images) != 3+2*5 {
		t.Errorf("%d images written", len(tr.Images))
	}
	for _, p := range []string{"train/good/002.png", "test/good/001.png", "test/missing/001.png", "test/swapped/001.png",
		"test/flipped/001.png", "test/zero/001.png", "ground_truth/zero/001_mask.png", TruthFile} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("missing %s", p)
		}
	}
	// Train images are drawn from MNIST train digits, test images from
	// test digits: each written file equals its regeneration from that split.
	mdir, _ := DataDir()
	trainD, _ := Load(mdir, true)
	testD, _ := Load(mdir, false)
	for _, im := range []TruthImage{tr.Images[0], tr.Images[len(tr.Images)-1]} {
		d := testD
		if im.Split == "train" {
			d = trainD
		}
		want, _ := Generate(d, im.Seed, im.Anomaly)
		f, err := os.Open(filepath.Join(dir, im.Path))
		if err != nil {
			t.Fatal(err)
		}
		got, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.(*image.Gray).Pix, want.Gray.Pix) {
			t.Errorf("%s (%s) is not drawn from the MNIST %s digits", im.Path, im.Split, im.Split)
		}
	}
	dir2 := t.TempDir()
	if _, err := WriteSplit(dir2, Options{Seed: 5, TrainGood: 3, TestPerType: 2}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"train/good/000.png", "test/swapped/001.png", "ground_truth/flipped/000_mask.png"} {
		a, _ := os.ReadFile(filepath.Join(dir, p))
		b, _ := os.ReadFile(filepath.Join(dir2, p))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between runs", p)
		}
	}
	if _, err := WriteSplit(dir, Options{Seed: 5, TrainGood: 1}); err == nil {
		t.Error("non-empty directory accepted")
	}
	if _, err := WriteSplit(t.TempDir(), Options{TrainGood: 1, DataDir: t.TempDir()}); err == nil {
		t.Error("a data dir without MNIST files accepted")
	}
}
