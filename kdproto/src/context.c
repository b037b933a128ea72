/* SPDX-License-Identifier: MIT */
/*
 * Register access on an x64 CONTEXT buffer, the x64 KSPECIAL_REGISTERS codec
 * and the KDDEBUGGER_DATA64 header decoder (kd-protocol.md §2.10-§2.12).
 */
#include <string.h>

#include <kd/proto/manipulate.h>

/* --- x64 CONTEXT registers --- */

struct reg_desc {
	const char *name;
	uint16_t offset;
	uint8_t width;
};

static const struct reg_desc amd64_regs[KD_AMD64_REG_COUNT] = {
	[KD_AMD64_RAX] = { "rax", KD_AMD64_CTX_OFF_RAX, 8 },
	[KD_AMD64_RCX] = { "rcx", KD_AMD64_CTX_OFF_RCX, 8 },
	[KD_AMD64_RDX] = { "rdx", KD_AMD64_CTX_OFF_RDX, 8 },
	[KD_AMD64_RBX] = { "rbx", KD_AMD64_CTX_OFF_RBX, 8 },
	[KD_AMD64_RSP] = { "rsp", KD_AMD64_CTX_OFF_RSP, 8 },
	[KD_AMD64_RBP] = { "rbp", KD_AMD64_CTX_OFF_RBP, 8 },
	[KD_AMD64_RSI] = { "rsi", KD_AMD64_CTX_OFF_RSI, 8 },
	[KD_AMD64_RDI] = { "rdi", KD_AMD64_CTX_OFF_RDI, 8 },
	[KD_AMD64_R8] = { "r8", KD_AMD64_CTX_OFF_R8, 8 },
	[KD_AMD64_R9] = { "r9", KD_AMD64_CTX_OFF_R9, 8 },
	[KD_AMD64_R10] = { "r10", KD_AMD64_CTX_OFF_R10, 8 },
	[KD_AMD64_R11] = { "r11", KD_AMD64_CTX_OFF_R11, 8 },
	[KD_AMD64_R12] = { "r12", KD_AMD64_CTX_OFF_R12, 8 },
	[KD_AMD64_R13] = { "r13", KD_AMD64_CTX_OFF_R13, 8 },
	[KD_AMD64_R14] = { "r14", KD_AMD64_CTX_OFF_R14, 8 },
	[KD_AMD64_R15] = { "r15", KD_AMD64_CTX_OFF_R15, 8 },
	[KD_AMD64_RIP] = { "rip", KD_AMD64_CTX_OFF_RIP, 8 },
	[KD_AMD64_EFLAGS] = { "efl", KD_AMD64_CTX_OFF_EFLAGS, 4 },
	[KD_AMD64_CS] = { "cs", KD_AMD64_CTX_OFF_CS, 2 },
	[KD_AMD64_DS] = { "ds", KD_AMD64_CTX_OFF_DS, 2 },
	[KD_AMD64_ES] = { "es", KD_AMD64_CTX_OFF_ES, 2 },
	[KD_AMD64_FS] = { "fs", KD_AMD64_CTX_OFF_FS, 2 },
	[KD_AMD64_GS] = { "gs", KD_AMD64_CTX_OFF_GS, 2 },
	[KD_AMD64_SS] = { "ss", KD_AMD64_CTX_OFF_SS, 2 },
	[KD_AMD64_DR0] = { "dr0", KD_AMD64_CTX_OFF_DR0, 8 },
	[KD_AMD64_DR1] = { "dr1", KD_AMD64_CTX_OFF_DR1, 8 },
	[KD_AMD64_DR2] = { "dr2", KD_AMD64_CTX_OFF_DR2, 8 },
	[KD_AMD64_DR3] = { "dr3", KD_AMD64_CTX_OFF_DR3, 8 },
	[KD_AMD64_DR6] = { "dr6", KD_AMD64_CTX_OFF_DR6, 8 },
	[KD_AMD64_DR7] = { "dr7", KD_AMD64_CTX_OFF_DR7, 8 },
	[KD_AMD64_MXCSR] = { "mxcsr", KD_AMD64_CTX_OFF_MXCSR, 4 },
	[KD_AMD64_CONTEXT_FLAGS] = { "contextflags", KD_AMD64_CTX_OFF_FLAGS,
				     4 },
};

