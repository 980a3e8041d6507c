package main

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/samlad/samlad/config/atomicfile"
)

// frameSaver writes collected frames as PNG files into one folder:
// <prefix>-<seq>-<UTC time>[-<part id>].png, seq counting on from the
// highest one of that prefix already in the folder. Each file is written
// to a hidden temporary, synced, and linked to its name, which fails
// rather than replaces an existing file; the folder is synced after. A
// crash leaves either the whole file or a hidden .tmp that enrolment and a
// folder camera skip.
type frameSaver struct {
	dir    string
	prefix string
	seq    int
	enc    png.Encoder
}

// newFrameSaver creates dir when needed and finds where the numbering
// goes on.
func newFrameSaver(dir, prefix string) (*frameSaver, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--out %s: %w", dir, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("--out %s: %w", dir, err)
	}
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `-(\d+)-`)
	s := &frameSaver{dir: dir, prefix: prefix, enc: png.Encoder{CompressionLevel: png.BestSpeed}}
	for _, e := range ents {
		if m := re.FindStringSubmatch(e.Name()); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n > s.seq {
				s.seq = n
			}
		}
	}
	return s, nil
}

// partIDChars are the characters of a part id kept in a file name.
var partIDChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// name is the file name of frame seq taken at t.
func (s *frameSaver) name(seq int, t time.Time, partID string) string {
	n := fmt.Sprintf("%s-%06d-%s", s.prefix, seq, t.UTC().Format("20060102T150405.000Z"))
	if id := strings.Trim(partIDChars.ReplaceAllString(partID, "_"), "_."); id != "" {
		n += "-" + id
	}
	return n + ".png"
}

// save writes img and returns its path.
func (s *frameSaver) save(img image.Image, t time.Time, partID string) (string, error) {
	tmp, err := os.CreateTemp(s.dir, ".collect-*.tmp")
	if err != nil {
		return "", fmt.Errorf("save frame: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 1<<20)
	err = tmp.Chmod(0o644) // CreateTemp makes it private; these are plain images
	if err == nil {
		err = s.enc.Encode(w, img)
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("save frame: %w", err)
	}
	for range 1000 {
		s.seq++
		path := filepath.Join(s.dir, s.name(s.seq, t, partID))
		err := os.Link(tmp.Name(), path)
		if errors.Is(err, fs.ErrExist) {
			continue // another writer took this number: never replace a file
		}
		if err != nil {
			// A file system without hard links (FAT on a USB stick):
			// rename, after checking that the name is free.
			if _, serr := os.Lstat(path); serr == nil {
				continue
			}
			if err = os.Rename(tmp.Name(), path); err != nil {
				return "", fmt.Errorf("save frame %s: %w", path, err)
			}
		}
		if err := atomicfile.SyncDir(s.dir); err != nil {
			return "", fmt.Errorf("save frame %s: %w", path, err)
		}
		return path, nil
	}
	return "", fmt.Errorf("save frame: no free name after %s-%06d in %s", s.prefix, s.seq, s.dir)
}
