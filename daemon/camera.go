package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/capture"
	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
)

// frameHook runs once per published verdict; nil except in the binary the
// soak test builds with -tags samlad_leak (leakhook_samlad_leak.go).
var frameHook func()

// orderSlack bounds the frames admitted but not yet published, beyond the
// inspection queue. Every admitted frame is published by its deadline, so the
// backlog drains at least as fast as frames age out; when it is full, intake
// waits, which pushes back on the source instead of dropping a frame.
const orderSlack = 256

// engineRef is one inspector with the bank it was built on. A frame takes
// the current engineRef when it is admitted, in sequence order, so a swap
// is atomic between two frames: no frame sees half of two banks, and every
// frame after the first one on the new bank is on the new bank too.
type engineRef struct {
	insp     Inspector
	bank     string
	bankID   string // the bank file's hash, see bankID
	recipe   string
	provider string
}

// loopSettings are the settings a frame is processed under; a reload swaps
// them as a whole.
type loopSettings struct {
	deadline time.Duration
	failSafe string // "fail" or "pass"
	heatmap  config.Actuate
	size     int // the engine's input size, for the heatmap's finding boxes
}

// guard is the part of the deadline kept back for publishing the fail-safe
// verdict, so that it leaves before the deadline, not at it.
func guard(deadline time.Duration) time.Duration {
	g := deadline / 10
	return min(max(g, time.Millisecond), 25*time.Millisecond)
}

// job is one admitted frame on its way to a verdict.
type job struct {
	seq    uint64
	frame  capture.Frame
	eng    *engineRef
	failAt time.Time
	ctx    context.Context
	cancel context.CancelFunc
	done   chan outcome // buffered 1; receives exactly one outcome
	// dl acknowledges the MQTT trigger of this frame once its verdict is
	// stored; nil for frames no MQTT trigger asked for.
	dl *actuate.Delivery
}

// outcome is what inspection (or the lack of it) produced for a job.
type outcome struct {
	res       *infer.Result
	err       error
	reason    string // error verdicts: ReasonDeadline, ReasonInspect, ...
	inspected time.Time
	img       *infer.Image // the engine's input, once converted
	// decided is the verdict, when the worker decided it already (for the
	// heatmap, which shows it); nil otherwise.
	decided *Decision
	heatmap []byte // JPEG overlay, when actuate.heatmap wants one
}

// failure is why the outcome has no usable result ("" when it has one):
// the reason, then the error.
func (o outcome) failure() string {
	switch {
	case o.err == nil:
		return o.reason
	case o.reason == "":
		return o.err.Error()
	}
	return o.reason + ": " + o.err.Error()
}

// camera runs one camera's capture -> queue -> inspect -> publish loop.
// The stages overlap: one goroutine admits frames, Workers goroutines
// inspect, and one goroutine publishes verdicts in sequence order.
type camera struct {
	name string
	cfg  config.Camera
	d    *Daemon
	log  *slog.Logger
	seq  *sequence

	engine    atomic.Pointer[engineRef]
	threshold atomic.Uint64 // float64 bits; 0 = the engine's own threshold
	enabled   atomic.Bool

	work  chan *job // bounded inspection queue
	order chan *job // admitted jobs in seq order, for the publisher

	admitMu sync.Mutex // seq assignment and enqueueing happen together
	closed  bool       // under admitMu: the queues are closed, the camera stopped

	srcMu   sync.Mutex
	src     Source
	intakes sync.WaitGroup

	// dls holds the Delivery of each software trigger the source accepted,
	// in order: the source answers every accepted trigger with exactly one
	// frame, in the same order, so admit pairs them up.
	dlMu sync.Mutex
	dls  []*actuate.Delivery

	busy     []atomic.Int64 // per worker: unix nanos when the current inspection began, 0 idle
	pubBusy  atomic.Int64   // unix nanos when the publisher began waiting on a job, 0 idle
	pubCost  atomic.Int64   // pessimistic estimate of one PublishVerdict, in nanoseconds
	workers  sync.WaitGroup
	pubDone  chan struct{}
	stats    *camStats
	seqFault atomic.Bool // a sequence persist error was already reported
}

