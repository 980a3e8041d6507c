package infer

import (
	"math"
	"slices"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer/internal/workpool"
)

// The layout step's enrolment: the good images' descriptors, the
// grouping and the leave-one-out calibration (layout.go).

// layoutEnrol collects the references' raw descriptors during Enroll; nil
// when the step is off (its methods are then no-ops). While layout.group is
// learned, the descriptors of the parts as segmented (raw) and as grouped
// (grouped) are both kept until finish decides.
type layoutEnrol struct {
	cfg          config.Layout
	raw, grouped [][][]float32
}

func newLayoutEnrol(cfg config.Layout, n int) *layoutEnrol {
	if !cfg.Enabled {
		return nil
	}
	le := &layoutEnrol{cfg: cfg, raw: make([][][]float32, n)}
	if cfg.Group == config.Auto {
		le.grouped = make([][][]float32, n)
	}
	return le
}

// describe records reference i's descriptors from its upsampled view with
// objects (concurrent calls with different i are safe).
func (le *layoutEnrol) describe(i int, v *view) {
	if le == nil {
		return
	}
	grid, mirror := le.cfg.Grid, le.cfg.Mirror != config.Off
	switch le.cfg.Group {
	case config.On:
		le.raw[i] = layoutDescribe(v, grid, groupRadius(le.cfg), mirror)
	case config.Off:
		le.raw[i] = layoutDescribe(v, grid, 0, mirror)
	default:
		le.raw[i] = layoutDescribe(v, grid, 0, mirror)
		le.grouped[i] = layoutDescribe(v, grid, groupRadius(le.cfg), mirror)
	}
}

// chooseGrouping keeps the descriptors of the grouping enrolment learned
// (or layout.group set) and returns the radius they were grouped within.
func (le *layoutEnrol) chooseGrouping(bank *Bank) float64 {
	radius := groupRadius(le.cfg)
	switch le.cfg.Group {
	case config.On:
		bank.Rules.Group = GroupRule{On: true, Radius: radius}
		return radius
	case config.Off:
		bank.Rules.Group = GroupRule{Radius: radius}
		return 0
	}
	bank.Rules.Group = learnGrouping(bank.Refs, radius)
	grouped := le.grouped
	le.grouped = nil
	if !bank.Rules.Group.On {
		return 0
	}
	le.raw = grouped
	return radius
}

// finish centres the descriptors and calibrates by leave-one-out; the bank
// must hold its objects' weights (calibrate). It returns nil when off.
func (le *layoutEnrol) finish(bank *Bank, workers int) *LayoutBank {
	if le == nil {
		return nil
	}
	groupR := le.chooseGrouping(bank)
	var mean []float32
	var cnt int
	for _, ds := range le.raw {
		for _, d := range ds {
			if mean == nil {
				mean = make([]float32, len(d))
			}
			for i, x := range d {
				mean[i] += x
			}
			cnt++
		}
	}
	for i := range mean {
		mean[i] /= float32(max(cnt, 1))
	}
	lb := &LayoutBank{Mean: mean, Desc: make([][][]float32, len(le.raw)), Grid: le.cfg.Grid, Mirror: le.cfg.Mirror != config.Off, GroupRadius: groupR}
	var areas []float64
	for _, r := range bank.Refs {
		for _, o := range r.Objects {
			areas = append(areas, float64(o.Area)/float64(r.MapW*r.MapH))
		}
	}
	if len(areas) > 0 {
		lb.MinArea = layoutAreaFrac * quantile(areas, 0.5)
	}
	n := len(bank.Refs)
	L := layoutRefs(le.cfg, n-1)
	ix := scanIndex(bank.Refs)
	bank.Rules.Mirror = MirrorRule{On: lb.Mirror}
	if le.cfg.Mirror == config.Auto {
		bank.Rules.Mirror = learnMirror(bank.Refs, le.raw, lb, ix)
		if lb.Mirror = bank.Rules.Mirror.On; !lb.Mirror {
			le.dropOutlines(bank.Refs[0].Feat.C)
			lb.Mean = lb.Mean[:layoutDescLen(bank.Refs[0].Feat.C, lb.Grid, false)]
		}
	}
	mir := make([][][]float32, len(le.raw))
	for r, ds := range le.raw {
		mir[r] = layoutMirrors(ds, lb)
		lb.Desc[r] = finishLayout(ds, lb.Mean)
	}
	obj, miss, exc := make([]float64, n), make([]float64, n), make([]float64, n)
	peers := make([][]int, n)
	raw := make([]*layoutParts, n)
	workpool.Each(n, workers, func(i int) {
		r := &bank.Refs[i]
		peers[i] = ix.others(i, L)
		raw[i] = layoutMeasure(bank.Refs, lb, peers[i], r.Objects, lb.Desc[i], mir[i], r.MapW, r.MapH, le.cfg, true)
		obj[i], _ = raw[i].maxObject()
		exc[i] = raw[i].excess
	})
	sums := uncoverSums(bank.Refs, peers, raw)
	lb.UncoverMean, lb.UncoverStd = uncoverStats(sums)
	workpool.Each(n, workers, func(i int) {
		r := &bank.Refs[i]
		miss[i] = layoutMeasure(bank.Refs, lb.withoutOwn(sums, peers[i], raw[i].uncover), peers[i], r.Objects, lb.Desc[i], mir[i], r.MapW, r.MapH, le.cfg, false).missing
	})
	lb.ObjectMean, lb.ObjectStd = meanStd(obj)
	lb.MissingMean, lb.MissingStd = meanStd(miss)
	lb.ExcessMean, lb.ExcessStd = meanStd(exc)
	lb.ObjectStd = max(lb.ObjectStd, layoutSDFloor*math.Abs(lb.ObjectMean), 1e-9)
	lb.MissingStd = max(lb.MissingStd, layoutSDFloor*math.Abs(lb.MissingMean), 1e-9)
	lb.ExcessStd = max(lb.ExcessStd, layoutSDFloor*math.Abs(lb.ExcessMean), 1e-9)
	lb.LOOObject, lb.LOOMissing, lb.LOOExcess = obj, miss, exc
	return lb
}

