package config

import (
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"
)

// FileKeys is the set of keys written in one config file, so that a caller
// can tell a value the file sets from a default. A bank inspected with a
// config file takes the keys it was enrolled with from the bank unless the
// file writes them.
type FileKeys struct {
	Name  string // the file, for messages
	md    toml.MetaData
	lines map[string]int
}

// ReadFileKeys reads the keys written in the config file at path.
func ReadFileKeys(path string) (FileKeys, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return FileKeys{}, fmt.Errorf("read config %s: %w", path, err)
	}
	return ParseFileKeys(data, path)
}

// ParseFileKeys is ReadFileKeys on a file's contents; name is for messages.
func ParseFileKeys(data []byte, name string) (FileKeys, error) {
	var raw map[string]any
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		return FileKeys{}, Errors{syntaxError(name, err)}
	}
	return FileKeys{Name: name, md: md, lines: keyLines(string(data))}, nil
}

// Has reports whether the file writes key (a dotted path such as
// "pipeline.segment.sigma"), as a key of its own, in an inline table or as
// a dotted key.
func (f FileKeys) Has(key string) bool {
	return f.md.IsDefined(strings.Split(key, ".")...)
}

// Line returns the line key (or its closest written parent) is on, or 0.
func (f FileKeys) Line(key string) int { return lineOf(f.lines, key) }

// Where returns "file:line" for key, or the file name alone when the line
// is unknown.
func (f FileKeys) Where(key string) string {
	if l := f.Line(key); l > 0 {
		return fmt.Sprintf("%s:%d", f.Name, l)
	}
	return f.Name
}

// PipelineOver returns the pipeline whose every key is file's value where
// the file writes that key and base's otherwise. Nested tables
// ([pipeline.segment], [pipeline.layout]) are merged key by key.
func (f FileKeys) PipelineOver(base, file Pipeline) Pipeline {
	out := base
	f.overlay(reflect.ValueOf(&out).Elem(), reflect.ValueOf(file), "pipeline")
	return out
}

// overlay sets each leaf of dst the file writes to src's value.
func (f FileKeys) overlay(dst, src reflect.Value, path string) {
	if dst.Kind() != reflect.Struct {
		if f.Has(path) {
			dst.Set(src)
		}
		return
	}
	for i := range dst.NumField() {
		fld := dst.Type().Field(i)
		if !fld.IsExported() {
			continue
		}
		key := strings.Split(fld.Tag.Get("toml"), ",")[0]
		if key == "" || key == "-" {
			key = fld.Name
		}
		f.overlay(dst.Field(i), src.Field(i), path+"."+key)
	}
}

// KeyDiff is one key whose value differs between two settings.
type KeyDiff struct {
	Key  string // TOML key path, e.g. "pipeline.segment.sigma"
	A, B any
}

// Diff lists the leaf keys whose values differ from a to b, two values of
// the same struct type with toml tags, in the order of the schema; prefix
// starts each key path (e.g. "pipeline").
func Diff(a, b any, prefix string) []KeyDiff {
	var out []KeyDiff
	diffValues(reflect.ValueOf(a), reflect.ValueOf(b), prefix, &out)
	return out
}

func diffValues(a, b reflect.Value, path string, out *[]KeyDiff) {
	if a.Kind() != reflect.Struct {
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			*out = append(*out, KeyDiff{path, a.Interface(), b.Interface()})
		}
		return
	}
	for i := range a.NumField() {
		fld := a.Type().Field(i)
		if !fld.IsExported() {
			continue
		}
		key := strings.Split(fld.Tag.Get("toml"), ",")[0]
		if key == "" || key == "-" {
			key = fld.Name
		}
		diffValues(a.Field(i), b.Field(i), path+"."+key, out)
	}
}

// TOMLValue writes v as it would appear in a TOML file: strings quoted,
// numbers and booleans bare.
func TOMLValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}
