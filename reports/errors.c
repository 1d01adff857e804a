/* reports/errors.c: the module's error table and enum names. */
#include "reports.h"

const char *rep_strerror(int code)
{
	switch (code) {
	case REP_OK: return "success";
	case REP_ENOMEM: return "out of memory";
	case REP_EINVAL: return "invalid argument";
	case REP_EPARSE: return "malformed input";
	case REP_EIO: return "input/output error";
	case REP_EDB: return "run database error";
	case REP_EVERSION: return "unsupported run database schema version";
	case REP_ENOTFOUND: return "not found";
	case REP_EMODEL: return "operation not understood by its model";
	case REP_ETHREAD: return "could not start a worker thread";
	case REP_EUSAGE: return "bad command line";
	}
	return "unknown reports error";
}

const char *rep_fn_name(enum rep_fn fn)
{
	switch (fn) {
	case REP_FN_READ: return "read";
	case REP_FN_WRITE: return "write";
	case REP_FN_CAS: return "cas";
	case REP_FN_GET: return "get";
	case REP_FN_PUT: return "put";
	case REP_FN_APPEND: return "append";
	case REP_FN_TXN: return "txn";
	}
	return "?";
}

const char *rep_outcome_name(enum rep_outcome o)
{
	switch (o) {
	case REP_OUT_OK: return "ok";
	case REP_OUT_FAIL: return "fail";
	case REP_OUT_INFO: return "info";
	case REP_OUT_PENDING: return "pending";
	}
	return "?";
}

const char *rep_verdict_name(enum rep_verdict v)
{
	switch (v) {
	case REP_LINEARIZABLE: return "linearizable";
	case REP_NOT_LINEARIZABLE: return "NOT linearizable";
	case REP_UNKNOWN: return "unknown";
	}
	return "?";
}

const char *rep_model_name(enum rep_model m)
{
	switch (m) {
	case REP_MODEL_REGISTER: return "register";
	case REP_MODEL_KV: return "kv";
	case REP_MODEL_CELL: return "cell";
	}
	return "?";
}
