package cli

import (
	"bytes"
	"flag"
	"strings"
	"testing"
)

func TestUsageListsCommandsByName(t *testing.T) {
	var b bytes.Buffer
	Usage(&b, "samlad", map[string]Command{"run": {Summary: "the daemon"}, "enroll": {Summary: "build a bank"}})
	out := b.String()
	if !strings.HasPrefix(out, "usage: samlad <command>") || strings.Index(out, "enroll") > strings.Index(out, "run ") {
		t.Errorf("usage:\n%s", out)
	}
}

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		ok   bool
	}{{[]string{"-n", "3"}, 0, true}, {[]string{"-h"}, 0, false}, {[]string{"-bogus"}, 2, false}} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.Int("n", 0, "")
		if code, ok := ParseFlags(fs, tc.args); code != tc.code || ok != tc.ok {
			t.Errorf("%v: %d %v, want %d %v", tc.args, code, ok, tc.code, tc.ok)
		}
	}
}
