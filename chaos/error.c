/* The chaos module's one error table. */
#include "chaos.h"

const char *chaos_strerror(int code)
{
	switch (code) {
	case CHAOS_OK: return "success";
	case CHAOS_ENOMEM: return "out of memory";
	case CHAOS_EINVAL: return "invalid argument";
	case CHAOS_ESYNTAX: return "malformed campaign";
	case CHAOS_ESYS: return "system call failed";
	case CHAOS_ENETLINK: return "netlink request failed";
	case CHAOS_EPERM: return "not permitted (needs root and network namespaces)";
	case CHAOS_ENOTBUILT: return "not built into this binary yet";
	case CHAOS_EBEHIND: return "impairment engine fell behind (kernel dropped queued packets)";
	case CHAOS_ENOTFOUND: return "not found";
	case CHAOS_ETOOL: return "external tool failed";
	case CHAOS_ELIMIT: return "limit exceeded";
	case CHAOS_ENOTARGET: return "the fault's target does not exist right now";
	}
	return "unknown chaos error";
}
