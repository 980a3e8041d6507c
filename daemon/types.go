// Package daemon wires capture -> inspection -> publishing for each camera and
// runs the appliance's lifecycle: readiness, watchdog, reload, shutdown.
//
// The loop depends only on the small interfaces below, defined where they are
// consumed; the real implementations are the capture, infer and actuate
// packages, joined in deps.go (DefaultDeps), source.go and engines.go.
package daemon

import (
	"context"
	"image"
	"time"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/infer"
)

// Frame is one frame handed over by a camera source. A triggered frame that
// could not be captured still arrives, with Err set, so that it gets an error
// verdict instead of vanishing.
type Frame struct {
	PartID  string
	Capture time.Time
	// Image is the camera frame as captured. The inspection workers
	// convert it to the engine's input, in parallel, so that the capture
	// goroutine only captures.
	Image image.Image
	Err   error
	// refused marks a trigger answered without a capture (stale, malformed,
	// no room): Err is the whole reason of its error verdict.
	refused bool
}

// Source is a running camera. Frames is closed after Close.
type Source interface {
	Frames() <-chan Frame
	// Trigger asks for one frame for partID (software trigger).
	Trigger(partID string) error
	Close() error
}

// Inspector inspects one frame against one bank. An Inspector never changes
// bank; a new bank is a new Inspector, swapped in between frames.
type Inspector interface {
	Inspect(ctx context.Context, img *infer.Image) (*infer.Result, error)
}

// Verdict kinds.
const (
	KindPass  = "pass"
	KindFail  = "fail"
	KindError = "error"
)

// Reasons for an error verdict.
const (
	ReasonDeadline = "deadline"
	ReasonInspect  = "inspect"
	ReasonCapture  = "capture"
	ReasonOverload = "overload"
)

// Verdict is the one outcome of one frame.
type Verdict struct {
	Camera string
	Seq    uint64
	PartID string
	// Kind is pass, fail or error. Reject is what the gate must do: a fail
	// always rejects; an error rejects unless the fail-safe is "pass".
	Kind   string
	Reject bool
	// Reason explains an error verdict ("deadline: ...", "overload: ...").
	Reason    string
	Capture   time.Time
	Inspected time.Time // zero when inspection did not finish
	Score     float64
	Threshold float64
	Bank      string // the bank file's path
	BankID    string // the bank file's hash (bank_id in the verdict)
	Recipe    string
	// Result is the engine's result (findings, anomaly map); nil for errors.
	Result *infer.Result
	// Frame is the camera frame (nil when capture failed) and Image the
	// engine's input made from it (nil when inspection never started).
	Frame image.Image
	Image *infer.Image
}

// Publisher sends what the daemon decides to the plant. *actuate.Client
// implements it.
type Publisher interface {
	// PublishVerdict publishes the verdict, its reject signal and, when
	// configured, its heatmap.
	PublishVerdict(v actuate.Verdict) error
	// PublishState publishes a camera setting's current value (retained).
	PublishState(camera, setting, value string) error
	// PublishCameraState publishes a camera's connection state (retained).
	PublishCameraState(camera, state, detail string) error
	PublishEvent(e actuate.Event) error
	PublishStats(s actuate.Stats) error
}
