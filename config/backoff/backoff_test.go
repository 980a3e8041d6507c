package backoff

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		name     string
		min, max time.Duration
		want     []time.Duration
	}{
		{"doubles to the cap", 200 * ms, time.Second, []time.Duration{200 * ms, 400 * ms, 800 * ms, time.Second, time.Second}},
		{"cap below the start", 200 * ms, 100 * ms, []time.Duration{100 * ms, 100 * ms}},
		{"equal", time.Second, time.Second, []time.Duration{time.Second, time.Second}},
	} {
		b := Backoff{Min: c.min, Max: c.max}
		for round := range 2 { // and again after a Reset
			for i, want := range c.want {
				if got := b.Next(); got != want {
					t.Errorf("%s, round %d, delay %d: %v, want %v", c.name, round, i, got, want)
				}
			}
			b.Reset()
		}
	}
}

// The formulas the three callers used before: capture's min(2*d, max)
// from min; actuate's min(max(2*d, min), max) from 0; onnx's min(2*d, max)
// from min.
func TestBackoffMatchesReplacedFormulas(t *testing.T) {
	for _, c := range []struct{ min, max time.Duration }{
		{500 * time.Millisecond, 30 * time.Second}, {200 * time.Millisecond, time.Second},
		{200 * time.Millisecond, 50 * time.Millisecond}, {30 * time.Second, 10 * time.Minute}, {time.Second, time.Second},
	} {
		b := Backoff{Min: c.min, Max: c.max}
		var act time.Duration
		capt := c.min
		for i := range 20 {
			act = min(max(2*act, c.min), c.max)
			got := b.Next()
			if got != act {
				t.Errorf("min %v max %v step %d: %v, actuate's formula %v", c.min, c.max, i, got, act)
			}
			if c.min <= c.max && got != capt { // capture's and onnx's: config keeps min <= max
				t.Errorf("min %v max %v step %d: %v, capture's formula %v", c.min, c.max, i, got, capt)
			}
			capt = min(2*capt, c.max)
		}
	}
}
