#!/usr/bin/env bash
# depcheck.sh: the dependency check between openkd's components.
#
#   scripts/depcheck.sh [--allow FILE] [--all] [ROOT]
#
# ROOT is the source tree (default: the tree this script is in).  A
# component is a top-level folder; what each may use is DESIGN.md §2:
#
#   kdproto         nothing
#   util            kdproto (kd/common.h: error codes, KD_API)
#   rchan           kdproto, util
#   transports      kdproto, util, rchan (the kdsrv: driver)
#   dump            kdproto, util
#   pdb             kdproto, util (the PDB reader)
#   symstore        kdproto, util, pdb (symbol path, symbol-server client)
#   engine          kdproto, util, transports, rchan, dump, pdb, symstore
#   kdsrv           kdproto, util, transports, rchan (never the engine)
#   firmware-stubs  kdproto, util
#   tools           the public headers and targets of the libraries above
#   tests           everything (not checked)
#
# It fails when, outside tests/:
#   - a .c or .h file includes a header of a component its own may not use,
#     or a header of another component outside that component's include/
#     folders (a private header); quoted includes are resolved relative to
#     the file, then in the include folders of its targets, angle includes
#     in those folders, then in every include/ folder of the tree;
#   - a CMake target (target_include_directories) or folder
#     (include_directories) adds an include folder of such a component, or
#     one outside another component's include/ folders;
#   - a CMake target links (target_link_libraries) a target of a component
#     its own may not use, or another component's internal target (one that
#     exports include folders outside include/).
# A file's targets are those of the nearest CMakeLists.txt above it.
#
# Known violations are listed, one "FROM -> TO" a line with the issue that
# removes them, in ROOT/scripts/depcheck.allow (or --allow FILE); only those
# not listed fail the check.  An exception that no longer matches is
# reported as stale so it can be deleted.  --all prints the exceptions that
# matched, too.  Exit status: 0 no new violation, 1 new violations, 2 usage
# error or unreadable tree.
set -euo pipefail

usage() {
	sed -n '4,37s/^# \{0,1\}//p' "$0" >&2
	exit "${1:-2}"
}

allow=
all=0
root=
while [ $# -gt 0 ]; do
	case $1 in
	--allow)
		[ $# -ge 2 ] || usage
		allow=$2
		shift
		;;
	--allow=*) allow=${1#*=} ;;
	--all) all=1 ;;
	-h | --help) usage 0 ;;
	-*)
		echo "depcheck: unknown option $1" >&2
		usage
		;;
	*)
		[ -z "$root" ] || usage
		root=$1
		;;
	esac
	shift
done
[ -n "$root" ] || root=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -f "$root/CMakeLists.txt" ]; then
	echo "depcheck: $root is not a source tree (no CMakeLists.txt)" >&2
	exit 2
fi
if [ -z "$allow" ]; then
	allow=$root/scripts/depcheck.allow
elif [ ! -e "$allow" ]; then
	echo "depcheck: no exceptions file $allow" >&2
	exit 2
fi

exec python3 - "$root" "$allow" "$all" <<'PYEOF'
import os, re, sys

root = os.path.realpath(sys.argv[1])
allow_path, show_all = sys.argv[2], sys.argv[3] == "1"

# DESIGN.md §2: the components and what each may use.
LIBS = ["kdproto", "util", "rchan", "transports", "dump", "pdb", "symstore", "engine", "kdsrv", "firmware-stubs"]
ALLOWED = {
	"kdproto": set(),
	"util": {"kdproto"},
	"rchan": {"kdproto", "util"},
	"transports": {"kdproto", "util", "rchan"},
	"dump": {"kdproto", "util"},
	"pdb": {"kdproto", "util"},
	"symstore": {"kdproto", "util", "pdb"},
	"engine": {"kdproto", "util", "transports", "rchan", "dump", "pdb", "symstore"},
	"kdsrv": {"kdproto", "util", "transports", "rchan"},
	"firmware-stubs": {"kdproto", "util"},
	"tools": set(LIBS),
}
UNCHECKED = {"tests"}
# Top-level folders that hold no component.
NOT_COMPONENTS = {"docs", "scripts", "cmake", ".git", ".ci", ".github"}

def fail(msg):
	print("depcheck: " + msg, file=sys.stderr)
	sys.exit(2)

def rel(path):
	return os.path.relpath(path, root)

