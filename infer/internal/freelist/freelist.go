// Package freelist keeps released values for reuse in the per-frame hot
// path. Unlike sync.Pool a List is not emptied by the garbage collector,
// which would cost allocations in the steady state; it holds at most as many
// values as were in use at once.
package freelist

import "sync"

// List is a free list of *T; the zero value is ready to use.
type List[T any] struct {
	mu   sync.Mutex
	free []*T
}

// Get returns a released value, or a new zero one.
func (l *List[T]) Get() *T {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.free); n > 0 {
		v := l.free[n-1]
		l.free = l.free[:n-1]
		return v
	}
	return new(T)
}

// Put releases v for a later Get.
func (l *List[T]) Put(v *T) {
	l.mu.Lock()
	l.free = append(l.free, v)
	l.mu.Unlock()
}
