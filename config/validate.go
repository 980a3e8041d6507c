package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// builtinStride is infer/builtin.FeatureStride: input pixels per feature cell
// of the built-in backend. A test keeps the two equal.
const builtinStride = 8

// Warnings returns the settings of a valid config that are allowed but risky
// (a fail-safe that passes parts, TLS checks off, ...), one line each. The
// daemon logs them at start; `samlad config check` prints them.
func Warnings(c Config) []string {
	_, warns := validate(c)
	return warns
}

// validate checks the values of a decoded config. Keys in the returned errors
// are key paths; the caller adds the file and line.
func validate(c Config) ([]*Error, []string) {
	v := &validator{}
	v.pipeline(c.Pipeline)
	v.models(c.Pipeline.Backend, c.Pipeline.Upsample, c.Models, c.Runtime)
	v.cameras(c.Cameras)
	v.mqtt(c.MQTT)
	v.actuate(c.Actuate)
	v.daemon(c.Daemon)
	v.archive(c.Archive)
	v.log(c.Log)
	return v.errs, v.warns
}

type validator struct {
	errs  []*Error
	warns []string
}

func (v *validator) bad(key string, val any, format string, args ...any) {
	v.errs = append(v.errs, &Error{Key: key, Value: goValue(val), Msg: fmt.Sprintf(format, args...)})
}

// badNear reports a missing key, located at the line of the key requiring it
// when the file has no line for the missing key's section either.
func (v *validator) badNear(key, near, msg string) {
	v.errs = append(v.errs, &Error{Key: key, Msg: msg, near: near})
}

func (v *validator) warn(key string, val any, format string, args ...any) {
	e := Error{Key: key, Value: goValue(val), Msg: fmt.Sprintf(format, args...)}
	v.warns = append(v.warns, strings.TrimPrefix(e.Error(), ": "))
}

func (v *validator) oneOf(key, got string, allowed ...string) bool {
	if slices.Contains(allowed, got) {
		return true
	}
	v.bad(key, got, "must be one of %s", strings.Join(allowed, ", "))
	return false
}

func (v *validator) intIn(key string, got, lo, hi int, why string) {
	if got < lo || got > hi {
		v.bad(key, got, "must be in [%d, %d]%s", lo, hi, why)
	}
}

func (v *validator) atLeast(key string, got, lo int, why string) {
	if got < lo {
		v.bad(key, got, "must be >= %d%s", lo, why)
	}
}

func (v *validator) unit(key string, got float64, why string) {
	if got < 0 || got > 1 {
		v.bad(key, got, "must be in [0, 1]%s", why)
	}
}

func (v *validator) positive(key string, got float64, why string) {
	if !(got > 0) {
		v.bad(key, got, "must be > 0%s", why)
	}
}

func (v *validator) positiveDuration(key string, got Duration) {
	if got <= 0 {
		v.bad(key, got, "must be a positive duration such as \"500ms\" or \"2s\"")
	}
}

