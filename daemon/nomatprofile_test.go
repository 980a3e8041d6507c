//go:build !matprofile

package daemon

// liveMats needs the matprofile build tag to count Mats (make soak sets it).
func liveMats() int { return -1 }
