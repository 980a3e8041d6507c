package tiff

import (
	"bytes"
	"encoding/binary"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	w, h := 7, 5
	data := make([]float32, w*h)
	for i := range data {
		data[i] = float32(i)*0.37 - 3
	}
	data[3] = float32(math.Inf(1))
	data[4] = -0
	data[5] = 1e-38
	var b bytes.Buffer
	if err := Encode(&b, w, h, data); err != nil {
		t.Fatal(err)
	}
	gw, gh, got, err := Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if gw != w || gh != h {
		t.Fatalf("size %dx%d, want %dx%d", gw, gh, w, h)
	}
	for i := range data {
		if math.Float32bits(got[i]) != math.Float32bits(data[i]) {
			t.Fatalf("pixel %d: %v, want %v", i, got[i], data[i])
		}
	}
}

// The strip starts right after the header and the pixel at (x, y) is at
// 8 + 4*(y*w+x), little-endian: a check independent of Decode.
func TestLayout(t *testing.T) {
	var b bytes.Buffer
	if err := Encode(&b, 3, 2, []float32{0, 1, 2, 3, 4, 5.5}); err != nil {
		t.Fatal(err)
	}
	raw := b.Bytes()
	if string(raw[:4]) != "II*\x00" {
		t.Fatalf("header %q", raw[:4])
	}
	if v := math.Float32frombits(binary.LittleEndian.Uint32(raw[8+4*5:])); v != 5.5 {
		t.Fatalf("pixel (2,1) = %v, want 5.5", v)
	}
}

func TestBadInput(t *testing.T) {
	if err := Encode(&bytes.Buffer{}, 3, 3, make([]float32, 8)); err == nil {
		t.Fatal("Encode accepted 8 values for 3x3")
	}
	var b bytes.Buffer
	if err := Encode(&b, 4, 4, make([]float32, 16)); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 7, 20, b.Len() - 5} {
		if _, _, _, err := Decode(b.Bytes()[:n]); err == nil {
			t.Fatalf("Decode accepted a file truncated to %d bytes", n)
		}
	}
}

// When Python with numpy and PIL or tifffile is present, a third-party
// reader must read the same values (the official evaluation uses tifffile).
func TestThirdPartyReader(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.tiff")
	data := []float32{0.5, -1.25, 3, 1e6, 7, 8}
	if err := WriteFile(p, 3, 2, data); err != nil {
		t.Fatal(err)
	}
	script := `import sys
try:
    import tifffile; a = tifffile.imread(sys.argv[1])
except ImportError:
    from PIL import Image; import numpy; a = numpy.array(Image.open(sys.argv[1]))
print(a.dtype, a.shape, " ".join(repr(float(v)) for v in a.ravel()))`
	// The PATH's python3 may be a virtual environment without the
	// packages; Debian's system python (python3-tifffile) is tried next.
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if _, err := exec.LookPath(py); err != nil {
			continue
		}
		out, err := exec.Command(py, "-c", script, p).CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "ModuleNotFoundError") {
				continue
			}
			t.Fatalf("%s: %v: %s", py, err, out)
		}
		want := "float32 (2, 3) 0.5 -1.25 3.0 1000000.0 7.0 8.0"
		if strings.TrimSpace(string(out)) != want {
			t.Fatalf("%s read %q, want %q", py, out, want)
		}
		return
	}
	t.Skip("no python3 with tifffile or PIL and numpy")
}
