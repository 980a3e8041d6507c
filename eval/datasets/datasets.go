// Package datasets reads the directory layouts of the public anomaly
// detection benchmarks: MVTec AD and MVTec LOCO AD (and the generated data
// sets written in the same layouts).
//
//	MVTec AD:   <cat>/train/good/*.png
//	            <cat>/test/<type>/*.png          (type "good" or a defect)
//	            <cat>/ground_truth/<type>/<name>_mask.png
//	MVTec LOCO: <cat>/train/good, <cat>/validation/good
//	            <cat>/test/{good,logical_anomalies,structural_anomalies}/*.png
//	            <cat>/ground_truth/<type>/<name>/*.png   (one PNG per defect)
//	            <cat>/defects_config.json
package datasets

import (
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // MVTec-style folders may hold JPEGs
	"image/png"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Layout is a data-set directory layout.
type Layout string

const (
	MVTecAD Layout = "mvtec"
	LOCO    Layout = "loco"
)

// GoodType is the type folder of defect-free images.
const GoodType = "good"

// LOCO test types.
const (
	LogicalType    = "logical_anomalies"
	StructuralType = "structural_anomalies"
)

// Sample is one image of a category.
type Sample struct {
	Path  string   // image file
	Split string   // train, validation or test
	Type  string   // "good", an MVTec AD defect type, or a LOCO test type
	Name  string   // file name without extension, e.g. "007"
	Masks []string // ground-truth PNGs: one for MVTec AD, one per defect for LOCO; none when good
}

// Good reports whether the sample is defect-free.
func (s Sample) Good() bool { return s.Type == GoodType }

// Category is one object or texture class with its splits.
type Category struct {
	Name       string
	Root       string
	Layout     Layout
	Train      []Sample
	Validation []Sample // LOCO only
	Test       []Sample
	Defects    DefectsConfig // LOCO only
}

// Types lists the distinct test types, "good" first.
func (c *Category) Types() []string {
	seen := map[string]bool{}
	out := []string{GoodType}
	for _, s := range c.Test {
		if !seen[s.Type] && s.Type != GoodType {
			seen[s.Type] = true
			out = append(out, s.Type)
		}
	}
	sort.Strings(out[1:])
	return out
}

// Categories returns the category folders under root, or root itself when
// it is a category (it has a train folder).
func Categories(root string) ([]string, error) {
	if isDir(filepath.Join(root, "train")) {
		return []string{root}, nil
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("data set root: %w", err)
	}
	var out []string
	for _, e := range ents {
		if p := filepath.Join(root, e.Name()); e.IsDir() && isDir(filepath.Join(p, "train")) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("data set root %s: no category folder with a train/ directory inside", root)
	}
	return out, nil
}

// Read reads a category in the given layout.
func Read(root string, l Layout) (*Category, error) {
	switch l {
	case MVTecAD:
		return ReadMVTecAD(root)
	case LOCO:
		return ReadLOCO(root)
	}
	return nil, fmt.Errorf("layout %q: want %q or %q", l, MVTecAD, LOCO)
}

// ReadMVTecAD reads one MVTec AD category folder.
func ReadMVTecAD(root string) (*Category, error) {
	c := &Category{Name: filepath.Base(root), Root: root, Layout: MVTecAD}
	var err error
	if c.Train, err = images(root, "train", GoodType); err != nil {
		return nil, err
	}
	types, err := subdirs(root, "test")
	if err != nil {
		return nil, err
	}
	for _, t := range types {
		ss, err := images(root, "test", t)
		if err != nil {
			return nil, err
		}
		if t != GoodType {
			for i := range ss {
				m := filepath.Join(root, "ground_truth", t, ss[i].Name+"_mask.png")
				if !isFile(m) {
					return nil, fmt.Errorf("MVTec AD category %s: ground truth %s for %s not found", c.Name, m, ss[i].Path)
				}
				ss[i].Masks = []string{m}
			}
		}
		c.Test = append(c.Test, ss...)
	}
	return c, nil
}

// ReadLOCO reads one MVTec LOCO AD category folder.
func ReadLOCO(root string) (*Category, error) {
	c := &Category{Name: filepath.Base(root), Root: root, Layout: LOCO}
	var err error
	if c.Defects, err = ReadDefectsConfig(filepath.Join(root, "defects_config.json")); err != nil {
		return nil, fmt.Errorf("MVTec LOCO category %s: %w", c.Name, err)
	}
	if c.Train, err = images(root, "train", GoodType); err != nil {
		return nil, err
	}
	if c.Validation, err = images(root, "validation", GoodType); err != nil {
		return nil, err
	}
	for _, t := range []string{GoodType, LogicalType, StructuralType} {
		ss, err := images(root, "test", t)
		if err != nil {
			return nil, err
		}
		if t != GoodType {
			for i := range ss {
				dir := filepath.Join(root, "ground_truth", t, ss[i].Name)
				ms, _ := filepath.Glob(filepath.Join(dir, "*.png"))
				if len(ms) == 0 {
					return nil, fmt.Errorf("MVTec LOCO category %s: no ground-truth PNG in %s for %s", c.Name, dir, ss[i].Path)
				}
				sort.Strings(ms)
				ss[i].Masks = ms
			}
		}
		c.Test = append(c.Test, ss...)
	}
	return c, nil
}

var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true}

