package daemon

import (
	"slices"
	"sync"
	"time"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/infer/quantile"
)

// latencyWindow is how many recent latencies the percentiles are taken over.
const latencyWindow = 1024

// camStats accumulates one camera's counters.
type camStats struct {
	mu                sync.Mutex
	pass, fail, error uint64
	unaligned         uint64          // frames the bank would align but could not
	lat               []time.Duration // ring of recent latencies
	next              int
	sinceLast         uint64 // verdicts since the last snapshot
	last              time.Time
}

func newCamStats() *camStats {
	return &camStats{lat: make([]time.Duration, 0, latencyWindow), last: time.Now()}
}

// record counts one verdict (actuate.Pass, Fail or Error) and whether its
// frame was inspected unaligned because it could not be aligned.
func (s *camStats) record(verdict string, latency time.Duration, unaligned bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if unaligned {
		s.unaligned++
	}
	switch verdict {
	case actuate.Pass:
		s.pass++
	case actuate.Fail:
		s.fail++
	default:
		s.error++
	}
	s.sinceLast++
	if len(s.lat) < latencyWindow {
		s.lat = append(s.lat, latency)
	} else {
		s.lat[s.next] = latency
		s.next = (s.next + 1) % latencyWindow
	}
}

// snapshot fills the counters of cs and starts a new FPS interval. FPS
// counts verdicts per second since the last snapshot; the latency
// percentiles (capture -> publish) cover the last latencyWindow verdicts.
func (s *camStats) snapshot(cs *actuate.CameraStats, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs.Pass, cs.Fail, cs.Error, cs.Unaligned = s.pass, s.fail, s.error, s.unaligned
	if dt := now.Sub(s.last).Seconds(); dt > 0 {
		cs.FPS = float64(s.sinceLast) / dt
	}
	s.sinceLast, s.last = 0, now
	if len(s.lat) > 0 {
		sorted := slices.Clone(s.lat)
		slices.Sort(sorted)
		cs.LatencyP50MS = ms(percentile(sorted, 0.50))
		cs.LatencyP99MS = ms(percentile(sorted, 0.99))
	}
}

// percentile returns the nearest-rank percentile (Hyndman–Fan type 1) of
// sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	return sorted[quantile.NearestRankIndex(len(sorted), p)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