static char ascii_lower(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (char)(c - 'A' + 'a');
	return c;
}

static bool name_eq(const char *a, const char *b)
{
	while (*a && *b) {
		if (ascii_lower(*a) != ascii_lower(*b))
			return false;
		a++;
		b++;
	}
	return *a == *b;
}

const char *kd_amd64_reg_name(int reg)
{
	if (reg < 0 || reg >= KD_AMD64_REG_COUNT)
		return NULL;
	return amd64_regs[reg].name;
}

int kd_amd64_reg_lookup(const char *name)
{
	if (!name)
		return KD_ENOTFOUND;
	if (name_eq(name, "eflags"))
		return KD_AMD64_EFLAGS;
	for (int i = 0; i < KD_AMD64_REG_COUNT; i++) {
		if (name_eq(name, amd64_regs[i].name))
			return i;
	}
	return KD_ENOTFOUND;
}

int kd_amd64_reg_layout(int reg, size_t *offset, size_t *width)
{
	if (reg < 0 || reg >= KD_AMD64_REG_COUNT)
		return KD_EINVAL;
	if (offset)
		*offset = amd64_regs[reg].offset;
	if (width)
		*width = amd64_regs[reg].width;
	return KD_OK;
}

int kd_amd64_context_get(const uint8_t *ctx, size_t len, int reg,
			 uint64_t *value)
{
	const struct reg_desc *d;

	if (!ctx || !value || reg < 0 || reg >= KD_AMD64_REG_COUNT)
		return KD_EINVAL;
	if (len < KD_AMD64_CONTEXT_SIZE)
		return KD_ETRUNC;
	d = &amd64_regs[reg];
	if (d->width == 8)
		*value = kd_get_le64(ctx + d->offset);
	else if (d->width == 4)
		*value = kd_get_le32(ctx + d->offset);
	else
		*value = kd_get_le16(ctx + d->offset);
	return KD_OK;
}

int kd_amd64_context_set(uint8_t *ctx, size_t len, int reg, uint64_t value)
{
	const struct reg_desc *d;

	if (!ctx || reg < 0 || reg >= KD_AMD64_REG_COUNT)
		return KD_EINVAL;
	if (len < KD_AMD64_CONTEXT_SIZE)
		return KD_ETRUNC;
	d = &amd64_regs[reg];
	if (d->width < 8 && (value >> (8 * d->width)) != 0)
		return KD_EOVERFLOW;
	if (d->width == 8)
		kd_put_le64(ctx + d->offset, value);
	else if (d->width == 4)
		kd_put_le32(ctx + d->offset, (uint32_t)value);
	else
		kd_put_le16(ctx + d->offset, (uint16_t)value);
	return KD_OK;
}

/* --- x64 KSPECIAL_REGISTERS --- */

