#!/usr/bin/env bash
# Install, with apt-get, the Debian packages openkd needs that are missing.
# Sourced or run by scripts/test.sh and scripts/demo.sh.  Root on Debian 12.
set -euo pipefail

KD_DEPS=(
	build-essential cmake pkg-config clang clang-tools-14 clang-format-14 clang-tidy-14 libclang-rt-14-dev binutils
	libssl-dev openssl libpcap-dev libserialport-dev libcmocka-dev
	libcapstone-dev libedit-dev libunicorn-dev tshark
	python3 lld llvm libcurl4-openssl-dev libmspack-dev gcab
)

missing=()
for p in "${KD_DEPS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -gt 0 ]; then
	echo "openkd: installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
