package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/daemon"
)

// runRun is `samlad run`: the appliance daemon. SIGTERM/SIGINT stop it
// cleanly (exit 0), SIGHUP reloads the config and the banks.
func runRun(args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	path := fs.String("config", "/etc/samlad/samlad.toml", "config file")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "samlad run: %v\n", err)
		return 1
	}
	log := newLogger(cfg.Log)
	slog.SetDefault(log)
	for _, w := range config.Warnings(cfg) {
		log.Warn("config", "warning", w)
	}

	// Signals are registered before any engine loads; the ONNX backend puts
	// Go's handlers back after its providers load (infer/onnx/signals.go).
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	d := daemon.New(*path, cfg, daemon.DefaultDeps(log))
	go func() {
		for range hup {
			d.Reload()
		}
	}()
	if err := d.Run(ctx); err != nil {
		log.Error("samlad run failed", "err", err)
		return 1
	}
	return 0
}

// newLogger builds the structured logger from [log]. journald adds the time,
// so the text format is meant for terminals and the JSON one for collectors.
func newLogger(c config.Log) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
