// Package config holds samlad's TOML schema, its defaults and its validation.
//
// Each section of the file is one struct in this package. Other packages
// receive the section they need; they never parse TOML themselves.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

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

// SecretFiles lists the files named in c that hold secrets: the MQTT password
// file and the TLS client key.
func (c Config) SecretFiles() []string {
	var out []string
	for _, p := range []string{c.MQTT.PasswordFile, c.MQTT.TLS.KeyFile} {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// CheckSecretFilePerms returns a warning when the file at path (the config
// file or one of its SecretFiles) is readable by users other than its owner
// and group, and "" when it is not or does not exist (a missing file is
// reported by whoever opens it).
func CheckSecretFilePerms(path string) string {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	if err != nil {
		return fmt.Sprintf("%s: cannot check its permissions: %v", path, err)
	}
	if perm := info.Mode().Perm(); perm&0o004 != 0 {
		return fmt.Sprintf("%s is readable by every user (mode %04o); run chmod o-rwx %s", path, perm, path)
	}
	return ""
}
