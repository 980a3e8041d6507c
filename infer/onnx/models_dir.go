package onnx

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/samlad/samlad/config"
)

// ModelsIn points m at the manifests found in dir, one per kind, so that a
// models directory can be given alone (`--models DIR`): both SAM manifests
// are required; the features manifest is optional (without it SAM's
// embeddings serve as the features, unless m.FeatureSource says otherwise),
// and so is the upsampler (the built-in JBU is used without it). Two manifests of one kind are an error naming
// both. The AMG parameters of m are kept.
func ModelsIn(dir string, m config.Models) (config.Models, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil {
		return m, err
	}
	if len(paths) == 0 {
		if _, err := os.Stat(dir); err != nil {
			return m, fmt.Errorf("models directory %s: %w", dir, err)
		}
		return m, fmt.Errorf("models directory %s has no manifests (*.toml); export the models with models/export", dir)
	}
	sort.Strings(paths)
	found := map[string]string{}
	for _, p := range paths {
		man, err := LoadManifest(p)
		if err != nil {
			return m, err
		}
		if prev, dup := found[man.Kind]; dup {
			return m, fmt.Errorf("models directory %s: two %s manifests, %s and %s; keep one", dir, man.Kind, filepath.Base(prev), filepath.Base(p))
		}
		found[man.Kind] = p
	}
	var missing []string
	for _, k := range []string{KindSAMEncoder, KindSAMDecoder} {
		if found[k] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return m, fmt.Errorf("models directory %s: no %s manifest", dir, strings.Join(missing, ", "))
	}
	m.Dir = dir
	m.Features = ""
	if p := found[KindFeatures]; p != "" {
		m.Features = filepath.Base(p)
	}
	m.SAMEncoder = filepath.Base(found[KindSAMEncoder])
	m.SAMDecoder = filepath.Base(found[KindSAMDecoder])
	m.Upsampler = ""
	if p := found[KindUpsampler]; p != "" {
		m.Upsampler = filepath.Base(p)
	}
	return m, nil
}
