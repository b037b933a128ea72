/* SPDX-License-Identifier: MIT */
/*
 * !error Value [Flags]: the text of a Win32 error (Winsock codes are in
 * the same range), an HRESULT of the Win32 facility or an NTSTATUS.
 * WinDbg asks the host's message tables (kernel32, ntdll); openkd runs on
 * other hosts, so it carries its own table of the common codes.  A code
 * outside the table says so in the text WinDbg uses for a code with no
 * message, never a guess.
 */
#include <string.h>

#include "cmd/args.h"
#include "core/engine_int.h"

struct err_msg {
	uint32_t code;
	const char *text;
};

/* FormatMessage texts of kernel32's table (system error codes). */
static const struct err_msg win32_msgs[] = {
	{ 0, "The operation completed successfully." },
	{ 1, "Incorrect function." },
	{ 2, "The system cannot find the file specified." },
	{ 3, "The system cannot find the path specified." },
	{ 4, "The system cannot open the file." },
	{ 5, "Access is denied." },
	{ 6, "The handle is invalid." },
	{ 8, "Not enough memory resources are available to process this "
	     "command." },
	{ 13, "The data is invalid." },
	{ 14, "Not enough memory resources are available to complete this "
	      "operation." },
	{ 15, "The system cannot find the drive specified." },
	{ 18, "There are no more files." },
	{ 19, "The media is write protected." },
	{ 21, "The device is not ready." },
	{ 31, "A device attached to the system is not functioning." },
	{ 32, "The process cannot access the file because it is being used "
	      "by another process." },
	{ 33, "The process cannot access the file because another process "
	      "has locked a portion of the file." },
	{ 38, "Reached the end of the file." },
	{ 50, "The request is not supported." },
	{ 53, "The network path was not found." },
	{ 80, "The file exists." },
	{ 87, "The parameter is incorrect." },
	{ 109, "The pipe has been ended." },
	{ 111, "The file name is too long." },
	{ 112, "There is not enough space on the disk." },
	{ 120, "This function is not supported on this system." },
	{ 122, "The data area passed to a system call is too small." },
	{ 123, "The filename, directory name, or volume label syntax is "
	       "incorrect." },
	{ 126, "The specified module could not be found." },
	{ 127, "The specified procedure could not be found." },
	{ 183, "Cannot create a file when that file already exists." },
	{ 193, "%1 is not a valid Win32 application." },
	{ 206, "The filename or extension is too long." },
	{ 231, "All pipe instances are busy." },
	{ 232, "The pipe is being closed." },
	{ 233, "No process is on the other end of the pipe." },
	{ 234, "More data is available." },
	{ 258, "The wait operation timed out." },
	{ 259, "No more data is available." },
	{ 267, "The directory name is invalid." },
	{ 487, "Attempt to access invalid address." },
	{ 995, "The I/O operation has been aborted because of either a thread "
	       "exit or an application request." },
	{ 996, "Overlapped I/O event is not in a signaled state." },
	{ 997, "Overlapped I/O operation is in progress." },
	{ 998, "Invalid access to memory location." },
	{ 1060, "The specified service does not exist as an installed "
		"service." },
	{ 1168, "Element not found." },
	{ 1223, "The operation was canceled by the user." },
	{ 1314, "A required privilege is not held by the client." },
	{ 1450, "Insufficient system resources exist to complete the "
		"requested service." },
	{ 1460, "This operation returned because the timeout period "
		"expired." },
	{ 10004, "A blocking operation was interrupted by a call to "
		 "WSACancelBlockingCall." },
	{ 10013, "An attempt was made to access a socket in a way forbidden "
		 "by its access permissions." },
	{ 10022, "An invalid argument was supplied." },
	{ 10035, "A non-blocking socket operation could not be completed "
		 "immediately." },
	{ 10048, "Only one usage of each socket address "
		 "(protocol/network address/port) is normally permitted." },
	{ 10050, "A socket operation encountered a dead network." },
	{ 10053, "An established connection was aborted by the software in "
		 "your host machine." },
	{ 10054, "An existing connection was forcibly closed by the remote "
		 "host." },
	{ 10061, "No connection could be made because the target machine "
		 "actively refused it." },
};

