package actuate

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/samlad/samlad/config"
)

// ClientOptions builds paho options for cfg: broker, TLS/mTLS and
// credentials (the password read from its file or environment variable).
// Automatic reconnection is off: callers that need it (Client) run their own
// loop, so that order and backoff stay under their control. samlad watch
// uses it too.
func ClientOptions(cfg config.MQTT, clientID string, log *slog.Logger) (*mqtt.ClientOptions, error) {
	u, err := url.Parse(cfg.Broker)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("mqtt.broker %q: want a URL such as tcp://host:1883 or ssl://host:8883", cfg.Broker)
	}
	secure := false
	switch u.Scheme {
	case "tcp", "mqtt", "ws":
	case "ssl", "tls", "mqtts", "tcps", "wss":
		secure = true
	default:
		return nil, fmt.Errorf("mqtt.broker %q: unknown scheme %q (use tcp://, ssl://, ws:// or wss://)", cfg.Broker, u.Scheme)
	}
	if cfg.TLS.Enabled && !secure {
		return nil, fmt.Errorf("mqtt.tls.enabled is true but mqtt.broker %q is not a TLS URL: use ssl://%s", cfg.Broker, u.Host)
	}
	opts := mqtt.NewClientOptions().
		AddBroker(cfg.Broker).
		SetClientID(clientID).
		SetProtocolVersion(4). // explicit: paho otherwise retries a refused CONNECT as MQTT 3.1
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetKeepAlive(orDefault(cfg.KeepAlive.D(), 30*time.Second)).
		SetPingTimeout(10 * time.Second).
		SetConnectTimeout(orDefault(cfg.ConnectTimeout.D(), 10*time.Second)).
		SetWriteTimeout(10 * time.Second)
	if secure {
		tc, err := tlsConfig(cfg.TLS, u.Hostname())
		if err != nil {
			return nil, err
		}
		opts.SetTLSConfig(tc)
	}
	if cfg.Username != "" {
		opts.SetUsername(cfg.Username)
	}
	pw, err := password(cfg, log)
	if err != nil {
		return nil, err
	}
	if pw != "" {
		if cfg.Username == "" {
			return nil, errors.New("mqtt: a password is configured but mqtt.username is empty")
		}
		opts.SetPassword(pw)
	}
	return opts, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// password reads the password from mqtt.password_file or the variable named
// by mqtt.password_env. It is never taken from the TOML itself.
func password(cfg config.MQTT, log *slog.Logger) (string, error) {
	switch {
	case cfg.PasswordFile != "" && cfg.PasswordEnv != "":
		return "", errors.New("mqtt: set only one of password_file and password_env")
	case cfg.PasswordFile != "":
		fi, err := os.Stat(cfg.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("mqtt.password_file: %w", err)
		}
		if fi.Mode().Perm()&0o044 != 0 && log != nil {
			log.Warn("mqtt password file is readable by group or others; chmod 600 it", "file", cfg.PasswordFile, "mode", fi.Mode().Perm().String())
		}
		b, err := os.ReadFile(cfg.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("mqtt.password_file: %w", err)
		}
		pw := strings.TrimRight(string(b), "\r\n")
		if pw == "" {
			return "", fmt.Errorf("mqtt.password_file %s is empty", cfg.PasswordFile)
		}
		return pw, nil
	case cfg.PasswordEnv != "":
		pw, ok := os.LookupEnv(cfg.PasswordEnv)
		if !ok || pw == "" {
			return "", fmt.Errorf("mqtt.password_env: environment variable %s is not set (or empty)", cfg.PasswordEnv)
		}
		return pw, nil
	}
	return "", nil
}

// tlsConfig builds the TLS settings: the CA file (else the system roots)
// and, for mutual TLS, the client certificate and key.
func tlsConfig(c config.TLS, host string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host, InsecureSkipVerify: c.InsecureSkipVerify}
	if c.ServerName != "" {
		tc.ServerName = c.ServerName
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt.tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mqtt.tls.ca_file %s: no PEM certificate in it", c.CAFile)
		}
		tc.RootCAs = pool
	}
	switch {
	case c.CertFile != "" && c.KeyFile != "":
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt.tls cert_file %s / key_file %s: %w", c.CertFile, c.KeyFile, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	case c.CertFile != "" || c.KeyFile != "":
		return nil, errors.New("mqtt.tls: set both cert_file and key_file for a client certificate, or neither")
	}
	return tc, nil
}

// ConnectError says why the broker could not be reached or refused us.
type ConnectError struct {
	Broker string
	// Code is the CONNACK return code (1-5) when the broker refused the
	// connection, 0 when it could not be reached at all.
	Code byte
	Err  error
}

