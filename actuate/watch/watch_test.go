package watch

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/samlad/samlad/actuate"
)

var t0 = time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sampleModel feeds the monitor the messages of a short run of two cameras.
func sampleModel(t *testing.T) *Model {
	m := New("plant/line1")
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	m.Apply("plant/line1/available", []byte("online"), at(0))
	m.Apply("plant/line1/cam1/threshold/state", []byte("0.5"), at(0))
	m.Apply("plant/line1/cam1/recipe/state", []byte("widget-a"), at(0))
	m.Apply("plant/line1/cam2/status", mustJSON(t, actuate.CameraStatus{State: actuate.CameraLost, Detail: "/dev/video2 vanished; reopening in 4s", Time: at(3)}), at(3))
	for i, kind := range []string{actuate.Pass, actuate.Pass, actuate.Fail, actuate.Error} {
		v := actuate.Verdict{Camera: "cam1", Seq: uint64(100 + i), PartID: "SN-" + string(rune('A'+i)), Captured: at(i),
			LatencyMS: 40.5 + float64(i), Verdict: kind, Score: 0.1, Threshold: 0.5}
		if i == 1 {
			v.Alignment = &actuate.Alignment{DX: 3.25, DY: -1.5, Degrees: 0.4}
		}
		switch kind {
		case actuate.Fail:
			v.Reject, v.Score = true, 0.93
			v.Findings = []actuate.Finding{{Kind: actuate.Missing, Box: actuate.Box{X: 10, Y: 20, W: 30, H: 40}, Area: 900, Score: 0.93}}
			v.Alignment = &actuate.Alignment{Failed: "register: no convergence"}
		case actuate.Error:
			v.Reject, v.Reason = true, "deadline: 612ms > 500ms"
		}
		m.Apply("plant/line1/cam1/verdict", mustJSON(t, v), at(i))
	}
	m.Apply("plant/line1/stats", mustJSON(t, actuate.Stats{UptimeS: 3725, Provider: "builtin",
		Cameras: []actuate.CameraStats{{Camera: "cam1", LatencyP50MS: 41, LatencyP99MS: 88}},
		Link:    actuate.LinkStats{Connected: true, Pending: 2}}), at(4))
	m.Apply("plant/line1/events", mustJSON(t, actuate.Event{Time: at(5), Level: "error", Kind: "command", Camera: "cam1", Msg: `command refused: cam1/threshold: "abc" is not a finite number > 0`}), at(5))
	m.Apply("plant/line1/cam1/verdict", []byte("{not json"), at(6))
	m.Apply("other/prefix/cam9/verdict", mustJSON(t, actuate.Verdict{Verdict: actuate.Pass}), at(6))
	return m
}

func TestRender(t *testing.T) {
	got := Render(sampleModel(t), t0.Add(10*time.Second), 0, Plain)
	want := `samlad watch  plant/line1  2026-11-28 14:00:10
appliance: online (since 14:00:00, 10s ago)
stats 6s ago: provider builtin, up 1h2m5s, link connected=true pending=2 dropped=0 refused=0 reconnects=0

CAMERA       STATUS      PASS   FAIL  ERROR  REJECT   LAST ms   p50/p99  SETTINGS
cam1         -              2      1      1       2      43.5     41/88  recipe=widget-a threshold=0.5
cam2         lost           0      0      0       0         -         -  

cam1 last verdicts:
  14:00:03.000 #103 SN-D ERROR score 0.1 thr 0.5 43.5ms  deadline: 612ms > 500ms
  14:00:02.000 #102 SN-C FAIL score 0.93 thr 0.5 42.5ms  missing@(10,20 30x40)  unaligned
  14:00:01.000 #101 SN-B PASS score 0.1 thr 0.5 41.5ms  moved +3.2,-1.5 px +0.4 deg
  14:00:00.000 #100 SN-A PASS score 0.1 thr 0.5 40.5ms

cam2 status lost: /dev/video2 vanished; reopening in 4s

events:
  14:00:05 error command cam1: command refused: cam1/threshold: "abc" is not a finite number > 0

1 messages could not be decoded
`
	if got != want {
		t.Errorf("render:\n%s\nwant:\n%s", got, want)
	}
}

func TestRenderWidthAndColour(t *testing.T) {
	out := Render(sampleModel(t), t0.Add(10*time.Second), 40, ANSI)
	for _, line := range strings.Split(out, "\n") {
		visible := 0
		inEsc := false
		for _, r := range line {
			switch {
			case r == '\x1b':
				inEsc = true
			case inEsc:
				inEsc = r != 'm'
			default:
				visible++
			}
		}
		if visible > 40 {
			t.Errorf("line wider than 40: %q", line)
		}
		if strings.Count(line, "\x1b[3") > strings.Count(line, "\x1b[0m") {
			t.Errorf("colour left open: %q", line)
		}
	}
	if !strings.Contains(out, ANSI.Fail+"FAIL"+ANSI.Reset) {
		t.Errorf("FAIL not coloured red")
	}
}

func TestRenderEmpty(t *testing.T) {
	out := Render(New("samlad"), t0, 0, Plain)
	if !strings.Contains(out, "appliance: unknown") || !strings.Contains(out, "no camera heard yet") {
		t.Errorf("empty model:\n%s", out)
	}
}

func TestKeepsOnlyRecentVerdictsAndEvents(t *testing.T) {
	m := New("p")
	for i := range 20 {
		m.Apply("p/cam1/verdict", mustJSON(t, actuate.Verdict{Seq: uint64(i), Verdict: actuate.Pass}), t0)
		m.Apply("p/events", mustJSON(t, actuate.Event{Msg: "e"}), t0)
	}
	c := m.Cameras["cam1"]
	if c.Pass != 20 || len(c.Last) != keepVerdicts || c.Last[0].Seq != 19 || len(m.Events) != keepEvents {
		t.Errorf("pass %d, kept %d verdicts (newest %d), %d events", c.Pass, len(c.Last), c.Last[0].Seq, len(m.Events))
	}
}
