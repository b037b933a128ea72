#!/usr/bin/env bash
# Compile kdstub's core and every kdproto source with -ffreestanding
# -nostdlib, link them into one relocatable object and check that the only
# undefined symbols are the mem* functions a firmware image supplies itself,
# and that no stub frame is larger than 1 KiB.
set -euo pipefail
cc=${1:-cc}
root=${2:-$(dirname "$0")/..}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
objs=()
for f in "$root"/kdproto/src/*.c "$root"/firmware-stubs/core/*.c; do
	d=$(basename "$(dirname "$f")")
	o="$out/$d-$(basename "$f" .c).o"
	# The stub core states a bounded stack: no frame above 1 KiB.
	extra=()
	[ "$d" = core ] && extra=(-Wframe-larger-than=1024)
	"$cc" "${extra[@]}" -std=c11 -ffreestanding -nostdlib -fno-stack-protector -O2 \
		-Wall -Wextra -Wvla -Werror \
		-I"$root/kdproto/include" -I"$root/kdproto/src" \
		-I"$root/firmware-stubs/include" -I"$root/firmware-stubs/core" \
		-c "$f" -o "$o"
	objs+=("$o")
done
ld -r -o "$out/kdstub.o" "${objs[@]}"
bad=$(nm -u "$out/kdstub.o" | awk '{print $2}' | grep -Ev '^(memcpy|memset|memcmp|memmove)$' || true)
if [ -n "$bad" ]; then
	echo "kdstub needs symbols a freestanding build does not have:" >&2
	echo "$bad" >&2
	exit 1
fi
echo "kdstub builds freestanding (${#objs[@]} files; undefined: $(nm -u "$out/kdstub.o" | awk '{print $2}' | tr '\n' ' '))"
