/* reports/report.c: a run database as one self-contained HTML page (inline
 * SVG, no fetches), a plain-text summary and JSON (docs/report.md), and the
 * `report RUN.db` command. */
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------ the model */

struct host_row {
	char *name, *kind, *rack;
};

struct node_ev {
	int64_t t;
	char *node, *kind, *detail;
};

struct artifact {
	char *kind, *path;
	int64_t bytes;
};

struct pkt_total {
	char *decision;
	int64_t count, bytes;
};

/* Everything the three outputs show, loaded once. */
struct report {
	/* run */
	char *campaign, *version, *run_verdict, *notes;
	int64_t seed, start_unix_ns, end_unix_ns, mono_origin_ns, op_timeout_ns;
	bool has_run;
	struct host_row *hosts;
	size_t nhosts;
	struct rep_history h;
	struct rep_fault *faults;
	size_t nfaults;
	struct node_ev *events;
	size_t nevents;
	struct artifact *artifacts;
	size_t nartifacts;
	struct pkt_total *pkts;
	size_t npkts;
	int64_t nmetrics;
	/* the check: stored, or run now */
	char *check_verdict, *check_json, *checker;
	bool checked_now;
	struct rep_check_result fresh;
	/* explanation indices (from the stored JSON or the fresh result) */
	size_t *window;
	size_t nwindow;
	size_t failing_op;
	bool has_failing;
	/* figures */
	size_t n_ok, n_fail, n_info, n_pending;
	int64_t t0, t1; /* time span shown */
	struct rep_avail *avail;
	size_t navail;
	double p50_ms, p99_ms, ops_per_s;
};

/* Appends a C string. */
static void bput(struct rep_buf *b, const char *s)
{
	rep__buf_put(b, s, strlen(s));
}

static char *col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? strdup((const char *)t) : NULL;
}

static void report_free(struct report *r)
{
	free(r->campaign);
	free(r->version);
	free(r->run_verdict);
	free(r->notes);
	for (size_t i = 0; i < r->nhosts; i++) {
		free(r->hosts[i].name);
		free(r->hosts[i].kind);
		free(r->hosts[i].rack);
	}
	free(r->hosts);
	rep_history_free(&r->h);
	rep_faults_free(r->faults, r->nfaults);
	for (size_t i = 0; i < r->nevents; i++) {
		free(r->events[i].node);
		free(r->events[i].kind);
		free(r->events[i].detail);
	}
	free(r->events);
	for (size_t i = 0; i < r->nartifacts; i++) {
		free(r->artifacts[i].kind);
		free(r->artifacts[i].path);
	}
	free(r->artifacts);
	for (size_t i = 0; i < r->npkts; i++)
		free(r->pkts[i].decision);
	free(r->pkts);
	free(r->check_verdict);
	free(r->check_json);
	free(r->checker);
	rep_check_result_free(&r->fresh);
	free(r->window);
	rep_avail_free(r->avail, r->navail);
}

static int set_err(struct rep_error *err, const char *file, const char *msg)
{
	if (err != NULL) {
		snprintf(err->file, sizeof err->file, "%s", file);
		err->line = err->column = 0;
		snprintf(err->msg, sizeof err->msg, "%s", msg);
	}
	return REP_EDB;
}

