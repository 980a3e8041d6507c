package config

import (
	"strings"
	"testing"
)

// TestValidationPerSection feeds one bad value per rule and checks that the
// error names the key, sits on the value's line and says what is wanted.
func TestValidationPerSection(t *testing.T) {
	const cam = "[[camera]]\nname = \"a\"\nsource = \"folder\"\nfolder = \"f\"\nbank = \"a.bank\"\n"
	for _, c := range []struct {
		src  string
		key  string
		line int
		msg  string
	}{
		{"[pipeline]\nbackend = \"torch\"", "pipeline.backend", 2, "builtin, onnx"},
		{"[pipeline]\ninput_size = 4096", "pipeline.input_size", 2, "[32, 2048]"},
		{"[pipeline]\ninput_size = 230", "pipeline.input_size", 2, "multiple of 8"},
		{"[pipeline]\nk = 0", "pipeline.k", 2, "[1, 64]"},
		{"[pipeline]\nupsampler = \"nearest\"", "pipeline.upsampler", 2, "jbu, bilinear"},
		{"[pipeline]\ndescriptor = \"mean\"", "pipeline.descriptor", 2, "dcga, gmp, gap"},
		{"[pipeline]\ndcga_pooling = \"avg\"", "pipeline.dcga_pooling", 2, "gmp, gap"},
		{"[pipeline]\nmode = \"fast\"", "pipeline.mode", 2, "full, light"},
		{"[pipeline]\nalign = \"affine\"", "pipeline.align", 2, "none, centroid, box, nn"},
		{"[pipeline]\nscore = \"mean\"", "pipeline.score", 2, "max, topk"},
		{"[pipeline]\nstructural_weight = -0.5", "pipeline.structural_weight", 2, "[0, 100]"},
		{"[pipeline]\nstructural_weight = 0.0\nlogical_weight = 0.0\npatch_weight = 0.0", "pipeline.patch_weight", 4, "all 0"},
		{"[pipeline]\nfusion = \"mean\"", "pipeline.fusion", 2, "max, sum"},
		{"[pipeline]\nepsilon = 0.0", "pipeline.epsilon", 2, "> 0"},
		{"[pipeline]\nepsilon = -1e-3", "pipeline.epsilon", 2, "> 0"},
		{"[pipeline]\nmatch_temperature = 0", "pipeline.match_temperature", 2, "> 0"},
		{"[pipeline]\ndustbin = 2.5", "pipeline.dustbin", 2, "[-1, 1]"},
		{"[pipeline]\nsinkhorn_iters = 0", "pipeline.sinkhorn_iters", 2, "[1, 10000]"},
		{"[pipeline]\nmatch_threshold = 1.5", "pipeline.match_threshold", 2, "[0, 1]"},
		{"[pipeline]\nmin_area = -0.1", "pipeline.min_area", 2, "[0, 1]"},
		{"[pipeline]\nmin_area = 0.3\nmax_area = 0.2", "pipeline.max_area", 3, "greater than pipeline.min_area = 0.3"},
		{"[pipeline]\nmax_objects = 0", "pipeline.max_objects", 2, "[1, 1024]"},
		{"[pipeline]\ncomposition_words = 1", "pipeline.composition_words", 2, "[2, 256]"},
		{"[pipeline]\ncomposition_weight = -1.0", "pipeline.composition_weight", 2, "[0, 100]"},
		{"[pipeline]\nthreshold = -1", "pipeline.threshold", 2, ">= 0"},
		{"[pipeline]\nthreshold_margin = 0", "pipeline.threshold_margin", 2, "> 0"},
		{"[pipeline]\nfalse_reject_rate = 0.5", "pipeline.false_reject_rate", 2, "(0, 0.5)"},
		{"[pipeline]\nk = 4\ncoreset = 3", "pipeline.coreset", 3, "k+1 = 5"},
		{"[pipeline]\nworkers = -2", "pipeline.workers", 2, ">= 0"},
		{"[pipeline]\nposition_weight = -1", "pipeline.position_weight", 2, ">= 0"},
		{"[pipeline.segment]\nscale = 0", "pipeline.segment.scale", 2, "> 0"},
		{"[pipeline.segment]\nmin_size = 0", "pipeline.segment.min_size", 2, ">= 1"},
		{"[pipeline.segment]\nmerge_colour = -1.0", "pipeline.segment.merge_colour", 2, "[0, 442]"},
		{"[pipeline.segment]\nref_size = 8", "pipeline.segment.ref_size", 2, "[16, 4096]"},

		{"[pipeline]\nbackend = \"onnx\"\n[models]\nfeature_source = \"dinov2\"\nsam_encoder = \"e.toml\"\nsam_decoder = \"d.toml\"", "models.features", 3, "required with pipeline.backend = \"onnx\""},
		{"[pipeline]\nbackend = \"onnx\"\n[models]\nfeature_source = \"builtin\"\nsam_encoder = \"e.toml\"", "models.sam_decoder", 3, "required with pipeline.backend = \"onnx\""},
		{"[models]\nfeature_source = \"clip\"", "models.feature_source", 2, "dinov2, sam, builtin"},
		{"[models]\nsegmenter = \"grid\"", "models.segmenter", 2, "sam, builtin"},
		{"[models]\nprompts = \"boxes\"", "models.prompts", 2, "grid, segments"},
		{"[pipeline]\nbackend = \"onnx\"\n[models]\nfeatures = \"f.toml\"\nsam_encoder = \"e.toml\"", "models.sam_decoder", 3, "required"},
		{"\n[pipeline]\nbackend = \"onnx\"\n[runtime]\nlibrary = \"\"\n[models]\nfeatures = \"f.toml\"\nsam_encoder = \"e.toml\"\nsam_decoder = \"d.toml\"", "runtime.library", 5, "libonnxruntime.so"},
		{"[pipeline]\nbackend = \"onnx\"\nupsample = 16\n[models]\nfeatures = \"f.toml\"\nsam_encoder = \"e.toml\"\nsam_decoder = \"d.toml\"", "models.upsampler", 4, "FeatUp"},
		{"[mqtt]\nbroker = \"ssl://b\"\n[mqtt.tls]\nenabled = true", "mqtt.broker", 2, "needs a port"},
		{"[models]\npoints_per_side = 0", "models.points_per_side", 2, "[1, 128]"},
		{"[models]\npred_iou_threshold = 1.2", "models.pred_iou_threshold", 2, "[0, 1]"},
		{"[models]\nbox_nms_threshold = 0", "models.box_nms_threshold", 2, "(0, 1]"},
		{"[models]\ncrop_layers = 5", "models.crop_layers", 2, "[0, 3]"},
		{"[runtime]\nproviders = []", "runtime.providers", 2, "at least one"},
		{"[runtime]\nproviders = [\"cuda\", \"rocm\"]", "runtime.providers[1]", 2, "tensorrt, cuda, cpu"},
		{"[runtime]\nproviders = [\"cuda\",\n  \"cpu\",\n  \"cuda\"]", "runtime.providers[2]", 2, "listed twice"},
		{"[runtime]\nthreads = -1", "runtime.threads", 2, ">= 0"},
		{"[runtime.tensorrt]\nprofile_shapes = [\"images\"]", "runtime.tensorrt.profile_shapes[0]", 2, "1x3x224x224"},

		{"[[camera]]\nname = \"Line 1\"\nsource = \"folder\"\nfolder = \"f\"\nbank = \"a.bank\"", "camera[0].name", 2, "lower-case"},
		{cam + "\n" + cam, "camera[1].name", 8, "already used by camera[0]"},
		{"[[camera]]\nname = \"a\"\nbank = \"a.bank\"", "camera[0].source", 1, "required"},
		{"[[camera]]\nname = \"a\"\nsource = \"usb\"\nbank = \"a.bank\"", "camera[0].source", 3, "v4l2, gstreamer, video, folder"},
		{"[[camera]]\nname = \"a\"\nsource = \"v4l2\"\nbank = \"a.bank\"", "camera[0].device", 1, "required with source = \"v4l2\""},
		{"[[camera]]\nname = \"a\"\nsource = \"gstreamer\"\npipeline = \"videotestsrc ! fakesink\"\nbank = \"a.bank\"", "camera[0].pipeline", 4, "appsink"},
		{cam + "url = \"x.mp4\"", "camera[0].url", 6, "not used with source = \"folder\""},
		{cam + "trigger = \"edge\"", "camera[0].trigger", 6, "free, software, hardware"},
		{cam + "trigger = \"hardware\"", "camera[0].trigger", 6, "needs a camera"},
		{cam + "rate = -1.0", "camera[0].rate", 6, "[0, 1000]"},
		{cam + "trigger = \"software\"\nrate = 5.0", "camera[0].rate", 7, "only used with trigger = \"free\""},
		{cam + "width = 640", "camera[0].width", 6, "both > 0"},
		{cam + "reconnect_min = \"1m\"\nreconnect_max = \"1s\"", "camera[0].reconnect_min", 6, "<= reconnect_max"},
		{"[[camera]]\nname = \"a\"\nsource = \"folder\"\nfolder = \"f\"", "camera[0].bank", 1, "samlad enroll"},
		{"[[camera]]\nname = \"a\"\nsource = \"v4l2\"\ndevice = \"0\"\nloop = true\nbank = \"a\"", "camera[0].loop", 5, "replayed"},

		{"[mqtt]\nbroker = \"http://broker:80\"", "mqtt.broker", 2, "scheme must be one of"},
		{"[mqtt]\nbroker = \"tcp://broker\"", "mqtt.broker", 2, "needs a port"},
		{"[mqtt]\nbroker = \"tcp://:1883\"", "mqtt.broker", 2, "no host"},
		{"[mqtt]\nbroker = \"\"", "mqtt.broker", 2, "required"},
		{"[mqtt]\nclient_id = \"\"", "mqtt.client_id", 2, "stable client id"},
		{"[mqtt]\nprefix = \"plant/#\"", "mqtt.prefix", 2, "wildcards"},
		{"[mqtt]\nusername = \"u\"\npassword_file = \"p\"\npassword_env = \"P\"", "mqtt.password_env", 4, "not both"},
		{"[mqtt]\npassword_env = \"P\"", "mqtt.username", 1, "required when a password is set"},
		{"[mqtt]\nbroker = \"tcp://b:1883\"\n[mqtt.tls]\nenabled = true", "mqtt.tls.enabled", 4, "not a TLS URL"},
		{"[mqtt]\nbroker = \"ssl://b:8883\"\n[mqtt.tls]\nenabled = true\ncert_file = \"c.pem\"", "mqtt.tls.key_file", 3, "both cert_file and key_file"},
		{"[mqtt]\nkeepalive = \"0s\"", "mqtt.keepalive", 2, "positive duration"},
		{"[mqtt]\nkeepalive = \"soon\"", "mqtt.keepalive", 2, "invalid duration"},
		{"[mqtt]\nstore_limit = 0", "mqtt.store_limit", 2, ">= 1"},
		{"[mqtt]\nstore_overflow = \"block\"", "mqtt.store_overflow", 2, "drop_oldest, refuse_new"},

		{"[actuate]\nreject_format = \"xml\"", "actuate.reject_format", 2, "json, plain"},
		{"[actuate]\nheatmap = \"ng\"", "actuate.heatmap", 2, "off, all, fail"},
		{"[actuate]\nheatmap_quality = 101", "actuate.heatmap_quality", 2, "[1, 100]"},
		{"[actuate]\nheatmap_max_side = 8", "actuate.heatmap_max_side", 2, "[16, 8192]"},
		{"[actuate]\nreject_max_age = \"-1s\"", "actuate.reject_max_age", 2, ">= 0"},

		{"[daemon]\ndeadline = \"0s\"", "daemon.deadline", 2, "positive duration"},
		{"[daemon]\nfail_safe = \"reject\"", "daemon.fail_safe", 2, "fail, pass"},
		{"[daemon]\nqueue_depth = 0", "daemon.queue_depth", 2, "[1, 1024]"},
		{"[daemon]\nworkers = 0", "daemon.workers", 2, "[1, 64]"},
		{"[daemon]\nstate_dir = \"\"", "daemon.state_dir", 2, "required"},
		{"[daemon]\nhealth = \"9110\"", "daemon.health", 2, "host:port"},

		{"[archive]\nkeep = \"some\"", "archive.keep", 2, "fail, all"},
		{"[archive]\nenabled = true\nmax_bytes = 0", "archive.max_bytes", 3, "> 0"},
		{"[archive]\nenabled = true\ndir = \"\"", "archive.dir", 3, "required"},
		{"[log]\nlevel = \"trace\"", "log.level", 2, "debug, info, warn, error"},
		{"[log]\nformat = \"xml\"", "log.format", 2, "text, json"},
	} {
		errs := parseErrs(t, c.src)
		e := errFor(t, errs, c.key)
		if e.Line != c.line {
			t.Errorf("%s: line %d, want %d (%v)", c.key, e.Line, c.line, e)
		}
		if !strings.Contains(e.Error(), c.msg) {
			t.Errorf("%s: %q does not say %q", c.key, e.Error(), c.msg)
		}
		if len(errs) != 1 {
			t.Errorf("%s: want exactly one error, got:\n%v", c.key, errs)
		}
	}
}

