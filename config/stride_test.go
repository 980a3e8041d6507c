package config_test

import (
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer/builtin"
)

// The input_size rule must use the stride the built-in engine really has.
func TestBuiltinStrideMatchesEngine(t *testing.T) {
	if config.BuiltinStride != builtin.FeatureStride {
		t.Errorf("config checks input_size against stride %d, infer/builtin uses %d", config.BuiltinStride, builtin.FeatureStride)
	}
}
