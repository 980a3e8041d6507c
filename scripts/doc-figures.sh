#!/usr/bin/env bash
# doc-figures: the example heatmap and objects panel shown in README.md,
# docs/mqtt.md and docs/objects.md (docs/heatmap-example.png,
# docs/objects-example.png). A generated box (seed 1) is enrolled from its
# 40 good images (as many as the evaluation enrols) with the defaults, and
# its first test image with an extra part is inspected. Under a minute on 2
# cores.
#
#   scripts/doc-figures.sh              # or: make doc-figures
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin/samlab scenes --kind box --out "$tmp/box" --good 40 --test 1 --seed 1 --anomalies extra
bin/samlad enroll --good "$tmp/box/train/good" --out "$tmp/box.bank" >/dev/null
bin/samlad inspect --bank "$tmp/box.bank" --heatmaps "$tmp/heat" --objects "$tmp/obj" \
	--refs "$tmp/box/train/good" "$tmp/box/test/extra/000.png"
cp "$tmp/heat/extra_000.png" docs/heatmap-example.png
cp "$tmp/obj/extra_000.objects.png" docs/objects-example.png
echo "wrote docs/heatmap-example.png docs/objects-example.png"