func (v *validator) pipeline(p Pipeline) {
	const s = "pipeline."
	v.oneOf(s+"backend", p.Backend, "builtin", "onnx")
	v.intIn(s+"input_size", p.InputSize, 32, 2048, " pixels")
	if p.Backend == "builtin" && p.InputSize%builtinStride != 0 {
		v.bad(s+"input_size", p.InputSize, "must be a multiple of %d, the built-in backend's feature stride (e.g. %d)",
			builtinStride, max(builtinStride, (p.InputSize+builtinStride/2)/builtinStride*builtinStride))
	}
	v.intIn(s+"k", p.K, 1, 64, ": the number of nearest good references per query")
	factors := []int{1, 2, 4, 8}
	if p.Backend == "onnx" {
		factors = append(factors, 16) // FeatUp JBU goes to 16x
	}
	if !slices.Contains(factors, p.Upsample) {
		v.bad(s+"upsample", p.Upsample, "must be one of %s", joinInts(factors))
	}
	v.oneOf(s+"upsampler", p.Upsampler, "jbu", "bilinear")
	v.oneOf(s+"descriptor", p.Descriptor, "dcga", "gmp", "gap")
	v.oneOf(s+"dcga_pooling", p.DCGAPooling, "gmp", "gap")
	if p.PositionWeight < 0 {
		v.bad(s+"position_weight", p.PositionWeight, "must be >= 0 (0 = position ignored)")
	}
	v.oneOf(s+"mode", p.Mode, "full", "light")
	v.oneOf(s+"align", p.Align, "none", "centroid", "box", "nn")
	v.positive(s+"epsilon", p.Epsilon, ": it regularises the covariance (Sigma + eps*I)")
	v.intIn(s+"sinkhorn_iters", p.SinkhornIters, 1, 10000, "")
	v.positive(s+"match_temperature", p.MatchTemperature, ": it divides the cosine scores before Sinkhorn")
	if p.Dustbin < -1 || p.Dustbin > 1 {
		v.bad(s+"dustbin", p.Dustbin, "must be in [-1, 1]: it is a cosine similarity (0 = calibrated)")
	}
	v.unit(s+"match_threshold", p.MatchThreshold, " (0 = calibrated)")
	v.unit(s+"min_area", p.MinArea, " as a fraction of the image area (0 = calibrated)")
	v.unit(s+"max_area", p.MaxArea, " as a fraction of the image area (0 = calibrated)")
	if p.MinArea > 0 && p.MaxArea > 0 && p.MinArea >= p.MaxArea {
		v.bad(s+"max_area", p.MaxArea, "must be greater than pipeline.min_area = %s", goValue(p.MinArea))
	}
	v.intIn(s+"max_objects", p.MaxObjects, 1, 1024, "")
	if p.Threshold < 0 {
		v.bad(s+"threshold", p.Threshold, "must be >= 0 (0 = calibrated)")
	}
	if p.FalseRejectRate <= 0 || p.FalseRejectRate >= 0.5 {
		v.bad(s+"false_reject_rate", p.FalseRejectRate, "must be in (0, 0.5): the share of good parts the threshold may reject, e.g. 0.01")
	}
	v.positive(s+"threshold_margin", p.ThresholdMargin, " (1.0 = the calibrated threshold as is)")
	v.oneOf(s+"score", p.Score, "max", "topk")
	for _, w := range []struct {
		key string
		val float64
	}{{"structural_weight", p.StructuralWeight}, {"logical_weight", p.LogicalWeight}, {"patch_weight", p.PatchWeight}, {"place_weight", p.PlaceWeight}, {"composition_weight", p.CompositionWeight}} {
		if w.val < 0 || w.val > 100 {
			v.bad(s+w.key, w.val, "must be in [0, 100] (0 ignores that part of the score)")
		}
	}
	if p.StructuralWeight == 0 && p.LogicalWeight == 0 && p.PatchWeight == 0 {
		v.bad(s+"patch_weight", p.PatchWeight, "structural_weight, logical_weight and patch_weight are all 0: nothing would be scored")
	}
	if p.CompositionWords != 0 {
		v.intIn(s+"composition_words", p.CompositionWords, 2, 256, " (0 leaves the composition term out)")
	}
	v.oneOf(s+"fusion", p.Fusion, "max", "sum")
	if p.Coreset != 0 && p.Coreset < p.K+1 {
		v.bad(s+"coreset", p.Coreset, "must be 0 (keep all) or at least k+1 = %d: calibration leaves one reference out", p.K+1)
	}
	v.atLeast(s+"workers", p.Workers, 0, " (0 = one per CPU)")
	v.positive(s+"segment.scale", p.Segment.Scale, "")
	if p.Segment.Sigma < 0 {
		v.bad(s+"segment.sigma", p.Segment.Sigma, "must be >= 0 (0 = no smoothing)")
	}
	v.atLeast(s+"segment.min_size", p.Segment.MinSize, 1, " pixels")
	if c := p.Segment.MergeColour; c < 0 || c > 442 { // 442 ~ the RGB cube's diagonal
		v.bad(s+"segment.merge_colour", c, "must be in [0, 442] (RGB distance, 0 = off)")
	}
	if r := p.Segment.RefSize; r != 0 && (r < 16 || r > 4096) {
		v.bad(s+"segment.ref_size", r, "must be 0 (use scale and min_size as given) or in [16, 4096] pixels")
	}
	v.oneOf(s+"register", string(p.Register), string(Auto), string(On), string(Off))
	if l := p.Layout; l.Enabled {
		if l.Refs < 0 {
			v.bad(s+"layout.refs", l.Refs, "must be >= 0 (0 = every reference in the bank)")
		}
		if !(l.Radius >= 0 && l.Radius <= 1) {
			v.bad(s+"layout.radius", l.Radius, "must be in [0, 1] (fraction of the image side; 0 = learned per part at enrolment)")
		}
		v.oneOf(s+"layout.group", string(l.Group), string(Auto), string(On), string(Off))
		v.oneOf(s+"layout.mirror", string(l.Mirror), string(Auto), string(On), string(Off))
		if l.Grid < 1 || l.Grid > 8 {
			v.bad(s+"layout.grid", l.Grid, "must be in [1, 8] cells per side")
		}
		if !(l.ObjectWeight >= 0 && l.ObjectWeight <= 10) {
			v.bad(s+"layout.object_weight", l.ObjectWeight, "must be in [0, 10] (0 = no object term)")
		}
		if !(l.MissingWeight >= 0 && l.MissingWeight <= 10) {
			v.bad(s+"layout.missing_weight", l.MissingWeight, "must be in [0, 10] (0 = no missing term)")
		}
		if !(l.ExcessWeight >= 0 && l.ExcessWeight <= 10) {
			v.bad(s+"layout.excess_weight", l.ExcessWeight, "must be in [0, 10] (0 = no excess term)")
		}
		if l.ObjectWeight == 0 && l.MissingWeight == 0 && l.ExcessWeight == 0 {
			v.bad(s+"layout.object_weight", l.ObjectWeight, "object_weight, missing_weight and excess_weight are all 0: the layout step would score nothing; give one a weight or set enabled = false")
		}
	}
}

