#!/usr/bin/env bash
# Compile every kdproto source with -ffreestanding -nostdlib, link them into
# one relocatable object and check that the only undefined symbols are the
# mem* functions a firmware image supplies itself.
set -euo pipefail
cc=${1:-cc}
src=${2:-$(dirname "$0")/../kdproto}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
objs=()
for f in "$src"/src/*.c; do
	o="$out/$(basename "$f" .c).o"
	"$cc" -std=c11 -ffreestanding -nostdlib -fno-stack-protector -O2 \
		-Wall -Wextra -Werror -I"$src/include" -I"$src/src" -c "$f" -o "$o"
	objs+=("$o")
done
ld -r -o "$out/kdproto.o" "${objs[@]}"
bad=$(nm -u "$out/kdproto.o" | awk '{print $2}' | grep -Ev '^(memcpy|memset|memcmp|memmove)$' || true)
if [ -n "$bad" ]; then
	echo "kdproto needs symbols a freestanding build does not have:" >&2
	echo "$bad" >&2
	exit 1
fi
echo "kdproto builds freestanding (${#objs[@]} files; undefined: $(nm -u "$out/kdproto.o" | awk '{print $2}' | tr '\n' ' '))"
