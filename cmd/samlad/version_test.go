package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Built from a git checkout with VCS stamping on (the default; asked for
// explicitly because GOFLAGS may turn it off), the binary names the
// checkout's commit, and reports Go, OpenCV, ONNX Runtime (or why it is not
// loaded) and the backend without loading any model. The checkout is a copy
// of this working tree committed to a fresh repository: Go stamps only a
// .git folder, not a linked worktree's .git file.
func TestVersionShowsCommit(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed")
	}
	files, err := exec.Command(git, "-C", "../..", "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	repo := t.TempDir()
	for _, f := range strings.Split(strings.TrimRight(string(files), "\x00"), "\x00") {
		data, err := os.ReadFile(filepath.Join("../..", f))
		if err != nil {
			continue // deleted in the working tree
		}
		dst := filepath.Join(repo, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitIn := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(git, append([]string{"-c", "user.name=test", "-c", "user.email=test@example.invalid", "-C", repo}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	gitIn("init", "-q")
	gitIn("add", "-A")
	gitIn("commit", "-q", "-m", "version test")
	head := gitIn("rev-parse", "HEAD")

	bin := filepath.Join(t.TempDir(), "samlad")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/samlad")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// An empty config folder: no ORT library at the default relative path.
	cmd := exec.Command(bin, "version")
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("samlad version: %v\n%s", err, out)
	}
	s := string(out)
	if !regexp.MustCompile(`(?m)^commit:      ` + head + `$`).MatchString(s) {
		t.Errorf("version does not name HEAD %s:\n%s", head, s)
	}
	for _, re := range []string{
		`(?m)^commit time: \d{4}-\d\d-\d\dT`,
		`(?m)^go:          go1\.\d+`,
		`(?m)^opencv:      \d+\.\d+\.\d+ \(gocv v\d+\.\d+\.\d+\)$`,
		`(?m)^onnxruntime: not loaded: third_party/onnxruntime/libonnxruntime.so: .*no such file`,
		`(?m)^backend:     builtin `,
	} {
		if !regexp.MustCompile(re).MatchString(s) {
			t.Errorf("output does not match %s:\n%s", re, s)
		}
	}
}

// With the library present, its version and providers are listed.
func TestVersionHeaderONNXRuntime(t *testing.T) {
	lib := os.Getenv("SAMLAD_ORT_LIB")
	if lib == "" {
		lib, _ = filepath.Abs("../../third_party/onnxruntime/libonnxruntime.so")
	}
	if _, err := os.Stat(lib); err != nil {
		t.Skipf("ONNX Runtime library not found (%v); run make deps", err)
	}
	cfg := writeConfig(t, "[runtime]\nlibrary = \""+lib+"\"\n")
	var out, errOut bytes.Buffer
	if rc := runVersionTo([]string{"--config", cfg}, &out, &errOut); rc != 0 {
		t.Fatalf("exit %d: %s", rc, errOut.String())
	}
	if !regexp.MustCompile(`(?m)^onnxruntime: \d+\.\d+\.\d+ \(.*\); execution providers compiled in: .*CPUExecutionProvider`).MatchString(out.String()) {
		t.Errorf("no ONNX Runtime line:\n%s", out.String())
	}
}

func TestVersionModelsBuiltin(t *testing.T) {
	var out, errOut bytes.Buffer
	if rc := runVersionTo([]string{"--models"}, &out, &errOut); rc != 0 {
		t.Fatalf("exit %d: %s", rc, errOut.String())
	}
	if !strings.Contains(out.String(), "backend: builtin") {
		t.Errorf("want the built-in backend named, got:\n%s", out.String())
	}
}

// With the fixture models and a provider list that asks for CUDA first, the
// CPU-only ONNX Runtime falls back and every model reports cpu.
func TestVersionModelsONNXShowsProviderInUse(t *testing.T) {
	lib := os.Getenv("SAMLAD_ORT_LIB")
	if lib == "" {
		lib, _ = filepath.Abs("../../third_party/onnxruntime/libonnxruntime.so")
	}
	if _, err := os.Stat(lib); err != nil {
		t.Skipf("ONNX Runtime library not found (%v); run make deps", err)
	}
	models, _ := filepath.Abs("../../models/testdata")
	cfg := writeConfig(t, `[pipeline]
backend = "onnx"
[models]
dir = "`+models+`"
features = "features.toml"
upsampler = "upsampler.toml"
sam_encoder = "sam_encoder.toml"
sam_decoder = "sam_decoder.toml"
[runtime]
library = "`+lib+`"
providers = ["cuda", "cpu"]
`)
	var out, errOut bytes.Buffer
	if rc := runVersionTo([]string{"--models", "--config", cfg}, &out, &errOut); rc != 0 {
		t.Fatalf("exit %d: %s", rc, errOut.String())
	}
	for _, want := range []string{"features.onnx=cpu", "sam_encoder: sam_encoder.onnx sha256:", "provider=cpu"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "=cuda") {
		t.Errorf("a model claims the CUDA provider on a CPU-only runtime:\n%s", out.String())
	}
}
