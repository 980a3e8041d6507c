// Package capture turns a configured camera into a stream of frames: a V4L2
// device, a GStreamer pipeline (aravissrc for GigE Vision and USB3 Vision),
// a video file or RTSP stream, or an image folder replayed as a camera.
//
// One goroutine, the one running Camera.Run, owns each source: the OpenCV
// capture and its Mats never leave it. Consumers get Frames that hold plain
// Go images. Every frame that was due (a software trigger, a free-run tick,
// a hardware-triggered frame) is delivered, as an image or with Err set when
// it could not be captured; none is dropped silently.
package capture

import (
	"context"
	"errors"
	"fmt"
	"image"
	"sync"
	"sync/atomic"
	"time"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/config/backoff"
)

// Frame is one captured frame, or the error of one that could not be captured.
type Frame struct {
	// Camera is the configured camera name.
	Camera string
	// Index counts the frames this Camera delivered, error frames included,
	// from 1. It restarts with the process; the verdict sequence number is
	// the daemon's, which persists it.
	Index uint64
	// PartID is the part id given to Trigger; empty for free-run and
	// hardware-triggered frames.
	PartID string
	// Triggered is when Trigger was called; zero when not software-triggered.
	Triggered time.Time
	// Time is when the frame was captured, or when its capture failed.
	Time time.Time
	// Origin names the frame: the image file of a folder source, or
	// "frame N" (counted since the source was last opened).
	Origin string
	// Image is the frame as RGBA with opaque alpha, origin (0,0); nil when Err is set.
	Image *image.RGBA
	// Err says why this frame could not be captured. The daemon publishes
	// an error verdict for it.
	Err error
}

// State is a camera's connection state.
type State string

// The states a camera reports, in the order they usually occur.
const (
	StateOpening      State = "opening"      // first open attempt
	StateOnline       State = "online"       // open and delivering
	StateLost         State = "lost"         // open or read failed; retrying after Retry
	StateReconnecting State = "reconnecting" // trying to reopen
	StateEnded        State = "ended"        // a video file or folder without loop reached its end
	StateStopped      State = "stopped"      // Run returned
)

// StateEvent reports a state change.
type StateEvent struct {
	Camera string
	State  State
	Time   time.Time
	// Err is the cause of StateLost.
	Err error
	// Attempt counts the failed opens since the camera was last online.
	Attempt int
	// Retry is the backoff before the next attempt (StateLost only).
	Retry time.Duration
}

// Options are the process-side settings of a Camera.
type Options struct {
	// OnState receives every state change. It is called from the capture
	// goroutine and must not block.
	OnState func(StateEvent)
	// FrameBuffer is the capacity of the Frames channel (default 2).
	FrameBuffer int
	// TriggerBuffer bounds the software triggers waiting for a frame
	// (default 16); Trigger returns ErrTriggerBusy beyond it.
	TriggerBuffer int
}

// Errors Trigger returns; the daemon answers the trigger with an error verdict.
var (
	ErrTriggerBusy = errors.New("trigger queue full (triggers arrive faster than frames are captured)")
	ErrStopped     = errors.New("camera stopped")
	ErrNotSoftware = errors.New("camera does not take software triggers (set trigger = \"software\")")
	errRunTwice    = errors.New("Run called twice")
)

// Default reconnect backoff, when the camera's config leaves it unset.
const (
	DefaultReconnectMin = 500 * time.Millisecond
	DefaultReconnectMax = 30 * time.Second
)

// Camera is one configured capture source.
type Camera struct {
	cfg      config.Camera
	opts     Options
	mode     string
	period   time.Duration // free-run period; 0 = every frame
	frames   chan Frame
	triggers chan trigger
	started  atomic.Bool

	mu      sync.Mutex // orders Trigger against the end of Run
	stopped bool

	// Owned by the Run goroutine.
	index   uint64
	pending []trigger // software triggers waiting for a live frame
}

type trigger struct {
	partID string
	at     time.Time
}

// New validates cfg and prepares the camera; Run opens it.
func New(cfg config.Camera, opts Options) (*Camera, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ReconnectMin == 0 {
		cfg.ReconnectMin = config.Duration(DefaultReconnectMin)
	}
	if cfg.ReconnectMax == 0 {
		cfg.ReconnectMax = config.Duration(max(DefaultReconnectMax, cfg.ReconnectMin.D()))
	}
	if opts.FrameBuffer <= 0 {
		opts.FrameBuffer = 2
	}
	if opts.TriggerBuffer <= 0 {
		opts.TriggerBuffer = 16
	}
	c := &Camera{
		cfg:      cfg,
		opts:     opts,
		mode:     cfg.Trigger,
		frames:   make(chan Frame, opts.FrameBuffer),
		triggers: make(chan trigger, opts.TriggerBuffer),
	}
	if c.mode == "" {
		c.mode = "free"
	}
	if c.mode == "free" && cfg.Rate > 0 {
		c.period = time.Duration(float64(time.Second) / cfg.Rate)
	}
	return c, nil
}

