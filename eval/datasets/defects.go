package datasets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
)

// DefectConfig is one entry of an MVTec LOCO AD defects_config.json: the
// pixel value that marks a defect type in the ground-truth PNGs and the area
// at which its sPRO saturates.
type DefectConfig struct {
	Name       string `json:"defect_name"`
	PixelValue int    `json:"pixel_value"`
	// SaturationThreshold is a fraction of the defect area in (0,1] when
	// RelativeSaturation is set, else an absolute number of pixels.
	SaturationThreshold float64 `json:"saturation_threshold"`
	RelativeSaturation  bool    `json:"relative_saturation"`
}

// MarshalJSON writes a relative threshold with a decimal point and an
// absolute one as an integer: the official evaluation checks those types.
func (d DefectConfig) MarshalJSON() ([]byte, error) {
	thr := strconv.FormatInt(int64(math.Round(d.SaturationThreshold)), 10)
	if d.RelativeSaturation {
		thr = strconv.FormatFloat(d.SaturationThreshold, 'f', -1, 64)
		if !bytes.ContainsAny([]byte(thr), ".e") {
			thr += ".0"
		}
	}
	name, err := json.Marshal(d.Name)
	if err != nil {
		return nil, err
	}
	return fmt.Appendf(nil, `{"defect_name": %s, "pixel_value": %d, "saturation_threshold": %s, "relative_saturation": %t}`,
		name, d.PixelValue, thr, d.RelativeSaturation), nil
}

// SaturationArea is the overlap, in pixels, at which a defect region of the
// given area counts as fully detected. It follows the official evaluation:
// relative: floor(threshold * area); absolute: min(threshold, area).
func (d DefectConfig) SaturationArea(defectArea int) float64 {
	if d.RelativeSaturation {
		return math.Floor(d.SaturationThreshold * float64(defectArea))
	}
	return math.Min(d.SaturationThreshold, float64(defectArea))
}

// Validate checks one entry the way the official evaluation asserts it.
func (d DefectConfig) Validate() error {
	if d.PixelValue < 1 || d.PixelValue > 255 {
		return fmt.Errorf("defect %q: pixel_value %d must be in 1..255", d.Name, d.PixelValue)
	}
	if d.RelativeSaturation && (d.SaturationThreshold <= 0 || d.SaturationThreshold > 1) {
		return fmt.Errorf("defect %q: relative saturation_threshold %g must be in (0,1]", d.Name, d.SaturationThreshold)
	}
	if !d.RelativeSaturation && (d.SaturationThreshold < 1 || d.SaturationThreshold != math.Trunc(d.SaturationThreshold)) {
		return fmt.Errorf("defect %q: absolute saturation_threshold %g must be a positive whole number of pixels", d.Name, d.SaturationThreshold)
	}
	return nil
}

// DefectsConfig maps ground-truth pixel values to defect types.
type DefectsConfig []DefectConfig

// ByPixelValue returns the entry for a ground-truth pixel value.
func (c DefectsConfig) ByPixelValue(v int) (DefectConfig, bool) {
	for _, d := range c {
		if d.PixelValue == v {
			return d, true
		}
	}
	return DefectConfig{}, false
}

// ReadDefectsConfig reads and validates a defects_config.json.
func ReadDefectsConfig(path string) (DefectsConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read defects config: %w", err)
	}
	var c DefectsConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("parse defects config %s: %w", path, err)
	}
	seen := map[int]string{}
	for _, d := range c {
		if err := d.Validate(); err != nil {
			return nil, fmt.Errorf("defects config %s: %w", path, err)
		}
		if prev, dup := seen[d.PixelValue]; dup {
			return nil, fmt.Errorf("defects config %s: pixel_value %d used by both %q and %q", path, d.PixelValue, prev, d.Name)
		}
		seen[d.PixelValue] = d.Name
	}
	return c, nil
}

// WriteDefectsConfig writes a defects_config.json in the official format.
func WriteDefectsConfig(path string, c DefectsConfig) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode defects config: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write defects config: %w", err)
	}
	return nil
}
