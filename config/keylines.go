package config

import (
	"fmt"
	"strconv"
	"strings"
)

// keyLines maps every key path written in a TOML document to the line it is
// first written on: "pipeline" to its [pipeline] header, "pipeline.k" to its
// assignment, "camera[1]" to the second [[camera]] header. The TOML decoder
// keeps key positions private, so this small scanner recovers them. It runs
// only on documents the decoder has accepted, and it never fails: keys inside
// inline tables and inline arrays map to the line of the key holding them.
func keyLines(src string) map[string]int {
	s := &lineScanner{src: src, line: 1, arrays: map[string]int{}, lines: map[string]int{}}
	for s.pos < len(s.src) {
		start := s.pos
		switch c := s.src[s.pos]; c {
		case '\n':
			s.line++
			s.pos++
		case ' ', '\t', '\r':
			s.pos++
		case '#':
			s.skipToEOL()
		case '[':
			s.header()
		default:
			s.keyValue()
		}
		if s.pos == start { // something the scanner does not understand: move on
			s.pos++
		}
	}
	return s.lines
}

// lineOf returns the line of key, or of its closest written parent, or 0.
func lineOf(lines map[string]int, key string) int {
	for key != "" {
		if l, ok := lines[key]; ok {
			return l
		}
		key = parentKey(key)
	}
	return 0
}

// parentKey strips the last ".name" or "[i]" from a key path.
func parentKey(key string) string {
	if strings.HasSuffix(key, "]") {
		if i := strings.LastIndexByte(key, '['); i >= 0 {
			return key[:i]
		}
	}
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[:i]
	}
	return ""
}

func joinKey(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

type lineScanner struct {
	src    string
	pos    int
	line   int
	table  string         // current table's key path
	arrays map[string]int // array-of-tables key path -> elements seen
	lines  map[string]int
}

func (s *lineScanner) mark(key string) {
	if _, ok := s.lines[key]; !ok && key != "" {
		s.lines[key] = s.line
	}
}

// header reads "[a.b]" or "[[a.b]]" and makes it the current table.
func (s *lineScanner) header() {
	array := strings.HasPrefix(s.src[s.pos:], "[[")
	if array {
		s.pos += 2
	} else {
		s.pos++
	}
	parts := s.keyParts()
	path := ""
	for i, p := range parts {
		path = joinKey(path, p)
		if array && i == len(parts)-1 {
			n := s.arrays[path]
			s.arrays[path] = n + 1
			path = fmt.Sprintf("%s[%d]", path, n)
		} else if n, ok := s.arrays[path]; ok {
			path = fmt.Sprintf("%s[%d]", path, n-1)
		}
	}
	s.table = path
	s.mark(path)
	s.skipToEOL()
}

// keyValue reads "a.b = value".
func (s *lineScanner) keyValue() {
	parts := s.keyParts()
	if len(parts) == 0 {
		return
	}
	path := s.table
	for _, p := range parts {
		path = joinKey(path, p)
		s.mark(path)
	}
	if s.pos < len(s.src) && s.src[s.pos] == '=' {
		s.pos++
	}
	s.skipValue()
}

// keyParts reads a dotted key of bare, "basic" and 'literal' parts.
func (s *lineScanner) keyParts() []string {
	var parts []string
	for s.pos < len(s.src) {
		s.skipSpaces()
		if s.pos >= len(s.src) {
			break
		}
		start := s.pos
		switch s.src[s.pos] {
		case '"':
			s.pos++
			for s.pos < len(s.src) && s.src[s.pos] != '"' && s.src[s.pos] != '\n' {
				if s.src[s.pos] == '\\' {
					s.pos++
				}
				s.pos++
			}
			s.pos = min(s.pos, len(s.src))
			s.pos = min(s.pos+1, len(s.src))
			quoted := s.src[start:s.pos]
			if u, err := strconv.Unquote(quoted); err == nil {
				parts = append(parts, u)
			} else {
				parts = append(parts, strings.Trim(quoted, `"`))
			}
		case '\'':
			end := strings.IndexAny(s.src[s.pos+1:], "'\n")
			if end < 0 {
				s.pos = len(s.src)
				return parts
			}
			parts = append(parts, s.src[s.pos+1:s.pos+1+end])
			s.pos += end + 2
		default:
			for s.pos < len(s.src) && isBareKeyChar(s.src[s.pos]) {
				s.pos++
			}
			if s.pos == start {
				return parts
			}
			parts = append(parts, s.src[start:s.pos])
		}
		s.skipSpaces()
		if s.pos >= len(s.src) || s.src[s.pos] != '.' {
			break
		}
		s.pos++
	}
	return parts
}

func isBareKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func (s *lineScanner) skipSpaces() {
	for s.pos < len(s.src) && (s.src[s.pos] == ' ' || s.src[s.pos] == '\t') {
		s.pos++
	}
}

// skipToEOL moves to the end of the line, e.g. past a comment, stopping
// before the newline.
func (s *lineScanner) skipToEOL() {
	if i := strings.IndexByte(s.src[s.pos:], '\n'); i >= 0 {
		s.pos += i
	} else {
		s.pos = len(s.src)
	}
}

// skipValue moves past a value, which may span lines inside strings,
// arrays and inline tables, and stops at the newline that ends it.
func (s *lineScanner) skipValue() {
	depth := 0
	for s.pos < len(s.src) {
		switch c := s.src[s.pos]; c {
		case '\n':
			if depth == 0 {
				return
			}
			s.line++
			s.pos++
		case '#':
			s.skipToEOL()
		case '"', '\'':
			s.skipString(c)
		case '[', '{':
			depth++
			s.pos++
		case ']', '}':
			if depth > 0 {
				depth--
			}
			s.pos++
		default:
			s.pos++
		}
	}
}

// skipString moves past a basic or literal string, single- or multi-line.
func (s *lineScanner) skipString(q byte) {
	triple := strings.Repeat(string(q), 3)
	multi := strings.HasPrefix(s.src[s.pos:], triple)
	if multi {
		s.pos += 3
	} else {
		s.pos++
	}
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case c == '\\' && q == '"':
			if s.pos+1 < len(s.src) && s.src[s.pos+1] == '\n' {
				s.line++
			}
			s.pos = min(s.pos+2, len(s.src))
			continue
		case c == '\n':
			if !multi {
				return
			}
			s.line++
		case c == q && !multi:
			s.pos++
			return
		case c == q && strings.HasPrefix(s.src[s.pos:], triple):
			s.pos += 3
			// Up to two quotes may end the content right before the delimiter.
			for i := 0; i < 2 && s.pos < len(s.src) && s.src[s.pos] == q; i++ {
				s.pos++
			}
			return
		}
		s.pos++
	}
}
