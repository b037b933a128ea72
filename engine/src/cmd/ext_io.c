/* SPDX-License-Identifier: MIT */
/*
 * I/O and object-manager extensions: !drvobj, !devobj, !devstack, !irp,
 * !object (x64).
 *
 * Objects are found as Windows keeps them: the namespace from
 * nt!ObpRootDirectoryObject (_OBJECT_DIRECTORY.HashBuckets chains), an
 * object's header just before its body (_OBJECT_HEADER.Body), its name
 * in the _OBJECT_HEADER_NAME_INFO before the header, its type through
 * nt!ObTypeIndexTable[TypeIndex] (decoded with nt!ObHeaderCookie when
 * the kernel has one, as Windows 10 does).  Every field by its Windows
 * path through cmd/ext.h; every walk is bounded.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cmd/args.h"
#include "cmd/ext.h"
#include "core/engine_int.h"

#define OB_NAME_MAX 256	     /* characters of one name */
#define OB_HASH_BUCKETS 37   /* _OBJECT_DIRECTORY.HashBuckets */
#define OB_DIR_MAX 1024	     /* entries of one directory */
#define OB_PATH_DEPTH 16     /* components of a namespace path */
#define DEV_CHAIN_MAX 256    /* devices of a driver or a stack */
#define IRP_STACK_MAX 64     /* stack locations shown */
#define INFO_MASK_CREATOR 1u /* _OBJECT_HEADER.InfoMask bits */
#define INFO_MASK_NAME 2u

/*
 * The addresses a list walk has met: a repeat is a loop in hostile or
 * torn memory, and ends the walk with one line instead of a bound's
 * worth of output.
 */
struct seen {
	uint64_t *a;
	unsigned n, cap;
};

/* False when @p x was met already or the walk is longer than cap. */
static bool seen_new(struct seen *v, uint64_t x)
{
	unsigned i;

	for (i = 0; i < v->n; i++) {
		if (v->a[i] == x)
			return false;
	}
	if (v->n == v->cap)
		return false;
	v->a[v->n++] = x;
	return true;
}

static int dir_loop(struct kd_session *s, uint64_t dir, uint64_t e)
{
	return kd_fail(s, KD_EPROTO,
		       "Directory %016llx: entry %016llx repeats or the "
		       "directory has more than %u entries",
		       (unsigned long long)dir, (unsigned long long)e,
		       OB_DIR_MAX);
}

static int need_x64(struct kd_session *s, const char *cmd)
{
	if (!kd_is_ptr64(s))
		return kd_fail(s, KD_ENOTSUP, "%s: x64 targets only", cmd);
	return KD_OK;
}

/* ------------------------------------------------------------------ */
/* Object headers, names and types                                     */
/* ------------------------------------------------------------------ */

static int ob_header(struct kd_session *s, uint64_t obj, uint64_t *hdr)
{
	struct kd_ext_field f;
	int rc = kd_ext__field(s, "_OBJECT_HEADER.Body", &f);

	if (rc < 0)
		return rc;
	*hdr = obj - f.off;
	return KD_OK;
}

/*
 * The name of the object at @p obj into @p out ("" when it has none);
 * its directory in *@p dir when asked.
 */
static int ob_name(struct kd_session *s, uint64_t obj, char *out, size_t cap,
		   uint64_t *dir)
{
	uint64_t hdr = 0, mask = 0, nsz = 0, csz = 0, ni, d = 0;
	struct kd_ext_field nm = { 0 };
	int rc;

	out[0] = '\0';
	if (dir)
		*dir = 0;
	rc = ob_header(s, obj, &hdr);
	if (rc == KD_OK)
		rc = kd_ext__read(s, hdr, "_OBJECT_HEADER.InfoMask", &mask);
	if (rc < 0 || !(mask & INFO_MASK_NAME))
		return rc;
	rc = kd_ext__sizeof(s, "_OBJECT_HEADER_NAME_INFO", &nsz);
	if (rc == KD_OK && (mask & INFO_MASK_CREATOR))
		rc = kd_ext__sizeof(s, "_OBJECT_HEADER_CREATOR_INFO", &csz);
	if (rc == KD_OK)
		rc = kd_ext__field(s, "_OBJECT_HEADER_NAME_INFO.Name", &nm);
	if (rc < 0)
		return rc;
	/* Optional headers sit below the header, creator info nearest. */
	ni = hdr - csz - nsz;
	rc = kd_ext__read(s, ni, "_OBJECT_HEADER_NAME_INFO.Directory", &d);
	if (rc == KD_OK)
		rc = kd_ext__ustr(s, ni + nm.off, out, cap);
	if (dir)
		*dir = d;
	return rc;
}

