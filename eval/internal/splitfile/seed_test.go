package splitfile

import "testing"

// The seeds scenes and digitanatomy derived before they shared ImageSeed:
// a generated data set must not change.
func TestImageSeedPinned(t *testing.T) {
	for _, c := range []struct {
		seed           int64
		split, anomaly string
		i              int
		want           int64
	}{
		{1, "train", "good", 0, -1927277566827326711},
		{42, "test", "extra", 7, -5792365703948872967},
		{-3, "validation#2", "missing", 123, 7144732223375031569},
	} {
		if got := ImageSeed(c.seed, c.split, c.anomaly, c.i); got != c.want {
			t.Errorf("ImageSeed(%d, %q, %q, %d) = %d, want %d", c.seed, c.split, c.anomaly, c.i, got, c.want)
		}
	}
}
