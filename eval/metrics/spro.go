package metrics

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// AU-sPRO as the official MVTec LOCO AD evaluation defines it
// (Bergmann et al., IJCV 2022, and its reference code):
//
//   - sPRO of one defect region at threshold t: min(TP area / saturation
//     area, 1), where a pixel is positive when its score is > t;
//   - the curve's y value is the mean sPRO over all defect regions of all
//     images;
//   - FPR: positives among all pixels that lie in no defect region, pooled
//     over all images (good images and the defect-free parts of anomalous
//     ones);
//   - thresholds: 50 equal-height quantiles of the scores plus max+eps and
//     min-eps, refined by repeated bisection of every curve segment longer
//     than 0.001 (20 to 100 new thresholds per step, at most 10 steps);
//   - the area by the trapezoid rule up to maxFPR, with the curve linearly
//     interpolated at maxFPR, divided by maxFPR.
//
// Deviation: where the reference code samples 10 million scores at random
// for the initial quantiles, this takes every n-th score, so results are
// deterministic.

// Region is one defect region: one ground-truth channel in MVTec LOCO terms.
type Region struct {
	Mask []bool // same length as the image's map; true inside the region
	// Saturation is the TP area, in pixels, at which the region counts as
	// fully detected (datasets.DefectConfig.SaturationArea). Must be > 0.
	Saturation float64
}

// SPROImage is one image of an AU-sPRO evaluation.
type SPROImage struct {
	Map     []float32 // anomaly scores, any layout shared with the masks
	Regions []Region  // none for a good image
}

// SPROCurve is the refined curve, ordered by descending threshold (so FPR
// and sPRO ascend from 0 to 1).
type SPROCurve struct {
	Thresholds []float64
	FPR        []float64
	SPRO       []float64
}

// Reference-code constants.
const (
	sproMaxDistance   = 0.001
	sproMinQueries    = 20
	sproMaxQueries    = 100
	sproMaxSteps      = 10
	sproInitial       = 50
	sproMaxInitScores = 10_000_000
)

// ErrNoDefects is returned by AUSPRO when no image has a defect region.
var ErrNoDefects = errors.New("no defect regions: AU-sPRO needs at least one anomalous image")

type sproRegion struct {
	img int
	pix []int32
	sat float64
}

type sproSet struct {
	maps    [][]float32
	free    [][]int32 // per image: pixels in no region; nil means all pixels
	regions []sproRegion
	nFree   float64
}

// AUSPRO returns the area under the sPRO curve up to maxFPR, divided by
// maxFPR, and the refined curve.
func AUSPRO(images []SPROImage, maxFPR float64) (float64, SPROCurve, error) {
	if !(maxFPR > 0 && maxFPR <= 1) {
		return 0, SPROCurve{}, fmt.Errorf("au-spro: max FPR %g must be in (0,1]", maxFPR)
	}
	set, err := prepareSPRO(images)
	if err != nil {
		return 0, SPROCurve{}, err
	}
	curve := set.refine(set.initialThresholds())
	au, err := trapzMax(curve.FPR, curve.SPRO, maxFPR)
	if err != nil {
		return 0, curve, err
	}
	return au / maxFPR, curve, nil
}

