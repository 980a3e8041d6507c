package daemon

import (
	"bytes"
	"encoding/json"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"time"

	xdraw "golang.org/x/image/draw"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/actuate/heatmap"
	"github.com/samlad/samlad/infer"
)

// toMessage converts a verdict to the published message. Boxes go from the
// engine's square input coordinates to the camera frame's pixels.
func toMessage(v *Verdict) actuate.Verdict {
	m := actuate.Verdict{
		Camera: v.Camera, Seq: v.Seq, PartID: v.PartID,
		Captured: v.Capture, Inspected: v.Inspected,
		Verdict: v.Kind, Reject: v.Reject, Reason: v.Reason,
		Score: v.Score, Threshold: v.Threshold,
		BankID: v.BankID, Recipe: v.Recipe,
		Findings: []actuate.Finding{},
	}
	if v.Result == nil {
		// No inspection result: the verdict has no score, and no threshold
		// it was judged against; both are published as null, never 0.
		m.Score, m.Threshold = math.NaN(), math.NaN()
		return m
	}
	sx, sy := 1.0, 1.0
	if v.Image != nil && v.Frame != nil {
		fb := v.Frame.Bounds()
		sx, sy = float64(fb.Dx())/float64(v.Image.W), float64(fb.Dy())/float64(v.Image.H)
	}
	for _, f := range v.Result.Findings {
		b := f.Box
		x0, y0 := int(float64(b.Min.X)*sx), int(float64(b.Min.Y)*sy)
		x1, y1 := int(math.Ceil(float64(b.Max.X)*sx)), int(math.Ceil(float64(b.Max.Y)*sy))
		m.Findings = append(m.Findings, actuate.Finding{
			Kind: f.Kind, Score: f.Score, Area: int(float64(f.Area)*sx*sy + 0.5),
			Box: actuate.Box{X: x0, Y: y0, W: x1 - x0, H: y1 - y0},
		})
	}
	return m
}

// encodeFrameJPEG is the archived frame: the camera frame at full size.
func encodeFrameJPEG(v *Verdict) ([]byte, error) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, v.Frame, &jpeg.Options{Quality: 90}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// encodeHeatmapPNG is the archived heatmap, at the frame's size (see
// renderHeatmap); nil when there is no map (error verdicts).
func encodeHeatmapPNG(v *Verdict) ([]byte, error) {
	if v.Result == nil || v.Result.MapW == 0 || v.Image == nil || v.Frame == nil {
		return nil, nil
	}
	var b bytes.Buffer
	if err := png.Encode(&b, renderHeatmap(v.Frame, v.Image.W, v.Result, v.Kind, v.PartID, v.Threshold, 0)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// renderHeatmap draws res over the camera frame, scaled down to maxSide
// when it is larger (0: full size), with the legend, the verdict header and
// the findings (actuate/heatmap). size is the engine's square input size,
// in which the findings' boxes are.
func renderHeatmap(frame image.Image, size int, res *infer.Result, verdict, partID string, threshold float64, maxSide int) image.Image {
	fb := frame.Bounds()
	if side := max(fb.Dx(), fb.Dy()); maxSide > 0 && side > maxSide {
		small := image.NewRGBA(image.Rect(0, 0, max(1, fb.Dx()*maxSide/side), max(1, fb.Dy()*maxSide/side)))
		xdraw.ApproxBiLinear.Scale(small, small.Bounds(), frame, fb, xdraw.Src, nil)
		frame, fb = small, small.Bounds()
	}
	in := heatmap.Input{Frame: frame, Map: res.Map, MapW: res.MapW, MapH: res.MapH,
		Score: res.Score, Threshold: threshold, Verdict: verdict, PartID: partID}
	sx, sy := float64(fb.Dx())/float64(size), float64(fb.Dy())/float64(size)
	for _, f := range res.Findings {
		b := f.Box
		in.Findings = append(in.Findings, heatmap.Finding{Kind: f.Kind, Score: f.Score, Box: image.Rect(
			int(float64(b.Min.X)*sx), int(float64(b.Min.Y)*sy), int(math.Ceil(float64(b.Max.X)*sx)), int(math.Ceil(float64(b.Max.Y)*sy)))})
	}
	return heatmap.Render(in)
}

// encodeVerdictJSON is the verdict as published, with the archive time.
func encodeVerdictJSON(v *Verdict) ([]byte, error) {
	m := toMessage(v)
	m.Published = time.Now()
	return json.MarshalIndent(m, "", "  ")
}

// heatmap encodes the JPEG published with a verdict, when actuate.heatmap
// asks for one ("all", or "fail" and the frame failed): the camera frame
// (at most actuate.heatmap_max_side) with the map, legend, header and
// findings. An encoding error only costs the heatmap, never the verdict.
func (d *Daemon) heatmap(frame Frame, res *infer.Result, threshold float64, failed bool) []byte {
	ls := d.loop.Load()
	a := ls.heatmap
	if res.MapW == 0 || frame.Image == nil || a.Heatmap == actuate.HeatmapOff || (a.Heatmap != actuate.HeatmapAll && !failed) {
		return nil
	}
	verdict := actuate.Pass
	if failed {
		verdict = actuate.Fail
	}
	var b bytes.Buffer
	q := a.HeatmapQuality
	if q <= 0 || q > 100 {
		q = jpeg.DefaultQuality
	}
	img := renderHeatmap(frame.Image, ls.size, res, verdict, frame.PartID, threshold, a.HeatmapMaxSide)
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		d.log.Warn("heatmap not encoded", "err", err)
		return nil
	}
	return b.Bytes()
}
