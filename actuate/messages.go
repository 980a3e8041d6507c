package actuate

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Verdict kinds.
const (
	Pass  = "pass"
	Fail  = "fail"
	Error = "error"
)

// Verdict is the outcome of one frame, published as JSON on
// <prefix>/<camera>/verdict. The daemon fills it; actuate sets Published and
// Latency.
type Verdict struct {
	Camera string `json:"camera"`
	Seq    uint64 `json:"seq"`
	PartID string `json:"part_id,omitempty"`
	// Captured is when the frame was grabbed, Inspected when the engine
	// finished (zero when it did not), Published when actuate accepted the
	// verdict into the outgoing store. A buffered verdict keeps its times.
	Captured  time.Time `json:"capture_ts"`
	Inspected time.Time `json:"inspect_ts,omitzero"`
	Published time.Time `json:"publish_ts"`
	// LatencyMS is Published - Captured in milliseconds.
	LatencyMS float64 `json:"latency_ms"`
	// Verdict is pass, fail or error.
	Verdict string `json:"verdict"`
	// Reject is what the gate must do. A fail always rejects; an error
	// rejects unless the daemon's fail-safe is "pass"; a pass never rejects.
	Reject    bool      `json:"reject"`
	Reason    string    `json:"reason,omitempty"`
	Score     float64   `json:"score"`
	Threshold float64   `json:"threshold"`
	Findings  []Finding `json:"findings"`
	// Alignment is how the frame was moved onto the good images, for a
	// product whose bank aligns frames; a fixture that drifts shows here
	// before it costs verdicts.
	Alignment *Alignment `json:"alignment,omitempty"`
	BankID    string     `json:"bank_id,omitempty"`
	Recipe    string     `json:"recipe,omitempty"`
	// Heatmap is an optional JPEG overlay published on <camera>/heatmap
	// according to actuate.heatmap; it is never part of the JSON.
	Heatmap []byte `json:"-"`
}

// Finding kinds.
const (
	Missing    = "missing"
	Extra      = "extra"
	Mismatched = "mismatched"
	Structural = "structural"
)

// Alignment is how far the frame was shifted (in its own pixels) and
// turned (degrees, positive clockwise on screen) to lie on the good
// images; Failed says why it was inspected unaligned.
type Alignment struct {
	DX      float64 `json:"dx"`
	DY      float64 `json:"dy"`
	Degrees float64 `json:"degrees"`
	Failed  string  `json:"failed,omitempty"`
}

// Finding is one object that explains a verdict.
type Finding struct {
	Kind  string  `json:"kind"`
	Box   Box     `json:"box"`
	Area  int     `json:"area"`
	Score float64 `json:"score"`
}

// Box is an axis-aligned box in frame pixels.
type Box struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

// MarshalJSON writes a non-finite score as null: JSON has no NaN, and a
// verdict must never fail to encode.
func (f Finding) MarshalJSON() ([]byte, error) {
	type plain Finding
	return json.Marshal(struct {
		plain
		Score *float64 `json:"score"`
	}{plain(f), finite(f.Score)})
}

// MarshalJSON writes non-finite numbers as null (see Finding.MarshalJSON).
func (v Verdict) MarshalJSON() ([]byte, error) {
	type plain Verdict
	return json.Marshal(struct {
		plain
		Score     *float64 `json:"score"`
		Threshold *float64 `json:"threshold"`
	}{plain(v), finite(v.Score), finite(v.Threshold)})
}

func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// normalize makes a verdict safe to publish: an unknown kind becomes error, a
// pass without a finite score and threshold becomes error (a pass is never
// invented), and Reject is forced on for fail. It returns what it changed.
// It decides nothing: the daemon decides the verdict (daemon.Rule.Decide),
// and a verdict it made never needs a change here; this only keeps a
// malformed one off the wire, on the safe side.
func (v *Verdict) normalize() []string {
	var fixed []string
	switch v.Verdict {
	case Pass, Fail, Error:
	default:
		fixed = append(fixed, fmt.Sprintf("unknown verdict %q published as error", v.Verdict))
		v.Reason = strings.TrimSpace(fmt.Sprintf("invalid verdict %q; %s", v.Verdict, v.Reason))
		v.Verdict, v.Reject = Error, true
	}
	if v.Verdict == Pass && (finite(v.Score) == nil || finite(v.Threshold) == nil) {
		fixed = append(fixed, fmt.Sprintf("pass with score %v threshold %v published as error", v.Score, v.Threshold))
		v.Verdict, v.Reject, v.Reason = Error, true, "non-finite score or threshold; pass refused"
	}
	if v.Verdict == Fail && !v.Reject {
		fixed = append(fixed, "fail without reject: reject forced on")
		v.Reject = true
	}
	if v.Verdict == Pass && v.Reject {
		fixed = append(fixed, "pass with reject: reject kept (safe side)")
	}
	if v.Findings == nil {
		v.Findings = []Finding{}
	}
	return fixed
}

