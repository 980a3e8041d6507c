package actuate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/config/backoff"
)

// Heatmap modes (actuate.heatmap).
const (
	HeatmapOff  = "off"
	HeatmapAll  = "all"
	HeatmapFail = "fail"
)

const (
	// window is how many stored verdicts may await their PUBACK at once.
	window = 32
	// eventBacklog bounds the events kept while the broker is down.
	eventBacklog = 64
	// commandBacklog bounds the validated commands waiting for the handler.
	commandBacklog = 16
	// heatmapBacklog bounds the heatmaps waiting for their verdict to be sent.
	heatmapBacklog = 4
	// minBackoff is the first reconnect delay; it doubles up to
	// mqtt.max_reconnect_interval and is reset by a session that lasted
	// stableSession: sessions dropped sooner (client id clash, ACL) keep
	// backing off; an ordinary outage after a working session does not
	// inherit the backoff of earlier ones.
	minBackoff    = 200 * time.Millisecond
	stableSession = time.Second
)

// ErrClosed is returned by publishing after Close.
var ErrClosed = errors.New("mqtt client closed")

// Client publishes verdicts, rejects, heatmaps, stats, states and events,
// and receives commands. Verdicts go through the persistent outgoing store,
// so they survive broker outages and restarts and arrive in order. Other
// messages are live only: stats and heatmaps are dropped while the broker is
// down, the latest retained states are re-published on every connection, and
// up to eventBacklog events wait for it. All methods are safe for concurrent use.
type Client struct {
	cfg    config.MQTT
	act    config.Actuate
	log    *slog.Logger
	topics Topics
	opts   *mqtt.ClientOptions
	cmds   Commands
	store  *outbox

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the connection loop has returned
	kick   chan struct{} // the store has a new entry
	cmdq   chan Command

	puts sync.WaitGroup // PublishVerdict calls storing now

	mu         sync.Mutex
	sess       mqtt.Client   // the live session; nil while down
	changed    chan struct{} // closed and replaced on every connect or failed attempt
	lastErr    error
	downSince  time.Time
	closing    bool
	retained   map[string][]byte // latest retained payload per topic
	events     []Event
	eventsLost int
	heatmaps   map[uint64]heatmapMsg
	reconnects uint64
	connected  bool // at least once
	stale      uint64

	// Trigger delivery (delivery.go), under mu.
	born      time.Time
	pending   map[string]*pendingMsg // triggers handed on, not yet answered
	acked     map[string]bool        // recently answered, to spot redeliveries
	ackedRing []string
	backlog   backlogState
	syncs     uint64

	// msgMu serialises command handling with StartCommands; held holds
	// the messages that came before it (Commands.Hold).
	msgMu   sync.Mutex
	started bool
	held    []mqtt.Message
}

type heatmapMsg struct {
	topic string
	jpeg  []byte
}

