// Command samlad is the SAM-LAD inline inspection appliance: a daemon that
// inspects triggered camera frames and publishes verdicts over MQTT, plus the
// tools to enrol good parts, inspect files and measure the station's speed.
// Evaluation on data sets and the zoo's data generator are in the lab
// binary, cmd/samlab, so that the appliance links no plotting, fonts or
// MNIST data (TestApplianceDeps).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/samlad/samlad/cmd/internal/cli"
)

var commands = map[string]cli.Command{
	"collect": {Summary: "save good frames from the station's camera for enrolment: samlad collect --config F --out DIR [--count N]", Run: runCollect},
	"config":  {Summary: "check a config file: samlad config check FILE", Run: runConfig},
	"enroll":  {Summary: "build a bank from good images: samlad enroll --config F --good DIR --out F.bank", Run: runEnroll},
	"inspect": {Summary: "inspect image files: samlad inspect --bank F.bank IMAGES... [--heatmaps DIR]", Run: runInspect},
	"version": {Summary: "print the version and the backends", Run: runVersion},
	"watch":   {Summary: "monitor verdicts live: samlad watch --broker URL [--prefix P]", Run: runWatch},
	"run":     {Summary: "run the inspection daemon: samlad run --config FILE", Run: runRun},
	"bench":   {Summary: "measure per-stage latency and FPS: samlad bench [--size 224,448] [--upsample 1,2,4,8] [--cameras N]", Run: runBench},
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
	return cmd.Run(args[1:])
}

func usage() { cli.Usage(os.Stderr, "samlad", commands) }

// parseFlags is cli.ParseFlags.
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) { return cli.ParseFlags(fs, args) }
