package bench

import (
	"fmt"
	"io"
	"strings"
)

// WriteText writes reports as Markdown: the machine once, then per run the
// stage table and the throughput lines; with several runs, a summary table
// last (one row per configuration).
func WriteText(w io.Writer, reps []*Report) {
	if len(reps) == 0 {
		return
	}
	m := reps[0].Machine
	fmt.Fprintf(w, "samlad bench, %s\n\n", reps[0].StartedUTC)
	fmt.Fprintf(w, "- machine: %s, %d logical CPUs, GOMAXPROCS %d, %s/%s\n", m.CPU, m.Cores, m.GOMAXPROCS, m.OS, m.Arch)
	fmt.Fprintf(w, "- go: %s\n", m.GoVersion)
	if m.LoadAvg != "" {
		fmt.Fprintf(w, "- load average at start (1/5/15 min): %s\n", m.LoadAvg)
	}
	fmt.Fprintf(w, "- backend: %s\n", reps[0].Backend)
	for _, r := range reps {
		s := r.Setup
		fmt.Fprintf(w, "\n### %d px, upsample x%d (%s), k = %d, %d references, workers %s\n\n",
			s.InputSize, s.Upsample, s.Upsampler, s.K, s.References, workers(s.Workers))
		fmt.Fprintf(w, "Frames: %s. One camera, %d frames.\n\n", s.Frames, r.Single.Frames)
		fmt.Fprintln(w, "| stage | median ms | p95 ms | mean ms |")
		fmt.Fprintln(w, "|---|---:|---:|---:|")
		for _, st := range r.Stages {
			name := st.Stage
			if name == StageTotal {
				name = "**total (Inspect)**"
			}
			fmt.Fprintf(w, "| %s | %.2f | %.2f | %.2f |\n", name, st.MedianMs, st.P95Ms, st.MeanMs)
		}
		fmt.Fprintln(w)
		writeThroughput(w, "1 camera", r.Single)
		if r.Parallel != nil {
			writeThroughput(w, fmt.Sprintf("%d cameras", r.Parallel.Cameras), *r.Parallel)
		}
		if r.EnrolSec > 0 {
			fmt.Fprintf(w, "- enrolment of %d references: %.1f s\n", s.References, r.EnrolSec)
		}
	}
	if len(reps) > 1 {
		writeSummary(w, reps)
	}
}

func writeThroughput(w io.Writer, label string, t Throughput) {
	fmt.Fprintf(w, "- %s: **%.1f FPS** (%.1f per camera), latency median %.1f ms, p95 %.1f ms, %d frames in %.1f s, CPU %.1f ms per frame\n",
		label, t.FPS, t.PerCameraFPS, t.Latency.MedianMs, t.Latency.P95Ms, t.Frames, t.Seconds, t.CPUMsPerFrame)
}

// writeSummary is one row per configuration: stage medians and FPS.
func writeSummary(w io.Writer, reps []*Report) {
	var stages []string
	seen := map[string]bool{}
	for _, r := range reps {
		for _, st := range r.Stages {
			if !seen[st.Stage] && st.Stage != StageTotal {
				seen[st.Stage] = true
				stages = append(stages, st.Stage)
			}
		}
	}
	par := reps[0].Parallel != nil
	fmt.Fprintln(w, "\n### Summary (median ms per stage)")
	fmt.Fprintln(w)
	head := "| size | up | " + strings.Join(stages, " | ") + " | total | CPU ms/frame | FPS 1 cam |"
	rule := "|---:|---:|" + strings.Repeat("---:|", len(stages)+3)
	if par {
		head += fmt.Sprintf(" FPS %d cams |", reps[0].Parallel.Cameras)
		rule += "---:|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, rule)
	for _, r := range reps {
		med := map[string]float64{}
		for _, st := range r.Stages {
			med[st.Stage] = st.MedianMs
		}
		var b strings.Builder
		fmt.Fprintf(&b, "| %d | %d |", r.Setup.InputSize, r.Setup.Upsample)
		for _, s := range stages {
			fmt.Fprintf(&b, " %.2f |", med[s])
		}
		fmt.Fprintf(&b, " %.1f | %.1f | %.1f |", med[StageTotal], r.Single.CPUMsPerFrame, r.Single.FPS)
		if par && r.Parallel != nil {
			fmt.Fprintf(&b, " %.1f |", r.Parallel.FPS)
		}
		fmt.Fprintln(w, b.String())
	}
}

func workers(n int) string {
	if n <= 0 {
		return "= GOMAXPROCS"
	}
	return fmt.Sprint(n)
}
