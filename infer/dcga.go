package infer

import "math"

// Descriptor kinds (config.Pipeline.Descriptor).
const (
	DescDCGA = "dcga"
	DescGMP  = "gmp"
	DescGAP  = "gap"
)

// eca1D is the fixed 1-D convolution W of eq. 4 along the channel axis.
// STAND-IN: the paper uses pre-trained AGCA weights [36], which we do not
// have; a fixed 3-tap smoothing kernel keeps the form of eq. 4 (attention
// from a channel's own and neighbouring responses) without training.
var eca1D = [3]float32{0.25, 0.5, 0.25}

// dcgaContext is the weight of the object graph term in our reading of eq. 8
// (see dcga).
const dcgaContext = 0.5

// describe squeezes each object of v to a raw descriptor with the
// configured method (before centring and normalisation, see finishDesc).
func describe(v *view, method, dcgaPooling string) [][]float32 {
	switch method {
	case DescGAP:
		return pool(v, false)
	case DescGMP:
		return pool(v, true)
	default:
		return dcga(pool(v, dcgaPooling != DescGAP))
	}
}

// descriptors is step 7: the query's DCGA descriptors, and from the bank
// those of the k first references near and of the rest, which only the
// logical count matches against.
func (e *Engine) descriptors(q *view, near []int, k int, b *buffers) (qDesc [][]float32, refDesc [][][]float32, extra []countRef) {
	qDesc = describe(q, e.p.Descriptor, e.p.DCGAPooling)
	finishDesc(qDesc, e.bank.DescMean, q, e.p.PositionWeight)
	refDesc = b.refDesc[:k]
	for i, r := range near[:k] {
		refDesc[i] = e.refDescs[r]
	}
	b.extra = b.extra[:0]
	for _, r := range near[k:] {
		b.extra = append(b.extra, countRef{e.refDescs[r], e.bank.Refs[r].Objects})
	}
	return qDesc, refDesc, b.extra
}

// finishDesc turns raw descriptors into matching descriptors in place:
// subtract the mean raw descriptor of the good images' objects (centring,
// so that cosine similarity compares what sets objects apart rather than
// what all objects share), L2-normalise, and with posWeight > 0 append the
// object's centroid in [-1,1] grid units scaled by posWeight and normalise
// again (position-aware matching for fixed layouts).
func finishDesc(d [][]float32, mean []float32, v *view, posWeight float64) {
	for i, x := range d {
		for c := range x {
			x[c] -= mean[c]
		}
		normalize(x)
		if posWeight > 0 {
			o := v.Objects[i]
			px := float32(posWeight) * (2*(o.CX+0.5)/float32(v.W) - 1)
			py := float32(posWeight) * (2*(o.CY+0.5)/float32(v.H) - 1)
			x = append(x[:len(x):len(x)], px, py)
			normalize(x)
			d[i] = x
		}
	}
}

// dcga is the Dynamic Channel Graph Attention of paper 3.5.1 on the
// squeezed object features fin (M x C, one row per object).
//
// Our reading of eq. 4-8, which the paper leaves ambiguous:
//   - Channel graph (per object): A0 = I (identity, already normalised) and
//     A1 = diag(softmax(W fin_m)) with W the 1-D channel convolution (eca1D,
//     a stand-in); softmax is over channels and scaled by C so the mean
//     weight is 1. A = A0 A1. The graph attention G(fin, A) is one graph
//     convolution fin_m A, i.e. fin_m * a_m element-wise since A is diagonal.
//   - "fin . G(fin, A)" under the sigmoid: we follow AGCA [36], where the
//     sigmoid of the graph response is a channel gate that multiplies the
//     input: X_m = fin_m * sigmoid(G_m). Applying the sigmoid to a product
//     and using that alone would discard the features' magnitudes.
//   - Object graph A2 (eq. 6-7): cosine similarity of the objects' inputs,
//     zero diagonal, negative similarities clipped to 0, rows normalised to
//     sum 1. A literal Y = A2 X would describe each object only by the other
//     objects (zero diagonal), which cannot tell objects apart for
//     one-to-one matching, so we keep the object itself:
//     Y = X + dcgaContext * A2 X.
func dcga(fin [][]float32) [][]float32 {
	m := len(fin)
	if m == 0 {
		return fin
	}
	c := len(fin[0])
	x := make([][]float32, m)
	a := make([]float64, c)
	for i, f := range fin {
		// A1: softmax over channels of W * f, scaled by C.
		mx := math.Inf(-1)
		for ch := 0; ch < c; ch++ {
			var s float32
			for t := -1; t <= 1; t++ {
				j := min(max(ch+t, 0), c-1)
				s += eca1D[t+1] * f[j]
			}
			a[ch] = float64(s)
			mx = max(mx, a[ch])
		}
		var z float64
		for ch := range a {
			a[ch] = math.Exp(a[ch] - mx)
			z += a[ch]
		}
		xi := make([]float32, c)
		for ch := range xi {
			g := float64(f[ch]) * a[ch] * float64(c) / z // G = fin A
			xi[ch] = f[ch] * float32(1/(1+math.Exp(-g)))
		}
		x[i] = xi
	}
	// A2 from cosine similarity of the inputs.
	unit := make([][]float32, m)
	for i, f := range fin {
		unit[i] = append([]float32(nil), f...)
		normalize(unit[i])
	}
	y := make([][]float32, m)
	w := make([]float32, m)
	for i := range x {
		var sum float32
		for j := range x {
			w[j] = 0
			if j != i {
				w[j] = max(dot(unit[i], unit[j]), 0)
				sum += w[j]
			}
		}
		yi := append([]float32(nil), x[i]...)
		if sum > 0 {
			for j := range x {
				if w[j] == 0 {
					continue
				}
				s := dcgaContext * w[j] / sum
				for ch, v := range x[j] {
					yi[ch] += s * v
				}
			}
		}
		y[i] = yi
	}
	return y
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func normalize(x []float32) {
	n := float32(math.Sqrt(float64(dot(x, x))))
	if n == 0 {
		return
	}
	for i := range x {
		x[i] /= n
	}
}
