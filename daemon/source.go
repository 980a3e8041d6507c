package daemon

import (
	"context"
	"log/slog"

	"github.com/samlad/samlad/capture"
	"github.com/samlad/samlad/config"
)

// captureSource runs a capture.Camera and hands its frames on.
type captureSource struct {
	cam    *capture.Camera
	frames chan Frame
	cancel context.CancelFunc
	done   chan struct{}
}

// openCapture starts camera cc. State changes go to onState.
func openCapture(cc config.Camera, onState func(capture.StateEvent), log *slog.Logger) (Source, error) {
	cam, err := capture.New(cc, capture.Options{OnState: onState})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &captureSource{cam: cam, frames: make(chan Frame), cancel: cancel, done: make(chan struct{})}
	go func() {
		if err := cam.Run(ctx); err != nil {
			log.Error("camera stopped with an error", "camera", cc.Name, "err", err)
		}
	}()
	go func() {
		defer close(s.done)
		defer close(s.frames)
		for f := range cam.Frames() {
			out := Frame{PartID: f.PartID, Capture: f.Time, Err: f.Err}
			if f.Err == nil && f.Image != nil {
				out.Image = f.Image
			}
			s.frames <- out
		}
	}()
	return s, nil
}

func (s *captureSource) Frames() <-chan Frame        { return s.frames }
func (s *captureSource) Trigger(partID string) error { return s.cam.Trigger(partID) }
func (s *captureSource) Close() error                { s.cancel(); return nil }
