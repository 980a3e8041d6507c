package infer

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"image"
	"io"
	"os"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/config/atomicfile"
	"github.com/samlad/samlad/infer/internal/register"
)

// BankVersion is the bank file format version. Bump it whenever Bank, the
// object data or the meaning of the calibration changes.
const BankVersion = 13

// bankMagic starts every bank file.
var bankMagic = [8]byte{'S', 'A', 'M', 'L', 'A', 'D', 'B', 'K'}

// Bank is the enrolled knowledge of one product: the good reference images
// with their features, objects and descriptors, and the calibration.
type Bank struct {
	Version     int
	Backend     string
	Fingerprint string
	// Config is the part of the pipeline config the bank's contents and its
	// calibration depend on.
	Config BankConfig
	// Norm standardises backbone channels: (f - Mean[c]) * InvStd[c].
	Norm ChannelNorm
	// DescMean is the mean raw object descriptor of the good images,
	// subtracted before matching (see finishDesc).
	DescMean []float32
	Refs     []Reference
	Calib    Calibration
	// Layout holds the layout step's descriptors and calibration (layout.go);
	// nil when pipeline.layout is off.
	Layout *LayoutBank
	// Rules are what enrolment learned about the product (rules.go).
	Rules Rules
	// SelfCheck is the enrolment self-check on synthetic anomalies and the
	// term weights it learned (selfcheck.go).
	SelfCheck *SelfCheck
	// Patch is the patch-memory term's coreset and calibration (patchmem.go).
	Patch *PatchMemory
	// Composition is the composition term's words and calibration
	// (composition.go); nil when pipeline.composition_words is 0.
	Composition *Composition
	// Photometric is the good images' lighting every image is matched to
	// (photometric.go); nil when pipeline.photometric is off.
	Photometric *Photometric
	// Registration is the template every image is aligned to
	// (register.go); nil when pipeline.register is off.
	Registration *Registration
}

// BankConfig holds the pipeline keys a bank is bound to. Inspecting with a
// config that differs in any of them needs a new enrolment.
type BankConfig struct {
	InputSize        int            `toml:"input_size"`
	K                int            `toml:"k"`
	Upsample         int            `toml:"upsample"`
	Upsampler        string         `toml:"upsampler"`
	Descriptor       string         `toml:"descriptor"`
	DCGAPooling      string         `toml:"dcga_pooling"`
	PositionWeight   float64        `toml:"position_weight"`
	Mode             string         `toml:"mode"`
	Align            string         `toml:"align"`
	Epsilon          float64        `toml:"epsilon"`
	SinkhornIters    int            `toml:"sinkhorn_iters"`
	MatchTemperature float64        `toml:"match_temperature"`
	MinArea          float64        `toml:"min_area"`
	MaxArea          float64        `toml:"max_area"`
	MaxObjects       int            `toml:"max_objects"`
	Score            string         `toml:"score"`
	StructuralWeight float64        `toml:"structural_weight"`
	LogicalWeight    float64        `toml:"logical_weight"`
	Coreset          int            `toml:"coreset"`
	Photometric      bool           `toml:"photometric"`
	Register         config.Switch  `toml:"register"`
	CompositionWords int            `toml:"composition_words"`
	Segment          config.Segment `toml:"segment"`
	Layout           config.Layout  `toml:"layout"`
}

func bankConfigOf(p config.Pipeline) BankConfig {
	return BankConfig{
		InputSize: p.InputSize, K: p.K, Upsample: p.Upsample, Upsampler: p.Upsampler,
		Descriptor: p.Descriptor, DCGAPooling: p.DCGAPooling, PositionWeight: p.PositionWeight,
		Mode: p.Mode, Align: p.Align, Epsilon: p.Epsilon, SinkhornIters: p.SinkhornIters,
		MatchTemperature: p.MatchTemperature, MinArea: p.MinArea, MaxArea: p.MaxArea,
		MaxObjects: p.MaxObjects, Score: p.Score, Coreset: p.Coreset, Photometric: p.Photometric, Register: p.Register, Segment: p.Segment, CompositionWords: p.CompositionWords,
		StructuralWeight: p.StructuralWeight, LogicalWeight: p.LogicalWeight, Layout: layoutKey(p.Layout),
	}
}