var shapeRe = regexp.MustCompile(`^[^:\s]+:[1-9][0-9]*(x[1-9][0-9]*)*(,[1-9][0-9]*(x[1-9][0-9]*)*)*$`)

func (v *validator) models(backend string, upsample int, m Models, r Runtime) {
	if backend == "onnx" && upsample == 16 && m.Upsampler == "" {
		v.badNear("models.upsampler", "pipeline.upsample", "required with pipeline.upsample = 16: the built-in JBU goes to 8x, FeatUp to 16x")
	}
	if m.FeatureSource != "" {
		v.oneOf("models.feature_source", m.FeatureSource, "dinov2", "sam", "builtin")
	}
	if m.Segmenter != "" {
		v.oneOf("models.segmenter", m.Segmenter, "sam", "builtin")
	}
	v.oneOf("models.prompts", m.Prompts, "grid", "segments")
	v.atLeast("models.min_proposal_area", m.MinProposalArea, 0, " pixels")
	if backend == "onnx" {
		// Each stage's source (features dinov2|sam|builtin, segmenter
		// sam|builtin) decides which manifests are needed.
		feat := m.FeatureSource
		if feat == "" {
			feat = "sam"
			if m.Features != "" {
				feat = "dinov2"
			}
		}
		need := []struct{ key, val string }{}
		if feat == "dinov2" {
			need = append(need, struct{ key, val string }{"models.features", m.Features})
		}
		if feat == "sam" || m.Segmenter != "builtin" {
			need = append(need, struct{ key, val string }{"models.sam_encoder", m.SAMEncoder}, struct{ key, val string }{"models.sam_decoder", m.SAMDecoder})
		}
		for _, k := range need {
			if k.val == "" {
				v.badNear(k.key, "pipeline.backend", "required with pipeline.backend = \"onnx\" and these stage sources: the model manifest (see models/export/README.md and docs/models.md)")
			}
		}
		if r.Library == "" {
			v.badNear("runtime.library", "pipeline.backend", "required with pipeline.backend = \"onnx\": the path of libonnxruntime.so")
		}
	}
	v.intIn("models.points_per_side", m.PointsPerSide, 1, 128, ": SAM's prompt grid")
	v.atLeast("models.points_per_batch", m.PointsPerBatch, 1, "")
	v.unit("models.pred_iou_threshold", m.PredIoUThreshold, "")
	v.unit("models.stability_threshold", m.StabilityThreshold, "")
	v.positive("models.stability_offset", m.StabilityOffset, "")
	if !(m.BoxNMSThreshold > 0 && m.BoxNMSThreshold <= 1) {
		v.bad("models.box_nms_threshold", m.BoxNMSThreshold, "must be in (0, 1]")
	}
	v.atLeast("models.min_region_area", m.MinRegionArea, 0, " pixels")
	v.intIn("models.crop_layers", m.CropLayers, 0, 3, "")

	if len(r.Providers) == 0 {
		v.bad("runtime.providers", r.Providers, "list at least one of \"tensorrt\", \"cuda\", \"cpu\", in order of preference")
	}
	seen := map[string]bool{}
	for i, p := range r.Providers {
		key := fmt.Sprintf("runtime.providers[%d]", i)
		if v.oneOf(key, p, "tensorrt", "cuda", "cpu") && seen[p] {
			v.bad(key, p, "listed twice")
		}
		seen[p] = true
	}
	v.atLeast("runtime.device_id", r.DeviceID, 0, "")
	v.atLeast("runtime.threads", r.Threads, 0, " (0 = ONNX Runtime's default)")
	v.atLeast("runtime.tensorrt.workspace_mib", r.TensorRT.WorkspaceMiB, 0, "")
	for i, s := range r.TensorRT.ProfileShapes {
		if !shapeRe.MatchString(s) {
			v.bad(fmt.Sprintf("runtime.tensorrt.profile_shapes[%d]", i), s, "want \"input:1x3x224x224\" (or min,opt,max shapes separated by commas)")
		}
	}
	if seen["tensorrt"] && r.TensorRT.EngineCacheDir == "" {
		v.warn("runtime.tensorrt.engine_cache_dir", nil, "not set: TensorRT rebuilds its engines at every start (minutes)")
	}
}

