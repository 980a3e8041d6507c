package onnx

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/config/backoff"
)

// Execution provider names, as in config.Runtime.Providers.
const (
	ProviderTensorRT = "tensorrt"
	ProviderCUDA     = "cuda"
	ProviderCPU      = "cpu"
)

// The ONNX Runtime environment is process-wide in onnxruntime_go; backends
// share it and the last Close destroys it.
var env struct {
	sync.Mutex
	users   int
	library string
	// failed remembers providers that could not be appended, so the fallback
	// is logged once per process rather than once per model.
	failed map[string]error
}

// openVerified verifies the manifests' model files and opens a stage with
// open, holding ONNX Runtime (released again when either fails) with Go's
// signal handlers saved around the providers' loading (see signals.go).
func openVerified[T any](library string, ms []*Manifest, open func() (T, error)) (T, error) {
	saveSignals()
	defer restoreSignals()
	var zero T
	if err := acquireEnv(library); err != nil {
		return zero, err
	}
	for _, m := range ms {
		if err := m.Verify(); err != nil {
			releaseEnv()
			return zero, err
		}
	}
	t, err := open()
	if err != nil {
		releaseEnv()
		return zero, err
	}
	return t, nil
}

func acquireEnv(library string) error {
	env.Lock()
	defer env.Unlock()
	if env.users > 0 {
		if library != env.library {
			return fmt.Errorf("onnx runtime already loaded from %s; cannot also load %s in one process", env.library, library)
		}
		env.users++
		return nil
	}
	if _, err := os.Stat(library); err != nil {
		return fmt.Errorf("onnx runtime library %s: %w (run `make deps`, or set runtime.library)", library, err)
	}
	ort.SetSharedLibraryPath(library)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("onnx runtime %s: %w", library, err)
	}
	env.users, env.library, env.failed = 1, library, map[string]error{}
	return nil
}

func releaseEnv() {
	env.Lock()
	defer env.Unlock()
	if env.users == 0 {
		return
	}
	env.users--
	if env.users == 0 {
		if err := ort.DestroyEnvironment(); err != nil {
			slog.Warn("onnx: destroy environment", "err", err)
		}
	}
}

// providerChain is the configured order with cpu appended as the last resort.
func providerChain(rt config.Runtime) ([]string, error) {
	var chain []string
	seen := map[string]bool{}
	for _, p := range rt.Providers {
		p = strings.ToLower(strings.TrimSpace(p))
		switch p {
		case ProviderTensorRT, ProviderCUDA, ProviderCPU:
		default:
			return nil, fmt.Errorf("runtime.providers: unknown provider %q (use tensorrt, cuda, cpu)", p)
		}
		if !seen[p] {
			seen[p] = true
			chain = append(chain, p)
		}
	}
	if !seen[ProviderCPU] {
		chain = append(chain, ProviderCPU)
	}
	return chain, nil
}

// sessionOptions builds options for one provider. An error means the provider
// cannot be used in this build or on this machine.
func sessionOptions(rt config.Runtime, provider string, inputs []string) (*ort.SessionOptions, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	if rt.Threads > 0 {
		if err := opts.SetIntraOpNumThreads(rt.Threads); err != nil {
			opts.Destroy()
			return nil, err
		}
	}
	switch provider {
	case ProviderTensorRT:
		// TensorRT first, CUDA behind it in the same session, as ONNX
		// Runtime's TensorRT documentation recommends: nodes TensorRT
		// rejects then run on the GPU rather than the CPU.
		err = appendTensorRT(opts, rt, inputs)
		if err == nil {
			if cerr := appendCUDA(opts, rt); cerr != nil {
				err = fmt.Errorf("tensorrt registered, but not cuda behind it: %w", cerr)
			}
		}
	case ProviderCUDA:
		err = appendCUDA(opts, rt)
	}
	if err != nil {
		opts.Destroy()
		return nil, err
	}
	return opts, nil
}

func appendCUDA(opts *ort.SessionOptions, rt config.Runtime) error {
	c, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return err
	}
	defer c.Destroy()
	if err := c.Update(map[string]string{"device_id": strconv.Itoa(rt.DeviceID)}); err != nil {
		return err
	}
	return opts.AppendExecutionProviderCUDA(c)
}

func appendTensorRT(opts *ort.SessionOptions, rt config.Runtime, inputs []string) error {
	t, err := ort.NewTensorRTProviderOptions()
	if err != nil {
		return err
	}
	defer t.Destroy()
	if err := t.Update(tensorRTOptions(rt, inputs)); err != nil {
		return err
	}
	return opts.AppendExecutionProviderTensorRT(t)
}

