package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/capture"
	"github.com/samlad/samlad/config"
)

// Broker is the connected publisher. Close delivers what is queued while
// ctx allows, publishes the availability `stopped` and disconnects.
// *actuate.Client implements it.
type Broker interface {
	Publisher
	Close(ctx context.Context) error
}

// Deps are the daemon's connections to the world. Production uses
// DefaultDeps; tests replace OpenSource (camera hardware is the one edge we
// cannot reach here) and may wrap NewInspector to inject delays or faults.
type Deps struct {
	// OpenSource opens a camera's frame source; connection state changes
	// go to onState.
	OpenSource func(cc config.Camera, onState func(capture.StateEvent)) (Source, error)
	// NewInspector builds the engine for one bank file and names the
	// execution provider it runs on.
	NewInspector func(cfg config.Config, bankPath string) (insp Inspector, provider string, err error)
	// Enroll builds a bank from the good images in dir and writes it to out.
	Enroll func(cfg config.Config, dir, out string) error
	// Connect connects to the broker, returning once the first connection
	// is up (or refused, or ctx ends); commands go to h.
	Connect func(ctx context.Context, cfg config.Config, h actuate.CommandHandler) (Broker, error)
	// Load reads and validates a config file (used on reload).
	Load func(path string) (config.Config, error)
	Log  *slog.Logger
}

// Daemon is the running appliance.
type Daemon struct {
	deps       Deps
	log        *slog.Logger
	configPath string
	started    time.Time

	mu      sync.Mutex // guards cfg and cameras against reload and commands
	cfg     config.Config
	cameras map[string]*camera
	archive atomic.Pointer[archive] // nil when archiving is off

	loop atomic.Pointer[loopSettings]
	pub  atomic.Pointer[publisherRef] // logs only until the broker is connected

	reloads chan struct{}
	ready   atomic.Bool
}

// New prepares a daemon for cfg (already loaded from configPath) without
// touching the network or the cameras.
func New(configPath string, cfg config.Config, deps Deps) *Daemon {
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	d := &Daemon{deps: deps, log: deps.Log, configPath: configPath, cfg: cfg, cameras: map[string]*camera{}, reloads: make(chan struct{}, 1)}
	d.pub.Store(&publisherRef{logPublisher{}})
	d.setLoop(cfg)
	return d
}

func (d *Daemon) setLoop(cfg config.Config) {
	d.loop.Store(&loopSettings{deadline: cfg.Daemon.Deadline.D(), failSafe: cfg.Daemon.FailSafe, heatmap: cfg.Actuate, size: cfg.Pipeline.InputSize})
}

// Reload asks the running daemon to reload its config file (SIGHUP).
func (d *Daemon) Reload() {
	select {
	case d.reloads <- struct{}{}:
	default: // one is already pending; it will read the newest file
	}
}

// Ready reports whether the daemon has connected and loaded its banks.
func (d *Daemon) Ready() bool { return d.ready.Load() }

// Run starts the cameras and serves until ctx is cancelled, then stops
// cleanly: triggers stop, frames in flight get their verdict (real or
// fail-safe), `stopped` is published. A nil error means a clean stop.
func (d *Daemon) Run(ctx context.Context) error {
	d.started = time.Now()
	for _, w := range exposedSecrets(d.cfg) {
		d.log.Warn("secret exposed", "detail", w)
	}
	engines, err := d.buildEngines(d.cfg)
	if err != nil {
		return err
	}
	if addr := d.cfg.Daemon.Health; addr != "" {
		stop, err := d.serveHealth(addr)
		if err != nil {
			return err
		}
		defer stop()
	}
	broker, err := d.deps.Connect(ctx, d.cfg, d)
	if err != nil {
		if ctx.Err() != nil {
			d.log.Info("stopped before the broker connected")
			return nil // SIGTERM while waiting is a clean stop
		}
		return err
	}
	d.pub.Store(&publisherRef{broker})
	d.mu.Lock()
	d.archive.Store(newArchive(d.cfg.Archive, d.log, d.event))
	for _, cc := range d.cfg.Cameras {
		c, err := d.newCamera(cc, engines[cc.Name])
		if err != nil {
			d.mu.Unlock()
			d.stopAll()
			cctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
			broker.Close(cctx)
			cancel()
			return err
		}
		d.cameras[cc.Name] = c
		c.start()
		d.publishState(c)
	}
	d.mu.Unlock()
	// The commands the broker kept for us (a persistent session) waited
	// for the cameras; they may come in now.
	if s, ok := broker.(interface{ StartCommands() }); ok {
		s.StartCommands()
	}

	d.ready.Store(true)
	sd.SdNotify(false, sd.SdNotifyReady+"\n"+fmt.Sprintf("STATUS=inspecting %d camera(s), broker %s", len(d.cfg.Cameras), d.cfg.MQTT.Broker))
	d.log.Info("samlad ready", "cameras", len(d.cfg.Cameras), "broker", d.cfg.MQTT.Broker)

	var watchdog <-chan time.Time
	if iv, err := sd.SdWatchdogEnabled(false); err == nil && iv > 0 {
		t := time.NewTicker(iv / 3)
		defer t.Stop()
		watchdog = t.C
	}
	stats := time.NewTicker(max(d.cfg.MQTT.StatsInterval.D(), 100*time.Millisecond))
	defer stats.Stop()
	reloadDone := make(chan struct{}, 1)
	reloading, again := false, false
	unhealthy := ""
	for {
		select {
		case <-ctx.Done():
			sd.SdNotify(false, sd.SdNotifyStopping)
			d.log.Info("stopping: finishing frames in flight")
			d.stopAll()
			cctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
			err := broker.Close(cctx)
			cancel()
			if err != nil {
				d.log.Error("close broker connection", "err", err)
			}
			d.log.Info("samlad stopped")
			return nil
		case <-d.reloads:
			if reloading {
				again = true // run again once the current reload is done
				continue
			}
			reloading = true
			sd.SdNotify(false, sd.SdNotifyReloading)
			go func() { // a bank load can take long; the watchdog keeps running
				d.reload()
				reloadDone <- struct{}{}
			}()
		case <-reloadDone:
			reloading = false
			sd.SdNotify(false, sd.SdNotifyReady)
			if again {
				again = false
				d.Reload()
			}
		case <-watchdog:
			if err := d.health(time.Now()); err != nil {
				if unhealthy != err.Error() {
					unhealthy = err.Error()
					d.log.Error("inspection loop unhealthy; withholding the systemd watchdog ping", "err", err)
					d.event(actuate.Event{Level: actuate.LevelError, Kind: "health", Msg: err.Error()})
				}
				continue
			}
			unhealthy = ""
			sd.SdNotify(false, sd.SdNotifyWatchdog)
		case <-stats.C:
			if err := d.publisher().PublishStats(d.Stats()); err != nil {
				d.log.Warn("publish stats", "err", err)
			}
		}
	}
}

