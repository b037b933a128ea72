#!/usr/bin/env bash
# The call-graph report on object files compiled here from a few small C
# files laid out as CMake lays out a component's objects: the cycles are
# found, largest first, a data-only reference is told apart from a call,
# --max-cycle decides the exit status, and --layers fails on an edge going
# up a layer and on a cycle outside the --cycles-in folders.
#   callgraph_test.sh CC path/to/scripts/callgraph.sh
set -euo pipefail
cc=$1 script=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out

fails=0
bad() {
	echo "FAIL: $*"
	echo "--- callgraph said:"
	cat "$out"
	fails=$((fails + 1))
}
run() {
	local want=$1 rc=0
	shift
	"$script" "$@" >"$out" 2>&1 || rc=$?
	[ "$rc" -eq "$want" ] || bad "exit status $rc, want $want (args: $*)"
}
has() { grep -qxF -- "$1" "$out" || bad "no line: $1"; }

# obj NAME SOURCE: compile SOURCE as component "engine" object src/NAME.c.
objdir=$tmp/build/engine/CMakeFiles/kd_engine.dir/src
mkdir -p "$objdir" "$tmp/src"
obj() {
	printf '%s\n' "$2" >"$tmp/src/$1.c"
	"$cc" -std=c11 -O0 -c "$tmp/src/$1.c" -o "$objdir/$1.c.o"
}
# a <-> b; c -> a; d reads c's table (data only); e -> f -> g -> e;
# a static helper of g is no edge.
obj a 'int b(int); int a(int x) { return x ? b(x - 1) : 0; }'
obj b 'int a(int); int b(int x) { return a(x); }'
obj c 'int a(int); const int c_table[2] = {1, 2}; int c(void) { return a(1); }'
obj d 'extern const int c_table[2]; int d(void) { return c_table[1]; }'
obj e 'int f(void); int e(void) { return f(); }'
obj f 'int g(void); int f(void) { return g(); }'
obj g 'int e(void); static int h(void) { return 1; } int g(void) { return e() + h(); }'

run 0 "$tmp/build"
has "callgraph: engine: 7 files, 7 cross-file edges (6 with calls, 1 data only), 5 files in cycles"
has "cycle 1: 3 files, 3 edges inside"
has "cycle 2: 2 files, 2 edges inside"
has "in no cycle: src/c.c src/d.c"
# the three-file cycle first, then the two-file one, each file once
sed -n '/^cycle 1/,/^cycle 2/p' "$out" | grep -q '^  src/e.c$' || bad "e.c not in cycle 1"
sed -n '/^cycle 2/,$p' "$out" | grep -q '^  src/a.c$' || bad "a.c not in cycle 2"
[ "$(grep -c '^  src/' "$out")" -eq 5 ] || bad "not 5 files listed in cycles"

run 0 --edges "$tmp/build" engine
has "  src/d.c -> src/c.c: (data) c_table"
has "  src/c.c -> src/a.c: a"
has "  src/g.c -> src/e.c: e"
grep -q 'src/g.c -> src/g.c\|: h$' "$out" && bad "a static or self reference became an edge"

run 0 --max-cycle 3 "$tmp/build"
run 1 --max-cycle 2 "$tmp/build"
has "callgraph: a cycle spans 3 files, more than --max-cycle 2"

# Break both cycles: no cycle, any --max-cycle passes.
obj b 'int b(int x) { return x; }'
obj g 'int g(void) { return 1; }'
run 0 --max-cycle 0 "$tmp/build"
has "no cycles"

# Nothing built, a bad option value: clear errors.
run 2 "$tmp/nowhere"
grep -q "build the tree first" "$out" || bad "no hint to build first"
run 2 --max-cycle many "$tmp/build"
mkdir -p "$tmp/empty/engine"
run 2 "$tmp/empty"
grep -q "no object files" "$out" || bad "no 'no object files' line"

# --layers on a tree in folders: core may cycle inside itself, cmd may use
# core; a deliberately upward edge (core -> cmd) fails it, and so does the
# cycle it makes and a folder given no layer.
lt=$tmp/layered/engine/CMakeFiles/kd_engine.dir/src
mkdir -p "$lt/core" "$lt/cmd" "$tmp/lsrc"
lobj() {
	printf '%s\n' "$2" >"$tmp/lsrc/${1//\//_}.c"
	"$cc" -std=c11 -O0 -c "$tmp/lsrc/${1//\//_}.c" -o "$lt/$1.c.o"
}
lobj core/session 'int out(void); int session(void) { return out(); }'
lobj core/output 'int session(void); int out(void) { return 1; } int prompt(void) { return session(); }'
lobj cmd/commands 'int session(void); int commands(void) { return session(); }'
run 0 --layers "core cmd" "$tmp/layered"
has "  cmd -> core: 1"
has "layering: no edge goes up, no cycle leaves core"
lobj core/session 'int out(void); int commands(void); int session(void) { return out() + commands(); }'
run 1 --layers "core cmd" "$tmp/layered"
has "  up: src/core/session.c -> src/cmd/commands.c: commands"
grep -q "^  cycle of 3 files leaves core: " "$out" || bad "no cycle violation"
grep -q "layering violation" "$out" || bad "no violation count"
run 1 --layers "core" "$tmp/layered"
has "  folder cmd is in no layer"
run 2 --layers "core;cmd" "$tmp/layered"

# A cycle inside one folder with no edge going up (an interpreter and a
# handler that calls it back by name): --cycles-in core fails on it,
# naming the files, and lets it pass only when cmd is named too; with the
# call back gone there is no cycle and --cycles-in core passes.
lobj core/session 'int out(void); int session(void) { return out(); }'
lobj cmd/commands 'int session(void); int handler(void); int commands(void) { return session() + handler(); }'
lobj cmd/handler 'int commands(void); int handler(void) { return commands(); }'
run 1 --layers "core cmd" --cycles-in core "$tmp/layered"
has "  cycle of 2 files leaves core: src/cmd/commands.c src/cmd/handler.c"
grep -q "^  up: " "$out" && bad "an upward edge where none goes up"
run 0 --layers "core cmd" --cycles-in core,cmd "$tmp/layered"
has "layering: no edge goes up, no cycle leaves cmd,core"
lobj cmd/handler 'int handler(void) { return 2; }'
run 0 --layers "core cmd" --cycles-in core "$tmp/layered"
has "layering: no edge goes up, no cycle leaves core"

if [ "$fails" -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "callgraph: all checks passed"