// images lists root/split/typ, sorted, and fails with the missing path.
func images(root, split, typ string) ([]Sample, error) {
	dir := filepath.Join(root, split, typ)
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("data set %s: missing directory %s", root, dir)
		}
		return nil, fmt.Errorf("data set %s: %w", root, err)
	}
	var out []Sample
	for _, e := range ents {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || !imageExts[ext] || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		out = append(out, Sample{Path: filepath.Join(dir, e.Name()), Split: split, Type: typ,
			Name: strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("data set %s: no images in %s", root, dir)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func subdirs(root, split string) ([]string, error) {
	dir := filepath.Join(root, split)
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("data set %s: missing directory %s", root, dir)
		}
		return nil, fmt.Errorf("data set %s: %w", root, err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("data set %s: no type folders in %s", root, dir)
	}
	return out, nil
}

func isDir(p string) bool  { st, err := os.Stat(p); return err == nil && st.IsDir() }
func isFile(p string) bool { st, err := os.Stat(p); return err == nil && st.Mode().IsRegular() }

// Region is one ground-truth defect region with its sPRO saturation area.
type Region struct {
	Mask       []bool // row-major, W x H
	Area       int
	Saturation float64
	Defect     string // defect name (LOCO) or the MVTec AD defect type
}

// GroundTruth is the ground truth of one test image.
type GroundTruth struct {
	W, H    int
	Regions []Region
}

// Union returns the pixels inside any region.
func (g GroundTruth) Union() []bool {
	u := make([]bool, g.W*g.H)
	for _, r := range g.Regions {
		for i, in := range r.Mask {
			u[i] = u[i] || in
		}
	}
	return u
}

// ReadGroundTruth reads a test sample's ground truth; a good sample has
// none (nil regions) and needs the image size from the caller.
//
// LOCO: each PNG is one defect, as the official evaluation reads it: its
// non-zero pixels must share one value, which names the defect in
// defects_config.json and gives its saturation.
// MVTec AD: each 8-connected component of the mask is one region, with
// saturation equal to its area, so sPRO reduces to the PRO overlap.
func (c *Category) ReadGroundTruth(s Sample) (GroundTruth, error) {
	var gt GroundTruth
	for _, m := range s.Masks {
		g, err := readGray(m)
		if err != nil {
			return gt, err
		}
		w, h := g.Rect.Dx(), g.Rect.Dy()
		if gt.W == 0 {
			gt.W, gt.H = w, h
		} else if w != gt.W || h != gt.H {
			return gt, fmt.Errorf("ground truth %s is %dx%d, the other masks of %s are %dx%d", m, w, h, s.Path, gt.W, gt.H)
		}
		switch c.Layout {
		case LOCO:
			r, err := c.locoRegion(m, g)
			if err != nil {
				return gt, err
			}
			gt.Regions = append(gt.Regions, r)
		default:
			gt.Regions = append(gt.Regions, components(g, s.Type)...)
		}
	}
	return gt, nil
}

func (c *Category) locoRegion(path string, g *image.Gray) (Region, error) {
	r := Region{Mask: make([]bool, len(g.Pix))}
	value := 0
	for i, v := range g.Pix {
		if v == 0 {
			continue
		}
		if value != 0 && int(v) != value {
			return r, fmt.Errorf("ground truth %s: pixel values %d and %d in one defect PNG; want a single value", path, value, v)
		}
		value = int(v)
		r.Mask[i] = true
		r.Area++
	}
	if r.Area == 0 {
		return r, fmt.Errorf("ground truth %s: empty defect PNG", path)
	}
	d, ok := c.Defects.ByPixelValue(value)
	if !ok {
		return r, fmt.Errorf("ground truth %s: pixel value %d is not in defects_config.json", path, value)
	}
	r.Defect, r.Saturation = d.Name, d.SaturationArea(r.Area)
	if r.Saturation <= 0 {
		return r, fmt.Errorf("ground truth %s: defect %q of %d pixels saturates at %g pixels; fix its saturation_threshold", path, d.Name, r.Area, r.Saturation)
	}
	return r, nil
}

// components splits a binary mask into 8-connected regions.
func components(g *image.Gray, name string) []Region {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	label := make([]int32, w*h)
	var out []Region
	var stack []int
	for start, v := range g.Pix {
		if v == 0 || label[start] != 0 {
			continue
		}
		r := Region{Mask: make([]bool, w*h), Defect: name}
		id := int32(len(out) + 1)
		label[start] = id
		stack = append(stack[:0], start)
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			r.Mask[p] = true
			r.Area++
			x, y := p%w, p/w
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					nx, ny := x+dx, y+dy
					if nx < 0 || ny < 0 || nx >= w || ny >= h {
						continue
					}
					q := ny*w + nx
					if g.Pix[q] != 0 && label[q] == 0 {
						label[q] = id
						stack = append(stack, q)
					}
				}
			}
		}
		r.Saturation = float64(r.Area)
		out = append(out, r)
	}
	return out
}

// readGray decodes a mask PNG into 8-bit gray with exact values.
func readGray(path string) (*image.Gray, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read ground truth: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decode ground truth %s: %w", path, err)
	}
	if g, ok := img.(*image.Gray); ok && g.Rect.Min == (image.Point{}) && g.Stride == g.Rect.Dx() {
		return g, nil
	}
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			g.Set(x, y, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return g, nil
}
