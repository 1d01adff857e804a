/* The vagrant module's one error table. */
#include "vagrant.h"

const char *vag_strerror(int code)
{
	switch (code) {
	case VAG_OK: return "ok";
	case VAG_ENOMEM: return "out of memory";
	case VAG_EINVAL: return "invalid argument or rack model";
	case VAG_ESYS: return "system call failed";
	case VAG_ELIMIT: return "rack model does not fit the address plan";
	case VAG_ENOTFOUND: return "not found";
	case VAG_ETOOL: return "external tool failed";
	case VAG_ESSH: return "ssh could not reach the machine";
	}
	return "unknown vagrant error";
}
