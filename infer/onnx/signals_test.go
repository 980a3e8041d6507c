package onnx

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// The child half of TestShutdownOnSIGTERM: it creates the backend, waits for
// SIGTERM, closes the backend and exits 0.
func TestMain(m *testing.M) {
	if mode := os.Getenv("SAMLAD_ONNX_SIGTERM_CHILD"); mode != "" {
		os.Exit(sigtermChild(mode))
	}
	os.Exit(m.Run())
}

func sigtermChild(mode string) int {
	// Notify before New, as samlad run does: New snapshots the handlers,
	// and a signal the parent ignores (SIGHUP under nohup) has none of
	// Go's until Notify installs it.
	sig := childSignal(mode)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sig)
	rt, models, p := fixtureSections(os.Getenv("SAMLAD_ORT_LIB"), fixtureDir)
	b, err := New(rt, models, p)
	if err != nil {
		fmt.Println("new:", err)
		return 3
	}
	if mode != "plain" {
		// What the CUDA provider does: replace the handler behind Go's back.
		setDefaultHandler(sig)
	}
	if strings.HasSuffix(mode, "restored") {
		NotifyShutdown(ch)
	}
	fmt.Println("ready")
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		fmt.Println("no signal")
		return 4
	}
	if _, err := b.Stages().Features.Extract(scene(224, 224, testParts...)); err != nil {
		fmt.Println("extract after signal:", err)
		return 5
	}
	b.Close()
	fmt.Println("clean shutdown")
	return 0
}

// childSignal is the signal a child mode is sent: SIGHUP (the daemon's
// reload) for the hup modes, else SIGTERM.
func childSignal(mode string) syscall.Signal {
	if strings.HasPrefix(mode, "hup") {
		return syscall.SIGHUP
	}
	return syscall.SIGTERM
}

// setDefaultHandler sets sig's disposition to SIG_DFL with a raw
// rt_sigaction, bypassing Go's signal bookkeeping.
func setDefaultHandler(sig syscall.Signal) {
	var act struct {
		handler, flags, restorer uintptr
		mask                     uint64
	}
	syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
}

func TestShutdownOnSIGTERM(t *testing.T) {
	lib := ortLibrary(t)
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skip("raw rt_sigaction layout is only written for linux amd64/arm64")
	}
	cases := []struct {
		mode     string
		wantKill bool
	}{
		{"plain", false},    // CPU provider: Go's handler stays in place
		{"clobbered", true}, // a handler replaced as CUDA does kills the process
		{"restored", false}, // NotifyShutdown puts Go's handler back
		{"hup-clobbered", true},
		{"hup-restored", false}, // SIGHUP (reload) too
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "SAMLAD_ONNX_SIGTERM_CHILD="+c.mode, "SAMLAD_ORT_LIB="+lib)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(out)
			var lines []string
			ready := false
			for !ready && sc.Scan() {
				lines = append(lines, sc.Text())
				ready = sc.Text() == "ready"
			}
			if !ready {
				t.Fatalf("child never got ready: %v, output %q", cmd.Wait(), lines)
			}
			if err := cmd.Process.Signal(childSignal(c.mode)); err != nil {
				t.Fatal(err)
			}
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
			err = cmd.Wait()
			var exit *exec.ExitError
			killed := errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signaled()
			if c.wantKill {
				if !killed {
					t.Errorf("child was not killed by SIGTERM (err %v, output %q)", err, lines)
				}
				return
			}
			if err != nil || !strings.Contains(strings.Join(lines, "\n"), "clean shutdown") {
				t.Errorf("child: err %v, output %q; want exit 0 after a clean shutdown", err, lines)
			}
		})
	}
}
