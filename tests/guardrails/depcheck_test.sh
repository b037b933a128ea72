#!/usr/bin/env bash
# The dependency check against a small fake source tree made here: it
# passes on a clean tree, fails naming a wrong include and a wrong link (and
# the other kinds of violation it knows), and the exceptions file admits
# only what it lists, each with its issue.
#   depcheck_test.sh path/to/scripts/depcheck.sh
set -euo pipefail
script=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tree=$tmp/tree
out=$tmp/out

fails=0
bad() {
	echo "FAIL: $*"
	echo "--- depcheck said:"
	cat "$out"
	fails=$((fails + 1))
}
# put FILE: write stdin to FILE inside the fake tree.
put() {
	mkdir -p "$(dirname "$tree/$1")"
	cat >"$tree/$1"
}
# run EXPECTED_STATUS [ARGS...]: run depcheck on the tree, keep its output.
run() {
	local want=$1 rc=0
	shift
	"$script" "$@" "$tree" >"$out" 2>&1 || rc=$?
	[ "$rc" -eq "$want" ] || bad "exit status $rc, want $want (args: $*)"
}
has() { grep -qF -- "$1" "$out" || bad "no line with: $1"; }
hasnt() { ! grep -qF -- "$1" "$out" || bad "unexpected line with: $1"; }

# --- a clean tree in openkd's shape ---------------------------------------
put CMakeLists.txt <<'X'
cmake_minimum_required(VERSION 3.20)
project(fake C)
add_subdirectory(kdproto)
add_subdirectory(transports)
add_subdirectory(engine)
add_subdirectory(kdsrv)
add_subdirectory(tools)
add_subdirectory(tests)
X
put kdproto/CMakeLists.txt <<'X'
add_library(kd_proto STATIC src/codec.c)
add_library(kd::proto ALIAS kd_proto)
target_include_directories(kd_proto PUBLIC include PRIVATE src)
X
put kdproto/include/kd/proto.h <<<'/* codec */'
put kdproto/src/codec.c <<<'#include <kd/proto.h>'
put transports/CMakeLists.txt <<'X'
# the link layer
add_library(kd_transports STATIC src/transport.c)
add_library(kd::transports ALIAS kd_transports)
target_include_directories(kd_transports PUBLIC include PRIVATE src)
target_link_libraries(kd_transports PUBLIC kd::proto
  PRIVATE OpenSSL::Crypto Threads::Threads)
X
put transports/include/kd/transport.h <<<'#include <kd/proto.h>'
put transports/src/transport_int.h <<<'#include <kd/transport.h>'
put transports/src/transport.c <<'X'
#include <stdio.h>
#include "transport_int.h"
X
put engine/CMakeLists.txt <<'X'
file(GLOB KDENGINE_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*.c)
add_library(kd_engine STATIC ${KDENGINE_SOURCES})
add_library(kd::engine ALIAS kd_engine)
target_include_directories(kd_engine PUBLIC include PRIVATE src)
target_link_libraries(kd_engine PUBLIC kd::transports kd::proto)
# for tests only
add_library(kd_engine_internal INTERFACE)
add_library(kd::engine_internal ALIAS kd_engine_internal)
target_include_directories(kd_engine_internal INTERFACE src)
target_link_libraries(kd_engine_internal INTERFACE kd::engine)
X
put engine/include/kd/engine.h <<<'#include <kd/transport.h>'
put engine/src/dump_int.h <<<'/* the dump reader inside */'
put engine/src/session.c <<'X'
#include <kd/engine.h>
#include <kd/transport.h>
#include "dump_int.h"
X
put kdsrv/CMakeLists.txt <<'X'
add_library(kd_srv STATIC src/server.c)
add_library(kd::srv ALIAS kd_srv)
target_include_directories(kd_srv PUBLIC include PRIVATE src)
target_link_libraries(kd_srv PUBLIC kd::transports kd::proto)
# commented out: target_link_libraries(kd_srv PRIVATE kd::engine)
#[[ also out:
target_link_libraries(kd_srv PRIVATE kd::engine)
]]
X
put kdsrv/include/kd/kdsrv.h <<<'/* kdsrv */'
put kdsrv/src/server.c <<'X'
#include <string.h>
#include <kd/kdsrv.h>
#include <kd/transport.h>
X
put tools/CMakeLists.txt <<<'add_subdirectory(kd)'
put tools/kd/CMakeLists.txt <<'X'
add_executable(kd kd.c)
target_link_libraries(kd PRIVATE kd::engine kd::srv)
X
put tools/kd/kd.c <<'X'
#include <kd/engine.h>
#include <kd/kdsrv.h>
X
# tests may use everything, internals included.
put tests/CMakeLists.txt <<'X'
add_executable(unit_dump unit/dump.c)
target_link_libraries(unit_dump PRIVATE kd::engine_internal kd::srv)
X
put tests/unit/dump.c <<'X'
#include "dump_int.h"
#include "../../kdsrv/src/server.c"
X

run 0
has "0 new violations"
cp -r "$tree" "$tmp/clean"

# --- the deliberate violations: a private header and a forbidden link -----
cat >>"$tree/kdsrv/src/server.c" <<'X'
#include "../../engine/src/dump_int.h"
X
put kdsrv/CMakeLists.txt <<'X'
add_library(kd_srv STATIC src/server.c)
add_library(kd::srv ALIAS kd_srv)
target_include_directories(kd_srv PUBLIC include PRIVATE src)
target_link_libraries(kd_srv PUBLIC kd::transports kd::proto
  PRIVATE kd::engine)
