#!/usr/bin/env bash
# callgraph.sh: the file-level call graph of one component, from the object
# files of a build, and the cycles in it.
#
#   scripts/callgraph.sh [--edges] [--max-cycle N] [--folders]
#                        [--layers "L1 L2,L3 ..."] [--cycles-in F,...]
#                        [BUILD_DIR [COMPONENT]]
#
# BUILD_DIR defaults to "build", COMPONENT to "engine" (a top-level source
# folder: engine, transports, kdsrv, kdproto, firmware-stubs, tools).  Every
# object file CMake put under BUILD_DIR/COMPONENT/**/CMakeFiles/*.dir/ is one
# node, named after its source file; there is an edge A -> B when an
# undefined symbol of A is defined in B (a call or a reference to B's data:
# either way A cannot be built or understood without B).  The report gives
# the number of files, of cross-file edges, and every strongly connected
# component of more than one file (a call cycle), largest first.
#
#   --edges        also print every edge with the symbols behind it
#   --max-cycle N  exit 1 when a cycle spans more than N files (a guardrail
#                  for after the engine re-cut of issue 14)
#   --folders      also print the folder-level graph: folder -> folder with
#                  the number of file edges (a file's folder is the first
#                  one under the component's src/, e.g. core, cmd)
#   --layers SPEC  the folders' layers, lowest first, separated by blanks;
#                  folders of one layer joined by commas ("core arch,sym
#                  target expr cmd dbgserver").  A file may use files of its
#                  own layer and of lower ones; exit 1 on an edge going up,
#                  on a folder in no layer, and on a cycle that leaves the
#                  folders of --cycles-in.  Implies --folders.
#   --cycles-in F  folders (comma-separated) inside which cycles are allowed
#                  with --layers (default "core")
#
# Exit status: 0 report printed (and within --max-cycle and --layers), 1 a
# cycle larger than --max-cycle or a layering violation, 2 usage error or
# nothing to read.
set -euo pipefail

usage() {
	sed -n '4,36s/^# \{0,1\}//p' "$0" >&2
	exit "${1:-2}"
}

edges=0
max_cycle=-1
folders=0
layers=
cycles_in=core
args=()
while [ $# -gt 0 ]; do
	case $1 in
	--edges) edges=1 ;;
	--max-cycle)
		[ $# -ge 2 ] || usage
		max_cycle=$2
		shift
		;;
	--max-cycle=*) max_cycle=${1#*=} ;;
	--folders) folders=1 ;;
	--layers)
		[ $# -ge 2 ] || usage
		layers=$2
		folders=1
		shift
		;;
	--layers=*)
		layers=${1#*=}
		folders=1
		;;
	--cycles-in)
		[ $# -ge 2 ] || usage
		cycles_in=$2
		shift
		;;
	--cycles-in=*) cycles_in=${1#*=} ;;
	-h | --help) usage 0 ;;
	-*)
		echo "callgraph: unknown option $1" >&2
		usage
		;;
	*) args+=("$1") ;;
	esac
	shift
done
[ ${#args[@]} -le 2 ] || usage
build=${args[0]:-build}
component=${args[1]:-engine}
case $max_cycle in
-1 | [0-9] | [0-9]*[0-9]) ;;
*)
	echo "callgraph: --max-cycle wants a number of files, not '$max_cycle'" >&2
	exit 2
	;;
esac
if [ -n "$layers" ] && ! printf '%s' "$layers" | grep -Eq '^[ ]*[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*([ ]+[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*)*[ ]*$'; then
	echo "callgraph: --layers wants folder names, blank between layers, comma within one: '$layers'" >&2
	exit 2
fi
case $component in
*/* | . | .. | '')
	echo "callgraph: COMPONENT is a top-level folder name, not '$component'" >&2
	exit 2
	;;
esac
if [ ! -d "$build/$component" ]; then
	echo "callgraph: no $build/$component: build the tree first (cmake -S . -B $build && cmake --build $build)" >&2
	exit 2
fi

# nm over every object: "object:value type name" lines.  CMake names the
# object of src/foo.c "CMakeFiles/<target>.dir/src/foo.c.o".
# Objects whose source is gone (a file moved or deleted since that build
# directory first compiled it) are left out: CMake does not delete them.
# The source tree is the one the build's CMakeCache.txt names; without a
# cache every object counts.
srcroot=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' \
	"$build/CMakeCache.txt" 2>/dev/null || true)
objects() {
	local o rel
	find "$build/$component" -path '*/CMakeFiles/*.dir/*' -name '*.o' -print0 |
		while IFS= read -r -d '' o; do
			rel=${o#"$build/$component/"}
			rel=${rel%%CMakeFiles/*}${rel#*CMakeFiles/*.dir/}
			if [ -z "$srcroot" ] ||
				[ -e "$srcroot/$component/${rel%.o}" ]; then
				printf '%s\0' "$o"
			fi
		done
}
if [ "$(objects | tr -cd '\0' | wc -c)" -eq 0 ]; then
	echo "callgraph: no object files under $build/$component: build the tree first" >&2
	exit 2
fi
objects | LC_ALL=C sort -z | xargs -0 nm -o | python3 -c '
import re, signal, sys

signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet under | head

component, edges_wanted, max_cycle = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])
folders_wanted, layer_spec = sys.argv[4] == "1", sys.argv[5]
cycle_folders = set(f for f in sys.argv[6].split(",") if f)

def node_name(obj):
	# build/engine/CMakeFiles/kd_engine.dir/src/attach.c.o -> src/attach.c
	# (a target in a sub-folder keeps that folder: sim/machine.c).
	m = re.match(r"(?:.*/)?" + re.escape(component) + r"/(.*?)CMakeFiles/[^/]+\.dir/(.*)\.o$", obj)
	if not m:
		return obj
	return m.group(1) + m.group(2)

