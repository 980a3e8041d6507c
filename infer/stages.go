// Package infer is the SAM-LAD engine: enrolment of good images into a Bank,
// and inspection of a frame against it (paper sections 3.1-3.6).
//
// The three model stages (features, segmentation, upsampling) sit behind the
// small interfaces below, so that the built-in backend (infer/builtin) and the
// ONNX Runtime backend (infer/onnx) run through the same pipeline code.
package infer

import "image"

// Image is an RGB image as planar float32 in [0,1]: Pix[c*H*W + y*W + x].
type Image struct {
	W, H int
	Pix  []float32
}

// FeatureMap is a dense C x H x W feature tensor: Data[c*H*W + y*W + x].
type FeatureMap struct {
	C, H, W int
	Data    []float32
}

// Mask is one object's binary mask at image resolution.
type Mask struct {
	W, H int
	// Bits[y*W+x] is 1 inside the object.
	Bits []uint8
	Area int
	Box  image.Rectangle
	// Score is the segmenter's confidence (SAM predicted IoU; 1 for the built-in).
	Score float32
}

// FeatureExtractor computes the backbone feature map of an image
// (DINOv2 patch tokens, or the built-in handcrafted descriptors).
type FeatureExtractor interface {
	// Extract returns C x H' x W' features; H' = img.H / Stride().
	Extract(img *Image) (*FeatureMap, error)
	// Stride is the number of input pixels per feature cell.
	Stride() int
}

// Segmenter splits an image into candidate object masks. The pipeline
// applies the min/max area filter afterwards.
type Segmenter interface {
	Segment(img *Image) ([]Mask, error)
}

// FrameFeatureExtractor is an optional form of a FeatureExtractor that sees
// the frame as the camera took it (SAM's embeddings as features) and returns
// the feature map of the engine's w x h view of it.
type FrameFeatureExtractor interface {
	FeatureExtractor
	ExtractFrame(frame *Image, w, h int) (*FeatureMap, error)
}

// frameFeatures runs a FrameFeatureExtractor on a given frame through the
// FeatureExtractor interface (Extract's argument is the resized view).
type frameFeatures struct {
	FrameFeatureExtractor
	frame *Image
}

func (f frameFeatures) Extract(img *Image) (*FeatureMap, error) {
	return f.ExtractFrame(f.frame, img.W, img.H)
}

// ExtractFrame extracts features with fe: through FrameFeatureExtractor
// when fe has it (the frame as taken, features of its w x h view), else
// fe.Extract on resized, the frame already resized to the engine's size.
func ExtractFrame(fe FeatureExtractor, frame, resized *Image) (*FeatureMap, error) {
	if ff, ok := fe.(FrameFeatureExtractor); ok && frame != nil {
		return ff.ExtractFrame(frame, resized.W, resized.H)
	}
	return fe.Extract(resized)
}

// FrameSegmenter is an optional form of a Segmenter that sees the frame as
// the camera took it (SAM: longest side 1024, aspect kept) rather than the
// engine's input_size x input_size resize, and returns its masks on the
// engine's w x h grid, which covers the whole frame.
type FrameSegmenter interface {
	SegmentFrame(frame *Image, w, h int) ([]Mask, error)
}

// SegmentFrame segments frame with s, masks on the w x h grid: through
// FrameSegmenter when s has it, else s.Segment on resized, the frame
// already resized to w x h (frame itself when it is that size).
func SegmentFrame(s Segmenter, frame, resized *Image) ([]Mask, error) {
	if fs, ok := s.(FrameSegmenter); ok && frame != nil {
		return fs.SegmentFrame(frame, resized.W, resized.H)
	}
	return s.Segment(resized)
}

// Upsampler raises a feature map's resolution by factor, guided by the image
// (FeatUp JBU, or the built-in joint bilateral upsampler).
type Upsampler interface {
	Upsample(img *Image, f *FeatureMap, factor int) (*FeatureMap, error)
}

// Backend groups the three stage implementations and names them. Stages
// must be safe for concurrent use: the engine calls them from several
// goroutines (enrolment workers, concurrent Inspect calls). The name and
// Fingerprint go into the bank so that a bank is only used with the backend
// and parameters it was made with.
type Backend struct {
	Name        string
	Fingerprint string
	Features    FeatureExtractor
	Segmenter   Segmenter
	Upsampler   Upsampler
}

// HWCUpsampler is an optional fast path of an Upsampler: it writes the
// upsampled map pixel-major, dst[(y*W'+x)*C + c] with W' = f.W*factor and
// H' = f.H*factor, reusing dst's storage, which saves the engine a
// transpose. The engine uses it when the Upsampler has it.
type HWCUpsampler interface {
	UpsampleHWC(dst []float32, img *Image, f *FeatureMap, factor int) ([]float32, error)
}

// MaskedHWCUpsampler is an optional fast path of an Upsampler: UpsampleHWC
// computed only where mask (H' x W', the output grid) is non-zero, with 0
// elsewhere. The engine passes the union of an image's object masks: later
// stages read features nowhere else.
type MaskedHWCUpsampler interface {
	UpsampleHWCMasked(dst []float32, img *Image, f *FeatureMap, factor int, mask []uint8) ([]float32, error)
}
