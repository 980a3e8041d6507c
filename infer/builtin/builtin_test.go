package builtin

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
)

func TestNewFingerprintTracksParameters(t *testing.T) {
	base := config.DefaultPipeline()
	be, err := New(base)
	if err != nil {
		t.Fatal(err)
	}
	if be.Name != "builtin" || be.Features == nil || be.Segmenter == nil || be.Upsampler == nil {
		t.Fatalf("incomplete backend %+v", be)
	}
	if be.Features.Stride() != 8 {
		t.Fatalf("stride %d, want 8", be.Features.Stride())
	}
	changes := map[string]func(p *config.Pipeline){
		"scale":        func(p *config.Pipeline) { p.Segment.Scale = 400 },
		"sigma":        func(p *config.Pipeline) { p.Segment.Sigma = 1 },
		"min_size":     func(p *config.Pipeline) { p.Segment.MinSize = 60 },
		"ref_size":     func(p *config.Pipeline) { p.Segment.RefSize = 256 },
		"merge_colour": func(p *config.Pipeline) { p.Segment.MergeColour = 25 },
		"upsampler":    func(p *config.Pipeline) { p.Upsampler = "bilinear" },
	}
	seen := map[string]string{be.Fingerprint: "default"}
	for name, change := range changes {
		p := base
		change(&p)
		b, err := New(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if other, dup := seen[b.Fingerprint]; dup {
			t.Errorf("changing %s keeps the fingerprint of %s: %s", name, other, b.Fingerprint)
		}
		seen[b.Fingerprint] = name
	}
	// The worker count does not change any result, so not the fingerprint.
	p := base
	p.Workers = 1
	if b, _ := New(p); b.Fingerprint != be.Fingerprint {
		t.Errorf("workers changes the fingerprint: %s vs %s", b.Fingerprint, be.Fingerprint)
	}
	t.Log(be.Fingerprint)
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, change := range map[string]func(p *config.Pipeline){
		"upsampler": func(p *config.Pipeline) { p.Upsampler = "featup" },
		"sigma":     func(p *config.Pipeline) { p.Segment.Sigma = -1 },
		"ref_size":  func(p *config.Pipeline) { p.Segment.RefSize = -224 },
	} {
		p := config.DefaultPipeline()
		change(&p)
		if _, err := New(p); err == nil {
			t.Errorf("bad %s: no error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// TestStagesSurviveNonFiniteAndOutOfRangePixels feeds NaN, Inf and values
// far outside [0,1]: the stages must return, not panic, and keep shapes.
func TestStagesSurviveNonFiniteAndOutOfRangePixels(t *testing.T) {
	be, err := New(config.DefaultPipeline())
	if err != nil {
		t.Fatal(err)
	}
	img, _, _ := partsScene(64, 1)
	bad := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 255, -3}
	for i := range img.Pix {
		if i%7 == 0 {
			img.Pix[i] = bad[(i/7)%len(bad)]
		}
	}
	fm, err := be.Features.Extract(img)
	if err != nil || fm.H != 8 || fm.W != 8 {
		t.Fatalf("features: %v", err)
	}
	masks, err := be.Segmenter.Segment(img)
	if err != nil || len(masks) == 0 {
		t.Fatalf("segmentation: %d masks, %v", len(masks), err)
	}
	checkPartition(t, masks, 64, 64)
	for _, up := range upsamplers() {
		if out, err := up.Upsample(img, fm, 8); err != nil || out.H != 64 {
			t.Fatalf("upsampling: %v", err)
		}
	}
}

// TestBackendIsSafeForConcurrentUse runs every stage from several goroutines
// at once (cameras sharing one engine) and compares with a sequential run.
func TestBackendIsSafeForConcurrentUse(t *testing.T) {
	be, err := New(config.DefaultPipeline())
	if err != nil {
		t.Fatal(err)
	}
	type out struct {
		feat, up []float32
		masks    int
	}
	run := func(img *infer.Image) (out, error) {
		fm, err := be.Features.Extract(img)
		if err != nil {
			return out{}, err
		}
		masks, err := be.Segmenter.Segment(img)
		if err != nil {
			return out{}, err
		}
		u, err := be.Upsampler.Upsample(img, fm, 4)
		if err != nil {
			return out{}, err
		}
		return out{fm.Data, u.Data, len(masks)}, nil
	}
	var imgs []*infer.Image
	var want []out
	for seed := range 4 {
		img, _, _ := partsScene(96+32*seed, uint64(seed))
		o, err := run(img)
		if err != nil {
			t.Fatal(err)
		}
		imgs, want = append(imgs, img), append(want, o)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range 3 {
				k := (g + r) % len(imgs)
				o, err := run(imgs[k])
				if err != nil {
					errs <- err
					return
				}
				if o.masks != want[k].masks || !slices.Equal(o.feat, want[k].feat) || !slices.Equal(o.up, want[k].up) {
					errs <- fmt.Errorf("image %d: concurrent result differs from the sequential one", k)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
