package onnx

import (
	"fmt"
	"image"
	"sync"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
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
	}
	switch {
	case a.PointsPerSide < 1:
		return a, fmt.Errorf("models.points_per_side %d: must be at least 1", a.PointsPerSide)
	case a.PointsPerBatch < 1:
		return a, fmt.Errorf("models.points_per_batch %d: must be at least 1", a.PointsPerBatch)
	case a.CropLayers < 0 || a.CropLayers > 3:
		return a, fmt.Errorf("models.crop_layers %d: must be 0..3", a.CropLayers)
	case a.BoxNMSThreshold <= 0 || a.BoxNMSThreshold > 1:
		return a, fmt.Errorf("models.box_nms_threshold %g: must be in (0,1]", a.BoxNMSThreshold)
	}
	return a, nil
}

// sam is the Segmenter: SAM's image encoder once per crop (once per image
// without crop layers), then the prompt/mask decoder on batches of grid
// points, then SAM's filters in Go. The decoder contract is
// image_embeddings [1,E,h,w], point_coords [B,1,2] (x,y in the encoder's
// input frame), point_labels [B,1] -> iou_predictions [B,M],
// low_res_masks [B,M,H,W] (logits over the padded encoder input).
type sam struct {
	enc, dec *session
	norm     Normalize
	side     int // encoder input side (1024 for SAM)
	batch    int
	nMasks   int
	lowH     int
	lowW     int
	amg      AMG
	// spare holds mask buffers of candidates that lost NMS, for reuse: a
	// 32x32 grid yields thousands of candidate masks per image.
	spare sync.Pool
}

