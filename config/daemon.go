package config

// Daemon configures the inspection loop.
type Daemon struct {
	// Deadline is the time from capture to verdict; past it the fail-safe verdict is published.
	Deadline Duration `toml:"deadline"`
	// FailSafe is the verdict published when inspection misses the deadline or fails: "fail" (reject) or "pass".
	FailSafe string `toml:"fail_safe"`
	// QueueDepth bounds the frames waiting for inspection, per camera.
	QueueDepth int `toml:"queue_depth"`
	// Workers is the number of frames inspected at once per camera, so that
	// the engine stays busy while the next frame is captured and published.
	Workers int `toml:"workers"`
	// StateDir holds the sequence counter and the outgoing store.
	StateDir string `toml:"state_dir"`
	// BankDir and EnrollDir bound the paths accepted by recipe and re-enrol commands.
	BankDir   string `toml:"bank_dir"`
	EnrollDir string `toml:"enroll_dir"`
	// Health is an optional HTTP health/metrics address; empty = no listener.
	Health string `toml:"health"`
}

// Archive saves NG frames with their heatmap and verdict.
type Archive struct {
	Enabled  bool   `toml:"enabled"`
	Dir      string `toml:"dir"`
	MaxBytes int64  `toml:"max_bytes"`
	// Keep is "fail" or "all".
	Keep string `toml:"keep"`
}

// Log configures structured logging.
type Log struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
}

// DefaultDaemon returns the loop defaults.
func DefaultDaemon() Daemon {
	return Daemon{Deadline: Duration(500e6), FailSafe: "fail", QueueDepth: 4, Workers: 2, StateDir: "/var/lib/samlad"}
}

// DefaultArchive returns the archive defaults.
func DefaultArchive() Archive {
	return Archive{Dir: "/var/lib/samlad/archive", MaxBytes: 1 << 30, Keep: "fail"}
}

// DefaultLog returns the logging defaults.
func DefaultLog() Log { return Log{Level: "info", Format: "text"} }
