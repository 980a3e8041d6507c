package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"sort"

	"github.com/samlad/samlad/infer"
)

// PartRecall is how well a segmenter finds a product's parts as segments,
// measured on the good images of a generated split against the per-part
// truth masks (eval/scenes: truth.json and parts/). A part is found when
// one segment holds over 80 % of its visible pixels while lying over 80 %
// inside the part's box: the part whole, neither cut up nor merged with
// its surroundings. PartsIoU counts the parts that some segment overlaps
// with IoU >= 0.5 (the criterion of SAM's evaluations), and MeanBestIoU is
// the mean over the parts of the best segment's IoU.
type PartRecall struct {
	Name        string           `json:"name"`
	Images      int              `json:"images"`
	Parts       Count            `json:"parts_found"`
	Types       map[string]Count `json:"found_by_type"`
	Segments    float64          `json:"segments_per_image"`
	PartsIoU    Count            `json:"parts_iou50"`
	MeanBestIoU float64          `json:"mean_best_iou"`
}

// partTruth is the part of a generator's truth.json that part recall reads.
type partTruth struct {
	Images []struct {
		Path    string `json:"path"`
		Parts   string `json:"parts"`
		Anomaly string `json:"anomaly"`
		Objects []struct {
			Type string `json:"type"`
		} `json:"objects"`
	} `json:"images"`
}

// MeasurePartRecall segments every good image of the split at root (at
// size pixels, as the engine sees it; a FrameSegmenter such as SAM sees the
// image at its own size and returns masks on the size x size grid, as in
// the engine) and counts the parts found.
func MeasurePartRecall(ctx context.Context, seg infer.Segmenter, root string, size int) (*PartRecall, error) {
	b, err := os.ReadFile(filepath.Join(root, "truth.json"))
	if err != nil {
		return nil, fmt.Errorf("part recall: %w", err)
	}
	var t partTruth
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("part recall: %s: %w", root, err)
	}
	pr := &PartRecall{Name: filepath.Base(root), Types: map[string]Count{}}
	segs := 0
	iouSum := 0.0
	for _, im := range t.Images {
		if im.Anomaly != "good" || im.Parts == "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		frame, _, _, err := loadImage(filepath.Join(root, filepath.FromSlash(im.Path)), 0)
		if err != nil {
			return nil, err
		}
		img := frame
		if frame.W != size || frame.H != size {
			img = infer.Resize(frame, size, size)
		}
		labels, err := readLabels(filepath.Join(root, filepath.FromSlash(im.Parts)), size)
		if err != nil {
			return nil, err
		}
		masks, err := infer.SegmentFrame(seg, frame, img)
		if err != nil {
			return nil, fmt.Errorf("segment %s: %w", im.Path, err)
		}
		pr.Images++
		segs += len(masks)
		for k, o := range im.Objects {
			found, visible := partFound(masks, labels, uint8(k+1), size)
			if !visible {
				continue
			}
			c := pr.Types[o.Type]
			c.N++
			pr.Parts.N++
			if found {
				c.K++
				pr.Parts.K++
			}
			pr.Types[o.Type] = c
			iou := bestIoU(masks, labels, uint8(k+1))
			iouSum += iou
			pr.PartsIoU.N++
			if iou >= 0.5 {
				pr.PartsIoU.K++
			}
		}
	}
	if pr.Images > 0 {
		pr.Segments = float64(segs) / float64(pr.Images)
	}
	if pr.PartsIoU.N > 0 {
		pr.MeanBestIoU = iouSum / float64(pr.PartsIoU.N)
	}
	return pr, nil
}

// readLabels reads a part mask and resamples it to size x size (nearest).
func readLabels(path string, size int) ([]uint8, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("part mask: %w", err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("part mask %s: %w", path, err)
	}
	g, ok := m.(*image.Gray)
	if !ok {
		return nil, fmt.Errorf("part mask %s: not 8-bit grey", path)
	}
	w, h := g.Rect.Dx(), g.Rect.Dy()
	out := make([]uint8, size*size)
	for y := range size {
		sy := min(h-1, (2*y+1)*h/(2*size))
		for x := range size {
			out[y*size+x] = g.Pix[sy*g.Stride+min(w-1, (2*x+1)*w/(2*size))]
		}
	}
	return out, nil
}

// partFound applies the criterion of PartRecall to the part labelled id.
func partFound(masks []infer.Mask, labels []uint8, id uint8, size int) (found, visible bool) {
	part := 0
	box := image.Rectangle{}
	for i, l := range labels {
		if l == id {
			part++
			box = box.Union(image.Rect(i%size, i/size, i%size+1, i/size+1))
		}
	}
	if part == 0 {
		return false, false
	}
	for _, m := range masks {
		if len(m.Bits) != len(labels) {
			continue
		}
		in, inBox := 0, 0
		for i, bit := range m.Bits {
			if bit == 0 {
				continue
			}
			if labels[i] == id {
				in++
			}
			if image.Pt(i%size, i/size).In(box) {
				inBox++
			}
		}
		if float64(in) > 0.8*float64(part) && float64(inBox) > 0.8*float64(m.Area) {
			return true, true
		}
	}
	return false, true
}

// bestIoU is the highest IoU of a mask with the part labelled id.
func bestIoU(masks []infer.Mask, labels []uint8, id uint8) float64 {
	part := 0
	for _, l := range labels {
		if l == id {
			part++
		}
	}
	best := 0.0
	for _, m := range masks {
		if len(m.Bits) != len(labels) {
			continue
		}
		inter, area := 0, 0
		for i, bit := range m.Bits {
			if bit != 0 {
				area++
				if labels[i] == id {
					inter++
				}
			}
		}
		if u := part + area - inter; u > 0 {
			best = max(best, float64(inter)/float64(u))
		}
	}
	return best
}

// PartTypes lists a recall's part types by name.
func (pr *PartRecall) PartTypes() []string {
	var out []string
	for t := range pr.Types {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
