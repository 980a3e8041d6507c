package config

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// FuzzParse feeds arbitrary files to Parse: it must never panic or hang,
// every error must carry the file name and a line inside the file, and an
// accepted file must print (as `samlad config check` does) to a config that
// parses back to the same thing. `go test` runs the seeds; `make fuzz` runs
// it for longer.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile(examplePath)
	if err != nil {
		f.Fatal(err)
	}
	ex := string(example)
	for _, s := range []string{
		ex,
		"",
		strings.ReplaceAll(ex, "\n", "\r\n"),
		"\ufeff" + ex,
		ex[:len(ex)/2],
		strings.Replace(ex, "upsample = 8", "upsample = 3", 1),
		strings.Replace(ex, "k = 2", `k = "2"`, 1),
		strings.Replace(ex, "[mqtt]", "[mqtt]\npassword = \"hunter2\"", 1),
		strings.Replace(ex, "[[camera]]", "[camera]", 1),
		strings.Replace(ex, "epsilon = 0.01", "epsilon = nan", 1),
		strings.Replace(ex, "queue_depth = 4", "queue_depth = 9223372036854775807", 1),
		strings.Replace(ex, `deadline = "500ms"`, `deadline = 1979-05-27T07:32:00Z`, 1),
		ex + "\n[pipeline]\nk = 3\n",
		ex + "\n[[camera]]\nname = \"line1\"\n",
		"[pipeline]\nbackend = \"builtin\ninput_size = 224\n",
		"a = [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]\n",
		"[[camera]]\n[[camera]]\n[camera.x]\ny = '''\n[z]\n'''\n",
		"[runtime]\nproviders = [\"cpu\",\n\"cpu\"]\n[runtime.tensorrt]\nprofile_shapes = [\"x:1x3\", 7]\n",
		"camera = [{name = \"a\", source = \"folder\", folder = \"f\", bank = \"b\"}, {name = \"a\"}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkKeyLines(t, data)
		cfg, err := Parse(data, "fuzz.toml")
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error %T is not a list of located problems: %v", err, err)
			}
			lines := bytes.Count(data, []byte("\n")) + 1
			for _, e := range errs {
				if e.File != "fuzz.toml" || e.Line < 0 || e.Line > lines || e.Msg == "" {
					t.Fatalf("badly located error (file has %d lines): %#v", lines, e)
				}
			}
			return
		}
		if errs, _ := validate(cfg); len(errs) > 0 {
			t.Fatalf("accepted a config that fails validation: %v", errs)
		}
		var printed bytes.Buffer
		if err := toml.NewEncoder(&printed).Encode(cfg); err != nil {
			t.Fatalf("cannot print an accepted config: %v", err)
		}
		again, err := Parse(printed.Bytes(), "fuzz.toml")
		if err != nil {
			t.Fatalf("the printed config does not parse: %v\n%s", err, printed.String())
		}
		var reprinted bytes.Buffer
		if err := toml.NewEncoder(&reprinted).Encode(again); err != nil {
			t.Fatal(err)
		}
		if printed.String() != reprinted.String() {
			t.Fatalf("printing is not stable:\n%s\n---\n%s", printed.String(), reprinted.String())
		}
	})
}

// checkKeyLines checks the key->line index of a valid TOML document: every
// bare key it lists must be written on the line it gives.
func checkKeyLines(t *testing.T, data []byte) {
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return
	}
	src := strings.Split(string(data), "\n")
	for key, line := range keyLines(string(data)) {
		if line < 1 || line > len(src) {
			t.Fatalf("key %s on line %d of %d", key, line, len(src))
		}
		last := key
		if strings.HasSuffix(last, "]") {
			last = parentKey(last)
		}
		last = last[strings.LastIndexByte(last, '.')+1:]
		bare := last != ""
		for i := range len(last) {
			bare = bare && isBareKeyChar(last[i])
		}
		if bare && !strings.Contains(src[line-1], last) {
			t.Fatalf("key %s indexed at line %d, which reads %q", key, line, src[line-1])
		}
	}
}
