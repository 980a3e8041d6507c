package runner

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Progress draws a one-line progress bar on a terminal stream (stderr).
// It stays silent for the first few seconds, so short runs print nothing,
// and redraws at most a few times a second. A nil *Progress does nothing.
type Progress struct {
	w      io.Writer
	mu     sync.Mutex
	start  time.Time
	last   time.Time
	total  int
	done   int
	label  string
	drawn  bool
	quiet  time.Duration
	period time.Duration
}

// NewProgress returns a progress bar writing to w.
func NewProgress(w io.Writer) *Progress {
	return &Progress{w: w, start: time.Now(), quiet: 3 * time.Second, period: 250 * time.Millisecond}
}

// AddTotal adds n steps to the expected total.
func (p *Progress) AddTotal(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.total += n
	p.mu.Unlock()
}

// Label names what is being done now.
func (p *Progress) Label(s string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.label = s
	p.mu.Unlock()
}

// Step counts one step done.
func (p *Progress) Step() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	now := time.Now()
	if now.Sub(p.start) < p.quiet || now.Sub(p.last) < p.period {
		return
	}
	p.last = now
	p.draw(now)
}

func (p *Progress) draw(now time.Time) {
	const width = 30
	frac := 0.0
	if p.total > 0 {
		frac = min(float64(p.done)/float64(p.total), 1)
	}
	n := int(frac * width)
	el := now.Sub(p.start).Round(time.Second)
	eta := "?"
	if frac > 0 {
		eta = (time.Duration(float64(el)/frac) - el).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d %-24.24s %s elapsed, %s left ", strings.Repeat("=", n), strings.Repeat(" ", width-n),
		p.done, p.total, p.label, el, eta)
	p.drawn = true
}

// Done ends the bar's line if it was drawn.
func (p *Progress) Done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		p.draw(time.Now())
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}
