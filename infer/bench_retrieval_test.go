package infer_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/digitanatomy"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
)

// retrievalData are real global vectors of generated good bag scenes at
// 224 px, standardised as by the bench engine's bank, and query features.
type retrievalData struct {
	globals    [][]float32
	queries    []*infer.FeatureMap
	c, gh, gw  int
	frameMs    float64 // mean Inspect wall time at 224 px, x8, k = 2
	frameCPUMs float64 // and its CPU time, all threads
}

var retrieval *retrievalData

// realRefs is how many real reference vectors are computed (each costs a
// scene rendering and a feature extraction, ~20 ms).
const realRefs = 400

// sceneVectors computes the global vectors of good bag scenes with seeds
// 20000.. (refs) and the features of nq query scenes, good and anomalous,
// with seeds 30000.., standardised with bank's channel statistics.
func sceneVectors(tb testing.TB, be *infer.Backend, bank *infer.Bank, refs, nq int) *retrievalData {
	d := &retrievalData{}
	for i := 0; i < refs; i++ {
		sc, err := scenes.Generate(scenes.Bag, int64(20000+i), 224, scenes.Good)
		if err != nil {
			tb.Fatal(err)
		}
		f, err := infer.StandardFeatures(be, bank, infer.FromImage(sc.Image, 224))
		if err != nil {
			tb.Fatal(err)
		}
		d.globals = append(d.globals, infer.GlobalVector(f))
		d.c, d.gh, d.gw = f.C, (f.H+1)/2, (f.W+1)/2
	}
	kinds := append([]scenes.Anomaly{scenes.Good}, scenes.Anomalies(scenes.Bag)...)
	for i := 0; i < nq; i++ {
		sc, err := scenes.Generate(scenes.Bag, int64(30000+i), 224, kinds[i%len(kinds)])
		if err != nil {
			tb.Fatal(err)
		}
		f, err := infer.StandardFeatures(be, bank, infer.FromImage(sc.Image, 224))
		if err != nil {
			tb.Fatal(err)
		}
		d.queries = append(d.queries, f)
	}
	return d
}

func retrievalSetup(b *testing.B) *retrievalData {
	if retrieval != nil {
		return retrieval
	}
	s := benchEngine(b, 224, 8)
	d := sceneVectors(b, s.be, s.eng.Bank(), realRefs, 21)
	// The frame time the retrieval is compared with, in the same run.
	const frames = 30
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < frames; i++ {
		if _, err := s.eng.Inspect(context.Background(), s.queries[i%len(s.queries)]); err != nil {
			b.Fatal(err)
		}
	}
	d.frameMs = float64(time.Since(start).Microseconds()) / 1000 / frames
	d.frameCPUMs = float64((cpuTime() - cpu0).Microseconds()) / 1000 / frames
	retrieval = d
	return d
}

// syntheticRefs extends real vectors to n: each extra one is a random real
// vector with every value moved by Gaussian noise of a quarter of that
// value's spread over the real vectors (a stand-in for more good images,
// which this benchmark cannot afford to render).
func syntheticRefs(real [][]float32, n int) [][]float32 {
	dim := len(real[0])
	sd := make([]float64, dim)
	for j := 0; j < dim; j++ {
		var s, s2 float64
		for _, v := range real {
			s += float64(v[j])
			s2 += float64(v[j]) * float64(v[j])
		}
		m := s / float64(len(real))
		sd[j] = math.Sqrt(max(s2/float64(len(real))-m*m, 0))
	}
	rng := rand.New(rand.NewPCG(7, 8))
	out := slices.Clone(real)
	for len(out) < n {
		v := slices.Clone(real[rng.IntN(len(real))])
		for j := range v {
			v[j] += float32(0.25 * sd[j] * rng.NormFloat64())
		}
		out = append(out, v)
	}
	return out
}

// cpuTime is the process's CPU time so far. On a shared machine the wall
// time of a single-threaded loop includes waiting for a core; its CPU time
// does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRetrieval times the retrieval stage (global vector + k = 2
// nearest) with the plain scan and with the index, on 400 real and 5,000
// (400 real + synthetic) references. It reports the share of the frame
// time (frame-%, Inspect at 224 px, x8, k = 2, same run; frame-cpu-%: the
// same with CPU times, which a shared machine distorts less), the recall
// of the index against the scan (fraction of the scan's k found) and how
// much farther the index's references are than the scan's (excess-dist-%,
// squared distances summed over the queries).
func BenchmarkRetrieval(b *testing.B) {
	const k = 2
	for _, n := range []int{realRefs, 5000} {
		for _, method := range []string{"scan", "index"} {
			b.Run(fmt.Sprintf("refs=%d/%s", n, method), func(b *testing.B) {
				d := retrievalSetup(b)
				globals := d.globals
				if n > len(globals) {
					globals = syntheticRefs(globals, n)
				}
				ix := infer.NewRefIndex(globals, d.c, d.gh, d.gw)
				recall, excess := indexRecall(ix, globals, d.queries, k)
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := cpuTime()
				for i := 0; i < b.N; i++ {
					q := d.queries[i%len(d.queries)]
					if method == "scan" {
						ix.Scan(q, k)
					} else {
						ix.Retrieve(q, k)
					}
				}
				b.StopTimer()
				msOp := float64(b.Elapsed().Microseconds()) / 1000 / float64(b.N)
				cpuMs := float64((cpuTime() - cpu0).Microseconds()) / 1000 / float64(b.N)
				b.ReportMetric(100*msOp/d.frameMs, "frame-%")
				b.ReportMetric(d.frameMs, "frame-ms")
				b.ReportMetric(cpuMs, "cpu-ms/op")
				b.ReportMetric(100*cpuMs/d.frameCPUMs, "frame-cpu-%")
				if method == "index" {
					b.ReportMetric(recall, "recall")
					b.ReportMetric(excess, "excess-dist-%")
				}
			})
		}
	}
}

