package onnx

import (
	"fmt"
	"image"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
)

// Prompt sources (config.Models.Prompts).
const (
	PromptsGrid     = "grid"
	PromptsSegments = "segments"
)

// AMG holds SAM's automatic-mask-generation parameters (config.Models).
type AMG struct {
	PointsPerSide      int
	PointsPerBatch     int
	PredIoUThreshold   float32
	StabilityThreshold float32
	StabilityOffset    float32
	BoxNMSThreshold    float64
	MinRegionArea      int
	CropLayers         int
	// Prompts is "grid" (SAM's points_per_side grid) or "segments" (one
	// interior point per built-in segment of at least MinProposalArea pixels
	// on the engine grid: a few prompts per part, for CPUs).
	Prompts         string
	MinProposalArea int
}

func amgFromConfig(m config.Models) (AMG, error) {
	a := AMG{
		PointsPerSide:      m.PointsPerSide,
		PointsPerBatch:     m.PointsPerBatch,
		PredIoUThreshold:   float32(m.PredIoUThreshold),
		StabilityThreshold: float32(m.StabilityThreshold),
		StabilityOffset:    float32(m.StabilityOffset),
		BoxNMSThreshold:    m.BoxNMSThreshold,
		MinRegionArea:      m.MinRegionArea,
		CropLayers:         m.CropLayers,
		Prompts:            m.Prompts,
		MinProposalArea:    m.MinProposalArea,
	}
	if a.Prompts == "" {
		a.Prompts = PromptsGrid
	}
	switch {
	case a.PointsPerSide < 1:
		return a, fmt.Errorf("models.points_per_side %d: must be at least 1", a.PointsPerSide)
	case a.PointsPerBatch < 1:
		return a, fmt.Errorf("models.points_per_batch %d: must be at least 1", a.PointsPerBatch)
	case a.CropLayers < 0 || a.CropLayers > 3:
		return a, fmt.Errorf("models.crop_layers %d: must be 0..3", a.CropLayers)
	case a.Prompts != PromptsGrid && a.Prompts != PromptsSegments:
		return a, fmt.Errorf("models.prompts %q: want %q or %q", a.Prompts, PromptsGrid, PromptsSegments)
	case a.BoxNMSThreshold <= 0 || a.BoxNMSThreshold > 1:
		return a, fmt.Errorf("models.box_nms_threshold %g: must be in (0,1]", a.BoxNMSThreshold)
	}
	return a, nil
}

// sam is the Segmenter: SAM's image encoder once per frame (once per crop
// with crop layers), then the stock segment-anything prompt/mask decoder on
// point prompts, then SAM's filters (predicted IoU, stability, NMS) in Go.
//
// The decoder contract is the stock one of segment-anything's
// export_onnx_model.py (SamOnnxModel), accepted as is:
//
//	image_embeddings [1,E,h,w]
//	point_coords     [B,N,2]  x,y in the encoder's 1024 frame; each prompt
//	                          is one point and SAM's padding point (0,0)
//	point_labels     [B,N]    1 for the point, -1 for the padding point
//	mask_input       [1,1,4h,4w] zeros; has_mask_input [1] = 0
//	orig_im_size     [2]      the frame's (H, W)
//	-> iou_predictions [B,M], low_res_masks [B,M,4h,4w] (logits over the
//	   padded frame); "masks" (at orig_im_size) is left unread.
//
// B is 1 in the stock export (point_coords' batch dimension is fixed: the
// graph declares [1,N,2], and ONNX Runtime refuses a batch of 4 with "Got
// invalid dimensions for input: point_coords for the following indices
// index: 0 Got: 4 Expected: 1"), so each prompt is one run; a file with a
// dynamic batch gets models.points_per_batch prompts per run. The decoder
// repeats the image embedding per prompt anyway (SamOnnxModel), so a batch
// would save only the per-run overhead; what saves decoder time on a CPU is
// fewer prompts (coveredBy). orig_im_size does not matter for the cost:
// "masks" is not fetched, and a 32 x 32 or 2048 x 2048 orig_im_size runs
// as fast as the frame's size (within the noise of 2 shared cores). M is 1 (single-mask export) or
// 4 (multimask: mask 0 is the single-mask token, 1..3 are what
// SamAutomaticMaskGenerator uses). The encoder's one input and one output
// are named by its manifest.
type sam struct {
	enc, dec *session
	norm     Normalize
	side     int // encoder input side (1024 for SAM)
	batch    int // prompts per decoder run
	nMasks   int // masks per prompt in the file
	first    int // first mask index the AMG uses
	lowH     int
	lowW     int
	embLen   int
	embShape []int64 // [1,E,h,w]
	amg      AMG
	// proposer gives the cheap segments whose interior points prompt SAM
	// (models.prompts = "segments"); nil for the point grid.
	proposer infer.Segmenter
	// spare holds mask buffers of candidates that lost NMS, for reuse.
	spare sync.Pool
	cache embCache
	// decoded counts the prompts sent to the decoder (tests, benchmarks).
	decoded atomic.Int64
	// promptAll turns off the skipping of covered segment prompts
	// (coveredBy), for the tests and benchmarks that compare against it.
	promptAll bool
}

