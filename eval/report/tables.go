package report

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/samlad/samlad/eval/runner"
)

// AblationMarkdown writes the ablation grid: per variant and data set the
// mean image AUROC with the logical / structural ones in brackets. A data
// set's default value of each factor (its recipe's, where it has one) is
// marked with *.
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
			m := r.Results[l]
			cell := pct(m, runner.Mean)
			if _, lg := m[runner.Logical]; lg {
				if _, st := m[runner.Structural]; st {
					cell += fmt.Sprintf(" (%s / %s)", pct(m, runner.Logical), pct(m, runner.Structural))
				}
			}
			if r.Default[l] {
				cell += " *"
			}
			fmt.Fprintf(w, " %s |", cell)
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
	}
	fmt.Fprintln(w)
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
