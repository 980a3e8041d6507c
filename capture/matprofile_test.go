//go:build matprofile

package capture

import (
	"bytes"
	"fmt"

	"gocv.io/x/gocv"
)

// checkNoLiveMats fails the run when a gocv.Mat outlived the tests.
func checkNoLiveMats() int {
	if n := gocv.MatProfile.Count(); n != 0 {
		var b bytes.Buffer
		gocv.MatProfile.WriteTo(&b, 1)
		fmt.Printf("FAIL: %d gocv.Mat still live after the tests:\n%s", n, b.String())
		return 1
	}
	fmt.Println("matprofile: 0 live gocv.Mat")
	return 0
}