int kd_amd64_kspecial_decode(struct kd_amd64_kspecial *out, const uint8_t *buf,
			     size_t len)
{
	const uint8_t *p = buf;

	if (!out || (!buf && len > 0))
		return KD_EINVAL;
	memset(out, 0, sizeof(*out));
	if (len < KD_AMD64_KSPECIAL_SIZE_OLD)
		return KD_ETRUNC;
	out->cr0 = kd_get_le64(p + KD_KSPEC_OFF_CR0);
	out->cr2 = kd_get_le64(p + KD_KSPEC_OFF_CR2);
	out->cr3 = kd_get_le64(p + KD_KSPEC_OFF_CR3);
	out->cr4 = kd_get_le64(p + KD_KSPEC_OFF_CR4);
	out->kernel_dr0 = kd_get_le64(p + KD_KSPEC_OFF_KDR0);
	out->kernel_dr1 = kd_get_le64(p + KD_KSPEC_OFF_KDR1);
	out->kernel_dr2 = kd_get_le64(p + KD_KSPEC_OFF_KDR2);
	out->kernel_dr3 = kd_get_le64(p + KD_KSPEC_OFF_KDR3);
	out->kernel_dr6 = kd_get_le64(p + KD_KSPEC_OFF_KDR6);
	out->kernel_dr7 = kd_get_le64(p + KD_KSPEC_OFF_KDR7);
	out->gdtr_limit = kd_get_le16(p + KD_KSPEC_OFF_GDTR_LIMIT);
	out->gdtr_base = kd_get_le64(p + KD_KSPEC_OFF_GDTR_BASE);
	out->idtr_limit = kd_get_le16(p + KD_KSPEC_OFF_IDTR_LIMIT);
	out->idtr_base = kd_get_le64(p + KD_KSPEC_OFF_IDTR_BASE);
	out->tr = kd_get_le16(p + KD_KSPEC_OFF_TR);
	out->ldtr = kd_get_le16(p + KD_KSPEC_OFF_LDTR);
	out->mxcsr = kd_get_le32(p + KD_KSPEC_OFF_MXCSR);
	out->debug_control = kd_get_le64(p + KD_KSPEC_OFF_DEBUG_CONTROL);
	out->last_branch_to_rip = kd_get_le64(p + KD_KSPEC_OFF_LAST_BRANCH_TO);
	out->last_branch_from_rip = kd_get_le64(p +
						KD_KSPEC_OFF_LAST_BRANCH_FROM);
	out->last_exception_to_rip = kd_get_le64(p + KD_KSPEC_OFF_LAST_EXC_TO);
	out->last_exception_from_rip = kd_get_le64(p +
						   KD_KSPEC_OFF_LAST_EXC_FROM);
	out->cr8 = kd_get_le64(p + KD_KSPEC_OFF_CR8);
	out->msr_gs_base = kd_get_le64(p + KD_KSPEC_OFF_MSR_GS_BASE);
	out->msr_gs_swap = kd_get_le64(p + KD_KSPEC_OFF_MSR_GS_SWAP);
	out->msr_star = kd_get_le64(p + KD_KSPEC_OFF_MSR_STAR);
	out->msr_lstar = kd_get_le64(p + KD_KSPEC_OFF_MSR_LSTAR);
	out->msr_cstar = kd_get_le64(p + KD_KSPEC_OFF_MSR_CSTAR);
	out->msr_syscall_mask = kd_get_le64(p + KD_KSPEC_OFF_MSR_SYSCALL_MASK);
	if (len >= KD_AMD64_KSPECIAL_SIZE) {
		out->xcr0 = kd_get_le64(p + KD_KSPEC_OFF_XCR0);
		out->has_xcr0 = true;
	}
	return KD_OK;
}

