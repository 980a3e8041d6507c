package daemon

import (
	"fmt"
	"image"
	"math"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/infer"
)

// Rule is what a verdict is decided under, besides the engine's result: the
// operator's threshold and the configured fail-safe.
type Rule struct {
	// Threshold is the operator's threshold (<camera>/threshold/set); 0
	// means the bank's calibrated threshold, which the result carries.
	Threshold float64
	// FailSafe is daemon.fail_safe, the verdict the gate treats an error
	// verdict as: actuate.Pass lets it through, anything else (the
	// default, "fail") rejects it.
	FailSafe string
}

// Decision is the one verdict of one frame, as published.
type Decision struct {
	Verdict string // actuate.Pass, actuate.Fail or actuate.Error
	Reject  bool   // what the gate must do
	Reason  string // why, for an error verdict
	// Score and Threshold are what the verdict was judged on. They are NaN
	// (published as null) when there is none: an error verdict without a
	// result has neither.
	Score, Threshold float64
}

// Decide is the one place where a frame passes or fails. failure is why
// there is no usable result ("deadline: ...", "inspect: ..."); when it is
// set, or res is nil, or the score or the threshold is not a finite
// number, the verdict is an error and the gate does what the fail-safe
// says. Otherwise the frame fails when its score is above the threshold,
// the operator's when one is set, else the bank's.
func (r Rule) Decide(res *infer.Result, failure string) Decision {
	errorVerdict := func(reason string, score, threshold float64) Decision {
		return Decision{Verdict: actuate.Error, Reject: r.FailSafe != actuate.Pass, Reason: reason, Score: score, Threshold: threshold}
	}
	switch {
	case failure != "":
		return errorVerdict(failure, math.NaN(), math.NaN())
	case res == nil:
		return errorVerdict(ReasonInspect+": engine returned no result", math.NaN(), math.NaN())
	}
	thr := res.Threshold
	if r.Threshold > 0 {
		thr = r.Threshold
	}
	switch {
	case !finite(res.Score):
		return errorVerdict(fmt.Sprintf("%s: engine returned score %v", ReasonInspect, res.Score), res.Score, thr)
	case !finite(thr) || thr <= 0:
		// The engine calibrates a positive threshold; 0 is an unset one.
		return errorVerdict(fmt.Sprintf("%s: no threshold to judge score %v against (bank threshold %v)", ReasonInspect, res.Score, res.Threshold), res.Score, math.NaN())
	case res.Score > thr:
		return Decision{Verdict: actuate.Fail, Reject: true, Score: res.Score, Threshold: thr}
	}
	return Decision{Verdict: actuate.Pass, Score: res.Score, Threshold: thr}
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// WireFindings converts the engine's findings, whose boxes are in its
// size x size input, to the wire form in the pixels of the frame the input
// was made from (frame: its bounds): a box grows outwards to whole pixels
// (x, y rounded down, the far edges up), an area scales with the box. The
// result is never nil, so that it encodes as [].
func WireFindings(fs []infer.Finding, size int, frame image.Rectangle) []actuate.Finding {
	out := make([]actuate.Finding, 0, len(fs))
	sx, sy := frameScale(size, frame)
	for _, f := range fs {
		b := scaleBox(f.Box, sx, sy)
		out = append(out, actuate.Finding{
			Kind: f.Kind, Score: f.Score, Area: int(float64(f.Area)*sx*sy + 0.5),
			Box: actuate.Box{X: b.Min.X, Y: b.Min.Y, W: b.Dx(), H: b.Dy()},
		})
	}
	return out
}

// WireAlignment is the engine's alignment (in input_size pixels) in the
// frame's pixels; nil when the bank does not align frames.
func WireAlignment(a *infer.Alignment, size int, frame image.Rectangle) *actuate.Alignment {
	if a == nil {
		return nil
	}
	sx, sy := frameScale(size, frame)
	return &actuate.Alignment{DX: round2(a.DX * sx), DY: round2(a.DY * sy), Degrees: round2(a.Degrees), Failed: a.Failed}
}

// frameScale is how far one input_size pixel reaches in the frame, across
// and down (1 when either is unknown).
func frameScale(size int, frame image.Rectangle) (sx, sy float64) {
	if size <= 0 || frame.Empty() {
		return 1, 1
	}
	return float64(frame.Dx()) / float64(size), float64(frame.Dy()) / float64(size)
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// scaleBox scales b by sx, sy, growing it outwards to whole pixels.
func scaleBox(b image.Rectangle, sx, sy float64) image.Rectangle {
	return image.Rect(int(float64(b.Min.X)*sx), int(float64(b.Min.Y)*sy),
		int(math.Ceil(float64(b.Max.X)*sx)), int(math.Ceil(float64(b.Max.Y)*sy)))
}
