#!/usr/bin/env bash
# Compile the given source folders with -ffreestanding -nostdlib, link them
# into one relocatable object, and check that the only undefined symbols are
# the mem* functions a firmware image supplies itself and that no stack
# frame is larger than 1 KiB (firmware stubs state a bounded stack).
#   check-freestanding.sh CC ROOT LABEL DIR...
# DIR is relative to ROOT; its *.c files are compiled with every
# component's include/ folder on the path.
set -euo pipefail
cc=$1 root=$2 label=$3
shift 3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
incs=(-I"$root/kdproto/include" -I"$root/firmware-stubs/include")
for d in "$@"; do
	incs+=(-I"$root/$d")
done
objs=()
for d in "$@"; do
	for f in "$root/$d"/*.c; do
		o="$out/$(echo "$d" | tr / -)-$(basename "$f" .c).o"
		"$cc" -std=c11 -ffreestanding -nostdlib -fno-stack-protector -O2 \
			-Wall -Wextra -Wvla -Wframe-larger-than=1024 -Werror \
			"${incs[@]}" -c "$f" -o "$o"
		objs+=("$o")
	done
done
ld -r -o "$out/all.o" "${objs[@]}"
undef=$(nm -u "$out/all.o" | awk '{print $2}')
bad=$(echo "$undef" | grep -Ev '^(memcpy|memset|memcmp|memmove|)$' || true)
if [ -n "$bad" ]; then
	echo "$label needs symbols a freestanding build does not have:" >&2
	echo "$bad" >&2
	exit 1
fi
echo "$label builds freestanding (${#objs[@]} files; undefined: $(echo $undef))"
