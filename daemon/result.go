package daemon

import (
	"bytes"
	"encoding/json"
	"image/jpeg"
	"image/png"
	"math"
	"time"

	"github.com/samlad/samlad/actuate"
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

// encodeHeatmapPNG is the anomaly map over the frame with the findings
// outlined; nil when there is no map (error verdicts).
func encodeHeatmapPNG(v *Verdict) ([]byte, error) {
	if v.Result == nil || v.Result.MapW == 0 || v.Image == nil {
		return nil, nil
	}
	var b bytes.Buffer
	if err := png.Encode(&b, infer.Overlay(v.Image.ToRGBA(), v.Result, v.Image.W)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// encodeVerdictJSON is the verdict as published, with the archive time.
func encodeVerdictJSON(v *Verdict) ([]byte, error) {
	m := toMessage(v)
	m.Published = time.Now()
	return json.MarshalIndent(m, "", "  ")
}

// heatmap encodes the JPEG overlay published with a verdict, when
// actuate.heatmap asks for one ("all", or "fail" and the frame failed).
// An encoding error only costs the heatmap, never the verdict.
func (d *Daemon) heatmap(img *infer.Image, res *infer.Result, failed bool) []byte {
	ls := d.loop.Load()
	a := ls.heatmap
	if res.MapW == 0 || a.Heatmap == actuate.HeatmapOff || (a.Heatmap != actuate.HeatmapAll && !failed) {
		return nil
	}
	if side := max(img.W, img.H); a.HeatmapMaxSide > 0 && side > a.HeatmapMaxSide {
		img = infer.Resize(img, img.W*a.HeatmapMaxSide/side, img.H*a.HeatmapMaxSide/side)
	}
	var b bytes.Buffer
	q := a.HeatmapQuality
	if q <= 0 || q > 100 {
		q = jpeg.DefaultQuality
	}
	if err := jpeg.Encode(&b, infer.Overlay(img.ToRGBA(), res, ls.size), &jpeg.Options{Quality: q}); err != nil {
		d.log.Warn("heatmap not encoded", "err", err)
		return nil
	}
	return b.Bytes()
}