// tensorRTOptions maps config.TensorRT to the provider's option keys
// (onnxruntime TensorRT-ExecutionProvider documentation).
func tensorRTOptions(rt config.Runtime, inputs []string) map[string]string {
	t := rt.TensorRT
	o := map[string]string{
		"device_id":              strconv.Itoa(rt.DeviceID),
		"trt_fp16_enable":        strconv.FormatBool(t.FP16),
		"trt_max_workspace_size": strconv.FormatInt(int64(max(t.WorkspaceMiB, 1))<<20, 10),
	}
	if t.EngineCacheDir != "" {
		o["trt_engine_cache_enable"] = "true"
		o["trt_engine_cache_path"] = t.EngineCacheDir
	}
	if t.TimingCacheDir != "" {
		o["trt_timing_cache_enable"] = "true"
		o["trt_timing_cache_path"] = t.TimingCacheDir
	}
	// "name:1x3x224x224" entries naming this model's inputs; one shape
	// serves as min, opt and max. Models exported by models/export are
	// static and need none.
	var shapes []string
	for _, e := range t.ProfileShapes {
		name, _, _ := strings.Cut(e, ":")
		if slices.Contains(inputs, name) {
			shapes = append(shapes, e)
		}
	}
	if len(shapes) > 0 {
		s := strings.Join(shapes, ",")
		o["trt_profile_min_shapes"] = s
		o["trt_profile_opt_shapes"] = s
		o["trt_profile_max_shapes"] = s
	}
	return o
}

// session is one ONNX Runtime session with its input and output tensors
// allocated once; run serialises use, so a session is safe from many
// goroutines and the hot path allocates nothing.
type session struct {
	mu       sync.Mutex
	model    string
	provider string
	s        *ort.AdvancedSession
	in, out  []*ort.Tensor[float32]
	inNames  []string
	outNames []string
	// inData and outData are the tensors' backing slices, handed to run's callbacks.
	inData, outData [][]float32
	// What openFrom needs to move the model to another provider.
	rt       config.Runtime
	chain    []string
	manifest *Manifest
	warm     func(in [][]float32)
	// runs counts successful runs (warm-up included), for tests and stats.
	runs atomic.Int64
	// idx is the chain index of the provider in use; home the one the
	// session first opened on. After a runtime failure moved the model down
	// the chain, home is tried again once retryAt has passed (the wait
	// doubling from retryMin to retryMax after each failed try), so that a
	// transient GPU error does not pin the fallback forever.
	idx, home int
	retryAt   time.Time
	retry     backoff.Backoff
	backoff   time.Duration // the wait before retryAt
	retrying  bool
	// testFault, when set, fails runs on the providers it says: a
	// stand-in for a GPU failing at runtime, which tests cannot reach.
	testFault func(idx int) error
}

// Retry waits after a runtime provider failure.
var (
	retryMin = 30 * time.Second
	retryMax = 10 * time.Minute
)

// currentProvider is the provider the session runs on now.
func (s *session) currentProvider() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.provider
}

type tensorShape struct {
	name  string
	shape ort.Shape
}

// newSession creates the session on the first provider in chain that loads
// and survives a warm-up run; each provider that fails is logged once.
func newSession(rt config.Runtime, chain []string, m *Manifest, ins, outs []tensorShape, warm func(in [][]float32)) (*session, error) {
	s := &session{model: filepath.Base(m.ModelPath())}
	for _, t := range ins {
		tt, err := ort.NewEmptyTensor[float32](t.shape)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("model %s: input %q %v: %w", m.ModelPath(), t.name, t.shape, err)
		}
		s.in, s.inNames = append(s.in, tt), append(s.inNames, t.name)
	}
	for _, t := range outs {
		tt, err := ort.NewEmptyTensor[float32](t.shape)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("model %s: output %q %v: %w", m.ModelPath(), t.name, t.shape, err)
		}
		s.out, s.outNames = append(s.out, tt), append(s.outNames, t.name)
	}
	for _, t := range s.in {
		s.inData = append(s.inData, t.GetData())
	}
	for _, t := range s.out {
		s.outData = append(s.outData, t.GetData())
	}
	s.rt, s.chain, s.manifest, s.warm = rt, chain, m, warm
	if err := s.openFrom(0); err != nil {
		s.close()
		return nil, err
	}
	s.home = s.idx
	return s, nil
}

