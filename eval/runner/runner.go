// Package runner evaluates the SAM-LAD engine on data sets in the MVTec AD
// and MVTec LOCO AD layouts: it enrols each category from its good training
// (and validation) images, inspects its test split, and computes image
// AUROC (logical, structural, mean), pixel AUROC and AU-sPRO with
// eval/metrics, side by side with the PatchCore-style patch-kNN baseline
// (infer.PatchKNN) on the same backend features.
package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // MVTec-style folders may hold JPEGs
	_ "image/png"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/datasets"
	"github.com/samlad/samlad/eval/metrics"
	"github.com/samlad/samlad/eval/tiff"
	"github.com/samlad/samlad/infer"
)

// Method names in results.
const (
	SAMLAD   = "sam-lad"
	PatchKNN = "patch-knn"
)

// Anomaly groups.
const (
	Logical    = "logical"
	Structural = "structural"
	Mean       = "mean" // mean over the groups present
	All        = "all"  // any anomaly against the good images
)

// SPROLimit is the FPR up to which AU-sPRO is integrated (MVTec LOCO AD).
const SPROLimit = 0.05

// logicalTypes are the anomaly types that break a rule rather than damage
// a surface: MVTec LOCO's logical folder, the scene generator's logical
// anomalies and DigitAnatomy's four types. Every other type is structural.
var logicalTypes = map[string]bool{
	datasets.LogicalType: true,
	"missing":            true, "extra": true, "wrong_type": true, "misplaced": true,
	"swapped": true, "flipped": true, "zero": true,
	// the product zoo's further logical types (eval/scenes)
	"wrong_size": true, "wrong_colour": true, "wrong_combination": true, "rotated": true, "fill_level": true,
}

// GroupOf returns the anomaly group of a test type ("" for good).
func GroupOf(typ string) string {
	switch {
	case typ == datasets.GoodType:
		return ""
	case logicalTypes[typ]:
		return Logical
	}
	return Structural
}

// NewBackend builds the stage implementations for a pipeline and a
// function that releases them.
type NewBackend func(p config.Pipeline) (*infer.Backend, func(), error)

// Options configures an evaluation.
type Options struct {
	Layout     datasets.Layout
	Pipeline   config.Pipeline
	NewBackend NewBackend
	// Baseline runs the patch-kNN baseline on the same features.
	Baseline bool
	// Coreset is the baseline's coreset fraction (0 = all patches).
	Coreset float64
	// MapsDir, when set, receives every test image's SAM-LAD map as float32
	// TIFF at the image's resolution: <MapsDir>/<category>/test/<type>/<name>.tiff
	// (the official LOCO evaluation's layout), and the baseline's under
	// <MapsDir>/patch-knn/.
	MapsDir string
	// ImageOnly skips the pixel metrics and full-resolution maps (ablations).
	ImageOnly bool
	// Examples keeps this many test images per type for the overlay grid.
	Examples int
	// Progress reports progress; nil is silent.
	Progress *Progress
	// Only, when set, names the categories to evaluate (folder names);
	// the others under the root are left out.
	Only []string
	// Rates are the false-reject rates of the operating points reported
	// beside the AUROC (nil: DefaultRates).
	Rates []float64
}

// DefaultRates are the false-reject rates of the reported operating points.
var DefaultRates = []float64{0.01, 0.05}

// Count is k of n images.
type Count struct {
	K int `json:"k"`
	N int `json:"n"`
}

// OperatingPoint is what a line running SAM-LAD at the threshold
// calibrated (from the good training images alone) for a false-reject
// rate sees on the test split: good parts rejected, anomalies caught by
// group and by type. An image is rejected when its score exceeds the
// threshold, as the engine decides.
type OperatingPoint struct {
	Rate      float64          `json:"false_reject_rate"`
	Threshold float64          `json:"threshold"`
	Good      Count            `json:"good_rejected"`
	Groups    map[string]Count `json:"caught_by_group"`
	Types     map[string]Count `json:"caught_by_type"`
}

