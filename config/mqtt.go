package config

// MQTT configures the broker connection.
type MQTT struct {
	Broker string `toml:"broker"` // tcp://host:1883, ssl://host:8883, ws://...
	// ClientID names samlad's persistent session on the broker: the broker
	// keeps its command subscription and queues triggers under it while
	// samlad is away. Fixed, and unique per appliance.
	ClientID string `toml:"client_id"`
	Prefix   string `toml:"prefix"`
	Username string `toml:"username"`
	// PasswordFile or PasswordEnv hold the password; never the TOML itself.
	PasswordFile   string   `toml:"password_file"`
	PasswordEnv    string   `toml:"password_env"`
	TLS            TLS      `toml:"tls"`
	KeepAlive      Duration `toml:"keepalive"`
	ConnectTimeout Duration `toml:"connect_timeout"`
	// MaxReconnectInterval caps the backoff between reconnection attempts
	// (default 1s): samlad is back within about that long of the broker's
	// return, and the broker's queue of triggers with it.
	MaxReconnectInterval Duration `toml:"max_reconnect_interval"`
	// StoreDir keeps QoS 1 messages published while the broker is down.
	StoreDir string `toml:"store_dir"`
	// StoreLimit bounds the outgoing store (verdicts, each with its reject).
	StoreLimit int `toml:"store_limit"`
	// StoreOverflow is what happens when an outage outlasts the store:
	// "drop_oldest" (default; the most recent verdicts survive) or
	// "refuse_new" (the oldest survive; new verdicts are refused with an error).
	StoreOverflow string `toml:"store_overflow"`
	// StoreNoFsync skips the fsync of each stored verdict: still safe
	// against a crash of the process, no longer against power loss.
	StoreNoFsync bool `toml:"store_no_fsync"`
	// StatsInterval is the period of <prefix>/stats.
	StatsInterval Duration `toml:"stats_interval"`
	// Discovery announces each camera's entities to Home Assistant.
	Discovery Discovery `toml:"discovery"`
}

// Discovery configures Home Assistant MQTT discovery (docs/mqtt.md).
type Discovery struct {
	// Enabled publishes the entities' config messages, retained, at every
	// connection. Off by default.
	Enabled bool `toml:"enabled"`
	// Prefix is Home Assistant's discovery prefix (its default: "homeassistant").
	Prefix string `toml:"prefix"`
}

// TLS configures TLS and mutual TLS.
type TLS struct {
	Enabled            bool   `toml:"enabled"`
	CAFile             string `toml:"ca_file"`
	CertFile           string `toml:"cert_file"`
	KeyFile            string `toml:"key_file"`
	ServerName         string `toml:"server_name"`
	InsecureSkipVerify bool   `toml:"insecure_skip_verify"`
}

// Actuate configures what is published for each verdict.
type Actuate struct {
	// RejectFormat is "json" or "plain" ("seq;part_id;1|0").
	RejectFormat string `toml:"reject_format"`
	// Heatmap is "off", "all" or "fail".
	Heatmap        string `toml:"heatmap"`
	HeatmapQuality int    `toml:"heatmap_quality"`
	HeatmapMaxSide int    `toml:"heatmap_max_side"`
	// RejectMaxAge drops a buffered reject signal older than this when it is
	// finally sent (its verdict is still delivered), so that a gate never acts
	// on a part that has long passed. 0 delivers every reject.
	RejectMaxAge Duration `toml:"reject_max_age"`
}

// DefaultMQTT returns the broker defaults.
func DefaultMQTT() MQTT {
	return MQTT{
		Broker:               "tcp://127.0.0.1:1883",
		ClientID:             "samlad",
		Prefix:               "samlad",
		KeepAlive:            Duration(30e9),
		ConnectTimeout:       Duration(10e9),
		MaxReconnectInterval: Duration(1e9),
		StoreDir:             "/var/lib/samlad/outbox",
		StoreLimit:           10000,
		StoreOverflow:        "drop_oldest",
		StatsInterval:        Duration(10e9),
		Discovery:            Discovery{Prefix: "homeassistant"},
	}
}

// DefaultActuate returns the publishing defaults.
func DefaultActuate() Actuate {
	return Actuate{RejectFormat: "json", Heatmap: "fail", HeatmapQuality: 80, HeatmapMaxSide: 512}
}