// openFrom opens the session on the first provider of s.chain[from:] that
// works, logging each fallback once. The caller holds s.mu or owns s alone.
func (s *session) openFrom(from int) error {
	var errs []error
	for i := from; i < len(s.chain); i++ {
		p := s.chain[i]
		s.idx = i // the warm-up runs on it
		err := s.open(s.rt, p, s.manifest, s.warm)
		if err == nil {
			s.provider = p
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", p, err))
		if i+1 < len(s.chain) {
			logFallback(p, s.chain[i+1], s.model, err)
		}
	}
	return fmt.Errorf("model %s: no execution provider could run it: %w", s.manifest.ModelPath(), errors.Join(errs...))
}

// logFallback writes the one line per unavailable provider.
func logFallback(provider, next, model string, err error) {
	env.Lock()
	_, seen := env.failed[provider]
	env.failed[provider] = err
	env.Unlock()
	if !seen {
		slog.Warn("onnx: execution provider unavailable, falling back", "provider", provider, "next", next, "model", model, "err", err)
	} else {
		slog.Debug("onnx: execution provider unavailable", "provider", provider, "model", model)
	}
}

func (s *session) open(rt config.Runtime, provider string, m *Manifest, warm func(in [][]float32)) error {
	env.Lock()
	prev, known := env.failed[provider]
	env.Unlock()
	if known && provider != ProviderCPU && !s.retrying {
		return prev
	}
	opts, err := sessionOptions(rt, provider, s.inNames)
	if err != nil {
		return err
	}
	defer opts.Destroy()
	ins := make([]ort.Value, len(s.in))
	for i, t := range s.in {
		ins[i] = t
	}
	outs := make([]ort.Value, len(s.out))
	for i, t := range s.out {
		outs[i] = t
	}
	sess, err := ort.NewAdvancedSession(m.ModelPath(), s.inNames, s.outNames, ins, outs, opts)
	if err != nil {
		return err
	}
	s.s = sess
	// Warm-up: the first run allocates arenas and (TensorRT) builds engines.
	if err := s.runOnce(warm, nil); err != nil {
		sess.Destroy()
		s.s = nil
		return fmt.Errorf("warm-up: %w", err)
	}
	return nil
}

// run fills the inputs, runs the model and lets read copy the outputs, all
// under the session's lock.
func (s *session) run(fill func(in [][]float32), read func(out [][]float32)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runLocked(fill, read)
}

// runLocked is run for a caller that holds s.mu. If a GPU provider fails
// mid-run (device lost, out of memory), the model file is verified again
// against its manifest, the model moves to the next provider in the chain
// and the run is retried once, rather than failing every frame from then
// on; the error is returned if that fails too. Later runs try the first
// provider again after a backoff (retryHome).
func (s *session) runLocked(fill func(in [][]float32), read func(out [][]float32)) error {
	if s.idx > s.home && !s.retryAt.IsZero() && !time.Now().Before(s.retryAt) {
		s.retryHome()
	}
	err := s.runOnce(fill, read)
	if err == nil || s.idx >= len(s.chain)-1 || s.s == nil {
		return err
	}
	failed := s.idx
	slog.Error("onnx: execution provider failed at runtime, moving the model to the next provider",
		"model", s.model, "provider", s.provider, "err", err)
	s.s.Destroy()
	s.s = nil
	if verr := s.manifest.Verify(); verr != nil {
		return fmt.Errorf("%w; not reopened on another provider: %v", err, verr)
	}
	saveSignals() // the next provider may replace Go's handlers too
	defer restoreSignals()
	if rerr := s.openFrom(failed + 1); rerr != nil {
		return fmt.Errorf("%w; recovery: %v", err, rerr)
	}
	s.retry = backoff.Backoff{Min: retryMin, Max: retryMax}
	s.backoff = s.retry.Next()
	s.retryAt = time.Now().Add(s.backoff)
	return s.runOnce(fill, read)
}

// retryHome tries to move the model back to the provider it first opened
// on, keeping the current session if that fails (and waiting twice as long
// before the next try). The model file is verified again first.
func (s *session) retryHome() {
	if err := s.manifest.Verify(); err != nil {
		slog.Error("onnx: model file changed; staying on the fallback provider", "model", s.model, "err", err)
		s.retryAt = time.Time{}
		return
	}
	cur, curProv, curIdx := s.s, s.provider, s.idx
	s.s = nil
	saveSignals()
	defer restoreSignals()
	s.retrying, s.idx = true, s.home
	err := s.open(s.rt, s.chain[s.home], s.manifest, s.warm)
	s.retrying = false
	if err != nil {
		s.s, s.idx = cur, curIdx
		s.backoff = s.retry.Next()
		s.retryAt = time.Now().Add(s.backoff)
		slog.Warn("onnx: execution provider still failing; staying on the fallback", "model", s.model,
			"provider", s.chain[s.home], "fallback", curProv, "retry_in", s.backoff, "err", err)
		return
	}
	cur.Destroy()
	s.provider, s.idx, s.retryAt, s.backoff = s.chain[s.home], s.home, time.Time{}, 0
	slog.Info("onnx: execution provider works again; model moved back", "model", s.model, "provider", s.provider, "from", s.chain[curIdx])
}

func (s *session) runOnce(fill func(in [][]float32), read func(out [][]float32)) error {
	if s.s == nil {
		return fmt.Errorf("model %s: session is closed", s.model)
	}
	if fill != nil {
		fill(s.inData)
	}
	if s.testFault != nil {
		if err := s.testFault(s.idx); err != nil {
			return fmt.Errorf("model %s on %s: %w", s.model, s.provider, err)
		}
	}
	if err := s.s.Run(); err != nil {
		return fmt.Errorf("model %s on %s: %w", s.model, s.provider, err)
	}
	s.runs.Add(1)
	if read != nil {
		read(s.outData)
	}
	return nil
}

func (s *session) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s != nil {
		s.s.Destroy()
		s.s = nil
	}
	for _, t := range s.in {
		t.Destroy()
	}
	for _, t := range s.out {
		t.Destroy()
	}
	s.in, s.out = nil, nil
}
