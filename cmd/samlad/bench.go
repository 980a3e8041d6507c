package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/samlad/samlad/eval/bench"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/backends"
)

// runBench measures per-stage latency and FPS (eval/bench) for each
// combination of --size and --upsample, and prints a Markdown report or JSON.
func runBench(args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file (TOML): backend, models, runtime; default: built-in defaults")
	bankPath := fs.String("bank", "", "bank to inspect against (default: enrol generated scenes first)")
	sizes := fs.String("size", "", "input sizes, comma-separated, e.g. 224,448 (default: the config's)")
	ups := fs.String("upsample", "", "upsampling factors, comma-separated, e.g. 1,2,4,8 (default: the config's)")
	k := fs.Int("k", 0, "references per query (default: the config's)")
	cameras := fs.Int("cameras", 1, "also measure this many cameras inspecting in parallel")
	frames := fs.Int("frames", 50, "measured frames per camera")
	warmup := fs.Int("warmup", 3, "unmeasured frames first")
	good := fs.Int("good", 10, "generated good scenes to enrol (without --bank)")
	kind := fs.String("scene", "bag", "generated scene kind: bag | box")
	imgDir := fs.String("images", "", "folder of query images (default: generated scenes)")
	asJSON := fs.Bool("json", false, "print JSON instead of Markdown")
	jsonOut := fs.String("json-out", "", "also write the JSON report to this file")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: samlad bench [--config F] [--bank F] [--size 224,448] [--upsample 1,2,4,8] [--k N] [--cameras N] [--json]")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "samlad bench: %v\n", err)
		return 1
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "samlad bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *frames < 1 || *cameras < 1 || *warmup < 0 || *good < 0 || *k < 0 {
		fmt.Fprintln(os.Stderr, "samlad bench: --frames and --cameras must be at least 1; --warmup, --good and --k not negative")
		return 2
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return fail(err)
	}
	var bank *infer.Bank
	if *bankPath != "" {
		if bank, err = infer.LoadBank(*bankPath); err != nil {
			return fail(err)
		}
		if *cfgPath == "" {
			cfg.Pipeline = bank.Pipeline(cfg.Pipeline)
		}
	}
	if *k > 0 {
		cfg.Pipeline.K = *k
	}
	sizeList, err := intList("--size", *sizes, cfg.Pipeline.InputSize)
	if err != nil {
		return fail(err)
	}
	upList, err := intList("--upsample", *ups, cfg.Pipeline.Upsample)
	if err != nil {
		return fail(err)
	}
	if bank != nil && (len(sizeList) > 1 || len(upList) > 1) {
		return fail(fmt.Errorf("a bank holds one input size and upsampling; give one --size and --upsample (or none) with --bank"))
	}
	// The same header as `samlad version`: a report says what it ran on.
	if *asJSON {
		writeVersionHeader(os.Stderr, cfg)
	} else {
		var hdr strings.Builder
		writeVersionHeader(&hdr, cfg)
		fmt.Fprintf(os.Stdout, "```\n%s```\n\n", hdr.String())
	}
	var query []*infer.Image
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var reps []*bench.Report
	for _, size := range sizeList {
		if *imgDir != "" {
			if query, err = readImages(*imgDir, size); err != nil {
				return fail(err)
			}
		}
		for _, up := range upList {
			c := cfg
			c.Pipeline.InputSize, c.Pipeline.Upsample = size, up
			be, err := backends.Open(c.Runtime, c.Models, c.Pipeline)
			if err != nil {
				return fail(err)
			}
			fmt.Fprintf(os.Stderr, "bench: %d px, x%d, k = %d on %s...\n", size, up, c.Pipeline.K, be.Provider)
			rep, err := bench.Run(ctx, bench.Options{Pipeline: c.Pipeline, Backend: be.Backend, BackendLabel: be.Provider,
				Bank: bank, Scene: scenes.Kind(*kind), Good: *good, Frames: query, Queries: 14,
				Iterations: *frames, Warmup: *warmup, Cameras: *cameras})
			be.Close()
			if err != nil {
				return fail(err)
			}
			reps = append(reps, rep)
		}
	}
	if *jsonOut != "" {
		data, err := json.MarshalIndent(reps, "", "  ")
		if err == nil {
			err = os.WriteFile(*jsonOut, append(data, '\n'), 0o644)
		}
		if err != nil {
			return fail(fmt.Errorf("--json-out: %w", err))
		}
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(reps); err != nil {
			return fail(err)
		}
		return 0
	}
	bench.WriteText(os.Stdout, reps)
	return 0
}

// intList parses "224,448"; empty gives def.
func intList(flagName, s string, def int) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return []int{def}, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%s %q: want positive integers separated by commas", flagName, s)
		}
		out = append(out, v)
	}
	return out, nil
}

// readImages decodes every image of a folder at the input size.
func readImages(dir string, size int) ([]*infer.Image, error) {
	paths, err := imagesIn(dir)
	if err != nil {
		return nil, err
	}
	rd := newImageReader(size)
	var out []*infer.Image
	for _, p := range paths {
		if img, _, err := rd.read(p); err == nil {
			out = append(out, img)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--images %s: no readable images", dir)
	}
	return out, nil
}