func newCamera(d *Daemon, cc config.Camera, seq *sequence, eng *engineRef, queueDepth, workers int) *camera {
	c := &camera{
		name:    cc.Name,
		cfg:     cc,
		d:       d,
		log:     d.log.With("camera", cc.Name),
		seq:     seq,
		work:    make(chan *job, queueDepth),
		order:   make(chan *job, queueDepth+workers+orderSlack),
		busy:    make([]atomic.Int64, workers),
		pubDone: make(chan struct{}),
		stats:   newCamStats(),
	}
	c.engine.Store(eng)
	c.enabled.Store(cc.IsEnabled())
	c.pubCost.Store(int64(2 * time.Millisecond))
	return c
}

// start launches the workers and the publisher, then opens the source when
// the camera is enabled. A source that cannot be opened is reported; the
// camera stays up so that the operator can re-enable it later.
func (c *camera) start() {
	for i := range c.busy {
		c.workers.Add(1)
		go c.worker(i)
	}
	go c.publisher()
	if c.enabled.Load() {
		if err := c.openSource(); err != nil {
			c.log.Error("camera not started", "err", err)
			c.d.event(actuate.Event{Camera: c.name, Level: actuate.LevelError, Kind: "camera", Msg: err.Error()})
		}
	}
}

func (c *camera) openSource() error {
	c.srcMu.Lock()
	defer c.srcMu.Unlock()
	if c.src != nil {
		return nil
	}
	src, err := c.d.deps.OpenSource(c.cfg, c.onState)
	if err != nil {
		return fmt.Errorf("open camera %s: %w", c.name, err)
	}
	c.src = src
	c.intakes.Add(1)
	go func() {
		defer c.intakes.Done()
		for f := range src.Frames() {
			c.admit(f, false, c.takeDelivery())
		}
	}()
	return nil
}

// onState publishes the camera's connection state (retained) and logs it.
func (c *camera) onState(e capture.StateEvent) {
	state, detail := cameraState(e.State, c.enabled.Load()), ""
	if e.State == capture.StateLost {
		detail = fmt.Sprintf("%v; retry %d in %v", e.Err, e.Attempt, e.Retry.Round(time.Millisecond))
		c.log.Warn("camera lost", "err", e.Err, "attempt", e.Attempt, "retry", e.Retry)
	}
	if err := c.d.publisher().PublishCameraState(c.name, state, detail); err != nil {
		c.log.Warn("publish camera state", "err", err)
	}
}

// cameraState is the state published on <prefix>/<camera>/status for a
// capture state (docs/mqtt.md lists them).
func cameraState(s capture.State, enabled bool) string {
	switch s {
	case capture.StateOpening, capture.StateReconnecting:
		return actuate.CameraOpening
	case capture.StateLost:
		return actuate.CameraLost
	case capture.StateEnded, capture.StateStopped:
		if !enabled {
			return actuate.CameraDisabled
		}
		return string(s)
	}
	return actuate.CameraOK
}

// closeSource stops triggers and waits until every frame the source had
// delivered is admitted.
func (c *camera) closeSource() {
	c.srcMu.Lock()
	src := c.src
	c.src = nil
	c.srcMu.Unlock()
	if src != nil {
		if err := src.Close(); err != nil {
			c.log.Warn("close camera", "err", err)
		}
	}
	c.intakes.Wait()
}

// stop closes the source, lets every admitted frame reach its verdict (real
// or fail-safe, so at most one deadline), and records the sequence.
func (c *camera) stop() {
	c.closeSource()
	c.admitMu.Lock()
	c.closed = true
	close(c.work)
	close(c.order)
	c.admitMu.Unlock()
	c.workers.Wait()
	<-c.pubDone
	if err := c.seq.Close(); err != nil {
		c.log.Error("record sequence", "err", err)
	}
}

// trigger asks the source for one frame for partID. A trigger that cannot be
// served (camera disabled, lost, or its trigger queue full) still gets its
// one verdict: an error verdict with the reason, so the part is not let
// through unseen.
func (c *camera) trigger(partID string, dl *actuate.Delivery) error {
	c.srcMu.Lock()
	src := c.src
	var err error
	if src == nil {
		err = fmt.Errorf("camera %s is disabled; enable it first", c.name)
	} else {
		// Queued before the trigger, so that its frame finds it.
		c.dlMu.Lock()
		c.dls = append(c.dls, dl)
		c.dlMu.Unlock()
		if err = src.Trigger(partID); err != nil {
			c.dlMu.Lock()
			c.dls = c.dls[:len(c.dls)-1]
			c.dlMu.Unlock()
		}
	}
	c.srcMu.Unlock()
	if err != nil {
		c.admit(capture.Frame{Camera: c.name, PartID: partID, Time: time.Now(), Err: err}, false, dl)
	}
	return err
}

