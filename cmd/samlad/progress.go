package main

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/samlad/samlad/eval/runner"
)

// isTerminal reports whether f is a terminal (what golang.org/x/term does).
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// newProgress returns eval's progress bar on f when f is a terminal, and nil
// (a silent bar) when it is a pipe, a file or a journal: logs and scripts
// get no carriage returns.
func newProgress(f *os.File) *runner.Progress {
	if !isTerminal(f) {
		return nil
	}
	return runner.NewProgress(f)
}