// Decoder input and output names of the stock contract.
var (
	decInputs  = []string{"image_embeddings", "point_coords", "point_labels", "mask_input", "has_mask_input", "orig_im_size"}
	decOutputs = []string{"iou_predictions", "low_res_masks"}
)

func newSAM(rt config.Runtime, chain []string, enc, dec *Manifest, amg AMG, proposer infer.Segmenter) (*sam, error) {
	if enc.Kind != KindSAMEncoder {
		return nil, fmt.Errorf("model manifest %s: kind %q, models.sam_encoder needs %q", enc.path, enc.Kind, KindSAMEncoder)
	}
	if dec.Kind != KindSAMDecoder {
		return nil, fmt.Errorf("model manifest %s: kind %q, models.sam_decoder needs %q", dec.path, dec.Kind, KindSAMDecoder)
	}
	if len(enc.Inputs) != 1 || len(enc.Outputs) != 1 {
		return nil, fmt.Errorf("model manifest %s: a SAM encoder has one input (the image) and one output (the embeddings), the manifest lists %d and %d", enc.path, len(enc.Inputs), len(enc.Outputs))
	}
	imgSpec, embSpec := enc.Inputs[0], enc.Outputs[0]
	if len(imgSpec.Shape) != 4 || imgSpec.Shape[1] != 3 || imgSpec.Shape[2] <= 0 || imgSpec.Shape[2] != imgSpec.Shape[3] {
		return nil, fmt.Errorf("model manifest %s: input %q must be a square image [1,3,S,S] (batch 1 or -1), got %v", enc.path, imgSpec.Name, imgSpec.Shape)
	}
	if len(embSpec.Shape) != 4 || !fixed(embSpec.Shape[1:]) {
		return nil, fmt.Errorf("model manifest %s: output %q must be embeddings [1,E,h,w] with fixed E,h,w, got %v", enc.path, embSpec.Name, embSpec.Shape)
	}
	imgShape, err := resolve(enc, imgSpec, []int64{1, 3, imgSpec.Shape[2], imgSpec.Shape[3]})
	if err != nil {
		return nil, err
	}
	embShape, err := resolve(enc, embSpec, []int64{1, embSpec.Shape[1], embSpec.Shape[2], embSpec.Shape[3]})
	if err != nil {
		return nil, err
	}
	specs := map[string]TensorSpec{}
	for _, n := range decInputs {
		if specs[n], err = dec.input(n); err != nil {
			return nil, fmt.Errorf("%w (the stock segment-anything decoder contract: %v)", err, decInputs)
		}
	}
	for _, n := range decOutputs {
		if specs[n], err = dec.output(n); err != nil {
			return nil, fmt.Errorf("%w (the stock segment-anything decoder contract)", err)
		}
	}
	if _, err := resolve(dec, specs["image_embeddings"], embShape); err != nil {
		return nil, fmt.Errorf("SAM encoder %s and decoder %s do not fit: %w", enc.File, dec.File, err)
	}
	coords, maskSpec := specs["point_coords"], specs["low_res_masks"]
	if len(coords.Shape) != 3 || len(maskSpec.Shape) != 4 || maskSpec.Shape[1] <= 0 {
		return nil, fmt.Errorf("model manifest %s: point_coords must be [B,N,2] and low_res_masks [B,M,H,W] with a fixed M, got %v and %v", dec.path, coords.Shape, maskSpec.Shape)
	}
	s := &sam{norm: enc.Normalize, side: int(imgSpec.Shape[2]), batch: 1, nMasks: int(maskSpec.Shape[1]),
		lowH: 4 * int(embShape[2]), lowW: 4 * int(embShape[3]), amg: amg, proposer: proposer,
		embLen: int(embShape[1] * embShape[2] * embShape[3]), embShape: embShape}
	if coords.Shape[0] < 0 {
		s.batch = amg.PointsPerBatch
	} else if coords.Shape[0] != 1 {
		return nil, fmt.Errorf("model manifest %s: point_coords batch %d: want 1 or dynamic (-1)", dec.path, coords.Shape[0])
	}
	switch s.nMasks {
	case 1:
	case 4:
		s.first = 1 // multimask: SamAutomaticMaskGenerator's masks[:, 1:]
	default:
		return nil, fmt.Errorf("model manifest %s: low_res_masks has %d masks per prompt: want 1 (single-mask export) or 4 (multimask)", dec.path, s.nMasks)
	}
	b, m := int64(s.batch), int64(s.nMasks)
	lh, lw := int64(s.lowH), int64(s.lowW)
	want := map[string][]int64{
		"image_embeddings": embShape,
		"point_coords":     {b, 2, 2},
		"point_labels":     {b, 2},
		"mask_input":       {1, 1, lh, lw},
		"has_mask_input":   {1},
		"orig_im_size":     {2},
		"iou_predictions":  {b, m},
		"low_res_masks":    {b, m, lh, lw},
	}
	var ins, outs []tensorShape
	for _, n := range append(append([]string{}, decInputs...), decOutputs...) {
		sh, err := resolve(dec, specs[n], want[n])
		if err != nil {
			return nil, err
		}
		if slices.Contains(decInputs, n) {
			ins = append(ins, tensorShape{n, sh})
		} else {
			outs = append(outs, tensorShape{n, sh})
		}
	}
	s.enc, err = newSession(rt, chain, enc, []tensorShape{{imgSpec.Name, imgShape}}, []tensorShape{{embSpec.Name, embShape}}, nil)
	if err != nil {
		return nil, err
	}
	s.dec, err = newSession(rt, chain, dec, ins, outs, func(in [][]float32) {
		s.fillPrompts(in, [][2]float32{{float32(s.side) / 2, float32(s.side) / 2}}, s.side, s.side)
	})
	if err != nil {
		s.enc.close()
		return nil, err
	}
	return s, nil
}

