// Package watch is the model and the text rendering of `samlad watch`, the
// maintenance monitor: it folds the messages under a prefix into per-camera
// counts, last verdicts, latency and availability, and renders them as
// plain text. Apply and Render are pure, so they are tested on sample
// messages; the command only subscribes and redraws.
package watch

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/samlad/samlad/actuate"
)

// keepVerdicts is how many recent verdicts each camera shows.
const keepVerdicts = 5

// keepEvents is how many recent events are shown.
const keepEvents = 5

// Model is what the monitor knows.
type Model struct {
	Prefix      string
	Available   string // online, offline, stopped; empty until heard
	AvailableAt time.Time
	Stats       *actuate.Stats
	StatsAt     time.Time
	Cameras     map[string]*Camera
	Events      []actuate.Event // newest last
	// Undecodable counts messages that could not be read.
	Undecodable int
}

// Camera is one camera's share of the model.
type Camera struct {
	Name              string
	Pass, Fail, Error int // verdicts seen since the monitor started
	Rejects           int
	Last              []actuate.Verdict // newest first
	Status            actuate.CameraStatus
	Settings          map[string]string // retained <setting>/state values
}

// New returns an empty model for prefix.
func New(prefix string) *Model {
	return &Model{Prefix: prefix, Cameras: map[string]*Camera{}}
}

func (m *Model) camera(name string) *Camera {
	c, ok := m.Cameras[name]
	if !ok {
		c = &Camera{Name: name, Settings: map[string]string{}}
		m.Cameras[name] = c
	}
	return c
}

// Apply folds one message into the model. Unknown topics are ignored;
// payloads that do not decode are counted, never fatal.
func (m *Model) Apply(topic string, payload []byte, now time.Time) {
	rest, ok := strings.CutPrefix(topic, m.Prefix+"/")
	if !ok {
		return
	}
	levels := strings.Split(rest, "/")
	switch {
	case rest == "available":
		m.Available, m.AvailableAt = string(payload), now
	case rest == "stats":
		var s actuate.Stats
		if json.Unmarshal(payload, &s) != nil {
			m.Undecodable++
			return
		}
		m.Stats, m.StatsAt = &s, now
	case rest == "events":
		var e actuate.Event
		if json.Unmarshal(payload, &e) != nil {
			m.Undecodable++
			return
		}
		m.Events = append(m.Events, e)
		if len(m.Events) > keepEvents {
			m.Events = m.Events[len(m.Events)-keepEvents:]
		}
	case len(levels) == 2 && levels[1] == "verdict":
		var v actuate.Verdict
		if json.Unmarshal(payload, &v) != nil {
			m.Undecodable++
			return
		}
		c := m.camera(levels[0])
		switch v.Verdict {
		case actuate.Pass:
			c.Pass++
		case actuate.Fail:
			c.Fail++
		default:
			c.Error++
		}
		if v.Reject {
			c.Rejects++
		}
		c.Last = append([]actuate.Verdict{v}, c.Last...)
		if len(c.Last) > keepVerdicts {
			c.Last = c.Last[:keepVerdicts]
		}
	case len(levels) == 2 && levels[1] == "status":
		var s actuate.CameraStatus
		if json.Unmarshal(payload, &s) != nil {
			m.Undecodable++
			return
		}
		m.camera(levels[0]).Status = s
	case len(levels) == 3 && levels[2] == "state":
		m.camera(levels[0]).Settings[levels[1]] = string(payload)
	}
}

// Style colours the verdict words; Plain leaves text as is.
type Style struct{ Pass, Fail, Error, Reset string }

// Plain is no colour; ANSI is green / red / yellow.
var (
	Plain = Style{}
	ANSI  = Style{Pass: "\x1b[32m", Fail: "\x1b[31m", Error: "\x1b[33m", Reset: "\x1b[0m"}
)

func (s Style) verdict(v string) string {
	word := strings.ToUpper(v)
	switch v {
	case actuate.Pass:
		return s.Pass + word + s.Reset
	case actuate.Fail:
		return s.Fail + word + s.Reset
	}
	return s.Error + word + s.Reset
}

