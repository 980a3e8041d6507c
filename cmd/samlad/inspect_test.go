package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/samlad/samlad/actuate"
	"github.com/samlad/samlad/actuate/heatmap"
	"github.com/samlad/samlad/eval/metrics"
	"github.com/samlad/samlad/eval/scenes"
)

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// capture runs fn with stdout and stderr redirected and returns them.
func captureOutput(t *testing.T, fn func() int) (rc int, stdout, stderr string) {
	t.Helper()
	oldOut, oldErr := os.Stdout, os.Stderr
	ro, wo, _ := os.Pipe()
	re, we, _ := os.Pipe()
	os.Stdout, os.Stderr = wo, we
	outc, errc := make(chan string), make(chan string)
	go func() { b, _ := io.ReadAll(ro); outc <- string(b) }()
	go func() { b, _ := io.ReadAll(re); errc <- string(b) }()
	rc = fn()
	wo.Close()
	we.Close()
	os.Stdout, os.Stderr = oldOut, oldErr
	return rc, <-outc, <-errc
}

func TestEnrollInspectCLI(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "bag")
	writeScenes(t, data, scenes.Bag, 6, 1, 128, scenes.Extra)
	cfg := filepath.Join(dir, "line.toml")
	os.WriteFile(cfg, []byte("[pipeline]\ninput_size = 112\nupsample = 4\nk = 2\n"), 0o644)
	bank := filepath.Join(dir, "line.bank")

	// An empty good folder and a missing folder are clear errors.
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	rc, _, stderr := captureOutput(t, func() int { return runEnroll([]string{"--config", cfg, "--good", empty, "--out", bank}) })
	if rc == 0 || !strings.Contains(stderr, "no images in") || !strings.Contains(stderr, "at least 3") {
		t.Errorf("empty good folder: rc %d, stderr %q", rc, stderr)
	}

	// A truncated good image is skipped, named, counted, and the exit code is 1.
	good := filepath.Join(data, "train", "good")
	src, _ := os.ReadFile(filepath.Join(good, "000.png"))
	os.WriteFile(filepath.Join(good, "zz-truncated.png"), src[:len(src)/3], 0o644)
	rc, _, stderr = captureOutput(t, func() int { return runEnroll([]string{"--config", cfg, "--good", good, "--out", bank}) })
	if rc != 1 || !strings.Contains(stderr, "zz-truncated.png") || !strings.Contains(stderr, "1 image(s) could not be read") {
		t.Errorf("truncated good image: rc %d, stderr %q", rc, stderr)
	}
	if !strings.Contains(stderr, "resized to the input size 112x112") {
		t.Errorf("resizing not reported once: %q", stderr)
	}
	if _, err := os.Stat(bank); err != nil {
		t.Fatalf("bank not written: %v", err)
	}

	// Inspect: flags after the paths, one JSON line per readable image.
	heat := filepath.Join(dir, "heat")
	bad := filepath.Join(dir, "broken.png")
	os.WriteFile(bad, []byte("not a png"), 0o644)
	imgs, _ := filepath.Glob(filepath.Join(data, "test", "*", "*.png"))
	args := append([]string{"--bank", bank}, imgs...)
	args = append(args, bad, "--heatmaps", heat)
	rc, stdout, stderr := captureOutput(t, func() int { return runInspect(args) })
	if rc != 1 || !strings.Contains(stderr, "broken.png") {
		t.Errorf("inspect with a broken file: rc %d, stderr %q", rc, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != len(imgs) {
		t.Fatalf("%d JSON lines for %d images: %q", len(lines), len(imgs), stdout)
	}
	heats, _ := filepath.Glob(filepath.Join(heat, "*.png"))
	if len(heats) != len(imgs) {
		t.Errorf("%d heatmaps for %d images (same-named inputs must not overwrite)", len(heats), len(imgs))
	}
	for _, l := range lines {
		var r inspectLine
		dec := json.NewDecoder(bytes.NewReader([]byte(l)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if r.Verdict != "pass" && r.Verdict != "fail" || r.Threshold <= 0 || len(r.Timings) != 11 {
			t.Errorf("line %q: incomplete result", l)
		}
		// One box form, the verdict message's: {x,y,w,h} in the image's
		// pixels, inside it.
		orig := decodePNG(t, r.Path).Bounds()
		for _, f := range r.Findings {
			if b := f.Box; b.W <= 0 || b.H <= 0 || !image.Rect(b.X, b.Y, b.X+b.W, b.Y+b.H).In(orig) {
				t.Errorf("line %q: finding box %+v not in the image %v", l, b, orig)
			}
		}
		if len(r.Findings) > 0 && !strings.Contains(l, `"box":{"x":`) {
			t.Errorf("line %q: box not in the {x,y,w,h} form", l)
		}
		// Its heatmap: <folder>_<name>.png at the image's own size plus the
		// header and legend, the header in the verdict's colour.
		name := filepath.Base(filepath.Dir(r.Path)) + "_" + filepath.Base(r.Path)
		hm := decodePNG(t, filepath.Join(heat, name))
		hdr, leg := heatmap.Layout(orig)
		if got, want := hm.Bounds().Size(), image.Pt(orig.Dx()+leg, orig.Dy()+hdr); got != want {
			t.Errorf("%s: size %v, want %v", name, got, want)
		}
		want := heatmap.PassColour
		if r.Verdict == "fail" {
			want = heatmap.FailColour
		}
		if c := color.RGBAModel.Convert(hm.At(hm.Bounds().Max.X-1, 0)); c != want {
			t.Errorf("%s: header %v, want %v for %s", name, c, want, r.Verdict)
		}
	}

	// A config that differs from the bank's is refused with the key.
	other := filepath.Join(dir, "other.toml")
	os.WriteFile(other, []byte("[pipeline]\ninput_size = 112\nupsample = 4\nk = 3\n"), 0o644)
	rc, _, stderr = captureOutput(t, func() int { return runInspect([]string{"--bank", bank, "--config", other, imgs[0]}) })
	if rc != 1 || !strings.Contains(stderr, "pipeline.k") {
		t.Errorf("other config: rc %d, stderr %q", rc, stderr)
	}
}

// inspect --table: SAM-LAD and the baseline side by side on a labelled
// test split, each figure the AUROC of the scores inspect printed.
func TestInspectTable(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "box")
	writeScenes(t, data, scenes.Box, 6, 2, 112, scenes.Missing, scenes.Extra, scenes.Scratch)
	cfg := filepath.Join(dir, "line.toml")
	os.WriteFile(cfg, []byte("[pipeline]\ninput_size = 112\nupsample = 2\nk = 2\n"), 0o644)
	bank := filepath.Join(dir, "line.bank")
	// Two good folders: the second is the first's copy under another name.
	more := filepath.Join(dir, "more")
	os.Mkdir(more, 0o755)
	src, _ := os.ReadFile(filepath.Join(data, "train", "good", "000.png"))
	os.WriteFile(filepath.Join(more, "000.png"), src, 0o644)
	rc, _, stderr := captureOutput(t, func() int {
		return runEnroll([]string{"--config", cfg, "--good", filepath.Join(data, "train", "good"), "--good", more, "--out", bank})
	})
	if rc != 0 || !strings.Contains(stderr, "enrolled 7 good images") {
		t.Fatalf("enroll from two folders: rc %d, stderr %q", rc, stderr)
	}

	table := filepath.Join(dir, "table.md")
	rc, stdout, stderr := captureOutput(t, func() int {
		return runInspect([]string{"--bank", bank, filepath.Join(data, "test"), "--table", table})
	})
	if rc != 0 {
		t.Fatalf("inspect --table: rc %d, stderr %q", rc, stderr)
	}
	var sam, base []float64
	var logical []bool
	var structural []float64 // SAM-LAD scores of the good and structural images, for the second row
	var structLabels []bool
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var r inspectLine
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.Baseline == nil {
			t.Fatalf("line %q: %v, baseline %v", l, err, r.Baseline)
		}
		typ := labelOf(r.Path)
		if typ != "scratch" {
			sam, base, logical = append(sam, float64(r.Score)), append(base, *r.Baseline), append(logical, typ != "good")
		}
		if typ == "good" || typ == "scratch" {
			structural, structLabels = append(structural, float64(r.Score)), append(structLabels, typ == "scratch")
		}
	}
	md, err := os.ReadFile(table)
	if err != nil {
		t.Fatal(err)
	}
	want := func(scores []float64, labels []bool) string {
		a, err := metrics.AUROC(scores, labels)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%.1f", 100*a)
	}
	logicalRow := fmt.Sprintf("| **logical** | 4 | %s | %s |", want(sam, logical), want(base, logical))
	structRow := fmt.Sprintf("| **structural** | 2 | %s |", want(structural, structLabels))
	for _, row := range []string{logicalRow, structRow, "| missing (logical) | 2 |", "| scratch (structural) | 2 |"} {
		if !strings.Contains(string(md), row) {
			t.Errorf("table lacks %q:\n%s", row, md)
		}
	}

	// Images without labels cannot make a table: said, with exit code 1.
	rc, _, stderr = captureOutput(t, func() int {
		return runInspect([]string{"--bank", bank, filepath.Join(data, "test", "extra"), "--table", "-"})
	})
	if rc != 1 || !strings.Contains(stderr, `0 in a folder named "good"`) {
		t.Errorf("unlabelled images: rc %d, stderr %q", rc, stderr)
	}
}

// inspect --objects: one panel per image, the query beside its nearest
// reference (found under --refs), both at twice the input size, the title in
// the verdict's colour, matched objects boxed in the same colour on both
// sides.
func TestInspectObjects(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "box")
	writeScenes(t, data, scenes.Box, 5, 1, 112, scenes.Extra)
	cfg := filepath.Join(dir, "line.toml")
	os.WriteFile(cfg, []byte("[pipeline]\ninput_size = 112\nupsample = 2\nk = 2\n"), 0o644)
	bank := filepath.Join(dir, "line.bank")
	good := filepath.Join(data, "train", "good")
	if rc, _, stderr := captureOutput(t, func() int { return runEnroll([]string{"--config", cfg, "--good", good, "--out", bank}) }); rc != 0 {
		t.Fatalf("enroll: %d %s", rc, stderr)
	}
	objs := filepath.Join(dir, "objects")
	rc, stdout, stderr := captureOutput(t, func() int {
		return runInspect([]string{"--bank", bank, "--objects", objs, "--refs", good, filepath.Join(data, "test")})
	})
	if rc != 0 {
		t.Fatalf("inspect: %d %s", rc, stderr)
	}
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var r inspectLine
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(filepath.Dir(r.Path)) + "_" + strings.TrimSuffix(filepath.Base(r.Path), ".png") + ".objects.png"
		img := decodePNG(t, filepath.Join(objs, name))
		if w := img.Bounds().Dx(); w != 2*2*112+8 {
			t.Errorf("%s: width %d, want two panels of 224 and a gap", name, w)
		}
		want := heatmap.PassColour
		if r.Verdict == "fail" {
			want = heatmap.FailColour
		}
		if c := color.RGBAModel.Convert(img.At(img.Bounds().Max.X-1, 0)); c != want {
			t.Errorf("%s: title %v, want %v for %s", name, c, want, r.Verdict)
		}
		// The first matched pair's colour on both sides; the reference image
		// itself (not the blank canvas) on the right.
		left, right := 0, 0
		for y := 0; y < img.Bounds().Dy(); y++ {
			for x := 0; x < img.Bounds().Dx(); x++ {
				if color.RGBAModel.Convert(img.At(x, y)) == heatmap.PairColour(0) {
					if x < 224 {
						left++
					} else {
						right++
					}
				}
			}
		}
		if left == 0 || right == 0 {
			t.Errorf("%s: first matched pair drawn %d times left, %d right", name, left, right)
		}
		if c := color.RGBAModel.Convert(img.At(224+8+112, 19+112)); c == (color.RGBA{0x40, 0x40, 0x40, 0xff}) {
			t.Errorf("%s: the reference panel is blank though --refs names its folder", name)
		}
	}
}