// Metrics are one method's numbers on one category (or their mean).
type Metrics struct {
	// ImageAUROC by group: logical, structural (each against all good test
	// images), mean (over the groups present) and all.
	ImageAUROC map[string]float64 `json:"image_auroc"`
	// TypeAUROC is each anomaly type against all good test images.
	TypeAUROC map[string]float64 `json:"type_auroc"`
	// PixelAUROC over every pixel of the test split.
	PixelAUROC *float64 `json:"pixel_auroc,omitempty"`
	// SPRO is AU-sPRO up to FPR 0.05 by group (good images included in
	// each) and their mean.
	SPRO map[string]float64 `json:"au_spro,omitempty"`
}

// ImageRecord is one scored test image.
type ImageRecord struct {
	Path    string             `json:"path"`
	Type    string             `json:"type"`    // test folder
	Anomaly string             `json:"anomaly"` // anomaly type (from truth.json where the folder is a group)
	Group   string             `json:"group"`   // logical, structural, or "" when good
	Scores  map[string]float64 `json:"scores"`
	// Rejected is SAM-LAD's score read at the bank's calibrated threshold
	// (see Rejected); the appliance's verdict is daemon.Rule.Decide's.
	Rejected bool `json:"rejected"`
	// Terms are SAM-LAD's standardised terms (infer.TermNames), for
	// per-term diagnostics.
	Terms map[string]float64 `json:"terms,omitempty"`
	// Findings are SAM-LAD's explanations (boxes in input_size pixels).
	Findings []infer.Finding `json:"findings,omitempty"`
}

// Rejected is the evaluation's reading of a SAM-LAD score at the bank's
// calibrated threshold: rejected when above it, or NaN. The appliance's
// verdict is daemon.Rule.Decide's, with the operator's threshold and the
// fail-safe.
func Rejected(score, threshold float64) bool {
	return score > threshold || math.IsNaN(score)
}

// Stat summarises one timing.
type Stat struct {
	Name   string  `json:"stage"`
	N      int     `json:"n"`
	Median float64 `json:"median_ms"`
	P95    float64 `json:"p95_ms"`
}

// Example is a test image kept for the overlay grid.
type Example struct {
	Anomaly string
	Image   *image.RGBA          // input_size x input_size
	GT      []bool               // input_size x input_size, nil when good
	Maps    map[string][]float32 // per method, input_size x input_size
	Scores  map[string]float64
}

// Category is the evaluation of one category.
type Category struct {
	Name          string  `json:"name"`
	Train         int     `json:"train_images"`
	Test          int     `json:"test_images"`
	EnrollSeconds float64 `json:"enroll_seconds"`
	// Calibration is what enrolment learned (with config overrides).
	Calibration infer.Calibration `json:"calibration"`
	// GoodTerms are the good training images' leave-one-out terms.
	GoodTerms []map[string]float64 `json:"good_terms"`
	// Rules are the product's rules enrolment learned.
	Rules   infer.Rules         `json:"rules"`
	Metrics map[string]*Metrics `json:"metrics"` // per method
	// Matching is SAM-LAD's matching quality, where a generator's truth
	// names corresponding objects (nil elsewhere).
	Matching *Matching `json:"matching,omitempty"`
	// TermAUROC is the image AUROC of each of SAM-LAD's terms alone
	// (infer.TermNames), by group: which terms see the anomalies, and which
	// only add noise to the fused score.
	TermAUROC map[string]map[string]float64 `json:"term_auroc,omitempty"`
	// Operating are SAM-LAD's operating points at Options.Rates.
	Operating []OperatingPoint `json:"operating_points,omitempty"`
	Timings   []Stat           `json:"timings"`
	Images    []ImageRecord    `json:"images"`
	Examples  []Example        `json:"-"`
}

// Report is a whole evaluation.
type Report struct {
	Dataset    string              `json:"dataset"`
	Layout     datasets.Layout     `json:"layout"`
	Backend    string              `json:"backend"`
	Pipeline   config.Pipeline     `json:"pipeline"`
	Methods    []string            `json:"methods"`
	Categories []*Category         `json:"categories"`
	Mean       map[string]*Metrics `json:"mean"` // per method, over categories
	// Build names the binary that ran (version, VCS revision), set by the caller.
	Build   string    `json:"build,omitempty"`
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"`
}

