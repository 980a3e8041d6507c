package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// parseErrs parses src as "line1.toml" and returns its errors; it fails the
// test when the file is accepted.
func parseErrs(t *testing.T, src string) Errors {
	t.Helper()
	_, err := Parse([]byte(src), "line1.toml")
	if err == nil {
		t.Fatalf("accepted:\n%s", src)
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error is %T, want config.Errors: %v", err, err)
	}
	for _, e := range errs {
		if e.File != "line1.toml" {
			t.Errorf("error without the file name: %v", e)
		}
	}
	return errs
}

// errFor returns the error about key, failing the test when there is none.
func errFor(t *testing.T, errs Errors, key string) *Error {
	t.Helper()
	for _, e := range errs {
		if e.Key == key {
			return e
		}
	}
	t.Fatalf("no error for %s; got:\n%v", key, errs)
	return nil
}

func TestUnknownKeyNamesKeyAndLine(t *testing.T) {
	errs := parseErrs(t, `# line 1
[pipeline]
k = 2
upsampel = 8

[mqtt.tls]
server_name = "broker"

[pipline]
backend = "onnx"
`)
	if len(errs) != 2 {
		t.Fatalf("want 2 errors, got %d:\n%v", len(errs), errs)
	}
	if got, want := errs[0].Error(), "line1.toml:4: pipeline.upsampel: unknown key (did you mean upsample?)"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got, want := errs[1].Error(), "line1.toml:9: pipline: unknown section (did you mean pipeline?)"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestWrongTypeNamesKeyAndLine(t *testing.T) {
	errs := parseErrs(t, `[pipeline]
input_size = 224
k = "2"

[daemon]
deadline = 500
fail_safe = true

[runtime]
providers = "cpu"

[[camera]]
name = "a"
source = "folder"
folder = "good"
bank = "a.bank"
rate = [1, 2]
`)
	for _, c := range []struct {
		key  string
		line int
		msg  string
	}{
		{"pipeline.k", 3, `pipeline.k = "2": wrong type: want an integer, got a string`},
		{"daemon.deadline", 6, `daemon.deadline = 500: wrong type: want a duration string such as "500ms" or "2s", got an integer`},
		{"daemon.fail_safe", 7, `daemon.fail_safe = true: wrong type: want a string, got a boolean`},
		{"runtime.providers", 10, `runtime.providers = "cpu": wrong type: want an array, got a string`},
		{"camera[0].rate", 17, `camera[0].rate: wrong type: want a number, got an array`},
	} {
		e := errFor(t, errs, c.key)
		if e.Line != c.line {
			t.Errorf("%s: line %d, want %d", c.key, e.Line, c.line)
		}
		if !strings.HasSuffix(e.Error(), c.msg) {
			t.Errorf("%s: got %q, want it to end with %q", c.key, e.Error(), c.msg)
		}
	}
	if len(errs) != 5 {
		t.Errorf("want 5 errors, got %d:\n%v", len(errs), errs)
	}
}

func TestOutOfRangeNamesKeyAndLine(t *testing.T) {
	errs := parseErrs(t, `[pipeline]
backend = "builtin"



upsample = 3
`)
	if len(errs) != 1 {
		t.Fatalf("want 1 error, got:\n%v", errs)
	}
	if got, want := errs[0].Error(), "line1.toml:6: pipeline.upsample = 3: must be one of 1, 2, 4, 8"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// 16x exists only with the FeatUp model of the onnx backend.
	errs = parseErrs(t, "[pipeline]\nbackend = \"onnx\"\nupsample = 12\n")
	if e := errFor(t, errs, "pipeline.upsample"); e.Line != 3 || !strings.Contains(e.Msg, "1, 2, 4, 8, 16") {
		t.Errorf("got %v", e)
	}
}

func TestAllErrorsReportedTogetherInLineOrder(t *testing.T) {
	errs := parseErrs(t, `[pipeline]
k = 0
epsilon = "small"
colour = "red"

[mqtt]
broker = "http://broker:80"

[daemon]
queue_depth = 0
fail_safe = "maybe"

[log]
level = "verbose"
`)
	want := []struct {
		key  string
		line int
	}{
		{"pipeline.k", 2}, {"pipeline.epsilon", 3}, {"pipeline.colour", 4}, {"mqtt.broker", 7},
		{"daemon.queue_depth", 10}, {"daemon.fail_safe", 11}, {"log.level", 14},
	}
	if len(errs) != len(want) {
		t.Fatalf("want %d errors, got %d:\n%v", len(want), len(errs), errs)
	}
	for i, w := range want {
		if errs[i].Key != w.key || errs[i].Line != w.line {
			t.Errorf("error %d: got %s at line %d, want %s at line %d", i, errs[i].Key, errs[i].Line, w.key, w.line)
		}
	}
	// One error per line, joined, so the whole list prints at once.
	if n := strings.Count(errs.Error(), "\n"); n != len(want)-1 {
		t.Errorf("Error() has %d line breaks, want %d", n, len(want)-1)
	}
}

func TestSyntaxErrorHasLine(t *testing.T) {
	errs := parseErrs(t, "[pipeline]\nk = 2\nbackend = \"builtin\nmode = \"full\"\n")
	if len(errs) != 1 || errs[0].Line != 3 || !strings.Contains(errs[0].Error(), "line1.toml:3: TOML syntax") {
		t.Errorf("got %v", errs)
	}
}

func TestLiteralPasswordRefused(t *testing.T) {
	errs := parseErrs(t, "[mqtt]\nusername = \"line1\"\npassword = \"hunter2\"\n")
	e := errFor(t, errs, "mqtt.password")
	if e.Line != 3 || !strings.Contains(e.Msg, "password_file") || !strings.Contains(e.Msg, "password_env") {
		t.Errorf("got %v", e)
	}
	if strings.Contains(errs.Error(), "hunter2") {
		t.Errorf("the message repeats the password: %v", errs)
	}
}

func TestDefaultsApplied(t *testing.T) {
	cfg, err := Parse(nil, "empty.toml")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("empty file:\n got %+v\nwant %+v", cfg, Default())
	}

	cfg, err = Parse([]byte("[pipeline]\nk = 3\n[pipeline.segment]\nsigma = 1.5\n[daemon]\ndeadline = \"250ms\"\n"), "p.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Pipeline.K = 3
	want.Pipeline.Segment.Sigma = 1.5
	want.Daemon.Deadline = Duration(250e6)
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("partial file:\n got %+v\nwant %+v", cfg, want)
	}
}

