package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/datasets"
	"github.com/samlad/samlad/eval/digitanatomy"
	"github.com/samlad/samlad/eval/report"
	"github.com/samlad/samlad/eval/runner"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/backends"
	"github.com/samlad/samlad/infer/onnx"
)

const evalUsage = `usage:
  samlab eval loco  --root DIR [flags]    MVTec LOCO AD layout (every category under DIR)
  samlab eval mvtec --root DIR [flags]    MVTec AD layout
  samlab eval digitanatomy [--seeds 101,202,303] [--data DIR] [flags]
  samlab eval scenes [--split tuning|reporting | --kind bag,box] [--data DIR] [flags]
  samlab eval parts  [--split tuning|reporting | --kind pcb] [--train 12] [--data DIR]
                                          the segmenter's part recall on good zoo images
  samlab eval sam    [--config models/sam-cpu.toml] [--seeds 101,202,303] [--train 40] [--test 10]
                     [--test-good 20] [--digit-train 100] [--digit-test 40] [--parts 12]
                     [--variants builtin,builtin+sam,sam+sam] [--out DIR]
                                          three ways side by side (built-in; built-in features + SAM
                                          masks; SAM features + SAM masks) on the zoo's reporting
                                          kinds, the bag and the box, and DigitAnatomy, with the
                                          part recall of both segmenters: sam.md and sam.json
  samlab eval scenes|digitanatomy|loco|mvtec ... --sweep key=v1,v2 [--sweep key2=...]
                                          each value of a pipeline key on every data set: sweep.md, not the reports

flags:`

// paperDigitAnatomy are the image AUROCs the SAM-LAD paper reports on
// DigitAnatomy, quoted (not measured here).
var paperDigitAnatomy = []report.Quoted{
	{Method: "SAM-LAD", Value: 92.3, Source: "the SAM-LAD paper"},
	{Method: "GLCF", Value: 78.6, Source: "the SAM-LAD paper"},
	{Method: "PatchCore", Value: 59.4, Source: "the SAM-LAD paper"},
}