// Dial validates the configuration, opens the outgoing store (delivering
// what a previous process left in it) and starts connecting in the
// background with backoff. It does not wait for the broker: use
// WaitConnected for that. Errors are configuration errors, each naming its key.
func Dial(cfg config.MQTT, act config.Actuate, cmds Commands, log *slog.Logger) (*Client, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := CheckPrefix(cfg.Prefix); err != nil {
		return nil, err
	}
	if _, err := encodeReject(Reject{}, act.RejectFormat); err != nil {
		return nil, err
	}
	switch act.Heatmap {
	case "", HeatmapOff, HeatmapAll, HeatmapFail:
	default:
		return nil, fmt.Errorf("actuate.heatmap %q: want \"off\", \"all\" or \"fail\"", act.Heatmap)
	}
	for _, cam := range cmds.Cameras {
		if !ValidCamera(cam) {
			return nil, fmt.Errorf("camera name %q cannot be an MQTT topic level: use [a-z0-9_-]", cam)
		}
	}
	clientID := cfg.ClientID
	if clientID == "" {
		clientID = "samlad"
	}
	opts, err := ClientOptions(cfg, clientID, log)
	if err != nil {
		return nil, err
	}
	t := Topics{Prefix: cfg.Prefix}
	opts.SetWill(t.Available(), Offline, 1, true)
	// A persistent session: the broker keeps the command subscription and
	// queues triggers at QoS 1 while samlad is away. Commands are
	// acknowledged by hand: a trigger only once its verdict is stored.
	opts.SetCleanSession(false).SetAutoAckDisabled(true)

	var disc []DiscoveryMessage
	if cfg.Discovery.Enabled {
		if disc, err = Discovery(cfg.Discovery.Prefix, clientID, t, cmds.Cameras); err != nil {
			return nil, err
		}
	}
	store, bad, err := openOutbox(cfg.StoreDir, cfg.StoreLimit, cfg.StoreOverflow, !cfg.StoreNoFsync)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		cfg: cfg, act: act, log: log.With("broker", cfg.Broker), topics: t, opts: opts, cmds: cmds, store: store,
		ctx: ctx, cancel: cancel, done: make(chan struct{}), kick: make(chan struct{}, 1),
		cmdq: make(chan Command, commandBacklog), changed: make(chan struct{}),
		retained: map[string][]byte{t.Available(): []byte(Online), t.AvailableReason(): []byte(ReasonRunning)}, heatmaps: map[uint64]heatmapMsg{},
		downSince: time.Now(), born: time.Now(), started: !cmds.Hold,
		pending: map[string]*pendingMsg{}, acked: map[string]bool{},
	}
	for _, m := range disc {
		c.retained[m.Topic] = m.Payload
	}
	// Queued commands arrive right after CONNACK, before the subscription
	// of this session is made again: they go to the same handler.
	opts.SetDefaultPublishHandler(c.onMessage)
	for _, name := range bad {
		c.PublishEvent(Event{Level: LevelError, Kind: "store", Msg: fmt.Sprintf("outgoing store %s: entry %s is unreadable and was set aside as %s%s", cfg.StoreDir, name, name, corruptExt)})
	}
	if n := store.len(); n > 0 {
		c.log.Info("outgoing store holds verdicts from a previous run; delivering them first", "dir", cfg.StoreDir, "pending", n)
	}
	go c.run()
	if cmds.Handler != nil {
		go c.handleCommands()
	}
	return c, nil
}

// Connected reports whether the broker link is up now.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess != nil
}

// Pending is how many verdicts wait in the outgoing store.
func (c *Client) Pending() int { return c.store.len() }

// WaitConnected returns nil once the broker link is up. It returns the
// *ConnectError at once when the broker refused the connection (bad
// credentials, not authorised: retrying will not help), or the last
// connection error when ctx ends first. The client keeps retrying either way.
func (c *Client) WaitConnected(ctx context.Context) error {
	for {
		c.mu.Lock()
		up, ch, last := c.sess != nil, c.changed, c.lastErr
		c.mu.Unlock()
		if up {
			return nil
		}
		var ce *ConnectError
		if errors.As(last, &ce) && ce.Refused() {
			return ce
		}
		select {
		case <-ch:
		case <-ctx.Done():
			if last != nil {
				return last
			}
			return fmt.Errorf("mqtt broker %s: no connection yet: %w", c.cfg.Broker, ctx.Err())
		}
	}
}

