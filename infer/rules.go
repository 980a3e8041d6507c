package infer

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Rules are what enrolment learned about the product from its good images
// alone, each with the figure it was decided from. A recipe would have set
// them by hand; here they are measured, stored in the bank and printed by
// enroll.
type Rules struct {
	// Parts is the number of stable parts (objects found in at least half
	// of the other good images) in the median good image; Clutter the
	// number of its other segments, which count little (their weight).
	Parts, Clutter int
	// Fixed and Loose count the stable parts of all good images whose
	// place recurs (the nearest like part in the other good images lies
	// within reachLoose of the image side) and whose place does not.
	Fixed, Loose int
	// MedianReach is the median learned reach of the stable parts, as a
	// fraction of the image side: how far the layout step looks for a
	// part's like in another image.
	MedianReach float64
	// Group is whether segments close together are one part, Mirror
	// whether a part's mirror image counts as wrong.
	Group  GroupRule
	Mirror MirrorRule
	// Register is whether images are aligned onto the good images
	// (register.go).
	Register RegisterRule
}

// GroupRule is the layout step's grouping decision (layout.group) and what
// it was learned from.
type GroupRule struct {
	On bool
	// Learned is false when layout.group set On by hand.
	Learned bool
	// Radius is the distance, as a fraction of the image side, within which
	// segments are joined, transitively, into one part.
	Radius float64
	// Segments and Parts are the mean numbers of segments and of joined
	// parts per good image, SegmentsCV and PartsCV their coefficients of
	// variation over the good images.
	Segments, Parts, SegmentsCV, PartsCV float64
}

const (
	// groupSteadier is the most the joined parts' coefficient of variation
	// may be, as a share of the segments', for joining to be learned: a
	// segmenter that cuts parts into a varying number of pieces leaves the
	// number of parts steady and that of segments not.
	groupSteadier = 0.5
	// groupPieces is the fewest segments per joined part for joining to be
	// learned.
	groupPieces = 1.25
)

// learnGrouping decides whether the segments of the good images are joined
// into parts within radius: on when joining them makes the number of parts
// per image clearly steadier than that of segments. Parts kept whole in
// fixed neighbourhoods (a kit's compartments) give steady numbers either
// way and stay apart.
func learnGrouping(refs []Reference, radius float64) GroupRule {
	rule := GroupRule{Learned: true, Radius: radius}
	if len(refs) == 0 {
		return rule
	}
	segs, parts := make([]float64, len(refs)), make([]float64, len(refs))
	for i, r := range refs {
		segs[i] = float64(len(r.Objects))
		for j, p := range layoutGroups(r.Objects, radius*float64(r.MapW)) {
			if p == j {
				parts[i]++
			}
		}
	}
	var sdS, sdP float64
	rule.Segments, sdS = meanStd(segs)
	rule.Parts, sdP = meanStd(parts)
	if rule.Segments == 0 || rule.Parts == 0 {
		return rule
	}
	rule.SegmentsCV, rule.PartsCV = sdS/rule.Segments, sdP/rule.Parts
	rule.On = rule.SegmentsCV > 0 && rule.PartsCV <= groupSteadier*rule.SegmentsCV && rule.Segments >= groupPieces*rule.Parts
	return rule
}

// MirrorRule is the layout step's mirror decision (layout.mirror) and what
// it was learned from: each stable part of a good image is compared, within
// its reach, with the parts of its mirrorPeers nearest good images, as it
// is and mirrored left-right.
type MirrorRule struct {
	On bool
	// Learned is false when layout.mirror set On by hand.
	Learned bool
	// Gap is the median of how much better (cosine) a part fits its like
	// than its mirror image does, over the Compared comparisons.
	// Separation is the chance that a good part's gap exceeds that of a
	// mirrored good part (the gap negated): 0.5 when mirroring changes
	// nothing (a symmetric part) or good parts lie either side up, near 1
	// when a mirrored part stands out.
	Gap, Separation float64
	Compared        int
}