def component_of(path):
	"""Top-level folder of a path inside the tree, or None."""
	r = rel(os.path.realpath(path))
	if r.startswith("..") or os.path.isabs(r):
		return None
	top = r.split(os.sep, 1)[0]
	if top in ALLOWED or top in UNCHECKED:
		return top
	return None

def is_public(path):
	"""A header (or folder) is public when it lies under an include/ folder
	of its component: dump/include/kd/dump.h, firmware-stubs/sim/include."""
	parts = rel(os.path.realpath(path)).split(os.sep)
	return "include" in parts[1:]

def is_build_dir(name):
	return name.startswith("build") or name == "CMakeFiles"

# Every top-level folder with C sources or a CMakeLists.txt must be a known
# component: a new one has to be given its place in the table above.
for name in sorted(os.listdir(root)):
	p = os.path.join(root, name)
	if not os.path.isdir(p) or name in NOT_COMPONENTS or is_build_dir(name):
		continue
	if os.path.exists(os.path.join(p, "CMakeCache.txt")):
		continue  # a build folder by another name
	if name in ALLOWED or name in UNCHECKED:
		continue
	for dp, dns, fns in os.walk(p):
		if any(f.endswith((".c", ".h")) or f == "CMakeLists.txt" for f in fns):
			fail("%s/ holds code but is not a component depcheck knows: "
			     "add it to the table in scripts/depcheck.sh" % name)

# --- CMake: a small reader of command invocations --------------------------

