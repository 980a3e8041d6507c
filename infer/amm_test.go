package infer

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// denseMahalanobis builds Sigma = cov(refs) + eps I as a C x C matrix and
// solves with gonum: the reference the low-rank path must equal.
func denseMahalanobis(x []float32, refs [][]float32, eps float64) float64 {
	c, k := len(x), len(refs)
	mu := make([]float64, c)
	for _, r := range refs {
		for i, v := range r {
			mu[i] += float64(v) / float64(k)
		}
	}
	sigma := mat.NewSymDense(c, nil)
	for a := 0; a < c; a++ {
		for b := 0; b <= a; b++ {
			var s float64
			if k > 1 {
				for _, r := range refs {
					s += (float64(r[a]) - mu[a]) * (float64(r[b]) - mu[b])
				}
				s /= float64(k - 1)
			}
			if a == b {
				s += eps
			}
			sigma.SetSym(a, b, s)
		}
	}
	d := mat.NewVecDense(c, nil)
	for i := range x {
		d.SetVec(i, float64(x[i])-mu[i])
	}
	var chol mat.Cholesky
	if !chol.Factorize(sigma) {
		panic("not SPD")
	}
	var y mat.VecDense
	if err := chol.SolveVecTo(&y, d); err != nil {
		panic(err)
	}
	return math.Sqrt(mat.Dot(d, &y))
}

func TestMahalanobisLowRankMatchesDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		c, k int
		eps  float64
	}{{6, 1, 0.01}, {6, 2, 0.01}, {10, 3, 0.1}, {12, 5, 0.001}, {5, 8, 0.5}} {
		refs := make([][]float32, tc.k)
		for r := range refs {
			refs[r] = make([]float32, tc.c)
			for i := range refs[r] {
				refs[r][i] = float32(rng.NormFloat64())
			}
		}
		for trial := 0; trial < 5; trial++ {
			x := make([]float32, tc.c)
			for i := range x {
				x[i] = float32(2 * rng.NormFloat64())
			}
			got := mahalanobis(x, refs, tc.eps, make([]float64, scratchSize(tc.k, tc.c)))
			want := denseMahalanobis(x, refs, tc.eps)
			if math.Abs(got-want) > 1e-6*max(1, want) {
				t.Errorf("C=%d k=%d eps=%g: low-rank %.9g, dense %.9g", tc.c, tc.k, tc.eps, got, want)
			}
		}
	}
}

func TestMahalanobisOfMeanIsZero(t *testing.T) {
	refs := [][]float32{{1, 2, 3}, {3, 2, 1}}
	if m := mahalanobis([]float32{2, 2, 2}, refs, 0.01, make([]float64, scratchSize(2, 3))); m > 1e-9 {
		t.Fatalf("distance of the mean is %g, want 0", m)
	}
}
