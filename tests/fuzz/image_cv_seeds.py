#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Make the seeds of tests/fuzz/corpus/image_cv (fuzz_image_cv.c).

kdsim's hal.dll (lld-link, with an RSDS record) from a build folder, and
copies of it broken in one way each: the record past the end of the
file, a path without its NUL, a huge debug directory, 0xffff sections,
the file cut inside the record.

    tests/fuzz/image_cv_seeds.py OUTDIR BUILD_DIR
"""
import os
import struct
import sys


def debug_entry(d):
    lfanew = struct.unpack_from("<I", d, 0x3C)[0]
    nsec = struct.unpack_from("<H", d, lfanew + 6)[0]
    optsz = struct.unpack_from("<H", d, lfanew + 20)[0]
    opt = lfanew + 24
    dirs = 112 if struct.unpack_from("<H", d, opt)[0] == 0x20B else 96
    rva, size = struct.unpack_from("<II", d, opt + dirs + 48)
    sec = opt + optsz
    for i in range(nsec):
        va, = struct.unpack_from("<I", d, sec + 40 * i + 12)
        raw_size, raw = struct.unpack_from("<II", d, sec + 40 * i + 16)
        if va <= rva < va + raw_size:
            return lfanew, opt + dirs + 48, raw + rva - va
    raise SystemExit("no debug directory")


def main():
    out, build = sys.argv[1], sys.argv[2]
    d = bytearray(open(os.path.join(
        build, "firmware-stubs/sim/kernel/hal.dll"), "rb").read())
    lfanew, ddir, ent = debug_entry(d)
    ptr, = struct.unpack_from("<I", d, ent + 24)
    seeds = {"kdsim_hal.dll": bytes(d)}
    b = bytearray(d)
    struct.pack_into("<I", b, ent + 24, len(d) - 8)
    seeds["record_past_eof"] = bytes(b)
    b = bytearray(d)
    size, = struct.unpack_from("<I", d, ent + 16)
    for i in range(24, size):
        b[ptr + i] = 0x41
    seeds["path_no_nul"] = bytes(b)
    b = bytearray(d)
    struct.pack_into("<I", b, ddir + 4, 0xFFFFFFF0)
    seeds["huge_debug_dir"] = bytes(b)
    b = bytearray(d)
    struct.pack_into("<H", b, lfanew + 6, 0xFFFF)
    seeds["many_sections"] = bytes(b)
    seeds["cut_in_record"] = bytes(d[:ptr + 12])
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
