#!/usr/bin/env bash
# tidy.sh: clang-tidy (the checks of .clang-tidy) over every tracked .c file
# of a build's compile_commands.json.
#
#   scripts/tidy.sh [--allow FILE] [--jobs N] [BUILD_DIR]
#
# BUILD_DIR (default: build) is a configured CMake build folder; the source
# tree is the one it was configured from (CMAKE_HOME_DIRECTORY).  Files are
# the .c files git tracks there (every .c of the database under the tree
# when it is not a git work tree).  clang-tidy-14 runs on N files at once
# (default: the number of processors); CLANG_TIDY overrides the binary.
#
# Known findings are listed in the tree's scripts/tidy.allow (or --allow
# FILE), one "PATH:CHECK  # why" a line: every warning of CHECK in PATH (a
# path from the tree's top, shell wildcards allowed) is then reported as
# allowed, not as new.  An entry that matches nothing is reported as stale
# so it can be deleted.  Prints each new finding, then one summary line.
# Exit status: 0 no new finding, 1 new findings (or a file clang-tidy could
# not process), 2 usage error or no compilation database.
set -euo pipefail

usage() {
	sed -n '4,19s/^# \{0,1\}//p' "$0" >&2
	exit "${1:-2}"
}

allow=
jobs=
build=
while [ $# -gt 0 ]; do
	case $1 in
	--allow)
		[ $# -ge 2 ] || usage
		allow=$2
		shift
		;;
	--allow=*) allow=${1#*=} ;;
	--jobs | -j)
		[ $# -ge 2 ] || usage
		jobs=$2
		shift
		;;
	--jobs=*) jobs=${1#*=} ;;
	-h | --help) usage 0 ;;
	-*)
		echo "tidy: unknown option $1" >&2
		usage
		;;
	*)
		[ -z "$build" ] || usage
		build=$1
		;;
	esac
	shift
done
build=${build:-build}
[ -n "$jobs" ] || jobs=$(nproc 2>/dev/null || echo 2)
case $jobs in
'' | *[!0-9]* | 0)
	echo "tidy: --jobs wants a positive number, not '$jobs'" >&2
	exit 2
	;;
esac

if [ ! -f "$build/compile_commands.json" ]; then
	echo "tidy: no $build/compile_commands.json (configure the build first)" >&2
	exit 2
fi
ct=${CLANG_TIDY:-}
if [ -z "$ct" ]; then
	for c in clang-tidy-14 clang-tidy; do
		if command -v "$c" >/dev/null 2>&1; then
			ct=$c
			break
		fi
	done
fi
if [ -z "$ct" ]; then
	echo "tidy: clang-tidy not found (apt-get install clang-tidy-14)" >&2
	exit 2
fi
if [ -n "$allow" ] && [ ! -e "$allow" ]; then
	echo "tidy: no allow file $allow" >&2
	exit 2
fi

exec python3 - "$build" "$ct" "$jobs" "$allow" <<'PYEOF'
import concurrent.futures, fnmatch, json, os, re, subprocess, sys, time

build, ct, jobs, allow_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
t0 = time.monotonic()

def fail(msg):
	print("tidy: " + msg, file=sys.stderr)
	sys.exit(2)

build = os.path.realpath(build)
root = None
try:
	with open(os.path.join(build, "CMakeCache.txt"), encoding="utf-8",
		  errors="replace") as f:
		for line in f:
			if line.startswith("CMAKE_HOME_DIRECTORY:"):
				root = os.path.realpath(line.split("=", 1)[1].strip())
except OSError:
	pass
if not root or not os.path.isdir(root):
	fail("%s is not a configured CMake build (no CMakeCache.txt)" % build)
if not allow_path:
	allow_path = os.path.join(root, "scripts", "tidy.allow")

try:
	with open(os.path.join(build, "compile_commands.json"), encoding="utf-8") as f:
		db = json.load(f)
