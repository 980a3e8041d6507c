package actuate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Settings a command may set on <prefix>/<camera>/<setting>/set.
const (
	SetEnabled   = "enabled"   // payload: true|false|on|off|1|0
	SetThreshold = "threshold" // payload: a finite number > 0, or "auto" (the bank's threshold)
	SetRecipe    = "recipe"    // payload: a bank file path under the bank directory
	SetTrigger   = "trigger"   // payload: a part id, or {"part_id": "...", "ts": ...}; {} for none
	SetEnroll    = "enroll"    // payload: a folder of good images under the enrol directory
)

// maxCommandPayload bounds what a command may carry; anything longer is refused.
const maxCommandPayload = 4096

// Command is one validated command. Only the field of its setting is set.
type Command struct {
	Camera  string
	Setting string
	// Enabled for SetEnabled.
	Enabled bool
	// Threshold for SetThreshold; 0 for "auto": the bank's calibrated
	// threshold again, which the state topic shows as "auto".
	Threshold float64
	// Path for SetRecipe (a bank file) and SetEnroll (a folder): already
	// resolved under the configured directory by SafeJoin.
	Path string
	// PartID for SetTrigger; empty when the trigger carried none.
	PartID string

	// For SetTrigger over MQTT (see Stale and Delivery):
	// Sent is the trigger's own "ts", zero when it carries none; Received
	// is when samlad got it.
	Sent, Received time.Time
	// Backlog is set when the broker queued the trigger while samlad was
	// away; Away is how long the link was down before the session that
	// delivered it (with Restarted: since this process started, a lower
	// bound, as samlad was not running before).
	Backlog, Restarted bool
	Away               time.Duration
	// Delivery acknowledges the trigger message to the broker: call Done
	// once the trigger's verdict is stored. Nil outside MQTT.
	Delivery *Delivery
}

// CommandHandler applies commands; the daemon implements it. It is called
// from one goroutine, one command at a time, so it should return quickly
// (start a long re-enrolment in the background). The returned state is
// published retained on <prefix>/<camera>/<setting>/state unless empty; an
// error is published as an event and leaves the state unchanged.
type CommandHandler interface {
	HandleCommand(ctx context.Context, cmd Command) (state string, err error)
}

// TriggerRefuser is implemented by a CommandHandler that answers a trigger
// it cannot honour (malformed, stale, or no room in the command queue) with
// an error verdict that rejects, so that the PLC sees one verdict per
// trigger. RefuseTrigger is called on the MQTT receive goroutine and must
// not block for long; it returns false when no verdict can be made (an
// unknown camera), and then only the event tells. The handler owns
// cmd.Delivery when it returns true.
type TriggerRefuser interface {
	RefuseTrigger(cmd Command, reason string) bool
}

// Commands configures command handling in Dial.
type Commands struct {
	Handler CommandHandler // nil: no command topic is subscribed
	// Cameras lists the camera names commands are accepted for.
	Cameras []string
	// BankDir and EnrollDir are the only directories recipe and enroll
	// commands may name paths under. Empty refuses those commands.
	BankDir   string
	EnrollDir string
	// Hold keeps the commands that arrive (the broker's backlog comes right
	// after the connection) until StartCommands: the handler cannot act on
	// them before its cameras run. Unacknowledged meanwhile, they are safe.
	Hold bool
}

