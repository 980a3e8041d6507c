package config

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// typeChecker walks the decoded TOML document against the schema structs and
// records every unknown key and every value of the wrong type, so that one run
// reports them all (the TOML decoder stops at the first).
type typeChecker struct {
	errs []*Error
}

// refused are keys that look plausible but must not be used, with the reason.
var refused = map[string]string{
	"mqtt.password": "a password is not accepted in the config file; put it in a file only samlad can read " +
		"and set mqtt.password_file, or set mqtt.password_env to the name of an environment variable holding it",
}

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

func (tc *typeChecker) add(key string, v any, format string, args ...any) {
	tc.errs = append(tc.errs, &Error{Key: key, Value: tomlValue(v), Msg: fmt.Sprintf(format, args...)})
}

// table checks every key of a TOML table against struct type t and deletes
// the keys in error, so that the rest can still be decoded and validated.
func (tc *typeChecker) table(raw map[string]any, t reflect.Type, path string) {
	fields := tomlFields(t)
	for key, v := range raw {
		kp := joinKey(path, key)
		f, ok := fields[key]
		if !ok {
			tc.unknown(kp, key, v, fields)
			delete(raw, key)
			continue
		}
		if !tc.value(v, f.Type, kp) {
			delete(raw, key)
		}
	}
}

func (tc *typeChecker) unknown(kp, key string, v any, fields map[string]reflect.StructField) {
	if why, ok := refused[schemaKey(kp)]; ok {
		tc.errs = append(tc.errs, &Error{Key: kp, Msg: why})
		return
	}
	what := "unknown key"
	if _, isTable := v.(map[string]any); isTable {
		what = "unknown section"
	}
	if s := closest(key, fields); s != "" {
		what += fmt.Sprintf(" (did you mean %s?)", s)
	}
	tc.errs = append(tc.errs, &Error{Key: kp, Msg: what})
}

// value checks one TOML value against Go type t. It returns false when the
// value cannot be decoded into t; errors inside a table are dropped from it.
func (tc *typeChecker) value(v any, t reflect.Type, path string) bool {
	n := len(tc.errs)
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		s, ok := v.(string)
		if !ok {
			want := "a string"
			if t == reflect.TypeFor[Duration]() {
				want = `a duration string such as "500ms" or "2s"`
			}
			tc.add(path, v, "wrong type: want %s, got %s", want, tomlType(v))
			return false
		}
		u := reflect.New(t).Interface().(encoding.TextUnmarshaler)
		if err := u.UnmarshalText([]byte(s)); err != nil {
			tc.add(path, v, "%v", err)
			return false
		}
		return true
	}
	switch t.Kind() {
	case reflect.Pointer:
		return tc.value(v, t.Elem(), path)
	case reflect.String:
		if _, ok := v.(string); !ok {
			tc.add(path, v, "wrong type: want a string, got %s", tomlType(v))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			tc.add(path, v, "wrong type: want true or false, got %s", tomlType(v))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(int64)
		if !ok {
			tc.add(path, v, "wrong type: want an integer, got %s", tomlType(v))
		} else if reflect.New(t).Elem().OverflowInt(n) {
			tc.add(path, v, "out of range for a %d-bit integer", t.Bits())
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(int64)
		if !ok {
			tc.add(path, v, "wrong type: want an integer, got %s", tomlType(v))
		} else if n < 0 || reflect.New(t).Elem().OverflowUint(uint64(n)) {
			tc.add(path, v, "out of range for an unsigned %d-bit integer", t.Bits())
		}
	case reflect.Float32, reflect.Float64:
		switch n := v.(type) {
		case int64:
			if n > 1<<53 || n < -(1<<53) {
				tc.add(path, v, "too large to be exact as a number")
			}
		case float64:
			if math.IsNaN(n) || math.IsInf(n, 0) {
				tc.add(path, v, "must be a finite number")
			}
		default:
			tc.add(path, v, "wrong type: want a number, got %s", tomlType(v))
		}
	case reflect.Slice:
		items, ok := array(v)
		if !ok {
			want := "an array"
			if t.Elem().Kind() == reflect.Struct {
				want = fmt.Sprintf("an array of tables ([[%s]])", path)
			}
			tc.add(path, v, "wrong type: want %s, got %s", want, tomlType(v))
			return false
		}
		ok = true
		for i, item := range items {
			ok = tc.value(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)) && ok
		}
		return ok
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			tc.add(path, v, "wrong type: want a table ([%s]), got %s", path, tomlType(v))
			return false
		}
		tc.table(m, t, path)
		return true
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok || t.Key().Kind() != reflect.String {
			tc.add(path, v, "wrong type: want a table, got %s", tomlType(v))
			return false
		}
		for k, item := range m {
			if !tc.value(item, t.Elem(), joinKey(path, k)) {
				delete(m, k)
			}
		}
		return true
	case reflect.Interface:
	default:
		tc.add(path, v, "the schema has a field of type %s that TOML cannot fill", t)
	}
	return len(tc.errs) == n
}

// tomlFields maps the TOML key of each exported field of struct t to it.
func tomlFields(t reflect.Type) map[string]reflect.StructField {
	fields := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f
	}
	return fields
}

// schemaKey drops array indices: "camera[2].name" -> "camera.name".
func schemaKey(path string) string {
	var b strings.Builder
	skip := false
	for _, r := range path {
		switch {
		case r == '[':
			skip = true
		case r == ']':
			skip = false
		case !skip:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// closest suggests the field name nearest to a misspelt key.
func closest(key string, fields map[string]reflect.StructField) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	best, bestD := "", 3 // suggest only within two edits
	for _, n := range names {
		if strings.EqualFold(n, key) {
			return n
		}
		if d := editDistance(strings.ToLower(key), n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func array(v any) ([]any, bool) {
	switch a := v.(type) {
	case []any:
		return a, true
	case []map[string]any:
		out := make([]any, len(a))
		for i, m := range a {
			out[i] = m
		}
		return out, true
	}
	return nil, false
}

// tomlType names the TOML type of a decoded value.
func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date-time"
	case map[string]any:
		return "a table"
	case []any, []map[string]any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}

// tomlValue writes a scalar the way it appears in TOML, for messages.
// Tables and arrays are not repeated; long values are cut.
func tomlValue(v any) string {
	var s string
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		s = strconv.Quote(x)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case int64, bool:
		s = fmt.Sprint(x)
	case time.Time:
		s = x.Format(time.RFC3339Nano)
	default:
		return ""
	}
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}
