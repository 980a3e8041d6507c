package report

import (
	"fmt"
	"image"
	"image/color"
	imagedraw "image/draw"
	"math"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/samlad/samlad/eval/metrics"
	"github.com/samlad/samlad/eval/runner"
	"github.com/samlad/samlad/infer"
)

// ROCPlot draws the image-level ROC curves of each method and anomaly
// group (each group against all good test images).
func ROCPlot(path string, c *runner.Category, methods []string) error {
	p := plot.New()
	p.Title.Text = "image ROC: " + c.Name
	p.X.Label.Text = "false positive rate"
	p.Y.Label.Text = "true positive rate"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.Legend.Top, p.Legend.Left = false, false
	i := 0
	for _, m := range methods {
		for _, g := range []string{runner.Logical, runner.Structural} {
			var s []float64
			var l []bool
			for _, r := range c.Images {
				if r.Group == "" || r.Group == g {
					s, l = append(s, r.Scores[m]), append(l, r.Group != "")
				}
			}
			fpr, tpr, err := metrics.ROC(s, l)
			if err != nil {
				continue // group absent in this category
			}
			xy := make(plotter.XYs, len(fpr))
			for k := range fpr {
				xy[k].X, xy[k].Y = fpr[k], tpr[k]
			}
			line, err := plotter.NewLine(xy)
			if err != nil {
				return fmt.Errorf("roc plot: %w", err)
			}
			line.Color = plotutil.Color(i)
			line.Dashes = plotutil.Dashes(i)
			line.Width = vg.Points(1.5)
			au, _ := metrics.AUROC(s, l)
			p.Add(line)
			p.Legend.Add(fmt.Sprintf("%s %s (%.1f)", m, g, 100*au), line)
			i++
		}
	}
	p.Add(plotter.NewGrid())
	if err := p.Save(5*vg.Inch, 5*vg.Inch, path); err != nil {
		return fmt.Errorf("roc plot %s: %w", path, err)
	}
	return nil
}

// maxGridRows bounds the overlay grid's height.
const maxGridRows = 16

// OverlayGrid draws the kept examples: per row the input, the ground truth
// (red) and each method's heatmap over the input. Each method's colours
// span the range of its maps over the examples shown.
func OverlayGrid(path string, c *runner.Category, methods []string) error {
	ex := c.Examples
	if len(ex) > maxGridRows {
		ex = ex[:maxGridRows]
	}
	lo, hi := map[string]float64{}, map[string]float64{}
	for _, m := range methods {
		lo[m], hi[m] = math.Inf(1), math.Inf(-1)
		for _, e := range ex {
			for _, v := range e.Maps[m] {
				lo[m], hi[m] = min(lo[m], float64(v)), max(hi[m], float64(v))
			}
		}
	}
	cols := 2 + len(methods)
	plots := make([][]*plot.Plot, len(ex))
	for r, e := range ex {
		size := e.Image.Bounds().Dx()
		tiles := []struct {
			title string
			img   image.Image
		}{{e.Anomaly, e.Image}, {"ground truth", tint(e.Image, e.GT)}}
		for _, m := range methods {
			mp := e.Maps[m]
			if mp == nil {
				continue
			}
			heat := infer.Heatmap(mp, size, size, size, size, lo[m], hi[m])
			out := image.NewRGBA(e.Image.Bounds())
			imagedraw.Draw(out, out.Bounds(), e.Image, image.Point{}, imagedraw.Src)
			imagedraw.Draw(out, out.Bounds(), heat, image.Point{}, imagedraw.Over)
			tiles = append(tiles, struct {
				title string
				img   image.Image
			}{fmt.Sprintf("%s %.2f", m, e.Scores[m]), out})
		}
		for _, t := range tiles {
			p := plot.New()
			p.HideAxes()
			p.Title.Text = t.title
			b := t.img.Bounds()
			p.Add(plotter.NewImage(t.img, 0, 0, float64(b.Dx()), float64(b.Dy())))
			plots[r] = append(plots[r], p)
		}
		for len(plots[r]) < cols {
			p := plot.New()
			p.HideAxes()
			plots[r] = append(plots[r], p)
		}
	}
	const tile = 150
	img := vgimg.New(vg.Points(float64(cols*tile)), vg.Points(float64(len(ex)*(tile+16))))
	dc := draw.New(img)
	t := draw.Tiles{Rows: len(ex), Cols: cols, PadX: vg.Points(4), PadY: vg.Points(4)}
	canvases := plot.Align(plots, t, dc)
	for r := range plots {
		for k := range plots[r] {
			plots[r][k].Draw(canvases[r][k])
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("overlay grid: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("overlay grid %s: %w", path, err)
	}
	return f.Close()
}

// tint paints the ground-truth pixels red over the image.
func tint(img *image.RGBA, gt []bool) *image.RGBA {
	out := image.NewRGBA(img.Bounds())
	copy(out.Pix, img.Pix)
	if gt == nil {
		return out
	}
	red := color.RGBA{255, 0, 0, 255}
	for i, in := range gt {
		if in {
			x, y := i%img.Rect.Dx(), i/img.Rect.Dx()
			o := out.RGBAAt(x, y)
			out.SetRGBA(x, y, color.RGBA{uint8((int(o.R) + int(red.R)) / 2), o.G / 2, o.B / 2, 255})
		}
	}
	return out
}
