package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/actuate/heatmap"
	"github.com/samlad/samlad/capture"
	"github.com/samlad/samlad/daemon"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/backends"
)

// inspectLine is the JSON line printed per image. The verdict is decided
// as the daemon decides it (daemon.Rule.Decide, the bank's threshold) and
// the findings are in the verdict message's form (actuate.Finding: boxes
// {x,y,w,h} in the original image's pixels), so that a line reads like a
// verdict on MQTT.
type inspectLine struct {
	Path      string   `json:"path"`
	Score     finiteOr `json:"score"`
	Threshold finiteOr `json:"threshold"`
	Verdict   string   `json:"verdict"`
	// Reason says why, for an error verdict (a non-finite score).
	Reason      string              `json:"reason,omitempty"`
	Structural  float64             `json:"structural"`
	Logical     float64             `json:"logical"`
	Layout      float64             `json:"layout"`
	Patch       float64             `json:"patch"`
	Place       float64             `json:"place"`
	Composition float64             `json:"composition"`
	Findings    []actuate.Finding   `json:"findings"`
	Timings     []infer.StageTiming `json:"timings"`
	References  []string            `json:"references"`
	// Alignment is how the frame was moved onto the good images, in its
	// own pixels, as in the verdict message (absent when the bank does not
	// align frames).
	Alignment *actuate.Alignment `json:"alignment,omitempty"`
	// Baseline is the patch-kNN baseline's score (with --table).
	Baseline *float64 `json:"baseline,omitempty"`
}

// finiteOr is a number written as null when it is not finite, as the
// verdict message writes its score and threshold: JSON has no NaN, and a
// line must never fail to encode.
type finiteOr float64

func (x finiteOr) MarshalJSON() ([]byte, error) {
	if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(x))
}