// takeDelivery returns the Delivery of the oldest accepted software
// trigger, nil for a camera that takes none.
func (c *camera) takeDelivery() *actuate.Delivery {
	if c.cfg.Trigger != "software" {
		return nil
	}
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	if len(c.dls) == 0 {
		return nil
	}
	dl := c.dls[0]
	c.dls[0] = nil
	c.dls = c.dls[1:]
	return dl
}

// refuse answers a trigger that cannot be honoured with an error verdict
// carrying reason (which names what was wrong), in sequence order.
func (c *camera) refuse(partID, reason string, dl *actuate.Delivery) {
	c.admit(capture.Frame{Camera: c.name, PartID: partID, Time: time.Now(), Err: errors.New(reason)}, true, dl)
}

// admit gives a frame its sequence number and queues it. It never drops a
// frame: a failed capture or a full queue resolves the job at once with an
// error outcome, and every job goes to the publisher in seq order. refused
// marks a trigger answered without a capture (stale, malformed, no room):
// f.Err is the whole reason of its error verdict.
func (c *camera) admit(f capture.Frame, refused bool, dl *actuate.Delivery) {
	c.admitMu.Lock()
	defer c.admitMu.Unlock()
	if c.closed {
		// Only a command racing the shutdown gets here; its caller hears
		// the error and no sequence number was used. An MQTT trigger stays
		// unacknowledged: the broker delivers it again on the next start.
		c.log.Warn("frame after stop not admitted", "part_id", f.PartID)
		return
	}
	ls := c.d.loop.Load()
	seq, err := c.seq.Next()
	if err != nil {
		// The number is still unique in this run; only a crash before the
		// next successful persist could repeat it. Say so once per fault.
		if !c.seqFault.Swap(true) {
			c.log.Error("sequence not persisted", "err", err)
			c.d.event(actuate.Event{Camera: c.name, Level: actuate.LevelError, Kind: "state", Msg: err.Error()})
		}
	} else {
		c.seqFault.Store(false)
	}
	if f.Time.IsZero() {
		f.Time = time.Now()
	}
	if f.Err != nil {
		f.Image = nil // an error frame's verdict carries no picture
	}
	j := &job{seq: seq, frame: f, eng: c.engine.Load(), failAt: f.Time.Add(ls.deadline - guard(ls.deadline)), done: make(chan outcome, 1), dl: dl}
	j.ctx, j.cancel = context.WithDeadline(context.Background(), j.failAt)
	switch {
	case refused:
		j.done <- outcome{err: f.Err} // the reason says it all
	case f.Err != nil:
		j.done <- outcome{reason: ReasonCapture, err: f.Err}
	case f.Image == nil:
		j.done <- outcome{reason: ReasonCapture, err: errors.New("empty frame")}
	default:
		select {
		case c.work <- j:
		default:
			j.done <- outcome{reason: ReasonOverload, err: fmt.Errorf("inspection queue full (%d frames waiting)", cap(c.work))}
		}
	}
	c.order <- j
}

func (c *camera) worker(i int) {
	defer c.workers.Done()
	for j := range c.work {
		if !time.Now().Before(j.failAt) {
			j.done <- outcome{reason: ReasonDeadline, err: errors.New("waited in the queue past the deadline")}
			continue
		}
		c.busy[i].Store(time.Now().UnixNano())
		img := infer.FromImage(j.frame.Image, c.d.loop.Load().size)
		res, err := j.eng.insp.Inspect(j.ctx, img)
		c.busy[i].Store(0)
		o := outcome{res: res, err: err, inspected: time.Now(), img: img}
		switch {
		case err != nil:
			o.res = nil
			o.reason = ReasonInspect
			if errors.Is(err, context.DeadlineExceeded) {
				o.reason = ReasonDeadline
			}
		case res == nil:
			o.reason, o.err = ReasonInspect, errors.New("engine returned no result")
		default:
			// Decided here, so that the heatmap shows the verdict that is
			// published, and encoded here, in parallel, so that the
			// publisher only publishes.
			dec := c.rule().Decide(res, "")
			o.decided = &dec
			o.heatmap = c.d.heatmap(j.frame, res, dec)
		}
		j.done <- o
	}
}