// closeTimeout bounds how long a stopping daemon waits for the broker to
// take the verdicts still queued; what is left stays in the persistent
// outgoing store for the next start.
const closeTimeout = 5 * time.Second

// stopAll stops every camera in parallel; each finishes its frames in flight.
func (d *Daemon) stopAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range d.cameras {
		wg.Go(c.stop)
	}
	wg.Wait()
	d.cameras = map[string]*camera{}
	d.archive.Swap(nil).close()
}

// stuckLimit is how long one inspection or one pending publish may take
// before the loop counts as hung and the watchdog ping is withheld, so that
// systemd restarts the daemon. Inspections are cancelled at the deadline; an
// engine that ignores that for this long is not coming back.
func stuckLimit(deadline time.Duration) time.Duration {
	return max(10*deadline, 5*time.Second)
}

func (d *Daemon) health(now time.Time) error {
	limit := stuckLimit(d.loop.Load().deadline)
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.cameras {
		if err := c.healthy(now, limit); err != nil {
			return err
		}
	}
	return nil
}

// Stats returns the current health report.
func (d *Daemon) Stats() actuate.Stats {
	now := time.Now()
	s := actuate.Stats{Time: now, UptimeS: now.Sub(d.started).Seconds(), Cameras: []actuate.CameraStats{}}
	d.mu.Lock()
	defer d.mu.Unlock()
	var providers []string
	for _, cc := range d.cfg.Cameras {
		c, ok := d.cameras[cc.Name]
		if !ok {
			continue
		}
		eng := c.engine.Load()
		cs := actuate.CameraStats{Camera: c.name, QueueDepth: len(c.work), Enabled: c.enabled.Load(), Recipe: eng.recipe}
		c.stats.snapshot(&cs, now)
		s.Cameras = append(s.Cameras, cs)
		if !slices.Contains(providers, eng.provider) {
			providers = append(providers, eng.provider)
		}
	}
	s.Provider = strings.Join(providers, ",")
	return s
}

// buildEngines loads every camera's bank. Nothing is swapped here, so a
// failure leaves the running engines untouched.
func (d *Daemon) buildEngines(cfg config.Config) (map[string]*engineRef, error) {
	out := map[string]*engineRef{}
	for _, cc := range cfg.Cameras {
		insp, provider, err := d.deps.NewInspector(cfg, cc.Bank)
		if err != nil {
			return nil, fmt.Errorf("camera %s: bank %s: %w", cc.Name, cc.Bank, err)
		}
		out[cc.Name] = &engineRef{insp: insp, bank: cc.Bank, bankID: bankID(cc.Bank), recipe: recipeName(cc), provider: provider}
	}
	return out, nil
}

