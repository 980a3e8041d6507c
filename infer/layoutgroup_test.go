package infer

import (
	"slices"
	"testing"

	"github.com/samlad/samlad/config"
)

// layout.group off: every object is a part of its own, however close its
// neighbours lie; on: objects within the radius are one part.
func TestLayoutGroupSwitch(t *testing.T) {
	objs := []Object{{CX: 10, CY: 10}, {CX: 13, CY: 14}, {CX: 40, CY: 40}}
	l := config.Layout{Radius: 0.1} // 0.1 of a 64 px map: 6.4 px
	if got := layoutGroups(objs, groupRadius(l)*64); !slices.Equal(got, []int{0, 0, 2}) {
		t.Errorf("grouped: parts %v, want [0 0 2]", got)
	}
	if got := layoutGroups(objs, 0); !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("not grouped: parts %v, want [0 1 2]", got)
	}
}
