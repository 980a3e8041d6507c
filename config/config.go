// Package config holds samlad's TOML schema, its defaults and its validation.
//
// Each section of the file is one struct in this package. Other packages
// receive the section they need; they never parse TOML themselves.
package config

// Config is the whole samlad configuration file.
type Config struct {
	Pipeline Pipeline `toml:"pipeline"`
	Models   Models   `toml:"models"`
	Runtime  Runtime  `toml:"runtime"`
	Cameras  []Camera `toml:"camera"`
	MQTT     MQTT     `toml:"mqtt"`
	Actuate  Actuate  `toml:"actuate"`
	Daemon   Daemon   `toml:"daemon"`
	Archive  Archive  `toml:"archive"`
	Log      Log      `toml:"log"`
}

// Default returns the configuration used when a key is absent from the file.
func Default() Config {
	return Config{
		Pipeline: DefaultPipeline(),
		Models:   DefaultModels(),
		Runtime:  DefaultRuntime(),
		MQTT:     DefaultMQTT(),
		Actuate:  DefaultActuate(),
		Daemon:   DefaultDaemon(),
		Archive:  DefaultArchive(),
		Log:      DefaultLog(),
	}
}