func (d *Daemon) newCamera(cc config.Camera, eng *engineRef) (*camera, error) {
	seq, err := openSequence(d.cfg.Daemon.StateDir, cc.Name)
	if err != nil {
		return nil, fmt.Errorf("camera %s: %w", cc.Name, err)
	}
	if unclean, last := seq.Unclean(); unclean {
		d.event(actuate.Event{Camera: cc.Name, Level: actuate.LevelWarn, Kind: "restart", LastSeq: last, Msg: fmt.Sprintf(
			"samlad restarted after an unclean stop (crash, kill or power loss); camera %s handed out seq %d last. Every seq after the last verdict you received up to %d was a frame in flight with no verdict: an MQTT trigger among them is answered again under a new seq, any other frame there is a part without a verdict", cc.Name, last, last)})
	}
	return newCamera(d, cc, seq, eng, max(d.cfg.Daemon.QueueDepth, 1), max(d.cfg.Daemon.Workers, 1)), nil
}

// reload re-reads the config file and the banks. Anything invalid refuses the
// whole reload: the running config and engines stay, and the error is logged
// and published. A valid one swaps each camera's engine between frames.
func (d *Daemon) reload() {
	d.log.Info("reloading", "config", d.configPath)
	cfg, err := d.deps.Load(d.configPath)
	if err == nil {
		err = reloadable(d.current(), cfg)
	}
	var engines map[string]*engineRef
	if err == nil {
		engines, err = d.buildEngines(cfg)
	}
	if err != nil {
		msg := fmt.Sprintf("reload refused, the running config stays: %v", err)
		d.log.Error(msg)
		d.event(actuate.Event{Level: actuate.LevelError, Kind: "reload", Msg: msg})
		return
	}
	for _, w := range exposedSecrets(cfg) {
		d.log.Warn("secret exposed", "detail", w)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cfg = cfg
	d.setLoop(cfg)
	if !reflect.DeepEqual(d.archiveCfg(), cfg.Archive) {
		d.archive.Swap(newArchive(cfg.Archive, d.log, d.event)).close()
	}
	for _, cc := range cfg.Cameras {
		c, ok := d.cameras[cc.Name]
		if !ok {
			continue // stopping: the cameras are gone
		}
		c.engine.Store(engines[cc.Name])
		c.threshold.Store(0) // the new config's threshold rules again
		d.publishState(c)
	}
	d.log.Info("reloaded", "config", d.configPath)
	d.event(actuate.Event{Level: actuate.LevelInfo, Kind: "reload", Msg: "config and banks reloaded"})
}

func (d *Daemon) archiveCfg() config.Archive {
	a := d.archive.Load()
	if a == nil {
		return config.Archive{}
	}
	return a.cfg
}

func (d *Daemon) current() config.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

// reloadable refuses changes a reload cannot apply without dropping frames
// or the broker session; those need a restart.
func reloadable(old, cfg config.Config) error {
	if !reflect.DeepEqual(old.MQTT, cfg.MQTT) {
		return errors.New("[mqtt] changed; restart the service to apply broker changes")
	}
	if len(old.Cameras) != len(cfg.Cameras) {
		return errors.New("cameras added or removed; restart the service to apply")
	}
	for i, oc := range old.Cameras {
		nc := cfg.Cameras[i]
		oc.Bank, oc.Recipe, oc.Enabled = nc.Bank, nc.Recipe, nc.Enabled
		if !reflect.DeepEqual(oc, nc) {
			return fmt.Errorf("camera %s: source or trigger changed; restart the service to apply (a reload applies banks, recipes, pipeline and deadline)", nc.Name)
		}
	}
	if old.Daemon.QueueDepth != cfg.Daemon.QueueDepth || old.Daemon.Workers != cfg.Daemon.Workers || old.Daemon.StateDir != cfg.Daemon.StateDir {
		return errors.New("[daemon] queue_depth, workers or state_dir changed; restart the service to apply")
	}
	return nil
}

func recipeName(cc config.Camera) string {
	if cc.Recipe != "" {
		return cc.Recipe
	}
	return cc.Bank
}

// publisherRef lets the publisher be swapped atomically once connected.
type publisherRef struct{ Publisher }

func (d *Daemon) publisher() Publisher { return d.pub.Load().Publisher }

// event logs e and publishes it on <prefix>/events.
func (d *Daemon) event(e actuate.Event) {
	lvl := slog.LevelInfo
	switch e.Level {
	case actuate.LevelWarn:
		lvl = slog.LevelWarn
	case actuate.LevelError:
		lvl = slog.LevelError
	}
	d.log.Log(context.Background(), lvl, e.Msg, "event", e.Kind, "camera", e.Camera)
	if err := d.publisher().PublishEvent(e); err != nil {
		d.log.Warn("publish event", "err", err, "event", e.Msg)
	}
}

// logPublisher stands in for the broker before the first connect. Nothing
// but events can happen then (cameras start after the connect), and the
// daemon logs every event anyway.
type logPublisher struct{}

func (logPublisher) PublishVerdict(v actuate.Verdict) error {
	return fmt.Errorf("verdict seq %d before the broker connected", v.Seq)
}
func (logPublisher) PublishState(camera, setting, value string) error      { return nil }
func (logPublisher) PublishCameraState(camera, state, detail string) error { return nil }
func (logPublisher) PublishEvent(actuate.Event) error                      { return nil }
func (logPublisher) PublishStats(actuate.Stats) error                      { return nil }
