package config

import (
	"fmt"
	"regexp"
	"strings"
)

// Camera is one capture source and the recipe it is inspected with.
type Camera struct {
	// Name identifies the camera in MQTT topics and logs ([a-z0-9_-]).
	Name string `toml:"name"`
	// Source kind: "v4l2", "gstreamer", "video" (file or RTSP URL) or "folder".
	Source string `toml:"source"`
	// Device is the V4L2 device path or index ("/dev/video0" or "0").
	Device string `toml:"device"`
	// Pipeline is a GStreamer pipeline ending in appsink.
	Pipeline string `toml:"pipeline"`
	// URL is a video file path or an rtsp:// URL.
	URL string `toml:"url"`
	// Folder is the image folder replayed as a camera.
	Folder string `toml:"folder"`
	// Loop replays the folder (or video file) from the start when it ends.
	Loop bool `toml:"loop"`
	// Trigger is "free" (free-run at Rate), "software" (MQTT or local call)
	// or "hardware" (the camera waits for its line; each frame is a part).
	// Empty means "free".
	Trigger string `toml:"trigger"`
	// Rate is the free-run rate in frames per second; 0 delivers every frame
	// the source gives, as fast as the consumer takes them.
	Rate float64 `toml:"rate"`
	// Width and Height, when set, are requested from a V4L2 device and
	// checked on every frame: a frame of another size is an error frame.
	Width  int `toml:"width"`
	Height int `toml:"height"`
	// Bank is the enrolled bank file this camera's frames are inspected with.
	Bank string `toml:"bank"`
	// Recipe names the bank for operators and in verdicts.
	Recipe string `toml:"recipe"`
	// Enabled starts the camera; it can be toggled over MQTT.
	Enabled *bool `toml:"enabled"`
	// ReconnectMin and ReconnectMax bound the exponential backoff between
	// attempts to reopen a lost camera (defaults 500ms and 30s).
	ReconnectMin Duration `toml:"reconnect_min"`
	ReconnectMax Duration `toml:"reconnect_max"`
}

// IsEnabled reports whether the camera starts enabled (default true).
func (c Camera) IsEnabled() bool { return c.Enabled == nil || *c.Enabled }

var cameraName = regexp.MustCompile(`^[a-z0-9_-]+$`)

// Validate checks one [[camera]] table and names the offending key.
func (c Camera) Validate() error {
	if !cameraName.MatchString(c.Name) {
		return fmt.Errorf("camera name %q: use lower-case letters, digits, '_' and '-' (it becomes an MQTT topic level)", c.Name)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("camera %q: "+format, append([]any{c.Name}, args...)...)
	}
	need := func(key, value string) error {
		if strings.TrimSpace(value) == "" {
			return fail("source = %q needs %s", c.Source, key)
		}
		return nil
	}
	var err error
	switch c.Source {
	case "v4l2":
		err = need("device (e.g. \"/dev/video0\" or \"0\")", c.Device)
	case "gstreamer":
		if err = need("pipeline", c.Pipeline); err == nil && !strings.Contains(c.Pipeline, "appsink") {
			err = fail("pipeline must end in appsink (e.g. \"... ! videoconvert ! appsink\")")
		}
	case "video":
		err = need("url (a video file or rtsp:// URL)", c.URL)
	case "folder":
		err = need("folder", c.Folder)
	default:
		err = fail("source = %q: want \"v4l2\", \"gstreamer\", \"video\" or \"folder\"", c.Source)
	}
	if err != nil {
		return err
	}
	switch c.Trigger {
	case "", "free", "software":
	case "hardware":
		if c.Source != "v4l2" && c.Source != "gstreamer" {
			return fail("trigger = \"hardware\" needs a camera source (v4l2 or gstreamer), not %q", c.Source)
		}
	default:
		return fail("trigger = %q: want \"free\", \"software\" or \"hardware\"", c.Trigger)
	}
	if c.Rate < 0 {
		return fail("rate = %v: must be >= 0 (0 = as fast as the source and the consumer allow)", c.Rate)
	}
	if c.Width < 0 || c.Height < 0 || (c.Width == 0) != (c.Height == 0) {
		return fail("width = %d, height = %d: set both (> 0) or neither", c.Width, c.Height)
	}
	if c.ReconnectMin < 0 || c.ReconnectMax < 0 || (c.ReconnectMax > 0 && c.ReconnectMin > c.ReconnectMax) {
		return fail("reconnect_min = %s, reconnect_max = %s: want 0 <= min <= max", c.ReconnectMin.D(), c.ReconnectMax.D())
	}
	return nil
}