const (
	// mirrorPeers is how many nearest good images a part is compared with.
	mirrorPeers = 8
	// mirrorSeparation is the separation from which mirror images count as
	// wrong: a mirrored part would then fit worse than a good one three
	// times in four by its shape alone.
	mirrorSeparation = 0.75
)

// learnMirror decides whether mirror images count as wrong, from the
// references' raw layout descriptors with outline histograms (lb holds
// their mean and the smallest part area).
func learnMirror(refs []Reference, raw [][][]float32, lb *LayoutBank, ix *refIndex) MirrorRule {
	own := make([][][]float32, len(raw))
	mir := make([][][]float32, len(raw))
	for r, ds := range raw {
		cp := make([][]float32, len(ds))
		for j, d := range ds {
			cp[j] = slices.Clone(d)
		}
		own[r] = finishLayout(cp, lb.Mean)
		mir[r] = layoutMirrors(ds, lb)
	}
	var gaps []float64
	for i := range refs {
		r := &refs[i]
		w, h := float64(r.MapW), float64(r.MapH)
		minArea := int(math.Ceil(lb.MinArea * w * h))
		peers := ix.others(i, mirrorPeers)
		for a, o := range r.Objects {
			if o.Weight < layoutStable || o.Area < minArea {
				continue
			}
			reach := float64(o.Reach)
			for _, j := range peers {
				fit, fitMir := math.Inf(-1), math.Inf(-1)
				for b, p := range refs[j].Objects {
					dx, dy := float64(p.CX-o.CX)/w, float64(p.CY-o.CY)/h
					if p.Area < minArea || dx*dx+dy*dy > reach*reach {
						continue
					}
					fit = max(fit, float64(dot(own[i][a], own[j][b])))
					fitMir = max(fitMir, float64(dot(mir[i][a], own[j][b])))
				}
				if !math.IsInf(fit, -1) {
					gaps = append(gaps, fit-fitMir)
				}
			}
		}
	}
	rule := MirrorRule{Learned: true, Compared: len(gaps)}
	if len(gaps) == 0 {
		return rule
	}
	rule.Gap = quantile(gaps, 0.5)
	rule.Separation = separation(gaps)
	rule.On = rule.Separation >= mirrorSeparation
	return rule
}

// separation returns the share of pairs (a, b) of gaps with a > -b, ties
// counting half: the AUROC of the gaps against the gaps negated.
func separation(gaps []float64) float64 {
	s := slices.Clone(gaps)
	slices.Sort(s)
	n := len(s)
	var wins float64
	for _, a := range s {
		lo, _ := slices.BinarySearch(s, -a)
		hi := lo
		for hi < n && s[hi] == -a {
			hi++
		}
		wins += float64(n-hi) + float64(hi-lo)/2
	}
	return wins / float64(n*n)
}

const (
	// reachQuantile and reachScale turn a part's displacements to its
	// nearest like in the other good images into its reach: the
	// displacement most good images stay within, with room for the frame.
	reachQuantile = 0.9
	reachScale    = 2
	// reachFloor is the smallest reach (pose jitter and segmentation
	// noise move a centroid by a few pixels even in a fixed place).
	reachFloor = 0.06
	// reachLoose is the reach from which a part counts as loose: its like
	// may be anywhere in the frame, so the layout step only counts it.
	reachLoose = 0.35
	// reachMinPeers is the fewest peers with a like part from which a
	// part's own reach is trusted; others take the median reach.
	reachMinPeers = 3
)