var cameraNameRe = regexp.MustCompile(`^[a-z0-9_-]+$`)

func (v *validator) cameras(cams []Camera) {
	names := map[string]int{}
	for i, c := range cams {
		p := fmt.Sprintf("camera[%d].", i)
		switch {
		case c.Name == "":
			v.bad(p+"name", nil, "required: lower-case letters, digits, '_' and '-' (it becomes an MQTT topic level)")
		case len(c.Name) > 64 || !cameraNameRe.MatchString(c.Name):
			v.bad(p+"name", c.Name, "use at most 64 lower-case letters, digits, '_' and '-' (it becomes an MQTT topic level)")
		default:
			if j, dup := names[c.Name]; dup {
				v.bad(p+"name", c.Name, "already used by camera[%d]", j)
			}
			names[c.Name] = i
		}
		need := map[string]string{"v4l2": "device", "gstreamer": "pipeline", "video": "url", "folder": "folder"}
		set := map[string]string{"device": c.Device, "pipeline": c.Pipeline, "url": c.URL, "folder": c.Folder}
		if c.Source == "" {
			v.bad(p+"source", nil, "required: one of v4l2, gstreamer, video, folder")
		} else if v.oneOf(p+"source", c.Source, "v4l2", "gstreamer", "video", "folder") {
			want := need[c.Source]
			if set[want] == "" {
				v.bad(p+want, nil, "required with source = %q", c.Source)
			}
			for _, k := range []string{"device", "pipeline", "url", "folder"} {
				if k != want && set[k] != "" {
					v.bad(p+k, set[k], "not used with source = %q (it reads %s); remove it", c.Source, want)
				}
			}
			if c.Source == "gstreamer" && c.Pipeline != "" && !strings.Contains(c.Pipeline, "appsink") {
				v.bad(p+"pipeline", c.Pipeline, "must end in appsink (e.g. \"... ! videoconvert ! appsink\")")
			}
			if c.Loop && c.Source != "folder" && c.Source != "video" {
				v.bad(p+"loop", c.Loop, "only a folder or video file can be replayed")
			}
		}
		switch c.Trigger {
		case "", "free", "software":
		case "hardware":
			if c.Source == "folder" || c.Source == "video" {
				v.bad(p+"trigger", c.Trigger, "needs a camera (source v4l2 or gstreamer), not a %s", c.Source)
			}
		default:
			v.bad(p+"trigger", c.Trigger, "must be one of free, software, hardware")
		}
		if c.Rate < 0 || c.Rate > 1000 {
			v.bad(p+"rate", c.Rate, "must be in [0, 1000] frames per second (0 = as fast as the source gives frames)")
		} else if c.Rate > 0 && c.Trigger != "" && c.Trigger != "free" {
			v.bad(p+"rate", c.Rate, "only used with trigger = \"free\"; remove it")
		}
		if c.Width < 0 || c.Height < 0 || (c.Width == 0) != (c.Height == 0) {
			v.bad(p+"width", c.Width, "set width and height (both > 0) or neither; height = %d", c.Height)
		}
		if c.ReconnectMin < 0 || c.ReconnectMax < 0 || (c.ReconnectMax > 0 && c.ReconnectMin > c.ReconnectMax) {
			v.bad(p+"reconnect_min", c.ReconnectMin, "want 0 <= reconnect_min <= reconnect_max = %s", goValue(c.ReconnectMax))
		}
		if c.Bank == "" {
			v.bad(p+"bank", nil, "required: the bank file made by `samlad enroll` for this camera's parts")
		}
	}
}

