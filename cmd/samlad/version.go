package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"gocv.io/x/gocv"

	"github.com/samlad/samlad/cmd/samlad/internal/ortprobe"
	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer/backends"
)

// version, buildTime and commit are set at build time with -ldflags
// "-X main.version=... -X main.buildTime=... -X main.commit=..." (make build
// sets the last two). commit stands in when the toolchain stamped no
// vcs.revision: Go stamps a .git folder, not a linked worktree.
var (
	version   = "dev"
	buildTime = ""
	commit    = ""
)

func runVersion(args []string) int { return runVersionTo(args, os.Stdout, os.Stderr) }

func runVersionTo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	models := fs.Bool("models", false, "also open the configured backend and list its models and the execution provider each runs on")
	cfgPath := fs.String("config", "", "config file (default: built-in defaults)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "samlad version: %v\n", err)
		return 1
	}
	writeVersionHeader(stdout, cfg)
	if !*models {
		return 0
	}
	be, err := backends.Open(cfg.Runtime, cfg.Models, cfg.Pipeline)
	if err != nil {
		fmt.Fprintf(stderr, "samlad version: backend %s: %v\n", cfg.Pipeline.Backend, err)
		return 1
	}
	defer be.Close()
	fmt.Fprintf(stdout, "backend: %s\nfingerprint: %s\n", be.Provider, be.Fingerprint)
	for _, m := range be.Models() {
		fmt.Fprintln(stdout, "  "+m)
	}
	return 0
}

// buildStamp is what the Go toolchain recorded about the build.
type buildStamp struct {
	revision, time string
	modified       bool
	goVersion      string
	gocv           string // the gocv module version linked
}

func readBuildStamp() buildStamp {
	s := buildStamp{goVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return s
	}
	s.goVersion = bi.GoVersion
	for _, d := range bi.Deps {
		if d.Path == "gocv.io/x/gocv" {
			s.gocv = d.Version
		}
	}
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			s.revision = kv.Value
		case "vcs.time":
			s.time = kv.Value
		case "vcs.modified":
			s.modified = kv.Value == "true"
		}
	}
	return s
}

// writeVersionHeader prints what a support ticket needs: samlad's commit
// and build, Go, OpenCV, ONNX Runtime (without needing it: the built-in
// backend runs without the library) and the configured backend.
func writeVersionHeader(w io.Writer, cfg config.Config) {
	b := readBuildStamp()
	fmt.Fprintf(w, "samlad %s\n", version)
	if b.revision == "" && commit != "" {
		b.revision = commit + " (from make; no VCS stamp)"
	}
	switch {
	case b.revision == "":
		fmt.Fprintln(w, "commit:      unknown (built without VCS stamping: outside a git checkout or with -buildvcs=false)")
	case b.modified:
		fmt.Fprintf(w, "commit:      %s (modified: built with uncommitted changes)\n", b.revision)
	default:
		fmt.Fprintf(w, "commit:      %s\n", b.revision)
	}
	if b.time != "" {
		fmt.Fprintf(w, "commit time: %s\n", b.time)
	}
	if buildTime != "" {
		fmt.Fprintf(w, "built:       %s\n", buildTime)
	} else {
		fmt.Fprintln(w, "built:       unknown (make build stamps it)")
	}
	fmt.Fprintf(w, "go:          %s %s/%s\n", b.goVersion, runtime.GOOS, runtime.GOARCH)
	// gocv.Version() of v0.32.0 still says 0.31.0; the module version is right.
	if b.gocv == "" {
		b.gocv = "v" + gocv.Version()
	}
	fmt.Fprintf(w, "opencv:      %s (gocv %s)\n", gocv.OpenCVVersion(), b.gocv)
	if info, err := ortprobe.Probe(cfg.Runtime.Library); err != nil {
		fmt.Fprintf(w, "onnxruntime: not loaded: %s: %v\n", cfg.Runtime.Library, err)
	} else {
		fmt.Fprintf(w, "onnxruntime: %s (%s); execution providers compiled in: %s\n", info.Version, cfg.Runtime.Library, strings.Join(info.Providers, ", "))
	}
	fmt.Fprintf(w, "backend:     %s\n", backendSummary(cfg))
}

// backendSummary names the configured backend and its models.
func backendSummary(cfg config.Config) string {
	if cfg.Pipeline.Backend != "onnx" {
		return cfg.Pipeline.Backend + " (features, segmentation and upsampling in Go; no model files)"
	}
	m := cfg.Models
	var parts []string
	for _, s := range []struct{ key, val string }{
		{"features", m.Features}, {"upsampler", m.Upsampler}, {"sam_encoder", m.SAMEncoder}, {"sam_decoder", m.SAMDecoder},
	} {
		if s.val != "" {
			parts = append(parts, s.key+"="+s.val)
		}
	}
	return fmt.Sprintf("onnx, models in %s: %s; providers %s (`samlad version --models` shows the one each model runs on)",
		m.Dir, strings.Join(parts, ", "), strings.Join(cfg.Runtime.Providers, " > "))
}