func fixed(shape []int64) bool {
	for _, d := range shape {
		if d <= 0 {
			return false
		}
	}
	return true
}

// fillPrompts writes up to s.batch point prompts (x,y in the encoder frame)
// into the decoder inputs, each followed by SAM's padding point (0,0) with
// label -1; a short batch repeats its last point. mask_input stays zero and
// has_mask_input 0; orig_im_size is the frame's (H, W).
func (s *sam) fillPrompts(in [][]float32, pts [][2]float32, frameW, frameH int) {
	coords, labels := in[1], in[2]
	for b := 0; b < s.batch; b++ {
		p := pts[min(b, len(pts)-1)]
		coords[4*b], coords[4*b+1] = p[0], p[1]
		coords[4*b+2], coords[4*b+3] = 0, 0
		labels[2*b], labels[2*b+1] = 1, -1
	}
	in[4][0] = 0
	in[5][0], in[5][1] = float32(frameH), float32(frameW)
}

// candidate is one mask that passed the per-prompt filters, on the output grid.
type candidate struct {
	bits []uint8
	box  [4]int
	area int
	iou  float32
	crop [4]int // in frame pixels
}

// Segment runs automatic mask generation on img, masks at img's size.
func (s *sam) Segment(img *infer.Image) ([]infer.Mask, error) {
	if err := checkImage(img); err != nil {
		return nil, fmt.Errorf("segment: %w", err)
	}
	return s.SegmentFrame(img, img.W, img.H)
}

