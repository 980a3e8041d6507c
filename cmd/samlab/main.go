// Command samlab is samlad's lab: evaluation on data sets (MVTec LOCO AD,
// MVTec AD, DigitAnatomy, the generated product zoo) with reports and
// plots, parameter sweeps, and the zoo's data generator. It is kept out of
// the appliance binary (cmd/samlad), which links no plotting, fonts or
// MNIST data.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"sort"
)

// version and commit are set at build time with -ldflags "-X main.version=...
// -X main.commit=..." (make build sets commit); commit stands in when the
// toolchain stamped no vcs.revision (a linked git worktree).
var (
	version = "dev"
	commit  = ""
)

// command is one samlab subcommand. run returns the process exit code.
type command struct {
	summary string
	run     func(args []string) int
}

var commands = map[string]command{
	"eval":   {"evaluate on a data set: samlab eval loco|mvtec|digitanatomy|scenes|parts [--sweep key=v1,v2]", runEval},
	"scenes": {"write a generated data set of the product zoo (samlab scenes --list) in MVTec AD or LOCO layout", runScenes},
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		os.Exit(2)
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "samlab: unknown command %q (the appliance's commands run, enroll, inspect, bench, config, version and watch are in samlad)\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	os.Exit(cmd.run(os.Args[2:]))
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: samlab <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
}

// parseFlags parses a subcommand's flags and maps -h to exit code 0.
// It returns false (with the exit code) when the command should stop.
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	fs.SetOutput(os.Stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}

// buildName is the binary's version and VCS revision, for reports.
func buildName() string {
	s := "samlab " + version
	rev, modified := commit, false
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, kv := range bi.Settings {
			switch {
			case kv.Key == "vcs.revision" && kv.Value != "":
				rev = kv.Value
			case kv.Key == "vcs.modified" && kv.Value == "true":
				modified = true
			}
		}
	}
	if len(rev) >= 12 {
		s += " " + rev[:12]
	}
	if modified {
		s += " (modified)"
	}
	return s
}
