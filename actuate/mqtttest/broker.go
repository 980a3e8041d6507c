// Package mqtttest runs a real mosquitto broker on loopback for tests: a
// free port, optional TLS and mutual TLS with certificates generated in the
// test, optional users and ACL, and Stop/Kill/Restart for fault injection.
// Recorder subscribes and collects what the code under test publishes.
//
// Tests that use it are skipped, with a message saying what to install, only
// when the mosquitto binary is absent.
package mqtttest

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options configures a test broker.
type Options struct {
	// TLS serves MQTT over TLS with a server certificate for 127.0.0.1 and
	// localhost, signed by a CA generated for this broker (Broker.CAFile).
	TLS bool
	// RequireClientCert demands a client certificate signed by that CA
	// (mutual TLS); with IdentityAsUsername its common name is the user
	// name the ACL sees. Implies TLS.
	RequireClientCert  bool
	IdentityAsUsername bool
	// Users maps user names to passwords; when set, anonymous clients are refused.
	Users map[string]string
	// ACL is the text of a mosquitto acl_file; empty allows everything.
	ACL string
	// Persistence keeps retained messages, sessions and queued QoS 1
	// messages across Stop/Restart (mosquitto saves them on a clean stop,
	// and every second, so that a Kill loses at most the last second).
	Persistence bool
}

// Broker is a running mosquitto.
type Broker struct {
	// URL is tcp://127.0.0.1:PORT, or ssl://127.0.0.1:PORT with TLS.
	URL  string
	Port int
	Dir  string
	// CAFile, ClientCertFile and ClientKeyFile are set with TLS: a client
	// certificate with common name "samlad" signed by the broker's CA.
	CAFile, ClientCertFile, ClientKeyFile string

	t    testing.TB
	bin  string
	conf string
	ca   *authority

	mu   sync.Mutex
	cmd  *exec.Cmd
	exit chan struct{}
}

// Binary returns the mosquitto executable, if installed.
func Binary() (string, bool) {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p, true
	}
	for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	return "", false
}

// Start runs a broker for the test and stops it at cleanup. It skips the
// test when mosquitto is not installed.
func Start(t testing.TB, o Options) *Broker {
	t.Helper()
	bin, ok := Binary()
	if !ok {
		t.Skip("mosquitto not installed: apt-get install mosquitto (Debian) to run the MQTT integration tests")
	}
	if o.RequireClientCert {
		o.TLS = true
	}
	b := &Broker{t: t, bin: bin, Dir: t.TempDir()}
	scheme := "tcp"
	if o.TLS {
		scheme = "ssl"
		b.ca = newAuthority(t)
		b.CAFile = b.write("ca.pem", b.ca.certPEM, 0o644)
		cert, key := b.ca.issue(t, "localhost", true)
		b.write("server.pem", cert, 0o644)
		b.write("server.key", key, 0o600)
		b.ClientCertFile, b.ClientKeyFile = b.ClientCert("samlad")
	}
	var lastErr error
	for range 5 { // a port found free may be taken before mosquitto binds it
		b.Port = freePort(t)
		b.URL = fmt.Sprintf("%s://127.0.0.1:%d", scheme, b.Port)
		b.conf = b.write("mosquitto.conf", b.config(o), 0o644)
		if lastErr = b.start(); lastErr == nil {
			t.Cleanup(b.Stop)
			return b
		}
	}
	t.Fatalf("mosquitto did not start: %v", lastErr)
	return nil
}

// ClientCert issues a client certificate with the given common name, signed
// by the broker's CA (TLS only), and returns the certificate and key files.
func (b *Broker) ClientCert(cn string) (certFile, keyFile string) {
	b.t.Helper()
	if b.ca == nil {
		b.t.Fatal("mqtttest: ClientCert needs a TLS broker")
	}
	cert, key := b.ca.issue(b.t, cn, false)
	return b.write("client-"+cn+".pem", cert, 0o644), b.write("client-"+cn+".key", key, 0o600)
}