// runEval evaluates the engine on a data set and writes the reports.
func runEval(args []string) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(os.Stderr, evalUsage)
		return 2
	}
	what := args[0]
	fs := flag.NewFlagSet("eval "+what, flag.ContinueOnError)
	root := fs.String("root", "", "data set root: a category folder or a folder of categories (loco, mvtec)")
	cfgPath := fs.String("config", "", "config file whose [pipeline] (and [models], [runtime]) is used; default: built-in defaults (digitanatomy: with its recipe, the layout step)")
	backend := fs.String("backend", "", "builtin | onnx (default: the config's pipeline.backend)")
	models := fs.String("models", "", "directory of exported ONNX models and their manifests; selects the onnx backend")
	out := fs.String("out", "", "report directory (default eval-out/<data set>)")
	maps := fs.String("maps", "", "write anomaly maps as float32 TIFF: DIR/<category>/test/<type>/<name>.tiff")
	baseline := fs.Bool("baseline", true, "run the patch-kNN baseline on the same features")
	coreset := fs.Float64("coreset", 0, "patch-kNN coreset fraction (0 = all patches)")
	examples := fs.Int("examples", 2, "test images per anomaly type in the overlay grid")
	ablate := fs.Bool("ablate", false, "also run the one-key-at-a-time ablation grid (descriptor, upsampling, alignment, k, position weight, light mode, layout step keys)")
	var sweeps sweepFlag
	fs.Var(&sweeps, "sweep", "key=v1,v2,...: instead of the reports, evaluate each value of one pipeline key (by its TOML path, e.g. k, layout.grid) on every data set (scenes: every kind and seed; digitanatomy: every seed), SAM-LAD only, image AUROC, and write sweep.md: a row per value, per data set, their mean and per anomaly type; repeat for more keys (one key at a time, as --ablate)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	seeds := fs.String("seeds", "101,202,303", "digitanatomy/scenes: comma-separated generator seeds, each evaluated (scenes: the first seed's report in --out, the others' in --out/seed-N; --ablate on the first)")
	data := fs.String("data", "", "digitanatomy/scenes: where to write the generated data (default: a temporary folder)")
	train := fs.Int("train", 0, "digitanatomy/scenes: good training images (default 100 digits, 40 scenes)")
	test := fs.Int("test", 0, "digitanatomy/scenes: test images per anomaly type and as many good ones (default 40 digits, 12 scenes; with --split 10 per type)")
	testGood := fs.Int("test-good", 0, "scenes: good test images per kind and seed (default: as many as --test; with --split 20)")
	kinds := fs.String("kind", "bag,box", "scenes: comma-separated kinds (samlab scenes --list)")
	split := fs.String("split", "", "scenes: a side of the protocol (eval/scenes): tuning (the tuning kinds over the tuning seeds) or reporting (the reporting kinds over the reporting seeds, defaults only: --config is refused); --kind and --seeds given with it narrow it")
	size := fs.Int("size", 256, "scenes: image side in pixels")
	digitTrain := fs.Int("digit-train", 0, "sam: DigitAnatomy training images (default 100)")
	digitTest := fs.Int("digit-test", 0, "sam: DigitAnatomy test images per anomaly type (default 40)")
	partsN := fs.Int("parts", 0, "sam: good images per kind and seed for the part recall (default 12)")
	variantList := fs.String("variants", "", "sam: the variants to run, comma-separated (builtin, builtin+sam, sam+sam; default all three)")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, evalUsage)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args[1:]); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "samlab eval: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var grid []runner.Variant
	for _, spec := range sweeps {
		vs, err := runner.Sweep(spec)
		if err != nil {
			fmt.Fprintf(os.Stderr, "samlab eval: %v\n", err)
			return 2
		}
		grid = append(grid, vs...)
	}
	if len(grid) > 0 && (*ablate || what == "parts") {
		fmt.Fprintln(os.Stderr, "samlab eval: --sweep goes with loco, mvtec, digitanatomy or scenes, without --ablate")
		return 2
	}
	if what == "scenes" && scenes.Split(*split) == scenes.ReportingSplit && *cfgPath != "" {
		fmt.Fprintln(os.Stderr, "samlab eval scenes: --split reporting measures the defaults only; --config is not allowed")
		return 2
	}
	if what == "sam" && *cfgPath == "" {
		*cfgPath = samDefaultConfig
	}
	cfg := config.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = config.Load(*cfgPath); err != nil {
			fmt.Fprintf(os.Stderr, "samlab eval: %v\n", err)
			return 1
		}
	}
	if *models != "" {
		m, err := onnx.ModelsIn(*models, cfg.Models)
		if err != nil {
			fmt.Fprintf(os.Stderr, "samlab eval: %v\n", err)
			return 1
		}
		cfg.Models, cfg.Pipeline.Backend = m, onnx.Name
	}
	if *backend != "" {
		cfg.Pipeline.Backend = *backend
	}
	o := runner.Options{Pipeline: cfg.Pipeline, NewBackend: evalBackend(cfg), Baseline: *baseline,
		Coreset: *coreset, MapsDir: *maps, Examples: *examples}
	if !*quiet {
		o.Progress = runner.NewProgress(os.Stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	command := "samlab eval " + strings.Join(args, " ")

	var err error
	switch what {
	case "loco", "mvtec":
		if *root == "" {
			fmt.Fprintf(os.Stderr, "samlab eval %s: --root DIR is required\n", what)
			return 2
		}
		o.Layout = datasets.LOCO
		if what == "mvtec" {
			o.Layout = datasets.MVTecAD
		}
		dir := strOrDefault(*out, filepath.Join("eval-out", what))
		if len(grid) > 0 {
			err = writeSweep(ctx, []runner.Dataset{{Label: filepath.Base(filepath.Clean(*root)), Root: *root}}, dir, o, command, grid)
			break
		}
		var rep *runner.Report
		if rep, err = evalOne(ctx, *root, dir, o, command); err == nil && *ablate {
			err = writeAblation(ctx, []runner.Dataset{{Label: rep.Dataset, Root: *root}}, dir, o, command)
		}
	case "digitanatomy":
		o.Layout = datasets.MVTecAD
		recipe := ""
		if *cfgPath == "" {
			recipe = report.RecipeKeys(o.Pipeline, digitanatomy.Recipe(o.Pipeline))
			o.Pipeline = digitanatomy.Recipe(o.Pipeline) // a fixed grid: the layout step
		}
		err = evalDigits(ctx, *seeds, *data, intOrDefault(*train, 100), intOrDefault(*test, 40), strOrDefault(*out, filepath.Join("eval-out", "digitanatomy")), o, command, recipe, *ablate, grid)
	case "parts":
		if !splitDefaults(fs, "parts", *split, kinds, seeds) {
			return 2
		}
		err = evalParts(ctx, cfg, *kinds, *seeds, *data, intOrDefault(*train, 12), strOrDefault(*out, filepath.Join("eval-out", "parts")), command)
	case "sam":
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["kind"] {
			*kinds = samDefaultKinds()
		}
		seedList, perr := parseEvalSeeds(*seeds)
		if perr != nil {
			fmt.Fprintf(os.Stderr, "samlab eval sam: %v\n", perr)
			return 2
		}
		sz := samEvalSize{Seeds: seedList, Train: intOrDefault(*train, 40), Test: intOrDefault(*test, SplitTestPerType),
			Size: *size, DigitTrain: intOrDefault(*digitTrain, 100), DigitTest: intOrDefault(*digitTest, 40), Parts: intOrDefault(*partsN, 12)}
		sz.TestGood = intOrDefault(*testGood, SplitTestGood)
		if set["test"] && !set["test-good"] {
			sz.TestGood = sz.Test
		}
		for _, k := range strings.Split(*kinds, ",") {
			sz.Kinds = append(sz.Kinds, strings.TrimSpace(k))
		}
		variants, verr := parseVariants(*variantList)
		if verr != nil {
			fmt.Fprintf(os.Stderr, "samlab eval sam: %v\n", verr)
			return 2
		}
		err = evalSAM(ctx, cfg, variants, sz, samScale(sz), *data, strOrDefault(*out, filepath.Join("eval-out", "sam")), o, command)
	case "scenes":
		o.Layout = datasets.LOCO
		if *split != "" {
			if !splitDefaults(fs, "scenes", *split, kinds, seeds) {
				return 2
			}
			if err := checkSplit(scenes.Split(*split), *kinds, *seeds); err != nil {
				fmt.Fprintf(os.Stderr, "samlab eval scenes: %v\n", err)
				return 2
			}
		}
		nTest, nGood := intOrDefault(*test, 12), *testGood
		if *split != "" {
			// The protocol's sizes: one make eval of the reporting kinds
			// (6 kinds x 3 seeds, ~90 test images each) stays within about
			// an hour on 2 cores (docs/evaluation.md).
			nTest = intOrDefault(*test, SplitTestPerType)
			nGood = intOrDefault(nGood, SplitTestGood)
		}
		err = evalScenes(ctx, *kinds, *seeds, *data, intOrDefault(*train, 40), nTest, intOrDefault(nGood, nTest), *size, strOrDefault(*out, filepath.Join("eval-out", "scenes")), o, command, *ablate, grid)
	default:
		fmt.Fprintf(os.Stderr, "samlab eval: unknown data set %q: want loco, mvtec, digitanatomy, scenes, parts or sam\n", what)
		return 2
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "samlab eval %s: %v\n", what, err)
		return 1
	}
	return 0
}

