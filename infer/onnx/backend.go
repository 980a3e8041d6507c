// Package onnx is the ONNX Runtime backend of the SAM-LAD engine: DINOv2
// patch features, SAM automatic mask generation and FeatUp JBU upsampling,
// each a model described by a manifest in the models directory and run on
// the first execution provider (tensorrt, cuda, cpu) that works.
package onnx

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
)

// Name is the backend name stored in banks.
const Name = "onnx"

// Backend owns the ONNX Runtime sessions behind the three stages.
type Backend struct {
	stages    infer.Backend
	sessions  []*session
	manifests map[string]*Manifest // stage -> manifest
	closed    bool
}

// New verifies the configured models against their manifests, creates one
// session per model on the first provider that loads (logging each fallback
// once), warms them up, and returns the backend. rt.Library is the ONNX
// Runtime shared library. Close releases everything.
func New(rt config.Runtime, m config.Models, p config.Pipeline) (b *Backend, err error) {
	chain, err := providerChain(rt)
	if err != nil {
		return nil, err
	}
	if m.Features == "" || m.SAMEncoder == "" || m.SAMDecoder == "" {
		return nil, fmt.Errorf("onnx backend: models.features, models.sam_encoder and models.sam_decoder must name manifests in %q", m.Dir)
	}
	amg, err := amgFromConfig(m)
	if err != nil {
		return nil, fmt.Errorf("onnx backend: %w", err)
	}
	// Loading providers may replace Go's signal handlers (see signals.go).
	saveSignals()
	defer restoreSignals()
	if err := acquireEnv(rt.Library); err != nil {
		return nil, err
	}
	b = &Backend{manifests: map[string]*Manifest{}}
	defer func() {
		if err != nil {
			b.Close()
			b = nil
		}
	}()
	load := func(stage, name string) (*Manifest, error) {
		path := name
		if !filepath.IsAbs(path) {
			path = filepath.Join(m.Dir, name)
		}
		man, err := LoadManifest(path)
		if err != nil {
			return nil, err
		}
		if err := man.Verify(); err != nil {
			return nil, err
		}
		b.manifests[stage] = man
		return man, nil
	}
	featMan, err := load("features", m.Features)
	if err != nil {
		return nil, err
	}
	encMan, err := load("sam_encoder", m.SAMEncoder)
	if err != nil {
		return nil, err
	}
	decMan, err := load("sam_decoder", m.SAMDecoder)
	if err != nil {
		return nil, err
	}
	var upMan *Manifest
	if m.Upsampler != "" {
		if upMan, err = load("upsampler", m.Upsampler); err != nil {
			return nil, err
		}
	}

	feats, err := newFeatures(rt, chain, featMan, p.InputSize)
	if err != nil {
		return nil, err
	}
	b.sessions = append(b.sessions, feats.sess)
	var proposer infer.Segmenter
	if amg.Prompts == PromptsSegments {
		if proposer, err = builtin.NewSegmenter(p.Segment, p.Workers); err != nil {
			return nil, fmt.Errorf("onnx backend: models.prompts = %q: %w", PromptsSegments, err)
		}
	}
	seg, err := newSAM(rt, chain, encMan, decMan, amg, proposer)
	if err != nil {
		return nil, err
	}
	b.sessions = append(b.sessions, seg.enc, seg.dec)

	var up infer.Upsampler
	upPrint := ""
	if upMan != nil {
		grid := p.InputSize / featMan.PatchSize
		u, err := newUpsampler(rt, chain, upMan, p.InputSize, feats.channels, grid, grid)
		if err != nil {
			return nil, err
		}
		b.sessions = append(b.sessions, u.sess)
		if p.Upsample > 1 && !u.has(p.Upsample) {
			return nil, fmt.Errorf("pipeline.upsample %d: %s provides %v", p.Upsample, upMan.File, u.factorList())
		}
		up, upPrint = u, "featup:"+upMan.SHA256[:12]
	} else {
		// No FeatUp model: the built-in Go upsampler on the DINOv2 features.
		switch p.Upsampler {
		case "jbu", "":
			up, upPrint = builtin.NewJBU(p.Workers), "builtin-jbu"
		case "bilinear":
			up, upPrint = builtin.NewBilinear(p.Workers), "builtin-bilinear"
		default:
			return nil, fmt.Errorf("pipeline.upsampler %q: want \"jbu\" or \"bilinear\"", p.Upsampler)
		}
	}
	b.stages = infer.Backend{
		Name:        Name,
		Fingerprint: fingerprint(p.InputSize, featMan, encMan, decMan, upPrint, amg),
		Features:    feats,
		Segmenter:   seg,
		Upsampler:   up,
	}
	return b, nil
}

// fingerprint ties a bank to the exact model files and AMG parameters.
func fingerprint(size int, feat, enc, dec *Manifest, up string, a AMG) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s|%d|%+v", feat.SHA256, enc.SHA256, dec.SHA256, up, size, a)
	return fmt.Sprintf("%s features=%s sam=%s up=%s size=%d amg=%s", Name,
		feat.SHA256[:12], enc.SHA256[:12], up, size, hex.EncodeToString(h.Sum(nil))[:16])
}

// Stages returns the stage implementations for the engine.
func (b *Backend) Stages() *infer.Backend { return &b.stages }

// Providers reports, per model, the execution provider its session runs on
// (e.g. "features=cpu"), sorted; for `samlad version --models` and stats.
func (b *Backend) Providers() map[string]string {
	out := map[string]string{}
	for _, s := range b.sessions {
		out[s.model] = s.currentProvider()
	}
	return out
}

// Describe is one line per model: file, provider and checksum prefix.
func (b *Backend) Describe() []string {
	prov := b.Providers()
	var lines []string
	for stage, m := range b.manifests {
		file := filepath.Base(m.ModelPath())
		lines = append(lines, fmt.Sprintf("%s: %s sha256:%s provider=%s", stage, file, m.SHA256[:12], prov[file]))
	}
	sort.Strings(lines)
	return lines
}

// Close releases the sessions and, with the last backend, ONNX Runtime.
func (b *Backend) Close() error {
	if b == nil || b.closed {
		return nil
	}
	b.closed = true
	for _, s := range b.sessions {
		s.close()
	}
	b.sessions = nil
	releaseEnv()
	return nil
}
