package infer_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"os"
	"strconv"
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/digitanatomy"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
)

// TestDigitSweep is an exploration aid: SAMLAD_DIGITS=N prints image AUROC
// per anomaly on N test images each.
func TestDigitSweep(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SAMLAD_DIGITS"))
	if n == 0 {
		t.Skip("set SAMLAD_DIGITS=N to run")
	}
	dir, err := digitanatomy.DataDir()
	if err != nil {
		t.Skip(err)
	}
	train, err := digitanatomy.Load(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	test, _ := digitanatomy.Load(dir, false)
	p := config.DefaultPipeline()
	p.InputSize = 96
	envF := func(k string, dst *float64) {
		if v, err := strconv.ParseFloat(os.Getenv(k), 64); err == nil {
			*dst = v
		}
	}
	envF("SAMLAD_POS", &p.PositionWeight)
	envF("SAMLAD_SW", &p.StructuralWeight)
	envF("SAMLAD_MINA", &p.MinArea)
	envF("SAMLAD_MAXA", &p.MaxArea)
	if v, err := strconv.Atoi(os.Getenv("SAMLAD_K")); err == nil {
		p.K = v
	}
	if v, err := strconv.Atoi(os.Getenv("SAMLAD_SIZE")); err == nil {
		p.InputSize = v
	}
	if v := os.Getenv("SAMLAD_ALIGN"); v != "" {
		p.Align = v
	}
	nGood := 40
	toImg := func(g *image.Gray) *infer.Image {
		rgb := image.NewRGBA(g.Bounds())
		for y := 0; y < g.Bounds().Dy(); y++ {
			for x := 0; x < g.Bounds().Dx(); x++ {
				v := g.GrayAt(x, y).Y
				rgb.Set(x, y, color.RGBA{v, v, v, 255})
			}
		}
		return infer.FromImage(rgb, p.InputSize)
	}
	var good []*infer.Image
	for s := 0; s < nGood; s++ {
		im, err := digitanatomy.Generate(train, int64(s), digitanatomy.Good)
		if err != nil {
			t.Fatal(err)
		}
		good = append(good, toImg(im.Gray))
	}
	be, _ := builtin.New(p)
	bank, err := infer.Enroll(context.Background(), be, p, good, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := bank.Calib
	c.LOOScores = nil
	t.Logf("calib %+v", c)
	eng, _ := infer.NewEngine(be, bank, p)
	score := func(a digitanatomy.Anomaly) (s, zs, zl []float64) {
		for i := 0; i < n; i++ {
			im, err := digitanatomy.Generate(test, int64(10000+i), a)
			if err != nil {
				t.Fatal(err)
			}
			r, err := eng.Inspect(context.Background(), toImg(im.Gray))
			if err != nil {
				t.Fatal(err)
			}
			s, zs, zl = append(s, r.Score), append(zs, r.Structural), append(zl, r.Logical)
		}
		return
	}
	g, gs, gl := score(digitanatomy.Good)
	var all, alls, alll []float64
	line := ""
	for _, a := range digitanatomy.Anomalies() {
		s, zs, zl := score(a)
		all, alls, alll = append(all, s...), append(alls, zs...), append(alll, zl...)
		line += fmt.Sprintf("\n  %-8s auroc=%.3f zs=%.3f zl=%.3f", a, auroc(g, s), auroc(gs, zs), auroc(gl, zl))
	}
	t.Logf("mean auroc=%.3f zs=%.3f zl=%.3f%s", auroc(g, all), auroc(gs, alls), auroc(gl, alll), line)
}

func TestDigitSeg(t *testing.T) {
	if os.Getenv("SAMLAD_DIGITS") == "" {
		t.Skip()
	}
	dir, _ := digitanatomy.DataDir()
	train, _ := digitanatomy.Load(dir, true)
	im, _ := digitanatomy.Generate(train, 1, digitanatomy.Good)
	rgb := image.NewRGBA(im.Gray.Bounds())
	for y := 0; y < 96; y++ {
		for x := 0; x < 96; x++ {
			v := im.Gray.GrayAt(x, y).Y
			rgb.Set(x, y, color.RGBA{v, v, v, 255})
		}
	}
	p := config.DefaultPipeline()
	p.InputSize = 224
	be, _ := builtin.New(p)
	masks, _ := be.Segmenter.Segment(infer.FromImage(rgb, p.InputSize))
	var areas []int
	for _, m := range masks {
		areas = append(areas, m.Area)
	}
	t.Log(len(masks), areas)
}
