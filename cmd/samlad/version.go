package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/samlad/samlad/infer/backends"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func runVersion(args []string) int { return runVersionTo(args, os.Stdout, os.Stderr) }

func runVersionTo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	models := fs.Bool("models", false, "open the configured backend and list its models and execution providers")
	cfgPath := fs.String("config", "", "config file (default: built-in defaults)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	rev := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " (" + s.Value[:12] + ")"
			}
		}
	}
	fmt.Fprintf(stdout, "samlad %s%s\n", version, rev)
	if !*models {
		return 0
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "samlad version: %v\n", err)
		return 1
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