/* The _OBJECT_TYPE of @p obj and its name. */
static int ob_type(struct kd_session *s, uint64_t obj, uint64_t *type,
		   char *name, size_t cap)
{
	uint64_t hdr = 0, idx = 0, tbl = 0, cookie_at = 0, cookie = 0;
	struct kd_ext_field tn;
	int rc;

	name[0] = '\0';
	rc = ob_header(s, obj, &hdr);
	if (rc == KD_OK)
		rc = kd_ext__read(s, hdr, "_OBJECT_HEADER.TypeIndex", &idx);
	if (rc == KD_OK)
		rc = kd_ext__global(s, "ObTypeIndexTable", &tbl);
	if (rc < 0)
		return rc;
	/* Windows 10: TypeIndex ^ ObHeaderCookie ^ second header byte. */
	if (kd_sym_lookup(s, "nt!ObHeaderCookie", &cookie_at) == KD_OK) {
		uint8_t b = 0;

		if (kd_read_virtual_all(s, cookie_at, &b, 1) != KD_OK)
			return kd_fail(s, KD_EFAULT,
				       "Unable to read nt!ObHeaderCookie");
		cookie = b;
		idx = (idx ^ cookie ^ (hdr >> 8)) & 0xff;
	}
	if (kd_read_u64(s, tbl + 8 * idx, type) != KD_OK)
		return kd_fail(s, KD_EFAULT,
			       "Unable to read nt!ObTypeIndexTable[%llu]",
			       (unsigned long long)idx);
	rc = kd_ext__field(s, "_OBJECT_TYPE.Name", &tn);
	if (rc == KD_OK && *type)
		rc = kd_ext__ustr(s, *type + tn.off, name, cap);
	return rc;
}

/* The name of the driver object at @p drv ("\Driver\Foo"). */
static int drv_name(struct kd_session *s, uint64_t drv, char *out, size_t cap)
{
	struct kd_ext_field f;
	int rc = kd_ext__field(s, "_DRIVER_OBJECT.DriverName", &f);

	if (rc < 0)
		return rc;
	return kd_ext__ustr(s, drv + f.off, out, cap);
}

static bool name_eq(const char *a, size_t alen, const char *b)
{
	size_t i;

	if (strlen(b) != alen)
		return false;
	for (i = 0; i < alen; i++) {
		if (tolower((unsigned char)a[i]) !=
		    tolower((unsigned char)b[i]))
			return false;
	}
	return true;
}

/* Bucket @p b's first _OBJECT_DIRECTORY_ENTRY of directory @p dir. */
static int dir_bucket(struct kd_session *s, uint64_t dir, unsigned b,
		      uint64_t *e)
{
	return kd_ext__read_elem(s, dir, "_OBJECT_DIRECTORY.HashBuckets", b, e);
}

/* The object named @p name (@p len chars) in directory @p dir, or 0. */
static int dir_find(struct kd_session *s, uint64_t dir, const char *name,
		    size_t len, uint64_t *obj)
{
	uint64_t met[OB_DIR_MAX];
	struct seen v = { met, 0, OB_DIR_MAX };
	unsigned b;
	int rc;

	*obj = 0;
	for (b = 0; b < OB_HASH_BUCKETS; b++) {
		uint64_t e = 0;

		rc = dir_bucket(s, dir, b, &e);
		if (rc < 0)
			return rc;
		while (e) {
			char nm[OB_NAME_MAX] = "";
			uint64_t o = 0;

			if (!seen_new(&v, e))
				return dir_loop(s, dir, e);

			rc = kd_ext__read(s, e,
					  "_OBJECT_DIRECTORY_ENTRY.Object", &o);
			if (rc == KD_OK)
				rc = ob_name(s, o, nm, sizeof(nm), NULL);
			if (rc < 0)
				return rc;
			if (name_eq(name, len, nm)) {
				*obj = o;
				return KD_OK;
			}
			rc = kd_ext__read(
				s, e, "_OBJECT_DIRECTORY_ENTRY.ChainLink", &e);
			if (rc < 0)
				return rc;
		}
	}
	return KD_OK;
}

/* The object at namespace path @p path ("\Driver\Foo", "\"). */
static int ob_lookup(struct kd_session *s, const char *path, uint64_t *obj)
{
	uint64_t root_var = 0, cur = 0;
	const char *p = path;
	unsigned depth = 0;
	int rc;

	rc = kd_ext__global(s, "ObpRootDirectoryObject", &root_var);
	if (rc < 0)
		return rc;
	if (kd_read_u64(s, root_var, &cur) != KD_OK || !cur)
		return kd_fail(s, KD_EFAULT,
			       "Unable to read nt!ObpRootDirectoryObject");
	while (*p == '\\')
		p++;
	while (*p) {
		const char *end = strchr(p, '\\');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		uint64_t next = 0;

		if (++depth > OB_PATH_DEPTH)
			return kd_fail(s, KD_EINVAL, "%s: path too deep", path);
		rc = dir_find(s, cur, p, len, &next);
		if (rc < 0)
			return rc;
		if (!next)
			return kd_fail(s, KD_ENOTFOUND, "Object %s not found",
				       path);
		cur = next;
		p += len;
		while (*p == '\\')
			p++;
	}
	*obj = cur;
	return KD_OK;
}

