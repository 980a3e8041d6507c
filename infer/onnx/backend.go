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

// Stage sources (config.Models.FeatureSource and Segmenter).
const (
	SourceDINOv2  = "dinov2"
	SourceSAM     = "sam"
	SourceBuiltin = "builtin"
)

// sources resolves the per-stage choices of m: features dinov2|sam|builtin,
// segmenter sam|builtin.
func sources(m config.Models) (feat, seg string, err error) {
	feat, seg = m.FeatureSource, m.Segmenter
	if feat == "" {
		feat = SourceSAM
		if m.Features != "" {
			feat = SourceDINOv2
		}
	}
	if seg == "" {
		seg = SourceSAM
	}
	switch {
	case feat != SourceDINOv2 && feat != SourceSAM && feat != SourceBuiltin:
		return "", "", fmt.Errorf("models.feature_source %q: want dinov2, sam or builtin", feat)
	case seg != SourceSAM && seg != SourceBuiltin:
		return "", "", fmt.Errorf("models.segmenter %q: want sam or builtin", seg)
	case feat == SourceDINOv2 && m.Features == "":
		return "", "", fmt.Errorf("models.feature_source = \"dinov2\" needs models.features, a manifest in %q", m.Dir)
	case (feat == SourceSAM || seg == SourceSAM) && (m.SAMEncoder == "" || m.SAMDecoder == ""):
		return "", "", fmt.Errorf("SAM (features %s, segmenter %s) needs models.sam_encoder and models.sam_decoder, manifests in %q", feat, seg, m.Dir)
	}
	return feat, seg, nil
}

// New verifies the configured models against their manifests, creates one
// session per model on the first provider that loads (logging each fallback
// once), warms them up, and returns the backend. Each stage's source is
// chosen on its own (models.feature_source, models.segmenter, and
// models.upsampler or pipeline.upsampler); with SAM features and SAM masks
// the encoder runs once per frame for both. rt.Library is the ONNX Runtime
// shared library. Close releases everything.
func New(rt config.Runtime, m config.Models, p config.Pipeline) (b *Backend, err error) {
	chain, err := providerChain(rt)
	if err != nil {
		return nil, err
	}
	featSrc, segSrc, err := sources(m)
	if err != nil {
		return nil, fmt.Errorf("onnx backend: %w", err)
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
	var seg *sam
	var encMan, decMan *Manifest
	if featSrc == SourceSAM || segSrc == SourceSAM {
		if encMan, err = load("sam_encoder", m.SAMEncoder); err != nil {
			return nil, err
		}
		if decMan, err = load("sam_decoder", m.SAMDecoder); err != nil {
			return nil, err
		}
		var proposer infer.Segmenter
		if amg.Prompts == PromptsSegments {
			if proposer, err = builtin.NewSegmenter(p.Segment, p.Workers); err != nil {
				return nil, fmt.Errorf("onnx backend: models.prompts = %q: %w", PromptsSegments, err)
			}
		}
		if seg, err = newSAM(rt, chain, encMan, decMan, amg, proposer); err != nil {
			return nil, err
		}
		b.sessions = append(b.sessions, seg.enc, seg.dec)
	}

	var feats infer.FeatureExtractor
	var featPrint string
	var channels, grid int
	switch featSrc {
	case SourceDINOv2:
		featMan, err := load("features", m.Features)
		if err != nil {
			return nil, err
		}
		f, err := newFeatures(rt, chain, featMan, p.InputSize)
		if err != nil {
			return nil, err
		}
		b.sessions = append(b.sessions, f.sess)
		feats, featPrint, channels, grid = f, "dinov2:"+featMan.SHA256[:12], f.channels, f.grid
	case SourceSAM:
		f, err := newSAMFeatures(seg, p.InputSize, seg.embShape)
		if err != nil {
			return nil, err
		}
		feats, featPrint, channels, grid = f, fmt.Sprintf("sam:%s/%d", encMan.SHA256[:12], SAMFeatureGrid), f.c, SAMFeatureGrid
	case SourceBuiltin:
		bb, err := builtin.New(p)
		if err != nil {
			return nil, fmt.Errorf("onnx backend: models.feature_source = builtin: %w", err)
		}
		feats, featPrint = bb.Features, "builtin{"+bb.Fingerprint+"}"
		grid = p.InputSize / bb.Features.Stride()
	}

	var segmenter infer.Segmenter = seg
	segPrint := ""
	if segSrc == SourceSAM {
		segPrint = fmt.Sprintf("sam:%s:%s", encMan.SHA256[:12], decMan.SHA256[:12])
	} else {
		bs, err := builtin.NewSegmenter(p.Segment, p.Workers)
		if err != nil {
			return nil, fmt.Errorf("onnx backend: models.segmenter = builtin: %w", err)
		}
		sg := p.Segment
		segmenter, segPrint = bs, fmt.Sprintf("builtin(scale=%g,sigma=%g,min_size=%d,ref_size=%d,merge_colour=%g)", sg.Scale, sg.Sigma, sg.MinSize, sg.RefSize, sg.MergeColour)
	}

	var up infer.Upsampler
	upPrint := ""
	if m.Upsampler != "" {
		if featSrc != SourceDINOv2 {
			return nil, fmt.Errorf("models.upsampler %s: the FeatUp JBU is trained on DINOv2 features, models.feature_source is %s; leave models.upsampler empty for the built-in JBU", m.Upsampler, featSrc)
		}
		upMan, err := load("upsampler", m.Upsampler)
		if err != nil {
			return nil, err
		}
		u, err := newUpsampler(rt, chain, upMan, p.InputSize, channels, grid, grid)
		if err != nil {
			return nil, err
		}
		b.sessions = append(b.sessions, u.sess)
		if p.Upsample > 1 && !u.has(p.Upsample) {
			return nil, fmt.Errorf("pipeline.upsample %d: %s provides %v", p.Upsample, upMan.File, u.factorList())
		}
		up, upPrint = u, "featup:"+upMan.SHA256[:12]
	} else {
		// No FeatUp model: the built-in Go upsampler.
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
		Fingerprint: fingerprint(p.InputSize, featPrint, segPrint, upPrint, amg, segSrc == SourceSAM),
		Features:    feats,
		Segmenter:   segmenter,
		Upsampler:   up,
	}
	return b, nil
}

// fingerprint ties a bank to the stage choices, the exact model files and
// (with SAM masks) the AMG parameters.
func fingerprint(size int, feat, seg, up string, a AMG, samMasks bool) string {
	amg := ""
	if samMasks {
		amg = fmt.Sprintf("%+v", a)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%d|%s", feat, seg, up, size, amg)
	return fmt.Sprintf("%s features=%s seg=%s up=%s size=%d params=%s", Name,
		feat, seg, up, size, hex.EncodeToString(h.Sum(nil))[:16])
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
