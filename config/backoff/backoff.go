// Package backoff is the exponential backoff shared by the camera
// reconnects (capture), the MQTT reconnects (actuate) and the ONNX
// provider's way back (infer/onnx): Min, then twice the last delay, up to
// Max. It lives under config, the leaf every package may import.
package backoff

import "time"

// Backoff hands out the delays. The zero value with Min and Max set is
// ready; it is not safe for concurrent use.
type Backoff struct {
	Min, Max time.Duration
	next     time.Duration
}

// Next returns the delay to wait now, Min after a Reset, and doubles the
// one after it, never beyond Max.
func (b *Backoff) Next() time.Duration {
	d := b.next
	if d == 0 {
		d = b.Min
	}
	d = min(d, b.Max)
	b.next = min(2*d, b.Max)
	return d
}

// Reset starts again from Min.
func (b *Backoff) Reset() { b.next = 0 }