func prepareSPRO(images []SPROImage) (*sproSet, error) {
	s := &sproSet{}
	for i, im := range images {
		if len(im.Map) == 0 {
			return nil, fmt.Errorf("au-spro: image %d has an empty map", i)
		}
		for p, v := range im.Map {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("au-spro: image %d pixel %d has score %v", i, p, v)
			}
		}
		s.maps = append(s.maps, im.Map)
		if len(im.Regions) == 0 {
			s.free = append(s.free, nil)
			s.nFree += float64(len(im.Map))
			continue
		}
		inAny := make([]bool, len(im.Map))
		for r, reg := range im.Regions {
			if len(reg.Mask) != len(im.Map) {
				return nil, fmt.Errorf("au-spro: image %d region %d mask has %d pixels, map %d", i, r, len(reg.Mask), len(im.Map))
			}
			if !(reg.Saturation > 0) {
				return nil, fmt.Errorf("au-spro: image %d region %d has saturation area %g; it must be > 0", i, r, reg.Saturation)
			}
			sr := sproRegion{img: i, sat: reg.Saturation}
			for p, in := range reg.Mask {
				if in {
					sr.pix = append(sr.pix, int32(p))
					inAny[p] = true
				}
			}
			if len(sr.pix) == 0 {
				return nil, fmt.Errorf("au-spro: image %d region %d is empty", i, r)
			}
			s.regions = append(s.regions, sr)
		}
		free := []int32{}
		for p, in := range inAny {
			if !in {
				free = append(free, int32(p))
			}
		}
		s.free = append(s.free, free)
		s.nFree += float64(len(free))
	}
	if len(s.regions) == 0 {
		return nil, fmt.Errorf("au-spro: %w", ErrNoDefects)
	}
	if s.nFree == 0 {
		return nil, errors.New("au-spro: no defect-free pixel in any image, so the FPR is undefined")
	}
	return s, nil
}

// initialThresholds: max+eps, 48 equal-height quantiles, min-eps; descending.
func (s *sproSet) initialThresholds() []float64 {
	total := 0
	for _, m := range s.maps {
		total += len(m)
	}
	stride := (total + sproMaxInitScores - 1) / sproMaxInitScores
	lo, hi := math.Inf(1), math.Inf(-1)
	var sample []float64
	k := 0
	for _, m := range s.maps {
		for _, v := range m {
			f := float64(v)
			lo, hi = math.Min(lo, f), math.Max(hi, f)
			if k%stride == 0 {
				sample = append(sample, f)
			}
			k++
		}
	}
	sort.Float64s(sample)
	ts := []float64{hi + eps(hi)}
	for j := sproInitial - 2; j >= 1; j-- {
		// np.linspace(0, n-1, 50, dtype=int) truncates towards zero.
		idx := int(float64(j) * float64(len(sample)-1) / float64(sproInitial-1))
		ts = append(ts, sample[idx])
	}
	ts = append(ts, lo-eps(lo))
	return dedupeDescending(ts)
}

// eps is the reference code's 1e-6, widened for large scores so that
// max+eps stays above max in float64.
func eps(v float64) float64 { return math.Max(1e-6, math.Abs(v)*1e-12) }

func dedupeDescending(ts []float64) []float64 {
	sort.Sort(sort.Reverse(sort.Float64Slice(ts)))
	out := ts[:0]
	for i, t := range ts {
		if i == 0 || t != out[len(out)-1] {
			out = append(out, t)
		}
	}
	return out
}

// evaluate returns the FPR and mean sPRO at each threshold (any order).
func (s *sproSet) evaluate(ts []float64) (fpr, spro []float64) {
	asc := append([]float64(nil), ts...)
	sort.Float64s(asc)
	n := len(asc)
	// hist[k] counts pixels whose score exceeds exactly k thresholds;
	// positives at asc[j] are the pixels with k > j.
	above := func(hist []float64) []float64 {
		out := make([]float64, n)
		var acc float64
		for j := n - 1; j >= 0; j-- {
			acc += hist[j+1]
			out[j] = acc
		}
		return out
	}
	fpHist := make([]float64, n+1)
	for i, m := range s.maps {
		if s.free[i] == nil {
			for _, v := range m {
				fpHist[sort.SearchFloat64s(asc, float64(v))]++
			}
			continue
		}
		for _, p := range s.free[i] {
			fpHist[sort.SearchFloat64s(asc, float64(m[p]))]++
		}
	}
	fpAsc := above(fpHist)
	sproAsc := make([]float64, n)
	hist := make([]float64, n+1)
	for _, r := range s.regions {
		clear(hist)
		m := s.maps[r.img]
		for _, p := range r.pix {
			hist[sort.SearchFloat64s(asc, float64(m[p]))]++
		}
		for j, tp := range above(hist) {
			sproAsc[j] += math.Min(tp/r.sat, 1)
		}
	}
	fpr, spro = make([]float64, len(ts)), make([]float64, len(ts))
	for i, t := range ts {
		j := sort.SearchFloat64s(asc, t)
		fpr[i] = fpAsc[j] / s.nFree
		spro[i] = sproAsc[j] / float64(len(s.regions))
	}
	return fpr, spro
}

