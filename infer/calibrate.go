package infer

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer/internal/workpool"
	quantilepkg "github.com/samlad/samlad/infer/quantile"
)

// Calibration rules (also in docs/engine.md "How the engine decides"). Everything
// is learned from the good images alone, by leave-one-out: each good image
// in turn is inspected against the other good images as if it were a frame.
//
//  1. Area filter (only where min_area / max_area are 0). max_area: the
//     parts of a product are smaller than its background (floors, trays,
//     table), and in most good images a factor-2 band of areas holds no
//     segment between the two. An image separates at a cut c (0.2% to 25%
//     of the image) when it has segments below c/sqrt(2) and above
//     c*sqrt(2) but none in between. Where at least half of the images
//     separate at some cut, max_area is the upper end of the band around
//     the centre of the longest run of cuts at which the most images
//     separate (a part may come out larger in a frame); else 25%. min_area
//     = 0.85 times the 10th percentile of the segment areas between 0.2%
//     and max_area, at least 0.2%: crumbs are dropped, the smallest part
//     stays. Too large a max_area lets background segments crowd the parts
//     out of max_objects.
//  2. Dustbin (eq. 10 trash bin): the cosine similarities of mutually best
//     object pairs between each good image and its k neighbours; dustbin =
//     5th percentile - max(2 * match_temperature, median - 5th percentile),
//     within [-0.5, 0.95]. Objects less similar than nearly all normal
//     pairs go to the dustbin.
//  3. Match threshold: with that dustbin, the Sinkhorn assignment of the
//     mutually best pairs; threshold = half their 5th percentile, clamped
//     to [0.05, 0.5].
//  4. Object weight (stability): the mean share of the object's mass that
//     the matching keeps out of the dustbin against up to 10 other good
//     images (the quantity the logical score counts). Parts that are always
//     there weigh ~1, identical ones too (three balls against three share
//     their mass among each other); background segments that come and go
//     weigh little. Unmatched masses are scaled by the weights of the
//     reference objects involved.
//  5. Object scale: in a first leave-one-out pass, each reference object
//     collects the maximum Mahalanobis distance of the good objects it is
//     compared with; its scale is their mean (fallback: the median over
//     all objects). Query distances are divided by their partners' scale.
//     Rules 4 and 5 are left-one-out too: while a good image is scored
//     below, the weights and scales of its references are the ones fitted
//     without it; values fitted on the image itself would make the
//     leave-one-out scores, hence their spread, smaller than a new
//     frame's, and good frames would sit above their calibration.
//  6. Image score: per good image, S = the structural value (max or top-1%
//     mean of the scaled Mahalanobis map) and L = the soft count of unmatched
//     objects. Scores are standardised by the leave-one-out mean and spread:
//     zS = (S - mean S) / sd S with sd S >= 5% of mean S, zL = (L - mean L) /
//     sd L with sd L >= 0.1 objects; the image score fuses them with the
//     other terms (fuse.go).
//  7. Pass/fail threshold: the score that a share false_reject_rate of good
//     frames exceeds, from an exponential tail fitted to the upper half of
//     the leave-one-out image scores, times threshold_margin (threshold.go).
const (
	areaMaxDefault = 0.25
	areaFloor      = 0.002
	areaMinMargin  = 0.85
	areaGapRatio   = 2
	areaCutSteps   = 96
	sdStructFrac   = 0.05
	sdLogicFloor   = 0.1
	stabilityPeers = 10
	dustbinMin     = -0.5
	dustbinMax     = 0.95
)

// calibrateArea implements rule 1.
func calibrateArea(items []enrolled, imgArea int) (minArea, maxArea float64) {
	areas := make([][]float64, len(items))
	for i, it := range items {
		for _, m := range it.masks {
			areas[i] = append(areas[i], float64(m.Area)/float64(imgArea))
		}
	}
	maxArea = partAreaLimit(areas)
	var fr []float64
	for _, a := range areas {
		for _, f := range a {
			if f >= areaFloor && f <= maxArea {
				fr = append(fr, f)
			}
		}
	}
	if len(fr) == 0 {
		return areaFloor, maxArea
	}
	return max(areaFloor, areaMinMargin*quantile(fr, 0.1)), maxArea
}

