package daemon

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
)

// bankID is a verdict's bank_id: the first 12 hex digits of the SHA-256 of
// the bank file's bytes. It names the bank's contents, not where it lies:
// the same bank copied to another station has the same id, and a bank
// re-enrolled under the same name gets a new one. "" when the file cannot
// be read (the field is then left out of the verdict).
func bankID(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
