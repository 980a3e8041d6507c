package infer

import "image"

// FromImage converts img to the engine's planar RGB form, resized to
// size x size with bilinear interpolation (area-averaged when shrinking by
// more than 2x, so thin parts are not aliased away). size <= 0 keeps the size.
func FromImage(img image.Image, size int) *Image {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	src := &Image{W: sw, H: sh, Pix: make([]float32, 3*sw*sh)}
	n := sw * sh
	if rgba, ok := img.(*image.RGBA); ok {
		// Camera frames arrive as RGBA: read the bytes, not one interface
		// call per pixel (same values as At: v*257/65535).
		for y := 0; y < sh; y++ {
			row := rgba.Pix[(b.Min.Y+y-rgba.Rect.Min.Y)*rgba.Stride+(b.Min.X-rgba.Rect.Min.X)*4:]
			for x := 0; x < sw; x++ {
				i, p := y*sw+x, row[4*x:4*x+3]
				src.Pix[i] = float32(uint32(p[0])*257) / 65535
				src.Pix[n+i] = float32(uint32(p[1])*257) / 65535
				src.Pix[2*n+i] = float32(uint32(p[2])*257) / 65535
			}
		}
	} else {
		fromImageAt(img, src)
	}
	if size <= 0 || (sw == size && sh == size) {
		return src
	}
	return Resize(src, size, size)
}

// fromImageAt fills src from any image through At.
func fromImageAt(img image.Image, src *Image) {
	b := img.Bounds()
	sw, sh, n := src.W, src.H, src.W*src.H
	for y := 0; y < sh; y++ {
		for x := 0; x < sw; x++ {
			r, g, bb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			i := y*sw + x
			src.Pix[i] = float32(r) / 65535
			src.Pix[n+i] = float32(g) / 65535
			src.Pix[2*n+i] = float32(bb) / 65535
		}
	}
}

// Resize returns img resampled to w x h. Shrinking averages over the source
// footprint of each output pixel; enlarging interpolates bilinearly.
func Resize(img *Image, w, h int) *Image {
	out := &Image{W: w, H: h, Pix: make([]float32, 3*w*h)}
	if img.W == 0 || img.H == 0 {
		return out
	}
	sx := float64(img.W) / float64(w)
	sy := float64(img.H) / float64(h)
	sn, dn := img.W*img.H, w*h
	for c := 0; c < 3; c++ {
		src := img.Pix[c*sn : (c+1)*sn]
		dst := out.Pix[c*dn : (c+1)*dn]
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				dst[y*w+x] = sample(src, img.W, img.H, x, y, sx, sy)
			}
		}
	}
	return out
}

// sample computes one output pixel: a box average over the source footprint
// when shrinking, a bilinear tap otherwise.
func sample(src []float32, sw, sh, x, y int, sx, sy float64) float32 {
	if sx > 1.5 || sy > 1.5 {
		x0, x1 := int(float64(x)*sx), int(float64(x+1)*sx+0.999)
		y0, y1 := int(float64(y)*sy), int(float64(y+1)*sy+0.999)
		x1, y1 = min(max(x1, x0+1), sw), min(max(y1, y0+1), sh)
		var s float32
		for yy := y0; yy < y1; yy++ {
			for xx := x0; xx < x1; xx++ {
				s += src[yy*sw+xx]
			}
		}
		return s / float32((x1-x0)*(y1-y0))
	}
	fx := (float64(x)+0.5)*sx - 0.5
	fy := (float64(y)+0.5)*sy - 0.5
	return Bilinear(src, sw, sh, fx, fy)
}

// Bilinear reads plane p (w x h) at a fractional position, clamping at edges.
func Bilinear(p []float32, w, h int, fx, fy float64) float32 {
	fx = min(max(fx, 0), float64(w-1))
	fy = min(max(fy, 0), float64(h-1))
	x0, y0 := int(fx), int(fy)
	x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
	ax, ay := float32(fx-float64(x0)), float32(fy-float64(y0))
	top := p[y0*w+x0]*(1-ax) + p[y0*w+x1]*ax
	bot := p[y1*w+x0]*(1-ax) + p[y1*w+x1]*ax
	return top*(1-ay) + bot*ay
}

// ToRGBA renders the planar image back to 8-bit RGBA.
func (img *Image) ToRGBA() *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, img.W, img.H))
	n := img.W * img.H
	for i := 0; i < n; i++ {
		out.Pix[4*i] = to8(img.Pix[i])
		out.Pix[4*i+1] = to8(img.Pix[n+i])
		out.Pix[4*i+2] = to8(img.Pix[2*n+i])
		out.Pix[4*i+3] = 255
	}
	return out
}

func to8(v float32) uint8 {
	return uint8(min(max(v, 0), 1)*255 + 0.5)
}

// quantize stores an image as 8-bit planar values (bank storage).
func quantize(img *Image) []uint8 {
	q := make([]uint8, len(img.Pix))
	for i, v := range img.Pix {
		q[i] = to8(v)
	}
	return q
}

// dequantize is the inverse of quantize.
func dequantize(q []uint8, w, h int) *Image {
	return dequantizeInto(&Image{}, q, w, h)
}

// dequantizeInto is dequantize reusing img's pixel storage.
func dequantizeInto(img *Image, q []uint8, w, h int) *Image {
	if cap(img.Pix) < len(q) {
		img.Pix = make([]float32, len(q))
	}
	img.W, img.H, img.Pix = w, h, img.Pix[:len(q)]
	for i, v := range q {
		img.Pix[i] = float32(v) / 255
	}
	return img
}