// Evaluate scores every category under root (or root itself when it is a
// category).
func Evaluate(ctx context.Context, root string, o Options) (*Report, error) {
	if o.NewBackend == nil {
		return nil, errors.New("evaluate: no backend")
	}
	be, release, err := o.NewBackend(o.Pipeline)
	if err != nil {
		return nil, err
	}
	defer release()
	dirs, err := datasets.Categories(root)
	if err != nil {
		return nil, err
	}
	if len(o.Only) > 0 {
		dirs = slices.DeleteFunc(dirs, func(d string) bool { return !slices.Contains(o.Only, filepath.Base(d)) })
		if len(dirs) == 0 {
			return nil, fmt.Errorf("data set root %s: none of the categories %s is there", root, strings.Join(o.Only, ", "))
		}
	}
	rep := &Report{Dataset: filepath.Base(filepath.Clean(root)), Layout: o.Layout, Backend: be.Name,
		Pipeline: o.Pipeline, Methods: []string{SAMLAD}, Started: time.Now()}
	if o.Baseline {
		rep.Methods = append(rep.Methods, PatchKNN)
	}
	cats := make([]*datasets.Category, len(dirs))
	total := 0
	for i, d := range dirs {
		if cats[i], err = datasets.Read(d, o.Layout); err != nil {
			return nil, err
		}
		total += len(cats[i].Train) + len(cats[i].Validation) + len(cats[i].Test)
	}
	o.Progress.AddTotal(total)
	for _, c := range cats {
		cr, err := evaluateCategory(ctx, be, c, o, rep.Methods)
		if err != nil {
			return nil, fmt.Errorf("category %s: %w", c.Name, err)
		}
		rep.Categories = append(rep.Categories, cr)
	}
	rep.Mean = MeanMetrics(rep.Categories, rep.Methods)
	rep.Seconds = time.Since(rep.Started).Seconds()
	o.Progress.Done()
	return rep, nil
}

// testImage is one loaded test sample.
type testImage struct {
	s       datasets.Sample
	anomaly string
	group   string
	img     *infer.Image // input_size square
	w, h    int          // original resolution
	gt      datasets.GroundTruth
}

