#ifndef SAMLAD_REGISTER_ECC_H
#define SAMLAD_REGISTER_ECC_H

#ifdef __cplusplus
extern "C" {
#endif

// samlad_ecc estimates the Euclidean warp taking tmpl's grid onto img
// (both w x h, 32-bit float, row-major), coarse to fine over levels
// pyramid levels down to level finest (0: the full size). warp holds the
// 2x3 start on entry and the result, at the full size, on exit. It returns the ECC correlation, or -2 with err filled when OpenCV
// raised an exception.
double samlad_ecc(const float* tmpl, const float* img, int w, int h, int levels, int finest, int iters, double eps, float* warp, char* err, int errlen);

// samlad_warp resamples one w x h float plane of src onto dst through
// warp (template grid to image grid), bilinear; where src has no pixels,
// dst keeps its own with keep set, else src's edges are replicated.
int samlad_warp(const float* src, float* dst, int w, int h, const float* warp, int keep, char* err, int errlen);

#ifdef __cplusplus
}
#endif

#endif