// dropOutlines cuts the outline histograms (the descriptors' tail) from
// the raw descriptors of c channels, once enrolment has learned that
// mirror images do not matter.
func (le *layoutEnrol) dropOutlines(c int) {
	n := layoutDescLen(c, le.cfg.Grid, false)
	for _, ds := range le.raw {
		for j, d := range ds {
			ds[j] = d[:n:n]
		}
	}
}

// uncoverAcc sums one reference object's uncoverage over the good images
// that compared with it.
type uncoverAcc struct{ s, ss, n float64 }

// uncoverSums sums each reference object's uncoverage over the good images
// that compared with it (peers[i]: the references image i compared with).
func uncoverSums(refs []Reference, peers [][]int, raw []*layoutParts) [][]uncoverAcc {
	sums := make([][]uncoverAcc, len(refs))
	for r := range refs {
		sums[r] = make([]uncoverAcc, len(refs[r].Objects))
	}
	for i, idx := range peers {
		for ri, r := range idx {
			for j, u := range raw[i].uncover[ri] {
				if !math.IsNaN(u) {
					a := &sums[r][j]
					a.s, a.ss, a.n = a.s+u, a.ss+u*u, a.n+1
				}
			}
		}
	}
	return sums
}

// uncoverRow returns the mean and spread (at least layoutUncoverFloor) of
// one reference's objects' uncoverage; objects never scored get 0 and the
// floor.
func uncoverRow(as []uncoverAcc) (mean, sd []float32) {
	mean, sd = make([]float32, len(as)), make([]float32, len(as))
	for j, a := range as {
		m, v := 0.0, 0.0
		if a.n > 0 {
			m = a.s / a.n
			v = max(a.ss/a.n-m*m, 0)
		}
		mean[j], sd[j] = float32(m), float32(max(math.Sqrt(v), layoutUncoverFloor))
	}
	return mean, sd
}

// uncoverStats returns each reference object's uncoverage statistics.
func uncoverStats(sums [][]uncoverAcc) (mean, sd [][]float32) {
	mean, sd = make([][]float32, len(sums)), make([][]float32, len(sums))
	for r, as := range sums {
		mean[r], sd[r] = uncoverRow(as)
	}
	return mean, sd
}

// withoutOwn returns lb with the uncoverage statistics of the references
// peers recomputed without own, one good image's uncoverage of them: that
// image's missing term is then scored as a new frame's would be, against
// statistics it took no part in.
func (lb *LayoutBank) withoutOwn(sums [][]uncoverAcc, peers []int, own [][]float64) *LayoutBank {
	c := *lb
	c.UncoverMean, c.UncoverStd = slices.Clone(lb.UncoverMean), slices.Clone(lb.UncoverStd)
	for ri, r := range peers {
		as := slices.Clone(sums[r])
		for j, u := range own[ri] {
			if !math.IsNaN(u) {
				a := &as[j]
				a.s, a.ss, a.n = a.s-u, a.ss-u*u, a.n-1
			}
		}
		c.UncoverMean[r], c.UncoverStd[r] = uncoverRow(as)
	}
	return &c
}
