#!/usr/bin/env bash
# Source lint, run by scripts/test.sh before anything is built:
#   1. no unbounded string functions in the project's C sources
#      (sprintf, vsprintf, strcpy, strcat, gets, scanf-family "%s"
#      without a width): snprintf and friends say how much room there is;
#   2. every public header (*/include/kd/...) compiles on its own, so a
#      user of one header needs nothing included before it.
# Exits non-zero with one line per finding.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

fail=0
sources=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.c' -o -name '*.h')

# 1. Banned calls (word-bounded, so snprintf/vsnprintf/strncpy pass).
banned='(^|[^A-Za-z0-9_])(sprintf|vsprintf|strcpy|strcat|gets)[[:space:]]*\('
unbounded_scan='(^|[^A-Za-z0-9_])v?f?s?scanf[[:space:]]*\([^;]*%s'
while IFS= read -r hit; do
	echo "lint: banned call: $hit"
	fail=1
done < <(grep -nE "$banned" $sources | grep -vE '//.*lint: allowed' || true)
while IFS= read -r hit; do
	echo "lint: scanf %s without a width: $hit"
	fail=1
done < <(grep -nE "$unbounded_scan" $sources || true)

# 2. Public headers, each alone.
cc=${CC:-cc}
incs=()
while IFS= read -r d; do
	incs+=("-I$d")
done < <(git ls-files '*/include/*' | sed 's|/include/.*|/include|' | sort -u)
while IFS= read -r h; do
	rel=${h#*/include/}
	if ! printf '#include <%s>\n' "$rel" |
		"$cc" -std=c11 -Wall -Wextra -Werror -fsyntax-only "${incs[@]}" \
			-x c - 2>/tmp/kd-lint.$$; then
		echo "lint: $h does not compile on its own:"
		sed 's/^/    /' /tmp/kd-lint.$$
		fail=1
	fi
done < <(git ls-files '*/include/*.h' '*/include/**/*.h' 2>/dev/null | sort -u)
rm -f /tmp/kd-lint.$$

if [ "$fail" -ne 0 ]; then
	echo "lint: failed"
	exit 1
fi
echo "lint: clean ($(echo "$sources" | wc -w) sources, public headers alone)"
