package daemon

import "github.com/samlad/samlad/config"

// exposedSecrets lists the config file and the secret files it names that
// other users can read. The daemon warns about each at start and on reload.
func exposedSecrets(configPath string, cfg config.Config) []string {
	var out []string
	for _, p := range append([]string{configPath}, cfg.SecretFiles()...) {
		if w := config.CheckSecretFilePerms(p); w != "" {
			out = append(out, w)
		}
	}
	return out
}