/*
 * An object argument: an expression, or a namespace path (leading '\'),
 * or (when @p prefix) a bare name under @p prefix ("\Driver\").
 */
static int take_object(struct kd_session *s, struct kd_cmdctx *c,
		       struct kd_args *a, const char *prefix, uint64_t *obj)
{
	const char *w = NULL;
	char path[OB_NAME_MAX];
	bool name = false;
	size_t n = 0, i;

	kd_args_init(a, s, c);
	if (kd_args_at_end(a))
		return kd_args_error(a);
	if (!kd_args_take_word(a, &w, &n))
		return kd_args_error(a);
	if (n && w[0] == '\\') {
		name = true;
	} else if (prefix) {
		/* A bare word that is no number and no symbol is a name. */
		bool hex = true;

		for (i = 0; i < n; i++) {
			if (!isxdigit((unsigned char)w[i]) && w[i] != '`')
				hex = false;
			if (strchr("!@()+-*$", w[i]))
				break;
		}
		name = i == n && !hex;
	}
	if (name) {
		if (n >= sizeof(path) - 16)
			return kd_fail(s, KD_EINVAL, "name too long");
		snprintf(path, sizeof(path), "%s%.*s",
			 w[0] == '\\' ? "" : prefix, (int)n, w);
		return ob_lookup(s, path, obj);
	}
	kd_args_init(a, s, c);
	return kd_args_take_expr(a, obj);
}

/* Optional flags after the object. */
static int take_flags(struct kd_args *a, uint64_t *flags)
{
	int rc;

	kd_args_skip(a);
	if (!kd_args_at_end(a)) {
		rc = kd_args_take_expr(a, flags);
		if (rc < 0)
			return rc;
	}
	return kd_args_end(a);
}

/* ------------------------------------------------------------------ */
/* !drvobj                                                             */
/* ------------------------------------------------------------------ */

static const char *const irp_mj[] = {
	"IRP_MJ_CREATE",
	"IRP_MJ_CREATE_NAMED_PIPE",
	"IRP_MJ_CLOSE",
	"IRP_MJ_READ",
	"IRP_MJ_WRITE",
	"IRP_MJ_QUERY_INFORMATION",
	"IRP_MJ_SET_INFORMATION",
	"IRP_MJ_QUERY_EA",
	"IRP_MJ_SET_EA",
	"IRP_MJ_FLUSH_BUFFERS",
	"IRP_MJ_QUERY_VOLUME_INFORMATION",
	"IRP_MJ_SET_VOLUME_INFORMATION",
	"IRP_MJ_DIRECTORY_CONTROL",
	"IRP_MJ_FILE_SYSTEM_CONTROL",
	"IRP_MJ_DEVICE_CONTROL",
	"IRP_MJ_INTERNAL_DEVICE_CONTROL",
	"IRP_MJ_SHUTDOWN",
	"IRP_MJ_LOCK_CONTROL",
	"IRP_MJ_CLEANUP",
	"IRP_MJ_CREATE_MAILSLOT",
	"IRP_MJ_QUERY_SECURITY",
	"IRP_MJ_SET_SECURITY",
	"IRP_MJ_POWER",
	"IRP_MJ_SYSTEM_CONTROL",
	"IRP_MJ_DEVICE_CHANGE",
	"IRP_MJ_QUERY_QUOTA",
	"IRP_MJ_SET_QUOTA",
	"IRP_MJ_PNP",
};

static void sym_of(struct kd_session *s, uint64_t addr, char *out, size_t cap)
{
	if (!addr || kd_sym_format(s, addr, out, cap) != KD_OK)
		out[0] = '\0';
}