defs = {}    # symbol -> {node defining it: nm type letter}
undefs = {}  # node -> set of symbols it needs
nodes = set()
for line in sys.stdin:
	line = line.rstrip("\n")
	# "obj:0000000000000000 T name" or "obj:                 U name"
	m = re.match(r"(.*?\.o):\s*([0-9a-fA-F]*)\s+(\S)\s+(\S+)$", line)
	if not m:
		continue
	node = node_name(m.group(1))
	nodes.add(node)
	kind, sym = m.group(3), m.group(4)
	if kind in "Uw":
		undefs.setdefault(node, set()).add(sym)
	elif kind.isupper() or kind in "uvV":
		defs.setdefault(sym, {})[node] = kind

# A -> B with the symbols of B that A uses.  An edge made only of data
# symbols (a command table, say) is counted apart from calls.
graph = {n: {} for n in nodes}
calls = set()
for a, syms in undefs.items():
	for sym in syms:
		for b, kind in defs.get(sym, {}).items():
			if b != a:
				graph[a].setdefault(b, []).append(sym)
				if kind in "TWi":
					calls.add((a, b))
nedges = sum(len(v) for v in graph.values())

# Tarjan, iterative so a long chain of files cannot hit the recursion limit.
index, low, onstack, stack, sccs = {}, {}, set(), [], []
counter = 0
for root in sorted(nodes):
	if root in index:
		continue
	work = [(root, iter(sorted(graph[root])))]
	index[root] = low[root] = counter
	counter += 1
	stack.append(root)
	onstack.add(root)
	while work:
		v, it = work[-1]
		advanced = False
		for w in it:
			if w not in index:
				index[w] = low[w] = counter
				counter += 1
				stack.append(w)
				onstack.add(w)
				work.append((w, iter(sorted(graph[w]))))
				advanced = True
				break
			if w in onstack:
				low[v] = min(low[v], index[w])
		if advanced:
			continue
		work.pop()
		if work:
			u = work[-1][0]
			low[u] = min(low[u], low[v])
		if low[v] == index[v]:
			scc = []
			while True:
				w = stack.pop()
				onstack.discard(w)
				scc.append(w)
				if w == v:
					break
			sccs.append(sorted(scc))

cycles = sorted((s for s in sccs if len(s) > 1), key=lambda s: (-len(s), s))
incycle = sum(len(s) for s in cycles)
print("callgraph: %s: %d files, %d cross-file edges (%d with calls, %d data only), "
      "%d files in cycles" % (component, len(nodes), nedges, len(calls),
      nedges - len(calls), incycle))
if not cycles:
	print("no cycles")
for i, scc in enumerate(cycles, 1):
	inner = sum(1 for a in scc for b in graph[a] if b in scc)
	print("cycle %d: %d files, %d edges inside" % (i, len(scc), inner))
	for n in scc:
		print("  " + n)
outside = sorted(n for n in nodes if not any(n in s for s in cycles))
if cycles and outside:
	print("in no cycle: " + " ".join(outside))
if edges_wanted:
	print("edges (file -> file: symbols):")
	for a in sorted(graph):
		for b in sorted(graph[a]):
			print("  %s -> %s:%s %s" % (a, b, "" if (a, b) in calls else " (data)",
			      " ".join(sorted(graph[a][b]))))

# Folder level: src/cmd/cmd_bp.c is in "cmd"; a file straight in src/ (or
# in a target folder with no src/) is in ".".
def folder(n):
	parts = n.split("/")
	if parts and parts[0] == "src":
		parts = parts[1:]
	return parts[0] if len(parts) > 1 else "."

status = 0
if folders_wanted:
	fedges = {}
	for a in graph:
		for b in graph[a]:
			fa, fb = folder(a), folder(b)
			if fa != fb:
				fedges[(fa, fb)] = fedges.get((fa, fb), 0) + 1
	print("folders (folder -> folder: file edges):")
	for (fa, fb) in sorted(fedges):
		print("  %s -> %s: %d" % (fa, fb, fedges[(fa, fb)]))
if layer_spec:
	rank = {}
	for i, layer in enumerate(layer_spec.split()):
		for f in layer.split(","):
			rank[f] = i
	bad = []
	for f in sorted(set(folder(n) for n in nodes) - set(rank)):
		bad.append("folder %s is in no layer" % f)
	for a in sorted(graph):
		for b in sorted(graph[a]):
			fa, fb = folder(a), folder(b)
			if fa in rank and fb in rank and rank[fa] < rank[fb]:
				bad.append("up: %s -> %s:%s %s" % (a, b,
				           "" if (a, b) in calls else " (data)",
				           " ".join(sorted(graph[a][b]))))
	for scc in cycles:
		out = sorted(n for n in scc if folder(n) not in cycle_folders)
		if out:
			bad.append("cycle of %d files leaves %s: %s" % (len(scc),
			           ",".join(sorted(cycle_folders)) or "(none)",
			           " ".join(scc)))
	print("layers (lowest first): %s" % " < ".join(layer_spec.split()))
	for line in bad:
		print("  " + line)
	if bad:
		print("callgraph: %d layering violation(s)" % len(bad),
		      file=sys.stderr)
		status = 1
	else:
		print("layering: no edge goes up, no cycle leaves %s" %
		      ",".join(sorted(cycle_folders)))
if max_cycle >= 0 and cycles and len(cycles[0]) > max_cycle:
	print("callgraph: a cycle spans %d files, more than --max-cycle %d" %
	      (len(cycles[0]), max_cycle), file=sys.stderr)
	status = 1
sys.exit(status)
' "$component" "$edges" "$max_cycle" "$folders" "$layers" "$cycles_in"