// SegmentFrame implements infer.FrameSegmenter: SAM sees frame as the camera
// took it (longest side to the encoder's 1024, aspect kept, zero-padded
// bottom and right, as SamPredictor does), and the masks come back on a
// w x h grid covering the whole frame (the engine's input_size resize).
func (s *sam) SegmentFrame(frame *infer.Image, w, h int) ([]infer.Mask, error) {
	if err := checkImage(frame); err != nil {
		return nil, fmt.Errorf("segment: %w", err)
	}
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("segment: output grid %dx%d", w, h)
	}
	pts, err := s.prompts(frame, w, h)
	if err != nil {
		return nil, err
	}
	boxes, _ := cropBoxes(frame.W, frame.H, s.amg.CropLayers)
	var all []candidate
	for _, crop := range boxes {
		c, err := s.processCrop(frame, crop, pts, w, h)
		if err != nil {
			return nil, err
		}
		all = append(all, c...)
	}
	if len(boxes) > 1 {
		// Prefer masks from smaller crops (SAM: scores = 1 / box_area(crop)).
		bs, sc := make([][4]int, len(all)), make([]float64, len(all))
		for i, c := range all {
			bs[i] = c.box
			sc[i] = 1 / float64((c.crop[2]-c.crop[0])*(c.crop[3]-c.crop[1]))
		}
		all = s.pick(all, nms(bs, sc, cropNMSThreshold))
	}
	if s.amg.MinRegionArea > 0 {
		all = s.postprocessSmallRegions(all, w, h, max(s.amg.BoxNMSThreshold, cropNMSThreshold))
	}
	masks := make([]infer.Mask, 0, len(all))
	for _, c := range all {
		if c.area == 0 {
			continue
		}
		masks = append(masks, infer.Mask{W: w, H: h, Bits: c.bits, Area: c.area,
			Box: image.Rect(c.box[0], c.box[1], c.box[2]+1, c.box[3]+1), Score: c.iou})
	}
	return masks, nil
}

// prompt is one point prompt in [0,1] frame coordinates and, for
// models.prompts = "segments", the proposal segment it stands for (on the
// w x h output grid) and its area.
type prompt struct {
	p    [2]float32
	seg  []uint8
	area int
}

// prompts returns the point prompts: SAM's n x n grid, or one interior
// point per proposal segment (the pixel farthest from the segment's
// border), the proposals computed on the w x h grid image and ordered by
// area, smallest first (see coveredBy).
func (s *sam) prompts(frame *infer.Image, w, h int) ([]prompt, error) {
	if s.proposer == nil {
		grid := pointGrid(s.amg.PointsPerSide)
		out := make([]prompt, len(grid))
		for i, p := range grid {
			out[i].p = p
		}
		return out, nil
	}
	small := frame
	if frame.W != w || frame.H != h {
		small = infer.Resize(frame, w, h)
	}
	segs, err := s.proposer.Segment(small)
	if err != nil {
		return nil, fmt.Errorf("segment: proposals: %w", err)
	}
	var pts []prompt
	for _, m := range segs {
		if m.Area < s.amg.MinProposalArea {
			continue
		}
		x, y := interiorPoint(m.Bits, m.W, m.H)
		pts = append(pts, prompt{p: [2]float32{(float32(x) + 0.5) / float32(m.W), (float32(y) + 0.5) / float32(m.H)}, seg: m.Bits, area: m.Area})
	}
	slices.SortStableFunc(pts, func(a, b prompt) int { return a.area - b.area })
	return pts, nil
}

