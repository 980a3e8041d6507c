package scenes

import (
	"fmt"
	"image"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/samlad/samlad/eval/datasets"
	"github.com/samlad/samlad/eval/internal/splitfile"
)

// Layout is an on-disk data-set layout.
type Layout string

const (
	// MVTecAD: train/good, test/good, test/<type>, ground_truth/<type>/NNN_mask.png.
	MVTecAD Layout = "mvtec"
	// LOCO: train/good, validation/good, test/{good,logical_anomalies,
	// structural_anomalies}, ground_truth/<dir>/NNN/KKK.png (one PNG per
	// defect region, valued by defects_config.json).
	LOCO Layout = "loco"
)

// SplitOptions says what WriteSplit generates.
type SplitOptions struct {
	Kind           Kind
	Layout         Layout
	Size           int
	Seed           int64
	TrainGood      int
	ValidationGood int // LOCO only
	TestGood       int
	TestPerType    int
	Anomalies      []Anomaly // nil means all anomalies of the kind
}

// PartsDir is the folder at the split root that holds the per-part truth
// masks, mirroring the image paths. The official layouts' readers ignore it.
const PartsDir = "parts"

// TruthFile is the name of the per-image truth written at the split root.
// It is not part of the official layouts; readers of those ignore it.
const TruthFile = "truth.json"

// Truth lists every written image with its object-level truth.
type Truth struct {
	Kind   Kind         `json:"kind"`
	Layout Layout       `json:"layout"`
	Size   int          `json:"size"`
	Seed   int64        `json:"seed"`
	Images []TruthImage `json:"images"`
}

// TruthImage is the truth for one written image; paths are slash-separated
// and relative to the split root.
type TruthImage struct {
	Path string `json:"path"`
	// Parts is the image's per-part truth mask (PartsDir + "/" + Path): an
	// 8-bit PNG whose pixel value k > 0 marks the visible pixels of
	// Objects[k-1], 0 elsewhere. It is written for every image, good ones
	// included, for measuring a segmenter's part recall.
	Parts   string   `json:"parts"`
	Split   string   `json:"split"` // train, validation or test
	Anomaly Anomaly  `json:"anomaly"`
	Seed    int64    `json:"seed"`
	Masks   []string `json:"masks,omitempty"`
	Objects []Object `json:"objects"`
	Absent  []Object `json:"absent,omitempty"`
}

// imageSeed derives an independent, stable seed for one image.
func imageSeed(seed int64, split string, a Anomaly, i int) int64 {
	return splitfile.ImageSeed(seed, split, string(a), i)
}

// generateImage renders image i of a split. A scene that cannot take its
// anomaly (a bag too crowded for an extra part) is drawn again from the
// next derived seed, so that a split never fails for the seed it was asked
// for; the seed used is returned for truth.json.
func generateImage(kind Kind, seed int64, split string, a Anomaly, i, size int) (Scene, int64, error) {
	const draws = 8
	var err error
	for d := range draws {
		s := imageSeed(seed, split, a, i)
		if d > 0 {
			s = imageSeed(seed, fmt.Sprintf("%s#%d", split, d), a, i)
		}
		var sc Scene
		if sc, err = Generate(kind, s, size, a); err == nil {
			return sc, s, nil
		}
	}
	return Scene{}, 0, fmt.Errorf("%w (and %d redraws)", err, draws-1)
}

// DefectsConfig is the defects_config.json written for a LOCO split: every
// type saturates at its full region area, except a missing object, which
// saturates at an absolute area of about two thirds of a small object, so a
// detector only has to flag a good part of where the object should be.
//
// The missing object's area is the kind's (kindSpec.missingSat, in units²:
// about two thirds of its smallest part), so that a missing pin saturates
// as a missing orange does.
func DefectsConfig(kind Kind, size int, anomalies []Anomaly) datasets.DefectsConfig {
	if anomalies == nil {
		anomalies = Anomalies(kind)
	}
	u := float64(size) / 16
	var c datasets.DefectsConfig
	for i, a := range anomalies {
		d := datasets.DefectConfig{Name: string(a), PixelValue: 255 - i, SaturationThreshold: 1, RelativeSaturation: true}
		if a == Missing {
			sat := kindSpecs[kind].missingSat
			if sat == 0 {
				sat = 1.5
			}
			d.SaturationThreshold, d.RelativeSaturation = math.Max(1, math.Round(sat*u*u)), false
		}
		c = append(c, d)
	}
	return c
}