// A key required by another setting, in a section the file lacks, is
// reported at the line of that setting.
func TestMissingKeyLocatedAtTheSettingRequiringIt(t *testing.T) {
	errs := parseErrs(t, "# no [models] section\n[pipeline]\nupsample = 16\nbackend = \"onnx\"\n")
	for key, line := range map[string]int{
		"models.upsampler": 3, "models.sam_encoder": 4, "models.sam_decoder": 4,
	} {
		if e := errFor(t, errs, key); e.Line != line {
			t.Errorf("%s: line %d, want %d", key, e.Line, line)
		}
	}
	if len(errs) != 3 {
		t.Errorf("want 3 errors, got:\n%v", errs)
	}
}

// The built-in defaults must pass their own validation: a default the rules
// refuse would make every config file fail.
func TestDefaultsValidate(t *testing.T) {
	if errs, _ := validate(Default()); len(errs) > 0 {
		t.Errorf("Default() fails validation:\n%v", Errors(errs))
	}
}

func TestWarnings(t *testing.T) {
	if w := Warnings(Default()); len(w) != 0 {
		t.Errorf("defaults warn: %v", w)
	}
	for _, c := range []struct{ src, want string }{
		{"[daemon]\nfail_safe = \"pass\"", `daemon.fail_safe = "pass": a late or failed inspection is published as PASS`},
		{"[mqtt]\nbroker = \"ssl://b:8883\"\n[mqtt.tls]\nenabled = true\ninsecure_skip_verify = true", "mqtt.tls.insecure_skip_verify = true"},
		{"[mqtt]\nusername = \"u\"\npassword_env = \"P\"", "password travels in clear text"},
		{"[daemon]\nhealth = \":9110\"", "every network interface"},
		{"[mqtt]\nstore_no_fsync = true", "lost on a power cut"},
		{"[runtime]\nproviders = [\"tensorrt\", \"cpu\"]", "runtime.tensorrt.engine_cache_dir: not set"},
	} {
		cfg, err := Parse([]byte(c.src), "w.toml")
		if err != nil {
			t.Errorf("%q: %v", c.src, err)
			continue
		}
		w := Warnings(cfg)
		if len(w) != 1 || !strings.HasPrefix(w[0], c.want) && !strings.Contains(w[0], c.want) {
			t.Errorf("%q: warnings %q, want one with %q", c.src, w, c.want)
		}
	}
}