// ChannelNorm is a per-channel affine standardisation.
type ChannelNorm struct {
	Mean, InvStd []float32
}

// Reference is one enrolled good image.
type Reference struct {
	Name string
	// RGB is the input_size x input_size image, planar 8-bit; it guides the
	// upsampling of Feat when this reference is used for a query.
	RGB  []uint8
	Size int
	// Feat is the standardised low-resolution backbone feature map.
	Feat FeatureMap
	// Global is the retrieval vector (2x2-pooled flattened Feat).
	Global []float32
	// Labels is the object label map on the MapW x MapH grid: 0 is
	// background, i+1 is Objects[i].
	MapW, MapH int
	Labels     []uint16
	Objects    []Object
	// Warp takes the template's grid to this image's own as the camera
	// took it (pipeline.register); the identity when off.
	Warp register.Warp
}

// Object is one segmented object on the map grid.
type Object struct {
	Box    image.Rectangle // map grid coordinates
	Area   int             // pixels on the map grid
	CX, CY float32         // centroid, map grid coordinates
	Desc   []float32       // L2-normalised descriptor (DCGA, GMP or GAP)
	// Weight is the object's stability: the fraction of other good images
	// in which it has a match (calibrate.go). Segments of background that
	// come and go between good images get a low weight and count little.
	Weight float32
	// StructScale is the object's typical structural value: the mean of
	// the maximum Mahalanobis distance of the good objects it was compared
	// with in leave-one-out (0 = never compared). A query object's
	// distances are divided by its partners' scale, so parts that vary
	// a lot between good images (soft shadows, background) do not drown
	// parts that never vary.
	StructScale float32
	// Reach is how far from its centroid, as a fraction of the image side,
	// the layout step looks for this part's like in a frame (rules.go).
	Reach float32
}

// Calibration holds the values learned from the good images by
// leave-one-out (see calibrate.go). Config values override them.
type Calibration struct {
	Dustbin        float64
	MatchThreshold float64
	MinArea        float64
	MaxArea        float64
	// Mean and spread of the leave-one-out structural (max of Mahalanobis
	// map) and logical (soft count of unmatched objects) image scores.
	StructMean, StructStd float64
	LogicMean, LogicStd   float64
	// StructScale is the fallback object scale (median of all objects').
	StructScale float64
	// Threshold is the pass/fail threshold (rule 7); GoodAbove is how many
	// good images' leave-one-out scores exceed it.
	Threshold float64
	GoodAbove int
	// FalseRejectRate is the pipeline.false_reject_rate Threshold was
	// fitted for at enrolment.
	FalseRejectRate float64
	// LOOScores are the good images' leave-one-out image scores.
	LOOScores []float64
	// LOOStruct and LOOLogic are the good images' leave-one-out raw
	// structural and logical values, from which the parts are standardised.
	LOOStruct, LOOLogic []float64
}

// Save writes the bank atomically: magic, version, payload length, SHA-256
// of the payload, then the gob payload.
func (b *Bank) Save(path string) error {
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(b); err != nil {
		return fmt.Errorf("save bank %s: encode: %w", path, err)
	}
	sum := sha256.Sum256(payload.Bytes())
	// A power cut leaves the old bank or the whole new one.
	err := atomicfile.Write(path, 0o600, func(w io.Writer) error {
		w.Write(bankMagic[:])
		binary.Write(w, binary.LittleEndian, uint32(BankVersion))
		binary.Write(w, binary.LittleEndian, uint64(payload.Len()))
		w.Write(sum[:])
		_, err := w.Write(payload.Bytes())
		return err
	})
	if err != nil {
		return fmt.Errorf("save bank %s: %w", path, err)
	}
	return nil
}