// learnReach sets each reference object's Reach: for each of its peers (the
// nearest other good images), the distance to the nearest object whose
// descriptor's cosine to it reaches dustbin (what the matching would
// accept), and the reach from their reachQuantile. A part in a fixed place
// finds its like nearby in every good image; a part placed anywhere finds
// it anywhere; a part that turns within its compartment, within the
// compartment.
func learnReach(bank *Bank, peers [][]int, dustbin float64) Rules {
	var reaches []float64
	var rules Rules
	var parts, clutter []int
	for i := range bank.Refs {
		r := &bank.Refs[i]
		side := float64(max(r.MapW, r.MapH))
		np := 0
		for a := range r.Objects {
			o := &r.Objects[a]
			var disp []float64
			for _, j := range peers[i] {
				best := math.Inf(1)
				for _, b := range bank.Refs[j].Objects {
					if float64(dot(o.Desc, b.Desc)) < dustbin {
						continue
					}
					best = min(best, math.Hypot(float64(o.CX-b.CX), float64(o.CY-b.CY))/side)
				}
				if !math.IsInf(best, 1) {
					disp = append(disp, best)
				}
			}
			o.Reach = 0
			if len(disp) >= reachMinPeers {
				o.Reach = float32(min(max(reachScale*quantile(disp, reachQuantile), reachFloor), 1))
			}
			if o.Weight >= layoutStable {
				np++
				if o.Reach > 0 {
					reaches = append(reaches, float64(o.Reach))
				}
				if o.Reach == 0 || float64(o.Reach) >= reachLoose {
					rules.Loose++
				} else {
					rules.Fixed++
				}
			}
		}
		parts = append(parts, np)
		clutter = append(clutter, len(r.Objects)-np)
	}
	rules.MedianReach = 1
	if len(reaches) > 0 {
		rules.MedianReach = quantile(reaches, 0.5)
	}
	for i := range bank.Refs {
		for a := range bank.Refs[i].Objects {
			if o := &bank.Refs[i].Objects[a]; o.Reach == 0 {
				o.Reach = float32(rules.MedianReach)
			}
		}
	}
	rules.Parts, rules.Clutter = medianInt(parts), medianInt(clutter)
	return rules
}

// String is the grouping rule as enroll prints it.
func (g GroupRule) String() string {
	on := fmt.Sprintf("segments within %.2f of the image side are one part", g.Radius)
	if !g.On {
		on = "each segment is a part of its own"
	}
	if !g.Learned {
		return "grouping: " + on + " (layout.group set by hand)"
	}
	return fmt.Sprintf("grouping: %s (per good image %.1f segments, spread %.0f%%, and %.1f parts joined, spread %.0f%%; joined from %g segments per part and half the spread)",
		on, g.Segments, 100*g.SegmentsCV, g.Parts, 100*g.PartsCV, groupPieces)
}

// String is the mirror rule as enroll prints it.
func (m MirrorRule) String() string {
	on := "mirror images count as wrong"
	if !m.On {
		on = "mirror images pass"
	}
	switch {
	case !m.Learned:
		return "mirror: " + on + " (layout.mirror set by hand)"
	case m.Compared == 0:
		return "mirror: " + on + " (no stable part to learn it from)"
	}
	return fmt.Sprintf("mirror: %s (a mirrored good part would fit worse than a good one %.0f%% of the time, %.0f%% needed; median fit gap %.3f over %d comparisons)",
		on, 100*m.Separation, 100*mirrorSeparation, m.Gap, m.Compared)
}

func medianInt(xs []int) int {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// String is the rules as enroll prints them.
func (r Rules) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "parts per good image: %d stable, %d clutter segments (counted by their stability)\n", r.Parts, r.Clutter)
	layout := "fixed"
	switch {
	case r.Loose > 0 && r.Fixed > 0:
		layout = "mixed"
	case r.Fixed == 0:
		layout = "loose"
	}
	fmt.Fprintf(&b, "layout: %s (%d stable parts recur in place, %d lie anywhere; median reach %.2f of the image side, loose from %.2f)\n", layout, r.Fixed, r.Loose, r.MedianReach, reachLoose)
	b.WriteString(r.Group.String() + "\n" + r.Mirror.String() + "\n" + r.Register.String())
	return b.String()
}
