package infer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer/internal/workpool"
)

// checkPipeline rejects pipeline values the engine cannot run with.
func checkPipeline(p config.Pipeline) error {
	var bad []string
	if p.InputSize <= 0 {
		bad = append(bad, fmt.Sprintf("input_size = %d must be > 0", p.InputSize))
	}
	if p.K < 1 {
		bad = append(bad, fmt.Sprintf("k = %d must be >= 1", p.K))
	}
	if p.Upsample < 1 {
		bad = append(bad, fmt.Sprintf("upsample = %d must be >= 1", p.Upsample))
	}
	if !oneOf(p.Descriptor, DescDCGA, DescGMP, DescGAP) {
		bad = append(bad, fmt.Sprintf("descriptor = %q must be dcga, gmp or gap", p.Descriptor))
	}
	if !oneOf(p.DCGAPooling, DescGMP, DescGAP) {
		bad = append(bad, fmt.Sprintf("dcga_pooling = %q must be gmp or gap", p.DCGAPooling))
	}
	if !oneOf(p.Mode, ModeFull, ModeLight) {
		bad = append(bad, fmt.Sprintf("mode = %q must be full or light", p.Mode))
	}
	if !oneOf(p.Align, AlignNone, AlignCentroid, AlignBox, AlignNN) {
		bad = append(bad, fmt.Sprintf("align = %q must be none, centroid, box or nn", p.Align))
	}
	if !oneOf(p.Score, ScoreMax, ScoreTopK) {
		bad = append(bad, fmt.Sprintf("score = %q must be max or topk", p.Score))
	}
	if !oneOf(string(p.Register), string(config.Auto), string(config.On), string(config.Off)) {
		bad = append(bad, fmt.Sprintf("register = %q must be auto, on or off", p.Register))
	}
	if !(p.Epsilon > 0) {
		bad = append(bad, fmt.Sprintf("epsilon = %g must be > 0", p.Epsilon))
	}
	if !(p.MatchTemperature > 0) {
		bad = append(bad, fmt.Sprintf("match_temperature = %g must be > 0", p.MatchTemperature))
	}
	if p.SinkhornIters < 1 {
		bad = append(bad, fmt.Sprintf("sinkhorn_iters = %d must be >= 1", p.SinkhornIters))
	}
	if p.MatchThreshold < 0 || p.MatchThreshold >= 1 {
		bad = append(bad, fmt.Sprintf("match_threshold = %g must be in [0,1)", p.MatchThreshold))
	}
	if p.MinArea < 0 || p.MaxArea < 0 || p.MaxArea > 1 || (p.MaxArea > 0 && p.MinArea >= p.MaxArea) {
		bad = append(bad, fmt.Sprintf("min_area = %g, max_area = %g must satisfy 0 <= min_area < max_area <= 1", p.MinArea, p.MaxArea))
	}
	if !(p.StructuralWeight >= 0) || !(p.LogicalWeight >= 0) || !(p.PatchWeight >= 0) || p.StructuralWeight+p.LogicalWeight+p.PatchWeight == 0 {
		bad = append(bad, fmt.Sprintf("structural_weight = %g, logical_weight = %g, patch_weight = %g must be >= 0 and not all 0", p.StructuralWeight, p.LogicalWeight, p.PatchWeight))
	}
	if p.PositionWeight < 0 {
		bad = append(bad, fmt.Sprintf("position_weight = %g must be >= 0", p.PositionWeight))
	}
	if len(bad) > 0 {
		return errors.New("pipeline config: " + strings.Join(bad, "; "))
	}
	return nil
}

func oneOf(s string, opts ...string) bool {
	for _, o := range opts {
		if s == o {
			return true
		}
	}
	return false
}

// MinGoodImages is how many good images Enroll needs for k references:
// k neighbours plus the one held out by leave-one-out calibration.
func MinGoodImages(k int) int { return k + 1 }

// enrolled is one good image in the making: its stages' outputs.
type enrolled struct {
	img   *Image
	feat  *FeatureMap
	masks []Mask // unfiltered
}

