package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/actuate/watch"
	"github.com/samlad/samlad/config"
)

// runWatch is the maintenance monitor: it subscribes to everything under
// the prefix and redraws per-camera counts, last verdicts, latency and
// availability. It only reads; it never publishes.
func runWatch(args []string) int {
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: samlad watch --broker URL [--prefix P] [TLS and login flags]")
		fs.PrintDefaults()
	}
	cfg := config.DefaultMQTT()
	fs.StringVar(&cfg.Broker, "broker", "", "broker URL, e.g. tcp://10.0.0.5:1883 or ssl://broker.plant:8883 (required)")
	fs.StringVar(&cfg.Prefix, "prefix", cfg.Prefix, "topic prefix of the appliance(s)")
	fs.StringVar(&cfg.Username, "username", "", "user name")
	fs.StringVar(&cfg.PasswordFile, "password-file", "", "file holding the password")
	fs.StringVar(&cfg.PasswordEnv, "password-env", "", "environment variable holding the password")
	fs.StringVar(&cfg.TLS.CAFile, "ca", "", "CA certificate file (PEM) for a TLS broker")
	fs.StringVar(&cfg.TLS.CertFile, "cert", "", "client certificate file (PEM) for mutual TLS")
	fs.StringVar(&cfg.TLS.KeyFile, "key", "", "client key file (PEM) for mutual TLS")
	fs.StringVar(&cfg.TLS.ServerName, "server-name", "", "expected name in the broker's certificate, when it differs from the URL's host")
	fs.BoolVar(&cfg.TLS.InsecureSkipVerify, "insecure", false, "do not verify the broker's certificate (testing only)")
	interval := fs.Duration("interval", time.Second, "redraw interval")
	once := fs.Duration("once", 0, "listen this long, print one screen without colour and exit (for scripts)")
	noColor := fs.Bool("no-color", false, "no ANSI colours")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if cfg.Broker == "" {
		fmt.Fprintln(os.Stderr, "samlad watch: --broker is required, e.g. --broker tcp://10.0.0.5:1883")
		return 2
	}
	if err := actuate.CheckPrefix(cfg.Prefix); err != nil {
		fmt.Fprintln(os.Stderr, "samlad watch: --prefix:", err)
		return 2
	}
	host, _ := os.Hostname()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts, err := actuate.ClientOptions(cfg, fmt.Sprintf("samlad-watch-%s-%d", host, os.Getpid()), log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "samlad watch:", err)
		return 2
	}

	msgs := make(chan mqtt.Message, 1024)
	filter := cfg.Prefix + "/#"
	opts.SetAutoReconnect(true).SetMaxReconnectInterval(5 * time.Second)
	opts.SetOnConnectHandler(func(c mqtt.Client) {
		c.Subscribe(filter, 0, func(_ mqtt.Client, m mqtt.Message) { msgs <- m })
	})
	client := mqtt.NewClient(opts)
	tok := client.Connect()
	tok.Wait()
	if err := tok.Error(); err != nil {
		fmt.Fprintln(os.Stderr, "samlad watch:", actuate.ExplainConnectError(cfg.Broker, opts, tok, err))
		return 1
	}
	defer client.Disconnect(100)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	model := watch.New(cfg.Prefix)
	if *once > 0 {
		collect(ctx, model, msgs, time.After(*once))
		fmt.Print(watch.Render(model, time.Now(), 0, watch.Plain))
		return 0
	}
	style := watch.ANSI
	if *noColor {
		style = watch.Plain
	}
	tick := time.NewTicker(*interval)
	defer tick.Stop()
	for {
		redraw(os.Stdout, model, style)
		if !collect(ctx, model, msgs, tick.C) {
			fmt.Println()
			return 0
		}
	}
}

// collect applies messages until until fires (true) or ctx ends (false).
func collect(ctx context.Context, model *watch.Model, msgs <-chan mqtt.Message, until <-chan time.Time) bool {
	for {
		select {
		case m := <-msgs:
			model.Apply(m.Topic(), m.Payload(), time.Now())
		case <-until:
			return true
		case <-ctx.Done():
			return false
		}
	}
}

// redraw clears the terminal and draws the model, cut to the terminal width.
func redraw(w io.Writer, model *watch.Model, style watch.Style) {
	fmt.Fprint(w, "\x1b[H\x1b[2J", watch.Render(model, time.Now(), termWidth(), style))
}

// termWidth is $COLUMNS, else 120: enough to avoid a terminal-size dependency.
func termWidth() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("COLUMNS"), &n); err == nil && n > 20 {
		return n
	}
	return 120
}