func joinKinds(ks []scenes.Kind) string {
	var s []string
	for _, k := range ks {
		s = append(s, string(k))
	}
	return strings.Join(s, ",")
}

func joinSeeds(ss []int64) string {
	var s []string
	for _, v := range ss {
		s = append(s, strconv.FormatInt(v, 10))
	}
	return strings.Join(s, ",")
}

// checkSplit refuses kinds and seeds from the other side of the protocol.
func checkSplit(s scenes.Split, kindList, seedList string) error {
	ks, ss, _ := scenes.SplitKinds(s)
	for _, k := range strings.Split(kindList, ",") {
		if !slices.Contains(ks, scenes.Kind(strings.TrimSpace(k))) {
			return fmt.Errorf("--split %s: kind %q is not on that side (%s)", s, k, joinKinds(ks))
		}
	}
	seeds, err := parseEvalSeeds(seedList)
	if err != nil {
		return err
	}
	for _, v := range seeds {
		if !slices.Contains(ss, v) {
			return fmt.Errorf("--split %s: seed %d is not on that side (%s)", s, v, joinSeeds(ss))
		}
	}
	return nil
}

func strOrDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func intOrDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// evalBackend builds the configured backend for each pipeline variant.
func evalBackend(cfg config.Config) runner.NewBackend {
	return func(p config.Pipeline) (*infer.Backend, func(), error) {
		be, err := backends.Open(cfg.Runtime, cfg.Models, p)
		if err != nil {
			return nil, nil, err
		}
		return be.Backend, func() { be.Close() }, nil
	}
}