// An inspect line keeps its field order and writes a score that is not a
// number as null, as the verdict message does, instead of failing to encode.
func TestInspectLineNonFinite(t *testing.T) {
	b, err := json.Marshal(inspectLine{Path: "a.png", Score: finiteOr(math.NaN()), Threshold: 2, Verdict: "error", Reason: "inspect: engine returned score NaN", Findings: []actuate.Finding{}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"path":"a.png","score":null,"threshold":2,"verdict":"error","reason":"inspect: engine returned score NaN",`; !strings.HasPrefix(string(b), want) {
		t.Errorf("line %s, want it to begin %s", b, want)
	}
}

// A bank that aligns frames says in each inspect line how far the frame
// was moved, in the frame's pixels; one that does not leaves it out.
func TestInspectAlignment(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "blister")
	writeScenes(t, data, scenes.Blister, 6, 1, 160, scenes.Missing)
	imgs, _ := filepath.Glob(filepath.Join(data, "test", "*", "*.png"))
	for _, reg := range []string{"on", "off"} {
		cfg := filepath.Join(dir, reg+".toml")
		os.WriteFile(cfg, []byte("[pipeline]\ninput_size = 112\nupsample = 4\nk = 2\nregister = \""+reg+"\"\n"), 0o644)
		bank := filepath.Join(dir, reg+".bank")
		if rc, _, stderr := captureOutput(t, func() int {
			return runEnroll([]string{"--config", cfg, "--good", filepath.Join(data, "train", "good"), "--out", bank})
		}); rc != 0 || !strings.Contains(stderr, "registration: ") {
			t.Fatalf("enroll with register = %q: rc %d, stderr %q", reg, rc, stderr)
		}
		rc, stdout, stderr := captureOutput(t, func() int { return runInspect(append([]string{"--bank", bank}, imgs...)) })
		if rc != 0 {
			t.Fatalf("inspect: rc %d, stderr %q", rc, stderr)
		}
		for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
			var r inspectLine
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatal(err)
			}
			switch a := r.Alignment; {
			case reg == "off" && a != nil:
				t.Errorf("register off: line %q has an alignment", l)
			case reg == "on" && (a == nil || a.Failed != "" || math.Abs(a.DX) > 160 || math.Abs(a.DY) > 160):
				t.Errorf("register on: line %q, alignment %+v", l, a)
			}
		}
	}
}
