package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// maxFileSize bounds a config file; anything larger is not a samlad config.
const maxFileSize = 1 << 20

// Load reads, decodes and validates the config file at path.
//
// Keys absent from the file keep their Default value. Relative paths written
// in the file are resolved against the file's directory (model manifests stay
// relative to models.dir, which the ONNX backend joins), so the daemon behaves the same whatever its working
// directory. A file that parses but is invalid gives an Errors listing every
// problem found, each with the file, line and key path.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config %s: %w", path, err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return Config{}, fmt.Errorf("config %s: resolve its directory: %w", path, err)
	}
	return parse(data, path, dir)
}

// Parse decodes and validates a config file's contents. name is used in error
// messages and its directory anchors relative paths; see Load.
func Parse(data []byte, name string) (Config, error) {
	return parse(data, name, filepath.Dir(name))
}

func parse(data []byte, name, dir string) (Config, error) {
	if len(data) > maxFileSize {
		return Config{}, Errors{{File: name, Msg: fmt.Sprintf("file is %d bytes; a samlad config is at most %d", len(data), maxFileSize)}}
	}
	src := string(data)
	var raw map[string]any
	if _, err := toml.Decode(src, &raw); err != nil {
		return Config{}, Errors{syntaxError(name, err)}
	}
	lines := keyLines(src)

	var tc typeChecker
	tc.table(raw, reflect.TypeFor[Config](), "")
	if len(tc.errs) > 0 {
		// The checker dropped the keys in error; decode what is left so that
		// the values' own problems are reported in the same run.
		var b strings.Builder
		if err := toml.NewEncoder(&b).Encode(raw); err != nil {
			return Config{}, locate(tc.errs, name, lines)
		}
		src = b.String()
	}

	cfg := Default()
	md, err := toml.Decode(src, &cfg)
	if err != nil { // the type check above should have caught it; report it anyway
		return Config{}, Errors{syntaxError(name, err)}
	}
	errs := tc.errs
	for _, k := range md.Undecoded() {
		errs = append(errs, &Error{Key: k.String(), Msg: "unknown key"})
	}
	semantic, _ := validate(cfg)
	for _, e := range semantic {
		if !coveredBy(e.Key, tc.errs) {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return Config{}, locate(errs, name, lines)
	}
	resolvePaths(&cfg, dir, func(key string) bool {
		// Camera keys have no defaults: every one set came from the file.
		return strings.HasPrefix(key, "camera.") || md.IsDefined(strings.Split(key, ".")...)
	})
	return cfg, nil
}

// coveredBy reports whether key, or a parent of it, already has an error:
// its value was dropped, so a complaint about the default would mislead.
func coveredBy(key string, errs []*Error) bool {
	for _, e := range errs {
		if key == e.Key || strings.HasPrefix(key, e.Key+".") || strings.HasPrefix(key, e.Key+"[") {
			return true
		}
	}
	return false
}

// Error is one problem in a config file.
type Error struct {
	File string
	// Line is 1-based; 0 when the problem has no line of its own.
	Line int
	// Key is the key path, e.g. "pipeline.upsample" or "camera[1].name".
	Key string
	// Value is the offending value as written in TOML; empty when not useful.
	Value string
	Msg   string
	// near is a key whose line stands in when Key is not in the file (a
	// required key is missing because of the setting at near).
	near string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		if e.Value != "" {
			b.WriteString(" = ")
			b.WriteString(e.Value)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one config file, in line order.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.As find the individual errors.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// locate fills in the file and line of each error and sorts them by line.
func locate(errs []*Error, name string, lines map[string]int) Errors {
	for _, e := range errs {
		e.File = name
		e.Line = lineOf(lines, e.Key)
		if e.Line == 0 && e.near != "" {
			e.Line = lineOf(lines, e.near)
		}
	}
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Line != errs[j].Line {
			return errs[i].Line < errs[j].Line
		}
		return errs[i].Key < errs[j].Key
	})
	return Errors(errs)
}

func syntaxError(name string, err error) *Error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &Error{File: name, Line: pe.Position.Line, Msg: "TOML syntax: " + pe.Message}
	}
	return &Error{File: name, Msg: err.Error()}
}

// resolvePaths joins relative paths to dir. inFile reports whether a key was
// written in the file: relative built-in defaults stay relative to the working
// directory.
func resolvePaths(c *Config, dir string, inFile func(key string) bool) {
	abs := func(key string, p *string) {
		if *p != "" && !filepath.IsAbs(*p) && inFile(key) {
			*p = filepath.Join(dir, *p)
		}
	}
	// Model manifests stay relative to models.dir; the ONNX backend joins them.
	abs("models.dir", &c.Models.Dir)
	abs("runtime.library", &c.Runtime.Library)
	abs("runtime.tensorrt.engine_cache_dir", &c.Runtime.TensorRT.EngineCacheDir)
	abs("runtime.tensorrt.timing_cache_dir", &c.Runtime.TensorRT.TimingCacheDir)
	abs("mqtt.password_file", &c.MQTT.PasswordFile)
	abs("mqtt.tls.ca_file", &c.MQTT.TLS.CAFile)
	abs("mqtt.tls.cert_file", &c.MQTT.TLS.CertFile)
	abs("mqtt.tls.key_file", &c.MQTT.TLS.KeyFile)
	abs("mqtt.store_dir", &c.MQTT.StoreDir)
	abs("daemon.state_dir", &c.Daemon.StateDir)
	abs("daemon.bank_dir", &c.Daemon.BankDir)
	abs("daemon.enroll_dir", &c.Daemon.EnrollDir)
	abs("archive.dir", &c.Archive.Dir)
	for i := range c.Cameras {
		cam := &c.Cameras[i]
		abs("camera.folder", &cam.Folder)
		abs("camera.bank", &cam.Bank)
		if cam.Source == "video" && !strings.Contains(cam.URL, "://") {
			abs("camera.url", &cam.URL)
		}
	}
}