func newSAM(rt config.Runtime, chain []string, enc, dec *Manifest, amg AMG) (*sam, error) {
	if enc.Kind != KindSAMEncoder {
		return nil, fmt.Errorf("model manifest %s: kind %q, models.sam_encoder needs %q", enc.path, enc.Kind, KindSAMEncoder)
	}
	if dec.Kind != KindSAMDecoder {
		return nil, fmt.Errorf("model manifest %s: kind %q, models.sam_decoder needs %q", dec.path, dec.Kind, KindSAMDecoder)
	}
	imgSpec, err := enc.input("image")
	if err != nil {
		return nil, err
	}
	embSpec, err := enc.output("image_embeddings")
	if err != nil {
		return nil, err
	}
	if len(imgSpec.Shape) != 4 || imgSpec.Shape[2] <= 0 || imgSpec.Shape[2] != imgSpec.Shape[3] {
		return nil, fmt.Errorf("model manifest %s: image must be a fixed square [1,3,S,S], got %v", enc.path, imgSpec.Shape)
	}
	if !fixed(embSpec.Shape) {
		return nil, fmt.Errorf("model manifest %s: image_embeddings must have a fixed shape, got %v", enc.path, embSpec.Shape)
	}
	decEmb, err := dec.input("image_embeddings")
	if err != nil {
		return nil, err
	}
	if _, err := resolve(dec, decEmb, embSpec.Shape); err != nil {
		return nil, fmt.Errorf("SAM encoder %s and decoder %s do not fit: %w", enc.File, dec.File, err)
	}
	coords, err := dec.input("point_coords")
	if err != nil {
		return nil, err
	}
	labels, err := dec.input("point_labels")
	if err != nil {
		return nil, err
	}
	iouSpec, err := dec.output("iou_predictions")
	if err != nil {
		return nil, err
	}
	maskSpec, err := dec.output("low_res_masks")
	if err != nil {
		return nil, err
	}
	if len(maskSpec.Shape) != 4 || !fixed(maskSpec.Shape[1:]) {
		return nil, fmt.Errorf("model manifest %s: low_res_masks must be [B,M,H,W] with fixed M,H,W, got %v", dec.path, maskSpec.Shape)
	}
	s := &sam{norm: enc.Normalize, side: int(imgSpec.Shape[2]), batch: amg.PointsPerBatch,
		nMasks: int(maskSpec.Shape[1]), lowH: int(maskSpec.Shape[2]), lowW: int(maskSpec.Shape[3]), amg: amg}
	b := int64(s.batch)
	shapes := []struct {
		m    *Manifest
		spec TensorSpec
		dims []int64
	}{
		{dec, coords, []int64{b, 1, 2}},
		{dec, labels, []int64{b, 1}},
		{dec, iouSpec, []int64{b, int64(s.nMasks)}},
		{dec, maskSpec, []int64{b, int64(s.nMasks), int64(s.lowH), int64(s.lowW)}},
	}
	var resolved []tensorShape
	for _, x := range shapes {
		sh, err := resolve(x.m, x.spec, x.dims)
		if err != nil {
			return nil, err
		}
		resolved = append(resolved, tensorShape{x.spec.Name, sh})
	}
	s.enc, err = newSession(rt, chain, enc, []tensorShape{{"image", imgSpec.Shape}}, []tensorShape{{"image_embeddings", embSpec.Shape}}, nil)
	if err != nil {
		return nil, err
	}
	s.dec, err = newSession(rt, chain, dec,
		[]tensorShape{{"image_embeddings", embSpec.Shape}, resolved[0], resolved[1]},
		resolved[2:], func(in [][]float32) {
			for i := range in[2] {
				in[2][i] = 1
			}
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

// candidate is one mask that passed the per-batch filters, in image coordinates.
type candidate struct {
	bits []uint8
	box  [4]int
	area int
	iou  float32
	crop [4]int
}

// Segment runs SAM's automatic mask generation on img.
func (s *sam) Segment(img *infer.Image) ([]infer.Mask, error) {
	if err := checkImage(img); err != nil {
		return nil, fmt.Errorf("segment: %w", err)
	}
	boxes, _ := cropBoxes(img.W, img.H, s.amg.CropLayers)
	grid := pointGrid(s.amg.PointsPerSide)
	var all []candidate
	for _, crop := range boxes {
		// SAM's default crop_n_points_downscale_factor is 1: every layer
		// uses the same grid.
		c, err := s.processCrop(img, crop, grid)
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
		all = s.postprocessSmallRegions(all, img.W, img.H, max(s.amg.BoxNMSThreshold, cropNMSThreshold))
	}
	masks := make([]infer.Mask, 0, len(all))
	for _, c := range all {
		if c.area == 0 {
			continue
		}
		masks = append(masks, infer.Mask{W: img.W, H: img.H, Bits: c.bits, Area: c.area,
			Box: image.Rect(c.box[0], c.box[1], c.box[2]+1, c.box[3]+1), Score: c.iou})
	}
	return masks, nil
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

// processCrop encodes one crop and decodes its point grid in batches.
func (s *sam) processCrop(img *infer.Image, crop [4]int, grid [][2]float32) ([]candidate, error) {
	cw, ch := crop[2]-crop[0], crop[3]-crop[1]
	sub := cropImage(img, crop)
	// ResizeLongestSide: the long side becomes s.side, the rest is zero padding.
	scale := float64(s.side) / float64(max(cw, ch))
	newW, newH := int(float64(cw)*scale+0.5), int(float64(ch)*scale+0.5)

	s.enc.mu.Lock()
	err := s.enc.runLocked(func(in [][]float32) {
		normalizeInto(in[0], sub, newW, newH, s.side, s.side, s.norm)
	}, nil)
	if err != nil {
		s.enc.mu.Unlock()
		return nil, fmt.Errorf("segment: %w", err)
	}
	// Lock order encoder -> decoder; the embeddings go straight into the
	// decoder's input tensor.
	s.dec.mu.Lock()
	defer s.dec.mu.Unlock()
	copy(s.dec.inData[0], s.enc.outData[0])
	s.enc.mu.Unlock()

	// Low-res logits cover the padded s.side frame; the crop's valid part is
	// its first newH*lowH/side rows. One bilinear resample maps it to the crop
	// (SAM resamples twice: to side x side, then to the crop size).
	xs := make([]sample, cw)
	for x := range xs {
		xs[x] = coordScaled(x, float32(newW)/float32(cw)*float32(s.lowW)/float32(s.side), s.lowW)
	}
	ys := make([]sample, ch)
	for y := range ys {
		ys[y] = coordScaled(y, float32(newH)/float32(ch)*float32(s.lowH)/float32(s.side), s.lowH)
	}
	atol := 20 * float64(max(img.W, img.H)) / 1024 // SAM's 20 px, scaled to the image
	logits := make([]float32, cw*ch)
	var cands []candidate
	for start := 0; start < len(grid); start += s.batch {
		n := min(s.batch, len(grid)-start)
		coords, labels := s.dec.inData[1], s.dec.inData[2]
		for b := 0; b < s.batch; b++ {
			p := grid[start+min(b, n-1)] // the last batch is padded with its last point
			// grid * crop size, then ResizeLongestSide.apply_coords
			coords[2*b] = p[0] * float32(newW)
			coords[2*b+1] = p[1] * float32(newH)
			labels[b] = 1
		}
		if err := s.dec.runLocked(nil, nil); err != nil {
			return nil, fmt.Errorf("segment: %w", err)
		}
		ious, low := s.dec.outData[0], s.dec.outData[1]
		plane := s.lowH * s.lowW
		for b := 0; b < n; b++ {
			for m := 0; m < s.nMasks; m++ {
				iou := ious[b*s.nMasks+m]
				if s.amg.PredIoUThreshold > 0 && !(iou > s.amg.PredIoUThreshold) {
					continue
				}
				src := low[(b*s.nMasks+m)*plane : (b*s.nMasks+m+1)*plane]
				resample(logits, src, s.lowW, xs, ys)
				if s.amg.StabilityThreshold > 0 && stabilityScore(logits, 0, s.amg.StabilityOffset) < s.amg.StabilityThreshold {
					continue
				}
				c := candidate{bits: s.maskBuffer(img.W * img.H), iou: iou, crop: crop}
				for y := 0; y < ch; y++ {
					row := c.bits[(y+crop[1])*img.W+crop[0]:]
					for x, v := range logits[y*cw : (y+1)*cw] {
						if v > 0 {
							row[x] = 1
						}
					}
				}
				c.box, c.area = maskBox(c.bits, img.W, img.H)
				if c.area == 0 || nearCropEdge(c.box, crop, img.W, img.H, atol) {
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

// resample fills dst (len(ys) x len(xs)) from a src plane of row width sw.
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
