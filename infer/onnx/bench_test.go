package onnx

import (
	"os"
	"strings"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer/builtin"
)

// benchProviders lists the providers to measure: SAMLAD_BENCH_PROVIDERS
// (e.g. "cpu,cuda,tensorrt", as scripts/gpu-check.sh sets it), default cpu.
// The cpu run is the baseline the others are compared with.
func benchProviders() []string {
	if v := os.Getenv("SAMLAD_BENCH_PROVIDERS"); v != "" {
		return strings.Split(v, ",")
	}
	return []string{ProviderCPU}
}

// BenchmarkStages measures each stage with the fixture models (and 32x32
// AMG points, SAM's default) on each provider. A provider that falls back is
// an error here: the benchmark must measure what it names.
func BenchmarkStages(b *testing.B) {
	for _, prov := range benchProviders() {
		rt, m, p := fixtureConfig(b, fixtureDir)
		rt.Providers = []string{prov}
		rt.Threads = 0
		rt.TensorRT.EngineCacheDir = b.TempDir()
		rt.TensorRT.TimingCacheDir = rt.TensorRT.EngineCacheDir
		m.PointsPerSide, m.PointsPerBatch = 32, 64
		be, err := New(rt, m, p)
		if err != nil {
			b.Fatalf("%s: %v", prov, err)
		}
		for model, got := range be.Providers() {
			if got != prov {
				be.Close()
				b.Fatalf("%s runs on %s, not %s: this ONNX Runtime build or machine lacks it", model, got, prov)
			}
		}
		st := be.Stages()
		img := scene(p.InputSize, p.InputSize, testParts...)
		fm, err := st.Features.Extract(img)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(prov+"/features", func(b *testing.B) {
			for b.Loop() {
				if _, err := st.Features.Extract(img); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(prov+"/upsample8x", func(b *testing.B) {
			for b.Loop() {
				if _, err := st.Upsampler.Upsample(img, fm, 8); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(prov+"/segment", func(b *testing.B) {
			for b.Loop() {
				if _, err := st.Segmenter.Segment(img); err != nil {
					b.Fatal(err)
				}
			}
		})
		be.Close()
	}
}

// BenchmarkBuiltinFeatures compares the built-in extractor in Go (baseline)
// with its ONNX graph on each provider of SAMLAD_BENCH_PROVIDERS.
func BenchmarkBuiltinFeatures(b *testing.B) {
	img := texturedScene(224, 224, 1)
	goFeat := builtin.NewFeatures(0)
	b.Run("go", func(b *testing.B) {
		for b.Loop() {
			if _, err := goFeat.Extract(img); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, prov := range benchProviders() {
		rt := config.DefaultRuntime()
		rt.Library = ortLibrary(b)
		rt.Providers = []string{prov}
		stage, err := NewFeatureStage(rt, builtinManifest, 224)
		if err != nil {
			b.Fatal(err)
		}
		if stage.Provider() != prov {
			stage.Close()
			b.Fatalf("builtin_features.onnx runs on %s, not %s", stage.Provider(), prov)
		}
		b.Run("onnx-"+prov, func(b *testing.B) {
			for b.Loop() {
				if _, err := stage.Extract(img); err != nil {
					b.Fatal(err)
				}
			}
		})
		stage.Close()
	}
}
