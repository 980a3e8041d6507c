package digitanatomy

import (
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/samlad/samlad/eval/internal/splitfile"
)

// Options says what WriteSplit generates.
type Options struct {
	Seed        int64
	TrainGood   int    // from MNIST train digits
	TestPerType int    // test images per anomaly type and as many good ones, from MNIST test digits
	DataDir     string // MNIST files; "" means DataDir()
}

// TruthFile is the per-image truth written at the split root, beside the
// MVTec AD layout (whose readers ignore it).
const TruthFile = "truth.json"

// Truth lists every written image with its per-cell truth.
type Truth struct {
	Seed   int64        `json:"seed"`
	Images []TruthImage `json:"images"`
}

// TruthImage: paths are slash-separated, relative to the split root.
type TruthImage struct {
	Path    string       `json:"path"`
	Split   string       `json:"split"` // train or test
	Anomaly Anomaly      `json:"anomaly"`
	Seed    int64        `json:"seed"`
	Mask    string       `json:"mask,omitempty"`
	Cells   [9]CellTruth `json:"cells"`
}

func imageSeed(seed int64, split string, a Anomaly, i int) int64 {
	return splitfile.ImageSeed(seed, split, string(a), i)
}

// WriteSplit writes DigitAnatomy in the MVTec AD layout into dir:
// train/good, test/good, test/<type>, ground_truth/<type>/NNN_mask.png, and
// truth.json. It refuses a non-empty dir.
func WriteSplit(dir string, o Options) (Truth, error) {
	t := Truth{Seed: o.Seed}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return t, fmt.Errorf("write digitanatomy: %s is not empty; choose a new directory", dir)
	}
	if o.TrainGood < 0 || o.TestPerType < 0 {
		return t, fmt.Errorf("write digitanatomy: image counts must not be negative")
	}
	dataDir := o.DataDir
	if dataDir == "" {
		var err error
		if dataDir, err = DataDir(); err != nil {
			return t, err
		}
	}
	train, err := Load(dataDir, true)
	if err != nil {
		return t, err
	}
	test, err := Load(dataDir, false)
	if err != nil {
		return t, err
	}
	write := func(d *Digits, split string, a Anomaly, i int) error {
		seed := imageSeed(o.Seed, split, a, i)
		im, err := Generate(d, seed, a)
		if err != nil {
			return err
		}
		rel := path.Join(split, string(a), fmt.Sprintf("%03d.png", i))
		ti := TruthImage{Path: rel, Split: split, Anomaly: a, Seed: seed, Cells: im.Cells}
		if err := splitfile.WritePNG(filepath.Join(dir, filepath.FromSlash(rel)), im.Gray); err != nil {
			return err
		}
		if a != Good {
			ti.Mask = path.Join("ground_truth", string(a), fmt.Sprintf("%03d_mask.png", i))
			if err := splitfile.WritePNG(filepath.Join(dir, filepath.FromSlash(ti.Mask)), im.GT); err != nil {
				return err
			}
		}
		t.Images = append(t.Images, ti)
		return nil
	}
	for i := range o.TrainGood {
		if err := write(train, "train", Good, i); err != nil {
			return t, err
		}
	}
	for _, a := range append([]Anomaly{Good}, Anomalies()...) {
		for i := range o.TestPerType {
			if err := write(test, "test", a, i); err != nil {
				return t, err
			}
		}
	}
	if err := splitfile.WriteJSON(filepath.Join(dir, TruthFile), t); err != nil {
		return t, err
	}
	return t, nil
}

// ReadTruth reads the truth.json written by WriteSplit.
func ReadTruth(dir string) (Truth, error) {
	var t Truth
	err := splitfile.ReadJSON(filepath.Join(dir, TruthFile), &t)
	return t, err
}