// partAreaLimit is rule 1's max_area: the cut between the parts' and the
// background's segment areas (fractions of the image, per good image), or
// areaMaxDefault where fewer than half of the images show one.
func partAreaLimit(areas [][]float64) float64 {
	half := math.Sqrt(areaGapRatio)
	cuts := make([]int, areaCutSteps+1)
	best := 0
	for s := range cuts {
		c := areaCut(s)
		for _, a := range areas {
			below, above, inside := false, false, false
			for _, f := range a {
				switch {
				case f < areaFloor || f > areaMaxDefault:
				case f < c/half:
					below = true
				case f > c*half:
					above = true
				default:
					inside = true
				}
			}
			if below && above && !inside {
				cuts[s]++
			}
		}
		best = max(best, cuts[s])
	}
	if best == 0 || 2*best < len(areas) {
		return areaMaxDefault
	}
	run, longest, end := 0, 0, 0
	for s, n := range cuts {
		if n != best {
			run = 0
			continue
		}
		if run++; run > longest {
			longest, end = run, s
		}
	}
	return min(math.Sqrt(areaCut(end)*areaCut(end-longest+1))*half, areaMaxDefault)
}

// areaCut is the s-th of the cuts spaced evenly in log area from areaFloor
// to areaMaxDefault.
func areaCut(s int) float64 {
	return areaFloor * math.Pow(areaMaxDefault/areaFloor, float64(s)/areaCutSteps)
}

