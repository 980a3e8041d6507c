package config

import (
	"fmt"
	"reflect"
	"strings"
)

// Setting is one config key, by its TOML path, and a value.
type Setting struct {
	Key   string // e.g. "pipeline.layout.grid"
	Value any
}

func (s Setting) String() string { return fmt.Sprintf("%s = %v", s.Key, s.Value) }

// PipelineChanges lists the keys whose values differ from a to b, with b's
// values, in the order of the schema: what a recipe sets.
func PipelineChanges(a, b Pipeline) []Setting {
	return changes(reflect.ValueOf(a), reflect.ValueOf(b), "pipeline")
}

func changes(a, b reflect.Value, path string) []Setting {
	if a.Kind() != reflect.Struct {
		if reflect.DeepEqual(a.Interface(), b.Interface()) {
			return nil
		}
		return []Setting{{path, b.Interface()}}
	}
	var out []Setting
	for i := range a.NumField() {
		f := a.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		key := strings.Split(f.Tag.Get("toml"), ",")[0]
		if key == "" || key == "-" {
			key = f.Name
		}
		out = append(out, changes(a.Field(i), b.Field(i), path+"."+key)...)
	}
	return out
}
