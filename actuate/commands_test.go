package actuate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSafeJoin(t *testing.T) {
	root := t.TempDir()
	base := filepath.Join(root, "banks")
	os.MkdirAll(filepath.Join(base, "line3"), 0o755)
	os.MkdirAll(filepath.Join(root, "secret"), 0o755)
	os.Symlink(filepath.Join(root, "secret"), filepath.Join(base, "escape"))
	os.Symlink(filepath.Join(base, "line3"), filepath.Join(base, "alias"))

	ok := map[string]string{
		"widget.bank":                   filepath.Join(base, "widget.bank"),
		"line3/widget.bank":             filepath.Join(base, "line3", "widget.bank"),
		"./line3/../widget.bank":        filepath.Join(base, "widget.bank"),
		filepath.Join(base, "a.bank"):   filepath.Join(base, "a.bank"),
		"alias/widget.bank":             filepath.Join(base, "alias", "widget.bank"),
		"not-yet-there/sub/widget.bank": filepath.Join(base, "not-yet-there", "sub", "widget.bank"),
	}
	for in, want := range ok {
		got, err := SafeJoin(base, in)
		if err != nil || got != want {
			t.Errorf("SafeJoin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := []string{
		"../secret/x.bank",
		"line3/../../secret",
		"..",
		"/etc/passwd",
		filepath.Join(root, "secret"),
		base + "-sibling/x.bank", // shares the prefix, not the directory
		"escape",                 // a symlink out
		"escape/x.bank",
		"",
		"x\x00.bank",
	}
	for _, in := range bad {
		if got, err := SafeJoin(base, in); err == nil {
			t.Errorf("SafeJoin(%q) = %q, want refused", in, got)
		} else if in != "" && !strings.Contains(in, "\x00") && !errors.Is(err, ErrOutsideBase) {
			t.Errorf("SafeJoin(%q) error %v is not ErrOutsideBase", in, err)
		}
	}
	if _, err := SafeJoin("", "x"); err == nil {
		t.Errorf("SafeJoin with no base accepted a path")
	}
}

func TestParseCommand(t *testing.T) {
	banks := t.TempDir()
	cs := Commands{Cameras: []string{"cam1"}, BankDir: banks}
	good := []struct {
		setting, payload string
		want             Command
	}{
		{SetEnabled, "ON", Command{Enabled: true}},
		{SetEnabled, " false\n", Command{}},
		{SetEnabled, "1", Command{Enabled: true}},
		{SetThreshold, "0.35", Command{Threshold: 0.35}},
		{SetThreshold, "2e-1", Command{Threshold: 0.2}},
		{SetThreshold, "auto", Command{Threshold: 0}}, // what threshold/state shows
		{SetThreshold, " AUTO\n", Command{Threshold: 0}},
		{SetTrigger, "", Command{}},
		{SetTrigger, "SN:2026/11#7", Command{PartID: "SN:2026/11#7"}},
		{SetTrigger, `{"part_id":"A-1"}`, Command{PartID: "A-1"}},
		{SetRecipe, "b.bank", Command{Path: filepath.Join(banks, "b.bank")}},
	}
	for _, g := range good {
		got, err := cs.ParseCommand("cam1", g.setting, []byte(g.payload))
		g.want.Camera, g.want.Setting = "cam1", g.setting
		if err != nil || got != g.want {
			t.Errorf("ParseCommand(%s, %q) = %+v, %v; want %+v", g.setting, g.payload, got, err, g.want)
		}
	}
	bad := []struct{ camera, setting, payload string }{
		{"cam1", SetEnabled, "yes please"},
		{"cam1", SetThreshold, "-1"},
		{"cam1", SetThreshold, "0"},
		{"cam1", SetThreshold, "automatic"},
		{"cam1", SetThreshold, "Inf"},
		{"cam1", SetThreshold, ""},
		{"cam1", SetTrigger, strings.Repeat("x", 65)},
		{"cam1", SetTrigger, "has space"},
		{"cam1", SetTrigger, `{"part_id":"A-1","extra":1}`},
		{"cam1", SetTrigger, `{"part_id":`},
		{"cam1", SetRecipe, "../x.bank"},
		{"cam1", SetRecipe, ""},
		{"cam1", SetEnroll, "good"}, // no enrol directory configured
		{"cam2", SetEnabled, "true"},
		{"cam1", "reboot", "now"},
	}
	for _, b := range bad {
		if got, err := cs.ParseCommand(b.camera, b.setting, []byte(b.payload)); err == nil {
			t.Errorf("ParseCommand(%s, %s, %q) = %+v, want an error", b.camera, b.setting, b.payload, got)
		}
	}
}

// FuzzParseCommand: no payload, setting or camera makes command parsing
// panic, and every accepted path stays under its directory.
func FuzzParseCommand(f *testing.F) {
	for _, s := range [][2]string{
		{SetEnabled, "on"}, {SetThreshold, "0.5"}, {SetThreshold, "1e309"}, {SetTrigger, `{"part_id":"P-1"}`},
		{SetTrigger, "{"}, {SetRecipe, "../../etc/passwd"}, {SetRecipe, "a/b.bank"}, {SetEnroll, "/abs"},
		{SetEnroll, "good/\x00"}, {"x", "\xff"},
	} {
		f.Add("cam1", s[0], []byte(s[1]))
	}
	banks, enroll := f.TempDir(), f.TempDir()
	cs := Commands{Cameras: []string{"cam1"}, BankDir: banks, EnrollDir: enroll}
	f.Fuzz(func(t *testing.T, camera, setting string, payload []byte) {
		cmd, err := cs.ParseCommand(camera, setting, payload)
		if err != nil {
			return
		}
		switch cmd.Setting {
		case SetRecipe:
			if !within(banks, cmd.Path) {
				t.Fatalf("recipe path %q escapes %s", cmd.Path, banks)
			}
		case SetEnroll:
			if !within(enroll, cmd.Path) {
				t.Fatalf("enroll path %q escapes %s", cmd.Path, enroll)
			}
		case SetTrigger:
			if cmd.PartID != "" && !ValidPartID(cmd.PartID) {
				t.Fatalf("invalid part id %q accepted", cmd.PartID)
			}
		}
	})
}
