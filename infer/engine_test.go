package infer_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
)

// testPipeline is a small, fast pipeline for the scene tests.
func testPipeline() config.Pipeline {
	p := config.DefaultPipeline()
	p.InputSize = 128
	p.Upsample = 4
	p.K = 2
	p.Descriptor = infer.DescGAP
	p.MinArea, p.MaxArea = 0.004, 0.06
	return p
}

// counting wraps a backend's stages and counts their calls.
type counting struct {
	feat, seg, up atomic.Int64
	be            *infer.Backend
}

type countFeat struct{ c *counting }
type countSeg struct{ c *counting }
type countUp struct{ c *counting }

func (f countFeat) Extract(img *infer.Image) (*infer.FeatureMap, error) {
	f.c.feat.Add(1)
	return f.c.be.Features.Extract(img)
}
func (f countFeat) Stride() int { return f.c.be.Features.Stride() }
func (s countSeg) Segment(img *infer.Image) ([]infer.Mask, error) {
	s.c.seg.Add(1)
	return s.c.be.Segmenter.Segment(img)
}
func (u countUp) Upsample(img *infer.Image, f *infer.FeatureMap, factor int) (*infer.FeatureMap, error) {
	u.c.up.Add(1)
	return u.c.be.Upsampler.Upsample(img, f, factor)
}

func (u countUp) UpsampleHWC(dst []float32, img *infer.Image, f *infer.FeatureMap, factor int) ([]float32, error) {
	u.c.up.Add(1)
	return u.c.be.Upsampler.(infer.HWCUpsampler).UpsampleHWC(dst, img, f, factor)
}

func wrap(be *infer.Backend) (*infer.Backend, *counting) {
	c := &counting{be: be}
	return &infer.Backend{Name: be.Name, Fingerprint: be.Fingerprint, Features: countFeat{c}, Segmenter: countSeg{c}, Upsampler: countUp{c}}, c
}

var (
	sharedOnce sync.Once
	sharedBE   *infer.Backend
	sharedBank *infer.Bank
	sharedErr  error
)

