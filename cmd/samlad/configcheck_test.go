package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/samlad/samlad/config"
)

func writeConfig(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "line1.toml")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// exampleWithFiles copies samlad.example.toml into a fresh folder together
// with the files and folders it names, so that config check finds them.
func exampleWithFiles(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../../samlad.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "replay", "line1"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"banks/line1.bank", "tls/ca.pem", "tls/samlad-line1.pem", "tls/samlad-line1.key"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, "samlad.toml")
	if err := os.WriteFile(p, src, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigCheckPrintsEffectiveConfig(t *testing.T) {
	var out, errOut bytes.Buffer
	if rc := runConfigCheck([]string{exampleWithFiles(t)}, &out, &errOut); rc != 0 {
		t.Fatalf("exit %d: %s", rc, errOut.String())
	}
	// The printed config is itself valid and has the defaults filled in.
	cfg, err := config.Parse(out.Bytes(), "printed.toml")
	if err != nil {
		t.Fatalf("printed config does not parse: %v\n%s", err, out.String())
	}
	if cfg.Pipeline.SinkhornIters != config.DefaultPipeline().SinkhornIters || !strings.Contains(out.String(), "[[camera]]") {
		t.Errorf("printed config misses defaults or cameras:\n%s", out.String())
	}

	out.Reset()
	if rc := runConfigCheck([]string{"-q", writeConfig(t, "[pipeline]\nk = 3\n")}, &out, &errOut); rc != 0 || out.Len() != 0 {
		t.Errorf("-q: exit %d, printed %q", rc, out.String())
	}
}

func TestConfigCheckListsEveryError(t *testing.T) {
	p := writeConfig(t, "[pipeline]\nupsample = 3\nk = \"two\"\n\n[mqtt]\npassword = \"x\"\n")
	var out, errOut bytes.Buffer
	if rc := runConfigCheck([]string{p}, &out, &errOut); rc != 1 {
		t.Fatalf("exit %d, want 1", rc)
	}
	if out.Len() != 0 {
		t.Errorf("printed a config for a broken file: %s", out.String())
	}
	for _, want := range []string{
		p + ":2: pipeline.upsample = 3: must be one of 1, 2, 4, 8",
		p + ":3: pipeline.k = \"two\": wrong type",
		p + ":6: mqtt.password: a password is not accepted",
		p + ": 3 error(s)",
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
}

func TestConfigCheckWarns(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(pw, 0o644); err != nil {
		t.Fatal(err)
	}
	p := writeConfig(t, "[daemon]\nfail_safe = \"pass\"\n[mqtt]\nbroker = \"ssl://b:8883\"\nusername = \"u\"\npassword_file = \""+pw+"\"\n[mqtt.tls]\nenabled = true\n")
	var out, errOut bytes.Buffer
	if rc := runConfigCheck([]string{p}, &out, &errOut); rc != 0 {
		t.Fatalf("exit %d: %s", rc, errOut.String())
	}
	for _, want := range []string{"warning: daemon.fail_safe = \"pass\"", "warning: " + pw + " is readable by every user"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
}

func TestConfigCheckUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if rc := runConfigCheck(nil, &out, &errOut); rc != 2 {
		t.Errorf("no file: exit %d, want 2", rc)
	}
	if rc := runConfigCheck([]string{filepath.Join(t.TempDir(), "missing.toml")}, &out, &errOut); rc != 1 ||
		!strings.Contains(errOut.String(), "missing.toml") {
		t.Errorf("missing file: exit %d, stderr %q", rc, errOut.String())
	}
	if rc := runConfig([]string{"lint"}); rc != 2 {
		t.Errorf("unknown subcommand: exit %d, want 2", rc)
	}
}

// A config whose bank, camera folder, CA file and password file are missing
// passes Load but fails config check, with one error per missing file naming
// its key and line.
func TestConfigCheckMissingFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "samlad.toml")
	src := `[[camera]]
name = "line1"
source = "folder"
folder = "replay/line1"
bank = "banks/line1.bank"

[mqtt]
broker = "ssl://broker:8883"
username = "u"
password_file = "secrets/mqtt.pw"
[mqtt.tls]
enabled = true
ca_file = "tls/ca.pem"
`
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(p); err != nil {
		t.Fatalf("Load refuses the file itself: %v", err)
	}
	var out, errOut bytes.Buffer
	if rc := runConfigCheck([]string{p}, &out, &errOut); rc != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", rc, errOut.String())
	}
	if out.Len() != 0 {
		t.Errorf("printed a config with missing files:\n%s", out.String())
	}
	for _, want := range []string{
		p + ":4: camera[0].folder = \"" + filepath.Join(dir, "replay", "line1") + "\": does not exist; create it",
		p + ":5: camera[0].bank = \"" + filepath.Join(dir, "banks", "line1.bank") + "\": does not exist; make it with `samlad enroll",
		p + ":10: mqtt.password_file = ",
		p + ":13: mqtt.tls.ca_file = ",
		p + ": 4 error(s)",
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}

	// Once the bank is there (and the rest), the check passes; a bank that
	// is a folder is refused as such.
	for _, d := range []string{"replay/line1", "tls", "secrets", "banks/line1.bank"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"tls/ca.pem", "secrets/mqtt.pw"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	errOut.Reset()
	if rc := runConfigCheck([]string{"-q", p}, &out, &errOut); rc != 1 || !strings.Contains(errOut.String(), ":5: camera[0].bank = ") ||
		!strings.Contains(errOut.String(), "is a folder, not a file") || !strings.Contains(errOut.String(), "1 error(s)") {
		t.Errorf("bank is a folder: exit %d, stderr:\n%s", rc, errOut.String())
	}
	if err := os.Remove(filepath.Join(dir, "banks/line1.bank")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "banks/line1.bank"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if rc := runConfigCheck([]string{"-q", p}, &out, &errOut); rc != 0 {
		t.Errorf("every file present: exit %d, stderr:\n%s", rc, errOut.String())
	}
}

// A V4L2 camera names its device by path or index; a missing node is
// reported with the node it looked for.
func TestConfigCheckMissingDevice(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "b.bank"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "samlad.toml")
	src := "[[camera]]\nname = \"cam\"\nsource = \"v4l2\"\ndevice = \"" + filepath.Join(dir, "video9") + "\"\nbank = \"b.bank\"\n"
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if rc := runConfigCheck([]string{"-q", p}, &out, &errOut); rc != 1 || !strings.Contains(errOut.String(), p+":4: camera[0].device = ") ||
		!strings.Contains(errOut.String(), "does not exist; plug the camera in") {
		t.Errorf("missing device: exit %d, stderr:\n%s", rc, errOut.String())
	}
	// A regular file is not a device node.
	if err := os.WriteFile(filepath.Join(dir, "video9"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if rc := runConfigCheck([]string{"-q", p}, &out, &errOut); rc != 1 || !strings.Contains(errOut.String(), "is not a device node") {
		t.Errorf("file as device: exit %d, stderr:\n%s", rc, errOut.String())
	}
}