int kd_amd64_kspecial_encode(uint8_t *buf, size_t cap, size_t *len_out,
			     const struct kd_amd64_kspecial *ks)
{
	uint8_t *p = buf;
	size_t n;

	if (!buf || !ks)
		return KD_EINVAL;
	n = ks->has_xcr0 ? KD_AMD64_KSPECIAL_SIZE : KD_AMD64_KSPECIAL_SIZE_OLD;
	if (cap < n)
		return KD_EBUFS;
	memset(p, 0, n);
	kd_put_le64(p + KD_KSPEC_OFF_CR0, ks->cr0);
	kd_put_le64(p + KD_KSPEC_OFF_CR2, ks->cr2);
	kd_put_le64(p + KD_KSPEC_OFF_CR3, ks->cr3);
	kd_put_le64(p + KD_KSPEC_OFF_CR4, ks->cr4);
	kd_put_le64(p + KD_KSPEC_OFF_KDR0, ks->kernel_dr0);
	kd_put_le64(p + KD_KSPEC_OFF_KDR1, ks->kernel_dr1);
	kd_put_le64(p + KD_KSPEC_OFF_KDR2, ks->kernel_dr2);
	kd_put_le64(p + KD_KSPEC_OFF_KDR3, ks->kernel_dr3);
	kd_put_le64(p + KD_KSPEC_OFF_KDR6, ks->kernel_dr6);
	kd_put_le64(p + KD_KSPEC_OFF_KDR7, ks->kernel_dr7);
	kd_put_le16(p + KD_KSPEC_OFF_GDTR_LIMIT, ks->gdtr_limit);
	kd_put_le64(p + KD_KSPEC_OFF_GDTR_BASE, ks->gdtr_base);
	kd_put_le16(p + KD_KSPEC_OFF_IDTR_LIMIT, ks->idtr_limit);
	kd_put_le64(p + KD_KSPEC_OFF_IDTR_BASE, ks->idtr_base);
	kd_put_le16(p + KD_KSPEC_OFF_TR, ks->tr);
	kd_put_le16(p + KD_KSPEC_OFF_LDTR, ks->ldtr);
	kd_put_le32(p + KD_KSPEC_OFF_MXCSR, ks->mxcsr);
	kd_put_le64(p + KD_KSPEC_OFF_DEBUG_CONTROL, ks->debug_control);
	kd_put_le64(p + KD_KSPEC_OFF_LAST_BRANCH_TO, ks->last_branch_to_rip);
	kd_put_le64(p + KD_KSPEC_OFF_LAST_BRANCH_FROM,
		    ks->last_branch_from_rip);
	kd_put_le64(p + KD_KSPEC_OFF_LAST_EXC_TO, ks->last_exception_to_rip);
	kd_put_le64(p + KD_KSPEC_OFF_LAST_EXC_FROM,
		    ks->last_exception_from_rip);
	kd_put_le64(p + KD_KSPEC_OFF_CR8, ks->cr8);
	kd_put_le64(p + KD_KSPEC_OFF_MSR_GS_BASE, ks->msr_gs_base);
	kd_put_le64(p + KD_KSPEC_OFF_MSR_GS_SWAP, ks->msr_gs_swap);
	kd_put_le64(p + KD_KSPEC_OFF_MSR_STAR, ks->msr_star);
	kd_put_le64(p + KD_KSPEC_OFF_MSR_LSTAR, ks->msr_lstar);
	kd_put_le64(p + KD_KSPEC_OFF_MSR_CSTAR, ks->msr_cstar);
	kd_put_le64(p + KD_KSPEC_OFF_MSR_SYSCALL_MASK, ks->msr_syscall_mask);
	if (ks->has_xcr0)
		kd_put_le64(p + KD_KSPEC_OFF_XCR0, ks->xcr0);
	if (len_out)
		*len_out = n;
	return KD_OK;
}

/* --- KDDEBUGGER_DATA64 --- */

/* Field readers that yield zero when the field ends past @p lim. */
static uint64_t lim64(const uint8_t *p, size_t lim, size_t off)
{
	return off + 8 <= lim ? kd_get_le64(p + off) : 0;
}

static uint16_t lim16(const uint8_t *p, size_t lim, size_t off)
{
	return off + 2 <= lim ? kd_get_le16(p + off) : 0;
}