// LoadBank reads and verifies a bank file written by Save.
func LoadBank(path string) (*Bank, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load bank %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("load bank %s: %w", path, err)
	}
	b, err := readBank(bufio.NewReader(f), st.Size())
	if err != nil {
		return nil, fmt.Errorf("load bank %s: %w", path, err)
	}
	return b, nil
}

// readBank reads a bank of at most size bytes in all.
func readBank(r io.Reader, size int64) (*Bank, error) {
	var magic [8]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil || magic != bankMagic {
		return nil, errors.New("not a samlad bank file (bad magic); make one with `samlad enroll`")
	}
	var version uint32
	var n uint64
	var sum [32]byte
	if err := binary.Read(r, binary.LittleEndian, &version); err != nil {
		return nil, errors.New("truncated header")
	}
	if version != BankVersion {
		return nil, fmt.Errorf("bank format version %d, this samlad reads version %d; re-enrol with `samlad enroll`", version, BankVersion)
	}
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return nil, errors.New("truncated header")
	}
	if _, err := io.ReadFull(r, sum[:]); err != nil {
		return nil, errors.New("truncated header")
	}
	const header = 8 + 4 + 8 + 32
	if n > uint64(max(size-header, 0)) {
		return nil, fmt.Errorf("truncated: the header announces %d payload bytes, the file holds %d; re-enrol or copy the file again", n, max(size-header, 0))
	}
	// Exactly the payload's size: a growing buffer would copy a large
	// bank several times and double the memory peak of loading it.
	payload := make([]byte, n)
	if got, err := io.ReadFull(r, payload); err != nil {
		return nil, fmt.Errorf("truncated: %d of %d payload bytes; re-enrol or copy the file again", got, n)
	}
	buf := bytes.NewReader(payload)
	if sha256.Sum256(payload) != sum {
		return nil, errors.New("checksum mismatch: the file is corrupt; re-enrol or copy the file again")
	}
	var b Bank
	if err := gob.NewDecoder(buf).Decode(&b); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if err := b.validate(); err != nil {
		return nil, err
	}
	return &b, nil
}

// validate checks the internal consistency of a decoded bank, so that a
// well-checksummed but inconsistent file cannot make inspection panic.
func (b *Bank) validate() error {
	if b.Version != BankVersion {
		return fmt.Errorf("bank version %d, want %d", b.Version, BankVersion)
	}
	if len(b.Refs) == 0 {
		return errors.New("bank holds no reference images")
	}
	c := b.Refs[0].Feat.C
	if len(b.Norm.Mean) != c || len(b.Norm.InvStd) != c {
		return errors.New("bank channel normalisation does not match its features")
	}
	if len(b.Refs[0].Objects) > 0 && len(b.DescMean) == 0 {
		return errors.New("bank has no descriptor mean")
	}
	if err := b.Layout.validate(b.Refs); err != nil {
		return err
	}
	if err := b.Patch.validate(c, len(b.Refs)); err != nil {
		return err
	}
	if (b.Composition != nil) != (b.Config.CompositionWords > 0) {
		return errors.New("composition: the bank's words do not fit its pipeline.composition_words; re-enrol with `samlad enroll`")
	}
	if err := b.Composition.validate(c, b.Refs); err != nil {
		return err
	}
	if b.Config.Photometric && b.Photometric == nil {
		return errors.New("photometric: the bank was enrolled with pipeline.photometric but holds no median image; re-enrol with `samlad enroll`")
	}
	if err := b.Photometric.validate(b.Config.InputSize); err != nil {
		return err
	}
	if b.Registration != nil && b.Config.Register == config.Off || b.Registration == nil && b.Config.Register == config.On {
		return errors.New("register: the bank's template does not fit its pipeline.register; re-enrol with `samlad enroll`")
	}
	if err := b.Registration.validate(b.Config.InputSize); err != nil {
		return err
	}
	if sc := b.SelfCheck; sc != nil {
		for i, w := range sc.Weights {
			if !(w >= 0 && w <= 1) {
				return fmt.Errorf("self-check: weight of the %s term %g is not in [0, 1]; re-enrol with `samlad enroll`", TermNames[i], w)
			}
		}
	}
	for i := range b.Refs {
		r := &b.Refs[i]
		f := r.Feat
		if f.C != c || f.C*f.H*f.W != len(f.Data) || f.H <= 0 || f.W <= 0 {
			return fmt.Errorf("reference %d (%s): malformed feature map", i, r.Name)
		}
		if len(r.RGB) != 3*r.Size*r.Size || r.Size <= 0 {
			return fmt.Errorf("reference %d (%s): malformed image", i, r.Name)
		}
		if len(r.Labels) != r.MapW*r.MapH || r.MapW != b.Refs[0].MapW || r.MapH != b.Refs[0].MapH {
			return fmt.Errorf("reference %d (%s): malformed label map", i, r.Name)
		}
		if len(r.Global) != len(b.Refs[0].Global) {
			return fmt.Errorf("reference %d (%s): malformed global vector", i, r.Name)
		}
		grid := image.Rect(0, 0, r.MapW, r.MapH)
		for j, o := range r.Objects {
			if !o.Box.In(grid) || len(o.Desc) != len(r.Objects[0].Desc) {
				return fmt.Errorf("reference %d (%s): malformed object %d", i, r.Name, j)
			}
		}
		for _, l := range r.Labels {
			if int(l) > len(r.Objects) {
				return fmt.Errorf("reference %d (%s): label %d out of range", i, r.Name, l)
			}
		}
	}
	return nil
}