// evalOne evaluates one data set root and writes its report.
func evalOne(ctx context.Context, root, out string, o runner.Options, command string) (*runner.Report, error) {
	rep, err := runner.Evaluate(ctx, root, o)
	if err != nil {
		return nil, err
	}
	rep.Build = buildName()
	if err := report.Write(out, rep, command); err != nil {
		return nil, err
	}
	var md strings.Builder
	report.Markdown(&md, rep, command)
	fmt.Print(md.String())
	slog.Info("eval: report written", "dir", out)
	return rep, nil
}

// writeAblation runs the ablation grid and writes ablation.md.
func writeAblation(ctx context.Context, sets []runner.Dataset, out string, o runner.Options, command string) error {
	rows, err := runner.Ablate(ctx, sets, o, runner.AblationGrid())
	if err != nil {
		return err
	}
	var md strings.Builder
	fmt.Fprintf(&md, "# Ablation\n\nImage AUROC, mean over groups (logical / structural), %%, SAM-LAD only; one key changed at a time from the run's pipeline (DigitAnatomy's recipe where the run applies it; * = that pipeline's value); %s. Command:\n\n```\n%s\n```\n\n", buildName(), command)
	var labels []string
	for _, s := range sets {
		labels = append(labels, s.Label)
	}
	report.AblationMarkdown(&md, rows, labels)
	fmt.Print(md.String())
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "ablation.md"), []byte(md.String()), 0o644)
}

// writeSweep runs the sweep's variants (runner.Sweep) on every data set
// and writes sweep.md and sweep.json.
func writeSweep(ctx context.Context, sets []runner.Dataset, out string, o runner.Options, command string, grid []runner.Variant) error {
	rows, err := runner.Ablate(ctx, sets, o, grid)
	if err != nil {
		return err
	}
	var labels []string
	for _, s := range sets {
		labels = append(labels, s.Label)
	}
	var md strings.Builder
	fmt.Fprintf(&md, "# Sweep\n\nImage AUROC, mean over groups (logical / structural), %%, SAM-LAD only; one key set at a time on the run's pipeline (DigitAnatomy's recipe where the run applies it; * = that pipeline's value); the last column is the mean over the data sets; %s. Command:\n\n```\n%s\n```\n\n", buildName(), command)
	report.SweepMarkdown(&md, rows, labels)
	fmt.Print(md.String())
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(struct {
		Command string               `json:"command"`
		Build   string               `json:"build"`
		Sets    []string             `json:"data_sets"`
		Rows    []runner.AblationRow `json:"rows"`
	}{command, buildName(), labels, rows}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "sweep.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "sweep.md"), []byte(md.String()), 0o644)
}

// sweepFlag collects the --sweep flags, one spec each.
type sweepFlag []string

func (f *sweepFlag) String() string     { return strings.Join(*f, " ") }
func (f *sweepFlag) Set(v string) error { *f = append(*f, v); return nil }

func parseEvalSeeds(s string) ([]int64, error) {
	var out []int64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--seeds %q: %q is not an integer", s, f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, errors.New("--seeds: at least one seed is needed")
	}
	return out, nil
}

// evalSeedsAndData parses --seeds and resolves --data (evalDataDir), the
// start of every generated evaluation.
func evalSeedsAndData(seedList, data string) (seeds []int64, base string, cleanup func(), err error) {
	if seeds, err = parseEvalSeeds(seedList); err != nil {
		return nil, "", nil, err
	}
	base, cleanup, err = evalDataDir(data)
	return seeds, base, cleanup, err
}

// evalDataDir returns where to generate data: the given folder or a temporary
// one that the returned function removes.
func evalDataDir(dir string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, os.MkdirAll(dir, 0o755)
	}
	tmp, err := os.MkdirTemp("", "samlad-eval-")
	if err != nil {
		return "", nil, err
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
}

// hasSplit reports whether a generated split is already in dir (a rerun
// with the same --data reuses it: generation is deterministic).
func hasSplit(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "truth.json"))
	return err == nil
}