func (b *Broker) config(o Options) []byte {
	var c bytes.Buffer
	fmt.Fprintf(&c, "listener %d 127.0.0.1\n", b.Port)
	// As the README recommends for plants: without it the broker's Nagle
	// delay holds the second of two back-to-back messages ~40 ms.
	c.WriteString("set_tcp_nodelay true\n")
	fmt.Fprintf(&c, "log_dest file %s\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\nconnection_messages true\n", filepath.Join(b.Dir, "mosquitto.log"))
	if u, err := user.Current(); err == nil && u.Uid == "0" {
		c.WriteString("user root\n") // as root mosquitto would switch to "mosquitto", who cannot read the test's files
	}
	if o.Persistence {
		// Saved every second too, so that sessions made before a Kill survive it.
		fmt.Fprintf(&c, "persistence true\npersistence_location %s/\nautosave_interval 1\n", b.Dir)
	} else {
		c.WriteString("persistence false\n")
	}
	if len(o.Users) > 0 {
		fmt.Fprintf(&c, "allow_anonymous false\npassword_file %s\n", b.write("passwd", passwordFile(b.t, o.Users), 0o600))
	} else {
		c.WriteString("allow_anonymous true\n")
	}
	if o.ACL != "" {
		fmt.Fprintf(&c, "acl_file %s\n", b.write("acl", []byte(o.ACL), 0o600))
	}
	if o.TLS {
		fmt.Fprintf(&c, "cafile %s\ncertfile %s\nkeyfile %s\n", b.CAFile, filepath.Join(b.Dir, "server.pem"), filepath.Join(b.Dir, "server.key"))
		fmt.Fprintf(&c, "require_certificate %t\nuse_identity_as_username %t\n", o.RequireClientCert, o.IdentityAsUsername)
	}
	return c.Bytes()
}

func (b *Broker) write(name string, data []byte, mode os.FileMode) string {
	b.t.Helper()
	p := filepath.Join(b.Dir, name)
	if err := os.WriteFile(p, data, mode); err != nil {
		b.t.Fatalf("mqtttest: %v", err)
	}
	return p
}

// start runs mosquitto and waits until it accepts connections.
func (b *Broker) start() error {
	cmd := exec.Command(b.bin, "-c", b.conf)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	exit := make(chan struct{})
	go func() { cmd.Wait(); close(exit) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exit:
			return fmt.Errorf("mosquitto exited at start: %s %s", stderr.String(), b.Log())
		default:
		}
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(b.Port), 200*time.Millisecond); err == nil {
			c.Close()
			b.mu.Lock()
			b.cmd, b.exit = cmd, exit
			b.mu.Unlock()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	<-exit
	return errors.New("mosquitto did not listen within 10s: " + b.Log())
}

// Stop ends the broker gracefully (SIGTERM; with Persistence it saves its
// state). Stopping a stopped broker does nothing.
func (b *Broker) Stop() { b.signal(syscall.SIGTERM) }

// Kill ends the broker abruptly (SIGKILL), as a crash or power cut would.
func (b *Broker) Kill() { b.signal(syscall.SIGKILL) }

func (b *Broker) signal(sig syscall.Signal) {
	b.mu.Lock()
	cmd, exit := b.cmd, b.exit
	b.cmd = nil
	b.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	select {
	case <-exit:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-exit
	}
}

// Restart starts a stopped broker again on the same port.
func (b *Broker) Restart() {
	b.t.Helper()
	b.Stop()
	var err error
	for range 50 { // the port may linger briefly
		if err = b.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("mosquitto restart: %v", err)
}

// Running reports whether the broker process is up.
func (b *Broker) Running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cmd != nil
}

// Log returns the broker's log so far, for failure messages.
func (b *Broker) Log() string {
	data, _ := os.ReadFile(filepath.Join(b.Dir, "mosquitto.log"))
	return string(data)
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mqtttest: no free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// passwordFile writes mosquitto 2's password format: PBKDF2-SHA512 with 101
// iterations, "user:$7$101$<salt>$<hash>" in standard base64, as mosquitto_passwd does.
func passwordFile(t testing.TB, users map[string]string) []byte {
	names := make([]string, 0, len(users))
	for u := range users {
		names = append(names, u)
	}
	sort.Strings(names)
	var out strings.Builder
	for _, u := range names {
		salt := make([]byte, 12)
		rand.Read(salt)
		hash, err := pbkdf2.Key(sha512.New, users[u], salt, 101, 64)
		if err != nil {
			t.Fatalf("mqtttest: password hash: %v", err)
		}
		fmt.Fprintf(&out, "%s:$7$101$%s$%s\n", u, base64.StdEncoding.EncodeToString(salt), base64.StdEncoding.EncodeToString(hash))
	}
	return []byte(out.String())
}
