/* topology/errors.c: the module's one error table and diagnostics. */
#include "topology/topology.h"

#include <stdio.h>
#include <string.h>

const char *topo_strerror(int code)
{
	switch (code) {
	case TOPO_OK: return "success";
	case TOPO_ENOMEM: return "out of memory";
	case TOPO_EINVAL: return "invalid argument";
	case TOPO_EIO: return "input/output error";
	case TOPO_ESYNTAX: return "not well-formed YAML";
	case TOPO_ESCHEMA: return "rack model does not follow the format";
	case TOPO_EDUPLICATE: return "duplicate name";
	case TOPO_ENOPOWER: return "rack without a (declared) power domain";
	case TOPO_EDIVERSITY: return "too few power domains, racks or nodes for the jury";
	case TOPO_EADDRESS: return "address range invalid or exhausted";
	case TOPO_ENOTFOUND: return "not found";
	case TOPO_ECONSTRAINT: return "no jury satisfies the placement constraints";
	case TOPO_EEXIST: return "a fabric with this run prefix already exists";
	case TOPO_EPERM: return "operation not permitted (network namespaces need CAP_SYS_ADMIN)";
	case TOPO_ENETLINK: return "netlink request failed";
	case TOPO_ENETNS: return "network namespace operation failed";
	case TOPO_ECHILD: return "could not start the process in the namespace";
	case TOPO_ETIMEDOUT: return "timed out waiting";
	case TOPO_ELIMIT: return "limit exceeded";
	}
	return "unknown topology error";
}

char *topo_diag_format(const struct topo_diag *d, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	if (d->line > 0)
		snprintf(buf, len, "%s:%u:%u: %s", d->file, d->line, d->column, d->msg);
	else
		snprintf(buf, len, "%s: %s", d->file, d->msg);
	return buf;
}