// Name is the configured camera name.
func (c *Camera) Name() string { return c.cfg.Name }

// Frames delivers the captured frames. It is closed when Run returns.
func (c *Camera) Frames() <-chan Frame { return c.frames }

// Trigger asks for one frame for partID (may be empty). It does not block:
// the frame, or its error, arrives on Frames. An error means no frame will
// come for this trigger.
func (c *Camera) Trigger(partID string) error {
	if c.mode != "software" {
		return fmt.Errorf("camera %q (trigger = %q): %w", c.cfg.Name, c.mode, ErrNotSoftware)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return fmt.Errorf("camera %q: %w", c.cfg.Name, ErrStopped)
	}
	select {
	case c.triggers <- trigger{partID: partID, at: time.Now()}:
		return nil
	default:
		return fmt.Errorf("camera %q: %w", c.cfg.Name, ErrTriggerBusy)
	}
}

// Run opens the source, delivers frames and reopens a lost source with
// exponential backoff, until ctx is cancelled or a free-running file or
// folder ends. A read that blocks (a hardware-triggered camera waiting for
// its line) finishes before Run sees ctx.
//
// On return, triggers accepted but not captured get ErrStopped frames, then
// Frames is closed; a consumer that ranges over Frames until it closes sees
// every trigger answered (Run waits at most StopGrace for it).
func (c *Camera) Run(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return fmt.Errorf("camera %q: %w", c.cfg.Name, errRunTwice)
	}
	defer c.finish()

	retry, attempt := backoff.Backoff{Min: c.cfg.ReconnectMin.D(), Max: c.cfg.ReconnectMax.D()}, 0
	c.report(StateEvent{State: StateOpening})
	for {
		g, err := open(c.cfg)
		if err == nil {
			attempt = 0
			retry.Reset()
			c.report(StateEvent{State: StateOnline})
			err = c.serve(ctx, g)
			g.close()
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, errEnd):
			c.report(StateEvent{State: StateEnded})
			if c.mode == "software" {
				c.refuseUntilDone(ctx, fmt.Errorf("camera %q: source ended (set loop = true to replay it)", c.cfg.Name))
			}
			return nil
		}
		attempt++
		delay := retry.Next()
		c.report(StateEvent{State: StateLost, Err: err, Attempt: attempt, Retry: delay})
		if !c.wait(ctx, delay, err) {
			return nil
		}
		c.report(StateEvent{State: StateReconnecting, Attempt: attempt})
	}
}

// serve delivers frames from an open source until ctx ends, the source ends
// (errEnd) or it is lost (any other error).
func (c *Camera) serve(ctx context.Context, g grabber) error {
	if g.live() {
		return c.serveLive(ctx, g)
	}
	return c.serveOnDemand(ctx, g)
}

// frame is the frame for trigger t taken at now: g's image when err (the
// grab's) is nil, otherwise the error, which it also returns, the image's
// own when decoding it failed.
func (c *Camera) frame(g grabber, t trigger, now time.Time, origin string, err error) (Frame, error) {
	f := Frame{PartID: t.partID, Triggered: t.at, Time: now, Origin: origin}
	if err == nil {
		f.Image, err = g.image()
	}
	if err != nil {
		f.Err = fmt.Errorf("camera %q: %w", c.cfg.Name, err)
	}
	return f, err
}

// serveOnDemand reads a file or folder source only when a frame is due.
func (c *Camera) serveOnDemand(ctx context.Context, g grabber) error {
	next := time.Now()
	for {
		var t trigger
		if c.mode == "software" {
			select {
			case <-ctx.Done():
				return nil
			case t = <-c.triggers:
			}
		} else if c.period > 0 {
			if !sleepUntil(ctx, next) {
				return nil
			}
			next = nextTick(next, c.period, time.Now())
		} else if ctx.Err() != nil {
			return nil
		}
		origin, err := g.grab()
		if errors.Is(err, errEnd) {
			if c.mode == "software" {
				c.send(ctx, Frame{PartID: t.partID, Triggered: t.at, Time: time.Now(), Err: fmt.Errorf("camera %q: source ended (set loop = true to replay it)", c.cfg.Name)})
			}
			return err
		}
		f, err := c.frame(g, t, time.Now(), origin, err)
		if !c.send(ctx, f) {
			return nil
		}
		if err != nil && !isBadFrame(err) {
			return err
		}
	}
}