func TestRelativePathsResolveAgainstConfigDir(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "etc", "line1.toml")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	src := `[models]
dir = "models"
features = "dino.toml"
sam_encoder = "/opt/models/enc.toml"

[mqtt]
broker = "ssl://broker:8883"
username = "u"
password_file = "secrets/pw"
[mqtt.tls]
enabled = true
ca_file = "tls/ca.pem"

[daemon]
state_dir = "state"

[[camera]]
name = "a"
source = "folder"
folder = "../replay"
bank = "banks/a.bank"

[[camera]]
name = "b"
source = "video"
url = "rtsp://cam/stream"
bank = "/var/lib/samlad/b.bank"
`
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	etc := filepath.Dir(path)
	for _, c := range []struct{ name, got, want string }{
		{"models.dir", cfg.Models.Dir, filepath.Join(etc, "models")},
		{"models.features", cfg.Models.Features, "dino.toml"}, // the ONNX backend joins models.dir
		{"models.sam_encoder", cfg.Models.SAMEncoder, "/opt/models/enc.toml"},
		{"mqtt.password_file", cfg.MQTT.PasswordFile, filepath.Join(etc, "secrets", "pw")},
		{"mqtt.tls.ca_file", cfg.MQTT.TLS.CAFile, filepath.Join(etc, "tls", "ca.pem")},
		{"daemon.state_dir", cfg.Daemon.StateDir, filepath.Join(etc, "state")},
		{"camera[0].folder", cfg.Cameras[0].Folder, filepath.Join(dir, "replay")},
		{"camera[0].bank", cfg.Cameras[0].Bank, filepath.Join(etc, "banks", "a.bank")},
		{"camera[1].url", cfg.Cameras[1].URL, "rtsp://cam/stream"},
		{"camera[1].bank", cfg.Cameras[1].Bank, "/var/lib/samlad/b.bank"},
		// Defaults not written in the file keep their value.
		{"runtime.library", cfg.Runtime.Library, DefaultRuntime().Library},
		{"archive.dir", cfg.Archive.Dir, DefaultArchive().Dir},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if err == nil || !strings.Contains(err.Error(), "nope.toml") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v", err)
	}
}

func TestOversizedFileRefused(t *testing.T) {
	big := strings.Repeat("# padding\n", maxFileSize/10+1)
	errs := parseErrs(t, big)
	if !strings.Contains(errs[0].Msg, "at most") {
		t.Errorf("got %v", errs)
	}
}

func TestCheckSecretFilePerms(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open")
	closed := filepath.Join(dir, "closed")
	for p, mode := range map[string]os.FileMode{open: 0o644, closed: 0o640} {
		if err := os.WriteFile(p, []byte("secret"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // umask may have cut bits
			t.Fatal(err)
		}
	}
	if w := CheckSecretFilePerms(open); !strings.Contains(w, open) || !strings.Contains(w, "0644") {
		t.Errorf("world-readable file: got %q", w)
	}
	if w := CheckSecretFilePerms(closed); w != "" {
		t.Errorf("0640 file: got %q, want no warning", w)
	}
	if w := CheckSecretFilePerms(filepath.Join(dir, "missing")); w != "" {
		t.Errorf("missing file: got %q, want no warning", w)
	}
	cfg := Default()
	cfg.MQTT.PasswordFile, cfg.MQTT.TLS.KeyFile = open, closed
	if got := cfg.SecretFiles(); !reflect.DeepEqual(got, []string{open, closed}) {
		t.Errorf("SecretFiles = %v", got)
	}
}
