package infer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/samlad/samlad/config"
	"github.com/samlad/samlad/eval/scenes"
	"github.com/samlad/samlad/infer"
	"github.com/samlad/samlad/infer/builtin"
)

// bankHeader is magic (8) + version (4) + payload length (8) + SHA-256 (32).
const bankHeader = 52

// fuzzBank is a small real bank (64 px, three good bag scenes) and the
// backend it was enrolled with, made once per process.
var fuzzBank struct {
	once sync.Once
	be   *infer.Backend
	p    config.Pipeline
	file []byte
	err  error
}

func smallBankFile(tb testing.TB) (*infer.Backend, config.Pipeline, []byte) {
	tb.Helper()
	fuzzBank.once.Do(func() {
		p := config.DefaultPipeline()
		p.InputSize, p.Upsample, p.K = 64, 2, 2
		fuzzBank.p = p
		fuzzBank.be, fuzzBank.err = builtin.New(p)
		if fuzzBank.err != nil {
			return
		}
		var good []*infer.Image
		for s := int64(1); s <= 3; s++ {
			sc, err := scenes.Generate(scenes.Bag, s, p.InputSize, scenes.Good)
			if err != nil {
				fuzzBank.err = err
				return
			}
			good = append(good, infer.FromImage(sc.Image, p.InputSize))
		}
		bank, err := infer.Enroll(context.Background(), fuzzBank.be, p, good, nil)
		if err != nil {
			fuzzBank.err = err
			return
		}
		dir, err := os.MkdirTemp("", "samlad-bank-fuzz-")
		if err != nil {
			fuzzBank.err = err
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "small.bank")
		if fuzzBank.err = bank.Save(path); fuzzBank.err == nil {
			fuzzBank.file, fuzzBank.err = os.ReadFile(path)
		}
	})
	if fuzzBank.err != nil {
		tb.Fatalf("small bank: %v", fuzzBank.err)
	}
	return fuzzBank.be, fuzzBank.p, fuzzBank.file
}

// reseal gives data a valid header for its payload (current version, true
// length, true checksum), so that mutations of the payload get past the
// checksum and reach the decoder and the bank's consistency checks, as a
// file written by a buggy or hostile tool would.
func reseal(data []byte) []byte {
	if len(data) < bankHeader {
		return data
	}
	out := append([]byte(nil), data...)
	payload := out[bankHeader:]
	binary.LittleEndian.PutUint32(out[8:], uint32(infer.BankVersion))
	binary.LittleEndian.PutUint64(out[12:], uint64(len(payload)))
	sum := sha256.Sum256(payload)
	copy(out[20:], sum[:])
	return out
}

// FuzzLoadBank feeds arbitrary bank files to LoadBank: truncated,
// bit-flipped, other versions, and (reseal) corrupt payloads with a valid
// checksum. Loading must never panic or hang; a bank that loads must either
// be refused by NewEngine or inspect a frame without panicking. `go test`
// runs the seeds (here and in testdata/fuzz); `make fuzz` runs it for longer.
func FuzzLoadBank(f *testing.F) {
	_, _, file := smallBankFile(f)
	flip := func(i int) []byte {
		c := append([]byte(nil), file...)
		c[i%len(c)] ^= 0x5a
		return c
	}
	version := func(v uint32) []byte {
		c := append([]byte(nil), file...)
		binary.LittleEndian.PutUint32(c[8:], v)
		return c
	}
	for _, s := range []struct {
		data   []byte
		reseal bool
	}{
		{file, false},
		{file[:len(file)/2], false},
		{file[:bankHeader], false},
		{file[:10], false},
		{flip(len(file) - 7), false},
		{flip(bankHeader + 40), true},
		{flip(len(file) / 2), true},
		{flip(len(file) - 3), true},
		{version(0), false},
		{version(infer.BankVersion + 1), false},
		{append(file[:bankHeader:bankHeader], file[bankHeader:len(file)-100]...), true},
		{nil, false},
	} {
		f.Add(s.data, s.reseal)
	}
	f.Fuzz(func(t *testing.T, data []byte, resealed bool) {
		be, p, file := smallBankFile(t)
		// "Never hang": one input may take at most 10 s (a slow machine
		// inspects this bank in well under a second).
		watchdog := time.AfterFunc(10*time.Second, func() {
			panic(fmt.Sprintf("FuzzLoadBank: one input (%d bytes, reseal %t) took over 10 s", len(data), resealed))
		})
		defer watchdog.Stop()
		if resealed {
			data = reseal(data)
		}
		path := filepath.Join(t.TempDir(), "fuzz.bank")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		bank, err := infer.LoadBank(path)
		if err != nil && bytes.Equal(data, file) {
			t.Fatalf("the unmodified bank does not load: %v", err)
		}
		if err != nil {
			if bank != nil {
				t.Fatalf("bank returned with error %v", err)
			}
			return
		}
		eng, err := infer.NewEngine(be, bank, bank.Pipeline(p))
		if err != nil {
			if bytes.Equal(data, file) {
				t.Fatalf("the unmodified bank is refused: %v", err)
			}
			return
		}
		sc, err := scenes.Generate(scenes.Bag, 99, p.InputSize, scenes.Missing)
		if err != nil {
			t.Fatal(err)
		}
		eng.Inspect(context.Background(), infer.FromImage(sc.Image, p.InputSize))
	})
}
