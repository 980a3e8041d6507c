// Package report writes the results of samlab eval: a Markdown summary and
// the full JSON (per category, per anomaly type, the mean, timings), ROC
// curves and a grid of heatmap overlays as PNG (gonum.org/v1/plot).
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/runner"
	"github.com/samlad/samlad/infer"
)

// Write writes report.md, report.json and, per category, roc-<cat>.png and
// overlays-<cat>.png into dir. command is the command line that made it.
func Write(dir string, rep *runner.Report, command string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	var md strings.Builder
	Markdown(&md, rep, command)
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(md.String()), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	b, err := json.MarshalIndent(struct {
		Command string `json:"command"`
		*runner.Report
	}{command, rep}, "", " ")
	if err != nil {
		return fmt.Errorf("report: encode json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), b, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for _, c := range rep.Categories {
		if err := ROCPlot(filepath.Join(dir, "roc-"+c.Name+".png"), c, rep.Methods); err != nil {
			return err
		}
		if len(c.Examples) > 0 {
			if err := OverlayGrid(filepath.Join(dir, "overlays-"+c.Name+".png"), c, rep.Methods); err != nil {
				return err
			}
		}
	}
	return nil
}

// pct formats a metric in [0,1] as a percentage with one decimal, as the
// paper's tables do; "–" when absent.
func pct(m map[string]float64, k string) string {
	v, ok := m[k]
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.1f", 100*v)
}

func pctp(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f", 100**v)
}

// Markdown writes the summary tables.
func Markdown(w io.Writer, rep *runner.Report, command string) {
	fmt.Fprintf(w, "# samlab eval: %s\n\n", rep.Dataset)
	build := ""
	if rep.Build != "" {
		build = ", " + rep.Build
	}
	fmt.Fprintf(w, "Layout %s, backend %s, %d categories, %.0f s%s. Command:\n\n```\n%s\n```\n\n",
		rep.Layout, rep.Backend, len(rep.Categories), rep.Seconds, build, command)
	fmt.Fprintf(w, "Image AUROC: each group against all good test images; mean over the groups present. ")
	fmt.Fprintf(w, "AU-sPRO up to FPR %.2f (MVTec LOCO definition). All in %%.\n\n", runner.SPROLimit)
	fmt.Fprintln(w, "| category | method | logical | structural | mean | pixel AUROC | sPRO logical | sPRO structural | sPRO mean |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	row := func(name, m string, x *runner.Metrics) {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, m,
			pct(x.ImageAUROC, runner.Logical), pct(x.ImageAUROC, runner.Structural), pct(x.ImageAUROC, runner.Mean),
			pctp(x.PixelAUROC), pct(x.SPRO, runner.Logical), pct(x.SPRO, runner.Structural), pct(x.SPRO, runner.Mean))
	}
	for _, c := range rep.Categories {
		for _, m := range rep.Methods {
			row(c.Name, m, c.Metrics[m])
		}
	}
	if len(rep.Categories) > 1 {
		for _, m := range rep.Methods {
			row("**mean**", m, rep.Mean[m])
		}
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "## Image AUROC per anomaly type (against all good test images)")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "| category | type | %s |\n|---|---|%s\n", strings.Join(rep.Methods, " | "), strings.Repeat("---|", len(rep.Methods)))
	for _, c := range rep.Categories {
		types := typesOf(c, rep.Methods)
		for _, t := range types {
			fmt.Fprintf(w, "| %s | %s (%s) |", c.Name, t, runner.GroupOf(t))
			for _, m := range rep.Methods {
				fmt.Fprintf(w, " %s |", pct(c.Metrics[m].TypeAUROC, t))
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w)

	termMarkdown(w, rep.Categories)
	verdictMarkdown(w, rep.Categories)
	var groups [][]*runner.Category
	for _, c := range rep.Categories {
		groups = append(groups, []*runner.Category{c})
	}
	OperatingMarkdown(w, groups)
	matchingMarkdown(w, rep.Categories)

	fmt.Fprintln(w, "## Calibration (learned from the good images)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| category | good images | dustbin | match threshold | min area | max area | threshold |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, c := range rep.Categories {
		k := c.Calibration
		fmt.Fprintf(w, "| %s | %d | %.3f | %.3f | %.4f | %.4f | %.3f |\n", c.Name, c.Train, k.Dustbin, k.MatchThreshold, k.MinArea, k.MaxArea, k.Threshold)
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "## Rules learned from the good images")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Stable parts and clutter segments in the median good image; stable parts of all good images that recur in place or lie anywhere; whether segments close together are joined into parts (segments and joined parts per image, with their spread); whether mirror images count as wrong (the separation it was decided from); whether images are aligned onto the good images (the share of the good images' difference from their median that aligning removes). `samlad enroll` prints the same (docs/engine.md).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| category | parts | clutter | in place | anywhere | grouping | mirror | registration |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, c := range rep.Categories {
		r := c.Rules
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %s (%.1f ± %.0f%% segments, %.1f ± %.0f%% parts) | %s (%.0f%%) | %s (%.0f%%) |\n", c.Name, r.Parts, r.Clutter, r.Fixed, r.Loose,
			onOff(r.Group.On), r.Group.Segments, 100*r.Group.SegmentsCV, r.Group.Parts, 100*r.Group.PartsCV, onOff(r.Mirror.On), 100*r.Mirror.Separation,
			onOff(r.Register.On), 100*r.Register.Explained())
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "## Timings (ms per test image; enrolment in s)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| category | stage | n | median | p95 |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, c := range rep.Categories {
		fmt.Fprintf(w, "| %s | enrol (%d images, s) | 1 | %.1f | |\n", c.Name, c.Train, c.EnrollSeconds)
		for _, s := range c.Timings {
			fmt.Fprintf(w, "| %s | %s | %d | %.1f | %.1f |\n", c.Name, s.Name, s.N, s.Median, s.P95)
		}
	}
	fmt.Fprintln(w)
}