// calibrate implements rules 2-7 on a bank whose references hold their
// objects and descriptors.
func calibrate(ctx context.Context, be *Backend, p config.Pipeline, bank *Bank, items []enrolled) error {
	n, k := len(bank.Refs), p.K
	ix := scanIndex(bank.Refs)
	// near[i] are the references image i's logical count is taken against,
	// nbrs[i] the k first, its AMM references.
	near, nbrs := make([][]int, n), make([][]int, n)
	for i := range bank.Refs {
		near[i] = ix.others(i, max(k, countRefs))
		nbrs[i] = near[i][:min(k, len(near[i]))]
	}
	// Rule 2.
	var cos []float64
	for i := range bank.Refs {
		for _, j := range nbrs[i] {
			cos = append(cos, mutualBest(descsOf(bank.Refs[i].Objects), descsOf(bank.Refs[j].Objects))...)
		}
	}
	cal := &bank.Calib
	if len(cos) > 0 {
		q05, q50 := quantile(cos, 0.05), quantile(cos, 0.5)
		cal.Dustbin = min(max(q05-max(2*p.MatchTemperature, q50-q05), dustbinMin), dustbinMax)
	} else {
		cal.Dustbin = 0.5
	}
	dustbin := pick(p.Dustbin, cal.Dustbin)
	// Rule 3.
	var probs []float64
	for i := range bank.Refs {
		for _, j := range nbrs[i] {
			mt := match(descsOf(bank.Refs[i].Objects), descsOf(bank.Refs[j].Objects), dustbin, p.MatchTemperature, 1e-12, p.SinkhornIters)
			for a, b := range mt.Match {
				if b >= 0 {
					probs = append(probs, mt.p(a, b))
				}
			}
		}
	}
	cal.MatchThreshold = 0.2
	if len(probs) > 0 {
		cal.MatchThreshold = min(max(quantile(probs, 0.05)/2, 0.05), 0.5)
	}
	// Object stability: the mean share of the object's mass that the
	// matching keeps out of the dustbin in (up to stabilityPeers) other
	// good images, nearest first.
	peers := min(n-1, max(k, stabilityPeers))
	stab := make([]stability, n)
	for i := range bank.Refs {
		objs := bank.Refs[i].Objects
		st := &stability{peers: ix.others(i, peers), sum: make([]float64, len(objs))}
		st.kept = make([][]float64, len(st.peers))
		for t, j := range st.peers {
			mt := match(descsOf(objs), descsOf(bank.Refs[j].Objects), dustbin, p.MatchTemperature, pick(p.MatchThreshold, cal.MatchThreshold), p.SinkhornIters)
			st.kept[t] = make([]float64, len(objs))
			for a := range objs {
				st.kept[t][a] = 1 - mt.p(a, mt.N)
				st.sum[a] += st.kept[t][a]
			}
		}
		for a := range objs {
			objs[a].Weight = float32(st.sum[a] / float64(peers))
		}
		stab[i] = *st
	}
	peersOf := make([][]int, n)
	for i := range stab {
		peersOf[i] = stab[i].peers
	}
	bank.Rules = learnReach(bank, peersOf, dustbin)
	// Rules 5-6: full leave-one-out inspections.
	pr := paramsOf(p, *cal)
	views, err := refViews(ctx, be, p, bank, items)
	if err != nil {
		return err
	}
	S, L := make([]float64, n), make([]float64, n)
	// Pass A (raw distances) gives each reference object its scale; pass
	// B scores every good image with the scales.
	sums := make([][]float64, n)
	counts := make([][]int, n)
	for i := range bank.Refs {
		sums[i] = make([]float64, len(bank.Refs[i].Objects))
		counts[i] = make([]int, len(bank.Refs[i].Objects))
	}
	var all []float64
	// own[i] are image i's pass-A contributions to the reference objects'
	// scales; pass B leaves them out while it scores image i, so that no
	// good image is scored with a scale fitted on itself (that would make
	// the leave-one-out spread smaller than a new frame's).
	own := make([][]scaleShare, n)
	for pass := 0; pass < 2; pass++ {
		for i := range bank.Refs {
			if err := ctx.Err(); err != nil {
				return err
			}
			q, err := views(i)
			if err != nil {
				return err
			}
			refs := make([]*view, len(nbrs[i]))
			refDesc := make([][][]float32, len(nbrs[i]))
			for r, j := range nbrs[i] {
				if refs[r], err = views(j); err != nil {
					return err
				}
				refDesc[r] = descsOf(bank.Refs[j].Objects)
			}
			if pass == 1 {
				restoreW := withoutPeer(bank, stab, near[i], i)
				extra := make([]countRef, 0, len(near[i])-len(refs))
				for _, j := range near[i][len(refs):] {
					extra = append(extra, countRef{descsOf(bank.Refs[j].Objects), bank.Refs[j].Objects})
				}
				restore := withoutShares(bank, own[i], sums, counts)
				a := assess(q, descsOf(bank.Refs[i].Objects), refs, refDesc, extra, nil, pr, make([]float32, q.W*q.H))
				restore()
				restoreW()
				S[i], L[i] = a.structural, a.logical
				continue
			}
			restoreW := withoutPeer(bank, stab, nbrs[i], i)
			a := assess(q, descsOf(bank.Refs[i].Objects), refs, refDesc, nil, nil, pr, make([]float32, q.W*q.H))
			restoreW()
			for o, mx := range a.objMax {
				if mx <= 0 {
					continue
				}
				all = append(all, float64(mx))
				for r, j := range a.partners[o] {
					if j >= 0 {
						ref := nbrs[i][r]
						sums[ref][j] += float64(mx)
						counts[ref][j]++
						own[i] = append(own[i], scaleShare{ref, j, float64(mx)})
					}
				}
			}
		}
		if pass == 0 {
			for i := range bank.Refs {
				for j := range bank.Refs[i].Objects {
					if counts[i][j] > 0 {
						bank.Refs[i].Objects[j].StructScale = float32(sums[i][j] / float64(counts[i][j]))
					}
				}
			}
			cal.StructScale = 1
			if len(all) > 0 {
				cal.StructScale = quantile(all, 0.5)
			}
			pr.structScale = cal.StructScale
		}
	}
	cal.LOOStruct, cal.LOOLogic = append([]float64(nil), S...), append([]float64(nil), L...)
	cal.StructMean, cal.StructStd = meanStd(S)
	cal.StructStd = max(cal.StructStd, sdStructFrac*math.Abs(cal.StructMean), 1e-9)
	cal.LogicMean, cal.LogicStd = meanStd(L)
	cal.LogicStd = max(cal.LogicStd, sdLogicFloor)
	// Rule 7 follows in Enroll, once the other terms have their scores.
	return nil
}

// stability is how a reference's objects were matched in its peers (rule 4).
type stability struct {
	peers []int       // the good images it was matched against
	kept  [][]float64 // per peer, per object: mass kept out of the dustbin
	sum   []float64   // per object: kept mass summed over the peers
}

