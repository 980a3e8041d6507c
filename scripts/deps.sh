#!/usr/bin/env bash
# Installs what samlad needs to build and test on Debian 12: the apt packages
# and the ONNX Runtime shared library, unpacked from the pinned npm package
# onnxruntime-node with its checksum verified. Idempotent: a second run that
# finds everything in place returns at once.
set -euo pipefail

ORT_VERSION=${ORT_VERSION:-1.24.3}
ORT_SHA256=${ORT_SHA256:-aa1bb5fa261ea68de05dd53efbba210cd7adf2d2850f4c3a201054c74cc78040}
ORT_DIR=${ORT_DIR:-third_party/onnxruntime}
APT_PACKAGES=(libopencv-dev gstreamer1.0-plugins-base pkg-config mosquitto mosquitto-clients python3-onnx python3-numpy systemd openssl python3-tifffile python3-sklearn)

missing=()
for p in "${APT_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

lib="$ORT_DIR/libonnxruntime.so"
stamp="$ORT_DIR/VERSION"
if [ -f "$lib" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$ORT_VERSION" ]; then
	exit 0
fi
case "$(uname -m)" in
x86_64) arch=x64 ;;
aarch64) arch=arm64 ;;
*) echo "deps: no onnxruntime-node build for $(uname -m); set ORT_LIB to a libonnxruntime.so" >&2; exit 1 ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "deps: fetching onnxruntime-node@$ORT_VERSION"
(cd "$tmp" && npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null)
tgz="$tmp/onnxruntime-node-$ORT_VERSION.tgz"
got=$(sha256sum "$tgz" | cut -d' ' -f1)
if [ "$got" != "$ORT_SHA256" ]; then
	echo "deps: onnxruntime-node-$ORT_VERSION.tgz has sha256 $got, expected $ORT_SHA256; refusing it" >&2
	exit 1
fi
tar -xzf "$tgz" -C "$tmp" "package/bin/napi-v6/linux/$arch/libonnxruntime.so.1"
mkdir -p "$ORT_DIR"
install -m 0644 "$tmp/package/bin/napi-v6/linux/$arch/libonnxruntime.so.1" "$lib"
echo "$ORT_VERSION" >"$stamp"
echo "deps: ONNX Runtime $ORT_VERSION ($arch) in $lib"
