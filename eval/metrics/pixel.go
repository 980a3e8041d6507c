package metrics

import (
	"fmt"
	"math"
)

// pixelBins is the histogram size of PixelAUROC: the top 20 bits of an
// order-preserving float32 key (sign, exponent and 11 mantissa bits).
const (
	pixelKeyBits = 20
	pixelBins    = 1 << pixelKeyBits
)

// PixelAUROC accumulates per-pixel scores and labels image by image in a
// fixed 16 MiB histogram, so a data set of any size fits in memory. Scores
// that agree in their sign, exponent and leading 11 mantissa bits (a
// relative difference below 2^-11, about 0.05%) share a bin and count as
// ties; apart from that the result equals the exact pixel AUROC.
type PixelAUROC struct {
	pos, neg []uint64
}

// NewPixelAUROC returns an empty accumulator.
func NewPixelAUROC() *PixelAUROC {
	return &PixelAUROC{pos: make([]uint64, pixelBins), neg: make([]uint64, pixelBins)}
}

// orderedKey maps a float32 to a uint32 whose order is the float order.
func orderedKey(f float32) uint32 {
	b := math.Float32bits(f)
	if b&0x80000000 != 0 {
		return ^b
	}
	return b | 0x80000000
}

// Add counts one image: scores and its ground truth (true = defect), of
// equal length.
func (p *PixelAUROC) Add(scores []float32, defect []bool) error {
	if len(scores) != len(defect) {
		return fmt.Errorf("pixel auroc: %d scores but %d ground-truth pixels", len(scores), len(defect))
	}
	for i, s := range scores {
		if s != s {
			return fmt.Errorf("pixel auroc: score at pixel %d is NaN", i)
		}
		k := orderedKey(s) >> (32 - pixelKeyBits)
		if defect[i] {
			p.pos[k]++
		} else {
			p.neg[k]++
		}
	}
	return nil
}

// AUROC returns the pixel AUROC of everything added so far.
func (p *PixelAUROC) AUROC() (float64, error) {
	var nPos, nNeg float64
	for k := range p.pos {
		nPos += float64(p.pos[k])
		nNeg += float64(p.neg[k])
	}
	if nPos == 0 || nNeg == 0 {
		return 0, fmt.Errorf("pixel auroc over %d defect and %d normal pixels: %w", int64(nPos), int64(nNeg), ErrOneClass)
	}
	// Walk bins from low to high score: each defect pixel beats all normal
	// pixels in lower bins and ties with those in its own bin.
	var below, u float64
	for k := range p.pos {
		pos, neg := float64(p.pos[k]), float64(p.neg[k])
		u += pos * (below + neg/2)
		below += neg
	}
	return u / (nPos * nNeg), nil
}
