#!/usr/bin/env bash
# The main job, for a newcomer on a fresh Debian 12 machine: install what is
# missing, build openkd, start the simulated Windows target `kdsim` on a
# KDNET port (key 1.2.3.4) and attach the `kd` console debugger to it:
# break in, look at the target, set a breakpoint on real kernel code, run
# to it, step over a call, walk the stack, and quit.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target kd kdsim \
	>/dev/null

port=$((50000 + RANDOM % 10000))
log=$(mktemp)
build/tools/kdsim/kdsim -k "net:port=$port,key=1.2.3.4,hostip=127.0.0.1" \
	--cpus 2 --print-ms 0 >"$log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 50); do
	grep -q 'kdsim ready' "$log" && break
	sleep 0.1
done
echo "== $(head -1 "$log")"
echo "== kd -k net:port=$port,key=1.2.3.4 -bonc -c \"...\""
build/tools/kd/kd -k "net:port=$port,key=1.2.3.4" -bonc --timeout 20000 -c \
	"vertarget; lm; bp nt!KeWorkerStep; bl; g; bc *; pc; p; k; u . L4; dq rsp L4; ? @rsp + 0n16; q"