// PublishVerdict accepts a verdict: its reject signal and its JSON are
// stored durably in the outgoing store, then sent in order at QoS 1 as soon
// as the broker is reachable. A nil error means the verdict is accepted and
// will be delivered even if this process dies. The heatmap, when configured,
// is sent after them at QoS 0 and only while the broker is up.
//
// A verdict that is not safe as given is corrected to the safe side and an
// event says so: an unknown kind or a pass without a finite score becomes an
// error verdict that rejects, and a fail always rejects.
func (c *Client) PublishVerdict(v Verdict) error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return ErrClosed
	}
	c.puts.Add(1) // Close waits for stores in progress before closing the store
	c.mu.Unlock()
	defer c.puts.Done()
	if !ValidCamera(v.Camera) {
		return fmt.Errorf("verdict seq %d: camera name %q cannot be an MQTT topic level", v.Seq, v.Camera)
	}
	if fixed := v.normalize(); len(fixed) > 0 {
		msg := fmt.Sprintf("verdict seq %d corrected: %s", v.Seq, strings.Join(fixed, "; "))
		c.log.Error(msg, "camera", v.Camera)
		c.PublishEvent(Event{Level: LevelError, Kind: "verdict", Camera: v.Camera, Msg: msg})
	}
	now := time.Now()
	v.Published = now
	if !v.Captured.IsZero() {
		v.LatencyMS = float64(now.Sub(v.Captured).Microseconds()) / 1000
	}
	rej, err := encodeReject(rejectOf(&v), c.act.RejectFormat)
	if err != nil {
		return err
	}
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode verdict %s seq %d: %w", v.Camera, v.Seq, err)
	}
	// The reject goes first: it is what the gate is waiting for.
	id, err := c.store.put(entry{Camera: v.Camera, Seq: v.Seq, Accepted: now.UnixNano(), Msgs: []outMsg{
		{Topic: c.topics.Reject(v.Camera), QoS: 1, Payload: rej, Reject: true},
		{Topic: c.topics.Verdict(v.Camera), QoS: 1, Payload: body},
	}})
	if err != nil {
		c.log.Error("verdict not stored", "camera", v.Camera, "seq", v.Seq, "err", err)
		if !errors.Is(err, ErrStoreFull) { // overflow is reported in one summary event
			c.PublishEvent(Event{Level: LevelError, Kind: "store", Camera: v.Camera, Msg: err.Error()})
		}
		return err
	}
	if c.wantHeatmap(v) {
		c.mu.Lock()
		if c.sess != nil && len(c.heatmaps) < heatmapBacklog {
			c.heatmaps[id] = heatmapMsg{c.topics.Heatmap(v.Camera), v.Heatmap}
		}
		c.mu.Unlock()
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
	return nil
}

func (c *Client) wantHeatmap(v Verdict) bool {
	if len(v.Heatmap) == 0 {
		return false
	}
	switch c.act.Heatmap {
	case HeatmapAll:
		return true
	case HeatmapFail, "":
		return v.Verdict != Pass
	}
	return false
}

// PublishStats publishes s on <prefix>/stats (QoS 0), adding the link
// section. Stats are live only: while the broker is down they are dropped.
func (c *Client) PublishStats(s Stats) error {
	if s.Time.IsZero() {
		s.Time = time.Now()
	}
	s.Link = c.linkStats()
	body, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode stats: %w", err)
	}
	c.publishLive(c.topics.Stats(), 0, false, body)
	return nil
}

func (c *Client) linkStats() LinkStats {
	dropped, refused := c.store.counts()
	c.mu.Lock()
	defer c.mu.Unlock()
	return LinkStats{Connected: c.sess != nil, Pending: c.store.len(), Dropped: dropped, Refused: refused, Reconnects: c.reconnects}
}

// PublishCameraState publishes a camera's state (CameraOK, CameraLost, ...)
// retained on <prefix>/<camera>/status.
func (c *Client) PublishCameraState(camera, state, detail string) error {
	if !ValidCamera(camera) {
		return fmt.Errorf("camera name %q cannot be an MQTT topic level", camera)
	}
	body, err := json.Marshal(CameraStatus{State: state, Detail: detail, Time: time.Now()})
	if err != nil {
		return err
	}
	c.publishRetained(c.topics.Status(camera), body)
	return nil
}

// PublishState publishes a setting's current value retained on
// <prefix>/<camera>/<setting>/state, e.g. at start and after a change made
// outside MQTT. Command results are published by the client itself.
func (c *Client) PublishState(camera, setting, value string) error {
	if !ValidCamera(camera) || setting == "" || strings.ContainsAny(setting, "/+#") {
		return fmt.Errorf("state %q/%q: not a valid camera and setting", camera, setting)
	}
	c.publishRetained(c.topics.State(camera, setting), []byte(value))
	return nil
}

