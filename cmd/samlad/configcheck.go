package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/BurntSushi/toml"

	"github.com/samlad/samlad/config"
)

// runConfig dispatches `samlad config <subcommand>`; only "check" exists.
func runConfig(args []string) int {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(os.Stderr, "usage: samlad config check FILE")
		return 2
	}
	return runConfigCheck(args[1:], os.Stdout, os.Stderr)
}

// runConfigCheck validates a config file and checks that every file and
// device it names exists. It prints the effective config as TOML (defaults
// filled in, relative paths resolved) and any warnings, or every error with
// its file and line and exits 1.
func runConfigCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	quiet := fs.Bool("q", false, "print nothing when the file is valid")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: samlad config check [-q] FILE")
		fs.PrintDefaults()
	}
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	path := fs.Arg(0)
	cfg, err := config.CheckFiles(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		var errs config.Errors
		if errors.As(err, &errs) {
			fmt.Fprintf(stderr, "%s: %d error(s)\n", path, len(errs))
		}
		return 1
	}
	for _, w := range config.Warnings(cfg) {
		fmt.Fprintf(stderr, "%s: warning: %s\n", path, w)
	}
	// The file itself cannot hold a password (Load refuses one), so only the
	// secret files it names are checked.
	for _, p := range cfg.SecretFiles() {
		if w := config.CheckSecretFilePerms(p); w != "" {
			fmt.Fprintf(stderr, "warning: %s\n", w)
		}
	}
	if *quiet {
		return 0
	}
	fmt.Fprintf(stdout, "# effective configuration of %s\n", path)
	if err := toml.NewEncoder(stdout).Encode(cfg); err != nil {
		fmt.Fprintf(stderr, "print config: %v\n", err)
		return 1
	}
	return 0
}
