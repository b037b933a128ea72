#!/usr/bin/env bash
# format.sh: openkd's C layout (.clang-format) over every tracked .c/.h.
#
#   scripts/format.sh          rewrite the files in place
#   scripts/format.sh --check  list the files that differ and exit 1
#
# Uses clang-format-14 (Debian 12); CLANG_FORMAT overrides the binary.
set -euo pipefail
cd "$(dirname "$0")/.."

cf=${CLANG_FORMAT:-}
if [ -z "$cf" ]; then
	for c in clang-format-14 clang-format; do
		if command -v "$c" >/dev/null 2>&1; then
			cf=$c
			break
		fi
	done
fi
if [ -z "$cf" ]; then
	echo "format.sh: clang-format not found (apt-get install clang-format-14)" >&2
	exit 2
fi

mapfile -t files < <(git ls-files '*.c' '*.h')
if [ "${1:-}" = "--check" ]; then
	bad=0
	for f in "${files[@]}"; do
		if ! "$cf" --dry-run -Werror "$f" >/dev/null 2>&1; then
			echo "format: $f differs from .clang-format (run scripts/format.sh)"
			bad=1
		fi
	done
	if [ $bad -eq 0 ]; then
		echo "format: ${#files[@]} files follow .clang-format"
	fi
	exit $bad
fi
"$cf" -i "${files[@]}"