/* DriverEntry .. AddDevice and the dispatch table (flag 2). */
static int drv_entries(struct kd_session *s, uint64_t drv)
{
	static const struct {
		const char *label;
		const char *path;
	} ent[] = {
		{ "DriverEntry:   ", "_DRIVER_OBJECT.DriverInit" },
		{ "DriverStartIo: ", "_DRIVER_OBJECT.DriverStartIo" },
		{ "DriverUnload:  ", "_DRIVER_OBJECT.DriverUnload" },
	};
	uint64_t v = 0, ext = 0;
	char sym[256];
	size_t i;
	int rc;

	for (i = 0; i < KD_ARRAY_SIZE(ent); i++) {
		rc = kd_ext__read(s, drv, ent[i].path, &v);
		if (rc < 0)
			return rc;
		sym_of(s, v, sym, sizeof(sym));
		kd_out(s, "%s%016llx%s%s\n", ent[i].label,
		       (unsigned long long)v, sym[0] ? "  " : "", sym);
	}
	rc = kd_ext__read(s, drv, "_DRIVER_OBJECT.DriverExtension", &ext);
	v = 0;
	if (rc == KD_OK && ext)
		rc = kd_ext__read(s, ext, "_DRIVER_EXTENSION.AddDevice", &v);
	if (rc < 0)
		return rc;
	sym_of(s, v, sym, sizeof(sym));
	kd_out(s, "AddDevice:     %016llx%s%s\n\n", (unsigned long long)v,
	       sym[0] ? "  " : "", sym);
	kd_out(s, "Dispatch routines:\n");
	for (i = 0; i < KD_ARRAY_SIZE(irp_mj); i++) {
		rc = kd_ext__read_elem(s, drv, "_DRIVER_OBJECT.MajorFunction",
				       i, &v);
		if (rc < 0)
			return rc;
		sym_of(s, v, sym, sizeof(sym));
		kd_out(s, "[%02zx] %-35s%016llx             %s\n", i, irp_mj[i],
		       (unsigned long long)v, sym);
	}
	return KD_OK;
}

/* !drvobj DriverObject|Name [Flags]: 1 device list, 2 entry points. */
static int cmd_drvobj(struct kd_session *s, struct kd_cmdctx *c)
{
	uint64_t drv = 0, flags = 1, dev = 0, ext = 0, cl = 0;
	uint64_t xmet[DEV_CHAIN_MAX];
	struct seen xv = { xmet, 0, DEV_CHAIN_MAX };
	char name[OB_NAME_MAX];
	struct kd_args a;
	unsigned n;
	int rc;

	rc = need_x64(s, "!drvobj");
	if (rc == KD_OK)
		rc = take_object(s, c, &a, "\\Driver\\", &drv);
	if (rc == KD_OK)
		rc = take_flags(&a, &flags);
	if (rc == KD_OK)
		rc = drv_name(s, drv, name, sizeof(name));
	if (rc < 0)
		return rc;
	kd_out(s, "Driver object (%016llx) is for:\n %s\n",
	       (unsigned long long)drv, name);
	rc = kd_ext__read(s, drv, "_DRIVER_OBJECT.DriverExtension", &ext);
	if (rc == KD_OK && ext)
		rc = kd_ext__read(
			s, ext, "_DRIVER_EXTENSION.ClientDriverExtension", &cl);
	if (rc < 0)
		return rc;
	kd_out(s, "Driver Extension List: (id , addr)\n");
	for (n = 0; cl; n++) {
		uint64_t id = 0, next = 0, hsz = 0;

		if (!seen_new(&xv, cl))
			return kd_fail(s, KD_EPROTO,
				       "Driver extension list: %016llx repeats "
				       "or the list has more than %u entries",
				       (unsigned long long)cl, DEV_CHAIN_MAX);

		rc = kd_ext__read(
			s, cl,
			"_IO_CLIENT_EXTENSION.ClientIdentificationAddress",
			&id);
		if (rc == KD_OK)
			rc = kd_ext__read(s, cl,
					  "_IO_CLIENT_EXTENSION.NextExtension",
					  &next);
		if (rc == KD_OK)
			rc = kd_ext__sizeof(s, "_IO_CLIENT_EXTENSION", &hsz);
		if (rc < 0)
			return rc;
		/* The client's extension follows its list header. */
		kd_out(s, "(%016llx %016llx)  \n", (unsigned long long)id,
		       (unsigned long long)cl + hsz);
		cl = next;
	}
	if (flags & 1) {
		rc = kd_ext__read(s, drv, "_DRIVER_OBJECT.DeviceObject", &dev);
		if (rc < 0)
			return rc;
		uint64_t met[DEV_CHAIN_MAX];
		struct seen v = { met, 0, DEV_CHAIN_MAX };

		kd_out(s, "Device Object list:\n");
		for (n = 0; dev && seen_new(&v, dev); n++) {
			kd_out(s, "%s%016llx", n ? "  " : "",
			       (unsigned long long)dev);
			rc = kd_ext__read(s, dev, "_DEVICE_OBJECT.NextDevice",
					  &dev);
			if (rc < 0) {
				kd_out(s, "\n");
				return rc;
			}
		}
		kd_out(s, "\n");
		if (dev)
			return kd_fail(s, KD_EPROTO,
				       "Device list: %016llx repeats or the "
				       "list has more than %u devices",
				       (unsigned long long)dev, DEV_CHAIN_MAX);
	}
	if (flags & 2) {
		kd_out(s, "\n");
		return drv_entries(s, drv);
	}
	return KD_OK;
}