X
run 1
has "depcheck: kdsrv/src/server.c -> engine/src/dump_int.h  [kdsrv/src/server.c:4: kdsrv may not use engine"
has "depcheck: kd_srv -> kd_engine  [kdsrv/CMakeLists.txt:4: kdsrv may not use engine"
has "2 new violations"

# Both listed as exceptions with their issue: the check passes.
put scripts/depcheck.allow <<'X'
# known, removed by issue 14
kdsrv/src/server.c -> engine/src/dump_int.h  # issue 14: test exception
kd_srv -> kd_engine  # Issue #14: test exception
X
run 0
has "0 new violations, 2 allowed, 0 stale exceptions"
# An exception without the issue that removes it is refused.
echo "kd_srv -> kd_proto  # because" >>"$tree/scripts/depcheck.allow"
run 2
has "depcheck.allow:4: an exception names the issue"
rm "$tree/scripts/depcheck.allow"

# The fixed tree passes again, and a leftover exception is called stale.
rm -rf "$tree"
cp -r "$tmp/clean" "$tree"
run 0
has "0 new violations"
put scripts/depcheck.allow <<<'kd_srv -> kd_engine  # issue 14: fixed since'
run 0
has "depcheck: stale exception, delete it: kd_srv -> kd_engine"
rm "$tree/scripts/depcheck.allow"

# --- the other kinds, one at a time on the clean tree ---------------------
# A public header of a component that may not be used at all.
cp "$tree/kdsrv/src/server.c" "$tmp/server.c"
echo '#include <kd/engine.h>' >>"$tree/kdsrv/src/server.c"
run 1
has "kdsrv/src/server.c -> engine/include/kd/engine.h  [kdsrv/src/server.c:4: kdsrv may not use engine"
cp "$tmp/server.c" "$tree/kdsrv/src/server.c"

# An include path into another component's private folder, found through
# the target's include folders.
echo '#include "transport_int.h"' >>"$tree/engine/src/session.c"
# shellcheck disable=SC2016 # a CMake variable, not a shell one
sed -i 's|PRIVATE src)|PRIVATE src ${CMAKE_SOURCE_DIR}/transports/src)|' \
	"$tree/engine/CMakeLists.txt"
run 1
has "engine/src/session.c -> transports/src/transport_int.h  [engine/src/session.c:4: private header of transports"
has "kd_engine -> transports/src/  [engine/CMakeLists.txt:4: include folder inside transports but outside its include/]"
rm -rf "$tree"
cp -r "$tmp/clean" "$tree"

# The same through a folder-wide include_directories().
echo '#include "dump_int.h"' >>"$tree/tools/kd/kd.c"
echo 'include_directories(../../engine/src)' >>"$tree/tools/kd/CMakeLists.txt"
run 1
has "tools/kd/kd.c -> engine/src/dump_int.h  [tools/kd/kd.c:3: private header of engine"
has "tools/kd/CMakeLists.txt -> engine/src/  [tools/kd/CMakeLists.txt:3: include folder inside engine but outside its include/]"
rm -rf "$tree"
cp -r "$tmp/clean" "$tree"

# A tool linking the engine's internals, and a lower layer reaching up.
sed -i 's|PRIVATE kd::engine kd::srv|PRIVATE kd::engine_internal kd::srv|' \
	"$tree/tools/kd/CMakeLists.txt"
echo 'target_link_libraries(kd_proto PRIVATE kd_transports)' >>"$tree/kdproto/CMakeLists.txt"
run 1
has "kd -> kd_engine_internal  [tools/kd/CMakeLists.txt:2: kd_engine_internal is an internal target of engine]"
has "kd_proto -> kd_transports  [kdproto/CMakeLists.txt:4: kdproto may not use transports"
rm -rf "$tree"
cp -r "$tmp/clean" "$tree"

# Nobody but tests uses test code.
put tests/support/helper.h <<<'/* test helper */'
echo '#include "../../tests/support/helper.h"' >>"$tree/engine/src/session.c"
run 1
has "engine/src/session.c -> tests/support/helper.h  [engine/src/session.c:4: tests is test code"
rm -rf "$tree"
cp -r "$tmp/clean" "$tree"

# A new top-level folder with code must be given its place first.
put hosted/src/alloc.c <<<'/* new */'
run 2
has "hosted/ holds code but is not a component depcheck knows"
rm -rf "$tree/hosted"

# A build folder by any name is not code of the tree.
put out/CMakeCache.txt <<<'# a build'
put out/CMakeFiles/3.25/CompilerIdC/CMakeCCompilerId.c <<<'int main(void);'
run 0
rm -rf "$tree/out"

# A CMakeLists.txt cut short does not crash the reader.
printf 'target_link_libraries(kd_srv PRIVATE kd::engine "unterminated\n' \
	>>"$tree/kdsrv/CMakeLists.txt"
run 1
has "kd_srv -> kd_engine"
hasnt "Traceback"

# An exceptions file asked for by name must be there.
run 2 --allow "$tmp/missing.allow"
has "no exceptions file"

# Not a tree at all.
"$script" "$tmp/nowhere" >"$out" 2>&1 && bad "depcheck passed on a missing tree"
has "is not a source tree"

if [ "$fails" -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "depcheck: all checks passed"
