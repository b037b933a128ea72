#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Make the seeds of tests/fuzz/corpus/types (fuzz_types.c).

The input of fuzz_types is the record part of a TPI stream.  Seeds: the
records of kdsim's kernel PDB (dttypes.c's structs, unions, bitfields,
enums, arrays, pointers; exported with llvm-pdbutil), and hand-made
records that loop: a modifier of itself, a pointer to itself, an array of
itself, a struct that embeds itself, a bitfield whose base is itself, a
field list continued by itself, an alias loop, and a forward reference
whose name is defined as an enum.

    tests/fuzz/types_seeds.py OUTDIR BUILD_DIR
"""
import os
import struct
import subprocess
import sys
import tempfile


def rec(leaf, payload):
    body = struct.pack("<H", leaf) + payload
    while (len(body) + 2) % 4:
        body += bytes([0xF4 - ((len(body) + 2) % 4) + 1])
    return struct.pack("<H", len(body)) + body


def name(s):
    return s.encode() + b"\0"


def member(ti, off, nm):
    # LF_MEMBER: attr, type, offset (numeric), name; padded in the list.
    b = struct.pack("<HHI", 0x150D, 3, ti) + struct.pack("<H", off) + name(nm)
    while len(b) % 4:
        b += bytes([0xF0 + (4 - len(b) % 4)])
    return b


def struct_rec(leaf, count, fields, size, nm, props=0):
    if leaf == 0x1506:  # LF_UNION: count, props, fields, size, name
        p = struct.pack("<HHI", count, props, fields)
    else:
        p = struct.pack("<HHIII", count, props, fields, 0, 0)
    return rec(leaf, p + struct.pack("<H", size) + name(nm))


def kernel_tpi(build):
    pdb = os.path.join(build, "firmware-stubs/sim/kernel/ntoskrnl.pdb")
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "tpi")
        subprocess.run(["llvm-pdbutil", "export", "--stream=2",
                        "--out=" + out, pdb], check=True,
                       stdout=subprocess.DEVNULL)
        data = open(out, "rb").read()
    hsz = struct.unpack_from("<I", data, 4)[0]
    return data[hsz:]


def main():
    outdir, build = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    seeds = {}
    seeds["kernel_tpi"] = kernel_tpi(build)
    # 0x1000 modifier of 0x1000.
    seeds["modifier_self"] = rec(0x1001, struct.pack("<IH", 0x1000, 1))
    # 0x1000 pointer (64-bit) to 0x1000, 0x1001 array of 0x1001.
    seeds["pointer_array_self"] = (
        rec(0x1002, struct.pack("<II", 0x1000, 0x1000C | (8 << 13)))
        + rec(0x1503, struct.pack("<IIH", 0x1001, 0x23, 16) + name("")))
    # 0x1000 field list: member "a" of type 0x1001 at 0, member "b" at 4;
    # 0x1001 struct S (fields 0x1000) embeds itself through "a".
    fl = member(0x1001, 0, "a") + member(0x1002, 4, "") + \
        member(0x0074, 8, "c")
    seeds["struct_self"] = (
        rec(0x1203, fl)
        + struct_rec(0x1505, 3, 0x1000, 12, "S")
        + struct_rec(0x1506, 3, 0x1000, 12, "<unnamed-tag>"))
    # 0x1000 bitfield of itself; 0x1001 bitfield of unsigned long, Pos
    # 30, 8 bits (past its base); struct B of both.
    fl = member(0x1000, 0, "x") + member(0x1001, 0, "y")
    seeds["bitfield_bad"] = (
        rec(0x1205, struct.pack("<IBB", 0x1000, 3, 0))
        + rec(0x1205, struct.pack("<IBB", 0x0022, 8, 30))
        + rec(0x1203, fl)
        + struct_rec(0x1505, 2, 0x1002, 4, "B"))
    # 0x1000 field list whose LF_INDEX continues at itself.
    seeds["index_loop"] = (
        rec(0x1203, member(0x0074, 0, "i")
            + struct.pack("<HHI", 0x1404, 0, 0x1000))
        + struct_rec(0x1505, 1, 0x1000, 4, "L"))
    # Alias loop 0x1000 <-> 0x1001.
    seeds["alias_loop"] = (rec(0x150A, struct.pack("<I", 0x1001) + name("A"))
                           + rec(0x150A, struct.pack("<I", 0x1000)
                                 + name("B")))
    # Forward struct E, the only E is an enum (values A=1, B=-1).
    fl = struct.pack("<HHH", 0x1502, 3, 1) + name("A")
    while len(fl) % 4:
        fl += bytes([0xF0 + (4 - len(fl) % 4)])
    fl += struct.pack("<HHHq", 0x1502, 3, 0x8009, -1) + name("B")
    while len(fl) % 4:
        fl += bytes([0xF0 + (4 - len(fl) % 4)])
    seeds["forward_enum"] = (
        struct_rec(0x1505, 0, 0, 0, "E", props=0x80)
        + rec(0x1203, fl)
        + rec(0x1507, struct.pack("<HHII", 2, 0, 0x0074, 0x1001) + name("E"))
        + rec(0x1002, struct.pack("<II", 0x1000, 0x1000C | (8 << 13))))
    for k, v in seeds.items():
        with open(os.path.join(outdir, k), "wb") as f:
            f.write(v)


main()
