// Package actuate is samlad's link to the plant over MQTT: it publishes
// verdicts, reject signals, heatmaps, camera states, stats and events under
// a configurable prefix, and turns validated /set commands into Commands
// for the daemon.
//
// Use:
//
//	c, err := actuate.Dial(cfg.MQTT, cfg.Actuate, actuate.Commands{
//		Handler: d, Cameras: names, BankDir: cfg.Daemon.BankDir, EnrollDir: cfg.Daemon.EnrollDir,
//	}, log)
//	err = c.WaitConnected(ctx)         // optional: nil, a refused *ConnectError at once, or the last error
//	err = c.PublishVerdict(v)          // durable once nil; sent in order when the broker is up
//	c.PublishCameraState("cam1", actuate.CameraLost, "device vanished")
//	c.PublishState("cam1", actuate.SetThreshold, "0.5")
//	c.PublishStats(s); c.PublishEvent(e)
//	err = c.Close(ctx)                 // drain, "stopped", disconnect
//
// Verdicts pass through a persistent outgoing store (see outbox.go), so
// they survive broker outages and process crashes and arrive in order.
// The topic layout and guarantees are documented in the README, "MQTT topics".
package actuate
