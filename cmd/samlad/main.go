// Command samlad is the SAM-LAD inline inspection appliance: a daemon that
// inspects triggered camera frames and publishes verdicts over MQTT, plus the
// tools to enrol good parts, inspect files and measure the station's speed.
// Evaluation on data sets and the zoo's data generator are in the lab
// binary, cmd/samlab, so that the appliance links no plotting, fonts or
// MNIST data (TestApplianceDeps).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
)

// command is one samlad subcommand. run returns the process exit code.
type command struct {
	summary string
	run     func(args []string) int
}

var commands = map[string]command{
	"collect": {"save good frames from the station's camera for enrolment: samlad collect --config F --out DIR [--count N]", runCollect},
	"config":  {"check a config file: samlad config check FILE", runConfig},
	"enroll":  {"build a bank from good images: samlad enroll --config F --good DIR --out F.bank", runEnroll},
	"inspect": {"inspect image files: samlad inspect --bank F.bank IMAGES... [--heatmaps DIR]", runInspect},
	"version": {"print the version and the backends", runVersion},
	"watch":   {"monitor verdicts live: samlad watch --broker URL [--prefix P]", runWatch},
	"run":     {"run the inspection daemon: samlad run --config FILE", runRun},
	"bench":   {"measure per-stage latency and FPS: samlad bench [--size 224,448] [--upsample 1,2,4,8] [--cameras N]", runBench},
}

// labCommands are the subcommands that moved to samlab; samlad names it.
var labCommands = map[string]bool{"eval": true, "scenes": true}

func main() { os.Exit(dispatch(os.Args[1:])) }

// dispatch runs the subcommand args name and returns the exit code.
func dispatch(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		return 2
	}
	cmd, ok := commands[args[0]]
	if !ok && labCommands[args[0]] {
		fmt.Fprintf(os.Stderr, "samlad: %[1]s is in the lab binary: run samlab %[1]s (make build builds bin/samlab)\n", args[0])
		return 2
	}
	if !ok {
		fmt.Fprintf(os.Stderr, "samlad: unknown command %q\n\n", args[0])
		usage()
		return 2
	}
	return cmd.run(args[1:])
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: samlad <command> [flags]\n\ncommands:")
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