/* ntdll's table: the wait and APC codes' text is their name. */
static const struct err_msg ntstatus_msgs[] = {
	{ 0x00000000, "STATUS_SUCCESS" },
	{ 0x00000001, "STATUS_WAIT_1" },
	{ 0x00000002, "STATUS_WAIT_2" },
	{ 0x00000003, "STATUS_WAIT_3" },
	{ 0x0000003F, "STATUS_WAIT_63" },
	{ 0x00000080, "STATUS_ABANDONED_WAIT_0" },
	{ 0x000000C0, "STATUS_USER_APC" },
	{ 0x00000101, "STATUS_ALERTED" },
	{ 0x00000102, "STATUS_TIMEOUT" },
	{ 0x00000103, "The operation that was requested is pending "
		      "completion." },
	{ 0xC0000005, "The instruction at 0x%p referenced memory at 0x%p. "
		      "The memory could not be %s." },
	{ 0xC0000008, "An invalid HANDLE was specified." },
	{ 0xC000000D, "An invalid parameter was passed to a service or "
		      "function." },
	{ 0xC000000E, "A device which does not exist was specified." },
	{ 0xC0000010, "The specified request is not a valid operation for "
		      "the target device." },
	{ 0xC0000033, "Object Name invalid." },
	{ 0xC0000034, "Object Name not found." },
	{ 0xC0000035, "Object Name already exists." },
	{ 0xC0000043, "A file cannot be opened because the share access "
		      "flags are incompatible." },
	{ 0xC0000061, "A required privilege is not held by the client." },
	{ 0xC000009A, "Insufficient system resources exist to complete the "
		      "API." },
	{ 0xC00000BB, "The request is not supported." },
	{ 0xC00000FD, "A new guard page for the stack cannot be created." },
	{ 0xC0000103, "A requested opened file is not a directory." },
	{ 0xC000010A, "An attempt was made to access an exiting process." },
	{ 0xC0000120, "The I/O request was canceled." },
	{ 0xC0000184, "The device is not in a valid state to perform this "
		      "request." },
	{ 0xC0000185, "The I/O device reported an I/O error." },
	{ 0xC0000225, "The object was not found." },
	{ 0xC0000374, "A heap has been corrupted." },
	{ 0xC0000420, "An assertion failure has occurred." },
};

static const char *find_msg(const struct err_msg *t, size_t n, uint32_t code)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (t[i].code == code)
			return t[i].text;
	}
	return NULL;
}

/* WinDbg's text for a code no table knows. */
#define ERR_NO_TEXT "<Unable to get error code text>"

static int cmd_error(struct kd_session *s, struct kd_cmdctx *c)
{
	uint64_t value = 0, flags = 0;
	const char *text;
	struct kd_args a;
	uint32_t code;
	int rc;

	kd_args_init(&a, s, c);
	if (kd_args_at_end(&a)) {
		kd_out(s, "Usage: !error Value [Flags]\n");
		return kd_fail(s, KD_EINVAL, "!error needs an error code");
	}
	rc = kd_args_take_expr(&a, &value);
	if (rc < 0)
		return rc;
	kd_args_skip(&a);
	if (!kd_args_at_end(&a)) {
		rc = kd_args_take_expr(&a, &flags);
		if (rc < 0)
			return rc;
	}
	rc = kd_args_end(&a);
	if (rc < 0)
		return rc;
	if (value > 0xFFFFFFFFull)
		return kd_fail(s, KD_EINVAL,
			       "!error: %llx is wider than 32 bits",
			       (unsigned long long)value);
	code = (uint32_t)value;
	if ((flags & 1) || (code > 0xFFFF && (code >> 16) != 0x8007 &&
			    (code & 0xC0000000u) != 0)) {
		text = find_msg(ntstatus_msgs, KD_ARRAY_SIZE(ntstatus_msgs),
				code);
		kd_out(s, "Error code: (NTSTATUS) 0x%x - %s\n", code,
		       text ? text : ERR_NO_TEXT);
		return KD_OK;
	}
	if ((code >> 16) == 0x8007) {
		text = find_msg(win32_msgs, KD_ARRAY_SIZE(win32_msgs),
				code & 0xFFFF);
		kd_out(s, "Error code: (HRESULT) 0x%x (%u) - %s\n", code, code,
		       text ? text : ERR_NO_TEXT);
		return KD_OK;
	}
	text = find_msg(win32_msgs, KD_ARRAY_SIZE(win32_msgs), code);
	kd_out(s, "Error code: (Win32) 0x%x (%u) - %s\n", code, code,
	       text ? text : ERR_NO_TEXT);
	return KD_OK;
}

const struct kd_command kd_cmds_ext_error[] = {
	{ "!error", cmd_error, 0,
	  "!error value [1]: Win32, HRESULT or (1) NTSTATUS text" },
	{ NULL, NULL, 0, NULL },
};
