/* reports/print.c: a checker result as text and as JSON, and the
 * `check FILE` command. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int flush_buf(struct rep_buf *b, FILE *out)
{
	int rc = (b->len && fwrite(b->p, 1, b->len, out) != b->len) ? REP_EIO : 0;
	rep__buf_free(b);
	return rc;
}

int rep_check_print(const struct rep_history *h, const struct rep_check_result *r, FILE *out)
{
	struct rep_buf b = {0};
	int rc = rep__buf_printf(&b, "verdict: %s\n", rep_verdict_name(r->verdict));
	if (r->error != NULL)
		rc |= rep__buf_printf(&b, "error: %s\n", r->error);
	size_t nlin = 0, nnot = 0, nunk = 0;
	for (size_t i = 0; i < r->nparts; i++) {
		nlin += r->parts[i].verdict == REP_LINEARIZABLE;
		nnot += r->parts[i].verdict == REP_NOT_LINEARIZABLE;
		nunk += r->parts[i].verdict == REP_UNKNOWN;
	}
	rc |= rep__buf_printf(&b, "operations: %zu in %zu parts (%zu linearizable, %zu not, %zu "
				  "unknown), %.3f ms, %.1f KiB\n",
			      r->nops, r->nparts, nlin, nnot, nunk, r->seconds * 1e3,
			      (double)r->bytes / 1024.0);
	for (size_t i = 0; i < r->nparts; i++) {
		const struct rep_part_result *p = &r->parts[i];
		if (p->verdict == REP_LINEARIZABLE && r->nparts > 8)
			continue;
		rc |= rep__buf_printf(&b, "  part %s: %s, %zu ops, %llu configurations, %.3f ms%s%s\n",
				      p->label, rep_verdict_name(p->verdict), p->nops,
				      (unsigned long long)p->configurations, p->seconds * 1e3,
				      p->unknown_reason ? ", " : "",
				      p->unknown_reason ? p->unknown_reason : "");
	}
	const struct rep_explanation *ex = r->explanation;
	if (ex != NULL && h != NULL) {
		rc |= rep__buf_printf(&b, "explanation (%s):\n", ex->label);
		rc |= rep__buf_printf(&b, "  longest linearizable prefix: %zu ops of this part\n",
				      ex->prefix_ops);
		rc |= rep__buf_put(&b, "  failing op: ", 14);
		if (ex->failing_op < h->n)
			rc |= rep__op_describe(&b, &h->ops[ex->failing_op]);
		rc |= rep__buf_printf(&b, " (op %zu)\n", ex->failing_op);
		rc |= rep__buf_put(&b, "  possible states before it: ", 29);
		for (size_t i = 0; i < ex->nstates; i++)
			rc |= rep__buf_printf(&b, "%s%s", i ? ", " : "", ex->states[i]);
		rc |= rep__buf_printf(&b, "%s\n", ex->truncated_states ? ", ..." : "");
		rc |= rep__buf_printf(&b, "  smallest window that cannot be linearized (%zu ops%s):\n",
				      ex->nwindow,
				      ex->window_from_initial ? ", from the initial state"
							      : ", from any state");
		for (size_t i = 0; i < ex->nwindow; i++) {
			const struct rep_op *op = &h->ops[ex->window[i]];
			rc |= rep__buf_printf(&b, "    %6zu  ", ex->window[i]);
			rc |= rep__op_describe(&b, op);
			rc |= rep__buf_printf(&b, "  [%lld, ", (long long)op->invoke_ns);
			if (op->outcome == REP_OUT_OK)
				rc |= rep__buf_printf(&b, "%lld]\n", (long long)op->complete_ns);
			else
				rc |= rep__buf_put(&b, "...)\n", 5);
		}
	} else if (r->verdict == REP_NOT_LINEARIZABLE) {
		rc |= rep__buf_put(&b, "explanation: not computed (budget exhausted or disabled)\n",
				   57);
	}
	if (rc != 0) {
		rep__buf_free(&b);
		return REP_ENOMEM;
	}
	return flush_buf(&b, out);
}

static int json_ops(struct rep_buf *b, const struct rep_history *h, const size_t *idx, size_t n)
{
	int rc = rep__buf_put(b, "[", 1);
	struct rep_buf d = {0};
	for (size_t i = 0; i < n; i++) {
		const struct rep_op *op = &h->ops[idx[i]];
		d.len = 0;
		rc |= rep__op_describe(&d, op);
		rc |= rep__buf_printf(b, "%s{\"index\":%zu,\"process\":%lld,\"f\":\"%s\",\"type\":\"%s\","
					 "\"invoke_ns\":%lld,\"complete_ns\":%lld,\"text\":",
				      i ? "," : "", idx[i], (long long)op->process, rep_fn_name(op->fn),
				      rep_outcome_name(op->outcome), (long long)op->invoke_ns,
				      (long long)op->complete_ns);
		rc |= rep__json_str(b, d.p, d.len);
		rc |= rep__buf_put(b, "}", 1);
	}
	rep__buf_free(&d);
	rc |= rep__buf_put(b, "]", 1);
	return rc ? REP_ENOMEM : 0;
}

int rep__check_json(struct rep_buf *b, const struct rep_history *h,
		    const struct rep_check_result *r)
{
	int rc = rep__buf_printf(b, "{\"verdict\":\"%s\",\"operations\":%zu,\"seconds\":%.6f,"
				    "\"bytes\":%zu,",
				 rep_verdict_name(r->verdict), r->nops, r->seconds, r->bytes);
	if (r->error != NULL) {
		rc |= rep__buf_put(b, "\"error\":", 8);
		rc |= rep__json_str(b, (const uint8_t *)r->error, strlen(r->error));
		rc |= rep__buf_put(b, ",", 1);
	}
	rc |= rep__buf_put(b, "\"parts\":[", 9);
	for (size_t i = 0; i < r->nparts; i++) {
		const struct rep_part_result *p = &r->parts[i];
		rc |= rep__buf_printf(b, "%s{\"label\":", i ? "," : "");
		rc |= rep__json_str(b, (const uint8_t *)p->label, strlen(p->label));
		rc |= rep__buf_printf(b, ",\"model\":\"%s\",\"verdict\":\"%s\",\"operations\":%zu,"
					 "\"configurations\":%llu,\"seconds\":%.6f,\"bytes\":%zu",
				      rep_model_name(p->model), rep_verdict_name(p->verdict), p->nops,
				      (unsigned long long)p->configurations, p->seconds, p->bytes);
		if (p->unknown_reason != NULL)
			rc |= rep__buf_printf(b, ",\"reason\":\"%s\"", p->unknown_reason);
		rc |= rep__buf_put(b, "}", 1);
	}
	rc |= rep__buf_put(b, "],\"explanation\":", 16);
	const struct rep_explanation *ex = r->explanation;
	if (ex == NULL || h == NULL) {
		rc |= rep__buf_put(b, "null", 4);
	} else {
		rc |= rep__buf_put(b, "{\"part\":", 8);
		rc |= rep__json_str(b, (const uint8_t *)ex->label, strlen(ex->label));
		rc |= rep__buf_printf(b, ",\"model\":\"%s\",\"prefix_ops\":%zu,\"failing_op\":",
				      rep_model_name(ex->model), ex->prefix_ops);
		rc |= json_ops(b, h, &ex->failing_op, 1);
		rc |= rep__buf_put(b, ",\"states\":[", 11);
		for (size_t i = 0; i < ex->nstates; i++) {
			if (i)
				rc |= rep__buf_put(b, ",", 1);
			rc |= rep__json_str(b, (const uint8_t *)ex->states[i], strlen(ex->states[i]));
		}
		rc |= rep__buf_printf(b, "],\"states_truncated\":%s,\"window_from_initial\":%s,"
					 "\"window\":",
				      ex->truncated_states ? "true" : "false",
				      ex->window_from_initial ? "true" : "false");
		rc |= json_ops(b, h, ex->window, ex->nwindow);
		rc |= rep__buf_put(b, "}", 1);
	}
	rc |= rep__buf_put(b, "}", 1);
	return rc ? REP_ENOMEM : 0;
}

int rep_check_print_json(const struct rep_history *h, const struct rep_check_result *r,
			 FILE *out)
{
	struct rep_buf b = {0};
	if (rep__check_json(&b, h, r) != 0 || rep__buf_put(&b, "\n", 1) != 0) {
		rep__buf_free(&b);
		return REP_ENOMEM;
	}
	return flush_buf(&b, out);
}

static void check_usage(FILE *f)
{
	fprintf(f, "usage: check FILE [--json] [--seconds S] [--threads N] [--format log|edn]\n"
		   "  Checks a Jepsen history (log or EDN lines) for linearizability.\n"
		   "  Exit status: 0 linearizable, 1 NOT linearizable, 2 unknown or error.\n");
}

int rep_cli_check(int argc, char **argv)
{
	const char *file = NULL;
	bool json = false;
	struct rep_budget budget = {0};
	enum rep_format fmt = REP_FMT_AUTO;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--json") == 0) {
			json = true;
		} else if (strcmp(a, "--seconds") == 0 && i + 1 < argc) {
			char *end;
			budget.seconds = strtod(argv[++i], &end);
			if (*end != 0 || budget.seconds <= 0) {
				fprintf(stderr, "check: --seconds expects a positive number, got '%s'\n",
					argv[i]);
				return 2;
			}
		} else if (strcmp(a, "--threads") == 0 && i + 1 < argc) {
			char *end;
			long t = strtol(argv[++i], &end, 10);
			if (*end != 0 || t <= 0 || t > 64) {
				fprintf(stderr, "check: --threads expects 1..64, got '%s'\n", argv[i]);
				return 2;
			}
			budget.threads = (unsigned)t;
		} else if (strcmp(a, "--format") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "log") == 0)
				fmt = REP_FMT_LOG;
			else if (strcmp(argv[i], "edn") == 0)
				fmt = REP_FMT_EDN;
			else {
				fprintf(stderr, "check: --format expects log or edn, got '%s'\n", argv[i]);
				return 2;
			}
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			check_usage(stdout);
			return 0;
		} else if (a[0] == '-' || file != NULL) {
			fprintf(stderr, "check: unexpected argument '%s'\n", a);
			check_usage(stderr);
			return 2;
		} else {
			file = a;
		}
	}
	if (file == NULL) {
		check_usage(stderr);
		return 2;
	}
	struct rep_history h;
	rep_history_init(&h);
	struct rep_error err = {0};
	int rc = rep_import_file(file, fmt, &h, &err);
	if (rc != 0) {
		if (err.line)
			fprintf(stderr, "%s:%u:%u: %s\n", err.file, err.line, err.column, err.msg);
		else
			fprintf(stderr, "%s: %s\n", err.file[0] ? err.file : file,
				err.msg[0] ? err.msg : rep_strerror(rc));
		fprintf(stderr, "check: no verdict: the history could not be read completely\n");
		return 2;
	}
	struct rep_check_result r;
	rc = rep_check(&h, &budget, &r);
	if (rc != 0 && rc != REP_EMODEL) {
		fprintf(stderr, "check: %s\n", rep_strerror(rc));
		rep_history_free(&h);
		return 2;
	}
	if (rc == REP_EMODEL)
		fprintf(stderr, "check: %s\n", r.error);
	rc = json ? rep_check_print_json(&h, &r, stdout) : rep_check_print(&h, &r, stdout);
	int status = r.verdict == REP_LINEARIZABLE ? 0 : r.verdict == REP_NOT_LINEARIZABLE ? 1 : 2;
	if (rc != 0)
		status = 2;
	rep_check_result_free(&r);
	rep_history_free(&h);
	return status;
}
