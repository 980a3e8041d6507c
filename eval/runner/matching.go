package runner

import (
	"encoding/json"
	"fmt"
	"image"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/samlad/samlad/infer"
)

// Matching is the object matching's quality where the generator knows
// which objects correspond (the paper's Table 5), over every test image
// and each of its k references.
//
// Each box of a matched pair is mapped to the truth object of its image
// with the largest IoU, if that IoU is at least MatchIoU. A pair with both
// boxes mapped is correct when the two truth objects correspond:
// generated scenes: same type and slot; DigitAnatomy: same grid position,
// neither cell anomalous. Precision is correct / mapped pairs. Recall is
// the share of query truth objects that have a counterpart in the
// reference and are in at least one correct pair with it.
type Matching struct {
	Pairs     int     `json:"pairs"`     // matched pairs
	Mapped    int     `json:"mapped"`    // pairs whose both boxes map to truth objects
	Correct   int     `json:"correct"`   // mapped pairs of corresponding truth objects
	Relevant  int     `json:"relevant"`  // query truth objects with a counterpart, summed over references
	Found     int     `json:"found"`     // of those, in a correct pair
	Precision float64 `json:"precision"` // Correct / Mapped
	Recall    float64 `json:"recall"`    // Found / Relevant
	F1        float64 `json:"f1"`
}

// MatchIoU is the IoU from which a box is taken to be a truth object.
const MatchIoU = 0.5

// truthObject is one object of a generator's truth, in input_size pixels.
// Objects correspond when their keys are equal; "" corresponds to nothing.
type truthObject struct {
	key string
	box image.Rectangle
}

// truthFile is what the matching needs of eval/scenes' and
// eval/digitanatomy's truth.json: scene objects or digit cells.
type truthFile struct {
	Images []struct {
		Path    string `json:"path"`
		Objects []struct {
			Type string          `json:"type"`
			Slot int             `json:"slot"`
			Box  image.Rectangle `json:"box"`
		} `json:"objects"`
		Cells []struct {
			Pos       int             `json:"pos"`
			Digit     int             `json:"digit"`
			Anomalous bool            `json:"anomalous"`
			Box       image.Rectangle `json:"box"`
		} `json:"cells"`
	} `json:"images"`
}

// readObjectTruth maps image paths (relative to root) to their truth
// objects in the images' own pixels; nil when root has no generator truth.
func readObjectTruth(root string) map[string][]truthObject {
	b, err := os.ReadFile(filepath.Join(root, "truth.json"))
	if err != nil {
		return nil
	}
	var t truthFile
	if err := json.Unmarshal(b, &t); err != nil {
		slog.Warn("eval: ignoring unreadable truth.json", "dir", root, "err", err)
		return nil
	}
	out := map[string][]truthObject{}
	for _, im := range t.Images {
		var objs []truthObject
		for _, o := range im.Objects {
			objs = append(objs, truthObject{key: fmt.Sprintf("%s/%d", o.Type, o.Slot), box: o.Box})
		}
		for _, c := range im.Cells {
			if c.Digit < 0 || c.Box.Empty() {
				continue
			}
			key := ""
			if !c.Anomalous {
				key = fmt.Sprintf("cell %d", c.Pos)
			}
			objs = append(objs, truthObject{key: key, box: c.Box})
		}
		if len(objs) > 0 {
			out[im.Path] = objs
		}
	}
	return out
}

// scaleTruth maps truth boxes from a w x h image to the engine's size x
// size input.
func scaleTruth(objs []truthObject, w, h, size int) []truthObject {
	out := make([]truthObject, len(objs))
	sx, sy := float64(size)/float64(w), float64(size)/float64(h)
	for i, o := range objs {
		b := o.box
		out[i] = truthObject{o.key, image.Rect(int(float64(b.Min.X)*sx), int(float64(b.Min.Y)*sy),
			int(float64(b.Max.X)*sx+0.5), int(float64(b.Max.Y)*sy+0.5))}
	}
	return out
}

// iou is the intersection over union of two boxes.
func iou(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	area := func(r image.Rectangle) float64 { return float64(r.Dx() * r.Dy()) }
	return area(in) / (area(a) + area(b) - area(in))
}

// truthOf returns the index of the truth object box is, or -1.
func truthOf(box image.Rectangle, objs []truthObject) int {
	best, bestIoU := -1, MatchIoU
	for i, o := range objs {
		if v := iou(box, o.box); v >= bestIoU {
			best, bestIoU = i, v
		}
	}
	return best
}

// addMatches scores one inspected image's matches: query are the query
// image's truth objects, refs those of each of res.References (nil where
// a reference has no truth; such references are skipped).
func (m *Matching) addMatches(res *infer.Result, query []truthObject, refs [][]truthObject) {
	for r, ref := range refs {
		if ref == nil {
			continue
		}
		found := make([]bool, len(query))
		for _, mt := range res.Matches {
			if mt.Ref != r || !mt.Matched() {
				continue
			}
			m.Pairs++
			qi, ri := truthOf(mt.QueryBox, query), truthOf(mt.RefBox, ref)
			if qi < 0 || ri < 0 {
				continue
			}
			m.Mapped++
			if k := query[qi].key; k != "" && k == ref[ri].key {
				m.Correct++
				found[qi] = true
			}
		}
		for qi, q := range query {
			if q.key == "" || !hasKey(ref, q.key) {
				continue
			}
			m.Relevant++
			if found[qi] {
				m.Found++
			}
		}
	}
}

func hasKey(objs []truthObject, key string) bool {
	for _, o := range objs {
		if o.key == key {
			return true
		}
	}
	return false
}

// finish computes the ratios.
func (m *Matching) finish() {
	if m.Mapped > 0 {
		m.Precision = float64(m.Correct) / float64(m.Mapped)
	}
	if m.Relevant > 0 {
		m.Recall = float64(m.Found) / float64(m.Relevant)
	}
	if m.Precision+m.Recall > 0 {
		m.F1 = 2 * m.Precision * m.Recall / (m.Precision + m.Recall)
	}
}