/* ------------------------------------------------------------------ */
/* !devobj and !devstack                                               */
/* ------------------------------------------------------------------ */

/* The driver name of the device at @p dev. */
static int dev_driver(struct kd_session *s, uint64_t dev, uint64_t *drv,
		      char *name, size_t cap)
{
	int rc = kd_ext__read(s, dev, "_DEVICE_OBJECT.DriverObject", drv);

	name[0] = '\0';
	if (rc == KD_OK && *drv)
		rc = drv_name(s, *drv, name, cap);
	return rc;
}

/* _DEVICE_OBJECT.DeviceObjectExtension->AttachedTo: the lower device. */
static int dev_lower(struct kd_session *s, uint64_t dev, uint64_t *lower)
{
	uint64_t doe = 0;
	int rc;

	*lower = 0;
	rc = kd_ext__read(s, dev, "_DEVICE_OBJECT.DeviceObjectExtension", &doe);
	if (rc == KD_OK && doe)
		rc = kd_ext__read(s, doe, "_DEVOBJ_EXTENSION.AttachedTo",
				  lower);
	return rc;
}

static const struct {
	uint32_t bit;
	const char *name;
} dev_chars[] = {
	{ 0x1, "FILE_REMOVABLE_MEDIA" },
	{ 0x2, "FILE_READ_ONLY_DEVICE" },
	{ 0x4, "FILE_FLOPPY_DISKETTE" },
	{ 0x8, "FILE_WRITE_ONCE_MEDIA" },
	{ 0x10, "FILE_REMOTE_DEVICE" },
	{ 0x20, "FILE_DEVICE_IS_MOUNTED" },
	{ 0x40, "FILE_VIRTUAL_VOLUME" },
	{ 0x80, "FILE_AUTOGENERATED_DEVICE_NAME" },
	{ 0x100, "FILE_DEVICE_SECURE_OPEN" },
	{ 0x800, "FILE_CHARACTERISTIC_PNP_DEVICE" },
	{ 0x1000, "FILE_CHARACTERISTIC_TS_DEVICE" },
	{ 0x2000, "FILE_CHARACTERISTIC_WEBDAV_DEVICE" },
	{ 0x20000, "FILE_DEVICE_ALLOW_APPCONTAINER_TRAVERSAL" },
	{ 0x40000, "FILE_PORTABLE_DEVICE" },
};

static int cmd_devobj(struct kd_session *s, struct kd_cmdctx *c)
{
	static const char *const f[] = {
		"_DEVICE_OBJECT.CurrentIrp",
		"_DEVICE_OBJECT.ReferenceCount",
		"_DEVICE_OBJECT.DeviceType",
		"_DEVICE_OBJECT.Flags",
		"_DEVICE_OBJECT.SecurityDescriptor",
		"_DEVICE_OBJECT.DeviceExtension",
		"_DEVICE_OBJECT.DeviceObjectExtension",
		"_DEVICE_OBJECT.Characteristics",
		"_DEVICE_OBJECT.AttachedDevice",
		"_DEVICE_OBJECT.DeviceQueue.Busy",
	};
	uint64_t v[KD_ARRAY_SIZE(f)] = { 0 }, dev = 0, drv = 0, devnode = 0,
		 xf = 0;
	uint64_t lower = 0, flags = 0, other = 0;
	char name[OB_NAME_MAX], dname[OB_NAME_MAX], chars[512];
	struct kd_args a;
	size_t i, n = 0;
	int rc;

	rc = need_x64(s, "!devobj");
	if (rc == KD_OK)
		rc = take_object(s, c, &a, NULL, &dev);
	if (rc == KD_OK)
		rc = take_flags(&a, &flags);
	for (i = 0; rc == KD_OK && i < KD_ARRAY_SIZE(f); i++)
		rc = kd_ext__read(s, dev, f[i], &v[i]);
	if (rc == KD_OK)
		rc = ob_name(s, dev, name, sizeof(name), NULL);
	if (rc == KD_OK)
		rc = dev_driver(s, dev, &drv, dname, sizeof(dname));
	if (rc == KD_OK && v[6])
		rc = kd_ext__read(s, v[6], "_DEVOBJ_EXTENSION.DeviceNode",
				  &devnode);
	if (rc == KD_OK && v[6])
		rc = kd_ext__read(s, v[6], "_DEVOBJ_EXTENSION.ExtensionFlags",
				  &xf);
	if (rc == KD_OK)
		rc = dev_lower(s, dev, &lower);
	if (rc < 0)
		return rc;
	kd_out(s, "Device object (%016llx) is for:\n", (unsigned long long)dev);
	kd_out(s, " %s %s DriverObject %016llx\n", name, dname,
	       (unsigned long long)drv);
	kd_out(s, "Current Irp %08llx RefCount %d Type %08llx Flags %08llx\n",
	       (unsigned long long)v[0], (int)(int32_t)v[1],
	       (unsigned long long)v[2], (unsigned long long)v[3]);
	kd_out(s,
	       "SecurityDescriptor %016llx DevExt %08llx DevObjExt %016llx "
	       "DevNode %08llx \n",
	       (unsigned long long)v[4], (unsigned long long)v[5],
	       (unsigned long long)v[6], (unsigned long long)devnode);
	kd_out(s, "ExtensionFlags (%#010llx)  \n", (unsigned long long)xf);
	chars[0] = '\0';
	for (i = 0; i < KD_ARRAY_SIZE(dev_chars); i++) {
		if (v[7] & dev_chars[i].bit)
			n += (size_t)snprintf(chars + n, sizeof(chars) - n,
					      "%s%s", n ? ", " : "",
					      dev_chars[i].name);
		if (n >= sizeof(chars))
			n = sizeof(chars) - 1;
	}
	kd_out(s, "Characteristics (%#010llx)  %s\n", (unsigned long long)v[7],
	       chars);
	if (v[8]) {
		rc = dev_driver(s, v[8], &other, dname, sizeof(dname));
		if (rc < 0)
			return rc;
		kd_out(s, "AttachedDevice (Upper) %016llx %s\n",
		       (unsigned long long)v[8], dname);
	}
	if (lower) {
		rc = dev_driver(s, lower, &other, dname, sizeof(dname));
		if (rc < 0)
			return rc;
		kd_out(s, "AttachedTo (Lower) %016llx %s\n",
		       (unsigned long long)lower, dname);
	}
	kd_out(s, "Device queue is %sbusy.\n", v[9] ? "" : "not ");
	return KD_OK;
}