/* Pulls "key":[{"index":N,...},...] out of our own check JSON. */
static int json_indices(const char *json, const char *key, size_t **out, size_t *n)
{
	const char *p = strstr(json, key);
	*out = NULL;
	*n = 0;
	if (p == NULL)
		return 0;
	p += strlen(key);
	if (*p != '[')
		return 0;
	size_t cap = 0;
	int depth = 0;
	for (; *p; p++) {
		if (depth == 2 && strncmp(p, "\"index\":", 8) == 0) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 16;
				size_t *m = realloc(*out, cap * sizeof *m);
				if (m == NULL)
					return REP_ENOMEM;
				*out = m;
			}
			(*out)[(*n)++] = (size_t)strtoull(p + 8, NULL, 10);
			p += 7;
			continue;
		}
		if (*p == '"') { /* skip strings */
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (!*p)
				break;
			continue;
		}
		if (*p == '[' || *p == '{')
			depth++;
		if (*p == ']' || *p == '}') {
			if (--depth == 0)
				break;
		}
	}
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int report_load(struct rep_db *db, struct report *r, struct rep_error *err)
{
	sqlite3 *s = rep__db_handle(db);
	sqlite3_stmt *st;
	int rc;
	memset(r, 0, sizeof *r);
	rep_history_init(&r->h);
	/* run */
	if (sqlite3_prepare_v2(s, "SELECT campaign, seed, version, start_unix_ns, end_unix_ns, "
				  "verdict, mono_origin_ns, op_timeout_ns, notes FROM run",
			       -1, &st, NULL) != SQLITE_OK)
		return set_err(err, "run", sqlite3_errmsg(s));
	if (sqlite3_step(st) == SQLITE_ROW) {
		r->has_run = true;
		r->campaign = col_dup(st, 0);
		r->seed = sqlite3_column_int64(st, 1);
		r->version = col_dup(st, 2);
		r->start_unix_ns = sqlite3_column_int64(st, 3);
		r->end_unix_ns = sqlite3_column_int64(st, 4);
		r->run_verdict = col_dup(st, 5);
		r->mono_origin_ns = sqlite3_column_int64(st, 6);
		r->op_timeout_ns = sqlite3_column_int64(st, 7);
		r->notes = col_dup(st, 8);
	}
	sqlite3_finalize(st);
	/* hosts */
	if (sqlite3_prepare_v2(s, "SELECT name, kind, rack FROM hosts ORDER BY kind, name", -1, &st,
			       NULL) != SQLITE_OK)
		return set_err(err, "hosts", sqlite3_errmsg(s));
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct host_row *m = realloc(r->hosts, (r->nhosts + 1) * sizeof *m);
		if (m == NULL) {
			sqlite3_finalize(st);
			return REP_ENOMEM;
		}
		r->hosts = m;
		r->hosts[r->nhosts++] = (struct host_row){col_dup(st, 0), col_dup(st, 1), col_dup(st, 2)};
	}
	sqlite3_finalize(st);
	/* history and faults */
	if ((rc = rep_db_load_history(db, &r->h, err)) != 0)
		return rc;
	if ((rc = rep_db_load_faults(db, &r->faults, &r->nfaults)) != 0)
		return set_err(err, "faults", rep_db_errmsg(db));
	/* node events */
	if (sqlite3_prepare_v2(s, "SELECT t_ns, node, kind, detail FROM node_events ORDER BY t_ns",
			       -1, &st, NULL) != SQLITE_OK)
		return set_err(err, "node_events", sqlite3_errmsg(s));
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct node_ev *m = realloc(r->events, (r->nevents + 1) * sizeof *m);
		if (m == NULL) {
			sqlite3_finalize(st);
			return REP_ENOMEM;
		}
		r->events = m;
		r->events[r->nevents++] = (struct node_ev){sqlite3_column_int64(st, 0), col_dup(st, 1),
							   col_dup(st, 2), col_dup(st, 3)};
	}
	sqlite3_finalize(st);
	/* artifacts, packet totals, metric count */
	if (sqlite3_prepare_v2(s, "SELECT kind, path, bytes FROM artifacts ORDER BY id", -1, &st,
			       NULL) != SQLITE_OK)
		return set_err(err, "artifacts", sqlite3_errmsg(s));
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct artifact *m = realloc(r->artifacts, (r->nartifacts + 1) * sizeof *m);
		if (m == NULL) {
			sqlite3_finalize(st);
			return REP_ENOMEM;
		}
		r->artifacts = m;
		r->artifacts[r->nartifacts++] =
			(struct artifact){col_dup(st, 0), col_dup(st, 1), sqlite3_column_int64(st, 2)};
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(s, "SELECT decision, sum(count), sum(bytes) FROM packets GROUP BY "
				  "decision ORDER BY decision",
			       -1, &st, NULL) != SQLITE_OK)
		return set_err(err, "packets", sqlite3_errmsg(s));
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct pkt_total *m = realloc(r->pkts, (r->npkts + 1) * sizeof *m);
		if (m == NULL) {
			sqlite3_finalize(st);
			return REP_ENOMEM;
		}
		r->pkts = m;
		r->pkts[r->npkts++] = (struct pkt_total){col_dup(st, 0), sqlite3_column_int64(st, 1),
							 sqlite3_column_int64(st, 2)};
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(s, "SELECT count(*) FROM metrics", -1, &st, NULL) != SQLITE_OK)
		return set_err(err, "metrics", sqlite3_errmsg(s));
	if (sqlite3_step(st) == SQLITE_ROW)
		r->nmetrics = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	/* the latest check, or one now */
	if (sqlite3_prepare_v2(s, "SELECT checker, verdict, result_json FROM checks ORDER BY id "
				  "DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return set_err(err, "checks", sqlite3_errmsg(s));
	if (sqlite3_step(st) == SQLITE_ROW) {
		r->checker = col_dup(st, 0);
		r->check_verdict = col_dup(st, 1);
		r->check_json = col_dup(st, 2);
	}
	sqlite3_finalize(st);
	if (r->check_json == NULL && r->h.n == 0) {
		r->check_json = strdup("{\"verdict\":\"unknown\",\"operations\":0,\"parts\":[],"
				       "\"explanation\":null}");
		r->check_verdict = strdup("unknown");
		r->checker = strdup("none: no operations recorded");
		if (r->check_json == NULL || r->check_verdict == NULL || r->checker == NULL)
			return REP_ENOMEM;
	}
	if (r->check_json == NULL) {
		r->checked_now = true;
		rc = rep_check(&r->h, NULL, &r->fresh);
		if (rc != 0 && rc != REP_EMODEL)
			return rc;
		struct rep_buf b = {0};
		if (rep__check_json(&b, &r->h, &r->fresh) != 0) {
			rep__buf_free(&b);
			return REP_ENOMEM;
		}
		r->check_json = (char *)b.p;
		r->check_verdict = strdup(rep_verdict_name(r->fresh.verdict));
		r->checker = strdup("linearizability (at report time)");
		if (r->check_verdict == NULL || r->checker == NULL)
			return REP_ENOMEM;
	}
	if ((rc = json_indices(r->check_json, "\"window\":", &r->window, &r->nwindow)) != 0)
		return rc;
	size_t *f, nf;
	if ((rc = json_indices(r->check_json, "\"failing_op\":", &f, &nf)) != 0)
		return rc;
	if (nf == 1 && f[0] < r->h.n) {
		r->failing_op = f[0];
		r->has_failing = true;
	}
	free(f);
	for (size_t i = 0; i < r->nwindow; i++)
		if (r->window[i] >= r->h.n) {
			r->nwindow = 0; /* the stored check is for another history */
			r->has_failing = false;
		}
	/* figures */
	r->t0 = INT64_MAX;
	r->t1 = INT64_MIN;
	int64_t *lat = malloc((r->h.n + 1) * sizeof *lat);
	if (lat == NULL)
		return REP_ENOMEM;
	size_t nlat = 0;
	for (size_t i = 0; i < r->h.n; i++) {
		const struct rep_op *op = &r->h.ops[i];
		r->n_ok += op->outcome == REP_OUT_OK;
		r->n_fail += op->outcome == REP_OUT_FAIL;
		r->n_info += op->outcome == REP_OUT_INFO;
		r->n_pending += op->outcome == REP_OUT_PENDING;
		if (op->invoke_ns < r->t0)
			r->t0 = op->invoke_ns;
		int64_t e = op->outcome == REP_OUT_PENDING ? op->invoke_ns : op->complete_ns;
		if (e > r->t1)
			r->t1 = e;
		if (op->outcome == REP_OUT_OK)
			lat[nlat++] = op->complete_ns - op->invoke_ns;
	}
	for (size_t i = 0; i < r->nfaults; i++) {
		if (r->faults[i].start_ns < r->t0)
			r->t0 = r->faults[i].start_ns;
		if (r->faults[i].end_ns > r->t1)
			r->t1 = r->faults[i].end_ns;
	}
	if (r->t0 > r->t1) {
		r->t0 = 0;
		r->t1 = 1;
	}
	if (r->t1 == r->t0)
		r->t1 = r->t0 + 1;
	qsort(lat, nlat, sizeof *lat, cmp_i64);
	if (nlat) {
		r->p50_ms = (double)lat[(nlat - 1) / 2] / 1e6;
		r->p99_ms = (double)lat[(size_t)((double)(nlat - 1) * 0.99)] / 1e6;
	}
	r->ops_per_s = (double)nlat / ((double)(r->t1 - r->t0) / 1e9);
	free(lat);
	return rep_availability(&r->h, r->faults, r->nfaults, r->op_timeout_ns, &r->avail,
				&r->navail);
}

static const char *verdict_of(const struct report *r)
{
	return r->check_verdict ? r->check_verdict : "unknown";
}

static const char *rack_of(const struct report *r, const char *client)
{
	for (size_t i = 0; i < r->nhosts; i++)
		if (r->hosts[i].name && strcmp(r->hosts[i].name, client) == 0)
			return r->hosts[i].rack;
	return NULL;
}

/* Availability per rack: sums over the clients of each rack, per window. */
struct rack_avail {
	char rack[64], window[64];
	uint64_t ops, ok;
};

static size_t rack_rows(const struct report *r, struct rack_avail *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < r->navail; i++) {
		const char *rack = rack_of(r, r->avail[i].client);
		if (rack == NULL)
			continue;
		size_t k = 0;
		while (k < n && !(strcmp(out[k].rack, rack) == 0 &&
				  strcmp(out[k].window, r->avail[i].window) == 0))
			k++;
		if (k == n) {
			if (n == max)
				continue;
			snprintf(out[n].rack, sizeof out[n].rack, "%s", rack);
			snprintf(out[n].window, sizeof out[n].window, "%s", r->avail[i].window);
			out[n].ops = out[n].ok = 0;
			n++;
		}
		out[k].ops += r->avail[i].ops;
		out[k].ok += r->avail[i].ok_in_time;
	}
	return n;
}

