package actuate

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Trigger delivery (docs/reliability.md, "Every trigger gets a verdict").
//
// Commands arrive on a persistent session (fixed client id, clean session
// off, QoS 1), so the broker queues them while samlad is away. A trigger is
// acknowledged to the broker (PUBACK) only once its verdict, real or error,
// is stored in the outgoing store: a samlad killed before that gets the
// trigger again from the broker on its next session. Redeliveries of a
// trigger already answered or still in progress are recognised and never
// make a second part.

// Delivery is one trigger message as the broker handed it over. Whoever
// answers the trigger calls Done once its verdict is stored; that sends the
// PUBACK. A nil *Delivery is valid (a trigger that did not come over MQTT).
type Delivery struct {
	c   *Client
	key string
}

// Done acknowledges the trigger message to the broker. It is safe to call
// more than once and on nil.
func (d *Delivery) Done() {
	if d == nil || d.c == nil {
		return
	}
	d.c.acknowledge(d.key)
}

// pendingMsg is a trigger message handed to the daemon and not yet answered.
type pendingMsg struct{ msg mqtt.Message }

// recentAcked bounds the memory of answered trigger messages kept to spot a
// redelivery (the broker resends what it had not seen acknowledged).
const recentAcked = 1024

// deliveryKey identifies one message of one broker session across its
// redeliveries: the broker resends it with the same packet id and payload.
func deliveryKey(m mqtt.Message) string {
	return m.Topic() + "\x00" + strconv.Itoa(int(m.MessageID())) + "\x00" + string(m.Payload())
}

// acknowledge sends the PUBACK for key on the session that delivered it
// last, and remembers the key so that a redelivery is acknowledged again
// without a second verdict.
func (c *Client) acknowledge(key string) {
	c.mu.Lock()
	p, ok := c.pending[key]
	if ok {
		delete(c.pending, key)
		c.rememberAcked(key)
	}
	c.mu.Unlock()
	if ok {
		// paho's Ack may wait on its connection's outbound queue; never let
		// that hold up the verdict publisher.
		go p.msg.Ack()
	}
}

// rememberAcked records key in the bounded ring of answered messages. c.mu is held.
func (c *Client) rememberAcked(key string) {
	if len(c.ackedRing) == recentAcked {
		delete(c.acked, c.ackedRing[0])
		c.ackedRing = c.ackedRing[1:]
	}
	c.acked[key] = true
	c.ackedRing = append(c.ackedRing, key)
}

// redelivery reports whether m repeats a trigger this process already holds
// or answered. A held one now answers to the session that resent it; an
// answered one is acknowledged again at once.
func (c *Client) redelivery(m mqtt.Message) bool {
	key := deliveryKey(m)
	c.mu.Lock()
	if p, ok := c.pending[key]; ok {
		p.msg = m
		c.mu.Unlock()
		c.log.Info("trigger redelivered by the broker while still being answered; its verdict acknowledges it", "topic", m.Topic(), "mid", m.MessageID())
		return true
	}
	answered := c.acked[key]
	c.mu.Unlock()
	if answered {
		c.log.Info("trigger redelivered by the broker after it was answered; acknowledged again, no second verdict", "topic", m.Topic(), "mid", m.MessageID())
		go m.Ack()
	}
	return answered
}

// hold registers m as a trigger handed on and returns its Delivery.
func (c *Client) hold(m mqtt.Message) *Delivery {
	key := deliveryKey(m)
	c.mu.Lock()
	c.pending[key] = &pendingMsg{msg: m}
	c.mu.Unlock()
	return &Delivery{c: c, key: key}
}

// Backlog: how samlad tells a trigger the broker kept for it while it was
// away from one sent after it came back. On a resumed session the broker
// first delivers what it queued, in order; samlad then publishes a marker
// to its own command topics, which the broker queues behind that backlog.
// Every trigger that arrives before the marker waited in the broker.
const (
	syncCamera  = "_samlad"
	syncSetting = "sync"
	// syncTimeout ends the backlog if the marker never comes back (an ACL
	// that does not let samlad publish to its own /set topics).
	syncTimeout = 5 * time.Second
)

func (t Topics) syncTopic() string { return t.Set(syncCamera, syncSetting) }

// backlogState says what a session knows about the triggers queued for it.
type backlogState struct {
	nonce   string        // marker payload awaited; "" once the backlog is over
	away    time.Duration // how long the link was down before this session
	process bool          // the first session of this process: the age is unknown
}

// triggerTime reads the optional "ts" of a JSON trigger: RFC 3339 text or a
// number of Unix milliseconds. A bare part id or empty payload has none.
func triggerTime(payload []byte) (time.Time, error) {
	p := strings.TrimSpace(string(payload))
	if !strings.HasPrefix(p, "{") {
		return time.Time{}, nil
	}
	var body struct {
		TS json.RawMessage `json:"ts"`
	}
	if err := json.Unmarshal([]byte(p), &body); err != nil || len(body.TS) == 0 || string(body.TS) == "null" {
		return time.Time{}, nil // the part id parser reports a malformed payload
	}
	var s string
	if json.Unmarshal(body.TS, &s) == nil {
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("ts %q: want RFC 3339 (2026-01-02T15:04:05.123Z) or Unix milliseconds", clip(s))
		}
		return ts, nil
	}
	var ms float64
	if err := json.Unmarshal(body.TS, &ms); err != nil || ms <= 0 {
		return time.Time{}, fmt.Errorf("ts %s: want RFC 3339 (2026-01-02T15:04:05.123Z) or Unix milliseconds", clip(string(body.TS)))
	}
	return time.UnixMilli(int64(ms)), nil
}

// Stale says why a trigger is too old to inspect, or "" when it is not.
// The rule (docs/reliability.md):
//   - with its own "ts", a trigger that waited longer than deadline on
//     arrival is stale (the PLC's and samlad's clocks must agree: NTP);
//   - without one, a trigger the broker queued while samlad's link was
//     down is stale when the outage was longer than deadline (it may have
//     waited that long: samlad cannot tell, and rejects to be safe), and
//     always when samlad was not running (its age is unknown);
//   - any other trigger arrived live and is not stale.
func (cmd Command) Stale(deadline time.Duration) string {
	if cmd.Setting != SetTrigger || deadline <= 0 {
		return ""
	}
	switch {
	case !cmd.Sent.IsZero():
		if w := cmd.Received.Sub(cmd.Sent); w > deadline {
			return fmt.Sprintf("stale trigger: waited %.1f s since its ts, over the %v deadline", w.Seconds(), deadline)
		}
	case cmd.Backlog && cmd.Restarted:
		return fmt.Sprintf("stale trigger: queued by the broker while samlad was not running, so its age is unknown (at least %.1f s); send \"ts\" in the trigger for its exact age", cmd.Away.Seconds())
	case cmd.Backlog && cmd.Away > deadline:
		return fmt.Sprintf("stale trigger: queued by the broker during a %.1f s link outage, so it may have waited that long, over the %v deadline; send \"ts\" in the trigger for its exact age", cmd.Away.Seconds(), deadline)
	}
	return ""
}