// publisher publishes one verdict per admitted job, in seq order. A job with
// no outcome by its failAt gets the fail-safe verdict; the inspection still
// running for it is cancelled.
func (c *camera) publisher() {
	defer close(c.pubDone)
	for j := range c.order {
		c.pubBusy.Store(time.Now().UnixNano())
		// Verdicts leave in seq order, one publish at a time, so a frame
		// gives up early enough for its own publish and those of the
		// frames queued behind it to make their deadlines.
		// Capped at half the deadline: queued frames captured later have
		// later deadlines, so this over-estimates for long backlogs.
		backlog := min(time.Duration(len(c.order)+1)*time.Duration(c.pubCost.Load()), c.d.loop.Load().deadline/2)
		var o outcome
		t := time.NewTimer(time.Until(j.failAt.Add(-backlog)))
		select {
		case o = <-j.done:
		case <-t.C:
			o = outcome{reason: ReasonDeadline, err: fmt.Errorf("no result in time for the %v deadline", c.d.loop.Load().deadline)}
		}
		t.Stop()
		j.cancel()
		v := c.verdict(j, o)
		m := v.msg
		m.Heatmap = o.heatmap
		start := time.Now()
		if err := c.d.publisher().PublishVerdict(m); err != nil {
			c.log.Error("publish verdict", "seq", m.Seq, "err", err)
		}
		// Stored (or refused for good): the broker may forget the trigger.
		j.dl.Done()
		if frameHook != nil {
			frameHook()
		}
		// The publish time (the outgoing store syncs each verdict to disk),
		// tracked pessimistically: a slow publish counts at once, fast ones
		// bring the estimate down slowly.
		took, cost := int64(time.Since(start)), c.pubCost.Load()
		if took > cost {
			c.pubCost.Store(took)
		} else {
			c.pubCost.Store((7*cost + took) / 8)
		}
		c.stats.record(v.msg.Verdict, time.Since(v.msg.Captured), v.msg.Alignment != nil && v.msg.Alignment.Failed != "")
		c.d.archive.Load().offer(v)
		c.pubBusy.Store(0)
	}
}

// verdict turns an outcome into the published verdict, decided by Decide
// under the camera's rule (the worker's decision when it made one). Boxes go
// from the engine's square input to the camera frame's pixels.
func (c *camera) verdict(j *job, o outcome) *record {
	var dec Decision
	if o.decided != nil {
		dec = *o.decided
	} else {
		dec = c.rule().Decide(o.res, o.failure())
	}
	eng := j.eng
	r := &record{frame: j.frame.Image, img: o.img, msg: actuate.Verdict{
		Camera: c.name, Seq: j.seq, PartID: j.frame.PartID,
		Captured: j.frame.Time, Inspected: o.inspected,
		Verdict: dec.Verdict, Reject: dec.Reject, Reason: dec.Reason,
		Score: dec.Score, Threshold: dec.Threshold,
		BankID: eng.bankID, Recipe: eng.recipe,
		Findings: []actuate.Finding{},
	}}
	if o.failure() == "" && o.res != nil {
		r.result = o.res
		if o.img != nil && j.frame.Image != nil {
			r.msg.Findings = WireFindings(o.res.Findings, o.img.W, j.frame.Image.Bounds())
			r.msg.Alignment = WireAlignment(o.res.Alignment, o.img.W, j.frame.Image.Bounds())
		}
	}
	return r
}

// rule is what this camera's verdicts are decided under now.
func (c *camera) rule() Rule {
	return Rule{Threshold: c.thresholdOverride(), FailSafe: c.d.loop.Load().failSafe}
}

func (c *camera) setThreshold(t float64) { c.threshold.Store(math.Float64bits(t)) }

// thresholdOverride is the operator's threshold, 0 when the engine's rules.
func (c *camera) thresholdOverride() float64 { return math.Float64frombits(c.threshold.Load()) }

// healthy reports whether the loop is making progress: no inspection and no
// pending publish has been stuck for longer than limit.
func (c *camera) healthy(now time.Time, limit time.Duration) error {
	if t := c.pubBusy.Load(); t != 0 && now.Sub(time.Unix(0, t)) > limit {
		return fmt.Errorf("camera %s: publisher stuck for %v", c.name, now.Sub(time.Unix(0, t)).Round(time.Millisecond))
	}
	for i := range c.busy {
		if t := c.busy[i].Load(); t != 0 && now.Sub(time.Unix(0, t)) > limit {
			return fmt.Errorf("camera %s: inspection stuck for %v", c.name, now.Sub(time.Unix(0, t)).Round(time.Millisecond))
		}
	}
	return nil
}
