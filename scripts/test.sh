#!/usr/bin/env bash
# The test command: install what is missing, check the dependencies between
# components (scripts/depcheck.sh), lint the sources (scripts/lint.sh), then
# build and run the whole suite three ways:
#   1. gcc, -Werror: unit, integration, fuzz-corpus replay, quick benchmarks,
#      and the freestanding build of kdproto; after the build, clang-tidy
#      over every tracked .c of its compile_commands.json (scripts/tidy.sh,
#      .clang-tidy, known findings in scripts/tidy.allow) and the engine's
#      layering (scripts/callgraph.sh --layers: no file calls a higher
#      layer, no call cycle outside core/);
#   2. ASan+UBSan: the same suite under sanitizers;
#   3. clang, -Werror, libFuzzer: every fuzz target runs for a short while
#      (KD_FUZZ_SECONDS, default 8) on a copy of its corpus; 26 targets
#      at 8 s keep the whole run under 20 minutes on a 2-core machine.
# Exits non-zero on the first failure.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/deps.sh

jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${KD_FUZZ_SECONDS:-8}

step() { printf '\n=== %s\n' "$*"; }

# Run ctest in a build directory, keep its output, and add its counts to the
# totals printed at the end (ctest exits non-zero on any failure).
passed=0 failed=0 skipped=0
run_ctest() {
	local dir=$1
	shift
	local log
	log=$(mktemp)
	(cd "$dir" && ctest --output-on-failure -j"$jobs" "$@") | tee "$log"
	local total nfail nskip
	total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
	nfail=$(sed -n 's/.*, \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -1)
	nskip=$(grep -c '(Skipped)' "$log" || true)
	rm -f "$log"
	passed=$((passed + ${total:-0} - ${nfail:-0} - nskip))
	failed=$((failed + ${nfail:-0}))
	skipped=$((skipped + nskip))
}

step "dependency check between components"
bash scripts/depcheck.sh
step "source lint (banned calls, public headers alone)"
bash scripts/lint.sh
step "formatting (.clang-format)"
bash scripts/format.sh --check | tail -n 20

step "gcc build (-Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKD_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
step "clang-tidy (.clang-tidy, scripts/tidy.allow)"
bash scripts/tidy.sh --jobs "$jobs" build
step "engine layering (scripts/callgraph.sh --layers)"
# Lowest first; a file may use its own layer and the ones below.  The
# crash-dump reader (dump/) is below everything, api/ (kd_session_new,
# which wires the layers together) on top.  The only call cycle allowed
# is inside core/ (output.c and session.c); arch/ (the ops files call the
# leaf regs.c, not the registry) and cmd/ (the interpreter finds the
# handlers through the table's pointer) have none, and this keeps it so.
engine_layers="dump core arch,sym target expr cmd dbgserver api"
bash scripts/callgraph.sh --layers "$engine_layers" \
	--cycles-in core build engine
step "test suite"
run_ctest build

step "ASan+UBSan build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DKD_WERROR=ON \
	-DKD_SANITIZE=address,undefined >/dev/null
cmake --build build-asan -j"$jobs"
step "test suite under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_ctest build-asan -LE bench

step "clang libFuzzer build (-Werror)"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DKD_WERROR=ON -DKD_BUILD_FUZZERS=ON -DKD_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"$jobs"
step "fuzzing each target for ${fuzz_seconds}s"
# Every tests/fuzz/fuzz_*.c, not every binary that happens to be there: a
# target the fuzz build left out, or a lost corpus, fails here instead of
# being skipped in silence.
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	target=${name#fuzz_}
	fz=build-fuzz/tests/$name
	if [ ! -x "$fz" ]; then
		echo "$name: not built by the libFuzzer build (tests/CMakeLists.txt)"
		exit 1
	fi
	if [ -z "$(ls -A "tests/fuzz/corpus/$target" 2>/dev/null)" ]; then
		echo "$name: no seed corpus in tests/fuzz/corpus/$target"
		exit 1
	fi
	work=$(mktemp -d)
	cp -r "tests/fuzz/corpus/$target/." "$work/"
	echo "--- $name"
	"$fz" -max_total_time="$fuzz_seconds" -timeout=30 -print_final_stats=1 "$work" \
		2>"$work.log" || { tail -50 "$work.log"; exit 1; }
	grep -E 'stat::number_of_executed_units' "$work.log" || true
	rm -rf "$work" "$work.log"
	passed=$((passed + 1))
done

step "summary (plain suite, sanitizer suite, fuzzing)"
echo "openkd: $passed passed, $failed failed, $skipped skipped"