// PublishEvent publishes an error or warning for operators on
// <prefix>/events (QoS 1). While the broker is down the latest
// eventBacklog events wait for it; older ones are counted and reported.
func (c *Client) PublishEvent(e Event) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.Level == "" {
		e.Level = LevelError
	}
	c.mu.Lock()
	sess := c.sess
	if sess == nil {
		if len(c.events) == eventBacklog {
			c.events = c.events[1:]
			c.eventsLost++
		}
		c.events = append(c.events, e)
	}
	c.mu.Unlock()
	if sess != nil {
		return c.sendEvent(sess, e)
	}
	return nil
}

func (c *Client) sendEvent(sess mqtt.Client, e Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	sess.Publish(c.topics.Events(), 1, false, body)
	return nil
}

// publishRetained remembers the payload, so that every new session
// re-publishes it (a broker restarted without persistence forgets retained
// messages), and sends it now if the link is up.
func (c *Client) publishRetained(topic string, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.retained[topic] = body
	if c.sess != nil {
		c.sess.Publish(topic, 1, true, body)
	}
}

func (c *Client) publishLive(topic string, qos byte, retain bool, body []byte) {
	c.mu.Lock()
	sess := c.sess
	c.mu.Unlock()
	if sess != nil {
		sess.Publish(topic, qos, retain, body)
	}
}

// Close delivers what is in the outgoing store while ctx allows, publishes
// retained "offline" on <prefix>/available (as the Last Will would, which
// Home Assistant and Frigate expect) with "stopped" on
// <prefix>/available/reason, and disconnects cleanly. Triggers not yet
// answered stay unacknowledged: the broker keeps them for the next start. Verdicts still undelivered stay in
// the store for the next start; the error says how many.
func (c *Client) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return nil
	}
	c.closing = true
	c.mu.Unlock()
	c.puts.Wait()

	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
drain:
	for c.store.len() > 0 {
		select {
		case <-ctx.Done():
			break drain
		case <-tick.C:
		}
	}
	c.cancel()
	<-c.done
	c.mu.Lock()
	sess := c.sess
	c.sess = nil
	c.mu.Unlock()
	if sess != nil {
		sess.Publish(c.topics.AvailableReason(), 1, true, ReasonStopped)
		t := sess.Publish(c.topics.Available(), 1, true, Offline)
		if !t.WaitTimeout(2*time.Second) || t.Error() != nil {
			c.log.Warn("could not publish offline before disconnecting", "err", t.Error())
		}
		sess.Disconnect(250)
	}
	left := c.store.len()
	c.store.close()
	if left > 0 {
		return fmt.Errorf("mqtt: %d verdicts not yet delivered to %s stay in %s; the next start delivers them", left, c.cfg.Broker, c.cfg.StoreDir)
	}
	return nil
}

// run is the connection loop: connect, serve the session until it is lost,
// back off, repeat, until Close.
func (c *Client) run() {
	defer close(c.done)
	retry := backoff.Backoff{Min: minBackoff, Max: orDefault(c.cfg.MaxReconnectInterval.D(), time.Second)}
	attempts := 0
	for c.ctx.Err() == nil {
		sess, lost, present, err := c.connect()
		if c.ctx.Err() != nil {
			if err == nil { // closing: Close takes over this session
				c.mu.Lock()
				c.sess = sess
				c.mu.Unlock()
			}
			return
		}
		if err != nil {
			attempts++
			c.noteFailure(err, attempts)
			if !sleepCtx(c.ctx, jitter(retry.Next())) {
				return
			}
			continue
		}
		attempts = 0
		start := time.Now()
		c.serve(sess, lost, present)
		if c.ctx.Err() != nil {
			return // Close takes over the session
		}
		if time.Since(start) < stableSession {
			c.log.Warn("mqtt session ended within a second of connecting; if this repeats, another client may use the same mqtt.client_id or the ACL may deny our topics")
		} else {
			retry.Reset()
		}
		if !sleepCtx(c.ctx, jitter(retry.Next())) {
			return
		}
	}
}

// noteFailure records a failed attempt; it logs the first one, every change
// of reason and every tenth repetition, so a long outage does not flood the log.
func (c *Client) noteFailure(err error, attempts int) {
	c.mu.Lock()
	same := c.lastErr != nil && c.lastErr.Error() == err.Error()
	c.lastErr = err
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	if !same || attempts%10 == 0 {
		c.log.Error("mqtt connect failed", "attempt", attempts, "err", err, "pending", c.store.len())
	}
}

