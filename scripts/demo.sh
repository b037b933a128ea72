#!/usr/bin/env bash
# The main job, for a newcomer on a fresh Debian 12 machine: install what is
# missing, build openkd, record a KD session that openkd itself generates
# (a KDNET session with key 1.2.3.4 and a KD serial session), and decode
# both with kdcap.  Later stages replace this with a live `kd` session
# against `kdsim`.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target kdcap >/dev/null

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
kdcap=build/tools/kdcap/kdcap

echo "== openkd: generating a KDNET session (key 1.2.3.4) and a serial session"
"$kdcap" synth --kdnet "$out/kdnet.pcapng" --key 1.2.3.4
"$kdcap" synth --serial "$out/serial.pcapng"
echo
echo "== kdcap decode kdnet.pcapng --key 1.2.3.4"
"$kdcap" decode "$out/kdnet.pcapng" --key 1.2.3.4
echo
echo "== kdcap decode serial.pcapng"
"$kdcap" decode "$out/serial.pcapng"
