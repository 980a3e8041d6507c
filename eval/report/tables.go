package report

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/samlad/samlad/eval/runner"
)

// AblationMarkdown writes the ablation grid: per variant and data set the
// mean image AUROC with the logical / structural ones in brackets. The
// value of each factor in the run's pipeline is marked with *.
func AblationMarkdown(w io.Writer, rows []runner.AblationRow, labels []string) {
	fmt.Fprintf(w, "| factor | value | %s |\n|---|---|%s\n", strings.Join(labels, " | "), strings.Repeat("---|", len(labels)))
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s |", r.Factor, r.Value)
		if r.Unused != "" {
			fmt.Fprintf(w, " %s |%s\n", r.Unused, strings.Repeat(" |", len(labels)-1))
			continue
		}
		if r.Error != "" {
			fmt.Fprintf(w, " could not run: %s |%s\n", strings.ReplaceAll(r.Error, "|", "/"), strings.Repeat(" |", len(labels)-1))
			continue
		}
		for _, l := range labels {
			fmt.Fprintf(w, " %s |", groupsCell(r.Results[l], r.Default[l]))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

// Quoted is a figure quoted from a paper, not measured here.
type Quoted struct {
	Method string
	Value  float64 // in %
	Source string
}

// SeedsMarkdown writes one row per method with the mean image AUROC of
// each seed's run, their mean and sample standard deviation, then the
// quoted figures; and the per-type AUROCs averaged over the seeds.
func SeedsMarkdown(w io.Writer, reps []*runner.Report, seeds []int64, quoted []Quoted) {
	if len(reps) == 0 {
		return
	}
	fmt.Fprint(w, "| method |")
	for _, s := range seeds {
		fmt.Fprintf(w, " seed %d |", s)
	}
	fmt.Fprintf(w, " mean ± sd |\n|---|%s---|\n", strings.Repeat("---|", len(seeds)))
	for _, m := range reps[0].Methods {
		var vals []float64
		fmt.Fprintf(w, "| %s (measured) |", m)
		for _, r := range reps {
			v := r.Mean[m].ImageAUROC[runner.Mean]
			vals = append(vals, v)
			fmt.Fprintf(w, " %.1f |", 100*v)
		}
		mu, sd := meanSD(vals)
		fmt.Fprintf(w, " **%.1f ± %.1f** |\n", 100*mu, 100*sd)
	}
	for _, q := range quoted {
		fmt.Fprintf(w, "| %s (quoted from %s) |%s %.1f |\n", q.Method, q.Source, strings.Repeat(" |", len(seeds)), q.Value)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Per anomaly type, mean over the seeds:\n\n| type | %s |\n|---|%s\n",
		strings.Join(reps[0].Methods, " | "), strings.Repeat("---|", len(reps[0].Methods)))
	for _, t := range typesOf(reps[0].Categories[0], reps[0].Methods) {
		fmt.Fprintf(w, "| %s |", t)
		for _, m := range reps[0].Methods {
			var vals []float64
			for _, r := range reps {
				if v, ok := r.Mean[m].TypeAUROC[t]; ok {
					vals = append(vals, v)
				}
			}
			mu, sd := meanSD(vals)
			fmt.Fprintf(w, " %.1f ± %.1f |", 100*mu, 100*sd)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

// meanSD is the mean and the sample standard deviation (0 for one value).
func meanSD(v []float64) (float64, float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	var s float64
	for _, x := range v {
		s += x
	}
	mu := s / float64(len(v))
	if len(v) < 2 {
		return mu, 0
	}
	var q float64
	for _, x := range v {
		q += (x - mu) * (x - mu)
	}
	return mu, math.Sqrt(q / float64(len(v)-1))
}

// CategorySeedsMarkdown writes, per category, method and anomaly group,
// the image AUROC of each seed's run and their mean, then the verdicts at
// the calibrated threshold summed over the seeds.
func CategorySeedsMarkdown(w io.Writer, reps []*runner.Report, seeds []int64) {
	if len(reps) == 0 {
		return
	}
	fmt.Fprint(w, "| category | method | group |")
	for _, s := range seeds {
		fmt.Fprintf(w, " seed %d |", s)
	}
	fmt.Fprintf(w, " mean |\n|---|---|---|%s---|\n", strings.Repeat("---|", len(seeds)))
	for _, g := range []string{runner.Logical, runner.Structural} {
		for ci, c := range reps[0].Categories {
			for _, m := range reps[0].Methods {
				fmt.Fprintf(w, "| %s | %s | %s |", c.Name, m, g)
				var vals []float64
				for _, r := range reps {
					v := math.NaN()
					if ci < len(r.Categories) && r.Categories[ci].Metrics[m] != nil {
						if x, ok := r.Categories[ci].Metrics[m].ImageAUROC[g]; ok {
							v = x
						}
					}
					vals = append(vals, v)
					fmt.Fprintf(w, " %.1f |", 100*v)
				}
				mu, _ := meanSD(vals)
				fmt.Fprintf(w, " **%.1f** |\n", 100*mu)
			}
		}
		if len(reps[0].Categories) > 1 {
			for _, m := range reps[0].Methods {
				fmt.Fprintf(w, "| **mean over kinds** | %s | %s |", m, g)
				var all []float64
				for _, r := range reps {
					v := math.NaN()
					if r.Mean[m] != nil {
						if x, ok := r.Mean[m].ImageAUROC[g]; ok {
							v = x
						}
					}
					all = append(all, v)
					fmt.Fprintf(w, " %.1f |", 100*v)
				}
				mu, _ := meanSD(all)
				fmt.Fprintf(w, " **%.1f** |\n", 100*mu)
			}
		}
	}
	fmt.Fprintln(w)
	var cats [][]*runner.Category
	for ci := range reps[0].Categories {
		var runs []*runner.Category
		for _, r := range reps {
			if ci < len(r.Categories) {
				runs = append(runs, r.Categories[ci])
			}
		}
		cats = append(cats, runs)
	}
	fmt.Fprintln(w, "Summed over the seeds:")
	fmt.Fprintln(w)
	OperatingMarkdown(w, cats)
	fmt.Fprintf(w, "Verdicts at the calibrated threshold (SAM-LAD), summed over the seeds:\n\n| category | good rejected | logical caught | structural caught |\n|---|---|---|---|\n")
	for ci, c := range reps[0].Categories {
		var n, fail [3]int
		for _, r := range reps {
			if ci < len(r.Categories) {
				countVerdicts(r.Categories[ci], &n, &fail)
			}
		}
		fmt.Fprintf(w, "| %s | %d / %d | %d / %d | %d / %d |\n", c.Name, fail[0], n[0], fail[1], n[1], fail[2], n[2])
	}
	fmt.Fprintln(w)
}

// OperatingMarkdown writes SAM-LAD's operating points: per category (each
// entry of cats is one category's runs, one per seed, summed), at each
// false-reject rate's calibrated threshold, the good parts rejected and
// the anomalies caught by group; then the catch per anomaly type.
func OperatingMarkdown(w io.Writer, cats [][]*runner.Category) {
	if len(cats) == 0 || len(cats[0]) == 0 || len(cats[0][0].Operating) == 0 {
		return
	}
	rates := cats[0][0].Operating
	fmt.Fprintln(w, "## Operating points (SAM-LAD)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "At the threshold calibrated from the good training images alone for each false-reject rate; a part is rejected when its score exceeds it.")
	fmt.Fprintln(w)
	fmt.Fprint(w, "| category |")
	for _, op := range rates {
		r := ratePct(op.Rate)
		fmt.Fprintf(w, " good rejected @%s | logical caught @%s | structural caught @%s |", r, r, r)
	}
	fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", 3*len(rates)))
	var total []runner.OperatingPoint
	for _, runs := range cats {
		sum := sumOperating(runs)
		fmt.Fprintf(w, "| %s |", runs[0].Name)
		for i, op := range sum {
			fmt.Fprintf(w, " %s | %s | %s |", countCell(op.Good), countCell(op.Groups[runner.Logical]), countCell(op.Groups[runner.Structural]))
			if len(total) <= i {
				total = append(total, runner.OperatingPoint{Rate: op.Rate, Groups: map[string]runner.Count{}, Types: map[string]runner.Count{}})
			}
			addOperating(&total[i], op)
		}
		fmt.Fprintln(w)
	}
	if len(cats) > 1 {
		fmt.Fprint(w, "| **all** |")
		for _, op := range total {
			fmt.Fprintf(w, " **%s** | **%s** | **%s** |", countCell(op.Good), countCell(op.Groups[runner.Logical]), countCell(op.Groups[runner.Structural]))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, "Caught per anomaly type:\n\n| category | type |")
	for _, op := range rates {
		fmt.Fprintf(w, " @%s |", ratePct(op.Rate))
	}
	fmt.Fprintf(w, "\n|---|---|%s\n", strings.Repeat("---|", len(rates)))
	for _, runs := range cats {
		sum := sumOperating(runs)
		var types []string
		for t := range sum[0].Types {
			types = append(types, t)
		}
		sort.Slice(types, func(i, j int) bool {
			gi, gj := runner.GroupOf(types[i]), runner.GroupOf(types[j])
			if gi != gj {
				return gi == runner.Logical
			}
			return types[i] < types[j]
		})
		for _, t := range types {
			fmt.Fprintf(w, "| %s | %s (%s) |", runs[0].Name, t, runner.GroupOf(t))
			for _, op := range sum {
				fmt.Fprintf(w, " %s |", countCell(op.Types[t]))
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w)
}

func ratePct(r float64) string { return strconv.FormatFloat(100*r, 'f', -1, 64) + "%" }

// countCell writes "k / n (p%)", or "–" when n is 0.
func countCell(c runner.Count) string { return share(c.K, c.N) }

// sumOperating adds a category's operating points over its runs (seeds).
func sumOperating(runs []*runner.Category) []runner.OperatingPoint {
	var out []runner.OperatingPoint
	for _, c := range runs {
		for i, op := range c.Operating {
			if len(out) <= i {
				out = append(out, runner.OperatingPoint{Rate: op.Rate, Groups: map[string]runner.Count{}, Types: map[string]runner.Count{}})
			}
			addOperating(&out[i], op)
		}
	}
	return out
}

func addOperating(dst *runner.OperatingPoint, op runner.OperatingPoint) {
	dst.Good.K += op.Good.K
	dst.Good.N += op.Good.N
	for g, c := range op.Groups {
		d := dst.Groups[g]
		dst.Groups[g] = runner.Count{K: d.K + c.K, N: d.N + c.N}
	}
	for t, c := range op.Types {
		d := dst.Types[t]
		dst.Types[t] = runner.Count{K: d.K + c.K, N: d.N + c.N}
	}
}

// PartRecallMarkdown writes the segmenter's part recall per kind (each
// entry one kind, summed over its splits) and per part type.
func PartRecallMarkdown(w io.Writer, kinds [][]*runner.PartRecall) {
	fmt.Fprintln(w, "| kind | good images | parts found | IoU >= 0.5 | mean best IoU | segments per image | by part type |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, runs := range kinds {
		if len(runs) == 0 {
			continue
		}
		var parts, iou50 runner.Count
		types := map[string]runner.Count{}
		images, segs, iouSum := 0, 0.0, 0.0
		for _, r := range runs {
			parts.K, parts.N = parts.K+r.Parts.K, parts.N+r.Parts.N
			iou50.K, iou50.N = iou50.K+r.PartsIoU.K, iou50.N+r.PartsIoU.N
			iouSum += r.MeanBestIoU * float64(r.PartsIoU.N)
			for t, c := range r.Types {
				d := types[t]
				types[t] = runner.Count{K: d.K + c.K, N: d.N + c.N}
			}
			images += r.Images
			segs += r.Segments * float64(r.Images)
		}
		var names []string
		for t := range types {
			names = append(names, t)
		}
		sort.Strings(names)
		var by []string
		for _, t := range names {
			by = append(by, fmt.Sprintf("%s %d/%d", t, types[t].K, types[t].N))
		}
		per := 0.0
		if images > 0 {
			per = segs / float64(images)
		}
		meanIoU := 0.0
		if iou50.N > 0 {
			meanIoU = iouSum / float64(iou50.N)
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %.3f | %.1f | %s |\n", runs[0].Name, images, countCell(parts), countCell(iou50), meanIoU, per, strings.Join(by, ", "))
	}
	fmt.Fprintln(w)
}

// SweepMarkdown writes a sweep (runner.Sweep variants run by
// runner.Ablate): the ablation table with a last column, the mean over the
// data sets of each group's AUROC; then per anomaly type the image AUROC
// averaged over the data sets that have that type, one row per value.
func SweepMarkdown(w io.Writer, rows []runner.AblationRow, labels []string) {
	fmt.Fprintf(w, "| key | value | %s | mean |\n|---|---|%s---|\n", strings.Join(labels, " | "), strings.Repeat("---|", len(labels)))
	typeSet := map[string]bool{}
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s |", r.Factor, r.Value)
		if r.Error != "" {
			fmt.Fprintf(w, " could not run: %s |%s\n", strings.ReplaceAll(r.Error, "|", "/"), strings.Repeat(" |", len(labels)))
			continue
		}
		sums := map[string]float64{}
		counts := map[string]int{}
		for _, l := range labels {
			m := r.Results[l]
			for g, v := range m {
				sums[g] += v
				counts[g]++
			}
			for t := range r.Types[l] {
				typeSet[t] = true
			}
			fmt.Fprintf(w, " %s |", groupsCell(m, r.Default[l]))
		}
		mean := map[string]float64{}
		for g, s := range sums {
			mean[g] = s / float64(counts[g])
		}
		fmt.Fprintf(w, " **%s** |\n", groupsCell(mean, false))
	}
	fmt.Fprintln(w)
	if len(typeSet) == 0 {
		return
	}
	types := make([]string, 0, len(typeSet))
	for t := range typeSet {
		types = append(types, t)
	}
	sort.Strings(types)
	fmt.Fprintf(w, "Per anomaly type, mean over the data sets that have it:\n\n| key | value | %s |\n|---|---|%s\n", strings.Join(types, " | "), strings.Repeat("---|", len(types)))
	for _, r := range rows {
		if r.Error != "" {
			continue
		}
		fmt.Fprintf(w, "| %s | %s |", r.Factor, r.Value)
		for _, t := range types {
			var s float64
			n := 0
			for _, l := range labels {
				if v, ok := r.Types[l][t]; ok {
					s, n = s+v, n+1
				}
			}
			cell := "–"
			if n > 0 {
				cell = fmt.Sprintf("%.1f", 100*s/float64(n))
			}
			fmt.Fprintf(w, " %s |", cell)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

// groupsCell is the mean image AUROC with the logical / structural ones in
// brackets where both are there, and * for a data set's default.
func groupsCell(m map[string]float64, def bool) string {
	cell := pct(m, runner.Mean)
	if _, lg := m[runner.Logical]; lg {
		if _, st := m[runner.Structural]; st {
			cell += fmt.Sprintf(" (%s / %s)", pct(m, runner.Logical), pct(m, runner.Structural))
		}
	}
	if def {
		cell += " *"
	}
	return cell
}