// Broker URL schemes, as the MQTT client (actuate) accepts them. A TLS scheme
// turns TLS on; [mqtt.tls] adds the CA, the client certificate and key.
var (
	plainSchemes = []string{"tcp", "mqtt", "ws"}
	tlsSchemes   = []string{"ssl", "tls", "mqtts", "tcps", "wss"}
)

func (v *validator) mqtt(m MQTT) {
	const s = "mqtt."
	u, err := url.Parse(m.Broker)
	brokerOK, secure := false, false
	switch {
	case m.Broker == "":
		v.bad(s+"broker", nil, "required, e.g. \"ssl://broker.local:8883\"")
	case err != nil:
		v.bad(s+"broker", m.Broker, "not a URL: %v", urlErr(err))
	case !slices.Contains(plainSchemes, u.Scheme) && !slices.Contains(tlsSchemes, u.Scheme):
		v.bad(s+"broker", m.Broker, "scheme must be one of %s (plain) or %s (TLS), e.g. \"ssl://broker.local:8883\"",
			strings.Join(plainSchemes, ", "), strings.Join(tlsSchemes, ", "))
	case u.Hostname() == "":
		v.bad(s+"broker", m.Broker, "names no host")
	case u.Port() == "" && (u.Scheme != "ws" && u.Scheme != "wss"):
		v.bad(s+"broker", m.Broker, "needs a port (1883 for tcp, 8883 for ssl)")
	default:
		brokerOK, secure = true, slices.Contains(tlsSchemes, u.Scheme)
	}
	if m.ClientID == "" {
		v.bad(s+"client_id", nil, "required: a persistent session needs a stable client id")
	}
	if m.Prefix == "" || strings.ContainsAny(m.Prefix, "+#\x00") || strings.HasPrefix(m.Prefix, "/") || strings.HasSuffix(m.Prefix, "/") {
		v.bad(s+"prefix", m.Prefix, "must be a non-empty topic without wildcards (+ #) or leading/trailing '/'")
	}
	if m.PasswordFile != "" && m.PasswordEnv != "" {
		v.bad(s+"password_env", m.PasswordEnv, "set password_file or password_env, not both")
	}
	hasPassword := m.PasswordFile != "" || m.PasswordEnv != ""
	if hasPassword && m.Username == "" {
		v.bad(s+"username", nil, "required when a password is set (MQTT sends a password only with a user name)")
	}
	if hasPassword && brokerOK && !secure {
		v.warn(s+"broker", m.Broker, "the password travels in clear text; use ssl:// (or wss://)")
	}
	t := m.TLS
	if t.Enabled && brokerOK && !secure {
		v.bad(s+"tls.enabled", t.Enabled, "but mqtt.broker = %q is not a TLS URL; use ssl://host:8883 (or wss://)", m.Broker)
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		key := s + "tls.key_file"
		if t.CertFile == "" {
			key = s + "tls.cert_file"
		}
		v.bad(key, nil, "mutual TLS needs both cert_file and key_file")
	}
	if t.InsecureSkipVerify {
		v.warn(s+"tls.insecure_skip_verify", true, "the broker's certificate is not checked; anyone on the network can impersonate it")
	}
	v.positiveDuration(s+"keepalive", m.KeepAlive)
	v.positiveDuration(s+"connect_timeout", m.ConnectTimeout)
	v.positiveDuration(s+"max_reconnect_interval", m.MaxReconnectInterval)
	v.positiveDuration(s+"stats_interval", m.StatsInterval)
	v.atLeast(s+"store_limit", m.StoreLimit, 1, " messages")
	v.oneOf(s+"store_overflow", m.StoreOverflow, "drop_oldest", "refuse_new")
	if d := m.Discovery; d.Enabled && (d.Prefix == "" || strings.ContainsAny(d.Prefix, "+#\x00") || strings.HasPrefix(d.Prefix, "/") || strings.HasSuffix(d.Prefix, "/")) {
		v.bad(s+"discovery.prefix", d.Prefix, "must be Home Assistant's discovery prefix, a topic without wildcards (+ #) or leading/trailing '/' (its default: \"homeassistant\")")
	}
	if m.StoreNoFsync {
		v.warn(s+"store_no_fsync", true, "verdicts buffered during a broker outage can be lost on a power cut")
	}
}