// runInspect scores image files against a bank and prints one JSON line each.
func runInspect(args []string) int {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	bankPath := fs.String("bank", "", "bank file made by samlad enroll")
	cfgPath := fs.String("config", "", "config file (TOML); default: the bank's enrolled settings")
	heatDir := fs.String("heatmaps", "", "write heatmap overlays as PNG into this folder")
	objDir := fs.String("objects", "", "write an objects panel per image as PNG into this folder: the segmented objects, their matches in the nearest reference, what is extra or missing, and the rules enrolment learned")
	refsDir := fs.String("refs", "", "with --objects: the folder enrolled from, so that the panels show the reference images (default: objects only)")
	tablePath := fs.String("table", "", "also score each image with the patch-kNN baseline on the bank's features and write a Markdown table of image AUROC, SAM-LAD beside the baseline, into this file (- for stderr); an image's label is its folder: good or an anomaly type, as in a test split")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: samlad inspect --bank FILE [--config FILE] [--heatmaps DIR] [--objects DIR] [--table FILE] IMAGE|DIR...")
		fs.PrintDefaults()
	}
	// Flags may follow the image paths (samlad inspect --bank b *.png --heatmaps out).
	var files []string
	for {
		if code, ok := parseFlags(fs, args); !ok {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if *bankPath == "" || len(files) == 0 {
		fmt.Fprintln(os.Stderr, "samlad inspect: --bank FILE and at least one image are required")
		return 2
	}
	bank, err := infer.LoadBank(*bankPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "samlad inspect: %v\n", err)
		return 1
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "samlad inspect: %v\n", err)
		return 1
	}
	if cfg.Pipeline, err = pipelineForBank(bank, cfg, *cfgPath); err != nil {
		fmt.Fprintf(os.Stderr, "samlad inspect: bank %s: %v\n", *bankPath, err)
		return 1
	}
	be, err := backends.Open(cfg.Runtime, cfg.Models, cfg.Pipeline)
	if err != nil {
		fmt.Fprintf(os.Stderr, "samlad inspect: %v\n", err)
		return 1
	}
	defer be.Close()
	eng, err := infer.NewEngine(be.Backend, bank, cfg.Pipeline)
	if err != nil {
		fmt.Fprintf(os.Stderr, "samlad inspect: bank %s: %v\n", *bankPath, err)
		return 1
	}
	var baseline *infer.PatchKNN
	if *tablePath != "" {
		if baseline, err = infer.NewPatchKNNFromBank(be.Backend, bank); err != nil {
			fmt.Fprintf(os.Stderr, "samlad inspect: bank %s: %v\n", *bankPath, err)
			return 1
		}
	}
	for _, d := range []struct{ flag, dir string }{{"--heatmaps", *heatDir}, {"--objects", *objDir}} {
		if d.dir == "" {
			continue
		}
		if err := os.MkdirAll(d.dir, 0o755); err != nil {
			fmt.Fprintf(os.Stderr, "samlad inspect: %s: %v\n", d.flag, err)
			return 1
		}
	}
	objUsed := map[string]bool{}
	var paths []string
	for _, a := range files {
		if st, err := os.Stat(a); err == nil && st.IsDir() {
			ps, err := imagesUnder(a)
			if err == nil && len(ps) == 0 {
				err = fmt.Errorf("no images in %s or its subfolders (looked for %s)", a, strings.Join(capture.ImageExtensions(), " "))
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "samlad inspect: %v\n", err)
				return 1
			}
			paths = append(paths, ps...)
			continue
		}
		paths = append(paths, a)
	}
	rd := newImageReader(cfg.Pipeline.InputSize)
	enc := json.NewEncoder(os.Stdout)
	failed := 0
	used := map[string]bool{} // heatmap names written, to keep same-named inputs apart
	var scored []labelledScore
	bar := newProgress(os.Stderr)
	bar.AddTotal(len(paths))
	bar.Label("inspect")
	for _, p := range paths {
		bar.Step()
		img, orig, err := rd.read(p)
		if err != nil {
			continue
		}
		res, err := eng.Inspect(context.Background(), img)
		if err != nil {
			failed++
			fmt.Fprintf(os.Stderr, "skip %s: %v\n", p, err)
			continue
		}
		dec := daemon.Rule{}.Decide(res, "")
		findings := daemon.WireFindings(res.Findings, cfg.Pipeline.InputSize, orig.Bounds())
		line := inspectLine{Path: p, Score: finiteOr(dec.Score), Threshold: finiteOr(dec.Threshold), Verdict: dec.Verdict, Reason: dec.Reason,
			Structural: res.Structural, Logical: res.Logical, Layout: res.Layout, Patch: res.Patch, Place: res.Place, Composition: res.Composition, Findings: findings, Timings: res.Timings, References: res.References, Alignment: daemon.WireAlignment(res.Alignment, cfg.Pipeline.InputSize, orig.Bounds())}
		if baseline != nil {
			if b, _, _, _, err := baseline.Score(img); err != nil {
				failed++
				fmt.Fprintf(os.Stderr, "baseline %s: %v (left out of the table)\n", p, err)
			} else {
				line.Baseline = &b
				scored = append(scored, labelledScore{typ: labelOf(p), samlad: res.Score, baseline: b})
			}
		}
		if err := enc.Encode(line); err != nil {
			failed++
			fmt.Fprintf(os.Stderr, "%s: %v\n", p, err)
		}
		if *objDir != "" {
			name := strings.TrimSuffix(heatmapName(p, objUsed), ".png") + ".objects.png"
			if err := writeObjects(filepath.Join(*objDir, name), heatmapLabel(p), *refsDir, img, res, dec, bank, cfg.Pipeline.InputSize); err != nil {
				failed++
				fmt.Fprintf(os.Stderr, "objects %s: %v\n", p, err)
			}
		}
		if *heatDir != "" {
			if err := writeHeatmap(*heatDir, heatmapName(p, used), heatmapLabel(p), orig, res, dec, findings); err != nil {
				failed++
				fmt.Fprintf(os.Stderr, "heatmap %s: %v\n", p, err)
			}
		}
	}
	bar.Done()
	code := rd.exitCode()
	if baseline != nil {
		if err := writeTable(*tablePath, scored); err != nil {
			fmt.Fprintf(os.Stderr, "samlad inspect: --table %s: %v\n", *tablePath, err)
			code = 1
		}
	}
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "%d image(s) failed\n", failed)
		code = 1
	}
	return code
}

