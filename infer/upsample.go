package infer

import (
	"errors"
	"fmt"

	"github.com/samlad/samlad/infer/internal/workpool"
)

// objectMaps is steps 5 and 6: the query's and the k references' features
// upsampled (1 + k calls, in parallel), each laid out with its image's
// object labels, so that an object's feature map is its labelled pixels.
// Later steps read features only inside objects (the query's own and the
// references' partners), so an upsampler that can (MaskedHWCUpsampler)
// computes each map only there and leaves zeros elsewhere.
func (e *Engine) objectMaps(img *Image, f *FeatureMap, qLabels []uint16, qObjects []Object, refIdx []int, b *buffers) (*view, []*view, error) {
	views := b.viewPtr[:len(refIdx)+1]
	workpool.Each(len(views), e.pr.workers, func(i int) {
		src, fm, labels := img, f, qLabels
		if i > 0 {
			ref := &e.bank.Refs[refIdx[i-1]]
			src, fm, labels = dequantizeInto(&b.refImgs[i-1], ref.RGB, ref.Size, ref.Size), &ref.Feat, ref.Labels
		}
		b.objMask[i] = objectMask(b.objMask[i], labels)
		b.errs[i] = upsampleViewInto(views[i], e.be, src, fm, e.p.Upsample, b.hwc[i], b.objMask[i])
		b.hwc[i] = views[i].Feat
	})
	if err := errors.Join(b.errs[:len(views)]...); err != nil {
		return nil, nil, err
	}
	q, refs := views[0], views[1:]
	if mw, mh := f.W*e.p.Upsample, f.H*e.p.Upsample; q.W != mw || q.H != mh {
		return nil, nil, fmt.Errorf("inspect: upsampled query is %dx%d, want %dx%d", q.W, q.H, mw, mh)
	}
	q.Labels, q.Objects = qLabels, qObjects
	for i, r := range refs {
		ref := &e.bank.Refs[refIdx[i]]
		if r.W != ref.MapW || r.H != ref.MapH {
			return nil, nil, fmt.Errorf("inspect: upsampled reference %s is %dx%d, bank says %dx%d", ref.Name, r.W, r.H, ref.MapW, ref.MapH)
		}
		r.Labels, r.Objects = ref.Labels, ref.Objects
	}
	return q, refs, nil
}

// upsampleView upsamples f guided by img and lays it out pixel-major in buf.
func upsampleView(be *Backend, img *Image, f *FeatureMap, factor int, buf []float32) (*view, error) {
	v := &view{}
	if err := upsampleViewInto(v, be, img, f, factor, buf, nil); err != nil {
		return nil, err
	}
	return v, nil
}

// upsampleViewInto is upsampleView writing into dst. A non-nil mask (on
// the output grid) lets a MaskedHWCUpsampler compute only where it is 1.
func upsampleViewInto(dst *view, be *Backend, img *Image, f *FeatureMap, factor int, buf []float32, mask []uint8) error {
	mu, masked := be.Upsampler.(MaskedHWCUpsampler)
	hu, hwc := be.Upsampler.(HWCUpsampler)
	if (masked && mask != nil) || hwc {
		var out []float32
		var err error
		if masked && mask != nil {
			out, err = mu.UpsampleHWCMasked(buf, img, f, factor, mask)
		} else {
			out, err = hu.UpsampleHWC(buf, img, f, factor)
		}
		if err != nil {
			return fmt.Errorf("upsampling: %w", err)
		}
		w, h := f.W*factor, f.H*factor
		if len(out) != w*h*f.C {
			return errors.New("upsampling: backend returned a malformed feature map")
		}
		*dst = view{W: w, H: h, C: f.C, Feat: out}
		return nil
	}
	u, err := be.Upsampler.Upsample(img, f, factor)
	if err != nil {
		return fmt.Errorf("upsampling: %w", err)
	}
	if u == nil || u.C != f.C || u.H <= 0 || u.W <= 0 || len(u.Data) != u.C*u.H*u.W {
		return errors.New("upsampling: backend returned a malformed feature map")
	}
	*dst = view{W: u.W, H: u.H, C: u.C, Feat: toHWC(u, buf)}
	return nil
}

// objectMask sets dst (reused) to 1 where labels is an object, else 0.
func objectMask(dst []uint8, labels []uint16) []uint8 {
	if cap(dst) < len(labels) {
		dst = make([]uint8, len(labels))
	}
	dst = dst[:len(labels)]
	for i, l := range labels {
		dst[i] = 0
		if l != 0 {
			dst[i] = 1
		}
	}
	return dst
}
