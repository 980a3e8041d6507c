package freelist

import "testing"

func TestReusesReleasedValues(t *testing.T) {
	var l List[int]
	a := l.Get()
	*a = 7
	l.Put(a)
	if b := l.Get(); b != a || *b != 7 {
		t.Fatalf("Get after Put returned %p (%d), want the released %p", b, *b, a)
	}
	if c := l.Get(); c == a {
		t.Fatal("an empty list handed out a value still in use")
	}
}