// evalDigits generates DigitAnatomy for each seed, evaluates each, and
// writes the per-seed reports and the seed table with the paper's figures.
// A non-empty recipe names the keys of DigitAnatomy's per-product recipe
// the run used, so that its figures are labelled as recipe figures.
func evalDigits(ctx context.Context, seedList, data string, train, test int, out string, o runner.Options, command, recipe string, ablate bool, sweep []runner.Variant) error {
	seeds, base, cleanup, err := evalSeedsAndData(seedList, data)
	if err != nil {
		return err
	}
	defer cleanup()
	var reps []*runner.Report
	var sets []runner.Dataset
	for _, seed := range seeds {
		// root/digitanatomy is the category folder, so reports name it.
		root := filepath.Join(base, fmt.Sprintf("seed-%d", seed))
		cat := filepath.Join(root, "digitanatomy")
		if !hasSplit(cat) {
			if _, err := digitanatomy.WriteSplit(cat, digitanatomy.Options{Seed: seed, TrainGood: train, TestPerType: test}); err != nil {
				return err
			}
		}
		sets = append(sets, runner.Dataset{Label: fmt.Sprintf("seed %d", seed), Root: root})
	}
	if len(sweep) > 0 {
		return writeSweep(ctx, sets, out, o, command, sweep)
	}
	for i, seed := range seeds {
		root := sets[i].Root
		rep, err := runner.Evaluate(ctx, root, o)
		if err != nil {
			return fmt.Errorf("seed %d: %w", seed, err)
		}
		rep.Dataset, rep.Build = fmt.Sprintf("DigitAnatomy seed %d", seed), buildName()
		if err := report.Write(filepath.Join(out, fmt.Sprintf("seed-%d", seed)), rep, command); err != nil {
			return err
		}
		reps = append(reps, rep)
	}
	var md strings.Builder
	fmt.Fprintf(&md, "# DigitAnatomy\n\nImage AUROC (%%), %d training images, %d test images per anomaly type and as many good ones per seed, backend %s, %s. Command:\n\n```\n%s\n```\n\n",
		train, test, reps[0].Backend, buildName(), command)
	if recipe != "" {
		report.RunRecipeNote(&md, "DigitAnatomy's per-product recipe (eval/digitanatomy Recipe)", recipe, "`make eval-digits`")
	}
	report.SeedsMarkdown(&md, reps, seeds, paperDigitAnatomy)
	fmt.Print(md.String())
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "digitanatomy.md"), []byte(md.String()), 0o644); err != nil {
		return err
	}
	if ablate {
		return writeAblation(ctx, sets, out, o, command)
	}
	return nil
}

// evalScenes generates each scene kind in the MVTec LOCO layout (one
// category per kind) per seed and evaluates them together: the first
// seed's report goes to out, each further seed's to out/seed-N, and with
// more than one seed scenes.md tabulates them. The ablation runs on the
// first seed.
// SplitTestPerType and SplitTestGood are the test images per anomaly type
// and the good test images per kind and seed of eval scenes --split.
const (
	SplitTestPerType = 10
	SplitTestGood    = 20
)