// Render draws the model as text lines no wider than width (0: no limit).
func Render(m *Model, now time.Time, width int, st Style) string {
	var lines []string
	add := func(format string, a ...any) { lines = append(lines, fmt.Sprintf(format, a...)) }

	avail := m.Available
	if avail == "" {
		avail = "unknown (no message yet)"
	} else {
		avail = fmt.Sprintf("%s (since %s, %s ago)", avail, m.AvailableAt.Format("15:04:05"), ago(now, m.AvailableAt))
	}
	add("samlad watch  %s  %s", m.Prefix, now.Format("2006-01-02 15:04:05"))
	add("appliance: %s", avail)
	if s := m.Stats; s != nil {
		add("stats %s ago: provider %s, up %s, link connected=%t pending=%d dropped=%d refused=%d reconnects=%d",
			ago(now, m.StatsAt), s.Provider, (time.Duration(s.UptimeS) * time.Second).String(),
			s.Link.Connected, s.Link.Pending, s.Link.Dropped, s.Link.Refused, s.Link.Reconnects)
	}
	add("")
	add("%-12s %-9s %6s %6s %6s %7s %9s %9s  %s", "CAMERA", "STATUS", "PASS", "FAIL", "ERROR", "REJECT", "LAST ms", "p50/p99", "SETTINGS")
	names := make([]string, 0, len(m.Cameras))
	for n := range m.Cameras {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := m.Cameras[n]
		status := c.Status.State
		if status == "" {
			status = "-"
		}
		last := "-"
		if len(c.Last) > 0 {
			last = fmt.Sprintf("%.1f", c.Last[0].LatencyMS)
		}
		add("%-12s %-9s %6d %6d %6d %7d %9s %9s  %s", n, status, c.Pass, c.Fail, c.Error, c.Rejects, last, percentiles(m.Stats, n), settings(c.Settings))
	}
	if len(names) == 0 {
		add("(no camera heard yet)")
	}
	for _, n := range names {
		c := m.Cameras[n]
		if c.Status.Detail != "" {
			add("")
			add("%s status %s: %s", n, c.Status.State, c.Status.Detail)
		}
		if len(c.Last) == 0 {
			continue
		}
		add("")
		add("%s last verdicts:", n)
		for _, v := range c.Last {
			part := v.PartID
			if part == "" {
				part = "-"
			}
			line := fmt.Sprintf("  %s #%d %s %s score %s thr %s %.1fms", v.Captured.Format("15:04:05.000"), v.Seq, part,
				st.verdict(v.Verdict), num(v.Score), num(v.Threshold), v.LatencyMS)
			if v.Reason != "" {
				line += "  " + v.Reason
			}
			if len(v.Findings) > 0 {
				line += "  " + findings(v.Findings)
			}
			if a := v.Alignment; a != nil && a.Failed != "" {
				line += "  unaligned"
			} else if a != nil {
				line += fmt.Sprintf("  moved %+.1f,%+.1f px %+.1f deg", a.DX, a.DY, a.Degrees)
			}
			lines = append(lines, line)
		}
	}
	if len(m.Events) > 0 {
		add("")
		add("events:")
		for i := len(m.Events) - 1; i >= 0; i-- {
			e := m.Events[i]
			cam := ""
			if e.Camera != "" {
				cam = " " + e.Camera
			}
			add("  %s %-5s %s%s: %s", e.Time.Format("15:04:05"), e.Level, e.Kind, cam, e.Msg)
		}
	}
	if m.Undecodable > 0 {
		add("")
		add("%d messages could not be decoded", m.Undecodable)
	}
	if width > 0 {
		for i, l := range lines {
			lines[i] = clip(l, width)
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

func ago(now, t time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	return d.Round(time.Second).String()
}

func num(x float64) string { return fmt.Sprintf("%.3g", x) }

func percentiles(s *actuate.Stats, camera string) string {
	if s == nil {
		return "-"
	}
	for _, c := range s.Cameras {
		if c.Camera == camera {
			return fmt.Sprintf("%.0f/%.0f", c.LatencyP50MS, c.LatencyP99MS)
		}
	}
	return "-"
}

func settings(s map[string]string) string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + s[k]
	}
	return strings.Join(parts, " ")
}

// findings lists findings as kind@(x,y wxh).
func findings(fs []actuate.Finding) string {
	const show = 4
	var parts []string
	for i, f := range fs {
		if i == show {
			parts = append(parts, fmt.Sprintf("+%d more", len(fs)-show))
			break
		}
		parts = append(parts, fmt.Sprintf("%s@(%d,%d %dx%d)", f.Kind, f.Box.X, f.Box.Y, f.Box.W, f.Box.H))
	}
	return strings.Join(parts, " ")
}

// clip cuts a line to width visible characters, keeping ANSI colour codes
// intact and closing any colour it cut.
func clip(s string, width int) string {
	var b strings.Builder
	visible, inEsc, cut := 0, false, false
	for _, r := range s {
		switch {
		case inEsc:
			b.WriteRune(r)
			inEsc = r != 'm'
		case r == '\x1b':
			inEsc = true
			b.WriteRune(r)
		case visible < width:
			b.WriteRune(r)
			visible++
		default:
			cut = true
		}
	}
	if cut && strings.Contains(s, "\x1b[") {
		b.WriteString(ANSI.Reset)
	}
	return b.String()
}