/*
 * !devstack DeviceObject: up AttachedDevice to the top, then down
 * through DeviceObjectExtension->AttachedTo, top first; '>' marks the
 * device asked for.
 */
static int stack_loop(struct kd_session *s, uint64_t dev, uint64_t at)
{
	return kd_fail(s, KD_EPROTO,
		       "Device stack of %016llx: %016llx repeats or the stack "
		       "has more than %u devices",
		       (unsigned long long)dev, (unsigned long long)at,
		       DEV_CHAIN_MAX);
}

static int cmd_devstack(struct kd_session *s, struct kd_cmdctx *c)
{
	uint64_t dev = 0, top, up = 0, flags = 0, met[DEV_CHAIN_MAX];
	struct seen v = { met, 0, DEV_CHAIN_MAX };
	struct kd_args a;
	int rc;

	rc = need_x64(s, "!devstack");
	if (rc == KD_OK)
		rc = take_object(s, c, &a, NULL, &dev);
	if (rc == KD_OK)
		rc = take_flags(&a, &flags);
	if (rc < 0)
		return rc;
	for (top = dev;; top = up) {
		if (!seen_new(&v, top))
			return stack_loop(s, dev, top);
		rc = kd_ext__read(s, top, "_DEVICE_OBJECT.AttachedDevice", &up);
		if (rc < 0)
			return rc;
		if (!up)
			break;
	}
	v.n = 0;
	kd_out(s, "  !DevObj           !DrvObj            !DevExt           "
		  "ObjectName\n");
	while (top) {
		char name[OB_NAME_MAX], dname[OB_NAME_MAX];
		uint64_t drv = 0, ext = 0, lower = 0;

		if (!seen_new(&v, top))
			return stack_loop(s, dev, top);
		rc = dev_driver(s, top, &drv, dname, sizeof(dname));
		if (rc == KD_OK)
			rc = kd_ext__read(
				s, top, "_DEVICE_OBJECT.DeviceExtension", &ext);
		if (rc == KD_OK)
			rc = ob_name(s, top, name, sizeof(name), NULL);
		if (rc == KD_OK)
			rc = dev_lower(s, top, &lower);
		if (rc < 0)
			return rc;
		kd_out(s, "%c %016llx  %-18s %016llx  %s\n",
		       top == dev ? '>' : ' ', (unsigned long long)top, dname,
		       (unsigned long long)ext, name);
		top = lower;
	}
	return KD_OK;
}

/* ------------------------------------------------------------------ */
/* !irp                                                                */
/* ------------------------------------------------------------------ */

