/* History lines (docs/chaos.md): one workload client's record of one
 * operation, turned into a cell-model transaction for the checker. The
 * line comes from a file another process wrote, so every field is checked:
 * a line that does not parse is refused whole (the runner counts it and
 * marks the run invalid). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "reports/reports.h"

/* A decimal integer field: optional '-', 1..20 digits. */
static int int_field(const char *s)
{
	size_t i = s[0] == '-' ? 1 : 0, n = strlen(s);
	if (n == i || n - i > 20)
		return 0;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int chaos_history_line_parse(struct rep_history *h, const char *host, char *line)
{
	char *f[12];
	int n = 0;
	char *save = NULL;
	for (char *p = strtok_r(line, " \n", &save); p != NULL && n < 12;
	     p = strtok_r(NULL, " \n", &save))
		f[n++] = p;
	if (n != 12 || strtok_r(NULL, " \n", &save) != NULL)
		return CHAOS_EINVAL;
	if (!int_field(f[0]) || !int_field(f[1]) || !int_field(f[2]))
		return CHAOS_EINVAL;
	if (strcmp(f[3], "ok") != 0 && strcmp(f[3], "fail") != 0 && strcmp(f[3], "info") != 0)
		return CHAOS_EINVAL;
	struct rep_op op;
	memset(&op, 0, sizeof op);
	op.process = strtoll(f[0], NULL, 10);
	op.client = host;
	op.fn = REP_FN_TXN;
	op.invoke_ns = strtoll(f[1], NULL, 10);
	op.complete_ns = strtoll(f[2], NULL, 10);
	op.outcome = strcmp(f[3], "ok") == 0	 ? REP_OUT_OK :
		     strcmp(f[3], "fail") == 0 ? REP_OUT_FAIL :
						 REP_OUT_INFO;
	op.cell = rep_value_bytes(h, f[4], strlen(f[4]));
	struct rep_cond cond;
	struct rep_txop ops[2];
	struct rep_value reads[2];
	struct rep_txn txn;
	memset(&txn, 0, sizeof txn);
	memset(ops, 0, sizeof ops);
	const char *kind = f[5];
	struct rep_value k1 = rep_value_bytes(h, f[6], strlen(f[6]));
	struct rep_value v;
	txn.ops = ops;
	if (strcmp(kind, "read") == 0) {
		ops[0].kind = REP_TX_READ;
		ops[0].key = k1;
		txn.nops = 1;
	} else if (strcmp(kind, "put") == 0 || strcmp(kind, "incr") == 0) {
		ops[0].kind = kind[0] == 'p' ? REP_TX_PUT : REP_TX_INCR;
		ops[0].key = k1;
		if (rep_value_int_text(h, f[8], strlen(f[8]), &v) != 0)
			return CHAOS_EINVAL;
		ops[0].value = v;
		txn.nops = 1;
	} else if (strcmp(kind, "cas") == 0) {
		cond.kind = REP_COND_EQUALS;
		cond.key = k1;
		if (rep_value_int_text(h, f[8], strlen(f[8]), &cond.value) != 0)
			return CHAOS_EINVAL;
		txn.conds = &cond;
		txn.nconds = 1;
		ops[0].kind = REP_TX_PUT;
		ops[0].key = k1;
		if (rep_value_int_text(h, f[9], strlen(f[9]), &v) != 0)
			return CHAOS_EINVAL;
		ops[0].value = v;
		txn.nops = 1;
	} else if (strcmp(kind, "rw") == 0) {
		ops[0].kind = REP_TX_READ;
		ops[0].key = k1;
		ops[1].kind = REP_TX_PUT;
		ops[1].key = rep_value_bytes(h, f[7], strlen(f[7]));
		if (rep_value_int_text(h, f[8], strlen(f[8]), &v) != 0)
			return CHAOS_EINVAL;
		ops[1].value = v;
		txn.nops = 2;
	} else {
		return CHAOS_EINVAL;
	}
	if (op.outcome == REP_OUT_OK) {
		txn.committed = strcmp(f[10], "1") == 0;
		reads[0] = rep_value_nil();
		reads[1] = rep_value_nil();
		if (strcmp(f[11], "nil") != 0 && strcmp(f[11], "-") != 0) {
			if (rep_value_int_text(h, f[11], strlen(f[11]), &reads[0]) != 0)
				return CHAOS_EINVAL;
		}
		txn.reads = reads;
	}
	op.txn = &txn;
	return rep_history_add(h, &op, NULL) == 0 ? 0 : CHAOS_EINVAL;
}

