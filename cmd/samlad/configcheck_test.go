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

func TestConfigCheckPrintsEffectiveConfig(t *testing.T) {
	var out, errOut bytes.Buffer
	if rc := runConfigCheck([]string{"../../samlad.example.toml"}, &out, &errOut); rc != 0 {
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
