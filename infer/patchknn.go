package infer

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer/internal/workpool"
)

// PatchKNN is the PatchCore-style baseline on the same backbone features as
// the engine: a memory of every feature cell of the good images (optionally
// reduced by a greedy coreset), and per query cell the distance to its
// nearest memory cell. The image score is the largest cell distance. It has
// no notion of objects, so it sees a part that looks wrong but not a part
// that is missing, doubled or out of place. With pipeline.photometric its
// images are matched to the good images' lighting as the engine's are, so
// that the two compare on the same features.
type PatchKNN struct {
	be    *Backend
	size  int
	norm  ChannelNorm
	c     int
	mem   []float32 // n x c
	h, w  int
	photo *Photometric
}

// NewPatchKNN builds the baseline from good images. coreset in (0,1) keeps
// that fraction of the cells (greedy farthest-point selection); 0 or 1
// keeps all.
func NewPatchKNN(ctx context.Context, be *Backend, p config.Pipeline, good []*Image, coreset float64) (*PatchKNN, error) {
	if len(good) == 0 {
		return nil, errors.New("patch-knn: no good images")
	}
	v := goodInputs(good, p.InputSize, p.Photometric, config.Off, workpool.Workers(p.Workers))
	inputs, photo := v.inputs, v.photo
	feats := make([]*FeatureMap, len(good))
	err := firstError(len(good), workpool.Workers(p.Workers), func(i int) error {
		f, err := extract(be, engineView(inputs[i], photo), nil)
		feats[i] = f
		if err != nil {
			return fmt.Errorf("patch-knn: good[%d]: %w", i, err)
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, err
	}
	items := make([]enrolled, len(feats))
	for i, f := range feats {
		if f.C != feats[0].C || f.H != feats[0].H || f.W != feats[0].W {
			return nil, fmt.Errorf("patch-knn: good[%d] features differ in shape", i)
		}
		items[i].feat = f
	}
	b := &PatchKNN{be: be, size: p.InputSize, norm: channelNorm(items), c: feats[0].C, h: feats[0].H, w: feats[0].W, photo: photo}
	for _, f := range feats {
		standardize(f, b.norm)
		b.mem = append(b.mem, cellsOf(f)...)
	}
	if coreset > 0 && coreset < 1 {
		b.mem = greedyCoreset(b.mem, b.c, max(1, int(coreset*float64(len(b.mem)/b.c))))
	}
	return b, nil
}

// NewPatchKNNFromBank builds the baseline from a bank's references: their
// standardised feature maps are the memory, so an inspection can score
// the baseline next to SAM-LAD without the good images at hand. It equals
// NewPatchKNN on the enrolled images (without coreset): both see the
// engine's view of them (engineView).
func NewPatchKNNFromBank(be *Backend, bank *Bank) (*PatchKNN, error) {
	if len(bank.Refs) == 0 {
		return nil, errors.New("patch-knn: the bank has no references")
	}
	f0 := bank.Refs[0].Feat
	b := &PatchKNN{be: be, size: bank.Config.InputSize, norm: bank.Norm, c: f0.C, h: f0.H, w: f0.W, photo: bank.Photometric}
	for i := range bank.Refs {
		f := &bank.Refs[i].Feat
		if f.C != b.c || f.H != b.h || f.W != b.w {
			return nil, fmt.Errorf("patch-knn: reference %s features differ in shape", bank.Refs[i].Name)
		}
		b.mem = append(b.mem, cellsOf(f)...)
	}
	return b, nil
}

// cellsOf lays a feature map out cell-major (one C-vector per cell).
func cellsOf(f *FeatureMap) []float32 {
	return toHWC(f, nil)
}

// greedyCoreset keeps n rows by farthest-point selection.
func greedyCoreset(mem []float32, c, n int) []float32 {
	out := make([]float32, 0, n*c)
	for _, r := range farthestPoints(mem, c, n).picks {
		out = append(out, mem[r*c:(r+1)*c]...)
	}
	return out
}

// Score returns the baseline's image score and its cell-level anomaly map
// (H' x W' nearest-neighbour distances).
func (b *PatchKNN) Score(img *Image) (score float64, amap []float32, w, h int, err error) {
	if img == nil || len(img.Pix) != 3*img.W*img.H || img.W <= 0 {
		return 0, nil, 0, 0, errors.New("patch-knn: malformed image")
	}
	f, err := extract(b.be, engineView(resized(img, b.size), b.photo), nil)
	if err != nil {
		return 0, nil, 0, 0, fmt.Errorf("patch-knn: %w", err)
	}
	if f.C != b.c || f.H != b.h || f.W != b.w {
		return 0, nil, 0, 0, fmt.Errorf("patch-knn: features %dx%dx%d, memory holds %dx%dx%d", f.C, f.H, f.W, b.c, b.h, b.w)
	}
	standardize(f, b.norm)
	q := cellsOf(f)
	rows := len(b.mem) / b.c
	amap = make([]float32, f.H*f.W)
	workpool.Each(len(amap), workpool.Workers(0), func(i int) {
		x := q[i*b.c : (i+1)*b.c]
		best := float32(math.Inf(1))
		for r := 0; r < rows; r++ {
			if d := sqDist(x, b.mem[r*b.c:(r+1)*b.c]); d < best {
				best = d
			}
		}
		amap[i] = float32(math.Sqrt(float64(best)))
	})
	for _, v := range amap {
		score = max(score, float64(v))
	}
	return score, amap, f.W, f.H, nil
}