func TestKeyLines(t *testing.T) {
	src := `# comment with key = "value" and [table]
title = "x" # trailing
"quoted key" = 1
dotted.key.path = 2

[pipeline]
text = """
[not_a_table]
fake = 1
"""
literal = '''
also = "not a key"'''
arr = [
  1, # a comment ] with a bracket
  "]",
]
inline = { a = 1, b = [2, 3] }
after = true

[[camera]]
name = "a"
[camera.extra]
x = 1

[[camera]]
name = "b"  # second

[ "spaced" . 'lit' ]
k = 'v'
esc = "a \" quote\\"
end = 1
`
	lines := keyLines(src)
	for key, want := range map[string]int{
		"title": 2, "quoted key": 3, "dotted": 4, "dotted.key.path": 4,
		"pipeline": 6, "pipeline.text": 7, "pipeline.literal": 11, "pipeline.arr": 13,
		"pipeline.inline": 17, "pipeline.after": 18,
		"camera[0]": 20, "camera[0].name": 21, "camera[0].extra": 22, "camera[0].extra.x": 23,
		"camera[1]": 25, "camera[1].name": 26,
		"spaced.lit": 28, "spaced.lit.k": 29, "spaced.lit.esc": 30, "spaced.lit.end": 31,
	} {
		if got := lines[key]; got != want {
			t.Errorf("%s: line %d, want %d", key, got, want)
		}
	}
	for _, bogus := range []string{"not_a_table", "pipeline.fake", "pipeline.also", "fake"} {
		if l, ok := lines[bogus]; ok {
			t.Errorf("%s (inside a string) indexed at line %d", bogus, l)
		}
	}
	// Keys without a line of their own fall back to their closest parent.
	if got := lineOf(lines, "pipeline.inline.b[1]"); got != 17 {
		t.Errorf("inline table member: line %d, want 17", got)
	}
	if got := lineOf(lines, "camera[1].bank"); got != 25 {
		t.Errorf("missing camera key: line %d, want 25", got)
	}
	if got := lineOf(lines, "log.level"); got != 0 {
		t.Errorf("absent section: line %d, want 0", got)
	}
}
