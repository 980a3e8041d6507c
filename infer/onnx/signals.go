package onnx

/*
#include <signal.h>
#include <string.h>

// Snapshot of every catchable signal's disposition, taken before ONNX Runtime
// loads an execution provider and restored afterwards.
static struct sigaction samlad_saved[NSIG];
static int samlad_have[NSIG];

static void samlad_save_signals(void) {
	for (int s = 1; s < NSIG; s++) {
		samlad_have[s] = 0;
		if (s == SIGKILL || s == SIGSTOP) continue;
		if (sigaction(s, NULL, &samlad_saved[s]) == 0) samlad_have[s] = 1;
	}
}

static int samlad_restore_signal(int s) {
	if (s <= 0 || s >= NSIG || !samlad_have[s]) return 0;
	return sigaction(s, &samlad_saved[s], NULL) == 0;
}
*/
import "C"

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// The CUDA provider (through the CUDA runtime) installs its own handlers for
// SIGINT, SIGTERM and others when a session is created, replacing Go's; Go
// then never sees SIGTERM, or panics on a handler without SA_ONSTACK
// (yalue/onnxruntime_go issue 140). New therefore snapshots the handlers
// before creating sessions and puts them back afterwards.

var signalMu sync.Mutex

// saveSignals records the current handlers of all signals.
func saveSignals() {
	signalMu.Lock()
	defer signalMu.Unlock()
	C.samlad_save_signals()
}

// restoreSignals puts back the handlers recorded by the last saveSignals.
func restoreSignals(sigs ...syscall.Signal) {
	signalMu.Lock()
	defer signalMu.Unlock()
	if len(sigs) == 0 {
		for s := 1; s < int(C.NSIG); s++ {
			C.samlad_restore_signal(C.int(s))
		}
		return
	}
	for _, s := range sigs {
		C.samlad_restore_signal(C.int(s))
	}
}

// NotifyShutdown re-installs Go's handlers for SIGTERM, SIGINT and SIGHUP
// (the daemon's reload), as they were before the first backend was
// created, and relays the three signals to c. New already restores every
// handler; the daemon calls this after creating its backends as well, so
// that a provider that re-installs handlers later (e.g. while building
// TensorRT engines) cannot leave a signal to its default action, which for
// SIGHUP is to kill the process.
func NotifyShutdown(c chan<- os.Signal) {
	restoreSignals(syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
}