static int cmd_irp(struct kd_session *s, struct kd_cmdctx *c)
{
	static const char *const f[] = {
		"_IRP.StackCount",
		"_IRP.CurrentLocation",
		"_IRP.Tail.Overlay.CurrentStackLocation",
		"_IRP.MdlAddress",
		"_IRP.AssociatedIrp.SystemBuffer",
		"_IRP.Tail.Overlay.Thread",
	};
	uint64_t v[KD_ARRAY_SIZE(f)] = { 0 }, irp = 0, detail = 0, isz = 0,
		 lsz = 0;
	struct kd_args a;
	unsigned i, count;
	int cur;
	int rc;

	rc = need_x64(s, "!irp");
	if (rc == KD_OK) {
		kd_args_init(&a, s, c);
		rc = kd_args_at_end(&a) ? kd_args_error(&a) :
					  kd_args_take_expr(&a, &irp);
	}
	if (rc == KD_OK)
		rc = take_flags(&a, &detail);
	for (i = 0; rc == KD_OK && i < KD_ARRAY_SIZE(f); i++)
		rc = kd_ext__read(s, irp, f[i], &v[i]);
	if (rc == KD_OK)
		rc = kd_ext__sizeof(s, "_IRP", &isz);
	if (rc == KD_OK)
		rc = kd_ext__sizeof(s, "_IO_STACK_LOCATION", &lsz);
	if (rc < 0)
		return rc;
	count = (unsigned)(v[0] & 0xff);
	cur = (int)(int8_t)v[1];
	if (count > IRP_STACK_MAX)
		return kd_fail(s, KD_EPROTO, "IRP %016llx: StackCount %u",
			       (unsigned long long)irp, count);
	if (cur > (int)count)
		kd_out(s, "Irp is completed with %u stacks\n", count);
	else
		kd_out(s,
		       "Irp is active with %u stacks %d is current (= %#llx)\n",
		       count, cur, (unsigned long long)v[2]);
	if (v[3])
		kd_out(s, " Mdl=%016llx", (unsigned long long)v[3]);
	else
		kd_out(s, " No Mdl");
	if (v[4])
		kd_out(s, ": System buffer=%016llx", (unsigned long long)v[4]);
	else
		kd_out(s, ": No System Buffer");
	kd_out(s, ": Thread %016llx:  Irp stack trace.  \n",
	       (unsigned long long)v[5]);
	kd_out(s, "     cmd  flg cl Device   File     Completion-Context\n");
	for (i = 0; i < count; i++) {
		static const char *const lf[] = {
			"_IO_STACK_LOCATION.MajorFunction",
			"_IO_STACK_LOCATION.MinorFunction",
			"_IO_STACK_LOCATION.Flags",
			"_IO_STACK_LOCATION.Control",
			"_IO_STACK_LOCATION.DeviceObject",
			"_IO_STACK_LOCATION.FileObject",
			"_IO_STACK_LOCATION.CompletionRoutine",
			"_IO_STACK_LOCATION.Context",
			"_IO_STACK_LOCATION.Parameters.Others.Argument1",
			"_IO_STACK_LOCATION.Parameters.Others.Argument2",
			"_IO_STACK_LOCATION.Parameters.Others.Argument3",
			"_IO_STACK_LOCATION.Parameters.Others.Argument4",
		};
		uint64_t l[KD_ARRAY_SIZE(lf)], loc = irp + isz + lsz * i;
		uint64_t drv = 0;
		char dname[OB_NAME_MAX], sym[256];
		unsigned j;

		for (j = 0; j < KD_ARRAY_SIZE(lf); j++) {
			rc = kd_ext__read(s, loc, lf[j], &l[j]);
			if (rc < 0)
				return rc;
		}
		dname[0] = '\0';
		if (l[4]) {
			rc = dev_driver(s, l[4], &drv, dname, sizeof(dname));
			if (rc < 0)
				return rc;
		}
		sym_of(s, l[6], sym, sizeof(sym));
		if (l[0] < KD_ARRAY_SIZE(irp_mj))
			kd_out(s, "%c[%s(%llx), N/A(%llx)]\n",
			       (int)i == cur - 1 ? '>' : ' ', irp_mj[l[0]],
			       (unsigned long long)l[0],
			       (unsigned long long)l[1]);
		else
			kd_out(s, "%c[%3llx,%2llx]\n",
			       (int)i == cur - 1 ? '>' : ' ',
			       (unsigned long long)l[0],
			       (unsigned long long)l[1]);
		kd_out(s, "%13llx %2llx %016llx %08llx %08llx-%08llx%s%s%s%s\n",
		       (unsigned long long)l[2], (unsigned long long)l[3],
		       (unsigned long long)l[4], (unsigned long long)l[5],
		       (unsigned long long)l[6], (unsigned long long)l[7],
		       (l[3] & 0x40) ? " Success" : "",
		       (l[3] & 0x80) ? " Error" : "",
		       (l[3] & 0x20) ? " Cancel" : "",
		       (l[3] & 0x01) ? " pending" : "");
		kd_out(s, "\t       %s\t%s\n", dname, sym);
		kd_out(s, "\t\t\tArgs: %08llx %08llx %08llx %08llx\n",
		       (unsigned long long)l[8], (unsigned long long)l[9],
		       (unsigned long long)l[10], (unsigned long long)l[11]);
	}
	return KD_OK;
}