/* ------------------------------------------------------------------ text */

static double secs(const struct report *r, int64_t t)
{
	return (double)(t - r->t0) / 1e9;
}

/* Writes the loaded report as text. REP_EIO, REP_ENOMEM. */
static int write_text(const struct report *rp, FILE *out)
{
	struct report r = *rp; /* a view: nothing here is freed */
	fprintf(out, "verdict: %s\n", verdict_of(&r));
	if (r.has_run)
		fprintf(out, "run: campaign %s, seed %lld, version %s%s\n",
			r.campaign ? r.campaign : "?", (long long)r.seed,
			r.version ? r.version : "?", r.end_unix_ns ? "" : " (not ended)");
	fprintf(out, "operations: %zu (%zu ok, %zu fail, %zu info, %zu pending)\n", r.h.n, r.n_ok,
		r.n_fail, r.n_info, r.n_pending);
	fprintf(out, "latency: p50 %.3f ms, p99 %.3f ms; throughput %.1f ok ops/s over %.3f s\n",
		r.p50_ms, r.p99_ms, r.ops_per_s, secs(&r, r.t1));
	fprintf(out, "checker: %s%s\n", r.checker, r.checked_now ? "" : " (stored)");
	if (r.op_timeout_ns > 0)
		fprintf(out, "availability (ok within %.0f ms, per client and window):\n",
			(double)r.op_timeout_ns / 1e6);
	else
		fprintf(out, "availability (ok at any time: no timeout recorded; per client and "
			     "window):\n");
	for (size_t i = 0; i < r.navail; i++)
		fprintf(out, "  %-16s %-14s %6.1f%%  (%llu/%llu)\n", r.avail[i].client,
			r.avail[i].window, r.avail[i].share * 100,
			(unsigned long long)r.avail[i].ok_in_time, (unsigned long long)r.avail[i].ops);
	struct rack_avail ra[256];
	size_t nra = rack_rows(&r, ra, 256);
	for (size_t i = 0; i < nra; i++)
		fprintf(out, "  rack %-11s %-14s %6.1f%%  (%llu/%llu)\n", ra[i].rack, ra[i].window,
			ra[i].ops ? 100.0 * (double)ra[i].ok / (double)ra[i].ops : 100.0,
			(unsigned long long)ra[i].ok, (unsigned long long)ra[i].ops);
	fprintf(out, "faults: %zu\n", r.nfaults);
	for (size_t i = 0; i < r.nfaults; i++) {
		const struct rep_fault *f = &r.faults[i];
		fprintf(out, "  %-12s %8.3f s .. ", f->nemesis, secs(&r, f->start_ns));
		if (f->end_ns >= 0)
			fprintf(out, "%8.3f s", secs(&r, f->end_ns));
		else
			fprintf(out, "(never stopped)");
		fprintf(out, "  %s\n", f->targets ? f->targets : "");
	}
	if (r.nevents)
		fprintf(out, "node events: %zu\n", r.nevents);
	for (size_t i = 0; i < r.npkts; i++)
		fprintf(out, "packets %-10s %lld (%lld bytes)\n", r.pkts[i].decision,
			(long long)r.pkts[i].count, (long long)r.pkts[i].bytes);
	if (r.has_failing) {
		struct rep_buf b = {0};
		rep__op_describe(&b, &r.h.ops[r.failing_op]);
		fprintf(out, "violation: op %zu cannot be linearized: %s\n", r.failing_op,
			b.p ? (char *)b.p : "");
		for (size_t i = 0; i < r.nwindow; i++) {
			b.len = 0;
			rep__op_describe(&b, &r.h.ops[r.window[i]]);
			fprintf(out, "  window %6zu  %s\n", r.window[i], (char *)b.p);
		}
		rep__buf_free(&b);
	}
	return ferror(out) ? REP_EIO : 0;
}

int rep_report_text(struct rep_db *db, FILE *out, struct rep_error *err)
{
	struct report r;
	int rc = report_load(db, &r, err);
	if (rc == 0)
		rc = write_text(&r, out);
	report_free(&r);
	return rc;
}

/* ------------------------------------------------------------------ JSON */

static void json_s(struct rep_buf *b, const char *s)
{
	if (s == NULL)
		bput(b, "null");
	else
		rep__json_str(b, (const uint8_t *)s, strlen(s));
}

