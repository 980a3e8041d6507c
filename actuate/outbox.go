package actuate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/samlad/samlad/config/atomicfile"
)

// The outbox is the persistent outgoing store: one file per accepted
// verdict (its reject and verdict messages), named by a growing id, written
// through atomicfile (a temporary, fsynced, renamed, the directory fsynced),
// so that a message is either wholly in the store or not at all, and
// survives SIGKILL and power loss (without fsync, mqtt.store_no_fsync, only
// SIGKILL).
// A file is removed once the broker has acknowledged all its messages. Only
// ids and sequence numbers stay in memory, so memory is bounded by the limit
// whatever the outage lasts.

// Overflow policies.
const (
	DropOldest = "drop_oldest"
	RefuseNew  = "refuse_new"
)

// ErrStoreFull is returned for a verdict refused by the refuse_new policy.
var ErrStoreFull = errors.New("outgoing store full")

const (
	entryExt   = ".msg"
	tmpExt     = ".tmp"
	corruptExt = ".corrupt"
	lockName   = "lock"
)

// outMsg is one MQTT message of an entry.
type outMsg struct {
	Topic   string `json:"topic"`
	QoS     byte   `json:"qos"`
	Payload []byte `json:"payload"`
	// Reject marks the reject signal, which RejectMaxAge may drop.
	Reject bool `json:"reject,omitempty"`
}

// entry is what one file holds.
type entry struct {
	Camera   string   `json:"camera"`
	Seq      uint64   `json:"seq"`
	Accepted int64    `json:"accepted"` // unix nanoseconds
	Msgs     []outMsg `json:"msgs"`
}

// pending is the in-memory index of one stored entry.
type pending struct {
	id     uint64
	camera string
	seq    uint64
}

// overflow counts what the policy dropped or refused since the last report.
type overflow struct {
	dropped, refused uint64
	first, last      pending // oldest and newest affected entries
}

type outbox struct {
	dir    string
	limit  int
	policy string
	fsync  bool
	lock   *os.File

	mu      sync.Mutex
	queue   []pending // ascending ids
	next    uint64
	over    overflow
	dropped uint64 // totals since open
	refused uint64
}

// openOutbox opens (creating) the store in dir, takes its lock and indexes
// the entries a previous process left. Unreadable entries are renamed
// *.corrupt and reported in bad.
func openOutbox(dir string, limit int, policy string, fsync bool) (o *outbox, bad []string, err error) {
	if dir == "" {
		return nil, nil, errors.New("mqtt.store_dir is empty: set it to a writable directory, e.g. /var/lib/samlad/outbox")
	}
	if limit <= 0 {
		return nil, nil, fmt.Errorf("mqtt.store_limit %d: want > 0", limit)
	}
	if policy == "" {
		policy = DropOldest
	}
	if policy != DropOldest && policy != RefuseNew {
		return nil, nil, fmt.Errorf("mqtt.store_overflow %q: want %q or %q", policy, DropOldest, RefuseNew)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("outgoing store %s: %w (set mqtt.store_dir to a writable directory)", dir, err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, nil, fmt.Errorf("outgoing store %s: %w", dir, err)
	}
	// One process per store: two senders would deliver everything twice.
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, nil, fmt.Errorf("outgoing store %s is in use by another samlad process (%v); give each instance its own mqtt.store_dir", dir, err)
	}
	o = &outbox{dir: dir, limit: limit, policy: policy, fsync: fsync, lock: lock, next: 1}
	names, err := os.ReadDir(dir)
	if err != nil {
		o.close()
		return nil, nil, fmt.Errorf("outgoing store %s: %w", dir, err)
	}
	for _, de := range names {
		name := de.Name()
		switch {
		case strings.HasSuffix(name, tmpExt): // a write cut short; never accepted
			os.Remove(filepath.Join(dir, name))
		case strings.HasSuffix(name, entryExt):
			id, perr := strconv.ParseUint(strings.TrimSuffix(name, entryExt), 10, 64)
			e, rerr := o.read(id)
			if perr != nil || rerr != nil {
				os.Rename(filepath.Join(dir, name), filepath.Join(dir, name+corruptExt))
				bad = append(bad, name)
				continue
			}
			o.queue = append(o.queue, pending{id: id, camera: e.Camera, seq: e.Seq})
			o.next = max(o.next, id+1)
		}
	}
	slices.SortFunc(o.queue, func(a, b pending) int { return cmpU64(a.id, b.id) })
	return o, bad, nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (o *outbox) path(id uint64) string {
	return filepath.Join(o.dir, fmt.Sprintf("%020d%s", id, entryExt))
}

// put stores e durably. When the store is full it applies the policy:
// drop_oldest removes the oldest entry (even one being sent: its
// acknowledgement is then ignored); refuse_new returns ErrStoreFull.
func (o *outbox) put(e entry) (uint64, error) {
	body, err := encodeEntry(e)
	if err != nil {
		return 0, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	full := len(o.queue) >= o.limit
	if full && o.policy == RefuseNew {
		o.note(&o.over.refused, pending{camera: e.Camera, seq: e.Seq})
		o.refused++
		return 0, fmt.Errorf("%w (%d verdicts waiting in %s, mqtt.store_overflow=refuse_new): %s seq %d not stored",
			ErrStoreFull, len(o.queue), o.dir, e.Camera, e.Seq)
	}
	id := o.next
	final := o.path(id)
	write := atomicfile.WriteFile // temporary ".<name>.<random>.tmp", removed at open when cut short
	if !o.fsync {
		write = atomicfile.WriteFileNoSync
	}
	if err := write(final, body, 0o640); err != nil {
		os.Remove(final) // the rename may have happened before the directory sync failed
		return 0, fmt.Errorf("outgoing store %s: %w", o.dir, err)
	}
	o.next++
	o.queue = append(o.queue, pending{id: id, camera: e.Camera, seq: e.Seq})
	if full { // drop the oldest only once the new one is safely stored
		old := o.queue[0]
		o.queue = o.queue[1:]
		o.note(&o.over.dropped, old)
		o.dropped++
		if err := os.Remove(o.path(old.id)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return id, fmt.Errorf("outgoing store %s: drop oldest: %w", o.dir, err)
		}
	}
	return id, nil
}

func (o *outbox) note(counter *uint64, p pending) {
	if o.over.dropped+o.over.refused == 0 {
		o.over.first = p
	}
	o.over.last = p
	*counter++
}

// takeOverflow returns and clears what the policy dropped or refused since
// the last call.
func (o *outbox) takeOverflow() overflow {
	o.mu.Lock()
	defer o.mu.Unlock()
	ov := o.over
	o.over = overflow{}
	return ov
}

// after returns up to n pending ids greater than id, oldest first.
func (o *outbox) after(id uint64, n int) []uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	i, _ := slices.BinarySearchFunc(o.queue, id+1, func(p pending, t uint64) int { return cmpU64(p.id, t) })
	var ids []uint64
	for ; i < len(o.queue) && len(ids) < n; i++ {
		ids = append(ids, o.queue[i].id)
	}
	return ids
}

// len is the number of entries waiting.
func (o *outbox) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.queue)
}