func evalScenes(ctx context.Context, kindList, seedList, data string, train, test, testGood, size int, out string, o runner.Options, command string, ablate bool, sweep []runner.Variant) error {
	seeds, base, cleanup, err := evalSeedsAndData(seedList, data)
	if err != nil {
		return err
	}
	defer cleanup()
	var reps []*runner.Report
	var sets []runner.Dataset
	for _, k := range strings.Split(kindList, ",") {
		o.Only = append(o.Only, strings.TrimSpace(k))
	}
	var swept []runner.Dataset // every kind and seed, for a sweep
	roots := make([]string, len(seeds))
	for i, seed := range seeds {
		root := filepath.Join(base, fmt.Sprintf("scenes-%d-%d-%d-%d-%d", seed, size, train, test, testGood))
		roots[i] = root
		for _, kind := range o.Only {
			dir := filepath.Join(root, kind)
			if !hasSplit(dir) {
				_, err := scenes.WriteSplit(dir, scenes.SplitOptions{Kind: scenes.Kind(kind), Layout: scenes.LOCO, Size: size, Seed: seed,
					TrainGood: train - train/5, ValidationGood: max(1, train/5), TestGood: testGood, TestPerType: test})
				if err != nil {
					return err
				}
			}
			if i == 0 {
				sets = append(sets, runner.Dataset{Label: kind, Root: dir})
			}
			swept = append(swept, runner.Dataset{Label: fmt.Sprintf("%s seed %d", kind, seed), Root: dir})
		}
	}
	if len(sweep) > 0 {
		return writeSweep(ctx, swept, out, o, command, sweep)
	}
	for i, seed := range seeds {
		root := roots[i]
		dir := out
		if i > 0 {
			dir = filepath.Join(out, fmt.Sprintf("seed-%d", seed))
		}
		rep, err := evalOne(ctx, root, dir, o, command)
		if err != nil {
			return fmt.Errorf("seed %d: %w", seed, err)
		}
		reps = append(reps, rep)
	}
	if len(seeds) > 1 {
		var md strings.Builder
		fmt.Fprintf(&md, "# Generated scenes\n\nImage AUROC (%%), %d good training images, %d test images per anomaly type and %d good ones per kind and seed, %d px, backend %s, %s. Command:\n\n```\n%s\n```\n\n",
			train, test, testGood, size, reps[0].Backend, buildName(), command)
		report.CategorySeedsMarkdown(&md, reps, seeds)
		fmt.Print(md.String())
		if err := os.WriteFile(filepath.Join(out, "scenes.md"), []byte(md.String()), 0o644); err != nil {
			return err
		}
	}
	if ablate {
		return writeAblation(ctx, sets, out, o, command)
	}
	return nil
}

// evalParts measures the configured segmenter's part recall (runner.
// PartRecall) on n good images per kind and seed, at the engine's input
// size, and writes parts.md.
func evalParts(ctx context.Context, cfg config.Config, kindList, seedList, data string, n int, out, command string) error {
	seeds, base, cleanup, err := evalSeedsAndData(seedList, data)
	if err != nil {
		return err
	}
	defer cleanup()
	be, release, err := evalBackend(cfg)(cfg.Pipeline)
	if err != nil {
		return err
	}
	defer release()
	size := cfg.Pipeline.InputSize
	var table [][]*runner.PartRecall
	for _, k := range strings.Split(kindList, ",") {
		k = strings.TrimSpace(k)
		var runs []*runner.PartRecall
		for _, seed := range seeds {
			dir := filepath.Join(base, fmt.Sprintf("parts-%d-%d-%d", seed, size, n), k)
			if !hasSplit(dir) {
				if _, err := scenes.WriteSplit(dir, scenes.SplitOptions{Kind: scenes.Kind(k), Layout: scenes.MVTecAD, Size: size, Seed: seed, TrainGood: n}); err != nil {
					return err
				}
			}
			pr, err := runner.MeasurePartRecall(ctx, be.Segmenter, dir, size)
			if err != nil {
				return fmt.Errorf("%s seed %d: %w", k, seed, err)
			}
			runs = append(runs, pr)
		}
		table = append(table, runs)
	}
	var md strings.Builder
	fmt.Fprintf(&md, "# Part recall of the segmenter\n\nGood images of the product zoo at %d px (the engine's input size), %d per kind and seed, seeds %s, backend %s, %s. "+
		"A part is found when one segment holds over 80%% of its visible pixels while lying over 80%% inside the part's box. Command:\n\n```\n%s\n```\n\n",
		size, n, seedList, be.Name, buildName(), command)
	report.PartRecallMarkdown(&md, table)
	fmt.Print(md.String())
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "parts.md"), []byte(md.String()), 0o644)
}

// splitDefaults sets kinds and seeds to the protocol side split names,
// unless given on the command line (they then narrow it); with no split it
// leaves them. It reports false, having said why, for an unknown split.
func splitDefaults(fs *flag.FlagSet, what, split string, kinds, seeds *string) bool {
	if split == "" {
		return true
	}
	ks, ss, ok := scenes.SplitKinds(scenes.Split(split))
	if !ok {
		fmt.Fprintf(os.Stderr, "samlab eval %s: --split %q: want tuning or reporting\n", what, split)
		return false
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["kind"] {
		*kinds = joinKinds(ks)
	}
	if !set["seeds"] {
		*seeds = joinSeeds(ss)
	}
	return true
}
