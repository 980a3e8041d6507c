#!/usr/bin/env bash
# gpu-check: on a machine with an NVIDIA GPU, builds samlad and runs the
# fixture-model pipeline on the CUDA and TensorRT execution providers, with
# the CPU provider as the baseline in the same run, and prints per-stage
# latency. Needs a GPU build of ONNX Runtime 1.24 (libonnxruntime.so with
# libonnxruntime_providers_{shared,cuda,tensorrt}.so beside it, and CUDA 12,
# cuDNN 9 and TensorRT 10 libraries on the loader path):
#
#   ORT_GPU_LIB=/opt/onnxruntime-gpu/lib/libonnxruntime.so scripts/gpu-check.sh
#
# Exit status: 0 all providers ran, 1 a build or check failed, 2 not a GPU
# machine or no GPU build of ONNX Runtime.
set -euo pipefail
cd "$(dirname "$0")/.."

PROVIDERS=${PROVIDERS:-cpu,cuda,tensorrt}
BENCHTIME=${BENCHTIME:-10x}

if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
	echo "gpu-check: no NVIDIA GPU visible (nvidia-smi -L failed)" >&2
	exit 2
fi
nvidia-smi -L
lib=${ORT_GPU_LIB:-}
if [ -z "$lib" ] || [ ! -f "$lib" ]; then
	echo "gpu-check: set ORT_GPU_LIB to the libonnxruntime.so of an ONNX Runtime GPU build (got '${lib}')" >&2
	exit 2
fi
libdir=$(cd "$(dirname "$lib")" && pwd)
for p in shared cuda tensorrt; do
	[ -f "$libdir/libonnxruntime_providers_$p.so" ] || echo "gpu-check: warning: $libdir has no libonnxruntime_providers_$p.so" >&2
done
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

echo "== build"
go build ./infer/... ./config/...
if pkg-config --exists opencv4 2>/dev/null; then
	go build -o bin/samlad ./cmd/samlad
else
	echo "gpu-check: OpenCV not found; built the engine packages only (cmd/samlad needs libopencv-dev)"
fi

echo "== fixture pipeline tests on cpu"
SAMLAD_ORT_LIB="$lib" go test -count=1 -run 'TestFixtureStages|TestRefusedModels|TestShutdownOnSIGTERM|TestEngineEndToEnd' ./infer/onnx

echo "== per-stage latency (fixture models, 224 px, 32x32 AMG points), providers: $PROVIDERS"
out=$(SAMLAD_ORT_LIB="$lib" SAMLAD_BENCH_PROVIDERS="$PROVIDERS" \
	go test -count=1 -run '^$' -bench '^(BenchmarkStages|BenchmarkBuiltinFeatures)$' -benchtime "$BENCHTIME" ./infer/onnx 2>&1) || {
	echo "$out"
	echo "gpu-check: FAILED (a provider did not load or a stage failed; see above)" >&2
	exit 1
}
echo "$out" | grep -E '^(Benchmark|ok|PASS|FAIL)'
# Ratio of each stage to its cpu baseline from the same run.
echo "$out" | awk '
	/^BenchmarkStages\// {
		split($1, a, "/"); prov = a[2]; stage = a[3]; sub(/-[0-9]+$/, "", stage)
		ns[prov "/" stage] = $3; provs[prov] = 1; stages[stage] = 1
	}
	END {
		printf "%-12s %-10s %12s %16s\n", "stage", "provider", "ms/op", "speedup vs cpu"
		for (s in stages) for (p in provs) if ((p "/" s) in ns) {
			base = ns["cpu/" s]
			printf "%-12s %-10s %12.2f %16s\n", s, p, ns[p "/" s] / 1e6, base ? sprintf("%.2fx", base / ns[p "/" s]) : "-"
		}
	}'
echo "gpu-check: OK"
