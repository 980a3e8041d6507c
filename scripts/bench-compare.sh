#!/usr/bin/env bash
# bench-compare: the engine's BenchmarkInspect (infer/bench_test.go) on the
# working tree and on an older commit, in one run, compared by benchstat.
# The default old commit, 4594763, is the first complete engine, before the
# performance work of issue 7. The current bench_test.go is copied into a
# temporary worktree of the old commit (it uses only the public API), and
# old and new runs alternate so that other load on the machine hits both.
#
#   scripts/bench-compare.sh [OLD_COMMIT]
#
# Environment: BENCH (benchmark regexp, default all of BenchmarkInspect),
# COUNT (runs of each, 6), BENCHTIME (20x), CPU (go test -cpu list, e.g. 1,2),
# OUT (raw results, out/bench).
set -euo pipefail
cd "$(dirname "$0")/.."

old=${1:-4594763}
BENCH=${BENCH:-Inspect}
COUNT=${COUNT:-6}
BENCHTIME=${BENCHTIME:-20x}
OUT=${OUT:-out/bench}
GO=${GO:-go}
cpu=()
[ -n "${CPU:-}" ] && cpu=(-cpu "$CPU")

if command -v benchstat >/dev/null; then
	benchstat=(benchstat)
else
	benchstat=("$GO" run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da)
fi

mkdir -p "$OUT"
wt=$(mktemp -d)
cleanup() { git worktree remove --force "$wt" >/dev/null 2>&1 || rm -rf "$wt"; }
trap cleanup EXIT
git worktree add --detach -q "$wt" "$old"
cp infer/bench_test.go "$wt/infer/bench_test.go"

oldtxt="$OUT/old-$(git rev-parse --short "$old").txt"
newtxt="$OUT/new.txt"
: >"$oldtxt"
: >"$newtxt"
run() { "$GO" test -run '^$' -bench "$BENCH" -benchtime "$BENCHTIME" "${cpu[@]}" -count 1 ./infer/ | grep -E '^(Benchmark|goos|goarch|pkg|cpu)'; }
echo "bench-compare: $BENCH, $COUNT x $BENCHTIME, old $old vs working tree; load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)" >&2
for i in $(seq "$COUNT"); do
	(cd "$wt" && run) >>"$oldtxt"
	run >>"$newtxt"
	echo "  round $i/$COUNT done" >&2
done
"${benchstat[@]}" "$oldtxt" "$newtxt"
