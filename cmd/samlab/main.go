// Command samlab is samlad's lab: evaluation on data sets (MVTec LOCO AD,
// MVTec AD, DigitAnatomy, the generated product zoo) with reports and
// plots, parameter sweeps, and the zoo's data generator. It is kept out of
// the appliance binary (cmd/samlad), which links no plotting, fonts or
// MNIST data.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/samlad/samlad/cmd/internal/cli"
)

// version and commit are set at build time with -ldflags "-X main.version=...
// -X main.commit=..." (make build sets commit); commit stands in when the
// toolchain stamped no vcs.revision (a linked git worktree).
var (
	version = "dev"
	commit  = ""
)

var commands = map[string]cli.Command{
	"eval":   {Summary: "evaluate on a data set: samlab eval loco|mvtec|digitanatomy|scenes|parts [--sweep key=v1,v2]", Run: runEval},
	"scenes": {Summary: "write a generated data set of the product zoo (samlab scenes --list) in MVTec AD or LOCO layout", Run: runScenes},
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
	os.Exit(cmd.Run(os.Args[2:]))
}

func usage() { cli.Usage(os.Stderr, "samlab", commands) }

// parseFlags is cli.ParseFlags.
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) { return cli.ParseFlags(fs, args) }

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