// ParseCommand validates one command payload for camera and setting. It
// never panics; every refusal says what was wrong and what is accepted.
func (cs Commands) ParseCommand(camera, setting string, payload []byte) (Command, error) {
	cmd := Command{Camera: camera, Setting: setting}
	if !contains(cs.Cameras, camera) {
		return cmd, fmt.Errorf("unknown camera %q (known: %s)", camera, strings.Join(cs.Cameras, ", "))
	}
	if len(payload) > maxCommandPayload {
		return cmd, fmt.Errorf("%s/%s: payload of %d bytes is over the %d-byte limit", camera, setting, len(payload), maxCommandPayload)
	}
	if !utf8.Valid(payload) {
		return cmd, fmt.Errorf("%s/%s: payload is not UTF-8 text", camera, setting)
	}
	p := strings.TrimSpace(string(payload))
	switch setting {
	case SetEnabled:
		switch strings.ToLower(p) {
		case "true", "on", "1":
			cmd.Enabled = true
		case "false", "off", "0":
		default:
			return cmd, fmt.Errorf("%s/enabled: %q is not a switch value (send true/false, on/off or 1/0)", camera, clip(p))
		}
	case SetThreshold:
		if strings.EqualFold(p, "auto") {
			return cmd, nil
		}
		t, err := strconv.ParseFloat(p, 64)
		if err != nil || math.IsNaN(t) || math.IsInf(t, 0) || t <= 0 {
			return cmd, fmt.Errorf("%s/threshold: %q is not a finite number > 0 or \"auto\" (the bank's calibrated threshold)", camera, clip(p))
		}
		cmd.Threshold = t
	case SetRecipe:
		path, err := safeArg(cs.BankDir, "daemon.bank_dir", p)
		if err != nil {
			return cmd, fmt.Errorf("%s/recipe: %w", camera, err)
		}
		cmd.Path = path
	case SetEnroll:
		path, err := safeArg(cs.EnrollDir, "daemon.enroll_dir", p)
		if err != nil {
			return cmd, fmt.Errorf("%s/enroll: %w", camera, err)
		}
		cmd.Path = path
	case SetTrigger:
		id, err := triggerPartID(p)
		if err != nil {
			return cmd, fmt.Errorf("%s/trigger: %w", camera, err)
		}
		cmd.PartID = id
	default:
		return cmd, fmt.Errorf("%s: unknown setting %q (settable: enabled, threshold, recipe, trigger, enroll)", camera, clip(setting))
	}
	return cmd, nil
}

// triggerPartID reads a trigger payload: empty, a bare part id, or JSON
// {"part_id": "..."}.
func triggerPartID(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	id := p
	if strings.HasPrefix(p, "{") {
		var body struct {
			PartID string          `json:"part_id"`
			TS     json.RawMessage `json:"ts"` // read by triggerTime
		}
		dec := json.NewDecoder(strings.NewReader(p))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			return "", fmt.Errorf("payload %q is not {\"part_id\": \"...\", \"ts\": ...}: %v", clip(p), err)
		}
		if body.PartID == "" {
			return "", nil
		}
		id = body.PartID
	}
	if !ValidPartID(id) {
		return "", fmt.Errorf("part id %q: want 1-64 letters, digits or - _ . : / #", clip(id))
	}
	return id, nil
}

func safeArg(base, key, p string) (string, error) {
	if base == "" {
		return "", fmt.Errorf("refused: %s is not configured, so no path is accepted", key)
	}
	path, err := SafeJoin(base, p)
	if err != nil {
		return "", fmt.Errorf("refused: %w", err)
	}
	return path, nil
}

// ErrOutsideBase is returned by SafeJoin for a path that leaves its base.
var ErrOutsideBase = errors.New("path leaves the allowed directory")

// SafeJoin resolves userPath under baseDir. It accepts a relative path that
// stays inside baseDir, or an absolute path inside baseDir; it refuses empty
// paths, NUL bytes, "..", absolute paths elsewhere, and existing symlinks
// that lead outside. The result is absolute and clean.
func SafeJoin(baseDir, userPath string) (string, error) {
	if baseDir == "" {
		return "", errors.New("no base directory configured")
	}
	if userPath == "" {
		return "", errors.New("empty path")
	}
	if strings.ContainsRune(userPath, 0) {
		return "", errors.New("path contains a NUL byte")
	}
	base, err := filepath.Abs(baseDir)
	if err != nil {
		return "", fmt.Errorf("base directory %s: %w", baseDir, err)
	}
	var joined string
	if filepath.IsAbs(userPath) {
		joined = filepath.Clean(userPath)
	} else {
		joined = filepath.Join(base, userPath)
	}
	if !within(base, joined) {
		return "", fmt.Errorf("%q: %w %s", clip(userPath), ErrOutsideBase, base)
	}
	// A symlink inside base may point elsewhere: check where the deepest
	// existing part of the path really leads.
	realBase, err := filepath.EvalSymlinks(base)
	if err != nil {
		return "", fmt.Errorf("base directory %s: %w", base, err)
	}
	for p := joined; within(base, p); p = filepath.Dir(p) {
		real, err := filepath.EvalSymlinks(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("%q: %w", clip(userPath), err)
		}
		if !within(realBase, real) {
			return "", fmt.Errorf("%q resolves to %s: %w %s", clip(userPath), real, ErrOutsideBase, base)
		}
		break
	}
	return joined, nil
}

// within reports whether path is base or below it (both clean and absolute).
func within(base, path string) bool {
	rel, err := filepath.Rel(base, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// clip shortens user input quoted back in errors.
func clip(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