except (OSError, ValueError) as e:
	fail("cannot read the compilation database: %s" % e)

def rel(path):
	return os.path.relpath(os.path.realpath(path), root)

# The database's .c files inside the tree (not the build), once each.
in_db = []
for e in db:
	path = os.path.join(e.get("directory", ""), e.get("file", ""))
	r = rel(path)
	if not r.endswith(".c") or r.startswith(".."):
		continue
	if os.path.realpath(path).startswith(build + os.sep):
		continue
	if r not in in_db:
		in_db.append(r)

git = subprocess.run(["git", "-C", root, "ls-files", "-z", "--", "*.c"],
		     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
if git.returncode == 0:
	tracked = set(p for p in git.stdout.decode().split("\0") if p)
	files = [r for r in in_db if r in tracked]
else:
	files = in_db
if not files:
	fail("no tracked .c file in %s/compile_commands.json" % build)

# --- run ------------------------------------------------------------------

WARN = re.compile(r"^(/[^:\n]+):(\d+):(\d+): (warning|error): (.*?) \[([^\]\s]+)\]$")

def tidy(path):
	p = subprocess.run([ct, "-p", build, "--quiet", os.path.join(root, path)],
			   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
	return path, p.returncode, p.stdout.decode(errors="replace"), \
		p.stderr.decode(errors="replace")

findings = {}  # (file, line, col, check) -> message, first seen
broken = []
with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
	for path, rc, out, err in ex.map(tidy, sorted(files)):
		seen = 0
		for line in out.splitlines():
			m = WARN.match(line)
			if not m:
				continue
			seen += 1
			f, ln, col, kind, msg, checks = m.groups()
			for check in checks.split(","):
				key = (rel(f), int(ln), int(col), check)
				findings.setdefault(key, msg)
		# clang-tidy exits non-zero for compile errors too; those come
		# out as "error: ... [clang-diagnostic-error]" lines above.
		if rc != 0 and seen == 0:
			tail = (err.strip().splitlines() or ["(no output)"])[-1]
			broken.append("%s: clang-tidy exit %d: %s" % (path, rc, tail))

# --- the allow list -----------------------------------------------------

allowed = []  # [pattern, check, where, used]
if os.path.exists(allow_path):
	with open(allow_path, encoding="utf-8") as f:
		for n, text in enumerate(f, 1):
			body, _, why = text.partition("#")
			body = body.strip()
			if not body:
				continue
			m = re.match(r"^([^\s:]+):([A-Za-z0-9_.\-]+)$", body)
			if not m:
				fail("%s:%d: want \"PATH:CHECK  # why\"" % (allow_path, n))
			if not why.strip():
				fail("%s:%d: an entry says why it is allowed "
				     "(# why)" % (allow_path, n))
			allowed.append([m.group(1), m.group(2),
					"%s:%d" % (os.path.relpath(allow_path, root), n), 0])

def allowed_by(f, check):
	hit = None
	for a in allowed:
		if a[1] == check and fnmatch.fnmatchcase(f, a[0]):
			a[3] += 1
			hit = hit or a
	return hit

new, known = [], 0
for key in sorted(findings):
	f, ln, col, check = key
	if allowed_by(f, check):
		known += 1
	else:
		new.append("%s:%d:%d: %s [%s]" % (f, ln, col, findings[key], check))
for line in new:
	print("tidy: " + line)
for line in broken:
	print("tidy: " + line)
stale = [a for a in allowed if a[3] == 0]
for a in stale:
	print("tidy: stale entry, delete it: %s:%s  [%s]" % (a[0], a[1], a[2]))
print("tidy: %d files, %d new findings, %d allowed, %d stale entries, "
      "%d unprocessed files (%.0f s, %d jobs)" %
      (len(files), len(new), known, len(stale), len(broken),
       time.monotonic() - t0, jobs))
sys.exit(1 if new or broken else 0)
PYEOF