func jitter(d time.Duration) time.Duration {
	return d - d/10 + time.Duration(rand.Int64N(int64(d/5)+1))
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// connect makes one connection attempt with a fresh paho client. lost is
// closed when that session's connection drops; present is the broker's
// "session present": it kept our subscription and what was queued for it.
func (c *Client) connect() (sess mqtt.Client, lost chan struct{}, present bool, err error) {
	lost = make(chan struct{})
	var once sync.Once
	c.opts.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		c.log.Warn("mqtt connection lost", "err", err, "pending", c.store.len())
		once.Do(func() { close(lost) })
	})
	c.awaitBacklog()
	sess = mqtt.NewClient(c.opts) // copies the options
	tok := sess.Connect()
	select {
	case <-tok.Done():
	case <-c.ctx.Done():
		go func() { <-tok.Done(); sess.Disconnect(0) }()
		return nil, nil, false, c.ctx.Err()
	}
	if err := tok.Error(); err != nil {
		return nil, nil, false, connectError(c.cfg.Broker, c.opts.TLSConfig, c.opts.ConnectTimeout, tok, err)
	}
	if ct, ok := tok.(*mqtt.ConnectToken); ok {
		present = ct.SessionPresent()
	}
	return sess, lost, present, nil
}

// serve runs one session: subscribe, announce, re-publish retained states
// and queued events, then send the outgoing store in order until the
// connection drops or the client closes.
func (c *Client) serve(sess mqtt.Client, lost <-chan struct{}, present bool) {
	c.startBacklog(sess, present)
	if c.cmds.Handler != nil {
		filter := c.topics.setFilter()
		t := sess.Subscribe(filter, 1, c.onMessage)
		switch {
		case !t.WaitTimeout(10*time.Second) || t.Error() != nil:
			c.log.Error("cannot subscribe to command topics; commands are ignored this session", "filter", filter, "err", t.Error())
		case refusedSub(t, filter):
			c.log.Error("the broker refused the subscription to command topics (check its ACL: samlad must read them); commands are ignored", "filter", filter)
		}
	}
	c.mu.Lock()
	c.sess = sess
	wasDown := time.Since(c.downSince)
	lastErr := c.lastErr
	if c.connected {
		c.reconnects++
	}
	reconnect := c.connected
	c.connected = true
	c.lastErr = nil
	close(c.changed)
	c.changed = make(chan struct{})
	// Re-published under the lock, so that a state set meanwhile goes out
	// after (never before) the cached one it replaces.
	sess.Publish(c.topics.Available(), 1, true, Online)
	for topic, body := range c.retained {
		if topic != c.topics.Available() {
			sess.Publish(topic, 1, true, body)
		}
	}
	events, lostEvents := c.events, c.eventsLost
	c.events, c.eventsLost = nil, 0
	c.mu.Unlock()

	c.log.Info("mqtt connected", "pending", c.store.len(), "down_for", wasDown.Round(time.Millisecond))
	if reconnect {
		msg := fmt.Sprintf("broker link restored after %s down; %d verdicts waiting in the outgoing store", wasDown.Round(time.Millisecond), c.store.len())
		if lastErr != nil {
			msg += "; last error: " + lastErr.Error()
		}
		c.sendEvent(sess, Event{Time: time.Now(), Level: LevelWarn, Kind: "link", Msg: msg})
	}
	if lostEvents > 0 {
		c.sendEvent(sess, Event{Time: time.Now(), Level: LevelWarn, Kind: "events", Msg: fmt.Sprintf("%d older events were dropped while the broker was down", lostEvents)})
	}
	for _, e := range events {
		c.sendEvent(sess, e)
	}

	closedByUs := c.drain(sess, lost)
	c.mu.Lock()
	if c.sess == sess && !closedByUs {
		c.sess = nil
	}
	c.downSince = time.Now()
	clear(c.heatmaps)
	c.mu.Unlock()
	if !closedByUs {
		sess.Disconnect(0) // a no-op when paho already saw the loss
	}
}

