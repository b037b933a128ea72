/* SPDX-License-Identifier: MIT */
/*
 * Host tool run at build time on each kdsim kernel image lld-link wrote:
 * gives its MS-DOS header the values Microsoft's linker writes (e_cblp
 * 0x90, 3 pages, e_maxalloc 0xFFFF, e_sp 0xB8), so the images begin
 * "MZ\x90\0" like every Windows binary.  lld-link 14 ignores /STUB, and its
 * own header differs only in these fields; the 16-bit program after it and
 * e_lfanew are left as they are.  Nothing else in the image depends on
 * them (no checksum is written).
 */
#include <stdio.h>
#include <string.h>

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v & 0xFF);
	p[1] = (unsigned char)(v >> 8);
}

int main(int argc, char **argv)
{
	unsigned char h[0x40];
	FILE *f;
	int ok;

	if (argc != 2) {
		fprintf(stderr, "usage: dosheader IMAGE\n");
		return 2;
	}
	f = fopen(argv[1], "r+b");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	if (fread(h, 1, sizeof(h), f) != sizeof(h) || h[0] != 'M' ||
	    h[1] != 'Z') {
		fprintf(stderr, "%s: no MS-DOS header\n", argv[1]);
		fclose(f);
		return 1;
	}
	put16(h + 0x02, 0x90);	 /* e_cblp: bytes in the last page */
	put16(h + 0x04, 3);	 /* e_cp: pages */
	put16(h + 0x0C, 0xFFFF); /* e_maxalloc */
	put16(h + 0x10, 0xB8);	 /* e_sp */
	ok = fseek(f, 0, SEEK_SET) == 0 &&
	     fwrite(h, 1, sizeof(h), f) == sizeof(h);
	if (fclose(f) != 0 || !ok) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
