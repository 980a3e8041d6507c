package actuate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testEntry(seq uint64) entry {
	return entry{Camera: "cam1", Seq: seq, Accepted: int64(seq), Msgs: []outMsg{{Topic: "p/cam1/verdict", QoS: 1, Payload: []byte(`{"seq":1}`)}}}
}

func seqsOf(t *testing.T, o *outbox) []uint64 {
	t.Helper()
	var out []uint64
	for _, id := range o.after(0, 1<<30) {
		e, err := o.read(id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e.Seq)
	}
	return out
}

func TestOutboxOrderAndReopen(t *testing.T) {
	dir := t.TempDir()
	o, _, err := openOutbox(dir, 100, DropOldest, true)
	if err != nil {
		t.Fatal(err)
	}
	for s := uint64(1); s <= 5; s++ {
		if _, err := o.put(testEntry(s)); err != nil {
			t.Fatal(err)
		}
	}
	ids := o.after(0, 10)
	if err := o.ack(ids[1]); err != nil { // acknowledged out of order
		t.Fatal(err)
	}
	if _, _, err := openOutbox(dir, 100, DropOldest, true); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second open of a locked store = %v, want an in-use error", err)
	}
	o.close()

	os.WriteFile(filepath.Join(dir, "00000000000000000099.tmp"), []byte("half a write"), 0o640)
	o, bad, err := openOutbox(dir, 100, DropOldest, true)
	if err != nil || len(bad) != 0 {
		t.Fatalf("reopen: %v, bad %v", err, bad)
	}
	defer o.close()
	if got := seqsOf(t, o); len(got) != 4 || got[0] != 1 || got[1] != 3 || got[3] != 5 {
		t.Errorf("after reopen seqs = %v, want [1 3 4 5]", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "00000000000000000099.tmp")); !os.IsNotExist(err) {
		t.Errorf("leftover temporary file not removed")
	}
	if _, err := o.put(testEntry(6)); err != nil {
		t.Fatal(err)
	}
	if got := seqsOf(t, o); got[len(got)-1] != 6 {
		t.Errorf("new entry after reopen not last: %v", got)
	}
}

func TestOutboxCorruptEntryIsSetAside(t *testing.T) {
	dir := t.TempDir()
	o, _, _ := openOutbox(dir, 10, DropOldest, true)
	for s := uint64(1); s <= 3; s++ {
		o.put(testEntry(s))
	}
	ids := o.after(0, 10)
	o.close()
	p := filepath.Join(dir, filepath.Base(o.path(ids[1])))
	b, _ := os.ReadFile(p)
	b[5] ^= 0x20 // one flipped bit
	os.WriteFile(p, b, 0o640)

	o, bad, err := openOutbox(dir, 10, DropOldest, true)
	if err != nil {
		t.Fatal(err)
	}
	defer o.close()
	if len(bad) != 1 || o.len() != 2 {
		t.Fatalf("bad = %v, pending %d; want the flipped entry set aside and 2 left", bad, o.len())
	}
	if _, err := os.Stat(p + corruptExt); err != nil {
		t.Errorf("corrupt entry not kept for inspection: %v", err)
	}
}

func TestOutboxOverflowPolicies(t *testing.T) {
	t.Run(DropOldest, func(t *testing.T) {
		o, _, _ := openOutbox(t.TempDir(), 3, DropOldest, true)
		defer o.close()
		for s := uint64(1); s <= 5; s++ {
			if _, err := o.put(testEntry(s)); err != nil {
				t.Fatal(err)
			}
		}
		if got := seqsOf(t, o); len(got) != 3 || got[0] != 3 || got[2] != 5 {
			t.Errorf("seqs = %v, want [3 4 5]", got)
		}
		ov := o.takeOverflow()
		if ov.dropped != 2 || ov.first.seq != 1 || ov.last.seq != 2 {
			t.Errorf("overflow = %+v, want 2 dropped, seq 1..2", ov)
		}
		if ov := o.takeOverflow(); ov.dropped != 0 {
			t.Errorf("overflow reported twice")
		}
		files, _ := filepath.Glob(filepath.Join(o.dir, "*"+entryExt))
		if len(files) != 3 {
			t.Errorf("%d entry files on disk, want 3", len(files))
		}
	})
	t.Run(RefuseNew, func(t *testing.T) {
		o, _, _ := openOutbox(t.TempDir(), 3, RefuseNew, true)
		defer o.close()
		for s := uint64(1); s <= 5; s++ {
			_, err := o.put(testEntry(s))
			if s > 3 && !errors.Is(err, ErrStoreFull) {
				t.Errorf("put %d = %v, want ErrStoreFull", s, err)
			}
		}
		if got := seqsOf(t, o); len(got) != 3 || got[0] != 1 || got[2] != 3 {
			t.Errorf("seqs = %v, want [1 2 3]", got)
		}
		if _, refused := o.counts(); refused != 2 {
			t.Errorf("refused = %d, want 2", refused)
		}
	})
}

func TestOutboxConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		dir    string
		limit  int
		policy string
		want   string
	}{
		{"", 10, DropOldest, "mqtt.store_dir"},
		{t.TempDir(), 0, DropOldest, "mqtt.store_limit"},
		{t.TempDir(), 10, "drop_newest", "mqtt.store_overflow"},
		{"/proc/samlad-outbox", 10, DropOldest, "writable"},
	} {
		if _, _, err := openOutbox(tc.dir, tc.limit, tc.policy, true); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("openOutbox(%q, %d, %q) = %v, want an error naming %s", tc.dir, tc.limit, tc.policy, err, tc.want)
		}
	}
}

// BenchmarkOutboxPut measures the durable write (fsync of file and
// directory) that every verdict pays, against the same write without fsync.
func BenchmarkOutboxPut(b *testing.B) {
	e := testEntry(1)
	e.Msgs[0].Payload = make([]byte, 1200) // a verdict with a few findings
	b.Run("fsync", func(b *testing.B) {
		o, _, _ := openOutbox(b.TempDir(), b.N+1, DropOldest, true)
		defer o.close()
		for b.Loop() {
			if _, err := o.put(e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("no-fsync-baseline", func(b *testing.B) {
		o, _, _ := openOutbox(b.TempDir(), b.N+1, DropOldest, false)
		defer o.close()
		for b.Loop() {
			if _, err := o.put(e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
