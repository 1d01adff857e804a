/* The node module's one error table. */
#include "node.h"

const char *node_strerror(int code)
{
	switch (code) {
	case NODE_OK: return "success";
	case NODE_ENOMEM: return "out of memory";
	case NODE_EINVAL: return "invalid argument";
	case NODE_EMALFORMED: return "malformed input";
	case NODE_ETRUNCATED: return "input truncated";
	case NODE_ETOOBIG: return "over the size limit";
	case NODE_EAUTH: return "authentication (HMAC) failed";
	case NODE_EREPLAY: return "replayed or stale datagram";
	case NODE_EVERSION: return "unknown protocol version";
	case NODE_ECONFIG: return "configuration error";
	case NODE_EIO: return "I/O error";
	case NODE_ENOCELL: return "cell not hosted here";
	case NODE_EBUSY: return "cell pipeline full (back off and retry)";
	case NODE_ECONN: return "connection failed";
	case NODE_ETIMEDOUT: return "timed out";
	case NODE_ENOTLEADER: return "not the distinguished proposer";
	case NODE_EOVERLOAD: return "node overloaded (too many connections)";
	case NODE_EEXIST: return "cell exists with a different jury";
	case NODE_ECELL: return "the cell refused the request";
	case NODE_EUNAVAIL: return "no node of the cell answered";
	case NODE_ESTOPPED: return "node is stopping";
	case NODE_EBEHIND: return "replica behind the session's reads";
	}
	return "unknown error";
}
