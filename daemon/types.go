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

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/capture"
	"github.com/samlad/samlad/infer"
)

// Source is a running camera. Frames is closed after Close.
type Source interface {
	// A triggered frame that could not be captured still arrives, with
	// Err set, so that it gets an error verdict instead of vanishing.
	Frames() <-chan capture.Frame
	// Trigger asks for one frame for partID (software trigger).
	Trigger(partID string) error
	Close() error
}

// Inspector inspects one frame against one bank. An Inspector never changes
// bank; a new bank is a new Inspector, swapped in between frames.
type Inspector interface {
	Inspect(ctx context.Context, img *infer.Image) (*infer.Result, error)
}

// Reasons for an error verdict.
const (
	ReasonDeadline = "deadline"
	ReasonInspect  = "inspect"
	ReasonCapture  = "capture"
	ReasonOverload = "overload"
)

// record is the one verdict of one frame: the message as published (Rule.
// Decide decided it) and what the archive keeps beside it.
type record struct {
	msg actuate.Verdict
	// result is the engine's result (findings, anomaly map); nil for
	// errors without one.
	result *infer.Result
	// frame is the camera frame (nil when capture failed) and img the
	// engine's input made from it (nil when inspection never started).
	frame *image.RGBA
	img   *infer.Image
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