func (v *validator) actuate(a Actuate) {
	v.oneOf("actuate.reject_format", a.RejectFormat, "json", "plain")
	v.oneOf("actuate.heatmap", a.Heatmap, "off", "all", "fail")
	v.intIn("actuate.heatmap_quality", a.HeatmapQuality, 1, 100, " (JPEG quality)")
	v.intIn("actuate.heatmap_max_side", a.HeatmapMaxSide, 16, 8192, " pixels")
	if a.RejectMaxAge < 0 {
		v.bad("actuate.reject_max_age", a.RejectMaxAge, "must be >= 0 (0 = deliver every reject)")
	}
}

func (v *validator) daemon(d Daemon) {
	v.positiveDuration("daemon.deadline", d.Deadline)
	if v.oneOf("daemon.fail_safe", d.FailSafe, "fail", "pass") && d.FailSafe == "pass" {
		v.warn("daemon.fail_safe", d.FailSafe, "a late or failed inspection is published as PASS: defective parts can go through")
	}
	v.intIn("daemon.queue_depth", d.QueueDepth, 1, 1024, " frames per camera")
	v.intIn("daemon.workers", d.Workers, 1, 64, " frames inspected at once per camera")
	if d.StateDir == "" {
		v.bad("daemon.state_dir", nil, "required: it keeps the sequence counter across restarts")
	}
	if d.Health != "" {
		host, port, err := net.SplitHostPort(d.Health)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 {
			v.bad("daemon.health", d.Health, "want host:port, e.g. \"127.0.0.1:9110\"")
		} else if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			v.warn("daemon.health", d.Health, "listens on every network interface; use 127.0.0.1:%d unless remote scraping is intended", n)
		}
	}
}

func (v *validator) archive(a Archive) {
	v.oneOf("archive.keep", a.Keep, "fail", "all")
	if a.MaxBytes < 0 || (a.Enabled && a.MaxBytes == 0) {
		v.bad("archive.max_bytes", a.MaxBytes, "must be > 0: the archive is capped and rotates")
	}
	if a.Enabled && a.Dir == "" {
		v.bad("archive.dir", nil, "required when the archive is enabled")
	}
}

func (v *validator) log(l Log) {
	v.oneOf("log.level", l.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", l.Format, "text", "json")
}

// goValue writes a Go value the way it would appear in TOML, for messages.
func goValue(val any) string {
	switch x := val.(type) {
	case nil:
		return ""
	case string:
		return tomlValue(x)
	case Duration:
		return strconv.Quote(x.D().String())
	case float64:
		return tomlValue(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case []string:
		q := make([]string, len(x))
		for i, s := range x {
			q[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	return fmt.Sprint(val)
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

// urlErr strips url.Error's repetition of the URL.
func urlErr(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
