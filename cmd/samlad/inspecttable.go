package main

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"github.com/samlad/samlad/eval/datasets"
	"github.com/samlad/samlad/eval/metrics"
	"github.com/samlad/samlad/eval/runner"
)

// labelledScore is one inspected image for `inspect --table`: its type is
// the name of its folder (good, an anomaly type, or MVTec LOCO's
// logical_anomalies / structural_anomalies), as the scene generator and
// the MVTec layouts write test splits.
type labelledScore struct {
	typ              string
	samlad, baseline float64
}

func labelOf(path string) string { return filepath.Base(filepath.Dir(path)) }

// writeAUROCTable writes the side-by-side image AUROC table in Markdown:
// per anomaly group and per type, each against every good image, SAM-LAD
// beside the patch-kNN baseline on the same features.
func writeAUROCTable(w io.Writer, scored []labelledScore) error {
	var good int
	var types []string
	for _, s := range scored {
		switch {
		case s.typ == datasets.GoodType:
			good++
		case !slices.Contains(types, s.typ):
			types = append(types, s.typ)
		}
	}
	if good == 0 || len(types) == 0 {
		return fmt.Errorf("the table needs labelled images: %d in a folder named %q and %d anomaly type folders (inspect a test split, e.g. DIR/test)", good, datasets.GoodType, len(types))
	}
	slices.Sort(types)
	fmt.Fprintf(w, "Image AUROC (%%), each row's anomalies against all %d good images; patch-kNN is the PatchCore-style baseline on the bank's features.\n\n", good)
	fmt.Fprintln(w, "| anomalies | images | sam-lad | patch-knn | margin |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	row := func(name string, in func(typ string) bool) error {
		var sam, base []float64
		var labels []bool
		n := 0
		for _, s := range scored {
			anomalous := s.typ != datasets.GoodType
			if anomalous && !in(s.typ) {
				continue
			}
			if anomalous {
				n++
			}
			sam, base, labels = append(sam, s.samlad), append(base, s.baseline), append(labels, anomalous)
		}
		if n == 0 {
			return nil
		}
		a, err := metrics.AUROC(sam, labels)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		b, err := metrics.AUROC(base, labels)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(w, "| %s | %d | %.1f | %.1f | %+.1f |\n", name, n, 100*a, 100*b, 100*(a-b))
		return nil
	}
	for _, g := range []string{runner.Logical, runner.Structural} {
		if err := row("**"+g+"**", func(t string) bool { return runner.GroupOf(t) == g }); err != nil {
			return err
		}
	}
	for _, t := range types {
		if t == datasets.LogicalType || t == datasets.StructuralType {
			continue // the group row says it already
		}
		if err := row(fmt.Sprintf("%s (%s)", t, runner.GroupOf(t)), func(u string) bool { return u == t }); err != nil {
			return err
		}
	}
	return nil
}
