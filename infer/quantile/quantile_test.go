package quantile

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat"
)

// The implementations this package replaced, verbatim but for their names:
// infer/calibrate.go quantile, eval/metrics Quantile, infer/threshold.go
// lowerQuantile and daemon/stats.go percentile. Each replacement must give
// the same bits.

func oldCalibrateQuantile(xs []float64, q float64) float64 {
	sort.Float64s(xs)
	pos := q * float64(len(xs)-1)
	lo := int(pos)
	hi := min(lo+1, len(xs)-1)
	return xs[lo] + (xs[hi]-xs[lo])*(pos-float64(lo))
}

func oldMetricsQuantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := q * float64(len(sorted)-1)
	lo := int(pos)
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (sorted[hi]-sorted[lo])*(pos-float64(lo))
}

func oldLowerQuantile(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[int(math.Floor(q*float64(len(s)-1)))]
}

func oldPercentile(sorted []time.Duration, p float64) time.Duration {
	i := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// samples yields random sorted samples: sizes 1 to 300, spreads from ties
// to heavy tails, and quantiles including 0, 1 and the ones the code asks.
func samples(t *testing.T, f func(x []float64, q float64)) {
	t.Helper()
	r := rand.New(rand.NewPCG(16, 5))
	fixed := []float64{0, 0.05, 0.1, 0.5, 0.95, 0.99, 1}
	for range 3000 {
		n := 1 + r.IntN(300)
		x := make([]float64, n)
		for i := range x {
			switch r.IntN(3) {
			case 0:
				x[i] = r.NormFloat64()
			case 1:
				x[i] = math.Exp(3 * r.NormFloat64())
			default:
				x[i] = float64(r.IntN(4)) // ties
			}
		}
		slices.Sort(x)
		f(x, fixed[r.IntN(len(fixed))])
		f(x, r.Float64())
	}
}

func TestLinearMatchesReplacedCode(t *testing.T) {
	samples(t, func(x []float64, q float64) {
		got := Linear(x, q)
		if a := oldCalibrateQuantile(slices.Clone(x), q); math.Float64bits(got) != math.Float64bits(a) {
			t.Fatalf("n=%d q=%v: Linear %v, calibrate's quantile %v", len(x), q, got, a)
		}
		if b := oldMetricsQuantile(x, q); math.Float64bits(got) != math.Float64bits(b) {
			t.Fatalf("n=%d q=%v: Linear %v, metrics.Quantile %v", len(x), q, got, b)
		}
	})
}

func TestLowerMatchesReplacedCode(t *testing.T) {
	samples(t, func(x []float64, q float64) {
		shuffled := slices.Clone(x)
		rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got, want := Lower(x, q), oldLowerQuantile(shuffled, q); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("n=%d q=%v: Lower %v, lowerQuantile %v", len(x), q, got, want)
		}
	})
}

func TestNearestRankMatchesReplacedCode(t *testing.T) {
	samples(t, func(x []float64, p float64) {
		d := make([]time.Duration, len(x))
		for i := range d {
			d[i] = time.Duration(i)
		}
		if got, want := d[NearestRankIndex(len(d), p)], oldPercentile(d, p); got != want {
			t.Fatalf("n=%d p=%v: index %d, percentile %d", len(d), p, got, want)
		}
	})
}

// Type 7 at q is type 4 (gonum's LinInterp) at p = (q*(n-1)+1)/n: both
// interpolate at the same order statistic position. gonum forms the
// interpolation differently, so they agree to rounding, not to the bit.
func TestLinearAgreesWithGonumLinInterp(t *testing.T) {
	samples(t, func(x []float64, q float64) {
		n := float64(len(x))
		p := min((q*(n-1)+1)/n, 1)
		got, want := Linear(x, q), stat.Quantile(p, stat.LinInterp, x, nil)
		scale := max(math.Abs(x[0]), math.Abs(x[len(x)-1]), 1)
		if math.Abs(got-want) > 1e-9*scale {
			t.Fatalf("n=%d q=%v: Linear %v, gonum LinInterp at %v: %v", len(x), q, got, p, want)
		}
	})
}

// NearestRankIndex is type 1, gonum's Empirical, except where p*n lies
// within 1e-6 above a whole number (a product that rounding pushed over it).
func TestNearestRankAgreesWithGonumEmpirical(t *testing.T) {
	samples(t, func(x []float64, p float64) {
		pn := p * float64(len(x))
		if f := pn - math.Floor(pn); f > 0 && f <= 1e-6 {
			return
		}
		idx := make([]float64, len(x))
		for i := range idx {
			idx[i] = float64(i)
		}
		got, want := NearestRankIndex(len(x), p), int(stat.Quantile(p, stat.Empirical, idx, nil))
		if got != want {
			t.Fatalf("n=%d p=%v: index %d, gonum Empirical %d", len(x), p, got, want)
		}
	})
}

// Lower is the order statistic below Linear's position, and Linear lies
// between it and the next one.
func TestLowerBracketsLinear(t *testing.T) {
	samples(t, func(x []float64, q float64) {
		i := LowerIndex(len(x), q)
		lin := Linear(x, q)
		if Lower(x, q) != x[i] || lin < x[i] || lin > x[min(i+1, len(x)-1)] {
			t.Fatalf("n=%d q=%v: lower index %d (%v), linear %v", len(x), q, i, x[i], lin)
		}
	})
}

func TestNearestRankRounding(t *testing.T) {
	// The 99th of 100 and the median of 4 and of 5.
	for _, c := range []struct {
		n    int
		p    float64
		want int
	}{{100, 0.99, 98}, {4, 0.5, 1}, {5, 0.5, 2}, {1, 0.99, 0}, {3, 0, 0}, {3, 1, 2}} {
		if got := NearestRankIndex(c.n, c.p); got != c.want {
			t.Errorf("NearestRankIndex(%d, %v) = %d, want %d", c.n, c.p, got, c.want)
		}
	}
}