/* Writes the loaded report as json. REP_EIO, REP_ENOMEM. */
static int write_json(const struct report *rp, FILE *out)
{
	struct report r = *rp; /* a view: nothing here is freed */
	int rc = 0;
	struct rep_buf b = {0};
	bput(&b, "{\"verdict\":");
	json_s(&b, verdict_of(&r));
	bput(&b, ",\"run\":");
	if (r.has_run) {
		bput(&b, "{\"campaign\":");
		json_s(&b, r.campaign);
		rep__buf_printf(&b, ",\"seed\":%lld,\"version\":", (long long)r.seed);
		json_s(&b, r.version);
		rep__buf_printf(&b, ",\"start_unix_ns\":%lld,\"end_unix_ns\":%lld,\"op_timeout_ns\":%lld}",
				(long long)r.start_unix_ns, (long long)r.end_unix_ns,
				(long long)r.op_timeout_ns);
	} else {
		bput(&b, "null");
	}
	rep__buf_printf(&b, ",\"operations\":{\"total\":%zu,\"ok\":%zu,\"fail\":%zu,\"info\":%zu,"
			    "\"pending\":%zu},\"latency_ms\":{\"p50\":%.6f,\"p99\":%.6f},"
			    "\"throughput_ok_per_s\":%.3f,\"duration_s\":%.6f,\"availability\":[",
			r.h.n, r.n_ok, r.n_fail, r.n_info, r.n_pending, r.p50_ms, r.p99_ms, r.ops_per_s,
			secs(&r, r.t1));
	for (size_t i = 0; i < r.navail; i++) {
		bput(&b, i ? ",{\"client\":" : "{\"client\":");
		json_s(&b, r.avail[i].client);
		bput(&b, ",\"rack\":");
		json_s(&b, rack_of(&r, r.avail[i].client));
		bput(&b, ",\"window\":");
		json_s(&b, r.avail[i].window);
		rep__buf_printf(&b, ",\"fault_id\":%lld,\"ops\":%llu,\"ok_in_time\":%llu,\"share\":%.6f}",
				(long long)r.avail[i].fault_id, (unsigned long long)r.avail[i].ops,
				(unsigned long long)r.avail[i].ok_in_time, r.avail[i].share);
	}
	bput(&b, "],\"faults\":[");
	for (size_t i = 0; i < r.nfaults; i++) {
		const struct rep_fault *f = &r.faults[i];
		rep__buf_printf(&b, "%s{\"id\":%lld,\"nemesis\":", i ? "," : "", (long long)f->id);
		json_s(&b, f->nemesis);
		bput(&b, ",\"targets\":");
		json_s(&b, f->targets);
		bput(&b, ",\"params\":");
		json_s(&b, f->params);
		rep__buf_printf(&b, ",\"start_ns\":%lld,\"end_ns\":%lld}", (long long)f->start_ns,
				(long long)f->end_ns);
	}
	bput(&b, "],\"node_events\":");
	rep__buf_printf(&b, "%zu,\"metrics\":%lld,\"packets\":{", r.nevents, (long long)r.nmetrics);
	for (size_t i = 0; i < r.npkts; i++) {
		if (i)
			bput(&b, ",");
		json_s(&b, r.pkts[i].decision);
		rep__buf_printf(&b, ":%lld", (long long)r.pkts[i].count);
	}
	bput(&b, "},\"artifacts\":[");
	for (size_t i = 0; i < r.nartifacts; i++) {
		bput(&b, i ? ",{\"kind\":" : "{\"kind\":");
		json_s(&b, r.artifacts[i].kind);
		bput(&b, ",\"path\":");
		json_s(&b, r.artifacts[i].path);
		rep__buf_printf(&b, ",\"bytes\":%lld}", (long long)r.artifacts[i].bytes);
	}
	bput(&b, "],\"checker\":");
	json_s(&b, r.checker);
	rep__buf_printf(&b, ",\"checked_at_report_time\":%s,\"check\":%s}\n",
			r.checked_now ? "true" : "false", r.check_json);
	rc = b.p == NULL ? REP_ENOMEM : fwrite(b.p, 1, b.len, out) == b.len ? 0 : REP_EIO;
	rep__buf_free(&b);
	return rc;
}

int rep_report_json(struct rep_db *db, FILE *out, struct rep_error *err)
{
	struct report r;
	int rc = report_load(db, &r, err);
	if (rc == 0)
		rc = write_json(&r, out);
	report_free(&r);
	return rc;
}

/* ------------------------------------------------------------------ HTML */

static void html_esc(struct rep_buf *b, const char *s)
{
	if (s == NULL)
		return;
	for (; *s; s++) {
		switch (*s) {
		case '<': bput(b, "&lt;"); break;
		case '>': bput(b, "&gt;"); break;
		case '&': bput(b, "&amp;"); break;
		case '"': bput(b, "&quot;"); break;
		default: rep__buf_put(b, s, 1); break;
		}
	}
}

#define W 1100.0  /* plot width */
#define LM 130.0  /* left margin for lane labels */

static double xpos(const struct report *r, int64_t t)
{
	double f = (double)(t - r->t0) / (double)(r->t1 - r->t0);
	if (f < 0)
		f = 0;
	if (f > 1)
		f = 1;
	return LM + f * (W - LM - 10);
}

/* A duration in seconds with a unit that suits it. */
static void fmt_dur(char *buf, size_t size, double s)
{
	double a = s < 0 ? -s : s;
	if (a == 0)
		snprintf(buf, size, "0");
	else if (a >= 1)
		snprintf(buf, size, "%.3g s", s);
	else if (a >= 1e-3)
		snprintf(buf, size, "%.3g ms", s * 1e3);
	else if (a >= 1e-6)
		snprintf(buf, size, "%.3g \u00b5s", s * 1e6);
	else
		snprintf(buf, size, "%.3g ns", s * 1e9);
}

static void time_axis(struct rep_buf *b, const struct report *r, double y)
{
	double span = (double)(r->t1 - r->t0) / 1e9;
	char lab[32];
	rep__buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>",
			LM, y, W - 10, y);
	for (int i = 0; i <= 10; i++) {
		double x = LM + (W - LM - 10) * i / 10.0;
		fmt_dur(lab, sizeof lab, span * i / 10.0);
		rep__buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">"
				   "%s</text>",
				x, y + 12, lab);
	}
}