// coverShare is how much of a proposal segment a mask already found must
// hold for the segment's prompt to be skipped; coverGrowth is how many
// times the segment's area that mask may be at most (a fragment of a part
// against the whole part, not an item against its container or the
// background).
const (
	coverShare  = 0.8
	coverGrowth = 10
)

// coveredBy reports whether a proposal segment (w x h bits) lies, for at
// least coverShare of its area, inside one of the candidates found so far
// that is at most coverGrowth times its size.
// Such a prompt would give SAM's mask of the part already found (a segment
// that is a fragment of that part) and lose the NMS to it, at the cost of a
// decoder run. Proposals go smallest first, so that the parts inside a
// container (items in a bag) are prompted before the container's segment,
// whose mask holds them; a grid prompt (no segment) is never skipped.
func coveredBy(seg []uint8, area int, cands []candidate) bool {
	if seg == nil || area == 0 {
		return false
	}
	need := int(coverShare*float64(area) + 0.5)
	for _, c := range cands {
		if c.area < need || c.area > coverGrowth*area {
			continue
		}
		in := 0
		for i, b := range seg {
			if b != 0 && c.bits[i] != 0 {
				in++
			}
		}
		if in >= need {
			return true
		}
	}
	return false
}

// pick returns the kept candidates and recycles the others' masks.
func (s *sam) pick(c []candidate, keep []int) []candidate {
	out := make([]candidate, len(keep))
	kept := make([]bool, len(c))
	for i, k := range keep {
		out[i] = c[k]
		kept[k] = true
	}
	for i := range c {
		if !kept[i] {
			s.recycle(c[i].bits)
		}
	}
	return out
}

// maskBuffer returns a zeroed n-pixel mask, reusing a recycled one if any.
func (s *sam) maskBuffer(n int) []uint8 {
	if p, ok := s.spare.Get().(*[]uint8); ok && cap(*p) >= n {
		b := (*p)[:n]
		clear(b)
		return b
	}
	return make([]uint8, n)
}

func (s *sam) recycle(b []uint8) {
	if b != nil {
		s.spare.Put(&b)
	}
}

// frameGeometry is how a (crop of a) frame sits in the encoder input:
// scaled by scale to newW x newH at the top left, the rest zero.
type frameGeometry struct {
	scale      float64
	newW, newH int
}

// sx and sy are the per-axis scales of a cw x ch image (SAM scales
// coordinates and masks by newW/cw and newH/ch, which differ from scale by
// the rounding).
func (g frameGeometry) sx(cw int) float64 { return float64(g.newW) / float64(cw) }
func (g frameGeometry) sy(ch int) float64 { return float64(g.newH) / float64(ch) }

func (s *sam) geometry(cw, ch int) frameGeometry {
	// ResizeLongestSide.get_preprocess_shape: round half up.
	scale := float64(s.side) / float64(max(cw, ch))
	return frameGeometry{scale, int(float64(cw)*scale + 0.5), int(float64(ch)*scale + 0.5)}
}

// encodeToDecoder encodes img into the decoder's embedding input and
// returns with the decoder locked for the prompts that follow; unlock
// releases it (a no-op when the encoding failed before the copy).
func (s *sam) encodeToDecoder(img *infer.Image) (g frameGeometry, unlock func(), err error) {
	locked := false
	g, err = s.encode(img, func(emb []float32) {
		s.dec.mu.Lock()
		locked = true
		copy(s.dec.inData[0], emb)
	})
	if !locked {
		return g, func() {}, err
	}
	return g, s.dec.mu.Unlock, err
}

