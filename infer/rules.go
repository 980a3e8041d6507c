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
	fmt.Fprintf(&b, "layout: %s (%d stable parts recur in place, %d lie anywhere; median reach %.2f of the image side, loose from %.2f)", layout, r.Fixed, r.Loose, r.MedianReach, reachLoose)
	return b.String()
}
