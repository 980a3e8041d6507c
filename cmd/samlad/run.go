package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/daemon"
	"github.com/samlad/samlad/infer/onnx"
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

	// Signals are registered before any engine loads. The ONNX backend puts
	// Go's handlers back after its providers load (infer/onnx/signals.go);
	// once ready, they are re-installed once more in case a provider
	// replaced them later (e.g. while building TensorRT engines).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	d := daemon.New(*path, cfg, daemon.DefaultDeps(log))
	go func() {
		for s := range sigs {
			if s == syscall.SIGHUP {
				d.Reload()
				continue
			}
			log.Info("signal received", "signal", s.String())
			cancel()
		}
	}()
	if cfg.Pipeline.Backend == onnx.Name {
		go func() {
			for !d.Ready() {
				if ctx.Err() != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
			onnx.NotifyShutdown(sigs)
		}()
	}
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
