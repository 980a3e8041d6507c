package config

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
	// Loop replays the folder forever.
	Loop bool `toml:"loop"`
	// Trigger is "free" (free-run at Rate), "software" (MQTT or local call)
	// or "hardware" (the camera waits for its line; each frame is a part).
	Trigger string `toml:"trigger"`
	// Rate is the free-run rate in frames per second.
	Rate   float64 `toml:"rate"`
	Width  int     `toml:"width"`
	Height int     `toml:"height"`
	// Bank is the enrolled bank file this camera's frames are inspected with.
	Bank string `toml:"bank"`
	// Recipe names the bank for operators and in verdicts.
	Recipe string `toml:"recipe"`
	// Enabled starts the camera; it can be toggled over MQTT.
	Enabled *bool `toml:"enabled"`
}

// IsEnabled reports whether the camera starts enabled (default true).
func (c Camera) IsEnabled() bool { return c.Enabled == nil || *c.Enabled }
