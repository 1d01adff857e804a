/* engine/errors.c: the engine's error table and the names of its enums. */
#include "engine.h"

const char *ph_strerror(int code)
{
	switch (code) {
	case PH_OK: return "success";
	case PH_ENOMEM: return "out of memory";
	case PH_EINVAL: return "invalid argument";
	case PH_EMALFORMED: return "malformed input";
	case PH_ETRUNCATED: return "input truncated";
	case PH_ETOOBIG: return "beyond a size limit";
	case PH_EVERSION: return "unknown version or feature level";
	case PH_EBUSY: return "pipeline full";
	case PH_ENOTMEMBER: return "not a jury member";
	case PH_EDEPOSED: return "deposed from the jury";
	case PH_ESTATE: return "not allowed in this state";
	case PH_EUNKNOWN: return "unknown type or kind";
	case PH_EWRONGCELL: return "message for another cell";
	case PH_ECORRUPT: return "persisted records are inconsistent";
	case PH_ENOENT: return "no such key";
	}
	return "unknown error";
}

const char *ph_reason_name(int reason)
{
	switch (reason) {
	case PH_R_NONE: return "none";
	case PH_R_CONDITION: return "condition-failed";
	case PH_R_TYPE: return "type-mismatch";
	case PH_R_CELL_FULL: return "cell-full";
	case PH_R_INT_TOO_BIG: return "integer-too-big";
	case PH_R_RESULT_TOO_BIG: return "result-too-big";
	case PH_R_STALE_SEQ: return "stale-seq";
	case PH_R_SESSION_EXPIRED: return "session-expired";
	case PH_R_FEATURE: return "feature-level";
	case PH_R_MALFORMED: return "malformed";
	case PH_R_JURY_EPOCH: return "jury-epoch-mismatch";
	case PH_R_JURY_INVALID: return "jury-change-invalid";
	case PH_R_JURY_PENDING: return "jury-change-pending";
	case PH_R_JURY_RETURN: return "jury-member-term-open";
	case PH_R_JURY_LEARNER: return "jury-learner-behind";
	}
	return "unknown";
}

const char *ph_msg_type_name(int type)
{
	switch (type) {
	case PH_MSG_PREPARE: return "prepare";
	case PH_MSG_PROMISE: return "promise";
	case PH_MSG_ACCEPT: return "accept";
	case PH_MSG_ACCEPTED: return "accepted";
	case PH_MSG_REJECT: return "reject";
	case PH_MSG_CHOSEN: return "chosen";
	case PH_MSG_HEARTBEAT: return "heartbeat";
	case PH_MSG_CATCHUP: return "catchup";
	case PH_MSG_SNAPSHOT: return "snapshot";
	}
	return "unknown";
}

int ph_ballot_cmp(struct ph_ballot a, struct ph_ballot b)
{
	if (a.round != b.round)
		return a.round < b.round ? -1 : 1;
	if (a.node != b.node)
		return a.node < b.node ? -1 : 1;
	return 0;
}