int kd_debugger_data_decode(struct kd_debugger_data *out, const uint8_t *buf,
			    size_t len)
{
	const uint8_t *p = buf;
	size_t lim;

	if (!out || (!buf && len > 0))
		return KD_EINVAL;
	memset(out, 0, sizeof(*out));
	if (len < KD_KDBG_HEADER_SIZE)
		return KD_ETRUNC;
	out->flink = kd_get_le64(p + KD_KDBG_OFF_FLINK);
	out->blink = kd_get_le64(p + KD_KDBG_OFF_BLINK);
	out->owner_tag = kd_get_le32(p + KD_KDBG_OFF_OWNER_TAG);
	out->size = kd_get_le32(p + KD_KDBG_OFF_SIZE);
	if (out->owner_tag != KD_KDBG_TAG || out->size < KD_KDBG_HEADER_SIZE)
		return KD_EPROTO;
	lim = out->size < len ? out->size : len;
	out->valid_len = lim;

	out->kern_base = lim64(p, lim, KD_KDBG_OFF_KERN_BASE);
	out->breakpoint_with_status = lim64(p, lim,
					    KD_KDBG_OFF_BREAKPOINT_WITH_STATUS);
	out->saved_context = lim64(p, lim, KD_KDBG_OFF_SAVED_CONTEXT);
	out->pae_enabled = lim16(p, lim, KD_KDBG_OFF_PAE_ENABLED);
	out->ps_loaded_module_list = lim64(p, lim,
					   KD_KDBG_OFF_PS_LOADED_MODULE_LIST);
	out->ps_active_process_head = lim64(p, lim,
					    KD_KDBG_OFF_PS_ACTIVE_PROCESS_HEAD);
	out->psp_cid_table = lim64(p, lim, KD_KDBG_OFF_PSP_CID_TABLE);
	out->obp_root_directory_object = lim64(
		p, lim, KD_KDBG_OFF_OBP_ROOT_DIRECTORY_OBJECT);
	out->mm_pfn_database = lim64(p, lim, KD_KDBG_OFF_MM_PFN_DATABASE);
	out->mm_page_size = lim64(p, lim, KD_KDBG_OFF_MM_PAGE_SIZE);
	out->mm_highest_user_address = lim64(
		p, lim, KD_KDBG_OFF_MM_HIGHEST_USER_ADDRESS);
	out->mm_system_range_start = lim64(p, lim,
					   KD_KDBG_OFF_MM_SYSTEM_RANGE_START);
	out->kd_print_circular_buffer = lim64(
		p, lim, KD_KDBG_OFF_KD_PRINT_CIRCULAR_BUFFER);
	out->nt_build_lab = lim64(p, lim, KD_KDBG_OFF_NT_BUILD_LAB);
	out->ki_processor_block = lim64(p, lim, KD_KDBG_OFF_KI_PROCESSOR_BLOCK);
	out->cm_nt_csd_version = lim64(p, lim, KD_KDBG_OFF_CM_NT_CSD_VERSION);
	out->mm_physical_memory_block = lim64(
		p, lim, KD_KDBG_OFF_MM_PHYSICAL_MEMORY_BLOCK);
	out->size_eprocess = lim16(p, lim, KD_KDBG_OFF_SIZE_EPROCESS);
	out->offset_eprocess_peb = lim16(p, lim,
					 KD_KDBG_OFF_OFFSET_EPROCESS_PEB);
	out->offset_eprocess_directory_table_base = lim16(
		p, lim, KD_KDBG_OFF_OFFSET_EPROCESS_DTB);
	out->offset_prcb_current_thread = lim16(
		p, lim, KD_KDBG_OFF_OFFSET_PRCB_CURRENT_THREAD);
	out->offset_prcb_proc_state_context = lim16(
		p, lim, KD_KDBG_OFF_OFFSET_PRCB_PROC_STATE_CONTEXT);
	out->kd_print_circular_buffer_ptr = lim64(
		p, lim, KD_KDBG_OFF_KD_PRINT_CIRCULAR_BUFFER_PTR);
	out->kd_print_buffer_size = lim64(p, lim,
					  KD_KDBG_OFF_KD_PRINT_BUFFER_SIZE);
	out->ke_loader_block = lim64(p, lim, KD_KDBG_OFF_KE_LOADER_BLOCK);
	out->offset_prcb_proc_state_special_reg = lim16(
		p, lim, KD_KDBG_OFF_OFFSET_PRCB_PROC_STATE_SPECIAL_REG);
	out->pte_base = lim64(p, lim, KD_KDBG_OFF_PTE_BASE);
	return KD_OK;
}