// encode runs the encoder on img (resized longest side to s.side, padded)
// and hands the embeddings to use. Embeddings are cached by the image's
// content (its size and a hash of its pixels), so that the features stage
// and the segmenter share one encoder run per frame; use must not keep or
// change emb.
func (s *sam) encode(img *infer.Image, use func(emb []float32)) (frameGeometry, error) {
	g := s.geometry(img.W, img.H)
	key := embKey{img.W, img.H, hashPix(img.Pix)}
	if emb := s.cache.get(key); emb != nil {
		use(emb)
		return g, nil
	}
	emb := make([]float32, s.embLen)
	err := s.enc.run(func(in [][]float32) {
		normalizeInto(in[0], img, g.newW, g.newH, s.side, s.side, s.norm)
	}, func(out [][]float32) {
		copy(emb, out[0])
	})
	if err != nil {
		return g, err
	}
	s.cache.put(key, emb)
	use(emb)
	return g, nil
}

// embKey identifies an encoder input by content.
type embKey struct {
	w, h int
	hash uint64
}

// embCache holds the embeddings of the last few frames (one per concurrent
// inspection is enough: features, then segmentation, of the same frame).
type embCache struct {
	mu      sync.Mutex
	keys    []embKey
	entries [][]float32
}

const embCacheSize = 4

func (c *embCache) get(k embKey) []float32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, key := range c.keys {
		if key == k {
			return c.entries[i]
		}
	}
	return nil
}

func (c *embCache) put(k embKey, emb []float32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.keys) == embCacheSize {
		c.keys, c.entries = c.keys[1:], c.entries[1:]
	}
	c.keys, c.entries = append(c.keys, k), append(c.entries, emb)
}

// hashPix is FNV-1a over the pixels' bits.
func hashPix(pix []float32) uint64 {
	h := uint64(14695981039346656037)
	for _, v := range pix {
		h ^= uint64(math.Float32bits(v))
		h *= 1099511628211
	}
	return h
}

// gridSamples maps output grid index i (of n covering the frame's fw
// pixels) to the low-res logits' axis of a crop starting at c0 and c1
// pixels long: frame pixel centre -> crop -> encoder frame (x scale) ->
// low-res cell (x low/side). Indices whose frame position lies outside the
// crop get ok = false.
func gridSamples(n, fw, c0, c1 int, scale float64, low, side int) ([]sample, []bool) {
	out, in := make([]sample, n), make([]bool, n)
	for i := range out {
		edge := (float64(i) + 0.5) * float64(fw) / float64(n) // frame position of the centre, in pixel-edge units
		if edge < float64(c0) || edge >= float64(c1) {
			continue
		}
		in[i] = true
		p := (edge-float64(c0))*scale*float64(low)/float64(side) - 0.5
		p = max(p, 0)
		i0 := min(int(p), low-1)
		out[i] = sample{i0, min(i0+1, low-1), float32(p - float64(i0))}
	}
	return out, in
}

