package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/samlad/samlad/eval/scenes"
)

// runScenes writes a generated data set (eval/scenes) in the MVTec AD or
// MVTec LOCO AD layout, for demos, tests and evaluation.
func runScenes(args []string) int {
	fs := flag.NewFlagSet("scenes", flag.ContinueOnError)
	kind := fs.String("kind", "bag", "scene kind (samlab scenes --list)")
	list := fs.Bool("list", false, "list the kinds with their rules, anomaly types and protocol side, then exit")
	samples := fs.String("samples", "", "write one sample sheet per kind (good, a logical and a structural anomaly; below: the good image's part masks and the anomalies' ground truth) to DIR, then exit")
	out := fs.String("out", "", "output directory (must be new or empty)")
	layout := fs.String("layout", "mvtec", "directory layout: mvtec | loco")
	good := fs.Int("good", 20, "good training images")
	val := fs.Int("validation", 0, "good validation images (loco layout)")
	test := fs.Int("test", 5, "test images per anomaly type")
	testGood := fs.Int("test-good", -1, "good test images (default: same as --test)")
	size := fs.Int("size", 256, "image side in pixels")
	seed := fs.Int64("seed", 1, "random seed; the same seed writes the same bytes")
	types := fs.String("anomalies", "", "comma-separated anomaly types (default: all of the kind)")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: samlab scenes --kind KIND --out DIR [flags]\n       samlab scenes --list\n       samlab scenes --samples DIR [--seed N] [--size PX]")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *list {
		listKinds(os.Stdout)
		return 0
	}
	if *samples != "" {
		files, err := scenes.WriteSamples(*samples, *seed, *size)
		if err != nil {
			fmt.Fprintf(os.Stderr, "samlab scenes: %v\n", err)
			return 1
		}
		slog.Info("sample sheets written", "dir", *samples, "files", len(files))
		return 0
	}
	if *out == "" {
		fmt.Fprintln(os.Stderr, "samlab scenes: --out DIR is required")
		return 2
	}
	if *good < 0 || *val < 0 || *test < 0 {
		fmt.Fprintln(os.Stderr, "samlab scenes: image counts must not be negative")
		return 2
	}
	if *testGood < 0 {
		*testGood = *test
	}
	var anomalies []scenes.Anomaly
	if *types != "" {
		for _, a := range strings.Split(*types, ",") {
			anomalies = append(anomalies, scenes.Anomaly(strings.TrimSpace(a)))
		}
	}
	t, err := scenes.WriteSplit(*out, scenes.SplitOptions{
		Kind: scenes.Kind(*kind), Layout: scenes.Layout(*layout), Size: *size, Seed: *seed,
		TrainGood: *good, ValidationGood: *val, TestGood: *testGood, TestPerType: *test,
		Anomalies: anomalies,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "samlab scenes: %v\n", err)
		return 1
	}
	slog.Info("scenes written", "dir", *out, "kind", *kind, "layout", *layout, "images", len(t.Images))
	return 0
}

// listKinds writes each kind with its protocol side, rule and anomaly types.
func listKinds(w io.Writer) {
	side := map[scenes.Kind]string{}
	for _, k := range scenes.TuningKinds() {
		side[k] = string(scenes.TuningSplit)
	}
	for _, k := range scenes.ReportingKinds() {
		side[k] = string(scenes.ReportingSplit)
	}
	for _, k := range scenes.AllKinds() {
		var lg, st []string
		for _, a := range scenes.Anomalies(k) {
			if a.Logical() {
				lg = append(lg, string(a))
			} else {
				st = append(st, string(a))
			}
		}
		fmt.Fprintf(w, "%-20s %-9s %s\n%22s logical: %s; structural: %s\n", k, side[k], scenes.Rule(k), "", strings.Join(lg, ", "), strings.Join(st, ", "))
	}
	fmt.Fprintf(w, "tuning seeds %v, reporting seeds %v (eval/scenes: TuningKinds, ReportingKinds)\n", scenes.TuningSeeds, scenes.ReportingSeeds)
}
