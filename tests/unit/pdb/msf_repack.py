#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Rewrite an MSF 7.00 PDB with another block size (and, with --shuffle,
stream blocks in scattered order), keeping every stream's bytes.

lld-link writes 4096-byte blocks only (/pdbpagesize >= 4096), so its
smallest PDBs are ~70 KB; the fuzz seeds of tests/fuzz/corpus/pdb are
lld-link PDBs of our own tiny programs repacked to 512-byte blocks, and
the shuffled layout makes the reader gather streams across blocks.

    msf_repack.py IN.pdb OUT.pdb [--block-size 512] [--shuffle]
"""
import random
import struct
import sys

MAGIC = b"Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0"


def read_streams(data):
    bs, _fpm, nblocks, dir_bytes = struct.unpack_from("<IIII", data, 32)
    assert data[:32] == MAGIC and len(data) >= nblocks * bs
    ndir = (dir_bytes + bs - 1) // bs
    nmap = (ndir * 4 + bs - 1) // bs
    maps = struct.unpack_from("<%dI" % nmap, data, 52)
    dblocks = []
    for m in maps:
        dblocks += struct.unpack_from("<%dI" % (bs // 4), data, m * bs)
    dblocks = dblocks[:ndir]
    d = b"".join(data[b * bs:(b + 1) * bs] for b in dblocks)[:dir_bytes]
    n = struct.unpack_from("<I", d, 0)[0]
    sizes = struct.unpack_from("<%dI" % n, d, 4)
    pos = 4 + 4 * n
    streams = []
    for sz in sizes:
        if sz == 0xFFFFFFFF:
            streams.append(None)
            continue
        nb = (sz + bs - 1) // bs
        bl = struct.unpack_from("<%dI" % nb, d, pos)
        pos += 4 * nb
        streams.append(b"".join(data[b * bs:(b + 1) * bs] for b in bl)[:sz])
    return streams


def write_msf(streams, bs, shuffle):
    nb = lambda n: (n + bs - 1) // bs
    need = sum(nb(len(s)) for s in streams if s)
    dir_bytes = 4 + 4 * len(streams) + 4 * need
    ndir = nb(dir_bytes)
    nmap = nb(ndir * 4)
    assert 52 + 4 * nmap <= bs, "directory too large for this block size"
    first = 3
    total = first + need + ndir + nmap
    pool = list(range(first, first + need))
    if shuffle:
        random.Random(1).shuffle(pool)
    out = bytearray(total * bs)
    sizes, blocks = [], []
    for s in streams:
        if s is None:
            sizes.append(0xFFFFFFFF)
            continue
        sizes.append(len(s))
        for i in range(nb(len(s))):
            b = pool.pop(0)
            blocks.append(b)
            chunk = s[i * bs:(i + 1) * bs]
            out[b * bs:b * bs + len(chunk)] = chunk
    d = struct.pack("<I", len(streams)) + struct.pack(
        "<%dI" % len(sizes), *sizes) + struct.pack("<%dI" % len(blocks),
                                                     *blocks)
    dstart = first + need
    for i in range(ndir):
        chunk = d[i * bs:(i + 1) * bs]
        out[(dstart + i) * bs:(dstart + i) * bs + len(chunk)] = chunk
    mstart = dstart + ndir
    dlist = struct.pack("<%dI" % ndir, *range(dstart, dstart + ndir))
    for i in range(nmap):
        chunk = dlist[i * bs:(i + 1) * bs]
        out[(mstart + i) * bs:(mstart + i) * bs + len(chunk)] = chunk
    # Free page map (block 1): every block in use, bits past the end free.
    for b in range(total, bs * 8):
        out[bs + b // 8] |= 1 << (b % 8)
    hdr = MAGIC + struct.pack("<IIIII", bs, 1, total, len(d), 0)
    hdr += struct.pack("<%dI" % nmap, *range(mstart, mstart + nmap))
    out[:len(hdr)] = hdr
    return bytes(out)


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    bs = 512
    if "--block-size" in argv:
        bs = int(argv[argv.index("--block-size") + 1])
        args.remove(str(bs))
    with open(args[0], "rb") as f:
        streams = read_streams(f.read())
    with open(args[1], "wb") as f:
        f.write(write_msf(streams, bs, "--shuffle" in argv))


if __name__ == "__main__":
    main(sys.argv)
