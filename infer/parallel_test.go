package infer

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
)

// firstError runs every index once, on at most workers goroutines, and
// returns the lowest index's error whatever the timing.
func TestFirstError(t *testing.T) {
	for _, workers := range []int{0, 1, 3, 16} {
		var ran, live, peak atomic.Int64
		err := firstError(50, workers, func(i int) error {
			ran.Add(1)
			if l := live.Add(1); l > peak.Load() {
				peak.Store(l)
			}
			defer live.Add(-1)
			if i%7 == 3 {
				return fmt.Errorf("item %d", i)
			}
			return nil
		})
		if err == nil || err.Error() != "item 3" {
			t.Errorf("workers %d: error %v, want item 3", workers, err)
		}
		if ran.Load() != 50 {
			t.Errorf("workers %d: ran %d items, want 50", workers, ran.Load())
		}
		if p := peak.Load(); p > int64(max(workers, 1)) {
			t.Errorf("workers %d: %d at once", workers, p)
		}
	}
	if err := firstError(0, 4, func(int) error { return errors.New("never") }); err != nil {
		t.Errorf("no items: %v", err)
	}
}