// withoutPeer sets the weights of the objects of references refs to what
// they would be without good image q among their peers, so that q is not
// inspected with weights fitted on itself, and returns the function that
// puts the full weights back.
func withoutPeer(bank *Bank, stab []stability, refs []int, q int) func() {
	var changed []int
	for _, r := range refs {
		st := &stab[r]
		for t, j := range st.peers {
			if j != q || len(st.peers) < 2 {
				continue
			}
			for a := range bank.Refs[r].Objects {
				bank.Refs[r].Objects[a].Weight = float32((st.sum[a] - st.kept[t][a]) / float64(len(st.peers)-1))
			}
			changed = append(changed, r)
		}
	}
	return func() {
		for _, r := range changed {
			st := &stab[r]
			for a := range bank.Refs[r].Objects {
				bank.Refs[r].Objects[a].Weight = float32(st.sum[a] / float64(len(st.peers)))
			}
		}
	}
}

// scaleShare is one leave-one-out image's contribution to the scale of
// object obj of reference ref.
type scaleShare struct {
	ref, obj int
	v        float64
}

// withoutShares sets the scales of the objects in shares to their mean
// without those shares (0, i.e. the fallback, where nothing else is left)
// and returns the function that puts the full scales back.
func withoutShares(bank *Bank, shares []scaleShare, sums [][]float64, counts [][]int) func() {
	type key struct{ ref, obj int }
	less := map[key]struct {
		sum float64
		n   int
	}{}
	for _, s := range shares {
		k := key{s.ref, s.obj}
		e := less[k]
		e.sum += s.v
		e.n++
		less[k] = e
	}
	for k, e := range less {
		o := &bank.Refs[k.ref].Objects[k.obj]
		o.StructScale = 0
		if n := counts[k.ref][k.obj] - e.n; n > 0 {
			o.StructScale = float32((sums[k.ref][k.obj] - e.sum) / float64(n))
		}
	}
	return func() {
		for k := range less {
			bank.Refs[k.ref].Objects[k.obj].StructScale = float32(sums[k.ref][k.obj] / float64(counts[k.ref][k.obj]))
		}
	}
}

// refViews returns a function giving reference i's upsampled view with
// its objects. Views are cached when they fit in 1 GiB, else recomputed.
func refViews(ctx context.Context, be *Backend, p config.Pipeline, bank *Bank, items []enrolled) (func(i int) (*view, error), error) {
	build := func(i int) (*view, error) {
		r := &bank.Refs[i]
		v, err := upsampleView(be, items[i].img, items[i].feat, p.Upsample, nil)
		if err != nil {
			return nil, fmt.Errorf("calibrate: %s: %w", r.Name, err)
		}
		v.Labels, v.Objects = r.Labels, r.Objects
		return v, nil
	}
	r0 := bank.Refs[0]
	if bytes := len(bank.Refs) * r0.MapW * r0.MapH * r0.Feat.C * 4; bytes > 1<<30 {
		return build, nil
	}
	cache := make([]*view, len(bank.Refs))
	err := firstError(len(cache), workpool.Workers(p.Workers), func(i int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		v, err := build(i)
		cache[i] = v
		return err
	})
	if err != nil {
		return nil, err
	}
	return func(i int) (*view, error) { return cache[i], nil }, nil
}

// mutualBest returns the cosine similarities of the mutually best pairs
// between two descriptor sets.
func mutualBest(a, b [][]float32) []float64 {
	if len(a) == 0 || len(b) == 0 {
		return nil
	}
	bestA := make([]int, len(a))
	bestB := make([]int, len(b))
	valB := make([]float32, len(b))
	for j := range valB {
		valB[j] = -2
	}
	var out []float64
	for i := range a {
		best := float32(-2)
		for j := range b {
			s := dot(a[i], b[j])
			if s > best {
				best, bestA[i] = s, j
			}
			if s > valB[j] {
				valB[j], bestB[j] = s, i
			}
		}
	}
	for i, j := range bestA {
		if bestB[j] == i {
			out = append(out, float64(dot(a[i], b[j])))
		}
	}
	return out
}

// quantile returns the q-quantile of xs, Hyndman–Fan type 7 (linear
// interpolation); xs is sorted in place.
func quantile(xs []float64, q float64) float64 {
	sort.Float64s(xs)
	return quantilepkg.Linear(xs, q)
}

func meanStd(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	if len(xs) > 1 {
		sd = math.Sqrt(sd / float64(len(xs)-1))
	}
	return mean, sd
}