// refusedSub reports whether the broker answered a subscription with the
// failure code 0x80 (typically its ACL).
func refusedSub(t mqtt.Token, filter string) bool {
	st, ok := t.(*mqtt.SubscribeToken)
	return ok && st.Result()[filter] == 0x80
}

type flight struct {
	id   uint64
	toks []mqtt.Token
}

// drain sends stored entries oldest first, up to window awaiting their
// PUBACK, and removes each entry from the store once all its messages are
// acknowledged. It returns true when the client is closing (the session is
// left open for Close) and false when the session is broken: the entries
// still in flight are sent again, in order, on the next session.
func (c *Client) drain(sess mqtt.Client, lost <-chan struct{}) (closing bool) {
	ackTimeout := 2*orDefault(c.cfg.KeepAlive.D(), 30*time.Second) + 10*time.Second
	var inflight []flight
	var last uint64
	for {
		for len(inflight) < window {
			ids := c.store.after(last, window-len(inflight))
			if len(ids) == 0 {
				break
			}
			for _, id := range ids {
				last = id
				if f, ok := c.send(sess, id); ok {
					inflight = append(inflight, f)
				}
			}
		}
		c.reportOverflow(sess)
		if len(inflight) == 0 {
			select {
			case <-c.kick:
				continue
			case <-lost:
				return false
			case <-c.ctx.Done():
				return true
			}
		}
		f := inflight[0]
		for _, t := range f.toks {
			timer := time.NewTimer(ackTimeout)
			select {
			case <-t.Done():
			case <-lost:
				timer.Stop()
				return false
			case <-c.ctx.Done():
				timer.Stop()
				return true
			case <-timer.C:
				c.log.Error("no PUBACK from the broker; reconnecting", "timeout", ackTimeout)
				return false
			}
			timer.Stop()
			if err := t.Error(); err != nil {
				c.log.Warn("publish not acknowledged; it is resent after reconnection", "err", err)
				return false
			}
		}
		if err := c.store.ack(f.id); err != nil {
			c.log.Error("outgoing store", "err", err)
		}
		inflight = inflight[1:]
	}
}

// send publishes one stored entry's messages, then its heatmap if one waits.
func (c *Client) send(sess mqtt.Client, id uint64) (flight, bool) {
	e, err := c.store.read(id)
	if errors.Is(err, os.ErrNotExist) {
		return flight{}, false // dropped by the overflow policy meanwhile
	}
	if err != nil {
		c.store.quarantine(id)
		msg := fmt.Sprintf("outgoing store %s: entry %d unreadable (%v), set aside as %020d%s%s", c.cfg.StoreDir, id, err, id, entryExt, corruptExt)
		c.log.Error(msg)
		c.sendEvent(sess, Event{Time: time.Now(), Level: LevelError, Kind: "store", Msg: msg})
		return flight{}, false
	}
	f := flight{id: id}
	maxAge := c.act.RejectMaxAge.D()
	for _, m := range e.Msgs {
		if m.Reject && maxAge > 0 && e.age(time.Now()) > maxAge {
			c.noteStale(sess, e, maxAge)
			continue
		}
		f.toks = append(f.toks, sess.Publish(m.Topic, m.QoS, false, m.Payload))
	}
	c.mu.Lock()
	h, ok := c.heatmaps[id]
	delete(c.heatmaps, id)
	c.mu.Unlock()
	if ok {
		sess.Publish(h.topic, 0, false, h.jpeg)
	}
	return f, true
}

func (c *Client) noteStale(sess mqtt.Client, e entry, maxAge time.Duration) {
	c.mu.Lock()
	c.stale++
	n := c.stale
	c.mu.Unlock()
	if n == 1 || n%100 == 0 {
		c.sendEvent(sess, Event{Time: time.Now(), Level: LevelWarn, Kind: "stale_reject", Camera: e.Camera,
			Msg: fmt.Sprintf("reject for seq %d withheld: %s old, over actuate.reject_max_age %s (its verdict is still sent; %d withheld so far)", e.Seq, e.age(time.Now()).Round(time.Millisecond), maxAge, n)})
	}
}

