// Package tiff writes and reads single-channel float32 TIFF images, the
// format the official MVTec LOCO AD evaluation reads anomaly maps from.
// golang.org/x/image/tiff cannot write float samples, so this is a minimal
// baseline TIFF: little-endian, uncompressed, one strip, one sample of
// 32-bit IEEE float per pixel (SampleFormat 3).
package tiff

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
)

// TIFF tags used here.
const (
	tagImageWidth      = 256
	tagImageLength     = 257
	tagBitsPerSample   = 258
	tagCompression     = 259
	tagPhotometric     = 262
	tagStripOffsets    = 273
	tagSamplesPerPixel = 277
	tagRowsPerStrip    = 278
	tagStripByteCounts = 279
	tagPlanarConfig    = 284
	tagSampleFormat    = 339
)

// Field types.
const (
	typeShort = 3
	typeLong  = 4
)

const headerSize = 8

// Encode writes a w x h float32 map (row-major) as a TIFF.
func Encode(out io.Writer, w, h int, data []float32) error {
	if w <= 0 || h <= 0 || len(data) != w*h {
		return fmt.Errorf("tiff: %d values for a %dx%d image", len(data), w, h)
	}
	n := uint32(w * h * 4)
	if uint64(w)*uint64(h)*4 > math.MaxUint32-4096 {
		return fmt.Errorf("tiff: %dx%d float32 image exceeds 4 GiB", w, h)
	}
	// Layout: header, pixel strip, IFD (word-aligned since the strip is 4n).
	ifdOff := uint32(headerSize) + n
	type entry struct {
		tag, typ uint16
		val      uint32
	}
	entries := []entry{ // ascending tag order, as TIFF requires
		{tagImageWidth, typeLong, uint32(w)},
		{tagImageLength, typeLong, uint32(h)},
		{tagBitsPerSample, typeShort, 32},
		{tagCompression, typeShort, 1},
		{tagPhotometric, typeShort, 1}, // BlackIsZero
		{tagStripOffsets, typeLong, headerSize},
		{tagSamplesPerPixel, typeShort, 1},
		{tagRowsPerStrip, typeLong, uint32(h)},
		{tagStripByteCounts, typeLong, n},
		{tagPlanarConfig, typeShort, 1},
		{tagSampleFormat, typeShort, 3}, // IEEE float
	}
	var b bytes.Buffer
	b.Grow(int(ifdOff) + 2 + 12*len(entries) + 4)
	le := binary.LittleEndian
	b.Write([]byte{'I', 'I', 42, 0})
	b.Write(le.AppendUint32(nil, ifdOff))
	buf := make([]byte, 4*len(data))
	for i, v := range data {
		le.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	b.Write(buf)
	b.Write(le.AppendUint16(nil, uint16(len(entries))))
	for _, e := range entries {
		b.Write(le.AppendUint16(nil, e.tag))
		b.Write(le.AppendUint16(nil, e.typ))
		b.Write(le.AppendUint32(nil, 1))
		if e.typ == typeShort { // left-justified in the 4-byte value field
			b.Write(le.AppendUint16(nil, uint16(e.val)))
			b.Write([]byte{0, 0})
		} else {
			b.Write(le.AppendUint32(nil, e.val))
		}
	}
	b.Write([]byte{0, 0, 0, 0}) // no next IFD
	_, err := out.Write(b.Bytes())
	return err
}

// WriteFile writes the map to path, creating its directory.
func WriteFile(path string, w, h int, data []float32) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write map %s: %w", path, err)
	}
	var b bytes.Buffer
	if err := Encode(&b, w, h, data); err != nil {
		return fmt.Errorf("write map %s: %w", path, err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write map %s: %w", path, err)
	}
	return nil
}

// Decode reads a single-channel float32 TIFF in either byte order, with any
// number of uncompressed strips: enough to read back what Encode writes and
// what common tools (tifffile, libtiff) write for such maps.
func Decode(b []byte) (w, h int, data []float32, err error) {
	if len(b) < headerSize {
		return 0, 0, nil, errors.New("tiff: file too short")
	}
	var bo binary.ByteOrder
	switch string(b[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0, 0, nil, errors.New("tiff: bad byte-order mark")
	}
	if bo.Uint16(b[2:]) != 42 {
		return 0, 0, nil, errors.New("tiff: not a classic TIFF (magic 42)")
	}
	off := int(bo.Uint32(b[4:]))
	if off+2 > len(b) || off < headerSize {
		return 0, 0, nil, errors.New("tiff: IFD offset out of range")
	}
	cnt := int(bo.Uint16(b[off:]))
	if off+2+12*cnt > len(b) {
		return 0, 0, nil, errors.New("tiff: IFD truncated")
	}
	tags := map[uint16][]uint32{}
	for i := range cnt {
		e := b[off+2+12*i:]
		tag, typ, n := bo.Uint16(e), bo.Uint16(e[2:]), int(bo.Uint32(e[4:]))
		size := 2
		if typ == typeLong {
			size = 4
		} else if typ != typeShort {
			continue // tags this reader does not need
		}
		src := e[8:12]
		if n*size > 4 {
			p := int(bo.Uint32(e[8:]))
			if p < 0 || p+n*size > len(b) {
				return 0, 0, nil, fmt.Errorf("tiff: tag %d values out of range", tag)
			}
			src = b[p : p+n*size]
		}
		vals := make([]uint32, n)
		for j := range vals {
			if size == 2 {
				vals[j] = uint32(bo.Uint16(src[2*j:]))
			} else {
				vals[j] = bo.Uint32(src[4*j:])
			}
		}
		tags[tag] = vals
	}
	one := func(tag uint16, def uint32) uint32 {
		if v, ok := tags[tag]; ok && len(v) > 0 {
			return v[0]
		}
		return def
	}
	w, h = int(one(tagImageWidth, 0)), int(one(tagImageLength, 0))
	switch {
	case w <= 0 || h <= 0:
		return 0, 0, nil, errors.New("tiff: missing image size")
	case one(tagBitsPerSample, 1) != 32 || one(tagSampleFormat, 1) != 3:
		return 0, 0, nil, errors.New("tiff: not 32-bit float samples")
	case one(tagSamplesPerPixel, 1) != 1:
		return 0, 0, nil, errors.New("tiff: more than one sample per pixel")
	case one(tagCompression, 1) != 1:
		return 0, 0, nil, errors.New("tiff: compressed data is not supported")
	}
	offs, counts := tags[tagStripOffsets], tags[tagStripByteCounts]
	if len(offs) == 0 || len(offs) != len(counts) {
		return 0, 0, nil, errors.New("tiff: bad strip tables")
	}
	raw := make([]byte, 0, 4*w*h)
	for i, o := range offs {
		if int(o)+int(counts[i]) > len(b) {
			return 0, 0, nil, errors.New("tiff: strip out of range")
		}
		raw = append(raw, b[o:o+counts[i]]...)
	}
	if len(raw) < 4*w*h {
		return 0, 0, nil, fmt.Errorf("tiff: %d bytes of pixels for a %dx%d float32 image", len(raw), w, h)
	}
	data = make([]float32, w*h)
	for i := range data {
		data[i] = math.Float32frombits(bo.Uint32(raw[4*i:]))
	}
	return w, h, data, nil
}
