package infer

import (
	"math"
	"math/rand/v2"
	"testing"
)

// directSinkhorn is the textbook Sinkhorn-Knopp on K = exp(couplings) in
// the probability domain, with SuperGlue's marginals, as an independent
// reference for the log-domain implementation.
func directSinkhorn(scores []float64, m, n int, alpha float64, iters int) []float64 {
	w := n + 1
	k := make([]float64, (m+1)*w)
	for i := 0; i <= m; i++ {
		for j := 0; j <= n; j++ {
			s := alpha
			if i < m && j < n {
				s = scores[i*n+j]
			}
			k[i*w+j] = math.Exp(s)
		}
	}
	mu := make([]float64, m+1)
	nu := make([]float64, n+1)
	for i := range mu {
		mu[i] = 1
	}
	for j := range nu {
		nu[j] = 1
	}
	mu[m], nu[n] = float64(n), float64(m)
	u := make([]float64, m+1)
	v := make([]float64, n+1)
	for i := range u {
		u[i] = 1
	}
	for j := range v {
		v[j] = 1
	}
	for it := 0; it < iters; it++ {
		for i := 0; i <= m; i++ {
			var s float64
			for j := 0; j <= n; j++ {
				s += k[i*w+j] * v[j]
			}
			u[i] = mu[i] / s
		}
		for j := 0; j <= n; j++ {
			var s float64
			for i := 0; i <= m; i++ {
				s += k[i*w+j] * u[i]
			}
			v[j] = nu[j] / s
		}
	}
	p := make([]float64, len(k))
	for i := 0; i <= m; i++ {
		for j := 0; j <= n; j++ {
			p[i*w+j] = u[i] * k[i*w+j] * v[j]
		}
	}
	return p
}

func TestSinkhornMarginalsAndDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][2]int{{3, 3}, {4, 6}, {7, 2}, {1, 5}} {
		m, n := sz[0], sz[1]
		s := make([]float64, m*n)
		for i := range s {
			s[i] = 3 * rng.NormFloat64()
		}
		logP := sinkhorn(s, m, n, 0.5, 200)
		w := n + 1
		// Real rows and columns sum to 1; the dustbin row to n, column to m.
		for i := 0; i <= m; i++ {
			var sum float64
			for j := 0; j <= n; j++ {
				sum += math.Exp(logP[i*w+j])
			}
			want := 1.0
			if i == m {
				want = float64(n)
			}
			if math.Abs(sum-want) > 1e-6 {
				t.Errorf("%dx%d row %d sums to %g, want %g", m, n, i, sum, want)
			}
		}
		for j := 0; j <= n; j++ {
			var sum float64
			for i := 0; i <= m; i++ {
				sum += math.Exp(logP[i*w+j])
			}
			want := 1.0
			if j == n {
				want = float64(m)
			}
			if math.Abs(sum-want) > 1e-6 {
				t.Errorf("%dx%d column %d sums to %g, want %g", m, n, j, sum, want)
			}
		}
		direct := directSinkhorn(s, m, n, 0.5, 200)
		for i := range direct {
			if d := math.Abs(math.Exp(logP[i]) - direct[i]); d > 1e-6 {
				t.Fatalf("%dx%d entry %d: log-domain %g, direct %g", m, n, i, math.Exp(logP[i]), direct[i])
			}
		}
	}
}

func TestSinkhornEmptySides(t *testing.T) {
	p := sinkhorn(nil, 0, 3, 1, 10)
	for j := 0; j < 3; j++ {
		if math.Exp(p[j]) != 1 {
			t.Fatalf("reference object %d of an empty query should be all dustbin", j)
		}
	}
}

// unit returns a one-hot descriptor plus a little noise.
func unit(c, hot int, rng *rand.Rand) []float32 {
	v := make([]float32, c)
	v[hot] = 1
	for i := range v {
		v[i] += 0.05 * float32(rng.NormFloat64())
	}
	normalize(v)
	return v
}

func TestMatchMissingExtraAndPermutation(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ref := [][]float32{unit(8, 0, rng), unit(8, 1, rng), unit(8, 2, rng), unit(8, 3, rng)}
	// Query: object 2 missing, objects permuted, one new object (hot 6).
	q := [][]float32{unit(8, 3, rng), unit(8, 6, rng), unit(8, 0, rng), unit(8, 1, rng)}
	mt := match(q, ref, 0.5, 0.05, 0.2, 100)
	want := []int{3, -1, 0, 1}
	for i, j := range want {
		if mt.Match[i] != j {
			t.Errorf("query %d matched %d, want %d", i, mt.Match[i], j)
		}
	}
	if mt.RefMatched[2] {
		t.Error("reference object 2 is missing from the query but was matched")
	}
	if p := mt.p(1, mt.N); p < 0.9 {
		t.Errorf("new object's dustbin mass %.3f, want > 0.9", p)
	}
	if p := mt.p(mt.M, 2); p < 0.9 {
		t.Errorf("missing object's dustbin mass %.3f, want > 0.9", p)
	}
}

func TestMatchCountsIdenticalObjects(t *testing.T) {
	// Two identical washers in the reference, three in the query: one
	// washer's worth of mass must go to the dustbin although each query
	// washer alone looks perfect.
	rng := rand.New(rand.NewPCG(5, 6))
	ref := [][]float32{unit(8, 0, rng), unit(8, 0, rng), unit(8, 4, rng)}
	q := [][]float32{unit(8, 0, rng), unit(8, 0, rng), unit(8, 0, rng), unit(8, 4, rng)}
	mt := match(q, ref, 0.5, 0.05, 0.2, 200)
	var dust float64
	for i := 0; i < 3; i++ {
		dust += mt.p(i, mt.N)
	}
	if math.Abs(dust-1) > 0.1 {
		t.Errorf("dustbin mass of the washers %.3f, want ~1", dust)
	}
}