// serveLive reads a camera or stream continuously, so that the frame a
// trigger or tick gets is fresh rather than one that waited in a buffer,
// and converts only the frames that are due.
func (c *Camera) serveLive(ctx context.Context, g grabber) error {
	next := time.Now()
	for ctx.Err() == nil {
		started := time.Now()
		origin, err := g.grab()
		now := time.Now()
		c.collect()

		due, t := false, trigger{}
		switch c.mode {
		case "hardware":
			due = true
		case "free":
			if c.period == 0 || !now.Before(next) {
				due, next = true, nextTick(next, c.period, now)
			}
		case "software":
			// A frame whose read began before the trigger may show the
			// previous part; the trigger takes the first frame after it.
			if len(c.pending) > 0 && c.pending[0].at.Before(started) {
				due, t, c.pending = true, c.pending[0], c.pending[1:]
			}
		}

		if err != nil && !isBadFrame(err) {
			// Every frame that was due, and every waiting trigger, learns
			// that the camera is gone. A hardware-triggered camera has no
			// frame due: a read timeout is not a part.
			cause := fmt.Errorf("camera %q: %w", c.cfg.Name, err)
			if due && c.mode != "hardware" {
				c.pending = append([]trigger{t}, c.pending...)
			}
			for len(c.pending) > 0 {
				p := c.pending[0]
				c.pending = c.pending[1:]
				if !c.send(ctx, Frame{PartID: p.partID, Triggered: p.at, Time: now, Err: cause}) {
					return nil
				}
			}
			return err
		}
		if !due {
			continue
		}
		f, _ := c.frame(g, t, now, origin, err)
		if !c.send(ctx, f) {
			return nil
		}
	}
	return nil
}

// collect moves the waiting software triggers into c.pending without blocking.
func (c *Camera) collect() {
	for {
		select {
		case t := <-c.triggers:
			c.pending = append(c.pending, t)
		default:
			return
		}
	}
}

// StopGrace bounds how long a stopping camera waits for the consumer to take
// the error frames of the triggers it can no longer capture.
const StopGrace = 2 * time.Second

// finish refuses new triggers, answers the accepted ones with ErrStopped
// and closes Frames.
func (c *Camera) finish() {
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	c.collect()
	grace := time.NewTimer(StopGrace)
	defer grace.Stop()
	for _, p := range c.pending {
		f := Frame{Camera: c.cfg.Name, Index: c.index + 1, PartID: p.partID, Triggered: p.at, Time: time.Now(),
			Err: fmt.Errorf("camera %q: %w before this trigger was captured", c.cfg.Name, ErrStopped)}
		select {
		case c.frames <- f:
			c.index++
			continue
		case <-grace.C:
		}
		break
	}
	c.pending = nil
	c.report(StateEvent{State: StateStopped})
	close(c.frames)
}

// wait sleeps for the backoff delay; software triggers arriving meanwhile
// get error frames naming the cause. It returns false when ctx ends.
func (c *Camera) wait(ctx context.Context, delay time.Duration, cause error) bool {
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
			return true
		case t := <-c.triggers:
			err := fmt.Errorf("camera %q is not capturing (reconnecting): %w", c.cfg.Name, cause)
			if !c.send(ctx, Frame{PartID: t.partID, Triggered: t.at, Time: time.Now(), Err: err}) {
				return false
			}
		}
	}
}

// refuseUntilDone answers every trigger with an error frame until ctx ends.
func (c *Camera) refuseUntilDone(ctx context.Context, cause error) {
	for {
		select {
		case <-ctx.Done():
			return
		case t := <-c.triggers:
			if !c.send(ctx, Frame{PartID: t.partID, Triggered: t.at, Time: time.Now(), Err: cause}) {
				return
			}
		}
	}
}

// send delivers f, blocking while the consumer is busy. It returns false
// when ctx ended first; a trigger f answered is then kept for finish.
func (c *Camera) send(ctx context.Context, f Frame) bool {
	f.Camera, f.Index = c.cfg.Name, c.index+1
	select {
	case c.frames <- f:
		c.index++
		return true
	case <-ctx.Done():
		if !f.Triggered.IsZero() {
			c.pending = append(c.pending, trigger{partID: f.PartID, at: f.Triggered})
		}
		return false
	}
}

func (c *Camera) report(e StateEvent) {
	if c.opts.OnState == nil {
		return
	}
	e.Camera, e.Time = c.cfg.Name, time.Now()
	c.opts.OnState(e)
}

func isBadFrame(err error) bool {
	var b *badFrame
	return errors.As(err, &b)
}

// nextTick returns the next free-run deadline after now. A consumer that
// fell behind skips the missed ticks rather than getting a burst.
func nextTick(prev time.Time, period time.Duration, now time.Time) time.Time {
	next := prev.Add(period)
	if next.Before(now) {
		next = now.Add(period)
	}
	return next
}

// sleepUntil waits until t; false when ctx ends first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
