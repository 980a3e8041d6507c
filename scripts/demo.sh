#!/usr/bin/env bash
# make demo: enrol generated good scenes and inspect a test split.
set -euo pipefail
echo "demo: not wired yet"