// CheckBank says whether bank can be used with backend be and pipeline p.
// The error names what differs and what to do.
func CheckBank(bank *Bank, be *Backend, p config.Pipeline) error {
	if bank == nil {
		return errors.New("bank is nil")
	}
	if be == nil {
		return errors.New("backend is nil")
	}
	if bank.Backend != be.Name {
		return fmt.Errorf("bank was enrolled with backend %q, the config selects %q; re-enrol with this backend or set pipeline.backend = %q", bank.Backend, be.Name, bank.Backend)
	}
	// The pipeline keys before the fingerprint: a segmenter key that
	// differs changes both, and the key is what the user can act on.
	if d := BankDiffs(bank, p); len(d) > 0 {
		return &BankMismatchError{Diffs: d}
	}
	if bank.Fingerprint != be.Fingerprint {
		return fmt.Errorf("bank was enrolled with backend %s fingerprint %q, this backend is %q (different models or parameters); re-enrol", be.Name, bank.Fingerprint, be.Fingerprint)
	}
	return nil
}

// Pipeline returns base with every key the bank is bound to set to its
// enrolled value (and the backend to the bank's), and the false-reject
// rate to the one enrolled with, so a bank can be used without its config
// file.
func (b *Bank) Pipeline(base config.Pipeline) config.Pipeline {
	c := b.Config
	base.Backend = b.Backend
	base.InputSize, base.K, base.Upsample, base.Upsampler = c.InputSize, c.K, c.Upsample, c.Upsampler
	base.Descriptor, base.DCGAPooling, base.PositionWeight = c.Descriptor, c.DCGAPooling, c.PositionWeight
	base.Mode, base.Align, base.Epsilon, base.SinkhornIters = c.Mode, c.Align, c.Epsilon, c.SinkhornIters
	base.MatchTemperature, base.MinArea, base.MaxArea, base.MaxObjects = c.MatchTemperature, c.MinArea, c.MaxArea, c.MaxObjects
	base.Score, base.Coreset, base.Segment = c.Score, c.Coreset, c.Segment
	base.Photometric, base.Register, base.CompositionWords = c.Photometric, c.Register, c.CompositionWords
	base.StructuralWeight, base.LogicalWeight = c.StructuralWeight, c.LogicalWeight
	base.Layout = c.Layout
	if b.Calib.FalseRejectRate > 0 {
		base.FalseRejectRate = b.Calib.FalseRejectRate
	}
	return base
}