// Enroll builds a bank from good images (names label them in results):
// features, objects and descriptors of every image, then calibration by
// leave-one-out. It needs at least k+1 images.
func Enroll(ctx context.Context, be *Backend, p config.Pipeline, good []*Image, names []string) (*Bank, error) {
	if err := checkPipeline(p); err != nil {
		return nil, err
	}
	if be == nil || be.Features == nil || be.Segmenter == nil || be.Upsampler == nil {
		return nil, errors.New("enroll: backend is incomplete")
	}
	if need := MinGoodImages(p.K); len(good) < need {
		return nil, fmt.Errorf("enroll: %d good images, need at least %d (k = %d nearest references plus one held out for calibration)", len(good), need, p.K)
	}
	if names != nil && len(names) != len(good) {
		return nil, fmt.Errorf("enroll: %d names for %d images", len(names), len(good))
	}
	workers := workpool.Workers(p.Workers)
	size := p.InputSize
	items := make([]enrolled, len(good))
	for i, img := range good {
		if img == nil || img.W <= 0 || img.H <= 0 || len(img.Pix) != 3*img.W*img.H {
			return nil, fmt.Errorf("enroll: image %s is malformed", nameOf(names, i))
		}
	}
	gv := goodInputs(good, size, p.Photometric, p.Register, workers)
	photo := gv.photo
	err := firstError(len(good), workers, func(i int) error {
		frame := good[i] // as the camera took it, for FrameFeatureExtractor and FrameSegmenter stages (SAM)
		if gv.reg != nil {
			var err error
			if frame, err = alignFrame(be, frame, size, gv.warps[i]); err != nil {
				return fmt.Errorf("enroll: %s: %w", nameOf(names, i), err)
			}
		}
		img := engineView(gv.inputs[i], photo)
		f, err := extractFrame(be, frame, img, nil)
		if err != nil {
			return fmt.Errorf("enroll: %s: %w", nameOf(names, i), err)
		}
		masks, err := SegmentFrame(be.Segmenter, frame, img)
		if err != nil {
			return fmt.Errorf("enroll: %s: segmentation: %w", nameOf(names, i), err)
		}
		items[i] = enrolled{img: img, feat: f, masks: masks}
		return ctx.Err()
	})
	if err != nil {
		return nil, err
	}
	for i := range items {
		f, f0 := items[i].feat, items[0].feat
		if f.C != f0.C || f.H != f0.H || f.W != f0.W {
			return nil, fmt.Errorf("enroll: %s: features %dx%dx%d differ from %dx%dx%d", nameOf(names, i), f.C, f.H, f.W, f0.C, f0.H, f0.W)
		}
	}
	bank := &Bank{Version: BankVersion, Backend: be.Name, Fingerprint: be.Fingerprint, Config: bankConfigOf(p), Photometric: photo, Registration: gv.reg}
	bank.Norm = channelNorm(items)
	for i := range items {
		standardize(items[i].feat, bank.Norm)
	}
	if p.Coreset > 0 && p.Coreset < len(items) {
		if p.Coreset < MinGoodImages(p.K) {
			return nil, fmt.Errorf("enroll: coreset = %d keeps fewer than the %d references k = %d needs", p.Coreset, MinGoodImages(p.K), p.K)
		}
		keep := coreset(items, p.Coreset)
		kept := make([]enrolled, len(keep))
		keptNames := make([]string, len(keep))
		for j, i := range keep {
			kept[j], keptNames[j] = items[i], nameOf(names, i)
		}
		slog.Info("enroll: coreset", "kept", len(keep), "of", len(items))
		items, names = kept, keptNames
	}
	cal := Calibration{MinArea: p.MinArea, MaxArea: p.MaxArea}
	if cal.MinArea == 0 || cal.MaxArea == 0 {
		mn, mx := calibrateArea(items, size*size)
		cal.MinArea, cal.MaxArea = pick(p.MinArea, mn), pick(p.MaxArea, mx)
	}
	bank.Refs = make([]Reference, len(items))
	raw := make([][][]float32, len(items))
	views := make([]*view, len(items))
	layout := newLayoutEnrol(p.Layout, len(items))
	err = firstError(len(items), workers, func(i int) error {
		it := items[i]
		v, err := upsampleView(be, it.img, it.feat, p.Upsample, nil)
		if err != nil {
			return fmt.Errorf("enroll: %s: %w", nameOf(names, i), err)
		}
		masks := filterMasks(it.masks, size*size, cal.MinArea, cal.MaxArea, p.MaxObjects)
		v.Labels, v.Objects = labelObjects(masks, v.W, v.H)
		raw[i] = describe(v, p.Descriptor, p.DCGAPooling)
		layout.describe(i, v)
		v.Feat = nil // large; calibration upsamples again or caches
		views[i] = v
		bank.Refs[i] = Reference{Name: nameOf(names, i), RGB: quantize(it.img), Size: size, Feat: *it.feat,
			Global: globalVector(it.feat), MapW: v.W, MapH: v.H, Labels: v.Labels, Objects: v.Objects, Warp: gv.warp(i)}
		return ctx.Err()
	})
	if err != nil {
		return nil, err
	}
	bank.DescMean = meanDesc(raw, items[0].feat.C)
	for i, v := range views {
		finishDesc(raw[i], bank.DescMean, v, p.PositionWeight)
		for j, d := range raw[i] {
			bank.Refs[i].Objects[j].Desc = d
		}
	}
	for i := range bank.Refs {
		if r := &bank.Refs[i]; r.MapW != bank.Refs[0].MapW || r.MapH != bank.Refs[0].MapH {
			return nil, fmt.Errorf("enroll: %s: upsampled grid %dx%d differs from %dx%d", r.Name, r.MapW, r.MapH, bank.Refs[0].MapW, bank.Refs[0].MapH)
		}
	}
	bank.Calib = cal
	if err := calibrate(ctx, be, p, bank, items); err != nil {
		return nil, err
	}
	bank.Rules.Register = gv.rule
	bank.Layout = layout.finish(bank, workers)
	bank.Patch = enrolPatchMemory(bank, p.K, workers)
	if p.CompositionWords > 0 {
		bank.Composition = enrolComposition(bank, p.CompositionWords, workers)
	}
	sc, err := selfCheck(ctx, be, p, bank)
	if err != nil {
		return nil, err
	}
	bank.SelfCheck = sc
	// Rule 7 (threshold.go).
	scores := goodScores(bank, p)
	bank.Calib.LOOScores = scores
	bank.Calib.Threshold = round4(falseRejectThreshold(scores, p.FalseRejectRate))
	bank.Calib.FalseRejectRate = p.FalseRejectRate
	bank.Calib.GoodAbove = thresholdCheck(scores, bank.Calib.Threshold)
	return bank, nil
}

