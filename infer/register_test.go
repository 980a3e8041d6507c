package infer

import (
	"testing"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
)

func goodScenes(t *testing.T, kind scenes.Kind, n int) []*Image {
	t.Helper()
	var out []*Image
	for s := 1000; s < 1000+n; s++ {
		sc, err := scenes.Generate(kind, int64(s), 224, scenes.Good)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, FromImage(sc.Image, 224))
	}
	return out
}

// A blister on a fixture that moves is learned as one to align; a bag of
// loose parts, whose difference from its median aligning cannot remove,
// is taken as it lies. Hand settings are obeyed.
func TestRegisterRuleLearned(t *testing.T) {
	blister, bag := goodScenes(t, scenes.Blister, 12), goodScenes(t, scenes.Bag, 12)
	_, warps, reg, rule := learnRegistration(blister, 2, config.Auto)
	if !rule.On || !rule.Learned || reg == nil || len(warps) != len(blister) {
		t.Errorf("blister: %s; template %v", rule, reg != nil)
	}
	if rule.After <= rule.Before {
		t.Errorf("blister: aligning lowered the correlation with the template from %.3f to %.3f", rule.Before, rule.After)
	}
	out, warps, reg, rule := learnRegistration(bag, 2, config.Auto)
	if rule.On || reg != nil || warps != nil || &out[0] != &bag[0] {
		t.Errorf("bag: %s; template %v", rule, reg != nil)
	}
	if _, _, reg, rule := learnRegistration(bag, 2, config.On); !rule.On || rule.Learned || reg == nil {
		t.Errorf("bag with register on: %s; template %v", rule, reg != nil)
	}
	if _, _, reg, rule := learnRegistration(blister, 2, config.Off); rule.On || reg != nil {
		t.Errorf("blister with register off: %s; template %v", rule, reg != nil)
	}
}
