#!/usr/bin/env bash
# The clang-tidy gate against a small tree made here, configured with
# CMake and tracked by git, checked with the project's own .clang-tidy: it
# passes on a clean file, fails naming the line and check of a
# deliberately bad one, ignores files git does not track, and the allow
# list admits only what it names, each entry with its reason.
#   tidy_test.sh path/to/scripts/tidy.sh path/to/.clang-tidy
# Exits 77 (skipped) when clang-tidy is not installed.
set -euo pipefail
script=$1
config=$2
if ! command -v "${CLANG_TIDY:-clang-tidy-14}" >/dev/null 2>&1 &&
	! command -v clang-tidy >/dev/null 2>&1; then
	echo "clang-tidy is not installed: skipped"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tree=$tmp/tree
out=$tmp/out

fails=0
bad() {
	echo "FAIL: $*"
	echo "--- tidy said:"
	cat "$out"
	fails=$((fails + 1))
}
put() {
	mkdir -p "$(dirname "$tree/$1")"
	cat >"$tree/$1"
}
# configure: (re)make the build's compile_commands.json.
configure() {
	cmake -S "$tree" -B "$tree/build" >"$tmp/cmake.log" 2>&1 || {
		cat "$tmp/cmake.log"
		exit 1
	}
}
# run EXPECTED_STATUS [ARGS...]: run the gate on the tree's build.
run() {
	local want=$1 rc=0
	shift
	bash "$script" --jobs 2 "$@" "$tree/build" >"$out" 2>&1 || rc=$?
	[ "$rc" -eq "$want" ] || bad "exit status $rc, want $want (args: $*)"
}
has() { grep -qF -- "$1" "$out" || bad "no line with: $1"; }
hasnt() { ! grep -qF -- "$1" "$out" || bad "unexpected line with: $1"; }

# --- a clean tree ---------------------------------------------------------
cp "$config" "$tmp/clang-tidy"
put .clang-tidy <"$tmp/clang-tidy"
put CMakeLists.txt <<'X'
cmake_minimum_required(VERSION 3.20)
project(fake C)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
file(GLOB SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/*.c)
add_library(fake STATIC ${SOURCES})
X
put src/good.c <<'X'
#include <string.h>

int good_copy(char *dst, size_t cap, const char *src);

/* Copy @src into @dst of @cap bytes, cut; returns the length copied. */
int good_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (cap == 0)
		return 0;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return (int)n;
}
X
# A file git does not track is not checked, even when it is built.
put src/scratch.c <<<'int scratch(int *p); int scratch(int *p) { int y; if (*p) y = 2; return y * 2; }'
put src/bad.c <<<'int bad_clear(const char *a, int flag);'
git -C "$tree" init -q
git -C "$tree" add .clang-tidy CMakeLists.txt src/good.c src/bad.c
configure
run 0
has "tidy: 2 files, 0 new findings, 0 allowed, 0 stale entries"
hasnt "scratch.c"

# --- a deliberately bad file: both findings named, the gate fails --------
put src/bad.c <<'X'
#include <string.h>

int bad_clear(const char *a, int flag);

int bad_clear(const char *a, int flag)
{
	int x;

	if (strcmp(a, "x"))
		return 0;
	if (flag)
		x = 1;
	return x + 1;
}
X
git -C "$tree" add src/bad.c
run 1
has "tidy: src/bad.c:9:6: "
has "[bugprone-suspicious-string-compare]"
has "tidy: src/bad.c:13:11: "
has "[clang-analyzer-core.UndefinedBinaryOperatorResult]"
has "tidy: 2 files, 2 new findings, 0 allowed"
hasnt "good.c"
hasnt "scratch.c"

# --- the allow list -------------------------------------------------------
put scripts/tidy.allow <<'X'
# known findings, each with why
src/bad.c:bugprone-suspicious-string-compare  # test: a bare strcmp
src/*.c:clang-analyzer-core.UndefinedBinaryOperatorResult  # test: wildcard
X
run 0
has "tidy: 2 files, 0 new findings, 2 allowed, 0 stale entries"
# Only the check named is allowed: another one in the same file fails.
cat >>"$tree/src/bad.c" <<'X'

int bad_div(int a);

int bad_div(int a)
{
	int z = 0;

	return a / z;
}
X
run 1
has "[clang-analyzer-core.DivideZero]"
has "1 new findings, 2 allowed"
git -C "$tree" checkout -q -- src/bad.c 2>/dev/null || true
# An entry without its reason is refused.
echo "src/good.c:misc-unused-parameters" >>"$tree/scripts/tidy.allow"
run 2
has "tidy.allow:4: an entry says why it is allowed"
# One that matches nothing is called stale (and does not fail the gate).
sed -i '$d' "$tree/scripts/tidy.allow"
echo "src/good.c:misc-unused-parameters  # fixed since" >>"$tree/scripts/tidy.allow"
put src/bad.c <<'X'
int bad_clear(const char *a, int flag);
X
run 0
has "tidy: stale entry, delete it: src/good.c:misc-unused-parameters"
has "stale entry, delete it: src/bad.c:bugprone-suspicious-string-compare"
# A malformed entry, an allow file asked for by name that is not there.
echo "just words here # why" >>"$tree/scripts/tidy.allow"
run 2
has "want \"PATH:CHECK  # why\""
rm "$tree/scripts/tidy.allow"
run 2 --allow "$tmp/missing.allow"
has "no allow file"

# --- a file that does not compile is a finding, not a pass ---------------
put src/broken.c <<<'int broken(void) { return undeclared_name; }'
git -C "$tree" add src/broken.c
configure
run 1
has "src/broken.c:1:"
has "[clang-diagnostic-error]"

# --- no build, no gate ----------------------------------------------------
bash "$script" "$tmp/nowhere" >"$out" 2>&1 && bad "tidy passed without a build"
has "no $tmp/nowhere/compile_commands.json"

if [ "$fails" -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "tidy: all checks passed"
