package daemon

import (
	"context"
	"log/slog"

	"github.com/samlad/samlad/capture"
	"github.com/samlad/samlad/config"
)

// captureSource runs a capture.Camera; its frames go to the loop as they are.
type captureSource struct {
	cam    *capture.Camera
	cancel context.CancelFunc
}

// openCapture starts camera cc. State changes go to onState.
func openCapture(cc config.Camera, onState func(capture.StateEvent), log *slog.Logger) (Source, error) {
	cam, err := capture.New(cc, capture.Options{OnState: onState})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		if err := cam.Run(ctx); err != nil {
			log.Error("camera stopped with an error", "camera", cc.Name, "err", err)
		}
	}()
	return &captureSource{cam: cam, cancel: cancel}, nil
}

// Frames is closed when the camera's Run returns, after Close.
func (s *captureSource) Frames() <-chan capture.Frame { return s.cam.Frames() }
func (s *captureSource) Trigger(partID string) error  { return s.cam.Trigger(partID) }
func (s *captureSource) Close() error                 { s.cancel(); return nil }
