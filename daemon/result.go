package daemon

import (
	"bytes"
	"encoding/json"
	"image"
	"image/jpeg"
	"image/png"
	"time"

	xdraw "golang.org/x/image/draw"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/actuate/heatmap"
	"github.com/samlad/samlad/capture"
	"github.com/samlad/samlad/infer"
)

// encodeFrameJPEG is the archived frame: the camera frame at full size.
func encodeFrameJPEG(v *record) ([]byte, error) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, v.frame, &jpeg.Options{Quality: 90}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// encodeHeatmapPNG is the archived heatmap, at the frame's size (see
// renderHeatmap); nil when there is no map (error verdicts).
func encodeHeatmapPNG(v *record) ([]byte, error) {
	if v.result == nil || v.result.MapW == 0 || v.img == nil || v.frame == nil {
		return nil, nil
	}
	var b bytes.Buffer
	if err := png.Encode(&b, renderHeatmap(v.frame, v.img.W, v.result, v.msg.Verdict, v.msg.PartID, v.msg.Threshold, 0)); err != nil {
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
		in.Findings = append(in.Findings, heatmap.Finding{Kind: f.Kind, Score: f.Score, Box: scaleBox(f.Box, sx, sy)})
	}
	return heatmap.Render(in)
}

// encodeVerdictJSON is the verdict as published, with the archive time.
func encodeVerdictJSON(v *record) ([]byte, error) {
	m := v.msg
	m.Published = time.Now()
	return json.MarshalIndent(m, "", "  ")
}

// heatmap encodes the JPEG published with a verdict, when actuate.heatmap
// asks for one ("all", or "fail" and the frame did not pass): the camera
// frame (at most actuate.heatmap_max_side) with the map, legend, header
// (dec's verdict and threshold) and findings. An encoding error only costs
// the heatmap, never the verdict.
func (d *Daemon) heatmap(frame capture.Frame, res *infer.Result, dec Decision) []byte {
	ls := d.loop.Load()
	a := ls.heatmap
	if res.MapW == 0 || frame.Image == nil || a.Heatmap == actuate.HeatmapOff || (a.Heatmap != actuate.HeatmapAll && dec.Verdict == actuate.Pass) {
		return nil
	}
	var b bytes.Buffer
	q := a.HeatmapQuality
	if q <= 0 || q > 100 {
		q = jpeg.DefaultQuality
	}
	img := renderHeatmap(frame.Image, ls.size, res, dec.Verdict, frame.PartID, dec.Threshold, a.HeatmapMaxSide)
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		d.log.Warn("heatmap not encoded", "err", err)
		return nil
	}
	return b.Bytes()
}
