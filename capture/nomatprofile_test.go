//go:build !matprofile

package capture

// checkNoLiveMats needs the matprofile build tag to count Mats.
func checkNoLiveMats() int { return 0 }