// typesOf lists a category's anomaly types, logical first, then by name.
func typesOf(c *runner.Category, methods []string) []string {
	var types []string
	for t := range c.Metrics[methods[0]].TypeAUROC {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool {
		gi, gj := runner.GroupOf(types[i]), runner.GroupOf(types[j])
		if gi != gj {
			return gi == runner.Logical
		}
		return types[i] < types[j]
	})
	return slices.Compact(types)
}

// matchingMarkdown writes SAM-LAD's matching quality for the categories
// whose generator truth names corresponding objects; nothing when none has.
func matchingMarkdown(w io.Writer, cats []*runner.Category) {
	var with []*runner.Category
	for _, c := range cats {
		if c.Matching != nil {
			with = append(with, c)
		}
	}
	if len(with) == 0 {
		return
	}
	fmt.Fprintln(w, "## Matching (Table 5)")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "SAM-LAD's object matching on every test image against each of its k references. A box is a truth object "+
		"when their IoU is >= %.1f; precision: correct / pairs of truth objects; recall: query truth objects with a "+
		"counterpart that are in a correct pair. In %%.\n\n", runner.MatchIoU)
	fmt.Fprintln(w, "| category | matched pairs | pairs of truth objects | correct | precision | recall | F1 |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, c := range with {
		m := c.Matching
		fmt.Fprintf(w, "| %s | %d | %d | %d | %.1f | %.1f | %.1f |\n", c.Name, m.Pairs, m.Mapped, m.Correct, 100*m.Precision, 100*m.Recall, 100*m.F1)
	}
	fmt.Fprintln(w)
}

// recipeLabel starts a note on recipe figures.
const recipeLabel = "**Recipe figures, not defaults-only:**"

// RunRecipeNote labels a summary whose every method ran with one data
// set's recipe (named by source), which changes keys; defaults names the
// command of the defaults-only figures.
func RunRecipeNote(w io.Writer, source, keys, defaults string) {
	fmt.Fprintf(w, "%s every method ran with %s: %s. The defaults-only figures are %s'.\n\n", recipeLabel, source, keys, defaults)
}

// RecipeKeys names the keys a recipe (own) changes from base.
func RecipeKeys(base, own config.Pipeline) string {
	var keys []string
	for _, s := range config.PipelineChanges(base, own) {
		keys = append(keys, s.String())
	}
	return strings.Join(keys, ", ")
}

// verdictMarkdown writes what SAM-LAD's scores did at the
// threshold calibrated for pipeline.false_reject_rate: the good test images
// it rejected and the anomalous ones it caught. AUROC says how well scores
// rank; this says what a line running the default threshold would see.
func verdictMarkdown(w io.Writer, cats []*runner.Category) {
	fmt.Fprintln(w, "## Verdicts at the calibrated threshold (SAM-LAD)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| category | threshold | good rejected | logical caught | structural caught |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, c := range cats {
		var n, fail [3]int
		countVerdicts(c, &n, &fail)
		fmt.Fprintf(w, "| %s | %.3f | %s | %s | %s |\n", c.Name, c.Calibration.Threshold, share(fail[0], n[0]), share(fail[1], n[1]), share(fail[2], n[2]))
	}
	fmt.Fprintln(w)
}

// countVerdicts adds a category's images to n and those whose SAM-LAD
// score is rejected at the category's calibrated threshold (runner.Rejected)
// to fail, indexed good, logical, structural.
func countVerdicts(c *runner.Category, n, fail *[3]int) {
	for _, im := range c.Images {
		i := 0
		switch im.Group {
		case runner.Logical:
			i = 1
		case runner.Structural:
			i = 2
		}
		n[i]++
		if runner.Rejected(im.Scores[runner.SAMLAD], c.Calibration.Threshold) {
			fail[i]++
		}
	}
}

// share writes "k / n (p%)", or "–" when n is 0.
func share(k, n int) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%d / %d (%.0f%%)", k, n, 100*float64(k)/float64(n))
}

// termMarkdown writes the image AUROC of each of SAM-LAD's terms alone: a
// diagnostic for tuning (which terms see the anomalies), not a method.
func termMarkdown(w io.Writer, cats []*runner.Category) {
	var names []string
	for _, n := range infer.TermNames {
		for _, c := range cats {
			if _, ok := c.TermAUROC[n]; ok {
				names = append(names, n)
				break
			}
		}
	}
	if len(names) == 0 {
		return
	}
	fmt.Fprintln(w, "## Image AUROC of each SAM-LAD term alone (logical / structural)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "A diagnostic: each standardised term ranks the test images on its own; the fused score is the first table's.")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "| category | %s |\n|---|%s\n", strings.Join(names, " | "), strings.Repeat("---|", len(names)))
	for _, c := range cats {
		fmt.Fprintf(w, "| %s |", c.Name)
		for _, n := range names {
			g := c.TermAUROC[n]
			fmt.Fprintf(w, " %s / %s |", pct(g, runner.Logical), pct(g, runner.Structural))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
