#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Make the seeds of tests/fuzz/corpus/pe_file (fuzz_pe_file.c).

x64, x86 and ARM64 DLLs of a small program of our own, built with
clang-cl and lld-link, and damaged copies of the x64 one, each broken in
one way the layout code must refuse.  kdsim's hal.dll (mingw) is copied
from a build folder when one is given.

    tests/fuzz/pe_file_seeds.py OUTDIR [BUILD_DIR]
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

SRC = r"""
int g_counter = 3;
__declspec(dllexport) int SeedAdd(int a, int b)
{
	g_counter += a;
	return a + b + g_counter;
}
__declspec(dllexport) int SeedMul(int a, int b) { return a * b; }
int _DllMainCRTStartup(void *h, unsigned r, void *p) { return 1; }
"""

MACHINES = (("x86_64", "x64"), ("i686", "x86"), ("aarch64", "arm64"))


def build(tmp, triple, machine):
    src = os.path.join(tmp, "s.c")
    obj = os.path.join(tmp, "s_%s.obj" % machine)
    dll = os.path.join(tmp, "seed_%s.dll" % machine)
    with open(src, "w") as f:
        f.write(SRC)
    clang = shutil.which("clang-cl-14") or "clang-cl"
    subprocess.check_call([clang, "--target=%s-pc-windows-msvc" % triple,
                           "/nologo", "/c", "/O1", "/GS-", "/Zl",
                           "-Wno-everything", "/Fo" + obj, src])
    subprocess.check_call(["lld-link", "/nologo", "/DLL", "/NODEFAULTLIB",
                           "/ENTRY:_DllMainCRTStartup",
                           "/MACHINE:" + machine, "/OUT:" + dll, obj])
    with open(dll, "rb") as f:
        return f.read()


def headers(img):
    lfanew = struct.unpack_from("<I", img, 0x3c)[0]
    nsec = struct.unpack_from("<H", img, lfanew + 6)[0]
    optsz = struct.unpack_from("<H", img, lfanew + 20)[0]
    return lfanew, nsec, lfanew + 24 + optsz


def damaged(img):
    lfanew, nsec, st = headers(img)
    out = {"truncated": img[: len(img) * 2 // 3]}
    b = bytearray(img)
    # The second section starts inside the first.
    va1 = struct.unpack_from("<I", b, st + 12)[0]
    struct.pack_into("<I", b, st + 40 + 12, va1 + 0x10)
    out["overlap"] = bytes(b)
    b = bytearray(img)
    # The last section runs past SizeOfImage.
    struct.pack_into("<I", b, st + 40 * (nsec - 1) + 8, 0x7fff0000)
    out["past_image"] = bytes(b)
    b = bytearray(img)
    struct.pack_into("<H", b, lfanew + 6, 0xffff)
    out["many_sections"] = bytes(b)
    b = bytearray(img)
    # Raw data far past the end of the file.
    struct.pack_into("<I", b, st + 20, 0x7ffff000)
    out["raw_past_eof"] = bytes(b)
    return out


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        imgs = {m: build(tmp, t, m) for t, m in MACHINES}
    for m, img in imgs.items():
        with open(os.path.join(outdir, "seed_%s.dll" % m), "wb") as f:
            f.write(img)
    for name, img in damaged(imgs["x64"]).items():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(img)
    if len(sys.argv) > 2:
        hal = os.path.join(sys.argv[2], "firmware-stubs/sim/kernel/hal.dll")
        shutil.copy(hal, os.path.join(outdir, "kdsim_hal.dll"))


if __name__ == "__main__":
    main()