// Reject is the minimal signal on <prefix>/<camera>/reject that a PLC or a
// reject gate acts on.
type Reject struct {
	Seq    uint64 `json:"seq"`
	PartID string `json:"part_id"`
	Reject bool   `json:"reject"`
	Reason string `json:"reason,omitempty"`
}

// rejectOf derives the reject signal of a verdict.
func rejectOf(v *Verdict) Reject {
	r := Reject{Seq: v.Seq, PartID: v.PartID, Reject: v.Reject}
	if v.Reject {
		r.Reason = v.Reason
		if r.Reason == "" {
			r.Reason = summarize(v.Findings)
		}
		if r.Reason == "" {
			r.Reason = v.Verdict
		}
	}
	return r
}

// Reject payload formats.
const (
	RejectJSON  = "json"
	RejectPlain = "plain"
)

// encodeReject writes the reject in the configured format. Plain is
// "seq;part_id;1|0": part ids never contain ';' (see ValidPartID).
func encodeReject(r Reject, format string) ([]byte, error) {
	switch format {
	case RejectPlain:
		bit := "0"
		if r.Reject {
			bit = "1"
		}
		return fmt.Appendf(nil, "%d;%s;%s", r.Seq, r.PartID, bit), nil
	case RejectJSON, "":
		return json.Marshal(r)
	}
	return nil, fmt.Errorf("actuate.reject_format %q: want \"json\" or \"plain\"", format)
}

// summarize says in a few words what the findings are, e.g. "1 missing, 2 structural".
func summarize(fs []Finding) string {
	if len(fs) == 0 {
		return ""
	}
	order := []string{Missing, Extra, Mismatched, Structural}
	n := map[string]int{}
	for _, f := range fs {
		if n[f.Kind] == 0 && !contains(order, f.Kind) {
			order = append(order, f.Kind)
		}
		n[f.Kind]++
	}
	var parts []string
	for _, k := range order {
		if n[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[k], k))
		}
	}
	return strings.Join(parts, ", ")
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// Stats is the periodic health report on <prefix>/stats. The daemon fills it;
// actuate adds the Link section.
type Stats struct {
	Time     time.Time     `json:"ts"`
	UptimeS  float64       `json:"uptime_s"`
	Provider string        `json:"provider"`
	Cameras  []CameraStats `json:"cameras"`
	Link     LinkStats     `json:"link"`
}

// CameraStats is one camera's share of Stats.
type CameraStats struct {
	Camera       string  `json:"camera"`
	FPS          float64 `json:"fps"`
	LatencyP50MS float64 `json:"latency_p50_ms"`
	LatencyP99MS float64 `json:"latency_p99_ms"`
	QueueDepth   int     `json:"queue_depth"`
	Pass         uint64  `json:"pass"`
	Fail         uint64  `json:"fail"`
	Error        uint64  `json:"error"`
	// Unaligned counts the frames since start that the bank would align
	// onto its good images but could not (a covered lens, a moved
	// camera); they were inspected where they lay.
	Unaligned uint64 `json:"unaligned"`
	Enabled   bool   `json:"enabled"`
	Recipe    string `json:"recipe,omitempty"`
}

// LinkStats describes the broker link and the outgoing store.
type LinkStats struct {
	Connected bool `json:"connected"`
	// Pending is how many verdicts wait in the outgoing store.
	Pending int `json:"pending"`
	// Dropped and Refused count verdicts lost to the store's overflow policy
	// since start.
	Dropped uint64 `json:"dropped"`
	Refused uint64 `json:"refused"`
	// Reconnects counts connections after the first.
	Reconnects uint64 `json:"reconnects"`
}

// Event levels.
const (
	LevelInfo  = "info"
	LevelWarn  = "warn"
	LevelError = "error"
)

// Event is an error or warning for operators on <prefix>/events.
type Event struct {
	Time   time.Time `json:"ts"`
	Level  string    `json:"level"`
	Kind   string    `json:"kind"` // e.g. "command", "store_overflow", "camera", "reload"
	Camera string    `json:"camera,omitempty"`
	Msg    string    `json:"msg"`
	// LastSeq is set on "restart" events: the last sequence number the
	// camera handed out before samlad stopped without a clean stop.
	LastSeq uint64 `json:"last_seq,omitempty"`
}

// Camera states for PublishCameraState.
const (
	CameraOK       = "ok"
	CameraOpening  = "opening"
	CameraLost     = "lost"
	CameraDisabled = "disabled"
)

// CameraStatus is the retained <prefix>/<camera>/status payload.
type CameraStatus struct {
	State  string    `json:"state"`
	Detail string    `json:"detail,omitempty"`
	Time   time.Time `json:"ts"`
}
