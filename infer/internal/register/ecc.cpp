#include "ecc.h"

#include <cstring>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

// gocv's FindTransformECC lets cv::Exception cross into Go, which aborts
// the process; an inspection frame that does not correlate with the
// template (a hand in view, a covered lens) must fail this call instead.
static void copyError(const std::exception& e, char* err, int errlen) {
    if (errlen <= 0) return;
    std::strncpy(err, e.what(), errlen - 1);
    err[errlen - 1] = 0;
}

double samlad_ecc(const float* tmpl, const float* img, int w, int h, int levels, int finest, int iters, double eps, float* warp, char* err, int errlen) {
    try {
        std::vector<cv::Mat> t(1, cv::Mat(h, w, CV_32F, const_cast<float*>(tmpl)));
        std::vector<cv::Mat> m(1, cv::Mat(h, w, CV_32F, const_cast<float*>(img)));
        for (int l = 1; l < levels; l++) {
            cv::Mat tt, mm;
            cv::pyrDown(t.back(), tt);
            cv::pyrDown(m.back(), mm);
            t.push_back(tt);
            m.push_back(mm);
        }
        cv::Mat W(2, 3, CV_32F, warp);
        int top = (int)t.size() - 1;
        float scale = (float)(1 << top);
        W.at<float>(0, 2) /= scale;
        W.at<float>(1, 2) /= scale;
        double rho = 0;
        cv::TermCriteria crit(cv::TermCriteria::COUNT + cv::TermCriteria::EPS, iters, eps);
        for (int l = top; l >= finest; l--) {
            rho = cv::findTransformECC(t[l], m[l], W, cv::MOTION_EUCLIDEAN, crit, cv::noArray(), 5);
            if (l > finest) {
                W.at<float>(0, 2) *= 2;
                W.at<float>(1, 2) *= 2;
            }
        }
        W.at<float>(0, 2) *= (float)(1 << finest);
        W.at<float>(1, 2) *= (float)(1 << finest);
        return rho;
    } catch (const std::exception& e) {
        copyError(e, err, errlen);
        return -2;
    }
}

int samlad_warp(const float* src, float* dst, int w, int h, const float* warp, int keep, char* err, int errlen) {
    try {
        cv::Mat s(h, w, CV_32F, const_cast<float*>(src)), d(h, w, CV_32F, dst);
        cv::Mat W(2, 3, CV_32F, const_cast<float*>(warp));
        cv::warpAffine(s, d, W, d.size(), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, keep ? cv::BORDER_TRANSPARENT : cv::BORDER_REPLICATE);
        return 0;
    } catch (const std::exception& e) {
        copyError(e, err, errlen);
        return -1;
    }
}