// indexRecall is the fraction of the plain scan's k nearest references that
// the index finds, and how much farther (%, squared distances summed over
// the queries) the index's references are than the scan's.
func indexRecall(ix *infer.RefIndex, globals [][]float32, queries []*infer.FeatureMap, k int) (recall, excess float64) {
	var found int
	var gotDist, wantDist float64
	for _, q := range queries {
		want := slices.Clone(ix.Scan(q, k))
		got := ix.Retrieve(q, k)
		g := infer.GlobalVector(q)
		for j := range got {
			if slices.Contains(want, got[j]) {
				found++
			}
			gotDist += float64(infer.SqDist(globals[got[j]], g))
			wantDist += float64(infer.SqDist(globals[want[j]], g))
		}
	}
	return float64(found) / float64(k*len(queries)), 100 * (gotDist/wantDist - 1)
}

// TestRetrievalRecallOnScenes checks the index against the plain scan on
// real global vectors of generated scenes (200), a bank of their first 64
// (exact), and 2,000 (the 200 plus synthetic near-duplicates, as in
// BenchmarkRetrieval), for 42 queries, good and anomalous, k = 2.
func TestRetrievalRecallOnScenes(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 250 scenes")
	}
	p := benchPipeline(224, 8)
	be, err := builtin.New(p)
	if err != nil {
		t.Fatal(err)
	}
	bank, err := infer.Enroll(context.Background(), be, p, benchScenes(t, scenes.Good, 1000, 8, 224), nil)
	if err != nil {
		t.Fatal(err)
	}
	d := sceneVectors(t, be, bank, 200, 42)
	const k = 2
	for _, tc := range []struct {
		name       string
		globals    [][]float32
		minRecall  float64
		maxExcessP float64
	}{
		{"64 real (exact)", d.globals[:64], 1, 0},
		{"200 real", d.globals, 0.97, 0.1},
		{"2,000 (200 real + synthetic)", syntheticRefs(d.globals, 2000), 0.85, 0.5},
	} {
		ix := infer.NewRefIndex(tc.globals, d.c, d.gh, d.gw)
		recall, excess := indexRecall(ix, tc.globals, d.queries, k)
		t.Logf("%s: recall %.3f, found references %.3f%% farther", tc.name, recall, excess)
		if recall < tc.minRecall || excess > tc.maxExcessP {
			t.Errorf("%s: recall %.3f, references %.3f%% farther than the scan's; want >= %.2f and <= %.2f%%",
				tc.name, recall, excess, tc.minRecall, tc.maxExcessP)
		}
	}
}

// TestRetrievalOnDigits checks the index against the plain scan on the
// global vectors of 100 good DigitAnatomy images (the default bank of
// samlad eval digitanatomy) with its pipeline, for 60 queries, good and
// anomalous, k = 2 and 4.
func TestRetrievalOnDigits(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 168 images")
	}
	digits := mnistDigits(t, true)
	p := digitanatomy.Recipe(config.DefaultPipeline())
	be, err := builtin.New(p)
	if err != nil {
		t.Fatal(err)
	}
	render := func(seed int64, a digitanatomy.Anomaly) *infer.Image {
		im, err := digitanatomy.Generate(digits, seed, a)
		if err != nil {
			t.Fatal(err)
		}
		return infer.FromImage(im.Gray, p.InputSize)
	}
	features := func(bank *infer.Bank, img *infer.Image) *infer.FeatureMap {
		f, err := infer.StandardFeatures(be, bank, img)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	var enrol []*infer.Image
	for i := range 8 {
		enrol = append(enrol, render(int64(500+i), digitanatomy.Good))
	}
	bank, err := infer.Enroll(context.Background(), be, p, enrol, nil)
	if err != nil {
		t.Fatal(err)
	}
	var globals [][]float32
	var c, gh, gw int
	for i := range 100 {
		f := features(bank, render(int64(1000+i), digitanatomy.Good))
		globals = append(globals, infer.GlobalVector(f))
		c, gh, gw = f.C, (f.H+1)/2, (f.W+1)/2
	}
	var queries []*infer.FeatureMap
	kinds := append([]digitanatomy.Anomaly{digitanatomy.Good}, digitanatomy.Anomalies()...)
	for i := range 60 {
		queries = append(queries, features(bank, render(int64(5000+i), kinds[i%len(kinds)])))
	}
	ix := infer.NewRefIndex(globals, c, gh, gw)
	for _, k := range []int{2, 4} {
		recall, excess := indexRecall(ix, globals, queries, k)
		t.Logf("k %d: recall %.3f, found references %.3f%% farther", k, recall, excess)
		if recall < 0.97 || excess > 0.1 {
			t.Errorf("k %d: recall %.3f, references %.3f%% farther than the scan's; want >= 0.97 and <= 0.1%%", k, recall, excess)
		}
	}
}

// BenchmarkRefIndexBuild times building the index, which NewEngine does on
// every bank load, from the vectors of BenchmarkRetrieval. It is apart
// from BenchmarkRetrieval (and make bench) because one build at 5,000
// references takes a good part of a second: run it with -benchtime 3x.
func BenchmarkRefIndexBuild(b *testing.B) {
	for _, n := range []int{realRefs, 5000} {
		b.Run(fmt.Sprintf("refs=%d", n), func(b *testing.B) {
			d := retrievalSetup(b)
			globals := d.globals
			if n > len(globals) {
				globals = syntheticRefs(globals, n)
			}
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				infer.NewRefIndex(globals, d.c, d.gh, d.gw)
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}
