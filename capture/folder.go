package capture

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/samlad/samlad/config"
)

// imageExtensions are the file kinds a replayed folder serves (and
// enrolment reads); other files (notes, checksums) are skipped.
var imageExtensions = []string{".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp"}

// IsImageFile reports whether name has an image file extension.
func IsImageFile(name string) bool {
	return slices.Contains(imageExtensions, strings.ToLower(filepath.Ext(name)))
}

// ImageExtensions lists the image file extensions, sorted.
func ImageExtensions() []string { return slices.Clone(imageExtensions) }

// folder replays the images of a directory in name order, as a camera.
type folder struct {
	cfg   config.Camera
	files []string
	next  int
	data  []byte
	path  string
}

func openFolder(cfg config.Camera) (*folder, error) {
	f := &folder{cfg: cfg}
	if err := f.list(); err != nil {
		return nil, err
	}
	return f, nil
}

// list reads the folder again, so images added between passes are served.
func (f *folder) list() error {
	entries, err := os.ReadDir(f.cfg.Folder)
	if err != nil {
		return fmt.Errorf("image folder: %w", err)
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !IsImageFile(name) {
			continue
		}
		files = append(files, filepath.Join(f.cfg.Folder, name))
	}
	if len(files) == 0 {
		return fmt.Errorf("image folder %s holds no .png, .jpg, .bmp, .tif or .webp files", f.cfg.Folder)
	}
	sort.Strings(files)
	f.files, f.next = files, 0
	return nil
}

func (f *folder) grab() (string, error) {
	if f.next == len(f.files) {
		if !f.cfg.Loop {
			return "", errEnd
		}
		if err := f.list(); err != nil {
			return "", err
		}
	}
	f.path = f.files[f.next]
	f.next++
	var err error
	f.data, err = os.ReadFile(f.path)
	if err != nil {
		f.data = nil
		return f.path, badf("read %s: %w", f.path, err)
	}
	return f.path, nil
}

func (f *folder) image() (*image.RGBA, error) {
	img, err := DecodeImage(f.data)
	f.data = nil
	if err != nil {
		return nil, badf("decode %s: %w", f.path, err)
	}
	if err := checkSize(f.cfg, f.path, img.Rect.Dx(), img.Rect.Dy()); err != nil {
		return nil, err
	}
	return img, nil
}

func (f *folder) live() bool { return false }
func (f *folder) close()     {}
