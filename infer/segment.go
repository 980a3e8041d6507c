package infer

import "fmt"

// segment is step 4: the segmenter's masks with the area filter.
func segment(be *Backend, frame, img *Image, minArea, maxArea float64, maxObjects int) ([]Mask, error) {
	masks, err := SegmentFrame(be.Segmenter, frame, img)
	if err != nil {
		return nil, fmt.Errorf("segmentation: %w", err)
	}
	return filterMasks(masks, img.W*img.H, minArea, maxArea, maxObjects), nil
}