func evaluateCategory(ctx context.Context, be *infer.Backend, c *datasets.Category, o Options, methods []string) (*Category, error) {
	p := o.Pipeline
	o.Progress.Label(c.Name + " enrol")
	goodSamples := append(slices.Clone(c.Train), c.Validation...)
	good := make([]*infer.Image, len(goodSamples))
	names := make([]string, len(goodSamples))
	objTruth := readObjectTruth(c.Root)
	refTruth := map[string][]truthObject{} // per reference name, in input_size pixels
	for i, s := range goodSamples {
		img, w, h, err := loadImage(s.Path, p.InputSize)
		if err != nil {
			return nil, err
		}
		good[i], names[i] = img, s.Path
		if t, ok := objTruth[relPath(c.Root, s.Path)]; ok {
			refTruth[s.Path] = scaleTruth(t, w, h, p.InputSize)
		}
		o.Progress.Step()
	}
	t0 := time.Now()
	bank, err := infer.Enroll(ctx, be, p, good, names)
	if err != nil {
		return nil, err
	}
	var base *infer.PatchKNN
	if o.Baseline {
		if base, err = infer.NewPatchKNN(ctx, be, p, good, o.Coreset); err != nil {
			return nil, err
		}
	}
	cr := &Category{Name: c.Name, Train: len(good), Test: len(c.Test), EnrollSeconds: time.Since(t0).Seconds(), Metrics: map[string]*Metrics{}}
	eng, err := infer.NewEngine(be, bank, p)
	if err != nil {
		return nil, err
	}
	cr.Calibration, cr.Rules, cr.GoodTerms = eng.Calibration(), bank.Rules, eng.GoodTerms()
	rates := o.Rates
	if rates == nil {
		rates = DefaultRates
	}
	for _, r := range rates {
		pr := p
		pr.FalseRejectRate = r
		er, err := infer.NewEngine(be, bank, pr)
		if err != nil {
			return nil, fmt.Errorf("threshold at false-reject rate %g: %w", r, err)
		}
		cr.Operating = append(cr.Operating, OperatingPoint{Rate: r, Threshold: er.Calibration().Threshold})
	}
	anomalyOf := readAnomalies(c.Root)

	o.Progress.Label(c.Name + " test")
	type scored struct {
		t    *testImage
		maps map[string][]float32 // full resolution, per method
	}
	var all []scored
	timings := map[string][]float64{}
	perType := map[string]int{}
	for _, s := range c.Test {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ti, err := loadTest(c, s, p.InputSize, !o.ImageOnly)
		if err != nil {
			return nil, err
		}
		ti.anomaly = s.Type
		if a, ok := anomalyOf[relPath(c.Root, s.Path)]; ok {
			ti.anomaly = a
		}
		ti.group = GroupOf(ti.anomaly)
		if s.Type != datasets.GoodType && (s.Type == datasets.LogicalType || s.Type == datasets.StructuralType) {
			ti.group = GroupOf(s.Type) // LOCO: the folder is the official group
		}
		rec := ImageRecord{Path: relPath(c.Root, s.Path), Type: s.Type, Anomaly: ti.anomaly, Group: ti.group, Scores: map[string]float64{}}
		sc := scored{t: ti, maps: map[string][]float32{}}
		small := map[string][]float32{}

		t1 := time.Now()
		res, err := eng.Inspect(ctx, ti.img)
		if err != nil {
			return nil, fmt.Errorf("inspect %s: %w", s.Path, err)
		}
		timings["total"] = append(timings["total"], msSince(t1))
		for _, st := range res.Timings {
			timings[st.Stage] = append(timings[st.Stage], st.Ms)
		}
		rec.Scores[SAMLAD], rec.Rejected, rec.Findings, rec.Terms = res.Score, Rejected(res.Score, cr.Calibration.Threshold), res.Findings, res.Terms()
		if t, ok := objTruth[rec.Path]; ok && len(refTruth) > 0 {
			refs := make([][]truthObject, len(res.References))
			for i, name := range res.References {
				refs[i] = refTruth[name]
			}
			if cr.Matching == nil {
				cr.Matching = &Matching{}
			}
			cr.Matching.addMatches(res, scaleTruth(t, ti.w, ti.h, p.InputSize), refs)
		}
		if !o.ImageOnly {
			sc.maps[SAMLAD] = resizeMap(res.Map, res.MapW, res.MapH, ti.w, ti.h)
		}
		if perType[ti.anomaly] < o.Examples {
			small[SAMLAD] = resizeMap(res.Map, res.MapW, res.MapH, p.InputSize, p.InputSize)
		}
		if base != nil {
			t2 := time.Now()
			score, pm, fw, fh, err := base.Score(ti.img)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.Path, err)
			}
			timings[PatchKNN] = append(timings[PatchKNN], msSince(t2))
			rec.Scores[PatchKNN] = score
			// The cell grid covers the top-left (W/stride)*stride pixels.
			cover := fw * be.Features.Stride()
			if !o.ImageOnly {
				sc.maps[PatchKNN] = resizeCovering(pm, fw, fh, cover, p.InputSize, ti.w, ti.h)
			}
			if perType[ti.anomaly] < o.Examples {
				small[PatchKNN] = resizeCovering(pm, fw, fh, cover, p.InputSize, p.InputSize, p.InputSize)
			}
		}
		if perType[ti.anomaly] < o.Examples {
			cr.Examples = append(cr.Examples, example(ti, small, rec.Scores, p.InputSize))
		}
		perType[ti.anomaly]++
		if o.MapsDir != "" {
			if err := writeMaps(o.MapsDir, c, s, ti, sc.maps); err != nil {
				return nil, err
			}
		}
		cr.Images = append(cr.Images, rec)
		all = append(all, sc)
		o.Progress.Step()
	}
	o.Progress.Label(c.Name + " metrics")
	for i := range cr.Operating {
		cr.Operating[i].count(cr.Images)
	}
	cr.Timings = stats(timings)
	if cr.Matching != nil {
		cr.Matching.finish()
	}

	recs := cr.Images
	for _, m := range methods {
		met := &Metrics{ImageAUROC: map[string]float64{}, TypeAUROC: map[string]float64{}}
		scoreOf := func(r ImageRecord) float64 { return r.Scores[m] }
		imageAUROC(recs, scoreOf, met)
		if !o.ImageOnly {
			maps := make([][]float32, len(all))
			tests := make([]*testImage, len(all))
			for i, a := range all {
				maps[i], tests[i] = a.maps[m], a.t
			}
			if err := pixelMetrics(maps, tests, met); err != nil {
				return nil, err
			}
		}
		cr.Metrics[m] = met
	}
	cr.TermAUROC = termAUROC(recs)
	return cr, nil
}

