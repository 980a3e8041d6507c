//go:build samlad_leak

package daemon

// An injected leak, built only into the binary TestSoakCatchesInjectedLeak
// runs (go build -tags samlad_leak): 5 MiB per 1,000 frames kept alive and
// written, so that it is resident.
var leaked [][]byte

func init() {
	frameHook = func() {
		b := make([]byte, 5<<20/1000)
		for i := range b {
			b[i] = byte(i)
		}
		leaked = append(leaked, b)
	}
}