func nameOf(names []string, i int) string {
	if names != nil && i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("good[%d]", i)
}

// channelNorm is the per-channel mean and inverse standard deviation over
// all feature cells of all good images, so that eps in the AMM and the
// distances in retrieval weigh every channel alike.
func channelNorm(items []enrolled) ChannelNorm {
	c := items[0].feat.C
	sum, sq := make([]float64, c), make([]float64, c)
	var n float64
	for _, it := range items {
		f := it.feat
		hw := f.H * f.W
		for ch := 0; ch < c; ch++ {
			for _, v := range f.Data[ch*hw : (ch+1)*hw] {
				sum[ch] += float64(v)
				sq[ch] += float64(v) * float64(v)
			}
		}
		n += float64(hw)
	}
	norm := ChannelNorm{Mean: make([]float32, c), InvStd: make([]float32, c)}
	for ch := 0; ch < c; ch++ {
		m := sum[ch] / n
		sd := math.Sqrt(max(sq[ch]/n-m*m, 0))
		norm.Mean[ch] = float32(m)
		norm.InvStd[ch] = float32(1 / max(sd, 1e-4))
	}
	return norm
}

// coreset picks n references by greedy k-center on the global vectors
// (the farthest-point rule of PatchCore's coreset), starting from image 0.
func coreset(items []enrolled, n int) []int {
	g := make([][]float32, len(items))
	for i := range items {
		g[i] = globalVector(items[i].feat)
	}
	dist := make([]float32, len(items))
	for i := range dist {
		dist[i] = float32(math.Inf(1))
	}
	keep := []int{0}
	for len(keep) < n {
		last := keep[len(keep)-1]
		best := -1
		for i := range items {
			dist[i] = min(dist[i], sqDist(g[i], g[last]))
			if best < 0 || dist[i] > dist[best] {
				best = i
			}
		}
		keep = append(keep, best)
	}
	return keep
}

// meanDesc is the mean of all raw object descriptors (zero when there are
// no objects).
func meanDesc(raw [][][]float32, c int) []float32 {
	mean := make([]float32, c)
	var n int
	for _, ds := range raw {
		for _, d := range ds {
			for i, v := range d {
				mean[i] += v
			}
			n++
		}
	}
	for i := range mean {
		mean[i] /= float32(max(n, 1))
	}
	return mean
}
