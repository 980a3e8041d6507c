package runner

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/samlad/samlad/config"
)

// Sweep turns a sweep spec, "key=v1,v2,...", into one variant per value,
// for Ablate: key is a pipeline key by its TOML path (with or without the
// "pipeline." prefix, e.g. "k", "layout.grid", "pipeline.position_weight"),
// each value a TOML value (a bare word is taken as a string). Each value
// is checked as the config file would check it (unknown key, wrong type,
// out of range: the error names the key); a variant sets that key on the
// run's pipeline, as an ablation variant does.
func Sweep(spec string) ([]Variant, error) {
	key, list, ok := strings.Cut(spec, "=")
	key = strings.TrimPrefix(strings.TrimSpace(key), "pipeline.")
	if !ok || key == "" || strings.TrimSpace(list) == "" {
		return nil, fmt.Errorf("--sweep %q: want key=v1,v2,... (a pipeline key, e.g. k=1,2,4 or layout.grid=3,4)", spec)
	}
	path := strings.Split(key, ".")
	var out []Variant
	for _, raw := range strings.Split(list, ",") {
		raw = strings.TrimSpace(raw)
		lit := raw
		var probe map[string]any
		if _, err := toml.Decode("v = "+raw, &probe); err != nil {
			lit = strconv.Quote(raw)
		}
		// The value alone in a config file: the schema's own checks.
		table, leaf := "pipeline", path[len(path)-1]
		if len(path) > 1 {
			table += "." + strings.Join(path[:len(path)-1], ".")
		}
		cfg, err := config.Parse([]byte(fmt.Sprintf("[%s]\n%s = %s\n", table, leaf, lit)), "--sweep")
		if err != nil {
			var es config.Errors
			if errors.As(err, &es) {
				for _, e := range es {
					e.Line = 0 // of the probe, not of anything the user wrote
				}
			}
			return nil, err
		}
		src, ok := fieldByKey(reflect.ValueOf(&cfg.Pipeline).Elem(), path)
		if !ok || src.Kind() == reflect.Struct {
			return nil, fmt.Errorf("--sweep %q: pipeline.%s is not a single setting", spec, key)
		}
		val := src.Interface()
		out = append(out, Variant{Factor: key, Value: raw, Apply: func(p *config.Pipeline) {
			dst, _ := fieldByKey(reflect.ValueOf(p).Elem(), path)
			dst.Set(reflect.ValueOf(val))
		}})
	}
	return out, nil
}

// fieldByKey is the field of struct v at the TOML key path.
func fieldByKey(v reflect.Value, path []string) (reflect.Value, bool) {
	for _, name := range path {
		if v.Kind() != reflect.Struct {
			return reflect.Value{}, false
		}
		found := false
		for i := range v.NumField() {
			f := v.Type().Field(i)
			tag := strings.Split(f.Tag.Get("toml"), ",")[0]
			if f.IsExported() && (tag == name || tag == "" && f.Name == name) {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			return reflect.Value{}, false
		}
	}
	return v, true
}
