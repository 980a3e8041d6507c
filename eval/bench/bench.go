// Package bench measures the engine's latency and throughput on one
// machine: per-stage latency (median, p95) from Result.Timings, end-to-end
// frames per second of one camera, and of N cameras inspecting in parallel
// on one shared engine, as the daemon runs them. The report names the
// machine, the Go version and the backend, so it can be pasted into a
// support ticket as it is.
package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/metrics"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
)

// Options configure one run.
type Options struct {
	// Pipeline is the engine configuration (input size, upsampling, k...).
	Pipeline config.Pipeline
	Backend  *infer.Backend
	// BackendLabel names the backend and its execution providers, e.g.
	// "builtin" or "onnx (features=tensorrt, ...)".
	BackendLabel string
	// Bank is used when set; otherwise Good generated scenes of kind Scene
	// are enrolled first.
	Bank  *infer.Bank
	Scene scenes.Kind
	Good  int
	// Frames are the query images; nil: Queries generated scenes of kind
	// Scene, good and anomalous in turn, with seeds apart from the enrolled ones.
	Frames  []*infer.Image
	Queries int
	// Measured frames per camera, after Warmup unmeasured ones.
	Iterations int
	Warmup     int
	// Cameras > 1 adds a run with that many goroutines inspecting at once.
	Cameras int
}

// Report is the outcome of one run. Times are milliseconds.
type Report struct {
	Machine    Machine     `json:"machine"`
	Backend    string      `json:"backend"`
	Setup      Setup       `json:"setup"`
	Stages     []StageStat `json:"stages"`      // one camera
	Single     Throughput  `json:"single"`      // one camera
	Parallel   *Throughput `json:"parallel"`    // Cameras > 1 only
	EnrolSec   float64     `json:"enrol_s"`     // 0 when a bank was given
	StartedUTC string      `json:"started_utc"` // RFC 3339
}

// Setup is what was measured.
type Setup struct {
	InputSize  int    `json:"input_size"`
	Upsample   int    `json:"upsample"`
	Upsampler  string `json:"upsampler"`
	K          int    `json:"k"`
	Workers    int    `json:"workers"` // 0 = GOMAXPROCS
	References int    `json:"references"`
	Frames     string `json:"frames"` // where the query frames came from
}

// StageStat is one stage's latency distribution.
type StageStat struct {
	Stage    string  `json:"stage"`
	MedianMs float64 `json:"median_ms"`
	P95Ms    float64 `json:"p95_ms"`
	MeanMs   float64 `json:"mean_ms"`
}

// Throughput is end-to-end speed with some cameras at once.
type Throughput struct {
	Cameras      int       `json:"cameras"`
	Frames       int       `json:"frames"` // over all cameras
	Seconds      float64   `json:"seconds"`
	FPS          float64   `json:"fps"` // over all cameras
	PerCameraFPS float64   `json:"per_camera_fps"`
	Latency      StageStat `json:"latency"` // Inspect wall time per frame
	// CPUMsPerFrame is the process's CPU time (all threads) per frame. On
	// a shared machine wall times include waiting for a core; this does not.
	CPUMsPerFrame float64 `json:"cpu_ms_per_frame"`
}

// StageTotal names the end-to-end latency row of the stage table.
const StageTotal = "total"

// Run enrols (unless a bank is given) and measures.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Backend == nil {
		return nil, errors.New("bench: no backend")
	}
	if o.Iterations < 1 {
		return nil, fmt.Errorf("bench: iterations %d: want at least 1", o.Iterations)
	}
	o.Cameras = max(o.Cameras, 1)
	p := o.Pipeline
	rep := &Report{Machine: ThisMachine(), Backend: o.BackendLabel, StartedUTC: time.Now().UTC().Format(time.RFC3339)}
	bank := o.Bank
	if bank == nil {
		good, err := Scenes(o.Scene, scenes.Good, 1000, o.Good, p.InputSize)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		if bank, err = infer.Enroll(ctx, o.Backend, p, good, nil); err != nil {
			return nil, fmt.Errorf("bench: enrol %d %s scenes: %w", len(good), o.Scene, err)
		}
		rep.EnrolSec = time.Since(start).Seconds()
	}
	eng, err := infer.NewEngine(o.Backend, bank, p)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	frames, from := o.Frames, "given images"
	if len(frames) == 0 {
		if frames, err = MixedScenes(o.Scene, max(o.Queries, 1), p.InputSize); err != nil {
			return nil, err
		}
		from = fmt.Sprintf("%d generated %s scenes (good and anomalous)", len(frames), o.Scene)
	}
	rep.Setup = Setup{InputSize: p.InputSize, Upsample: p.Upsample, Upsampler: p.Upsampler, K: p.K,
		Workers: p.Workers, References: len(bank.Refs), Frames: from}

	for i := 0; i < o.Warmup; i++ {
		if _, err := eng.Inspect(ctx, frames[i%len(frames)]); err != nil {
			return nil, fmt.Errorf("bench: warm-up frame: %w", err)
		}
	}
	single, results, err := run(ctx, eng, frames, 1, o.Iterations)
	if err != nil {
		return nil, err
	}
	rep.Single = single
	rep.Stages = stageStats(results)
	rep.Stages = append(rep.Stages, single.Latency)
	if o.Cameras > 1 {
		par, _, err := run(ctx, eng, frames, o.Cameras, o.Iterations)
		if err != nil {
			return nil, err
		}
		rep.Parallel = &par
	}
	return rep, nil
}

