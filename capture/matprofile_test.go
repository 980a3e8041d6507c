//go:build matprofile

package capture

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/samlad/samlad/config"
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

// TestStreamSessionsReleaseMats runs a video source through frames, a loop
// reopen and a stop, and checks that every Mat it made was closed.
func TestStreamSessionsReleaseMats(t *testing.T) {
	path := filepath.Join(t.TempDir(), "line.avi")
	writeVideo(t, path, 3, 32, 32)
	before := gocv.MatProfile.Count()
	r := start(t, config.Camera{Name: "cam2", Source: "video", URL: path, Loop: true}, Options{})
	for i := 0; i < 7; i++ {
		if f := r.next(t); f.Err != nil {
			t.Fatal(f.Err)
		}
	}
	if gocv.MatProfile.Count() <= before {
		t.Fatal("a running stream holds no Mat: is the profile counting?")
	}
	r.stop(t)
	if after := gocv.MatProfile.Count(); after != before {
		t.Errorf("%d live Mats after the stream stopped, %d before", after, before)
	}
}
