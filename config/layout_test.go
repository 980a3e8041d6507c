package config

import (
	"strings"
	"testing"
)

// TestLayoutValidation: a bad layout value is named with its line when the
// step is on, and the section's values are not checked when it is off.
func TestLayoutValidation(t *testing.T) {
	for _, c := range []struct {
		src, key string
		line     int
		msg      string
	}{
		{"[pipeline.layout]\nenabled = true\nrefs = -1", "pipeline.layout.refs", 3, ">= 0"},
		{"[pipeline.layout]\nenabled = true\nradius = -0.1", "pipeline.layout.radius", 3, "[0, 1]"},
		{"[pipeline.layout]\nenabled = true\nmirror = \"sometimes\"", "pipeline.layout.mirror", 3, "auto, on, off"},
		{"[pipeline.layout]\nenabled = true\nmirror = true", "pipeline.layout.mirror", 3, "want a string"},
		{"[pipeline.layout]\nenabled = true\ngroup = \"yes\"", "pipeline.layout.group", 3, "auto, on, off"},
		{"[pipeline.layout]\nenabled = true\ngrid = 9", "pipeline.layout.grid", 3, "[1, 8]"},
		{"[pipeline.layout]\nenabled = true\nmissing_weight = -0.5", "pipeline.layout.missing_weight", 3, "[0, 10]"},
		{"[pipeline.layout]\nenabled = true\nexcess_weight = 11.0", "pipeline.layout.excess_weight", 3, "[0, 10]"},
		{"[pipeline.layout]\nenabled = true\nobject_weight = -1.0", "pipeline.layout.object_weight", 3, "[0, 10]"},
		{"[pipeline.layout]\nenabled = true\nobject_weight = 0.0\nmissing_weight = 0.0\nexcess_weight = 0.0", "pipeline.layout.object_weight", 3, "all 0"},
	} {
		errs := parseErrs(t, c.src)
		e := errFor(t, errs, c.key)
		if e.Line != c.line || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("%s: got line %d %q, want line %d and %q", c.key, e.Line, e.Msg, c.line, c.msg)
		}
	}
	cfg, err := Parse([]byte("[pipeline.layout]\nenabled = true\nrefs = 16\nradius = 0.2\nonly = true\ngroup = \"off\"\nmirror = \"on\"\nexcess_weight = 0\n"), "layout.toml")
	if err != nil {
		t.Fatal(err)
	}
	if l := cfg.Pipeline.Layout; !l.Enabled || l.Refs != 16 || l.Radius != 0.2 || !l.Only || l.Group != Off || l.Mirror != On || l.Grid != DefaultLayout().Grid ||
		l.ExcessWeight != 0 || l.MissingWeight != DefaultLayout().MissingWeight {
		t.Errorf("parsed layout %+v", l)
	}
	if d := DefaultLayout(); !d.Enabled || d.Radius != 0 {
		t.Errorf("default layout %+v: want the step on with each part's reach learned (radius 0)", d)
	}
	if d := DefaultLayout(); d.Mirror != Auto || d.Group != Auto {
		t.Errorf("mirror %q and group %q by default, want both learned at enrolment (auto)", d.Mirror, d.Group)
	}
	if _, err := Parse([]byte("[pipeline.layout]\nradius = 0.0\n"), "off.toml"); err != nil {
		t.Errorf("layout off: its values are not used, got %v", err)
	}
}
