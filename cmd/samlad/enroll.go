package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/samlad/samlad/capture"
	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/backends"
)

// runEnroll builds a bank from a folder of good images.
func runEnroll(args []string) int {
	fs := flag.NewFlagSet("enroll", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file (TOML); default: built-in defaults")
	var goodDirs folderList
	fs.Var(&goodDirs, "good", "folder of good images (PNG, JPEG, BMP, TIFF, WebP); give it again for more folders (MVTec LOCO: train/good and validation/good)")
	out := fs.String("out", "", "bank file to write")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: samlad enroll [--config FILE] --good DIR [--good DIR...] --out FILE.bank")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if len(goodDirs) == 0 || *out == "" {
		fmt.Fprintln(os.Stderr, "samlad enroll: --good DIR and --out FILE are required")
		return 2
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "samlad enroll: %v\n", err)
		return 1
	}
	var paths []string
	for _, dir := range goodDirs {
		ps, err := imagesIn(dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "samlad enroll: %v\n", err)
			return 1
		}
		paths = append(paths, ps...)
	}
	if len(paths) == 0 {
		fmt.Fprintf(os.Stderr, "samlad enroll: no images in %s (looked for %s); enrolment needs at least %d good images for k = %d\n",
			goodDirs.String(), strings.Join(capture.ImageExtensions(), " "), infer.MinGoodImages(cfg.Pipeline.K), cfg.Pipeline.K)
		return 1
	}
	be, err := backends.Open(cfg.Runtime, cfg.Models, cfg.Pipeline)
	if err != nil {
		fmt.Fprintf(os.Stderr, "samlad enroll: %v\n", err)
		return 1
	}
	defer be.Close()
	rd := newImageReader(cfg.Pipeline.InputSize)
	var good []*infer.Image
	var names []string
	bar := newProgress(os.Stderr)
	bar.AddTotal(len(paths))
	bar.Label("read good images")
	for _, p := range paths {
		img, _, err := rd.read(p)
		bar.Step()
		if err != nil {
			continue
		}
		good = append(good, img)
		if len(goodDirs) > 1 {
			names = append(names, p) // base names repeat across folders
		} else {
			names = append(names, filepath.Base(p))
		}
	}
	bar.Done()
	if bar != nil {
		// Enrolment is one call with no steps to count; say what it does.
		fmt.Fprintf(os.Stderr, "enrolling %d good images: features, calibration, self-check...\n", len(good))
	}
	start := time.Now()
	bank, err := infer.Enroll(context.Background(), be.Backend, cfg.Pipeline, good, names)
	if err != nil {
		fmt.Fprintf(os.Stderr, "samlad enroll: %s: %v\n", goodDirs.String(), err)
		return 1
	}
	if err := bank.Save(*out); err != nil {
		fmt.Fprintf(os.Stderr, "samlad enroll: %v\n", err)
		return 1
	}
	c := bank.Calib
	fmt.Fprintf(os.Stderr, "enrolled %d good images in %.1fs -> %s\n  dustbin %.3f, match threshold %.3f, area %.4f..%.4f, threshold %.3f (false-reject rate %g%%: %d of %d good images score above)\n",
		len(bank.Refs), time.Since(start).Seconds(), *out, c.Dustbin, c.MatchThreshold, c.MinArea, c.MaxArea, c.Threshold,
		100*cfg.Pipeline.FalseRejectRate, c.GoodAbove, len(c.LOOScores))
	fmt.Fprintf(os.Stderr, "learned from the good images:\n  %s\n", strings.ReplaceAll(bank.Rules.String(), "\n", "\n  "))
	if bank.SelfCheck != nil {
		fmt.Fprintf(os.Stderr, "%s\n", bank.SelfCheck)
	}
	return rd.exitCode()
}

// folderList is a flag given once per folder.
type folderList []string

func (l *folderList) String() string { return strings.Join(*l, ", ") }

func (l *folderList) Set(dir string) error {
	*l = append(*l, dir)
	return nil
}

// loadConfig reads a config file, or returns the defaults for "".
func loadConfig(path string) (config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}

// imagesIn lists the image files of a folder, sorted by name.
func imagesIn(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("good folder: %w", err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && capture.IsImageFile(e.Name()) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// imageReader decodes image files for the engine, reports unreadable ones
// by name, and says once when sizes differ from the input size.
type imageReader struct {
	size     int
	failed   int
	resized  int
	saidOnce bool
}

func newImageReader(size int) *imageReader { return &imageReader{size: size} }

// read returns the engine image and the decoded original.
func (r *imageReader) read(path string) (*infer.Image, image.Image, error) {
	data, err := os.ReadFile(path)
	if err == nil && len(data) == 0 {
		err = errors.New("file is empty")
	}
	var img image.Image
	if err == nil {
		img, err = capture.DecodeImage(data)
	}
	if err != nil {
		r.failed++
		fmt.Fprintf(os.Stderr, "skip %s: %v\n", path, err)
		return nil, nil, err
	}
	b := img.Bounds()
	if (b.Dx() != r.size || b.Dy() != r.size) && !r.saidOnce {
		r.saidOnce = true
		fmt.Fprintf(os.Stderr, "note: images are resized to the input size %dx%d (first: %s is %dx%d)\n", r.size, r.size, path, b.Dx(), b.Dy())
	}
	return infer.FromImage(img, r.size), img, nil
}

// exitCode is 1 when any image was skipped, with the count on stderr.
func (r *imageReader) exitCode() int {
	if r.failed > 0 {
		fmt.Fprintf(os.Stderr, "%d image(s) could not be read and were skipped\n", r.failed)
		return 1
	}
	return 0
}