// processCrop encodes one crop of the frame and decodes the prompts inside
// it, batched as the decoder allows; masks are on the w x h grid.
func (s *sam) processCrop(frame *infer.Image, crop [4]int, pts []prompt, w, h int) ([]candidate, error) {
	cw, ch := crop[2]-crop[0], crop[3]-crop[1]
	sub := cropImage(frame, crop)
	// Prompts inside this crop, in the encoder frame.
	var local [][2]float32
	var inCrop []prompt
	g := s.geometry(cw, ch)
	for _, pr := range pts {
		p := pr.p
		fx, fy := float64(p[0])*float64(frame.W), float64(p[1])*float64(frame.H)
		if fx < float64(crop[0]) || fx >= float64(crop[2]) || fy < float64(crop[1]) || fy >= float64(crop[3]) {
			continue
		}
		// ResizeLongestSide.apply_coords: each axis by its own new/old ratio.
		local = append(local, [2]float32{float32((fx - float64(crop[0])) * g.sx(cw)), float32((fy - float64(crop[1])) * g.sy(ch))})
		inCrop = append(inCrop, pr)
	}
	if len(local) == 0 {
		return nil, nil
	}
	_, unlock, err := s.encodeToDecoder(sub)
	defer unlock()
	if err != nil {
		return nil, fmt.Errorf("segment: %w", err)
	}

	xs, xin := gridSamples(w, frame.W, crop[0], crop[2], g.sx(cw), s.lowW, s.side)
	ys, yin := gridSamples(h, frame.H, crop[1], crop[3], g.sy(ch), s.lowH, s.side)
	x0, x1 := span(xin)
	y0, y1 := span(yin)
	gw, gh := x1-x0, y1-y0
	if gw <= 0 || gh <= 0 {
		return nil, nil
	}
	atol := 20 * float64(max(w, h)) / 1024 // SAM's 20 px, scaled to the grid
	gridCrop := [4]int{x0, y0, x1, y1}
	logits := make([]float32, gw*gh)
	var cands []candidate
	plane := s.lowH * s.lowW
	// Prompts go to the decoder in batches of s.batch (1 for the stock
	// export, whose point_coords batch is fixed); a segment prompt whose
	// segment the masks found so far already cover is skipped.
	batch := make([][2]float32, 0, s.batch)
	for next := 0; next < len(local); {
		batch = batch[:0]
		for ; next < len(local) && len(batch) < s.batch; next++ {
			if s.promptAll || !coveredBy(inCrop[next].seg, inCrop[next].area, cands) {
				batch = append(batch, local[next])
			}
		}
		n := len(batch)
		if n == 0 {
			break
		}
		s.decoded.Add(int64(n))
		if err := s.dec.runLocked(func(in [][]float32) {
			s.fillPrompts(in, batch, cw, ch)
		}, nil); err != nil {
			return nil, fmt.Errorf("segment: %w", err)
		}
		ious, low := s.dec.outData[0], s.dec.outData[1]
		for b := 0; b < n; b++ {
			for m := s.first; m < s.nMasks; m++ {
				iou := ious[b*s.nMasks+m]
				if s.amg.PredIoUThreshold > 0 && !(iou > s.amg.PredIoUThreshold) {
					continue
				}
				src := low[(b*s.nMasks+m)*plane : (b*s.nMasks+m+1)*plane]
				resample(logits, src, s.lowW, xs[x0:x1], ys[y0:y1])
				if s.amg.StabilityThreshold > 0 && stabilityScore(logits, 0, s.amg.StabilityOffset) < s.amg.StabilityThreshold {
					continue
				}
				c := candidate{bits: s.maskBuffer(w * h), iou: iou, crop: crop}
				for y := 0; y < gh; y++ {
					row := c.bits[(y+y0)*w+x0:]
					for x, v := range logits[y*gw : (y+1)*gw] {
						if v > 0 {
							row[x] = 1
						}
					}
				}
				c.box, c.area = maskBox(c.bits, w, h)
				if c.area == 0 || nearCropEdge(c.box, gridCrop, w, h, atol) {
					s.recycle(c.bits)
					continue
				}
				cands = append(cands, c)
			}
		}
	}
	bs, sc := make([][4]int, len(cands)), make([]float64, len(cands))
	for i, c := range cands {
		bs[i], sc[i] = c.box, float64(c.iou)
	}
	return s.pick(cands, nms(bs, sc, s.amg.BoxNMSThreshold)), nil
}