// sharedBankFor enrols 10 good bag scenes once for the tests of this file.
func sharedBankFor(t *testing.T) (*infer.Backend, *infer.Bank) {
	t.Helper()
	sharedOnce.Do(func() {
		p := testPipeline()
		sharedBE, sharedErr = builtin.New(p)
		if sharedErr != nil {
			return
		}
		good, _ := sceneImages(t, scenes.Bag, scenes.Good, 1000, 10, p.InputSize)
		sharedBank, sharedErr = infer.Enroll(context.Background(), sharedBE, p, good, nil)
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedBE, sharedBank
}

func TestInspectStageCallCounts(t *testing.T) {
	be, bank := sharedBankFor(t)
	p := testPipeline()
	cbe, c := wrap(be)
	eng, err := infer.NewEngine(cbe, bank, p)
	if err != nil {
		t.Fatal(err)
	}
	imgs, _ := sceneImages(t, scenes.Bag, scenes.Missing, 7, 1, p.InputSize)
	res, err := eng.Inspect(context.Background(), imgs[0])
	if err != nil {
		t.Fatal(err)
	}
	if got := c.feat.Load(); got != 1 {
		t.Errorf("backbone ran %d times per query, want 1", got)
	}
	if got := c.seg.Load(); got != 1 {
		t.Errorf("segmenter ran %d times per query, want 1 (references come from the bank)", got)
	}
	if got := c.up.Load(); got > int64(1+p.K) {
		t.Errorf("upsampler ran %d times per query, want at most 1+k = %d", got, 1+p.K)
	}
	if len(res.References) != p.K {
		t.Errorf("%d references, want k = %d", len(res.References), p.K)
	}
	var stages []string
	for _, s := range res.Timings {
		stages = append(stages, s.Stage)
	}
	want := "preprocess features retrieval segmentation objects upsampling dcga omm amm terms result"
	if strings.Join(stages, " ") != want {
		t.Errorf("timings %v, want stages %s", stages, want)
	}
	if res.MapW*res.MapH != len(res.Map) || res.MapW == 0 {
		t.Errorf("map %dx%d with %d values", res.MapW, res.MapH, len(res.Map))
	}
}

func TestInspectDeterministicAndConcurrent(t *testing.T) {
	be, bank := sharedBankFor(t)
	p := testPipeline()
	eng, err := infer.NewEngine(be, bank, p)
	if err != nil {
		t.Fatal(err)
	}
	imgs, _ := sceneImages(t, scenes.Bag, scenes.Extra, 20, 4, p.InputSize)
	want := make([]float64, len(imgs))
	for i, img := range imgs {
		r, err := eng.Inspect(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = r.Score
	}
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, img := range imgs {
				r, err := eng.Inspect(context.Background(), img)
				if err != nil {
					errs <- err.Error()
					return
				}
				if r.Score != want[i] {
					errs <- "concurrent score differs from the sequential one"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func TestBankRoundTripAndBadBanks(t *testing.T) {
	be, bank := sharedBankFor(t)
	p := testPipeline()
	dir := t.TempDir()
	path := filepath.Join(dir, "line.bank")
	if err := bank.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := infer.LoadBank(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := infer.NewEngine(be, loaded, p); err != nil {
		t.Fatalf("reloaded bank refused: %v", err)
	}
	data, _ := os.ReadFile(path)
	cases := []struct {
		name, want string
		bytes      []byte
	}{
		{"truncated", "truncated", data[:len(data)/2]},
		{"header only", "truncated", data[:12]},
		{"corrupt", "checksum", flipByte(data, len(data)-10)},
		{"not a bank", "not a samlad bank", []byte("hello world, not a bank")},
		{"other version", "version", setVersion(data, 99)},
	}
	for _, c := range cases {
		p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
		os.WriteFile(p, c.bytes, 0o644)
		_, err := infer.LoadBank(p)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s bank: error %v, want one naming the file and saying %q", c.name, err, c.want)
		}
	}
	if _, err := infer.LoadBank(filepath.Join(dir, "absent.bank")); err == nil {
		t.Error("absent bank loaded")
	}
	// Another backend fingerprint, another backend, another config.
	other := *be
	other.Fingerprint = "something-else"
	if _, err := infer.NewEngine(&other, loaded, p); err == nil || !strings.Contains(err.Error(), "fingerprint") {
		t.Errorf("bank from another backend fingerprint: %v", err)
	}
	other = *be
	other.Name = "onnx"
	if _, err := infer.NewEngine(&other, loaded, p); err == nil || !strings.Contains(err.Error(), "backend") {
		t.Errorf("bank from another backend: %v", err)
	}
	q := p
	q.K = 3
	if _, err := infer.NewEngine(be, loaded, q); err == nil || !strings.Contains(err.Error(), "pipeline.k") {
		t.Errorf("bank with another k: %v", err)
	}
	q = p
	q.Threshold = 7 // overrides are not bound to the bank
	eng, err := infer.NewEngine(be, loaded, q)
	if err != nil || eng.Calibration().Threshold != 7 {
		t.Errorf("threshold override: %v", err)
	}
	// The false-reject rate is refitted on the bank's good scores: a
	// higher rate, a lower threshold and at least as many good images
	// above it, with no re-enrolment.
	var th [2]float64
	var above [2]int
	for i, rate := range []float64{0.01, 0.2} {
		q = p
		q.FalseRejectRate = rate
		eng, err := infer.NewEngine(be, loaded, q)
		if err != nil {
			t.Fatal(err)
		}
		th[i], above[i] = eng.Calibration().Threshold, eng.Calibration().GoodAbove
	}
	if th[1] >= th[0] || above[1] < above[0] {
		t.Errorf("false-reject rate 0.01 -> 0.2: threshold %.3f -> %.3f, good images above %d -> %d", th[0], th[1], above[0], above[1])
	}
}

func flipByte(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0xff
	return c
}

func setVersion(b []byte, v byte) []byte {
	c := append([]byte(nil), b...)
	c[8] = v
	return c
}

func TestEnrollBadInputs(t *testing.T) {
	p := testPipeline()
	be, err := builtin.New(p)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	good, _ := sceneImages(t, scenes.Bag, scenes.Good, 1000, 2, p.InputSize)
	if _, err := infer.Enroll(ctx, be, p, good, nil); err == nil || !strings.Contains(err.Error(), "need at least 3") {
		t.Errorf("2 good images for k=2: %v", err)
	}
	if _, err := infer.Enroll(ctx, be, p, nil, nil); err == nil || !strings.Contains(err.Error(), "need at least") {
		t.Errorf("no good images: %v", err)
	}
	bad := append(good, &infer.Image{W: 4, H: 4, Pix: make([]float32, 5)})
	if _, err := infer.Enroll(ctx, be, p, bad, []string{"a", "b", "broken.png"}); err == nil || !strings.Contains(err.Error(), "broken.png") {
		t.Errorf("malformed image: %v", err)
	}
	q := p
	q.Align = "sideways"
	if _, err := infer.Enroll(ctx, be, q, good, nil); err == nil || !strings.Contains(err.Error(), "align") {
		t.Errorf("bad align: %v", err)
	}
	_, bank := sharedBankFor(t)
	eng, _ := infer.NewEngine(be, bank, p)
	if _, err := eng.Inspect(ctx, &infer.Image{W: 3, H: 3, Pix: make([]float32, 2)}); err == nil {
		t.Error("malformed query accepted")
	}
	// A frame of another size is resized, not refused.
	big, _ := sceneImages(t, scenes.Bag, scenes.Good, 3, 1, 200)
	if _, err := eng.Inspect(ctx, big[0]); err != nil {
		t.Errorf("frame of another size: %v", err)
	}
}
