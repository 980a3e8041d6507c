package scenes

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"path/filepath"

	"github.com/samlad/samlad/eval/internal/splitfile"
)

// SampleAnomalies returns the logical and the structural anomaly a kind's
// sample sheet shows: its last logical type (the one most its own) and its
// first structural type.
func SampleAnomalies(k Kind) (Anomaly, Anomaly) {
	var lg, st Anomaly
	for _, a := range Anomalies(k) {
		if a.Logical() {
			lg = a
		} else if st == "" {
			st = a
		}
	}
	return lg, st
}

// SampleSheet renders a kind's sample sheet: on top a good scene, a
// logical and a structural anomaly as the camera sees them; below, the
// good scene's per-part truth (each part in its own colour) and the two
// anomalies with their ground truth outlined in red.
func SampleSheet(k Kind, seed int64, size int) (*image.RGBA, error) {
	lg, st := SampleAnomalies(k)
	var scs []Scene
	for _, a := range []Anomaly{Good, lg, st} {
		sc, _, err := generateImage(k, seed, "sample", a, 0, size)
		if err != nil {
			return nil, err
		}
		scs = append(scs, sc)
	}
	gap := 4
	out := image.NewRGBA(image.Rect(0, 0, 3*size+2*gap, 2*size+gap))
	draw.Draw(out, out.Rect, image.NewUniform(color.White), image.Point{}, draw.Src)
	for i, sc := range scs {
		x0 := i * (size + gap)
		draw.Draw(out, image.Rect(x0, 0, x0+size, size), sc.Image, image.Point{}, draw.Src)
		low := image.Rect(x0, size+gap, x0+size, 2*size+gap)
		if i == 0 {
			draw.Draw(out, low, partsView(sc), image.Point{}, draw.Src)
			continue
		}
		draw.Draw(out, low, outlined(sc), image.Point{}, draw.Src)
	}
	return out, nil
}

// partsView paints each part's truth mask in its own colour over a dimmed
// image.
func partsView(sc Scene) *image.RGBA {
	img := image.NewRGBA(sc.Image.Rect)
	for i := 0; i < len(img.Pix); i += 4 {
		for k := range 3 {
			img.Pix[i+k] = sc.Image.Pix[i+k] / 3 &^ 3
		}
		img.Pix[i+3] = 255
	}
	b := sc.Labels.Rect
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			l := sc.Labels.Gray16At(x, y).Y
			if l == 0 {
				continue
			}
			h := hash2(int64(l), 17)
			c := color.RGBA{uint8(120 + 120*abs(h)), uint8(120 + 120*abs(hash2(int64(l), 29))), uint8(120 + 120*abs(hash2(int64(l), 31))), 255}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// outlined draws the ground truth's outline in red over the image, dimmed
// (which also keeps the sheet's PNG small).
func outlined(sc Scene) *image.RGBA {
	img := image.NewRGBA(sc.Image.Rect)
	for i := 0; i < len(img.Pix); i += 4 {
		for k := range 3 {
			img.Pix[i+k] = sc.Image.Pix[i+k] / 2 &^ 3
		}
		img.Pix[i+3] = 255
	}
	b := sc.GT.Rect
	in := func(x, y int) bool { return image.Pt(x, y).In(b) && sc.GT.GrayAt(x, y).Y != 0 }
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if in(x, y) && (!in(x-1, y) || !in(x+1, y) || !in(x, y-1) || !in(x, y+1)) {
				img.SetRGBA(x, y, color.RGBA{255, 0, 0, 255})
			}
		}
	}
	return img
}

// WriteSamples writes one sample sheet per kind, <dir>/<kind>.png.
func WriteSamples(dir string, seed int64, size int) ([]string, error) {
	var files []string
	for _, k := range AllKinds() {
		img, err := SampleSheet(k, seed, size)
		if err != nil {
			return files, fmt.Errorf("sample %s: %w", k, err)
		}
		f := filepath.Join(dir, string(k)+".png")
		if err := splitfile.WritePNG(f, img); err != nil {
			return files, err
		}
		files = append(files, f)
	}
	return files, nil
}