// Refused reports whether the broker answered and said no: retrying with
// the same settings will not help.
func (e *ConnectError) Refused() bool { return e.Code >= 1 && e.Code <= 5 }

func (e *ConnectError) Unwrap() error { return e.Err }

func (e *ConnectError) Error() string {
	if e.Refused() {
		return fmt.Sprintf("mqtt broker %s refused the connection: %s (CONNACK code %d): %s",
			e.Broker, packets.ConnackReturnCodes[e.Code], e.Code, refusalHint(e.Code))
	}
	var cve *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	switch {
	case errors.As(e.Err, &cve) || errors.As(e.Err, &hostErr):
		return fmt.Sprintf("mqtt broker %s: TLS certificate not trusted: %v: check mqtt.tls.ca_file and that the broker's certificate names the host (or set mqtt.tls.server_name)", e.Broker, e.Err)
	case strings.Contains(errText(e.Err), "tls: certificate required") || strings.Contains(errText(e.Err), "tls: bad certificate") ||
		strings.Contains(errText(e.Err), "tls: unknown certificate authority"):
		return fmt.Sprintf("mqtt broker %s rejected our TLS client certificate: %v: set mqtt.tls.cert_file and key_file to a certificate the broker's CA signed", e.Broker, e.Err)
	case isTLSError(e.Err):
		return fmt.Sprintf("mqtt broker %s: TLS handshake failed: %v: check mqtt.tls and that the broker listens with TLS on this port", e.Broker, e.Err)
	}
	return fmt.Sprintf("mqtt broker %s unreachable: %v: check that it runs and that the broker URL (mqtt.broker) names its host and port", e.Broker, e.Err)
}

func refusalHint(code byte) string {
	switch code {
	case packets.ErrRefusedBadUsernameOrPassword, packets.ErrRefusedNotAuthorised:
		return "check mqtt.username and the password in mqtt.password_file or mqtt.password_env against the broker's password file and ACL"
	case packets.ErrRefusedIDRejected:
		return "the broker does not accept mqtt.client_id; choose another"
	case packets.ErrRefusedServerUnavailable:
		return "the broker is up but not serving; check its logs"
	}
	return "the broker does not speak MQTT 3.1.1"
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func isTLSError(err error) bool {
	var rec tls.RecordHeaderError
	var alert tls.AlertError
	return errors.As(err, &rec) || errors.As(err, &alert) || strings.Contains(errText(err), "tls:")
}

// connectError wraps what paho returned for a failed CONNECT. Over TLS 1.3
// a broker that rejects our client certificate says so only after the
// handshake, so paho sees a bare reset: then a TLS probe finds the reason.
func connectError(broker string, tc *tls.Config, timeout time.Duration, tok mqtt.Token, err error) *ConnectError {
	ce := &ConnectError{Broker: broker, Err: err}
	if ct, ok := tok.(*mqtt.ConnectToken); ok && ct.ReturnCode() >= 1 && ct.ReturnCode() <= 5 {
		ce.Code = ct.ReturnCode()
		return ce
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		ce.Err = fmt.Errorf("timed out: %w", err)
	}
	cut := strings.Contains(errText(err), "reset") || strings.Contains(errText(err), "EOF") || strings.Contains(errText(err), "broken pipe")
	if tc != nil && cut && !isTLSError(err) {
		if perr := probeTLS(broker, tc, timeout); perr != nil {
			ce.Err = fmt.Errorf("%w (TLS probe: %w)", err, perr)
		} else if len(tc.Certificates) == 0 {
			ce.Err = fmt.Errorf("%w (closed right after the TLS handshake: if the broker requires client certificates, set mqtt.tls.cert_file and key_file)", err)
		}
	}
	return ce
}

// probeTLS completes a TLS handshake with the broker and waits briefly for
// an alert; it returns the TLS error the broker sent, or nil.
func probeTLS(broker string, tc *tls.Config, timeout time.Duration) error {
	u, err := url.Parse(broker)
	if err != nil {
		return nil
	}
	d := &net.Dialer{Timeout: timeout}
	conn, err := tls.DialWithDialer(d, "tcp", u.Host, tc)
	if err != nil {
		if isTLSError(err) {
			return err
		}
		return nil
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := conn.Read(make([]byte, 1)); err != nil && isTLSError(err) {
		return err
	}
	return nil
}

// ExplainConnectError turns a failed paho Connect made with opts (from
// ClientOptions) into a *ConnectError that says what to fix.
func ExplainConnectError(broker string, opts *mqtt.ClientOptions, tok mqtt.Token, err error) *ConnectError {
	return connectError(broker, opts.TLSConfig, opts.ConnectTimeout, tok, err)
}
