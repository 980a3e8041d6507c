package capture

import (
	"errors"
	"fmt"
	"image"

	"github.com/samlad/samlad/config"
)

// grabber is an opened source. Only the capture goroutine that opened it
// uses it, so the gocv objects inside never cross goroutines.
type grabber interface {
	// grab reads the next frame and keeps it for image. It returns origin,
	// which names the frame for error messages (a file path, "frame 12").
	// Errors: errEnd at the end of a file or folder, a *badFrame when this
	// frame is unusable but the source is fine, anything else when the
	// source is lost.
	grab() (origin string, err error)
	// image converts the last grabbed frame to RGBA; the error is a *badFrame.
	image() (*image.RGBA, error)
	// live is true for cameras and streams, whose frames go stale unless
	// read continuously, and false for files and folders, read on demand.
	live() bool
	close()
}

// errEnd marks the end of a video file or folder that does not loop.
var errEnd = errors.New("end of source")

// badFrame is a frame that cannot be used (empty, wrong size, corrupt file)
// while the source itself still works.
type badFrame struct{ err error }

func (b *badFrame) Error() string { return b.err.Error() }
func (b *badFrame) Unwrap() error { return b.err }

func badf(format string, args ...any) error { return &badFrame{fmt.Errorf(format, args...)} }

// open opens the source cfg describes.
func open(cfg config.Camera) (grabber, error) {
	if cfg.Source == "folder" {
		return openFolder(cfg)
	}
	return openStream(cfg)
}

// checkSize rejects a frame whose size is not the configured one.
func checkSize(cfg config.Camera, origin string, w, h int) error {
	if cfg.Width > 0 && (w != cfg.Width || h != cfg.Height) {
		return badf("%s: frame is %dx%d, camera %q expects %dx%d (width/height)", origin, w, h, cfg.Name, cfg.Width, cfg.Height)
	}
	return nil
}
