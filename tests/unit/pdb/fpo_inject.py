#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Give a PDB an old FPO (FPO_DATA) stream, as MSVC's linker writes for
x86 code compiled with /Oy by older compilers: clang and lld-link never
write one, so the tests make it here and check it with llvm-pdbutil.

    fpo_inject.py IN.pdb OUT.pdb RECORDS [--drop-frame-data] [--junk N]

RECORDS is a text file, one FPO_DATA per line:
    rva size locals_dwords params_dwords prolog regs seh use_bp frame
The new stream is appended and named in the DBI optional debug header
(index 0); --drop-frame-data also clears index 9 (the FRAMEDATA stream)
so that a debugger has only the FPO records to go by; --junk N appends N
stray bytes to the stream (a damaged table).
"""
import struct
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from msf_repack import read_streams, write_msf  # noqa: E402


def fpo_record(f):
    rva, size, locals_, params, prolog, regs, seh, bp, frame = f
    bits = (prolog & 0xFF) | (regs & 7) << 8 | (seh & 1) << 11 | \
        (bp & 1) << 12 | (frame & 3) << 14
    return struct.pack("<IIIHH", rva, size, locals_, params, bits)


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    if "--junk" in argv:
        args.remove(argv[argv.index("--junk") + 1])
    with open(args[0], "rb") as f:
        data = f.read()
    bs = struct.unpack_from("<I", data, 32)[0]
    streams = read_streams(data)
    recs = []
    with open(args[2]) as f:
        for line in f:
            if line.strip():
                recs.append(fpo_record([int(x, 0) for x in line.split()]))
    dbi = bytearray(streams[3])
    sizes = struct.unpack_from("<IIIIII", dbi, 24)
    ec = struct.unpack_from("<I", dbi, 52)[0]
    dbg = 64 + sum(sizes[:5]) + ec
    dbg_len = struct.unpack_from("<I", dbi, 48)[0]
    assert dbg_len >= 20, "no room for the FPO entries in the debug header"
    junk = 0
    if "--junk" in argv:
        junk = int(argv[argv.index("--junk") + 1])
    streams.append(b"".join(recs) + b"\xa5" * junk)
    struct.pack_into("<H", dbi, dbg, len(streams) - 1)
    if "--drop-frame-data" in argv:
        struct.pack_into("<H", dbi, dbg + 18, 0xFFFF)
    streams[3] = bytes(dbi)
    with open(args[1], "wb") as f:
        f.write(write_msf(streams, bs, False))


if __name__ == "__main__":
    main(sys.argv)