// span is the first and one-past-last true index of in (a contiguous run).
func span(in []bool) (int, int) {
	lo, hi := -1, -1
	for i, v := range in {
		if v {
			if lo < 0 {
				lo = i
			}
			hi = i + 1
		}
	}
	if lo < 0 {
		return 0, 0
	}
	return lo, hi
}

// interiorPoint is the pixel of a w x h mask farthest from its border
// (chessboard distance), the prompt point for a proposal segment: unlike
// the centroid, it lies inside a ring or an L-shaped part.
func interiorPoint(bits []uint8, w, h int) (int, int) {
	d := make([]int32, w*h)
	const inf = 1 << 30
	for i, b := range bits {
		if b != 0 {
			d[i] = inf
		}
	}
	at := func(x, y int) int32 {
		if x < 0 || y < 0 || x >= w || y >= h {
			return 0
		}
		return d[y*w+x]
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if i := y*w + x; d[i] > 0 {
				d[i] = min(d[i], at(x-1, y)+1, at(x, y-1)+1, at(x-1, y-1)+1, at(x+1, y-1)+1)
			}
		}
	}
	bx, by, best := 0, 0, int32(-1)
	for y := h - 1; y >= 0; y-- {
		for x := w - 1; x >= 0; x-- {
			if i := y*w + x; d[i] > 0 {
				d[i] = min(d[i], at(x+1, y)+1, at(x, y+1)+1, at(x+1, y+1)+1, at(x-1, y+1)+1)
				if d[i] >= best {
					bx, by, best = x, y, d[i]
				}
			}
		}
	}
	return bx, by
}

// resample fills dst (len(ys) x len(xs)) from a src plane of row width sw,
// with the taps of gridSamples (crop-aware, so not resizePlane's).
func resample(dst, src []float32, sw int, xs, ys []sample) {
	w := len(xs)
	for y, sy := range ys {
		r0, r1 := src[sy.i0*sw:], src[sy.i1*sw:]
		out := dst[y*w : (y+1)*w]
		for x, sx := range xs {
			top := r0[sx.i0] + (r0[sx.i1]-r0[sx.i0])*sx.w
			bot := r1[sx.i0] + (r1[sx.i1]-r1[sx.i0])*sx.w
			out[x] = top + (bot-top)*sy.w
		}
	}
}

// postprocessSmallRegions is SAM's postprocess_small_regions: fill small
// holes, remove small islands, then NMS preferring masks that did not change.
func (s *sam) postprocessSmallRegions(cands []candidate, w, h int, thresh float64) []candidate {
	if len(cands) == 0 {
		return cands
	}
	bs, sc := make([][4]int, len(cands)), make([]float64, len(cands))
	for i := range cands {
		bits, changedHoles := removeSmallRegions(cands[i].bits, w, h, s.amg.MinRegionArea, true)
		bits, changedIslands := removeSmallRegions(bits, w, h, s.amg.MinRegionArea, false)
		if changedHoles || changedIslands {
			s.recycle(cands[i].bits)
		}
		cands[i].bits = bits
		cands[i].box, cands[i].area = maskBox(bits, w, h)
		bs[i] = cands[i].box
		if !changedHoles && !changedIslands {
			sc[i] = 1
		}
	}
	return s.pick(cands, nms(bs, sc, thresh))
}

// cropImage copies the [x0,y0,x1,y1) region of img.
func cropImage(img *infer.Image, c [4]int) *infer.Image {
	if c == [4]int{0, 0, img.W, img.H} {
		return img
	}
	w, h := c[2]-c[0], c[3]-c[1]
	out := &infer.Image{W: w, H: h, Pix: make([]float32, 3*w*h)}
	for ch := 0; ch < 3; ch++ {
		for y := 0; y < h; y++ {
			src := img.Pix[ch*img.W*img.H+(y+c[1])*img.W+c[0]:]
			copy(out.Pix[ch*w*h+y*w:ch*w*h+(y+1)*w], src[:w])
		}
	}
	return out
}