// run inspects n frames on each of cams goroutines sharing one engine.
func run(ctx context.Context, eng *infer.Engine, frames []*infer.Image, cams, n int) (Throughput, [][]infer.StageTiming, error) {
	timings := make([][]infer.StageTiming, cams*n)
	lat := make([]float64, cams*n)
	var g errgroup.Group // one goroutine per camera, not a worker pool
	start, cpu0 := time.Now(), processCPU()
	for c := 0; c < cams; c++ {
		g.Go(func() error {
			for i := 0; i < n; i++ {
				// Cameras start at different frames, as real ones would.
				f := frames[(c*7+i)%len(frames)]
				t0 := time.Now()
				res, err := eng.Inspect(ctx, f)
				if err != nil {
					return fmt.Errorf("bench: camera %d frame %d: %w", c+1, i, err)
				}
				lat[c*n+i] = float64(time.Since(t0).Microseconds()) / 1000
				timings[c*n+i] = res.Timings
			}
			return nil
		})
	}
	err := g.Wait()
	sec := time.Since(start).Seconds()
	cpu := processCPU() - cpu0
	if err != nil {
		return Throughput{}, nil, err
	}
	tp := Throughput{Cameras: cams, Frames: cams * n, Seconds: sec, FPS: float64(cams*n) / sec,
		Latency: stat(StageTotal, lat)}
	tp.PerCameraFPS = tp.FPS / float64(cams)
	tp.CPUMsPerFrame = float64(cpu.Microseconds()) / 1000 / float64(cams*n)
	return tp, timings, nil
}

// stageStats summarises each stage over frames, in pipeline order.
func stageStats(frames [][]infer.StageTiming) []StageStat {
	var order []string
	per := map[string][]float64{}
	for _, ts := range frames {
		for _, t := range ts {
			if _, ok := per[t.Stage]; !ok {
				order = append(order, t.Stage)
			}
			per[t.Stage] = append(per[t.Stage], t.Ms)
		}
	}
	out := make([]StageStat, 0, len(order))
	for _, s := range order {
		out = append(out, stat(s, per[s]))
	}
	return out
}

func stat(name string, v []float64) StageStat {
	s := StageStat{Stage: name}
	if len(v) == 0 {
		return s
	}
	v = slices.Clone(v)
	slices.Sort(v)
	var sum float64
	for _, x := range v {
		sum += x
	}
	s.MedianMs, s.P95Ms, s.MeanMs = metrics.Quantile(v, 0.5), metrics.Quantile(v, 0.95), sum/float64(len(v))
	return s
}

// Scenes renders n scenes of one kind and anomaly from seed0 on.
func Scenes(kind scenes.Kind, an scenes.Anomaly, seed0, n, size int) ([]*infer.Image, error) {
	out := make([]*infer.Image, 0, n)
	for s := seed0; s < seed0+n; s++ {
		sc, err := scenes.Generate(kind, int64(s), size, an)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		out = append(out, infer.FromImage(sc.Image, size))
	}
	return out, nil
}

// MixedScenes renders n query scenes: good, then each anomaly of the kind
// in turn, seeds from 5000 on (enrolment uses 1000 on).
func MixedScenes(kind scenes.Kind, n, size int) ([]*infer.Image, error) {
	kinds := append([]scenes.Anomaly{scenes.Good}, scenes.Anomalies(kind)...)
	out := make([]*infer.Image, 0, n)
	for i := 0; i < n; i++ {
		imgs, err := Scenes(kind, kinds[i%len(kinds)], 5000+i, 1, size)
		if err != nil {
			return nil, err
		}
		out = append(out, imgs...)
	}
	return out, nil
}

// Machine describes the computer a report was measured on.
type Machine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"` // logical CPUs
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	// LoadAvg is the 1/5/15-minute load average at the start ("" if
	// unknown): other work on the machine slows every figure.
	LoadAvg string `json:"load_avg"`
}

// ThisMachine describes the running machine.
func ThisMachine() Machine {
	return Machine{CPU: cpuModel(), Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, LoadAvg: loadAvg()}
}