// imagesUnder lists the image files in a folder and its subfolders (a
// test split keeps one folder per type), in lexical order.
func imagesUnder(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && capture.IsImageFile(d.Name()) {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// heatmapName is always <parent>_<base>.png (test/dent/000.png and
// test/good/000.png give dent_000.png and good_000.png), with _<n> added
// when an earlier input of this run already took the name.
func heatmapName(path string, used map[string]bool) string {
	stem := filepath.Base(filepath.Dir(path)) + "_" + strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	name := stem + ".png"
	for n := 1; used[name]; n++ {
		name = fmt.Sprintf("%s_%d.png", stem, n)
	}
	used[name] = true
	return name
}

// heatmapLabel is what a heatmap's header names the image by: its folder
// and file name, as a test split labels it (dent/000).
func heatmapLabel(path string) string {
	return filepath.Base(filepath.Dir(path)) + "/" + strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

// writeHeatmap renders res over the original image at its own resolution
// (actuate/heatmap: colour map with legend, verdict header, findings, the
// latter in the original image's pixels as printed).
func writeHeatmap(dir, name, label string, orig image.Image, res *infer.Result, dec daemon.Decision, findings []actuate.Finding) error {
	in := heatmap.Input{Frame: orig, Map: res.Map, MapW: res.MapW, MapH: res.MapH,
		Score: res.Score, Threshold: dec.Threshold, Verdict: dec.Verdict, PartID: label}
	for _, f := range findings {
		b := f.Box
		in.Findings = append(in.Findings, heatmap.Finding{Kind: f.Kind, Box: image.Rect(b.X, b.Y, b.X+b.W, b.Y+b.H), Score: f.Score})
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	if err := png.Encode(f, heatmap.Render(in)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeTable writes the AUROC table to path, or to stderr for "-".
func writeTable(path string, scored []labelledScore) error {
	if path == "-" {
		return writeAUROCTable(os.Stderr, scored)
	}
	var b strings.Builder
	if err := writeAUROCTable(&b, scored); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// writeObjects writes the objects panel of one inspected image: the query
// at the engine's input size with its objects, the nearest reference (its
// image when found under refsDir or at the bank's path for it, else a
// blank canvas) with its objects, matched pairs in one colour each, extra and
// missing objects dashed, and the rules the bank learned.
func writeObjects(path, label, refsDir string, img *infer.Image, res *infer.Result, dec daemon.Decision, bank *infer.Bank, size int) error {
	in := heatmap.ObjectsInput{Query: img.ToRGBA(), Scale: 2, Verdict: dec.Verdict,
		Title: fmt.Sprintf("%s  %s  %.2f / %.2f  %s", label, strings.ToUpper(dec.Verdict), res.Score, dec.Threshold, summarizeFindings(res.Findings))}
	if len(res.References) > 0 {
		in.RefName = res.References[0]
		refPath := res.References[0]
		if refsDir != "" && !filepath.IsAbs(refPath) {
			refPath = filepath.Join(refsDir, refPath)
		}
		if data, err := os.ReadFile(refPath); err == nil {
			if ref, err := capture.DecodeImage(data); err == nil {
				in.Ref = infer.FromImage(ref, size).ToRGBA()
			}
		}
		if in.Ref == nil {
			in.RefName += " (image not found: give --refs DIR)"
		}
	}
	for _, m := range res.Matches {
		if m.Ref == 0 {
			in.Pairs = append(in.Pairs, heatmap.Pair{QueryBox: m.QueryBox, RefBox: m.RefBox, Query: m.Query, Object: m.Object, Prob: m.Prob})
		}
	}
	in.Notes = append([]string{"learned at enrolment:"}, strings.Split(strings.TrimSpace(bank.Rules.String()), "\n")...)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, heatmap.RenderObjects(in)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// summarizeFindings counts findings by kind: "1 missing, 2 extra".
func summarizeFindings(fs []infer.Finding) string {
	var kinds []string
	n := map[string]int{}
	for _, f := range fs {
		if n[f.Kind] == 0 {
			kinds = append(kinds, f.Kind)
		}
		n[f.Kind]++
	}
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%d %s", n[k], k)
	}
	return strings.Join(parts, ", ")
}
