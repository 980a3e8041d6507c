# samlad — build, test and demo. Every target works on a fresh Debian 12 box.
# Jetson or other platforms: override ORT_LIB (and CGO flags for OpenCV), e.g.
#   make build ORT_LIB=/usr/lib/aarch64-linux-gnu/libonnxruntime.so
GO      ?= go
BIN     := bin/samlad
ORT_LIB ?= $(CURDIR)/third_party/onnxruntime/libonnxruntime.so
export SAMLAD_ORT_LIB := $(ORT_LIB)
TEST_TIMEOUT ?= 30m

.PHONY: all deps build test bench lint demo clean

all: build

deps:
	@scripts/deps.sh

build: deps
	$(GO) build -o $(BIN) ./cmd/samlad

test: deps
	$(GO) vet ./...
	$(GO) test -p 2 -timeout $(TEST_TIMEOUT) ./...

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./infer/...

lint: deps
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

demo: build
	@scripts/demo.sh

clean:
	rm -rf bin