/* ------------------------------------------------------------------ */
/* !object                                                             */
/* ------------------------------------------------------------------ */

/* A directory's contents: hash bucket, object, type, name. */
static int dir_list(struct kd_session *s, uint64_t dir)
{
	uint64_t met[OB_DIR_MAX];
	struct seen v = { met, 0, OB_DIR_MAX };
	unsigned b, n;
	int rc;

	kd_out(s, "\n    Hash Address          Type          Name\n");
	kd_out(s, "    ---- -------          ----          ----\n");
	for (b = 0; b < OB_HASH_BUCKETS; b++) {
		uint64_t e = 0;

		rc = dir_bucket(s, dir, b, &e);
		if (rc < 0)
			return rc;
		for (n = 0; e; n++) {
			char nm[OB_NAME_MAX], tn[OB_NAME_MAX];
			uint64_t o = 0, t = 0;

			if (!seen_new(&v, e))
				return dir_loop(s, dir, e);
			rc = kd_ext__read(s, e,
					  "_OBJECT_DIRECTORY_ENTRY.Object", &o);
			if (rc == KD_OK)
				rc = ob_name(s, o, nm, sizeof(nm), NULL);
			if (rc == KD_OK)
				rc = ob_type(s, o, &t, tn, sizeof(tn));
			if (rc < 0)
				return rc;
			if (n == 0)
				kd_out(s, "     %02u  ", b);
			else
				kd_out(s, "         ");
			kd_out(s, "%016llx %-14s%s\n", (unsigned long long)o,
			       tn, nm);
			rc = kd_ext__read(
				s, e, "_OBJECT_DIRECTORY_ENTRY.ChainLink", &e);
			if (rc < 0)
				return rc;
		}
	}
	return KD_OK;
}

/* !object Address|Path [Flags]. */
static int cmd_object(struct kd_session *s, struct kd_cmdctx *c)
{
	uint64_t obj = 0, flags = 9, hdr = 0, type = 0, hc = 0, pc = 0;
	uint64_t dir = 0;
	char tn[OB_NAME_MAX] = "", nm[OB_NAME_MAX] = "";
	struct kd_args a;
	int rc;

	rc = need_x64(s, "!object");
	if (rc == KD_OK)
		rc = take_object(s, c, &a, NULL, &obj);
	if (rc == KD_OK)
		rc = take_flags(&a, &flags);
	if (rc == KD_OK)
		rc = ob_header(s, obj, &hdr);
	if (rc == KD_OK)
		rc = ob_type(s, obj, &type, tn, sizeof(tn));
	if (rc == KD_OK)
		rc = kd_ext__read(s, hdr, "_OBJECT_HEADER.HandleCount", &hc);
	if (rc == KD_OK)
		rc = kd_ext__read(s, hdr, "_OBJECT_HEADER.PointerCount", &pc);
	if (rc == KD_OK)
		rc = ob_name(s, obj, nm, sizeof(nm), &dir);
	if (rc < 0)
		return rc;
	kd_out(s, "Object: %016llx  Type: (%016llx) %s\n",
	       (unsigned long long)obj, (unsigned long long)type, tn);
	kd_out(s, "    ObjectHeader: %016llx (new version)\n",
	       (unsigned long long)hdr);
	if (flags & 1) {
		kd_out(s, "    HandleCount: %lld  PointerCount: %lld\n",
		       (long long)hc, (long long)pc);
		if (nm[0])
			kd_out(s, "    Directory Object: %016llx  Name: %s\n",
			       (unsigned long long)dir, nm);
	}
	if ((flags & 8) && strcmp(tn, "Directory") == 0)
		return dir_list(s, obj);
	return KD_OK;
}

const struct kd_command kd_cmds_ext_io[] = {
	{ "!drvobj", cmd_drvobj, KD_CMDF_STOPPED,
	  "!drvobj driver|name [flags]: a driver object" },
	{ "!devobj", cmd_devobj, KD_CMDF_STOPPED,
	  "!devobj device: a device object" },
	{ "!devstack", cmd_devstack, KD_CMDF_STOPPED,
	  "!devstack device: the device stack of a device" },
	{ "!irp", cmd_irp, KD_CMDF_STOPPED,
	  "!irp irp [detail]: an I/O request and its stack" },
	{ "!object", cmd_object, KD_CMDF_STOPPED,
	  "!object address|path [flags]: an object-manager object" },
	{ NULL, NULL, 0, NULL },
};
