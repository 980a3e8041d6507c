//go:build matprofile

package daemon

import "gocv.io/x/gocv"

// liveMats is the number of gocv.Mat not yet closed; -1 when the test binary
// was built without the matprofile tag and cannot count them.
func liveMats() int { return gocv.MatProfile.Count() }
