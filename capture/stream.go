package capture

import (
	"errors"
	"fmt"
	"image"
	"os"
	"strconv"
	"strings"

	"gocv.io/x/gocv"

	"github.com/samlad/samlad/config"
)

// stream is a source read through OpenCV's VideoCapture: a V4L2 device, a
// GStreamer pipeline, a video file or an RTSP stream.
type stream struct {
	cfg    config.Camera
	what   string // names the source in errors
	target string // what VideoCapture opens
	api    gocv.VideoCaptureAPI
	isLive bool
	vc     *gocv.VideoCapture
	frame  gocv.Mat // reused by every Read
	rgba   gocv.Mat // reused by every conversion
	n      int      // frames read since the last (re)open
}

func openStream(cfg config.Camera) (*stream, error) {
	s := &stream{cfg: cfg, isLive: true}
	switch cfg.Source {
	case "v4l2":
		s.target = v4l2Path(cfg.Device)
		s.what = "v4l2 device " + s.target
		s.api = gocv.VideoCaptureV4L2
		if _, err := os.Stat(s.target); err != nil {
			return nil, fmt.Errorf("%s: %w (is the camera plugged in? `v4l2-ctl --list-devices` lists them)", s.what, err)
		}
	case "gstreamer":
		s.target = cfg.Pipeline
		s.what = "gstreamer pipeline"
		s.api = gocv.VideoCaptureGstreamer
	case "video":
		s.target = cfg.URL
		s.api = gocv.VideoCaptureAny
		if strings.Contains(cfg.URL, "://") {
			s.what = "stream " + redactURL(cfg.URL)
		} else {
			s.what = "video file " + cfg.URL
			s.isLive = false
			if _, err := os.Stat(cfg.URL); err != nil {
				return nil, fmt.Errorf("%s: %w", s.what, err)
			}
		}
	default:
		return nil, fmt.Errorf("camera %q: source %q is not a video stream", cfg.Name, cfg.Source)
	}
	if err := s.openCapture(); err != nil {
		return nil, err
	}
	s.frame = gocv.NewMat()
	s.rgba = gocv.NewMat()
	return s, nil
}

// openCapture (re)opens the VideoCapture.
func (s *stream) openCapture() error {
	vc, err := gocv.VideoCaptureFileWithAPI(s.target, s.api)
	if err == nil && !vc.IsOpened() {
		err = errors.New("not opened")
	}
	if err != nil {
		vc.Close()
		return fmt.Errorf("%s: OpenCV could not open it%s", s.what, s.openHint())
	}
	if s.cfg.Source == "v4l2" && s.cfg.Width > 0 {
		vc.Set(gocv.VideoCaptureFrameWidth, float64(s.cfg.Width))
		vc.Set(gocv.VideoCaptureFrameHeight, float64(s.cfg.Height))
	}
	s.vc, s.n = vc, 0
	return nil
}

func (s *stream) openHint() string {
	switch s.cfg.Source {
	case "v4l2":
		return " (busy in another program, or no read permission: is the user in group video?)"
	case "gstreamer":
		return " (run the pipeline with gst-launch-1.0, appsink replaced by fakesink, to see the failing element)"
	case "video":
		if s.isLive {
			return " (unreachable, wrong credentials or unsupported codec)"
		}
		return " (corrupt file or unsupported container/codec)"
	}
	return ""
}

func (s *stream) grab() (string, error) {
	if s.vc.Read(&s.frame) && !s.frame.Empty() {
		s.n++
		return "frame " + strconv.Itoa(s.n), nil
	}
	if s.isLive {
		return "", fmt.Errorf("%s: read failed after %d frames (unplugged, stopped or end of stream)", s.what, s.n)
	}
	if s.n == 0 {
		return "", fmt.Errorf("%s: no frame could be decoded (corrupt file or unsupported codec)", s.what)
	}
	if !s.cfg.Loop {
		return "", errEnd
	}
	s.vc.Close()
	s.vc = nil
	if err := s.openCapture(); err != nil {
		return "", err
	}
	return s.grab()
}

func (s *stream) image() (*image.RGBA, error) {
	origin := fmt.Sprintf("%s frame %d", s.what, s.n)
	w, h := s.frame.Cols(), s.frame.Rows()
	if err := checkSize(s.cfg, origin, w, h); err != nil {
		return nil, err
	}
	var code gocv.ColorConversionCode
	switch s.frame.Type() {
	case gocv.MatTypeCV8UC3:
		code = gocv.ColorBGRToRGBA
	case gocv.MatTypeCV8UC1:
		code = gocv.ColorGrayToBGRA // grey to RGBA: the three colour channels are equal
	case gocv.MatTypeCV8UC4:
		code = gocv.ColorBGRAToRGBA
	default:
		return nil, badf("%s: unsupported pixel type %v (want 8-bit grey, BGR or BGRA)", origin, s.frame.Type())
	}
	gocv.CvtColor(s.frame, &s.rgba, code)
	pix := s.rgba.ToBytes()
	if len(pix) != 4*w*h {
		return nil, badf("%s: converted frame has %d bytes, want %d", origin, len(pix), 4*w*h)
	}
	return &image.RGBA{Pix: pix, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}, nil
}

func (s *stream) live() bool { return s.isLive }

func (s *stream) close() {
	if s.vc != nil {
		s.vc.Close()
		s.vc = nil
	}
	s.frame.Close()
	s.rgba.Close()
}

// v4l2Path turns a device index ("0") into its node ("/dev/video0").
func v4l2Path(device string) string {
	if n, err := strconv.Atoi(device); err == nil && n >= 0 {
		return "/dev/video" + strconv.Itoa(n)
	}
	return device
}

// redactURL hides a password in an rtsp://user:pass@host URL.
func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	at := strings.LastIndex(rest, "@")
	colon := strings.Index(rest, ":")
	if at < 0 || colon < 0 || colon > at {
		return u
	}
	return scheme + "://" + rest[:colon] + ":***" + rest[at:]
}