// refine is the reference code's binary_refinement on descending thresholds.
func (s *sproSet) refine(ts []float64) SPROCurve {
	fpr, spro := s.evaluate(ts)
	c := SPROCurve{Thresholds: ts, FPR: fpr, SPRO: spro}
	for range sproMaxSteps {
		type gap struct{ d, left, right float64 }
		var gaps []gap
		for i := 0; i+1 < len(c.Thresholds); i++ {
			d := math.Hypot(c.SPRO[i]-c.SPRO[i+1], c.FPR[i]-c.FPR[i+1])
			if d > sproMaxDistance {
				gaps = append(gaps, gap{d, c.Thresholds[i], c.Thresholds[i+1]})
			}
		}
		if len(gaps) == 0 {
			break
		}
		sort.SliceStable(gaps, func(a, b int) bool { return gaps[a].d > gaps[b].d })
		if len(gaps) > sproMaxQueries {
			gaps = gaps[:sproMaxQueries]
		}
		remaining := max(sproMinQueries-len(gaps), 0)
		var dist float64
		for _, g := range gaps {
			dist += g.d
		}
		var queries []float64
		for _, g := range gaps {
			extra := int(math.RoundToEven(g.d / dist * float64(remaining)))
			n := 1 + extra
			for k := 1; k <= n; k++ {
				queries = append(queries, g.left+(g.right-g.left)*float64(k)/float64(n+1))
			}
			remaining -= extra
			dist -= g.d
		}
		qf, qs := s.evaluate(queries)
		c = mergeCurve(c, SPROCurve{Thresholds: queries, FPR: qf, SPRO: qs})
	}
	return c
}

// mergeCurve joins two curves, descending by threshold, without duplicates.
func mergeCurve(a, b SPROCurve) SPROCurve {
	type pt struct{ t, f, s float64 }
	var pts []pt
	for _, c := range []SPROCurve{a, b} {
		for i := range c.Thresholds {
			pts = append(pts, pt{c.Thresholds[i], c.FPR[i], c.SPRO[i]})
		}
	}
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].t > pts[j].t })
	var out SPROCurve
	for i, p := range pts {
		if i > 0 && p.t == pts[i-1].t {
			continue
		}
		out.Thresholds = append(out.Thresholds, p.t)
		out.FPR = append(out.FPR, p.f)
		out.SPRO = append(out.SPRO, p.s)
	}
	return out
}

// trapzMax integrates y over ascending x from x[0] to xMax by the trapezoid
// rule, interpolating y linearly at xMax (the reference code's trapz).
func trapzMax(x, y []float64, xMax float64) (float64, error) {
	if len(x) < 2 || x[0] > xMax || x[len(x)-1] < xMax {
		return 0, fmt.Errorf("trapezoid: limit %g outside the curve's range", xMax)
	}
	var area float64
	for i := 0; i+1 < len(x); i++ {
		x0, x1 := x[i], x[i+1]
		if x0 >= xMax {
			break
		}
		y0, y1 := y[i], y[i+1]
		if x1 > xMax {
			y1 = y0 + (y1-y0)*(xMax-x0)/(x1-x0)
			x1 = xMax
		}
		area += 0.5 * (y0 + y1) * (x1 - x0)
	}
	return area, nil
}
