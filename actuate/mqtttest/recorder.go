package mqtttest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Message is one message a Recorder received.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
	Time     time.Time
}

// RecorderOptions configures a Recorder's connection.
type RecorderOptions struct {
	// ClientID defaults to a unique name. Give a fixed one with Persistent
	// to keep the subscription and the queued QoS 1 messages across
	// reconnections (and broker restarts with Options.Persistence).
	ClientID   string
	Persistent bool
	Username   string
	Password   string
	// CertFile and KeyFile default to the broker's client certificate.
	CertFile, KeyFile string
}

// Recorder is a QoS 1 subscriber that keeps every message it receives. It
// reconnects by itself when the broker restarts.
type Recorder struct {
	t      testing.TB
	client mqtt.Client

	mu     sync.Mutex
	msgs   []Message
	notify chan struct{}
}

var recorderID atomic.Int64

// Record subscribes to filter and records what arrives until cleanup.
func (b *Broker) Record(t testing.TB, filter string, o RecorderOptions) *Recorder {
	t.Helper()
	r := &Recorder{t: t, notify: make(chan struct{})}
	if o.ClientID == "" {
		o.ClientID = fmt.Sprintf("mqtttest-rec-%d-%d", os.Getpid(), recorderID.Add(1))
	}
	opts := mqtt.NewClientOptions().AddBroker(b.URL).SetClientID(o.ClientID).
		SetCleanSession(!o.Persistent).SetProtocolVersion(4).
		SetAutoReconnect(true).SetMaxReconnectInterval(200 * time.Millisecond).
		SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).
		SetUsername(o.Username).SetPassword(o.Password)
	if b.CAFile != "" {
		opts.SetTLSConfig(b.tlsConfig(t, o))
	}
	subscribed := make(chan struct{}, 1)
	opts.SetOnConnectHandler(func(c mqtt.Client) {
		tok := c.Subscribe(filter, 1, r.add)
		tok.Wait()
		if tok.Error() == nil {
			select {
			case subscribed <- struct{}{}:
			default:
			}
		}
	})
	r.client = mqtt.NewClient(opts)
	r.client.Connect()
	select {
	case <-subscribed:
	case <-time.After(10 * time.Second):
		t.Fatalf("mqtttest: recorder could not subscribe to %s on %s\nbroker log:\n%s", filter, b.URL, b.Log())
	}
	t.Cleanup(func() { r.client.Disconnect(100) })
	return r
}

func (b *Broker) tlsConfig(t testing.TB, o RecorderOptions) *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b.ca.certPEM)
	certFile, keyFile := o.CertFile, o.KeyFile
	if certFile == "" {
		certFile, keyFile = b.ClientCertFile, b.ClientKeyFile
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatalf("mqtttest: %v", err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, ServerName: "localhost"}
}

func (r *Recorder) add(_ mqtt.Client, m mqtt.Message) {
	r.mu.Lock()
	r.msgs = append(r.msgs, Message{Topic: m.Topic(), Payload: append([]byte(nil), m.Payload()...), Retained: m.Retained(), Time: time.Now()})
	close(r.notify)
	r.notify = make(chan struct{})
	r.mu.Unlock()
}

// Messages returns what arrived on topic so far (all topics when empty).
// A topic ending in "/#" or "/+" matches as in MQTT, one level for "+".
func (r *Recorder) Messages(topic string) []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Message
	for _, m := range r.msgs {
		if topic == "" || Match(topic, m.Topic) {
			out = append(out, m)
		}
	}
	return out
}

// Wait returns the messages on topic once there are at least n, or fails
// the test after timeout, listing what did arrive.
func (r *Recorder) Wait(topic string, n int, timeout time.Duration) []Message {
	r.t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		ch := r.notify
		r.mu.Unlock()
		if got := r.Messages(topic); len(got) >= n {
			return got
		}
		select {
		case <-ch:
		case <-deadline:
			got := r.Messages(topic)
			r.t.Fatalf("mqtttest: want %d messages on %s within %s, got %d:\n%s", n, topic, timeout, len(got), Format(got))
			return nil
		}
	}
}

// Format lists messages one per line, for failure messages.
func Format(msgs []Message) string {
	var b strings.Builder
	for _, m := range msgs {
		p := string(m.Payload)
		if len(p) > 200 {
			p = p[:200] + "..."
		}
		fmt.Fprintf(&b, "  %s retained=%t %s\n", m.Topic, m.Retained, p)
	}
	return b.String()
}

// Match reports whether topic matches an MQTT filter with + and #.
func Match(filter, topic string) bool {
	f, t := strings.Split(filter, "/"), strings.Split(topic, "/")
	for i, level := range f {
		if level == "#" {
			return true
		}
		if i >= len(t) || (level != "+" && level != t[i]) {
			return false
		}
	}
	return len(f) == len(t)
}
