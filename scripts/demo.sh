#!/usr/bin/env bash
# make demo: the appliance end to end on this machine, in about a minute.
#  1. generate bag scenes (good parts, and parts with logical and structural
#     anomalies) with the lab's generator, `samlab scenes`;
#  2. enrol the good ones into a bank with `samlad enroll`;
#  3. start mosquitto on a free loopback port;
#  4. run `samlad run` on the test scenes replayed as a camera, with the
#     built-in backend, and print every verdict as it arrives over MQTT;
#  5. stop it with SIGTERM and check that it published `offline` and exited 0.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/samlad}
LAB=${LAB:-bin/samlab}
SIZE=${SIZE:-224}
SCENE_SIZE=${SCENE_SIZE:-256}
RATE=${RATE:-2}
# The share of good parts this demo line accepts to reject (the product's
# default is 1%): at 5% the threshold lets fewer anomalies through.
FALSE_REJECT_RATE=${FALSE_REJECT_RATE:-0.05}
for b in "$BIN" "$LAB"; do
	[ -x "$b" ] || { echo "demo: $b missing; run make demo (it builds first)" >&2; exit 1; }
done
for tool in mosquitto mosquitto_sub python3; do
	command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "demo: $tool missing; run make deps" >&2; exit 1; }
done
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)

work=$(mktemp -d -t samlad-demo-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "== 1. scenes: good bags to enrol, test bags to inspect ($work)"
"$LAB" scenes --kind bag --out "$work/scenes" --good 40 --test 2 --size "$SCENE_SIZE" --seed 7 >"$work/scenes.log" 2>&1 ||
	{ cat "$work/scenes.log" >&2; exit 1; }
mkdir -p "$work/replay"
for f in "$work"/scenes/test/*/*.png; do # flat, named after the truth: good_000.png, missing_001.png, ...
	cp "$f" "$work/replay/$(basename "$(dirname "$f")")_$(basename "$f")"
done
frames=$(ls "$work/replay" | wc -l)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/samlad.toml" <<EOF
[pipeline]
backend = "builtin"
input_size = $SIZE
false_reject_rate = $FALSE_REJECT_RATE

[[camera]]
name = "cam1"
source = "folder"
folder = "replay"
trigger = "free"
rate = $RATE
bank = "bag.bank"
recipe = "bag"

[mqtt]
broker = "tcp://127.0.0.1:$port"
client_id = "samlad-demo"
prefix = "demo/line1"
store_dir = "state/outbox"
stats_interval = "2s"

[daemon]
deadline = "5s"
state_dir = "state"
EOF

echo "== 2. enrol $(ls "$work"/scenes/train/good | wc -l) good bags"
"$BIN" enroll --config "$work/samlad.toml" --good "$work/scenes/train/good" --out "$work/bag.bank"

echo "== 3. mosquitto on 127.0.0.1:$port"
{
	echo "listener $port 127.0.0.1"
	echo "allow_anonymous true"
	echo "persistence false"
	[ "$(id -u)" -ne 0 ] || echo "user root" # as root it would switch to a user who cannot read $work
} >"$work/mosquitto.conf"
"$MOSQUITTO" -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
pids+=($!)
python3 - "$port" <<'PY' || { echo "demo: mosquitto did not start:" >&2; cat "$work/mosquitto.log" >&2; exit 1; }
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY

echo "== 4. samlad run: $frames frames replayed at $RATE fps; verdicts as they arrive on demo/line1/cam1/verdict"
mosquitto_sub -h 127.0.0.1 -p "$port" -t 'demo/line1/cam1/verdict' -t 'demo/line1/available' -v >"$work/sub.log" &
pids+=($!)
python3 -u - "$work/sub.log" "$work/replay" <<'PY' &
import json, os, sys, time
# The folder is replayed in name order and the state is fresh, so seq N is
# the N-th file: its name says what the scene really is.
truth = [n[:-4] for n in sorted(os.listdir(sys.argv[2]))]
with open(sys.argv[1]) as f:
    while True:
        line = f.readline()
        if not line:
            time.sleep(0.05)
            continue
        topic, _, payload = line.rstrip("\n").partition(" ")
        if topic.endswith("/available"):
            print(f"   available: {payload}")
            continue
        v = json.loads(payload)
        num = lambda x: "n/a" if x is None else f"{x:.2f}"
        found = ", ".join(x["kind"] for x in v.get("findings") or []) or "-"
        why = v.get("reason") or found
        scene = truth[v["seq"] - 1] if 0 < v["seq"] <= len(truth) else "?"
        print(f"   seq {v['seq']:>3}  {scene:<15} {v['verdict']:<5} score {num(v['score']):>6} / {num(v['threshold']):<5}"
              f" reject={str(v['reject']).lower():<5} {v['latency_ms']:6.1f} ms  {why}")
PY
pids+=($!)
sleep 0.3
"$BIN" run --config "$work/samlad.toml" 2>"$work/samlad.log" &
run=$!
for _ in $(seq 600); do
	[ "$(grep -c '/verdict ' "$work/sub.log" || true)" -ge "$frames" ] && break
	kill -0 "$run" 2>/dev/null || break
	sleep 0.1
done

sleep 0.3 # let the printer catch up
echo "== 5. SIGTERM"
kill -TERM "$run" 2>/dev/null || true
rc=0
wait "$run" || rc=$?
sleep 0.5
got=$(grep -c '/verdict ' "$work/sub.log" || true)
if [ "$rc" -ne 0 ] || ! grep -q 'available offline' "$work/sub.log" || [ "$got" -ne "$frames" ]; then
	echo "demo: FAILED (exit $rc, $got verdicts for $frames frames); daemon log:" >&2
	cat "$work/samlad.log" >&2
	exit 1
fi
echo "demo: $got verdicts for $frames frames, 'offline' published, samlad exited 0"
python3 - "$work/sub.log" "$work/replay" "$FALSE_REJECT_RATE" <<'PY'
import json, os, sys
truth = [n[:-4] for n in sorted(os.listdir(sys.argv[2]))]
rej = {True: 0, False: 0}
n = {True: 0, False: 0}
for line in open(sys.argv[1]):
    topic, _, payload = line.rstrip("\n").partition(" ")
    if topic.endswith("/verdict"):
        v = json.loads(payload)
        good = truth[v["seq"] - 1].startswith("good")
        n[good] += 1
        rej[good] += v["reject"]
print(f"demo: rejected {rej[False]} of {n[False]} anomalous and {rej[True]} of {n[True]} good parts "
      f"at a threshold set for {float(sys.argv[3]):.0%} false rejects (pipeline.false_reject_rate)")
PY