// reportOverflow publishes one event summarising what the overflow policy
// dropped or refused since the last report.
func (c *Client) reportOverflow(sess mqtt.Client) {
	ov := c.store.takeOverflow()
	if ov.dropped+ov.refused == 0 {
		return
	}
	var msg string
	if ov.dropped > 0 {
		msg = fmt.Sprintf("outgoing store full (mqtt.store_limit %d): dropped the %d oldest verdicts, from %s seq %d to %s seq %d",
			c.cfg.StoreLimit, ov.dropped, ov.first.camera, ov.first.seq, ov.last.camera, ov.last.seq)
	} else {
		msg = fmt.Sprintf("outgoing store full (mqtt.store_limit %d): refused %d new verdicts, from %s seq %d to %s seq %d",
			c.cfg.StoreLimit, ov.refused, ov.first.camera, ov.first.seq, ov.last.camera, ov.last.seq)
	}
	c.log.Error(msg)
	c.sendEvent(sess, Event{Time: time.Now(), Level: LevelError, Kind: "store_overflow", Msg: msg})
}

// awaitBacklog counts every command that arrives from now until
// startBacklog as backlog: a resumed session's queued messages can come
// right after the broker's CONNACK, before startBacklog runs, and on a fresh
// session nothing arrives before the subscription.
func (c *Client) awaitBacklog() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmds.Handler == nil {
		return
	}
	first := !c.connected
	away := time.Since(c.downSince)
	if first {
		away = time.Since(c.born)
	}
	c.backlog = backlogState{nonce: connectingNonce, away: away, process: first}
}

// connectingNonce marks the backlog between connecting and startBacklog; no
// marker carries it.
const connectingNonce = "connecting"

// startBacklog begins a session's backlog: on a resumed session the broker
// first delivers the commands it queued while samlad was away, and the
// marker published here comes back behind them.
func (c *Client) startBacklog(sess mqtt.Client, present bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !present {
		// A fresh session: the broker kept nothing for us and will resend
		// nothing, so no earlier message can come back.
		c.backlog = backlogState{}
		clear(c.acked)
		c.ackedRing = c.ackedRing[:0]
		return
	}
	if c.cmds.Handler == nil {
		return
	}
	c.syncs++
	nonce := fmt.Sprintf("%d-%d-%d", os.Getpid(), c.born.UnixNano(), c.syncs)
	first := !c.connected
	away := time.Since(c.downSince)
	if first {
		away = time.Since(c.born)
	}
	c.backlog = backlogState{nonce: nonce, away: away, process: first}
	sess.Publish(c.topics.syncTopic(), 1, false, nonce)
	time.AfterFunc(syncTimeout, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.backlog.nonce == nonce {
			c.backlog.nonce = ""
			c.log.Warn("the backlog marker did not come back: check that the broker's ACL lets samlad publish to its own command topics", "topic", c.topics.syncTopic(), "timeout", syncTimeout)
		}
	})
}

// onMessage runs on paho's goroutine for every command message: validate,
// then queue for the handler. Settings are acknowledged to the broker at
// once; a trigger once its verdict is stored (Delivery). Every trigger that
// cannot be honoured gets an error verdict through TriggerRefuser.
func (c *Client) onMessage(_ mqtt.Client, m mqtt.Message) {
	c.msgMu.Lock()
	defer c.msgMu.Unlock()
	if !c.started {
		c.held = append(c.held, m)
		return
	}
	c.handleMessage(m, time.Now())
}

// StartCommands hands the commands held since the connection (Commands.Hold)
// to the handler, in order, and every later one as it comes.
func (c *Client) StartCommands() {
	c.msgMu.Lock()
	defer c.msgMu.Unlock()
	if c.started {
		return
	}
	c.started = true
	for _, m := range c.held {
		c.handleMessage(m, time.Now())
	}
	c.held = nil
}

