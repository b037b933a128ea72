/* SPDX-License-Identifier: MIT */
/*
 * Names and addresses, the top of the symbol files: a module's PDB
 * (pdbsyms.c) when it has one, else its exports (symbols.c), else
 * module+offset.  Every caller (k, u, bp, expressions, !analyze) goes
 * through these two.
 */
#include <string.h>

#include "sym/sym_int.h"

int kd_sym_lookup(struct kd_session *s, const char *name, uint64_t *addr)
{
	const char *bang = strchr(name, '!');
	const struct kd_export *e;
	struct kd_module *m;
	size_t i;

	if (kd_modules_load(s) != KD_OK)
		return KD_ENOTFOUND;
	if (bang) {
		char mod[sizeof(m->name)];
		size_t n = (size_t)(bang - name);

		if (n == 0 || n >= sizeof(mod) || bang[1] == '\0')
			return KD_ENOTFOUND;
		memcpy(mod, name, n);
		mod[n] = '\0';
		m = kd_module_by_name(s, mod);
		if (!m)
			return KD_ENOTFOUND;
		/* The PDB first: it names what exports do not. */
		if (kd_sym__pdb_name(s, m, bang + 1, addr) == KD_OK)
			return KD_OK;
		e = kd_sym__export_by_name(s, m, bang + 1);
		if (!e)
			return KD_ENOTFOUND;
		*addr = m->base + e->rva;
		return KD_OK;
	}
	/* A bare name: nt first, then every module, then module names. */
	m = kd_module_by_name(s, "nt");
	if (m && kd_sym__pdb_name(s, m, name, addr) == KD_OK)
		return KD_OK;
	if (m) {
		e = kd_sym__export_by_name(s, m, name);
		if (e) {
			*addr = m->base + e->rva;
			return KD_OK;
		}
	}
	for (i = 0; i < s->sym.nmodules; i++) {
		if (&s->sym.modules[i] == m)
			continue;
		e = kd_sym__export_by_name(s, &s->sym.modules[i], name);
		if (e) {
			*addr = s->sym.modules[i].base + e->rva;
			return KD_OK;
		}
	}
	m = kd_module_by_name(s, name);
	if (m) {
		*addr = m->base;
		return KD_OK;
	}
	return KD_ENOTFOUND;
}

int kd_sym_format(struct kd_session *s, uint64_t addr, char *buf, size_t cap)
{
	const struct kd_export *e;
	struct kd_module *m;
	const char *pname;
	uint64_t off, paddr;

	if (cap == 0)
		return KD_EBUFS;
	buf[0] = '\0';
	m = kd_module_by_addr(s, addr);
	if (!m)
		return KD_ENOTFOUND;
	if (kd_sym__pdb_addr(s, m, addr, &pname, &paddr) == KD_OK) {
		off = addr - paddr;
		if (off)
			snprintf(buf, cap, "%s!%s+0x%llx", m->name, pname,
				 (unsigned long long)off);
		else
			snprintf(buf, cap, "%s!%s", m->name, pname);
		return KD_OK;
	}
	e = kd_export_at_or_before(s, m, addr);
	if (e) {
		off = addr - (m->base + e->rva);
		if (off)
			snprintf(buf, cap, "%s!%s+0x%llx", m->name, e->name,
				 (unsigned long long)off);
		else
			snprintf(buf, cap, "%s!%s", m->name, e->name);
	} else {
		off = addr - m->base;
		if (off)
			snprintf(buf, cap, "%s+0x%llx", m->name,
				 (unsigned long long)off);
		else
			snprintf(buf, cap, "%s", m->name);
	}
	return KD_OK;
}
