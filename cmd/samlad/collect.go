package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/capture"
	"github.com/samlad/samlad/config"
)

// collectOptions is what samlad collect was asked to do.
type collectOptions struct {
	cfg    config.Config
	cfgArg string // the --config argument, for the closing hint
	camera config.Camera
	out    string
	count  int    // 0: until interrupted
	prefix string // file name prefix
	tty    bool   // progress on one rewritten line
}

// runCollect saves frames from a configured camera as PNG files, to enrol
// good parts from the line: the same camera, source and trigger as run.
func runCollect(args []string) int {
	fs := flag.NewFlagSet("collect", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file (TOML) with the [[camera]] to collect from (required; the same file as run)")
	camName := fs.String("camera", "", "name of the camera to collect from (default: the config's only camera)")
	out := fs.String("out", "", "folder to save the frames in (created when missing; files already there are never replaced)")
	count := fs.Int("count", 0, "stop after this many frames are saved (0: until Ctrl-C)")
	rate := fs.Float64("rate", 0, "for a free-running camera: frames per second to save (default: the camera's rate)")
	prefix := fs.String("prefix", "", "file name prefix (default: the camera's name)")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: samlad collect --config FILE --out DIR [--camera NAME] [--count N] [--rate FPS] [--prefix P]")
		fmt.Fprintln(os.Stderr, "Saves frames from the camera as PNG files, on its trigger (free-run, MQTT software trigger or hardware), for samlad enroll.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *cfgPath == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "samlad collect: --config FILE and --out DIR are required")
		return 2
	}
	if *count < 0 || *rate < 0 {
		fmt.Fprintln(os.Stderr, "samlad collect: --count and --rate must not be negative")
		return 2
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "samlad collect: %v\n", err)
		return 1
	}
	cc, err := pickCamera(cfg.Cameras, *camName)
	if err != nil {
		fmt.Fprintf(os.Stderr, "samlad collect: %s: %v\n", *cfgPath, err)
		return 2
	}
	if *rate > 0 {
		if mode := cc.Trigger; mode != "" && mode != "free" {
			fmt.Fprintf(os.Stderr, "samlad collect: --rate is for free-running cameras; camera %q takes a frame per %s trigger\n", cc.Name, mode)
			return 2
		}
		cc.Rate = *rate
	}
	if *prefix == "" {
		*prefix = cc.Name
	}
	if strings.ContainsAny(*prefix, `/\`) || strings.HasPrefix(*prefix, ".") {
		fmt.Fprintf(os.Stderr, "samlad collect: --prefix %q: a file name prefix, without / and not starting with a dot\n", *prefix)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return collectFrames(ctx, collectOptions{cfg: cfg, cfgArg: *cfgPath, camera: cc, out: *out, count: *count, prefix: *prefix, tty: isTerminal(os.Stderr)}, os.Stdout, os.Stderr)
}

// pickCamera returns the camera called name, or the only one when name is empty.
func pickCamera(cams []config.Camera, name string) (config.Camera, error) {
	var names []string
	for _, c := range cams {
		if c.Name == name || (name == "" && len(cams) == 1) {
			return c, nil
		}
		names = append(names, c.Name)
	}
	switch {
	case len(cams) == 0:
		return config.Camera{}, errors.New("no [[camera]] table: add the station's camera (docs/cameras.md)")
	case name == "":
		return config.Camera{}, fmt.Errorf("%d cameras (%s): choose one with --camera", len(cams), strings.Join(names, ", "))
	}
	return config.Camera{}, fmt.Errorf("no camera %q (the config has %s)", name, strings.Join(names, ", "))
}

// collectFrames runs the camera and saves its frames until the count is
// reached, ctx ends or the source ends. It returns the exit code: 0 when
// it stopped as asked, 1 when it could not start or a frame could not be
// written.
func collectFrames(ctx context.Context, o collectOptions, stdout, stderr io.Writer) int {
	saver, err := newFrameSaver(o.out, o.prefix)
	if err != nil {
		fmt.Fprintf(stderr, "samlad collect: %v\n", err)
		return 1
	}
	// Camera states and MQTT notes arrive from other goroutines; the loop
	// below prints them, so they never cut the progress line in two.
	notes := make(chan string, 64)
	note := func(s string) {
		select {
		case notes <- s:
		default:
		}
	}
	cam, err := capture.New(o.camera, capture.Options{OnState: func(e capture.StateEvent) {
		s := fmt.Sprintf("camera %s: %s", e.Camera, e.State)
		if e.Err != nil {
			s += fmt.Sprintf(": %v (retry in %s)", e.Err, e.Retry)
		}
		note(s)
	}})
	if err != nil {
		fmt.Fprintf(stderr, "samlad collect: %v\n", err)
		return 1
	}
	mode := o.camera.Trigger
	if mode == "" {
		mode = "free"
	}
	runCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		if err := cam.Run(runCtx); err != nil {
			note("camera stopped: " + err.Error())
		}
	}()
	// stopCamera ends the capture and waits a bounded time for it: a
	// hardware-triggered camera may sit in a read until its next part.
	stopCamera := func() {
		cancel()
		timeout := time.After(capture.StopGrace + 3*time.Second)
		for {
			select {
			case _, ok := <-cam.Frames():
				if ok {
					continue
				}
				<-runDone
				return
			case <-timeout:
				return
			}
		}
	}

	switch mode {
	case "software":
		client, topic, err := collectTriggers(o.cfg.MQTT, o.camera.Name, cam, note)
		if err != nil {
			fmt.Fprintf(stderr, "samlad collect: software trigger: %v\n", err)
			stopCamera()
			return 1
		}
		defer client.Disconnect(250)
		fmt.Fprintf(stderr, "collecting from camera %s: one frame per trigger on %s\n", o.camera.Name, topic)
	case "hardware":
		fmt.Fprintf(stderr, "collecting from camera %s: one frame per hardware trigger\n", o.camera.Name)
	default:
		r := "every frame the source gives"
		if o.camera.Rate > 0 {
			r = fmt.Sprintf("%g frames a second", o.camera.Rate)
		}
		fmt.Fprintf(stderr, "collecting from camera %s: free-run, %s\n", o.camera.Name, r)
	}

	saved, failed, code := 0, 0, 0
	var first, last string
	progress := func(path string) {
		n := fmt.Sprint(saved)
		if o.count > 0 {
			n += fmt.Sprintf("/%d", o.count)
		}
		if o.tty {
			fmt.Fprintf(stderr, "\r\033[Ksaved %s, %d error frames, last %s (Ctrl-C stops)", n, failed, filepath.Base(path))
		} else {
			fmt.Fprintf(stderr, "saved %s (%s)\n", path, n)
		}
	}
	say := func(s string) {
		if o.tty && saved > 0 {
			fmt.Fprint(stderr, "\r\033[K")
		}
		fmt.Fprintln(stderr, s)
		if o.tty && saved > 0 {
			progress(last)
		}
	}
	why := ""
loop:
	for o.count == 0 || saved < o.count {
		select {
		case <-ctx.Done():
			why = "interrupted"
			break loop
		case s := <-notes:
			say(s)
		case f, ok := <-cam.Frames():
			if !ok {
				why = "the source ended"
				break loop
			}
			if f.Err != nil {
				failed++
				say(fmt.Sprintf("frame %d not saved: %v", f.Index, f.Err))
				continue
			}
			path, err := saver.save(f.Image, f.Time, f.PartID)
			if err != nil {
				say("samlad collect: " + err.Error())
				why, code = "a frame could not be written", 1
				break loop
			}
			saved++
			if first == "" {
				first = path
			}
			last = path
			progress(path)
		}
	}
	if why == "" {
		why = "the count was reached"
	}
	stopCamera()
	if o.tty && saved > 0 {
		fmt.Fprintln(stderr)
	}
	for len(notes) > 0 {
		if s := <-notes; !strings.HasSuffix(s, string(capture.StateStopped)) {
			fmt.Fprintln(stderr, s)
		}
	}
	switch saved {
	case 0:
		fmt.Fprintf(stdout, "no frame saved (%s)\n", why)
	default:
		fmt.Fprintf(stdout, "saved %d frames to %s (%s ... %s; %d error frames), stopped: %s\n",
			saved, o.out, filepath.Base(first), filepath.Base(last), failed, why)
		fmt.Fprintf(stdout, "look through them, delete any part that is not good, then enrol:\n  samlad enroll --config %s --good %s --out %s\n",
			o.cfgArg, o.out, bankHint(o.camera))
	}
	return code
}

// bankHint is the bank path the camera's config names, or a placeholder.
func bankHint(c config.Camera) string {
	if c.Bank != "" {
		return c.Bank
	}
	return c.Name + ".bank"
}

// collectTriggers subscribes to the camera's MQTT trigger topic (the one
// run takes triggers on) and triggers cam for each message. It connects
// with a client id of its own and a clean session, so the daemon's
// persistent session and the triggers queued for it stay untouched. A
// retained or empty message is never a trigger, as in run. When the
// daemon is online under the same prefix, a note says so: it would answer
// the same triggers and may hold the camera.
func collectTriggers(cfg config.MQTT, camera string, cam *capture.Camera, note func(string)) (mqtt.Client, string, error) {
	host, _ := os.Hostname()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts, err := actuate.ClientOptions(cfg, fmt.Sprintf("samlad-collect-%s-%d", host, os.Getpid()), log)
	if err != nil {
		return nil, "", err
	}
	topics := actuate.Topics{Prefix: cfg.Prefix}
	topic := topics.Set(camera, actuate.SetTrigger)
	cmds := actuate.Commands{Cameras: []string{camera}}
	onTrigger := func(_ mqtt.Client, m mqtt.Message) {
		switch {
		case m.Retained():
			note(fmt.Sprintf("retained message on %s ignored: never a trigger (clear it with an empty retained message)", topic))
			return
		case len(m.Payload()) == 0:
			return // clears a retained message; never a trigger
		}
		cmd, err := cmds.ParseCommand(camera, actuate.SetTrigger, m.Payload())
		if err != nil {
			note("trigger refused: " + err.Error())
			return
		}
		if err := cam.Trigger(cmd.PartID); err != nil {
			note(fmt.Sprintf("trigger %q not taken: %v", cmd.PartID, err))
		}
	}
	onAvailable := func(_ mqtt.Client, m mqtt.Message) {
		if string(m.Payload()) == actuate.Online {
			note(fmt.Sprintf("warning: samlad is online under %s: it answers these triggers too and may hold the camera; stop it while collecting (systemctl stop samlad)", cfg.Prefix))
		}
	}
	subscribed := make(chan error, 1)
	opts.SetAutoReconnect(true).SetMaxReconnectInterval(5 * time.Second)
	opts.SetOnConnectHandler(func(c mqtt.Client) {
		t := c.SubscribeMultiple(map[string]byte{topic: 1, topics.Available(): 0}, nil)
		go func() {
			t.Wait()
			err := t.Error()
			// The availability topic is a courtesy (the appliance's ACL
			// may not let it be read); the trigger topic is the job.
			if q, ok := t.(*mqtt.SubscribeToken).Result()[topic]; err == nil && ok && q == 0x80 {
				err = fmt.Errorf("the broker refused the subscription to %s: the config's MQTT user needs read access to it (the ACL)", topic)
			}
			select {
			case subscribed <- err:
			default:
			}
		}()
	})
	// Each filter has its own handler (SubscribeMultiple's is shared).
	opts.SetDefaultPublishHandler(func(c mqtt.Client, m mqtt.Message) {
		if m.Topic() == topic {
			onTrigger(c, m)
		} else if m.Topic() == topics.Available() {
			onAvailable(c, m)
		}
	})
	client := mqtt.NewClient(opts)
	tok := client.Connect()
	tok.Wait()
	if err := tok.Error(); err != nil {
		return nil, "", actuate.ExplainConnectError(cfg.Broker, opts, tok, err)
	}
	select {
	case err := <-subscribed:
		if err != nil {
			client.Disconnect(100)
			return nil, "", err
		}
	case <-time.After(10 * time.Second):
		client.Disconnect(100)
		return nil, "", fmt.Errorf("no answer from %s to the subscription to %s", cfg.Broker, topic)
	}
	return client, topic, nil
}