// counts returns the totals dropped and refused since open.
func (o *outbox) counts() (dropped, refused uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.dropped, o.refused
}

// read loads an entry and checks its checksum.
func (o *outbox) read(id uint64) (entry, error) {
	b, err := os.ReadFile(o.path(id))
	if err != nil {
		return entry{}, err
	}
	return decodeEntry(b)
}

// ack removes an entry whose messages the broker has acknowledged. An entry
// already dropped by the overflow policy is not an error.
func (o *outbox) ack(id uint64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	i, found := slices.BinarySearchFunc(o.queue, id, func(p pending, t uint64) int { return cmpU64(p.id, t) })
	if !found {
		return nil
	}
	o.queue = slices.Delete(o.queue, i, i+1)
	if err := os.Remove(o.path(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("outgoing store %s: remove delivered entry: %w", o.dir, err)
	}
	return nil
}

// quarantine sets aside an entry that cannot be read, so it does not block the queue.
func (o *outbox) quarantine(id uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if i, found := slices.BinarySearchFunc(o.queue, id, func(p pending, t uint64) int { return cmpU64(p.id, t) }); found {
		o.queue = slices.Delete(o.queue, i, i+1)
	}
	os.Rename(o.path(id), o.path(id)+corruptExt)
}

func (o *outbox) close() {
	o.lock.Close() // releases the flock
}

// File layout: the JSON entry, a newline, then its CRC-32 (IEEE) in hex and a newline.
func encodeEntry(e entry) ([]byte, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode %s seq %d: %w", e.Camera, e.Seq, err)
	}
	return fmt.Appendf(body, "\n%08x\n", crc32.ChecksumIEEE(body)), nil
}

func decodeEntry(b []byte) (entry, error) {
	var e entry
	b = bytes.TrimSuffix(b, []byte("\n"))
	i := bytes.LastIndexByte(b, '\n')
	if i < 0 {
		return e, errors.New("truncated entry")
	}
	body, sum := b[:i], string(b[i+1:])
	if fmt.Sprintf("%08x", crc32.ChecksumIEEE(body)) != sum {
		return e, errors.New("checksum mismatch")
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return e, err
	}
	if len(e.Msgs) == 0 {
		return e, errors.New("entry without messages")
	}
	return e, nil
}

// age is how long ago the entry was accepted.
func (e entry) age(now time.Time) time.Duration { return now.Sub(time.Unix(0, e.Accepted)) }
