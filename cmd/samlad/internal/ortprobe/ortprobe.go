// Package ortprobe reads ONNX Runtime's version and compiled-in execution
// providers from its shared library without creating an ORT environment, so
// that `samlad version` can report them whatever the configured backend and
// without disturbing an environment the onnx backend holds.
package ortprobe

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

// The two members of OrtApiBase (onnxruntime_c_api.h), whose layout is
// frozen by ONNX Runtime's ABI.
typedef struct {
	const void *(*GetApi)(unsigned int version);
	const char *(*GetVersionString)(void);
} ortApiBase;

typedef const ortApiBase *(*getApiBaseFn)(void);
typedef void *(*getProvidersFn)(char ***out, int *n);
typedef void *(*releaseProvidersFn)(char **ptr, int n);
typedef void (*releaseStatusFn)(void *status);

// OrtApi is append-only; these are the indexes of its function pointers
// GetAvailableProviders, ReleaseAvailableProviders and ReleaseStatus
// (offsetof / sizeof(void*) in onnxruntime_c_api.h, stable since API 4).
enum { idxReleaseStatus = 93, idxGetProviders = 125, idxReleaseProviders = 126 };

static void *probeOpen(const char *path, char **err) {
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		*err = dlerror();
	}
	return h;
}

static const ortApiBase *probeBase(void *h) {
	getApiBaseFn f = (getApiBaseFn)dlsym(h, "OrtGetApiBase");
	return f == NULL ? NULL : f();
}

static const char *probeVersion(const ortApiBase *b) { return b->GetVersionString(); }

// probeProviders returns the providers as an array of n strings, or NULL.
static char **probeProviders(const ortApiBase *b, int *n) {
	const void *const *api = (const void *const *)b->GetApi(4);
	if (api == NULL) {
		return NULL;
	}
	char **out = NULL;
	void *st = ((getProvidersFn)api[idxGetProviders])(&out, n);
	if (st != NULL) {
		((releaseStatusFn)api[idxReleaseStatus])(st);
		return NULL;
	}
	return out;
}

static void probeRelease(const ortApiBase *b, char **p, int n) {
	const void *const *api = (const void *const *)b->GetApi(4);
	void *st = ((releaseProvidersFn)api[idxReleaseProviders])(p, n);
	if (st != NULL) {
		((releaseStatusFn)api[idxReleaseStatus])(st);
	}
}

static char *probeAt(char **p, int i) { return p[i]; }
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"unsafe"
)

// Info is what the library says about itself.
type Info struct {
	Version string
	// Providers are the execution providers compiled into the library
	// (e.g. CPUExecutionProvider, CUDAExecutionProvider); whether a GPU one
	// also loads on this machine shows only when a session uses it.
	Providers []string
}

// Probe opens the library at path and reads its version and providers.
func Probe(path string) (Info, error) {
	if _, err := os.Stat(path); err != nil {
		return Info{}, err
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var cerr *C.char
	h := C.probeOpen(cpath, &cerr)
	if h == nil {
		return Info{}, fmt.Errorf("dlopen: %s", C.GoString(cerr))
	}
	defer C.dlclose(h)
	base := C.probeBase(h)
	if base == nil {
		return Info{}, errors.New("not an ONNX Runtime library (no OrtGetApiBase)")
	}
	info := Info{Version: C.GoString(C.probeVersion(base))}
	var n C.int
	ps := C.probeProviders(base, &n)
	if ps == nil {
		return info, errors.New("the library does not list its execution providers")
	}
	for i := 0; i < int(n); i++ {
		info.Providers = append(info.Providers, C.GoString(C.probeAt(ps, C.int(i))))
	}
	C.probeRelease(base, ps, n)
	return info, nil
}
