// Package register aligns an image onto a template with OpenCV's enhanced
// correlation coefficient (cv::findTransformECC), Euclidean motion: a
// shift and a rotation, coarse to fine. ECC is invariant to gain and
// offset, so lighting drift does not steer it.
//
// It calls OpenCV through a small C++ shim rather than gocv's
// FindTransformECC, because gocv lets OpenCV's exception for images that
// do not correlate abort the process; here it is an error.
package register

/*
#cgo !windows pkg-config: opencv4
#cgo CXXFLAGS: -std=c++11
#include <stdlib.h>
#include "ecc.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// Warp maps template coordinates to image coordinates, x' = A x + t,
// row-major: A00 A01 t0 A10 A11 t1.
type Warp [6]float32

// Identity leaves an image where it is.
var Identity = Warp{1, 0, 0, 0, 1, 0}

// Shift is the translation in pixels.
func (w Warp) Shift() (dx, dy float64) { return float64(w[2]), float64(w[5]) }

// Degrees is the rotation.
func (w Warp) Degrees() float64 { return math.Atan2(float64(w[3]), float64(w[0])) * 180 / math.Pi }

// Inverse is the warp back: image coordinates to template coordinates.
func (w Warp) Inverse() Warp {
	det := w[0]*w[4] - w[1]*w[3]
	a00, a01, a10, a11 := w[4]/det, -w[1]/det, -w[3]/det, w[0]/det
	return Warp{a00, a01, -(a00*w[2] + a01*w[5]), a10, a11, -(a10*w[2] + a11*w[5])}
}

// Point maps template coordinates (x, y) to image coordinates.
func (w Warp) Point(x, y float64) (float64, float64) {
	return float64(w[0])*x + float64(w[1])*y + float64(w[2]), float64(w[3])*x + float64(w[4])*y + float64(w[5])
}

// Scaled is the same motion for the images resampled by sx across and sy
// down (a frame whose resized view w was estimated on).
func (w Warp) Scaled(sx, sy float64) Warp {
	return Warp{
		w[0], w[1] * float32(sx/sy), w[2] * float32(sx),
		w[3] * float32(sy/sx), w[4], w[5] * float32(sy),
	}
}

// Settings of the search.
const (
	levels = 3    // pyramid levels: the coarsest reaches farther shifts
	finest = 1    // half size is enough for a sub-pixel estimate, at a tenth of the cost
	iters  = 50   // ECC iterations per level
	eps    = 1e-4 // ECC convergence on the correlation's change
)

// Estimate returns the warp that aligns img onto tmpl (both w x h gray,
// row-major, the same size) and the ECC correlation it reached. It fails
// when OpenCV does not converge, e.g. on images that do not correlate.
func Estimate(tmpl, img []float32, w, h int) (Warp, float64, error) {
	return estimate(tmpl, img, w, h, levels, finest, iters, eps)
}

func estimate(tmpl, img []float32, w, h, levels, finest, iters int, eps float64) (Warp, float64, error) {
	if w < 16 || h < 16 || len(tmpl) != w*h || len(img) != w*h {
		return Identity, 0, fmt.Errorf("register: images of %d and %d values for %dx%d", len(tmpl), len(img), w, h)
	}
	wp := Identity
	var msg [256]C.char
	rho := C.samlad_ecc((*C.float)(unsafe.Pointer(&tmpl[0])), (*C.float)(unsafe.Pointer(&img[0])), C.int(w), C.int(h),
		C.int(levels), C.int(finest), C.int(iters), C.double(eps), (*C.float)(unsafe.Pointer(&wp[0])), &msg[0], C.int(len(msg)))
	if rho < -1 {
		return Identity, 0, errors.New("register: " + C.GoString(&msg[0]))
	}
	return wp, float64(rho), nil
}

// Apply resamples each w x h plane of src (planes back to back) onto the
// template grid through wp into dst, bilinear. Where src has no pixels
// (the camera did not see that part of the template) dst takes fill's
// when fill is given, else src's nearest edge pixel.
func Apply(dst, src []float32, w, h int, wp Warp, fill []float32) error {
	n := w * h
	if n == 0 || len(src)%n != 0 || len(dst) != len(src) || fill != nil && len(fill) != len(src) {
		return fmt.Errorf("register: %d source, %d destination and %d fill values for %dx%d planes", len(src), len(dst), len(fill), w, h)
	}
	keep := 0
	if fill != nil {
		copy(dst, fill)
		keep = 1
	}
	var msg [256]C.char
	for o := 0; o < len(src); o += n {
		if C.samlad_warp((*C.float)(unsafe.Pointer(&src[o])), (*C.float)(unsafe.Pointer(&dst[o])), C.int(w), C.int(h),
			(*C.float)(unsafe.Pointer(&wp[0])), C.int(keep), &msg[0], C.int(len(msg))) != 0 {
			return errors.New("register: " + C.GoString(&msg[0]))
		}
	}
	return nil
}
