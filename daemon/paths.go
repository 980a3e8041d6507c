package daemon

import "github.com/samlad/samlad/config"

// exposedSecrets lists the secret files the config names (the MQTT password
// file, the TLS client key) that other users can read. The daemon warns
// about each at start and on reload. The config file itself is not checked:
// it cannot hold a secret (Load refuses a password in it), so its usual mode
// 0644 exposes nothing.
func exposedSecrets(cfg config.Config) []string {
	var out []string
	for _, p := range cfg.SecretFiles() {
		if w := config.CheckSecretFilePerms(p); w != "" {
			out = append(out, w)
		}
	}
	return out
}
