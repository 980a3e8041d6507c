package onnx

import (
	"fmt"
	"image"
	"path/filepath"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
)

// SAMStage is SAM on its own, outside a full ONNX backend: the encoder and
// decoder named by m (models.sam_encoder, models.sam_decoder), verified
// against their manifests, with m's mask-generation parameters. It is an
// infer.Segmenter and an infer.FrameSegmenter; MasksAt prompts it directly.
type SAMStage struct {
	*sam
	closed bool
}

// NewSAMStage opens the SAM models of m on the first provider of rt that
// works. p supplies the built-in segmenter's parameters for
// models.prompts = "segments".
func NewSAMStage(rt config.Runtime, m config.Models, p config.Pipeline) (*SAMStage, error) {
	chain, err := providerChain(rt)
	if err != nil {
		return nil, err
	}
	amg, err := amgFromConfig(m)
	if err != nil {
		return nil, fmt.Errorf("sam: %w", err)
	}
	var proposer infer.Segmenter
	if amg.Prompts == PromptsSegments {
		if proposer, err = builtin.NewSegmenter(p.Segment, p.Workers); err != nil {
			return nil, fmt.Errorf("sam: models.prompts = %q: %w", PromptsSegments, err)
		}
	}
	manifest := func(name string) (*Manifest, error) {
		if name == "" {
			return nil, fmt.Errorf("sam: models.sam_encoder and models.sam_decoder must name manifests in %q", m.Dir)
		}
		if !filepath.IsAbs(name) {
			name = filepath.Join(m.Dir, name)
		}
		return LoadManifest(name)
	}
	enc, err := manifest(m.SAMEncoder)
	if err != nil {
		return nil, err
	}
	dec, err := manifest(m.SAMDecoder)
	if err != nil {
		return nil, err
	}
	s, err := openVerified(rt.Library, []*Manifest{enc, dec}, func() (*sam, error) {
		return newSAM(rt, chain, enc, dec, amg, proposer)
	})
	if err != nil {
		return nil, err
	}
	return &SAMStage{sam: s}, nil
}

// Providers reports the execution provider of the encoder and the decoder.
func (s *SAMStage) Providers() map[string]string {
	return map[string]string{s.enc.model: s.enc.currentProvider(), s.dec.model: s.dec.currentProvider()}
}

// Close releases the sessions and, if it is the last user, ONNX Runtime.
func (s *SAMStage) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.enc.close()
	s.dec.close()
	releaseEnv()
	return nil
}

// MasksAt encodes frame once and prompts SAM with each point (x, y in frame
// pixels), one prompt per point; each point's mask is the one with the
// highest predicted IoU, on the w x h grid covering the frame, unfiltered.
func (s *sam) MasksAt(frame *infer.Image, pts [][2]float32, w, h int) ([]infer.Mask, error) {
	if err := checkImage(frame); err != nil {
		return nil, fmt.Errorf("sam: %w", err)
	}
	if w <= 0 || h <= 0 || len(pts) == 0 {
		return nil, fmt.Errorf("sam: grid %dx%d, %d points", w, h, len(pts))
	}
	g, unlock, err := s.encodeToDecoder(frame)
	defer unlock()
	if err != nil {
		return nil, fmt.Errorf("sam: %w", err)
	}
	xs, _ := gridSamples(w, frame.W, 0, frame.W, g.sx(frame.W), s.lowW, s.side)
	ys, _ := gridSamples(h, frame.H, 0, frame.H, g.sy(frame.H), s.lowH, s.side)
	logits := make([]float32, w*h)
	plane := s.lowH * s.lowW
	local := make([][2]float32, len(pts))
	for i, p := range pts {
		local[i] = [2]float32{float32(float64(p[0]) * g.sx(frame.W)), float32(float64(p[1]) * g.sy(frame.H))}
	}
	var out []infer.Mask
	for start := 0; start < len(local); start += s.batch {
		n := min(s.batch, len(local)-start)
		if err := s.dec.runLocked(func(in [][]float32) {
			s.fillPrompts(in, local[start:start+n], frame.W, frame.H)
		}, nil); err != nil {
			return nil, fmt.Errorf("sam: %w", err)
		}
		ious, low := s.dec.outData[0], s.dec.outData[1]
		for b := 0; b < n; b++ {
			best := s.first
			for m := s.first; m < s.nMasks; m++ {
				if ious[b*s.nMasks+m] > ious[b*s.nMasks+best] {
					best = m
				}
			}
			k := b*s.nMasks + best
			resample(logits, low[k*plane:(k+1)*plane], s.lowW, xs, ys)
			bits := make([]uint8, w*h)
			for i, v := range logits {
				if v > 0 {
					bits[i] = 1
				}
			}
			box, area := maskBox(bits, w, h)
			out = append(out, infer.Mask{W: w, H: h, Bits: bits, Area: area,
				Box: image.Rect(box[0], box[1], box[2]+1, box[3]+1), Score: ious[k]})
		}
	}
	return out, nil
}
