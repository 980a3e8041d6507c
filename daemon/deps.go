package daemon

import (
	"context"
	"errors"
	"log/slog"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/capture"
	"github.com/samlad/samlad/config"
)

// DefaultDeps connects the daemon to the real cameras (capture), engine
// (infer, on the configured backend) and broker (actuate).
func DefaultDeps(log *slog.Logger) Deps {
	eng := &engines{}
	return Deps{
		OpenSource: func(cc config.Camera, onState func(capture.StateEvent)) (Source, error) {
			return openCapture(cc, onState, log)
		},
		NewInspector: eng.NewInspector,
		Enroll:       eng.Enroll,
		Connect:      Connect(log),
		Load:         config.Load,
		Log:          log,
	}
}

// Connect returns the Deps.Connect that dials the configured broker with
// actuate and waits for the first connection. A broker that refuses the
// credentials fails at once; an unreachable one is retried until ctx ends.
func Connect(log *slog.Logger) func(ctx context.Context, cfg config.Config, h actuate.CommandHandler) (Broker, error) {
	return func(ctx context.Context, cfg config.Config, h actuate.CommandHandler) (Broker, error) {
		names := make([]string, len(cfg.Cameras))
		for i, cc := range cfg.Cameras {
			names[i] = cc.Name
		}
		c, err := actuate.Dial(cfg.MQTT, cfg.Actuate, actuate.Commands{
			Handler: h, Cameras: names, BankDir: cfg.Daemon.BankDir, EnrollDir: cfg.Daemon.EnrollDir,
			Hold: true, // until the cameras run (Daemon.Run calls StartCommands)
		}, log)
		if err != nil {
			return nil, err
		}
		for {
			wctx, cancel := context.WithTimeout(ctx, max(cfg.MQTT.ConnectTimeout.D(), time.Second))
			err = c.WaitConnected(wctx)
			cancel()
			var ce *actuate.ConnectError
			switch {
			case err == nil:
				return c, nil
			case errors.As(err, &ce) && ce.Refused(), ctx.Err() != nil:
				cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
				c.Close(cctx) // the store keeps its verdicts for the next start
				ccancel()
				return nil, err
			}
			log.Warn("waiting for the broker; the service reports ready once connected", "err", err)
			sd.SdNotify(false, "STATUS=waiting for the broker: "+err.Error())
		}
	}
}