static void fault_bands(struct rep_buf *b, const struct report *r, double y0, double h)
{
	static const char *const colors[] = {"#f4a261", "#e76f51", "#9d4edd", "#2a9d8f", "#e9c46a"};
	for (size_t i = 0; i < r->nfaults; i++) {
		const struct rep_fault *f = &r->faults[i];
		double x0 = xpos(r, f->start_ns);
		double x1 = xpos(r, f->end_ns >= 0 ? f->end_ns : r->t1);
		rep__buf_printf(b, "<rect class=\"fault\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				   "height=\"%.1f\" fill=\"%s\" fill-opacity=\"0.25\"><title>",
				x0, y0, x1 - x0 < 1 ? 1 : x1 - x0, h, colors[i % 5]);
		html_esc(b, f->nemesis);
		bput(b, " ");
		html_esc(b, f->targets);
		bput(b, "</title></rect>");
		rep__buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#555\">", x0 + 2,
				y0 + 10);
		html_esc(b, f->nemesis);
		bput(b, "</text>");
	}
}

static const char *op_color(enum rep_outcome o)
{
	switch (o) {
	case REP_OUT_OK: return "#2b9348";
	case REP_OUT_FAIL: return "#d62828";
	default: return "#8d99ae";
	}
}

#define MAX_DRAWN 20000

/* Lanes: one per client (or process), ops packed into up to 6 sub-lanes. */
static void timeline(struct rep_buf *b, const struct report *r, const size_t *ops, size_t n,
		     const char *id, bool label_ops)
{
	char **lanes = NULL;
	size_t nl = 0;
	size_t *lane_of = calloc(n + 1, sizeof *lane_of);
	int *sub_of = calloc(n + 1, sizeof *sub_of);
	int64_t(*last)[6] = NULL;
	int *subs = NULL;
	char buf[48];
	if (lane_of == NULL || sub_of == NULL)
		goto out_free;
	for (size_t k = 0; k < n; k++) {
		const struct rep_op *op = &r->h.ops[ops[k]];
		const char *name = op->client;
		if (label_ops || name == NULL) {
			snprintf(buf, sizeof buf, "process %lld", (long long)op->process);
			name = buf;
		}
		size_t l = 0;
		while (l < nl && strcmp(lanes[l], name) != 0)
			l++;
		if (l == nl) {
			char **m = realloc(lanes, (nl + 1) * sizeof *m);
			if (m == NULL)
				goto out_free;
			lanes = m;
			if ((lanes[nl] = strdup(name)) == NULL)
				goto out_free;
			int64_t(*lm)[6] = realloc(last, (nl + 1) * sizeof *lm);
			if (lm == NULL)
				goto out_free;
			last = lm;
			int *sm = realloc(subs, (nl + 1) * sizeof *sm);
			if (sm == NULL)
				goto out_free;
			subs = sm;
			for (int s = 0; s < 6; s++)
				last[nl][s] = INT64_MIN;
			subs[nl] = 1;
			nl++;
		}
		lane_of[k] = l;
		int64_t end = op->outcome == REP_OUT_OK || op->outcome == REP_OUT_FAIL ? op->complete_ns
										      : r->t1;
		int s = 0;
		while (s < 6 && last[l][s] >= op->invoke_ns)
			s++;
		if (s == 6)
			s = 5;
		last[l][s] = end;
		sub_of[k] = s;
		if (s + 1 > subs[l])
			subs[l] = s + 1;
	}
	double sub_h = label_ops ? 16 : 7;
	double *y = calloc(nl + 1, sizeof *y);
	if (y == NULL)
		goto out_free;
	double yy = 18;
	for (size_t l = 0; l < nl; l++) {
		y[l] = yy;
		yy += subs[l] * sub_h + 6;
	}
	double height = yy + 22;
	rep__buf_printf(b, "<svg id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
			   "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">",
			id, W, height, W, height);
	fault_bands(b, r, 14, yy - 10);
	for (size_t i = 0; i < r->nevents && !label_ops; i++) {
		double x = xpos(r, r->events[i].t);
		rep__buf_printf(b, "<line class=\"node-event\" x1=\"%.1f\" y1=\"14\" x2=\"%.1f\" "
				   "y2=\"%.1f\" stroke=\"#000\" stroke-dasharray=\"2,2\"><title>",
				x, x, yy - 4);
		html_esc(b, r->events[i].node);
		bput(b, " ");
		html_esc(b, r->events[i].kind);
		bput(b, "</title></line>");
	}
	for (size_t l = 0; l < nl; l++) {
		rep__buf_printf(b, "<text x=\"4\" y=\"%.1f\" font-size=\"11\">", y[l] + sub_h);
		html_esc(b, lanes[l]);
		bput(b, "</text>");
	}
	struct rep_buf d = {0};
	for (size_t k = 0; k < n; k++) {
		const struct rep_op *op = &r->h.ops[ops[k]];
		int64_t end = op->outcome == REP_OUT_OK || op->outcome == REP_OUT_FAIL ? op->complete_ns
										      : r->t1;
		double x0 = xpos(r, op->invoke_ns), x1 = xpos(r, end);
		double w = x1 - x0 < 1.5 ? 1.5 : x1 - x0;
		double oy = y[lane_of[k]] + sub_of[k] * sub_h;
		bool failing = r->has_failing && ops[k] == r->failing_op;
		rep__buf_printf(b, "<rect class=\"op %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				   "height=\"%.1f\" fill=\"%s\"%s%s><title>",
				rep_outcome_name(op->outcome), x0, oy, w, sub_h - 2,
				op_color(op->outcome),
				op->outcome == REP_OUT_INFO || op->outcome == REP_OUT_PENDING
					? " fill-opacity=\"0.45\""
					: "",
				failing ? " stroke=\"#000\" stroke-width=\"2\"" : "");
		d.len = 0;
		rep__op_describe(&d, op);
		rep__buf_printf(b, "op %zu: ", ops[k]);
		html_esc(b, d.p ? (char *)d.p : "");
		bput(b, "</title></rect>");
		if (label_ops) {
			rep__buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">", x0 + 2,
					oy + sub_h - 5);
			html_esc(b, d.p ? (char *)d.p : "");
			bput(b, "</text>");
		}
	}
	rep__buf_free(&d);
	time_axis(b, r, yy);
	bput(b, "</svg>");
	free(y);
