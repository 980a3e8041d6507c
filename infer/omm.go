package infer

import "math"

// matching is the Object Matching Module's result for one reference.
type matching struct {
	M, N int
	// LogP is the (M+1) x (N+1) log assignment matrix, dustbins last.
	LogP []float64
	// Match[i] is the reference object matched to query object i, or -1.
	Match []int
	// Nearest[i] is the reference object with the largest assignment to
	// query object i (its partner when unmatched), or -1 when N = 0.
	Nearest []int
	// RefMatched[j] says whether reference object j is matched.
	RefMatched []bool
}

// p returns the assignment probability of (i, j); i = M or j = N is a dustbin.
func (m *matching) p(i, j int) float64 { return math.Exp(m.LogP[i*(m.N+1)+j]) }

// match runs the OMM (paper 3.5.2): cosine scores of the normalised
// descriptors over temperature tau, a dustbin row and column of score
// dustbin/tau, log-domain Sinkhorn, then mutual argmax above threshold.
func match(q, r [][]float32, dustbin, tau, threshold float64, iters int) *matching {
	nf, ni, nb := matchSizes(len(q), len(r))
	res := &matching{}
	matchInto(res, make([]float64, nf), make([]int, ni), make([]bool, nb), q, r, dustbin, tau, threshold, iters)
	return res
}

// matchSizes returns how many float64s, ints and bools matchInto needs for
// m query and n reference objects.
func matchSizes(m, n int) (floats, ints, bools int) {
	return m*n + sinkhornLen(m, n), 2*m + n, n
}

// matchInto is match writing into res, with its storage carved from
// floats, ints and bools (sized by matchSizes), so that a caller matching
// against several references can allocate once for all of them.
func matchInto(res *matching, floats []float64, ints []int, bools []bool, q, r [][]float32, dustbin, tau, threshold float64, iters int) {
	m, n := len(q), len(r)
	s := floats[:m*n]
	for i := range q {
		for j := range r {
			s[i*n+j] = float64(dot(q[i], r[j])) / tau
		}
	}
	clear(bools[:n])
	*res = matching{M: m, N: n, LogP: sinkhornInto(floats[m*n:], s, m, n, dustbin/tau, iters),
		Match: ints[:m:m], Nearest: ints[m : 2*m : 2*m], RefMatched: bools[:n:n]}
	colBest := ints[2*m : 2*m+n]
	for j := 0; j < n; j++ {
		colBest[j] = -1
		best := math.Inf(-1)
		for i := 0; i < m; i++ {
			if v := res.LogP[i*(n+1)+j]; v > best {
				best, colBest[j] = v, i
			}
		}
	}
	logThr := math.Log(threshold)
	for i := 0; i < m; i++ {
		res.Match[i], res.Nearest[i] = -1, -1
		best := math.Inf(-1)
		for j := 0; j < n; j++ {
			if v := res.LogP[i*(n+1)+j]; v > best {
				best, res.Nearest[i] = v, j
			}
		}
		if j := res.Nearest[i]; j >= 0 && colBest[j] == i && best > logThr {
			res.Match[i] = j
			res.RefMatched[j] = true
		}
	}
}

// sinkhorn is SuperGlue's log_optimal_transport: scores (m x n) augmented
// with a dustbin row and column of value alpha; marginals 1 for every real
// row/column, n for the dustbin row and m for the dustbin column, all
// divided by m+n; iters alternating normalisations in the log domain. The
// returned log plan is scaled by m+n, so each real row and column sums to 1.
func sinkhorn(scores []float64, m, n int, alpha float64, iters int) []float64 {
	return sinkhornInto(make([]float64, sinkhornLen(m, n)), scores, m, n, alpha, iters)
}

// sinkhornLen is the length of sinkhornInto's buffer: the plan z, then the
// marginals and potentials.
func sinkhornLen(m, n int) int { return (m+1)*(n+1) + 2*(m+1) + 2*(n+1) }

// sinkhornInto is sinkhorn working in buf (sinkhornLen values); the
// returned plan is its start.
func sinkhornInto(buf, scores []float64, m, n int, alpha float64, iters int) []float64 {
	w := n + 1
	buf = buf[:sinkhornLen(m, n)]
	clear(buf) // the potentials start at 0
	z, buf := buf[:(m+1)*w:(m+1)*w], buf[(m+1)*w:]
	for i := 0; i <= m; i++ {
		for j := 0; j <= n; j++ {
			if i < m && j < n {
				z[i*w+j] = scores[i*n+j]
			} else {
				z[i*w+j] = alpha
			}
		}
	}
	norm := -math.Log(float64(m + n))
	logMu, logNu, u, v := buf[:m+1], buf[m+1:m+n+2], buf[m+n+2:2*m+n+3], buf[2*m+n+3:]
	for i := range logMu {
		logMu[i] = norm
	}
	for j := range logNu {
		logNu[j] = norm
	}
	logMu[m] = math.Log(float64(n)) + norm
	logNu[n] = math.Log(float64(m)) + norm
	if m == 0 || n == 0 {
		// Everything goes to the dustbins.
		for i := range z {
			z[i] = math.Inf(-1)
		}
		for i := 0; i < m; i++ {
			z[i*w+n] = 0
		}
		for j := 0; j < n; j++ {
			z[m*w+j] = 0
		}
		return z
	}
	for it := 0; it < iters; it++ {
		for i := 0; i <= m; i++ {
			u[i] = logMu[i] - logSumExp(z[i*w:(i+1)*w], v)
		}
		for j := 0; j <= n; j++ {
			v[j] = logNu[j] - logSumExpCol(z, w, m+1, j, u)
		}
	}
	for i := 0; i <= m; i++ {
		for j := 0; j <= n; j++ {
			z[i*w+j] += u[i] + v[j] - norm
		}
	}
	return z
}

// logSumExp returns log sum_j exp(row[j] + add[j]).
func logSumExp(row, add []float64) float64 {
	mx := math.Inf(-1)
	for j, x := range row {
		mx = max(mx, x+add[j])
	}
	if math.IsInf(mx, -1) {
		return mx
	}
	var s float64
	for j, x := range row {
		s += math.Exp(x + add[j] - mx)
	}
	return mx + math.Log(s)
}

// logSumExpCol returns log sum_i exp(z[i][j] + add[i]).
func logSumExpCol(z []float64, w, rows, j int, add []float64) float64 {
	mx := math.Inf(-1)
	for i := 0; i < rows; i++ {
		mx = max(mx, z[i*w+j]+add[i])
	}
	if math.IsInf(mx, -1) {
		return mx
	}
	var s float64
	for i := 0; i < rows; i++ {
		s += math.Exp(z[i*w+j] + add[i] - mx)
	}
	return mx + math.Log(s)
}