// WriteSplit renders a data set into dir in the chosen layout, plus
// truth.json. It refuses a non-empty dir so it never mixes two data sets.
func WriteSplit(dir string, o SplitOptions) (Truth, error) {
	if _, ok := kindSpecs[o.Kind]; !ok {
		return Truth{}, fmt.Errorf("scene kind %q: want one of %v", o.Kind, AllKinds())
	}
	if o.Layout != MVTecAD && o.Layout != LOCO {
		return Truth{}, fmt.Errorf("layout %q: want %q or %q", o.Layout, MVTecAD, LOCO)
	}
	anomalies := o.Anomalies
	if anomalies == nil {
		anomalies = Anomalies(o.Kind)
	}
	for _, a := range anomalies {
		if !slices.Contains(Anomalies(o.Kind), a) {
			return Truth{}, fmt.Errorf("anomaly %q is not defined for kind %s", a, o.Kind)
		}
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return Truth{}, fmt.Errorf("write split: %s is not empty; choose a new directory", dir)
	}
	t := Truth{Kind: o.Kind, Layout: o.Layout, Size: o.Size, Seed: o.Seed}
	w := &splitWriter{dir: dir, o: o, truth: &t, defects: DefectsConfig(o.Kind, o.Size, anomalies)}

	if err := w.goods("train", "train/good", o.TrainGood); err != nil {
		return t, err
	}
	if o.Layout == LOCO {
		if err := w.goods("validation", "validation/good", o.ValidationGood); err != nil {
			return t, err
		}
	}
	if err := w.goods("test", "test/good", o.TestGood); err != nil {
		return t, err
	}
	next := map[string]int{} // LOCO numbers logical and structural images separately
	for _, a := range anomalies {
		for i := range o.TestPerType {
			sc, seed, err := generateImage(o.Kind, o.Seed, "test", a, i, o.Size)
			if err != nil {
				return t, err
			}
			sub, n := string(a), i
			if o.Layout == LOCO {
				sub = "structural_anomalies"
				if a.Logical() {
					sub = "logical_anomalies"
				}
				n = next[sub]
				next[sub]++
			}
			if err := w.scene(sc, "test", seed, path.Join("test", sub), n); err != nil {
				return t, err
			}
		}
	}
	if o.Layout == LOCO {
		if err := datasets.WriteDefectsConfig(filepath.Join(dir, "defects_config.json"), w.defects); err != nil {
			return t, err
		}
	}
	if err := splitfile.WriteJSON(filepath.Join(dir, TruthFile), t); err != nil {
		return t, err
	}
	return t, nil
}

type splitWriter struct {
	dir     string
	o       SplitOptions
	truth   *Truth
	defects datasets.DefectsConfig
}

func (w *splitWriter) goods(split, sub string, n int) error {
	for i := range n {
		sc, seed, err := generateImage(w.o.Kind, w.o.Seed, split, Good, i, w.o.Size)
		if err != nil {
			return err
		}
		if err := w.scene(sc, split, seed, sub, i); err != nil {
			return err
		}
	}
	return nil
}

// scene writes the image, its masks in the layout's form, and its truth.
func (w *splitWriter) scene(sc Scene, split string, seed int64, sub string, n int) error {
	rel := path.Join(sub, fmt.Sprintf("%03d.png", n))
	ti := TruthImage{Path: rel, Parts: path.Join(PartsDir, rel), Split: split, Anomaly: sc.Anomaly, Seed: seed, Objects: sc.Objects, Absent: sc.Absent}
	if err := splitfile.WritePNG(filepath.Join(w.dir, filepath.FromSlash(rel)), sc.Image); err != nil {
		return err
	}
	parts := image.NewGray(sc.Labels.Rect)
	for i := range parts.Pix {
		parts.Pix[i] = uint8(min(255, int(sc.Labels.Pix[2*i])<<8|int(sc.Labels.Pix[2*i+1])))
	}
	if err := splitfile.WritePNG(filepath.Join(w.dir, filepath.FromSlash(ti.Parts)), parts); err != nil {
		return err
	}
	if sc.Anomaly != Good {
		gtDir := path.Join("ground_truth", path.Base(sub))
		switch w.o.Layout {
		case MVTecAD:
			m := path.Join(gtDir, fmt.Sprintf("%03d_mask.png", n))
			if err := splitfile.WritePNG(filepath.Join(w.dir, filepath.FromSlash(m)), sc.GT); err != nil {
				return err
			}
			ti.Masks = append(ti.Masks, m)
		case LOCO:
			var value uint8
			for _, d := range w.defects {
				if d.Name == string(sc.Anomaly) {
					value = uint8(d.PixelValue)
				}
			}
			for k, d := range sc.Defects {
				ch := image.NewGray(d.Mask.Rect)
				for i, v := range d.Mask.Pix {
					if v != 0 {
						ch.Pix[i] = value
					}
				}
				m := path.Join(gtDir, fmt.Sprintf("%03d", n), fmt.Sprintf("%03d.png", k))
				if err := splitfile.WritePNG(filepath.Join(w.dir, filepath.FromSlash(m)), ch); err != nil {
					return err
				}
				ti.Masks = append(ti.Masks, m)
			}
		}
	}
	w.truth.Images = append(w.truth.Images, ti)
	return nil
}

// ReadTruth reads the truth.json of a split written by WriteSplit.
func ReadTruth(dir string) (Truth, error) {
	var t Truth
	err := splitfile.ReadJSON(filepath.Join(dir, TruthFile), &t)
	return t, err
}