out_free:
	for (size_t l = 0; l < nl; l++)
		free(lanes[l]);
	free(lanes);
	free(last);
	free(subs);
	free(lane_of);
	free(sub_of);
}

/* Latency p50/p99 and throughput per time bucket. */
static void perf_plots(struct rep_buf *b, const struct report *r)
{
	enum { NB = 60 };
	int64_t *lat[NB] = {0};
	size_t nlat[NB] = {0}, cap[NB] = {0};
	double bucket_s = (double)(r->t1 - r->t0) / 1e9 / NB;
	for (size_t i = 0; i < r->h.n; i++) {
		const struct rep_op *op = &r->h.ops[i];
		if (op->outcome != REP_OUT_OK)
			continue;
		int k = (int)((double)(op->complete_ns - r->t0) / (double)(r->t1 - r->t0) * NB);
		if (k < 0)
			k = 0;
		if (k >= NB)
			k = NB - 1;
		if (nlat[k] == cap[k]) {
			cap[k] = cap[k] ? cap[k] * 2 : 64;
			int64_t *m = realloc(lat[k], cap[k] * sizeof *m);
			if (m == NULL)
				goto out_free;
			lat[k] = m;
		}
		lat[k][nlat[k]++] = op->complete_ns - op->invoke_ns;
	}
	double p50[NB], p99[NB], thr[NB], maxl = 0, maxt = 0;
	for (int k = 0; k < NB; k++) {
		if (nlat[k] > 1) /* an empty bucket has no array: qsort(NULL) is UB */
			qsort(lat[k], nlat[k], sizeof *lat[k], cmp_i64);
		p50[k] = nlat[k] ? (double)lat[k][(nlat[k] - 1) / 2] / 1e6 : NAN;
		p99[k] = nlat[k] ? (double)lat[k][(size_t)((double)(nlat[k] - 1) * 0.99)] / 1e6 : NAN;
		thr[k] = bucket_s > 0 ? (double)nlat[k] / bucket_s : 0;
		if (nlat[k] && p99[k] > maxl)
			maxl = p99[k];
		if (thr[k] > maxt)
			maxt = thr[k];
	}
	if (maxl <= 0)
		maxl = 1;
	if (maxt <= 0)
		maxt = 1;
	const double H = 150;
	for (int plot = 0; plot < 2; plot++) {
		rep__buf_printf(b, "<svg id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
				   "height=\"%.0f\">",
				plot == 0 ? "latency" : "throughput", W, H + 40);
		fault_bands(b, r, 10, H);
		double top = plot == 0 ? maxl : maxt;
		char lab[32];
		if (plot == 0)
			fmt_dur(lab, sizeof lab, top / 1e3);
		else
			snprintf(lab, sizeof lab, "%.3g ok/s", top);
		rep__buf_printf(b, "<text x=\"4\" y=\"20\" font-size=\"11\">%s</text>"
				   "<text x=\"4\" y=\"%.0f\" font-size=\"11\">0</text>",
				lab, H + 10);
		if (plot == 1)
			bput(b, "<text x=\"60\" y=\"60\" font-size=\"11\" fill=\"#1d3557\">"
				"throughput</text>");
		for (int series = 0; series < (plot == 0 ? 2 : 1); series++) {
			const double *v = plot == 1 ? thr : series == 0 ? p50 : p99;
			const char *color = plot == 1 ? "#1d3557" : series == 0 ? "#457b9d" : "#e63946";
			rep__buf_printf(b, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" "
					   "stroke-width=\"1.5\" points=\"",
					plot == 1 ? "throughput" : series == 0 ? "p50" : "p99", color);
			for (int k = 0; k < NB; k++) {
				if (isnan(v[k]))
					continue;
				double x = LM + (W - LM - 10) * (k + 0.5) / NB;
				double yv = 10 + H - v[k] / top * H;
				rep__buf_printf(b, "%.1f,%.1f ", x, yv);
			}
			bput(b, "\"/>");
		}
		if (plot == 0)
			bput(b, "<text x=\"60\" y=\"60\" font-size=\"11\" fill=\"#457b9d\">p50</text>"
					"<text x=\"60\" y=\"75\" font-size=\"11\" fill=\"#e63946\">p99</text>");
		time_axis(b, r, H + 12);
		bput(b, "</svg>");
	}
out_free:
	for (int k = 0; k < NB; k++)
		free(lat[k]);
}

static void avail_table(struct rep_buf *b, const struct report *r)
{
	rep__buf_printf(b, "<h2>Availability</h2><p>Share of each client's operations invoked in a "
			   "window that completed ok within %s.</p>",
			r->op_timeout_ns ? "the timeout" : "the run (no timeout recorded)");
	bput(b, "<table id=\"availability\"><tr><th>client</th><th>rack</th><th>window</th>"
			"<th>ops</th><th>ok in time</th><th>share</th></tr>");
	for (size_t i = 0; i < r->navail; i++) {
		const struct rep_avail *a = &r->avail[i];
		bput(b, "<tr><td>");
		html_esc(b, a->client);
		bput(b, "</td><td>");
		html_esc(b, rack_of(r, a->client));
		bput(b, "</td><td>");
		html_esc(b, a->window);
		rep__buf_printf(b, "</td><td>%llu</td><td>%llu</td><td><svg width=\"104\" height=\"12\">"
				   "<rect width=\"100\" height=\"10\" fill=\"#eee\"/><rect width=\"%.1f\" "
				   "height=\"10\" fill=\"%s\"/></svg> %.1f%%</td></tr>",
				(unsigned long long)a->ops, (unsigned long long)a->ok_in_time,
				a->share * 100, a->share >= 0.99 ? "#2b9348" : a->share >= 0.5 ? "#e9c46a" : "#d62828",
				a->share * 100);
	}
	bput(b, "</table>");
	struct rack_avail ra[256];
	size_t nra = rack_rows(r, ra, 256);
	if (nra) {
		bput(b, "<table id=\"availability-racks\"><tr><th>rack</th><th>window</th>"
				"<th>ops</th><th>share</th></tr>");
		for (size_t i = 0; i < nra; i++) {
			bput(b, "<tr><td>");
			html_esc(b, ra[i].rack);
			bput(b, "</td><td>");
			html_esc(b, ra[i].window);
			rep__buf_printf(b, "</td><td>%llu</td><td>%.1f%%</td></tr>",
					(unsigned long long)ra[i].ops,
					ra[i].ops ? 100.0 * (double)ra[i].ok / (double)ra[i].ops : 100.0);
		}
		bput(b, "</table>");
	}
}