BRACKET_COMMENT = re.compile(r"#\[(=*)\[")
COMMAND = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)[ \t]*\(")

def cmake_commands(path):
	"""(name, [args], line) for every command of a CMakeLists.txt."""
	text = open(path, encoding="utf-8", errors="replace").read()
	i, n, line = 0, len(text), 1
	out = []
	while i < n:
		c = text[i]
		if c == "\n":
			line += 1
			i += 1
		elif c == "#":
			m = BRACKET_COMMENT.match(text, i)
			if m:
				end = text.find("]" + m.group(1) + "]", i)
				end = n if end < 0 else end + len(m.group(1)) + 2
			else:
				end = text.find("\n", i)
				end = n if end < 0 else end
			line += text.count("\n", i, end)
			i = end
		else:
			m = COMMAND.match(text, i)
			if not m:
				i += 1
				continue
			name, start, i = m.group(1).lower(), line, m.end()
			args, cur, depth, quoted = [], None, 1, False
			while i < n and depth > 0:
				c = text[i]
				if quoted:
					if c == "\\" and i + 1 < n:
						cur += text[i + 1]
						i += 2
						continue
					if c == '"':
						quoted = False
					else:
						cur += c
						if c == "\n":
							line += 1
				elif c == '"':
					quoted, cur = True, (cur or "")
				elif c == "#":
					end = text.find("\n", i)
					i = n if end < 0 else end
					continue
				elif c in " \t\r\n":
					if c == "\n":
						line += 1
					if cur is not None:
						args.append(cur)
						cur = None
				elif c == "(":
					depth += 1
					cur = (cur or "") + c
				elif c == ")":
					depth -= 1
					if depth > 0:
						cur = (cur or "") + c
				else:
					cur = (cur or "") + c
				i += 1
			if cur is not None:
				args.append(cur)
			out.append((name, args, start))
	return out

def expand(arg, cdir):
	"""The argument with the variables depcheck knows replaced, or None
	when it still depends on something only CMake can evaluate."""
	for var in ("CMAKE_CURRENT_SOURCE_DIR", "CMAKE_CURRENT_LIST_DIR"):
		arg = arg.replace("${%s}" % var, cdir)
	for var in ("CMAKE_SOURCE_DIR", "PROJECT_SOURCE_DIR"):
		arg = arg.replace("${%s}" % var, root)
	if "${" in arg or "$<" in arg or "$ENV{" in arg:
		return None
	return arg

targets = {}    # name -> {"dir", "comp", "incs": [(scope, path, where)]}
aliases = {}    # alias -> name
links = []      # (target, item, where)
tincs = []      # (target, scope, path, where)
dincs = {}      # folder -> [(path, where)] of include_directories()
cmake_dirs = {} # folder -> [target names defined there]
SCOPES = {"PUBLIC", "PRIVATE", "INTERFACE"}
LINK_WORDS = SCOPES | {"LINK_PUBLIC", "LINK_PRIVATE", "LINK_INTERFACE_LIBRARIES",
                       "debug", "optimized", "general"}

for dp, dns, fns in os.walk(root):
	dns[:] = sorted(d for d in dns if not is_build_dir(d) and d not in NOT_COMPONENTS)
	if "CMakeLists.txt" not in fns:
		continue
	path = os.path.join(dp, "CMakeLists.txt")
	cdir = os.path.realpath(dp)
	for name, args, line in cmake_commands(path):
		where = "%s:%d" % (rel(path), line)
		if name in ("add_library", "add_executable") and args:
			t = expand(args[0], cdir)
			if t is None:
				continue
			if len(args) >= 3 and args[1] == "ALIAS":
				aliases[t] = args[2]
			elif "IMPORTED" not in args[1:]:
				targets[t] = {"dir": cdir, "comp": component_of(cdir), "incs": []}
				cmake_dirs.setdefault(cdir, []).append(t)
		elif name == "target_include_directories" and args:
			t, scope = expand(args[0], cdir), "PRIVATE"
			if t is None:
				continue
			for a in args[1:]:
				if a in SCOPES:
					scope = a
					continue
				if a in ("SYSTEM", "BEFORE", "AFTER"):
					continue
				d = expand(a, cdir)
				if d is None:
					continue
				d = os.path.realpath(os.path.join(cdir, d))
				tincs.append((t, scope, d, where))
		elif name == "include_directories":
			# Folder-wide: every target here and below compiles with it.
			for a in args:
				if a in ("SYSTEM", "BEFORE", "AFTER"):
					continue
				d = expand(a, cdir)
				if d is not None:
					d = os.path.realpath(os.path.join(cdir, d))
					dincs.setdefault(cdir, []).append((d, where))
		elif name == "target_link_libraries" and args:
			t = expand(args[0], cdir)
			if t is None:
				continue
			for a in args[1:]:
				if a in LINK_WORDS:
					continue
				links.append((t, a, where))

def canon(t):
	seen = set()
	while t in aliases and t not in seen:
		seen.add(t)
		t = aliases[t]
	return t

for t, scope, d, where in tincs:
	t = canon(t)
	if t in targets:
		targets[t]["incs"].append((scope, d, where))
linkmap = {}
for t, item, where in links:
	t, item = canon(t), canon(item)
	if t in targets and item in targets:
		linkmap.setdefault(t, []).append((item, where))

def exported_dirs(t):
	return [d for scope, d, _ in targets[t]["incs"] if scope != "PRIVATE"]

def search_dirs(t):
	"""The include folders a target compiles with: its own, and the
	exported ones of everything it links, transitively (a superset of what
	CMake passes, which is enough to find where a header comes from)."""
	dirs, seen, todo = [d for _, d, _ in targets[t]["incs"]], {t}, [t]
	while todo:
		for item, _ in linkmap.get(todo.pop(), []):
			if item not in seen:
				seen.add(item)
				todo.append(item)
				dirs += exported_dirs(item)
	return dirs

def internal(t):
	"""A target that hands its users folders outside include/."""
	return any(not is_public(d) and component_of(d) == targets[t]["comp"]
		   for d in exported_dirs(t))

# Every include/ folder of the tree, for angle includes no target names.
public_dirs = []
for comp in list(ALLOWED) + sorted(UNCHECKED):
	for dp, dns, fns in os.walk(os.path.join(root, comp)):
		dns[:] = sorted(d for d in dns if not is_build_dir(d))
		if os.path.basename(dp) == "include":
			public_dirs.append(os.path.realpath(dp))
			dns[:] = []

violations = {}  # "FROM -> TO" -> first explanation

def violation(frm, to, why):
	violations.setdefault("%s -> %s" % (frm, to), why)

def judge(comp, other):
	"""None when comp may use other's public side, else why not."""
	if other == comp:
		return None
	if other in UNCHECKED:
		return "%s is test code, no component may use it" % other
	if other not in ALLOWED[comp]:
		return "%s may not use %s (DESIGN.md §2)" % (comp, other)
	return None

# --- includes ----------------------------------------------------------------

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
dir_search = {}
nfiles = nincs = 0
for comp in ALLOWED:
	for dp, dns, fns in os.walk(os.path.join(root, comp)):
		dns[:] = sorted(d for d in dns if not is_build_dir(d))
		for fn in sorted(fns):
			if not fn.endswith((".c", ".h")):
				continue
			path = os.path.join(dp, fn)
			nfiles += 1
			# The targets of the nearest CMakeLists.txt above the file.
			d = os.path.realpath(dp)
			while d not in cmake_dirs and d.startswith(root + os.sep):
				d = os.path.dirname(d)
			if d not in dir_search:
				dirs = []
				for t in cmake_dirs.get(d, []):
					dirs += [x for x in search_dirs(t) if x not in dirs]
				up = d
				while up.startswith(root):
					dirs += [x for x, _ in dincs.get(up, []) if x not in dirs]
					if up == root:
						break
					up = os.path.dirname(up)
				dir_search[d] = dirs
			with open(path, encoding="utf-8", errors="replace") as f:
				lines = f.read().split("\n")
			for lineno, text in enumerate(lines, 1):
				m = INCLUDE.match(text)
				if not m:
					continue
				nincs += 1
				name = m.group(2).strip()
				where = "%s:%d" % (rel(path), lineno)
				cands = dir_search[d] + public_dirs
				if m.group(1) == '"':
					cands = [os.path.realpath(dp)] + cands
				hdr = None
				for c in cands:
					p = os.path.join(c, name)
					if os.path.isfile(p):
						hdr = os.path.realpath(p)
						break
				if hdr is None:
					continue  # a system or generated header
				other = component_of(hdr)
				if other is None or other == comp:
					continue
				why = judge(comp, other)
				if why is None and not is_public(hdr):
					why = "private header of %s (outside its include/)" % other
				if why:
					violation(rel(path), rel(hdr), "%s: %s" % (where, why))

# --- CMake targets: include folders and links --------------------------------

for t in sorted(targets):
	comp = targets[t]["comp"]
	if comp is None or comp in UNCHECKED:
		continue
	for scope, d, where in targets[t]["incs"]:
		other = component_of(d)
		if other is None or other == comp:
			continue
		why = judge(comp, other)
		if why is None and not is_public(d):
			why = "include folder inside %s but outside its include/" % other
		if why:
			violation(t, rel(d) + "/", "%s: %s" % (where, why))
	for item, where in linkmap.get(t, []):
		other = targets[item]["comp"]
		if other is None or other == comp:
			continue
		why = judge(comp, other)
		if why is None and internal(item):
			why = "%s is an internal target of %s" % (item, other)
		if why:
			violation(t, item, "%s: %s" % (where, why))

for cdir in sorted(dincs):
	comp = component_of(cdir)
	if comp is None or comp in UNCHECKED:
		continue
	for d, where in dincs[cdir]:
		other = component_of(d)
		if other is None or other == comp:
			continue
		why = judge(comp, other)
		if why is None and not is_public(d):
			why = "include folder inside %s but outside its include/" % other
		if why:
			violation(rel(os.path.join(cdir, "CMakeLists.txt")), rel(d) + "/",
				  "%s: %s" % (where, why))

# --- exceptions ----------------------------------------------------------------

allowed = {}
if os.path.exists(allow_path):
	with open(allow_path, encoding="utf-8") as f:
		for lineno, text in enumerate(f, 1):
			body = text.split("#", 1)[0].strip()
			if not body:
				continue
			m = re.match(r"^(\S+)\s+->\s+(\S+)$", body)
			if not m:
				fail("%s:%d: want \"FROM -> TO  # issue N: why\"" % (allow_path, lineno))
			if not re.search(r"#.*\bissue\s+#?\d+", text, re.I):
				fail("%s:%d: an exception names the issue that removes it "
				     "(# issue N: why)" % (allow_path, lineno))
			allowed["%s -> %s" % m.groups()] = "%s:%d" % (allow_path, lineno)

new = sorted(k for k in violations if k not in allowed)
known = sorted(k for k in violations if k in allowed)
stale = sorted(k for k in allowed if k not in violations)
for k in new:
	print("depcheck: %s  [%s]" % (k, violations[k]))
if show_all:
	for k in known:
		print("depcheck: allowed: %s  [%s]" % (k, violations[k]))
for k in stale:
	print("depcheck: stale exception, delete it: %s  [%s]" % (k, allowed[k]))
print("depcheck: %d files, %d includes, %d targets, %d links: "
      "%d new violations, %d allowed, %d stale exceptions" %
      (nfiles, nincs, len(targets), len(links), len(new), len(known), len(stale)))
sys.exit(1 if new else 0)
PYEOF
