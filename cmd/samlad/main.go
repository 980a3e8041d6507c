// Command samlad is the SAM-LAD inline inspection appliance: a daemon that
// inspects triggered camera frames and publishes verdicts over MQTT, plus the
// tools to enrol good parts, inspect files and evaluate on data sets.
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
	"scenes":  {"write a generated data set of the product zoo (samlad scenes --list) in MVTec AD or LOCO layout", runScenes},
	"eval":    {"evaluate on a data set: samlad eval loco|mvtec|digitanatomy|scenes", runEval},
	"bench":   {"measure per-stage latency and FPS: samlad bench [--size 224,448] [--upsample 1,2,4,8] [--cameras N]", runBench},
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		os.Exit(2)
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "samlad: unknown command %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	os.Exit(cmd.run(os.Args[2:]))
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