static const char css[] =
	"body{font-family:sans-serif;margin:20px;color:#222}"
	"h1{font-size:20px}h2{font-size:16px;margin-top:28px}"
	".verdict{font-size:28px;font-weight:bold;padding:12px 16px;border-radius:6px;"
	"display:inline-block}"
	".v-linearizable{background:#d8f3dc;color:#1b4332}"
	".v-not{background:#ffccd5;color:#800f2f}.v-unknown{background:#fff3b0;color:#7f5539}"
	"table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;"
	"text-align:left}.legend span{display:inline-block;width:12px;height:10px;margin:0 4px 0 12px}"
	"pre{background:#f6f6f6;padding:8px;font-size:12px;overflow-x:auto}";

/* Writes the loaded report as html. REP_EIO, REP_ENOMEM. */
static int write_html(const struct report *rp, FILE *out)
{
	struct report r = *rp; /* a view: nothing here is freed */
	int rc = 0;
	struct rep_buf b = {0};
	const char *v = verdict_of(&r);
	const char *vclass = strcmp(v, "linearizable") == 0 ? "v-linearizable"
			     : strcmp(v, "NOT linearizable") == 0 ? "v-not"
								  : "v-unknown";
	bput(&b, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>physalia run ");
	html_esc(&b, r.campaign);
	rep__buf_printf(&b, "</title><style>%s</style></head><body>", css);
	bput(&b, "<h1>physalia run report");
	if (r.has_run) {
		bput(&b, ": ");
		html_esc(&b, r.campaign);
		rep__buf_printf(&b, ", seed %lld", (long long)r.seed);
	}
	bput(&b, "</h1>");
	rep__buf_printf(&b, "<div id=\"verdict\" class=\"verdict %s\">Verdict: ", vclass);
	html_esc(&b, v);
	bput(&b, "</div>");
	rep__buf_printf(&b, "<p id=\"summary\">Operations: <b id=\"op-count\">%zu</b> (%zu ok, %zu "
			    "fail, %zu info, %zu pending). Latency p50 %.3f ms, p99 %.3f ms. "
			    "Throughput %.1f ok ops/s over %.3f s. Faults: %zu. Checker: ",
			r.h.n, r.n_ok, r.n_fail, r.n_info, r.n_pending, r.p50_ms, r.p99_ms,
			r.ops_per_s, secs(&r, r.t1), r.nfaults);
	html_esc(&b, r.checker);
	bput(&b, ".");
	if (r.has_run) {
		bput(&b, " Version ");
		html_esc(&b, r.version);
		bput(&b, ".");
	}
	bput(&b, "</p>");
	avail_table(&b, &r);
	/* the violation, on its own timeline */
	if (r.has_failing && r.nwindow > 0) {
		struct rep_buf d = {0};
		rep__op_describe(&d, &r.h.ops[r.failing_op]);
		rep__buf_printf(&b, "<h2>Violation</h2><p id=\"violation\">Op %zu cannot be "
				    "linearized: <code>",
				r.failing_op);
		html_esc(&b, d.p ? (char *)d.p : "");
		rep__buf_printf(&b, "</code>. The smallest window of %zu operations that cannot be "
				    "linearized (outlined: the failing op):</p>",
				r.nwindow);
		const char *st = strstr(r.check_json, "\"states\":[");
		const char *se = st ? strstr(st, "],\"states_truncated\"") : NULL;
		if (st != NULL && se != NULL) {
			bput(&b, "<p id=\"states\">States the model could be in just before it: <code>");
			/* the JSON strings back to their EDN text, comma separated */
			char *tmp = malloc((size_t)(se - st) + 1);
			if (tmp != NULL) {
				size_t k = 0;
				bool in = false;
				for (const char *q = st + 10; q < se; q++) {
					if (!in) {
						if (*q == '"') {
							in = true;
							if (k > 0) {
								tmp[k++] = ',';
								tmp[k++] = ' ';
							}
						}
						continue;
					}
					if (*q == '"') {
						in = false;
					} else if (*q == '\\' && q + 1 < se) {
						q++;
						if (*q == 'u' && q + 4 < se) {
							tmp[k++] = (char)strtol((char[]){q[3], q[4], 0}, NULL, 16);
							q += 4;
						} else {
							tmp[k++] = *q == 'n' ? '\n' : *q;
						}
					} else {
						tmp[k++] = *q;
					}
				}
				tmp[k] = 0;
				html_esc(&b, tmp);
				free(tmp);
			}
			bput(&b, "</code></p>");
		}
		rep__buf_free(&d);
		struct report rv = r; /* the same history, time span of the window */
		rv.t0 = INT64_MAX;
		rv.t1 = INT64_MIN;
		for (size_t i = 0; i < r.nwindow; i++) {
			const struct rep_op *op = &r.h.ops[r.window[i]];
			if (op->invoke_ns < rv.t0)
				rv.t0 = op->invoke_ns;
			int64_t e = op->outcome == REP_OUT_OK || op->outcome == REP_OUT_FAIL
					    ? op->complete_ns
					    : op->invoke_ns;
			if (e > rv.t1)
				rv.t1 = e;
		}
		int64_t pad = (rv.t1 - rv.t0) / 10 + 1;
		rv.t0 -= pad;
		rv.t1 += pad;
		rv.nfaults = 0;
		timeline(&b, &rv, r.window, r.nwindow, "violation-timeline", true);
	}
	bput(&b, "<h2>Timeline</h2><p class=\"legend\">operations:<span style=\"background:"
			 "#2b9348\"></span>ok<span style=\"background:#d62828\"></span>fail<span "
			 "style=\"background:#8d99ae\"></span>info / pending; bands: faults; dashed: "
			 "node events</p>");
	{
		size_t n = r.h.n < MAX_DRAWN ? r.h.n : MAX_DRAWN;
		size_t *idx = malloc((n + 1) * sizeof *idx);
		if (idx != NULL) {
			for (size_t i = 0; i < n; i++)
				idx[i] = i;
			if (n < r.h.n)
				rep__buf_printf(&b, "<p>First %zu of %zu operations drawn.</p>", n, r.h.n);
			timeline(&b, &r, idx, n, "timeline", false);
			free(idx);
		}
	}
	bput(&b, "<h2>Latency (p50, p99) and throughput over time</h2>");
	perf_plots(&b, &r);
	/* faults and the rest */
	bput(&b, "<h2>Faults</h2><table id=\"faults\"><tr><th>nemesis</th><th>targets</th>"
			 "<th>params</th><th>start</th><th>end</th></tr>");
	for (size_t i = 0; i < r.nfaults; i++) {
		const struct rep_fault *f = &r.faults[i];
		bput(&b, "<tr><td>");
		html_esc(&b, f->nemesis);
		bput(&b, "</td><td>");
		html_esc(&b, f->targets);
		bput(&b, "</td><td>");
		html_esc(&b, f->params);
		rep__buf_printf(&b, "</td><td>%.3f s</td><td>", secs(&r, f->start_ns));
		if (f->end_ns >= 0)
			rep__buf_printf(&b, "%.3f s", secs(&r, f->end_ns));
		else
			bput(&b, "never stopped");
		bput(&b, "</td></tr>");
	}
	bput(&b, "</table>");
	if (r.nevents) {
		bput(&b, "<h2>Node events</h2><table><tr><th>time</th><th>node</th><th>event"
				 "</th><th>detail</th></tr>");
		for (size_t i = 0; i < r.nevents; i++) {
			rep__buf_printf(&b, "<tr><td>%.3f s</td><td>", secs(&r, r.events[i].t));
			html_esc(&b, r.events[i].node);
			bput(&b, "</td><td>");
			html_esc(&b, r.events[i].kind);
			bput(&b, "</td><td>");
			html_esc(&b, r.events[i].detail);
			bput(&b, "</td></tr>");
		}
		bput(&b, "</table>");
	}
	if (r.npkts) {
		bput(&b, "<h2>Packet decisions</h2><table><tr><th>decision</th><th>packets"
				 "</th><th>bytes</th></tr>");
		for (size_t i = 0; i < r.npkts; i++) {
			bput(&b, "<tr><td>");
			html_esc(&b, r.pkts[i].decision);
			rep__buf_printf(&b, "</td><td>%lld</td><td>%lld</td></tr>",
					(long long)r.pkts[i].count, (long long)r.pkts[i].bytes);
		}
		bput(&b, "</table>");
	}
	if (r.nartifacts) {
		bput(&b, "<h2>Artifacts</h2><table><tr><th>kind</th><th>path</th><th>bytes"
				 "</th></tr>");
		for (size_t i = 0; i < r.nartifacts; i++) {
			bput(&b, "<tr><td>");
			html_esc(&b, r.artifacts[i].kind);
			bput(&b, "</td><td>");
			html_esc(&b, r.artifacts[i].path);
			rep__buf_printf(&b, "</td><td>%lld</td></tr>", (long long)r.artifacts[i].bytes);
		}
		bput(&b, "</table>");
	}
	bput(&b, "<h2>Checker result</h2><pre id=\"check-json\">");
	html_esc(&b, r.check_json);
	bput(&b, "</pre></body></html>\n");
	rc = b.p == NULL ? REP_ENOMEM : fwrite(b.p, 1, b.len, out) == b.len ? 0 : REP_EIO;
	rep__buf_free(&b);
	return rc;
}

int rep_report_html(struct rep_db *db, FILE *out, struct rep_error *err)
{
	struct report r;
	int rc = report_load(db, &r, err);
	if (rc == 0)
		rc = write_html(&r, out);
	report_free(&r);
	return rc;
}

/* --------------------------------------------------------------- command */

static void report_usage(FILE *f)
{
	fprintf(f, "usage: report RUN.db [--json] [-o FILE]\n"
		   "  Writes the run's HTML report to FILE (default: RUN.html beside RUN.db) and\n"
		   "  prints a text summary (or JSON with --json) on stdout.\n"
		   "  Exit status: 0 report written, 2 error.\n");
}

int rep_cli_report(int argc, char **argv)
{
	const char *dbpath = NULL, *outpath = NULL;
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			outpath = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			report_usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' || dbpath != NULL) {
			fprintf(stderr, "report: unexpected argument '%s'\n", argv[i]);
			report_usage(stderr);
			return 2;
		} else {
			dbpath = argv[i];
		}
	}
	if (dbpath == NULL) {
		report_usage(stderr);
		return 2;
	}
	char defpath[4096];
	if (outpath == NULL) {
		size_t n = strlen(dbpath);
		if (n > 3 && strcmp(dbpath + n - 3, ".db") == 0)
			n -= 3;
		if (n + 6 > sizeof defpath) {
			fprintf(stderr, "report: path too long\n");
			return 2;
		}
		memcpy(defpath, dbpath, n);
		memcpy(defpath + n, ".html", 6);
		outpath = defpath;
	}
	struct rep_db *db;
	int rc = rep_db_open(dbpath, true, &db);
	if (rc != 0) {
		fprintf(stderr, "report: %s: %s\n", dbpath, rep_strerror(rc));
		return 2;
	}
	struct rep_error err = {0};
	FILE *f = fopen(outpath, "w");
	if (f == NULL) {
		fprintf(stderr, "report: cannot write %s\n", outpath);
		rep_db_close(db);
		return 2;
	}
	/* loaded (and, without a stored check, checked) once for both outputs */
	struct report r;
	rc = report_load(db, &r, &err);
	if (rc == 0)
		rc = write_html(&r, f);
	if (fclose(f) != 0 && rc == 0)
		rc = REP_EIO;
	if (rc == 0)
		rc = json ? write_json(&r, stdout) : write_text(&r, stdout);
	report_free(&r);
	if (rc == 0 && !json)
		printf("report: %s\n", outpath);
	rep_db_close(db);
	if (rc != 0) {
		if (err.msg[0])
			fprintf(stderr, "report: %s: %s: %s\n", dbpath, err.file, err.msg);
		else
			fprintf(stderr, "report: %s: %s\n", dbpath, rep_strerror(rc));
		return 2;
	}
	return 0;
}