// termAUROC is the image AUROC of each term alone by group (logical,
// structural, mean); a term that is off on some image is left out.
func termAUROC(recs []ImageRecord) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for _, name := range infer.TermNames {
		complete := true
		for _, r := range recs {
			if _, ok := r.Terms[name]; !ok {
				complete = false
				break
			}
		}
		if !complete || len(recs) == 0 {
			continue
		}
		met := &Metrics{ImageAUROC: map[string]float64{}, TypeAUROC: map[string]float64{}}
		imageAUROC(recs, func(r ImageRecord) float64 { return r.Terms[name] }, met)
		out[name] = met.ImageAUROC
	}
	return out
}

// count fills an operating point from SAM-LAD's scores.
func (op *OperatingPoint) count(recs []ImageRecord) {
	op.Groups, op.Types = map[string]Count{}, map[string]Count{}
	for _, r := range recs {
		rej := 0
		if s := r.Scores[SAMLAD]; s > op.Threshold || math.IsNaN(s) {
			rej = 1
		}
		if r.Group == "" {
			op.Good.K += rej
			op.Good.N++
			continue
		}
		g, t := op.Groups[r.Group], op.Types[r.Anomaly]
		g.K, g.N, t.K, t.N = g.K+rej, g.N+1, t.K+rej, t.N+1
		op.Groups[r.Group], op.Types[r.Anomaly] = g, t
	}
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// imageAUROC fills the image-level AUROCs: each group and each type
// against all good images, their mean, and all anomalies against good.
func imageAUROC(recs []ImageRecord, score func(ImageRecord) float64, met *Metrics) {
	against := func(sel func(i int) bool) (float64, bool) {
		var s []float64
		var l []bool
		for i, r := range recs {
			if r.Group == "" {
				s, l = append(s, score(r)), append(l, false)
			} else if sel(i) {
				s, l = append(s, score(r)), append(l, true)
			}
		}
		au, err := metrics.AUROC(s, l)
		return au, err == nil
	}
	var sum float64
	var n int
	for _, g := range []string{Logical, Structural} {
		if au, ok := against(func(i int) bool { return recs[i].Group == g }); ok {
			met.ImageAUROC[g] = au
			sum += au
			n++
		}
	}
	if n > 0 {
		met.ImageAUROC[Mean] = sum / float64(n)
	}
	if au, ok := against(func(i int) bool { return true }); ok {
		met.ImageAUROC[All] = au
	}
	types := map[string]bool{}
	for _, r := range recs {
		if r.Group != "" {
			types[r.Anomaly] = true
		}
	}
	for t := range types {
		if au, ok := against(func(i int) bool { return recs[i].Anomaly == t }); ok {
			met.TypeAUROC[t] = au
		}
	}
}

// pixelMetrics computes pixel AUROC over all test images and AU-sPRO per
// group (its anomalous images plus all good images) and their mean.
func pixelMetrics(maps [][]float32, tests []*testImage, met *Metrics) error {
	pa := metrics.NewPixelAUROC()
	for i, t := range tests {
		if err := pa.Add(maps[i], t.gt.Union()); err != nil {
			return fmt.Errorf("pixel auroc: %s: %w", t.s.Path, err)
		}
	}
	if au, err := pa.AUROC(); err == nil {
		met.PixelAUROC = &au
	}
	met.SPRO = map[string]float64{}
	var sum float64
	var n int
	for _, g := range []string{Logical, Structural} {
		var imgs []metrics.SPROImage
		has := false
		for i, t := range tests {
			if t.group != "" && t.group != g {
				continue
			}
			si := metrics.SPROImage{Map: maps[i]}
			for _, r := range t.gt.Regions {
				si.Regions = append(si.Regions, metrics.Region{Mask: r.Mask, Saturation: r.Saturation})
				has = true
			}
			imgs = append(imgs, si)
		}
		if !has {
			continue
		}
		au, _, err := metrics.AUSPRO(imgs, SPROLimit)
		if err != nil {
			return fmt.Errorf("au-spro %s: %w", g, err)
		}
		met.SPRO[g] = au
		sum += au
		n++
	}
	if n > 0 {
		met.SPRO[Mean] = sum / float64(n)
	}
	return nil
}

// MeanMetrics averages each metric over the categories that have it.
func MeanMetrics(cats []*Category, methods []string) map[string]*Metrics {
	out := map[string]*Metrics{}
	for _, m := range methods {
		mean := &Metrics{ImageAUROC: map[string]float64{}, TypeAUROC: map[string]float64{}, SPRO: map[string]float64{}}
		avg := func(get func(*Metrics) map[string]float64, dst map[string]float64) {
			sums, ns := map[string]float64{}, map[string]int{}
			for _, c := range cats {
				for k, v := range get(c.Metrics[m]) {
					sums[k] += v
					ns[k]++
				}
			}
			for k, s := range sums {
				dst[k] = s / float64(ns[k])
			}
		}
		avg(func(x *Metrics) map[string]float64 { return x.ImageAUROC }, mean.ImageAUROC)
		avg(func(x *Metrics) map[string]float64 { return x.TypeAUROC }, mean.TypeAUROC)
		avg(func(x *Metrics) map[string]float64 { return x.SPRO }, mean.SPRO)
		var s float64
		var n int
		for _, c := range cats {
			if v := c.Metrics[m].PixelAUROC; v != nil {
				s += *v
				n++
			}
		}
		if n > 0 {
			v := s / float64(n)
			mean.PixelAUROC = &v
		}
		out[m] = mean
	}
	return out
}

// stats summarises timings: median and 95th percentile per stage, in
// pipeline order, then the totals.
func stats(t map[string][]float64) []Stat {
	order := []string{infer.StagePreprocess, infer.StageFeatures, infer.StageRetrieval, infer.StageSegmentation,
		infer.StageObjects, infer.StageUpsampling, infer.StageDCGA, infer.StageOMM, infer.StageAMM, infer.StageResult, "total", PatchKNN}
	var names []string
	for _, n := range order {
		if _, ok := t[n]; ok {
			names = append(names, n)
		}
	}
	var extra []string
	for n := range t {
		if !slices.Contains(order, n) {
			extra = append(extra, n)
		}
	}
	sort.Strings(extra)
	var out []Stat
	for _, n := range append(names, extra...) {
		v := slices.Clone(t[n])
		sort.Float64s(v)
		out = append(out, Stat{Name: n, N: len(v), Median: metrics.Quantile(v, 0.5), P95: metrics.Quantile(v, 0.95)})
	}
	return out
}

func relPath(root, p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(r)
}

// loadImage decodes a file into the engine's form at input size and
// returns its original resolution.
func loadImage(path string, size int) (*infer.Image, int, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("read image: %w", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("decode image %s: %w", path, err)
	}
	b := img.Bounds()
	return infer.FromImage(img, size), b.Dx(), b.Dy(), nil
}

func loadTest(c *datasets.Category, s datasets.Sample, size int, withGT bool) (*testImage, error) {
	img, w, h, err := loadImage(s.Path, size)
	if err != nil {
		return nil, err
	}
	t := &testImage{s: s, img: img, w: w, h: h, gt: datasets.GroundTruth{W: w, H: h}}
	if !s.Good() && withGT {
		gt, err := c.ReadGroundTruth(s)
		if err != nil {
			return nil, err
		}
		if gt.W != w || gt.H != h {
			return nil, fmt.Errorf("ground truth of %s is %dx%d, the image is %dx%d", s.Path, gt.W, gt.H, w, h)
		}
		t.gt = gt
	}
	return t, nil
}

// truthImages is the part of a generator's truth.json (eval/scenes,
// eval/digitanatomy) that names each image's anomaly type.
type truthImages struct {
	Images []struct {
		Path    string `json:"path"`
		Anomaly string `json:"anomaly"`
	} `json:"images"`
}

// readAnomalies maps test paths to anomaly types from a truth.json at the
// category root, when a generator wrote one; official data sets have none.
func readAnomalies(root string) map[string]string {
	b, err := os.ReadFile(filepath.Join(root, "truth.json"))
	if err != nil {
		return nil
	}
	var t truthImages
	if err := json.Unmarshal(b, &t); err != nil {
		slog.Warn("eval: ignoring unreadable truth.json", "dir", root, "err", err)
		return nil
	}
	out := map[string]string{}
	for _, im := range t.Images {
		out[im.Path] = im.Anomaly
	}
	return out
}

// writeMaps writes the test image's maps as float32 TIFFs.
func writeMaps(dir string, c *datasets.Category, s datasets.Sample, t *testImage, maps map[string][]float32) error {
	for m, mp := range maps {
		base := dir
		if m != SAMLAD {
			base = filepath.Join(dir, m)
		}
		p := filepath.Join(base, c.Name, "test", s.Type, s.Name+".tiff")
		if err := tiff.WriteFile(p, t.w, t.h, mp); err != nil {
			return err
		}
	}
	return nil
}

// resizeMap stretches a map that covers the whole image to w x h
// (bilinear, pixel centres aligned), keeping its maximum (keepCells).
func resizeMap(m []float32, mw, mh, w, h int) []float32 {
	if mw == 0 || mh == 0 || len(m) < mw*mh {
		return make([]float32, w*h)
	}
	return resizeCells(m, mw, mh, w, h, float64(mw)/float64(w), float64(mh)/float64(h), 1)
}

// resizeCovering resizes a patch map whose cells cover the first cover
// pixels of a size-pixel square image (the remainder repeats the edge),
// keeping its maximum (keepCells).
func resizeCovering(m []float32, mw, mh, cover, size, w, h int) []float32 {
	return resizeCells(m, mw, mh, w, h, float64(size)/float64(w), float64(size)/float64(h), float64(cover)/float64(mw))
}

// resizeCells is infer.Bilinear at output pixel centres: output x reads
// the map at ((x+0.5)*sx)/k - 0.5, k input units per cell (1 when the map
// covers the image), then keepCells.
func resizeCells(m []float32, mw, mh, w, h int, sx, sy, k float64) []float32 {
	out := make([]float32, w*h)
	for y := range h {
		fy := ((float64(y)+0.5)*sy)/k - 0.5
		for x := range w {
			out[y*w+x] = infer.Bilinear(m, mw, mh, ((float64(x)+0.5)*sx)/k-0.5, fy)
		}
	}
	keepCells(out, w, h, m, mw, mh, k/sx, k/sy)
	return out
}

// keepCells writes each cell's own value at the output pixel nearest the
// cell's centre (the largest where several cells share a pixel). Bilinear
// interpolation alone lands between cell centres and lowers a peak, so a
// written map's maximum would fall below the image score it comes from;
// with the cells kept, the maximum of a written map is its map's maximum,
// as the official evaluation, which scores an image by its map's maximum,
// needs. px and py are output pixels per cell.
func keepCells(out []float32, w, h int, m []float32, mw, mh int, px, py float64) {
	seen := make(map[int]bool, mw*mh)
	for j := range mh {
		y := min(h-1, max(0, int((float64(j)+0.5)*py)))
		for i := range mw {
			x := min(w-1, max(0, int((float64(i)+0.5)*px)))
			o := y*w + x
			if v := m[j*mw+i]; !seen[o] || v > out[o] {
				out[o] = v
			}
			seen[o] = true
		}
	}
}

func example(t *testImage, maps map[string][]float32, scores map[string]float64, size int) Example {
	ex := Example{Anomaly: t.anomaly, Image: t.img.ToRGBA(), Maps: maps, Scores: map[string]float64{}}
	for k, v := range scores {
		ex.Scores[k] = v
	}
	if len(t.gt.Regions) > 0 {
		u := t.gt.Union()
		f := make([]float32, len(u))
		for i, in := range u {
			if in {
				f[i] = 1
			}
		}
		g := resizeMap(f, t.w, t.h, size, size)
		ex.GT = make([]bool, len(g))
		for i, v := range g {
			ex.GT[i] = v >= 0.5
		}
	}
	return ex
}
