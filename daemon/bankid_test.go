package daemon

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var bankIDRe = regexp.MustCompile(`^[0-9a-f]{12}$`)

// bank_id names a bank's contents: 12 hex digits of its SHA-256, the same
// for a copy elsewhere, different for other contents, never a path.
func TestBankIDIsTheFilesHash(t *testing.T) {
	dir := t.TempDir()
	a, copyA, b := filepath.Join(dir, "a.bank"), filepath.Join(dir, "sub", "a.bank"), filepath.Join(dir, "b.bank")
	os.MkdirAll(filepath.Dir(copyA), 0o755)
	for p, data := range map[string]string{a: "abc", copyA: "abc", b: "abd"} {
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
	if got := bankID(a); got != "ba7816bf8f01" {
		t.Errorf("bankID = %q, want ba7816bf8f01 (sha256 of the file)", got)
	}
	if bankID(copyA) != bankID(a) || bankID(b) == bankID(a) || !bankIDRe.MatchString(bankID(b)) {
		t.Errorf("ids: a %q, copy %q, b %q", bankID(a), bankID(copyA), bankID(b))
	}
	if got := bankID(filepath.Join(dir, "gone.bank")); got != "" {
		t.Errorf("missing file: %q, want empty", got)
	}
}