func (c *Client) handleMessage(m mqtt.Message, now time.Time) {
	if m.Topic() == c.topics.syncTopic() {
		c.mu.Lock()
		if c.backlog.nonce != "" && string(m.Payload()) == c.backlog.nonce {
			c.backlog.nonce = ""
		}
		c.mu.Unlock()
		go m.Ack()
		return
	}
	camera, setting, ok := c.topics.parseSet(m.Topic())
	if !ok || c.cmds.Handler == nil {
		go m.Ack()
		return
	}
	if c.redelivery(m) {
		return
	}
	if m.Retained() {
		go m.Ack()
		c.commandError(camera, fmt.Sprintf("retained command on %s ignored: a retained /set would replay on every reconnect; publish it without retain and clear the retained one (empty retained payload)", m.Topic()))
		return
	}
	if len(m.Payload()) == 0 {
		// The broker forwards the empty message that clears a retained /set
		// to live subscribers without the retain flag: it is never a command.
		go m.Ack()
		c.commandError(camera, fmt.Sprintf("empty message on %s ignored: an empty message clears a retained /set and is never a command (to trigger without a part id send {})", m.Topic()))
		return
	}
	if setting != SetTrigger {
		go m.Ack()
		cmd, err := c.cmds.ParseCommand(camera, setting, m.Payload())
		if err != nil {
			c.commandError(camera, "command refused: "+err.Error())
			return
		}
		select {
		case c.cmdq <- cmd:
		default:
			c.commandError(camera, fmt.Sprintf("command %s/%s dropped: %d commands already waiting", camera, setting, commandBacklog))
		}
		return
	}

	cmd, err := c.cmds.ParseCommand(camera, setting, m.Payload())
	if err == nil {
		cmd.Sent, err = triggerTime(m.Payload())
		if err != nil {
			err = fmt.Errorf("%s/trigger: %w", camera, err)
		}
	}
	cmd.Received = now
	c.mu.Lock()
	if b := c.backlog; b.nonce != "" {
		cmd.Backlog, cmd.Restarted, cmd.Away = true, b.process, b.away
	}
	c.mu.Unlock()
	cmd.Delivery = c.hold(m)
	if err != nil {
		c.refuseTrigger(cmd, "refused trigger: "+err.Error())
		return
	}
	select {
	case c.cmdq <- cmd:
	default:
		c.refuseTrigger(cmd, fmt.Sprintf("refused trigger: command queue full (%d commands already waiting)", commandBacklog))
	}
}

// refuseTrigger answers a trigger that cannot be honoured: an error verdict
// through the handler when it can make one, and an event either way.
func (c *Client) refuseTrigger(cmd Command, reason string) {
	c.commandError(cmd.Camera, reason)
	r, ok := c.cmds.Handler.(TriggerRefuser)
	if !ok || !contains(c.cmds.Cameras, cmd.Camera) {
		cmd.Delivery.Done() // no camera to give a verdict: the event is all
		return
	}
	if !r.RefuseTrigger(cmd, reason) {
		// The camera is not running (samlad is stopping): left
		// unacknowledged, the broker delivers it again on the next start.
		c.log.Warn("refused trigger left to the broker for the next start", "camera", cmd.Camera, "part_id", cmd.PartID)
	}
}

func (c *Client) commandError(camera, msg string) {
	if !ValidCamera(camera) {
		camera = ""
	}
	c.log.Warn(msg, "camera", camera)
	c.PublishEvent(Event{Level: LevelError, Kind: "command", Camera: camera, Msg: msg})
}

// handleCommands hands commands to the handler one at a time and publishes
// the resulting state or error.
func (c *Client) handleCommands() {
	for {
		select {
		case <-c.ctx.Done():
			return
		case cmd := <-c.cmdq:
			state, err := c.cmds.Handler.HandleCommand(c.ctx, cmd)
			if _, owns := c.cmds.Handler.(TriggerRefuser); !owns {
				cmd.Delivery.Done() // a handler that answers no trigger with a verdict
			}
			if err != nil {
				c.commandError(cmd.Camera, fmt.Sprintf("command %s/%s failed: %v", cmd.Camera, cmd.Setting, err))
				continue
			}
			if state != "" {
				c.PublishState(cmd.Camera, cmd.Setting, state)
			}
		}
	}
}
