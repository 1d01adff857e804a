/* Campaign files: YAML (libfyaml) in, struct chaos_campaign out; the seeded
 * generator; the writer that round-trips; semantic validation.
 * The format is documented in docs/campaign.md. Every error names
 * file:line:column (1-based) of the offending key or value. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <libfyaml.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaos.h"
#include "internal.h"

#define MAX_FAULTS 4096

static const char *const nemesis_names[CHAOS_NEM__COUNT] = {
	[CHAOS_NEM_PARTITION] = "partition",
	[CHAOS_NEM_PARTITION_ONEWAY] = "partition-oneway",
	[CHAOS_NEM_HALVES] = "halves",
	[CHAOS_NEM_MAJORITY] = "majority",
	[CHAOS_NEM_BRIDGE] = "bridge",
	[CHAOS_NEM_LOSS] = "loss",
	[CHAOS_NEM_DELAY] = "delay",
	[CHAOS_NEM_REORDER] = "reorder",
	[CHAOS_NEM_DUPLICATE] = "duplicate",
	[CHAOS_NEM_CORRUPT] = "corrupt",
	[CHAOS_NEM_BANDWIDTH] = "bandwidth",
	[CHAOS_NEM_KILL] = "kill",
	[CHAOS_NEM_PAUSE] = "pause",
	[CHAOS_NEM_ROLLING_RESTART] = "rolling-restart",
	[CHAOS_NEM_DISK] = "disk",
	[CHAOS_NEM_CLOCK] = "clock",
	[CHAOS_NEM_ROLLBACK] = "rollback",
};

const char *chaos_nemesis_name(enum chaos_nemesis n)
{
	if (n > 0 && n < CHAOS_NEM__COUNT)
		return nemesis_names[n];
	return NULL;
}

enum chaos_nemesis chaos_nemesis_parse(const char *name)
{
	for (int i = 1; i < CHAOS_NEM__COUNT; i++)
		if (strcmp(name, nemesis_names[i]) == 0)
			return (enum chaos_nemesis)i;
	return 0;
}

static const char *const target_names[CHAOS_TGT__COUNT] = {
	[CHAOS_TGT_HOST] = "host",
	[CHAOS_TGT_RACK] = "rack",
	[CHAOS_TGT_POWER] = "power",
	[CHAOS_TGT_ROW] = "row",
	[CHAOS_TGT_PROPOSER] = "proposer",
	[CHAOS_TGT_RANDOM_MINORITY] = "random-minority",
	[CHAOS_TGT_CLIENTS_OF_RACK] = "clients-of-rack",
	[CHAOS_TGT_ALL_NODES] = "all-nodes",
};

static const char *const disk_modes[] = { "fsync-fail", "write-fail", "open-fail", NULL };

void chaos_campaign_defaults(struct chaos_campaign *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->name, sizeof c->name, "campaign");
	c->seed = 1;
	c->jury_size = 7;
	c->cells = 20;
	snprintf(c->placement, sizeof c->placement, "auto");
	c->duration_s = 60;
	c->check_budget_s = 30;
	c->pcap_max_mb = 16;
	c->workload.clients_per_host = 2;
	c->workload.mix = (struct chaos_op_mix){ 40, 30, 10, 15, 5 };
	c->workload.rate = 20;
	c->workload.keys = 8;
	c->workload.dist = CHAOS_KEYS_UNIFORM;
	c->workload.zipf_s = 1.1;
	c->workload.timeout_ms = 2000;
}

void chaos_campaign_free(struct chaos_campaign *c)
{
	if (c == NULL)
		return;
	free(c->faults);
	free(c);
}

/* ------------------------------------------------------------ the parser */

struct parser {
	const char *name;
	char *err;
	size_t errlen;
	int failed;
};

static void mark_of(struct fy_node *n, int *line, int *col)
{
	*line = 0;
	*col = 0;
	if (n == NULL)
		return;
	struct fy_token *t = fy_node_get_scalar_token(n);
	if (t == NULL)
		return;
	const struct fy_mark *m = fy_token_start_mark(t);
	if (m != NULL) {
		*line = m->line + 1;
		*col = m->column + 1;
	}
}

/* Records the first error only: "name:line:column: message". at is the node
 * the error is about (a scalar: its position; otherwise the key's). */
static int fail(struct parser *p, struct fy_node *at, const char *fmt, ...)
{
	if (p->failed)
		return CHAOS_ESYNTAX;
	p->failed = 1;
	int line, col;
	mark_of(at, &line, &col);
	int n = snprintf(p->err, p->errlen, "%s:%d:%d: ", p->name, line, col);
	if (n < 0 || (size_t)n >= p->errlen)
		return CHAOS_ESYNTAX;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return CHAOS_ESYNTAX;
}

/* A scalar's text, NUL-terminated into buf. */
static int scalar(struct parser *p, struct fy_node *key, struct fy_node *v, char *buf,
		  size_t cap)
{
	if (v == NULL || fy_node_is_alias(v))
		return fail(p, key, "aliases are not supported here");
	if (!fy_node_is_scalar(v))
		return fail(p, key, "expected a plain value, found a %s",
			    fy_node_is_mapping(v) ? "mapping" : "sequence");
	size_t len;
	const char *s = fy_node_get_scalar(v, &len);
	if (s == NULL || len >= cap)
		return fail(p, v, "value too long (at most %zu characters)", cap - 1);
	if (memchr(s, '\0', len) != NULL)
		return fail(p, v, "value contains a NUL byte");
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}

static int get_double(struct parser *p, struct fy_node *key, struct fy_node *v, double lo,
		      double hi, double *out)
{
	char buf[64];
	if (scalar(p, key, v, buf, sizeof buf) != 0)
		return CHAOS_ESYNTAX;
	double d;
	if (chaos_parse_double(buf, &d) != 0 || isinf(d))
		return fail(p, v, "'%s' is not a number", buf);
	if (d < lo || d > hi)
		return fail(p, v, "%s is out of range [%g, %g]", buf, lo, hi);
	*out = d;
	return 0;
}

/* Seconds: a number, or a number with suffix "s", "ms" or "m". */
static int get_seconds(struct parser *p, struct fy_node *key, struct fy_node *v, double hi,
		       double *out)
{
	char buf[64];
	if (scalar(p, key, v, buf, sizeof buf) != 0)
		return CHAOS_ESYNTAX;
	size_t n = strlen(buf);
	double scale = 1;
	if (n > 2 && strcmp(buf + n - 2, "ms") == 0) {
		scale = 0.001;
		buf[n - 2] = '\0';
	} else if (n > 2 && strcmp(buf + n - 2, "us") == 0) {
		scale = 0.000001;
		buf[n - 2] = '\0';
	} else if (n > 1 && buf[n - 1] == 's') {
		buf[n - 1] = '\0';
	} else if (n > 1 && buf[n - 1] == 'm') {
		scale = 60;
		buf[n - 1] = '\0';
	}
	double d;
	if (chaos_parse_double(buf, &d) != 0 || isinf(d))
		return fail(p, v, "'%s' is not a duration (seconds, or 250us, 500ms, 10s, 2m)",
			    fy_node_get_scalar0(v));
	d *= scale;
	if (d < 0 || d > hi)
		return fail(p, v, "duration %g s is out of range [0, %g]", d, hi);
	*out = d;
	return 0;
}

static int get_u32(struct parser *p, struct fy_node *key, struct fy_node *v, uint32_t lo,
		   uint32_t hi, uint32_t *out)
{
	char buf[64];
	if (scalar(p, key, v, buf, sizeof buf) != 0)
		return CHAOS_ESYNTAX;
	uint64_t u;
	if (chaos_parse_u64(buf, &u) != 0)
		return fail(p, v, "'%s' is not a non-negative integer", buf);
	if (u < lo || u > hi)
		return fail(p, v, "%s is out of range [%u, %u]", buf, lo, hi);
	*out = (uint32_t)u;
	return 0;
}

static int get_name(struct parser *p, struct fy_node *key, struct fy_node *v, char *out,
		    size_t cap)
{
	char buf[CHAOS_PATH_MAX];
	if (scalar(p, key, v, buf, cap < sizeof buf ? cap : sizeof buf) != 0)
		return CHAOS_ESYNTAX;
	if (buf[0] == '\0')
		return fail(p, v, "empty name");
	for (const char *s = buf; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '"' || *s == '\\')
			return fail(p, v, "name contains a control character, quote or backslash");
	snprintf(out, cap, "%s", buf);
	return 0;
}

/* Iterates a mapping's pairs, calling fn(key text, key node, value node). */
typedef int (*pair_fn)(struct parser *p, const char *k, struct fy_node *kn,
		       struct fy_node *v, void *ud);

static int each_pair(struct parser *p, struct fy_node *at, struct fy_node *map, const char *what,
		     pair_fn fn, void *ud)
{
	if (map == NULL || fy_node_is_alias(map))
		return fail(p, at, "%s: aliases are not supported", what);
	if (!fy_node_is_mapping(map))
		return fail(p, fy_node_is_scalar(map) ? map : at, "%s must be a mapping (key: value)",
			    what);
	void *it = NULL;
	struct fy_node_pair *pair;
	while ((pair = fy_node_mapping_iterate(map, &it)) != NULL) {
		struct fy_node *kn = fy_node_pair_key(pair);
		struct fy_node *vn = fy_node_pair_value(pair);
		char key[64];
		if (kn == NULL || !fy_node_is_scalar(kn))
			return fail(p, at, "%s: keys must be plain words", what);
		if (scalar(p, kn, kn, key, sizeof key) != 0)
			return CHAOS_ESYNTAX;
		if (vn == NULL)
			return fail(p, kn, "'%s' has no value", key);
		int rc = fn(p, key, kn, vn, ud);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int mix_pair(struct parser *p, const char *k, struct fy_node *kn, struct fy_node *v,
		    void *ud)
{
	struct chaos_op_mix *m = ud;
	uint32_t *slot = strcmp(k, "read") == 0	       ? &m->read :
			 strcmp(k, "put") == 0	       ? &m->put :
			 strcmp(k, "cas") == 0	       ? &m->cas :
			 strcmp(k, "increment") == 0 ? &m->increment :
			 strcmp(k, "compound") == 0  ? &m->compound :
						       NULL;
	if (slot == NULL)
		return fail(p, kn,
			    "unknown operation '%s' (read, put, cas, increment, compound)", k);
	return get_u32(p, kn, v, 0, 1000000, slot);
}

static int workload_pair(struct parser *p, const char *k, struct fy_node *kn, struct fy_node *v,
			 void *ud)
{
	struct chaos_workload *w = ud;
	if (strcmp(k, "clients_per_host") == 0)
		return get_u32(p, kn, v, 1, 256, &w->clients_per_host);
	if (strcmp(k, "mix") == 0) {
		w->mix = (struct chaos_op_mix){ 0, 0, 0, 0, 0 };
		int rc = each_pair(p, kn, v, "mix", mix_pair, &w->mix);
		if (rc == 0 && w->mix.read + w->mix.put + w->mix.cas + w->mix.increment +
					       w->mix.compound == 0)
			return fail(p, kn, "mix: at least one operation needs a weight above 0");
		return rc;
	}
	if (strcmp(k, "rate") == 0) {
		if (fy_node_is_scalar(v) && strcmp(fy_node_get_scalar0(v), "closed") == 0) {
			w->rate = 0;
			return 0;
		}
		return get_double(p, kn, v, 0.001, 100000, &w->rate);
	}
	if (strcmp(k, "keys") == 0)
		return get_u32(p, kn, v, 1, 1000000, &w->keys);
	if (strcmp(k, "distribution") == 0) {
		char buf[32];
		if (scalar(p, kn, v, buf, sizeof buf) != 0)
			return CHAOS_ESYNTAX;
		if (strcmp(buf, "uniform") == 0)
			w->dist = CHAOS_KEYS_UNIFORM;
		else if (strcmp(buf, "zipf") == 0)
			w->dist = CHAOS_KEYS_ZIPF;
		else
			return fail(p, v, "unknown distribution '%s' (uniform or zipf)", buf);
		return 0;
	}
	if (strcmp(k, "zipf_s") == 0)
		return get_double(p, kn, v, 0.01, 10, &w->zipf_s);
	if (strcmp(k, "timeout") == 0) {
		double s;
		if (get_seconds(p, kn, v, 3600, &s) != 0)
			return CHAOS_ESYNTAX;
		if (s < 0.001)
			return fail(p, v, "timeout must be at least 1ms");
		w->timeout_ms = (uint32_t)(s * 1000 + 0.5);
		return 0;
	}
	return fail(p, kn,
		    "unknown workload key '%s' (clients_per_host, mix, rate, keys, distribution, "
		    "zipf_s, timeout)",
		    k);
}

static int target_pair(struct parser *p, const char *k, struct fy_node *kn, struct fy_node *v,
		       void *ud)
{
	struct chaos_target *t = ud;
	if (t->kind != 0)
		return fail(p, kn, "a target names one thing; '%s' is a second one", k);
	for (int i = 1; i < CHAOS_TGT__COUNT; i++) {
		if (strcmp(k, target_names[i]) != 0)
			continue;
		t->kind = (enum chaos_target_kind)i;
		if (i == CHAOS_TGT_PROPOSER)
			return get_u32(p, kn, v, 0, UINT32_MAX - 1, &t->cell);
		if (i == CHAOS_TGT_RANDOM_MINORITY || i == CHAOS_TGT_ALL_NODES)
			return fail(p, kn, "'%s' takes no value: write `target: %s`", k, k);
		return get_name(p, kn, v, t->name, sizeof t->name);
	}
	return fail(p, kn,
		    "unknown target kind '%s' (host, rack, power, row, proposer, clients-of-rack, "
		    "or the words random-minority, all-nodes)",
		    k);
}

static int parse_target(struct parser *p, struct fy_node *kn, struct fy_node *v,
			struct chaos_target *t)
{
	memset(t, 0, sizeof *t);
	if (fy_node_is_scalar(v)) {
		char buf[32];
		if (scalar(p, kn, v, buf, sizeof buf) != 0)
			return CHAOS_ESYNTAX;
		if (strcmp(buf, "random-minority") == 0)
			t->kind = CHAOS_TGT_RANDOM_MINORITY;
		else if (strcmp(buf, "all-nodes") == 0)
			t->kind = CHAOS_TGT_ALL_NODES;
		else
			return fail(p, v,
				    "target '%s': write random-minority, all-nodes, or a mapping "
				    "like {rack: r1}",
				    buf);
		return 0;
	}
	int rc = each_pair(p, kn, v, "target", target_pair, t);
	if (rc == 0 && t->kind == 0)
		return fail(p, kn, "target names nothing");
	return rc;
}

struct fault_ctx {
	struct chaos_fault *f;
	int have_at, have_for, have_nemesis, have_target;
};

static int fault_pair(struct parser *p, const char *k, struct fy_node *kn, struct fy_node *v,
		      void *ud)
{
	struct fault_ctx *fc = ud;
	struct chaos_fault *f = fc->f;
	struct chaos_link_policy *l = &f->link;
	double d;
	if (strcmp(k, "at") == 0) {
		fc->have_at = 1;
		return get_seconds(p, kn, v, 86400, &f->at_s);
	}
	if (strcmp(k, "for") == 0) {
		fc->have_for = 1;
		return get_seconds(p, kn, v, 86400, &f->for_s);
	}
	if (strcmp(k, "nemesis") == 0) {
		char buf[32];
		if (scalar(p, kn, v, buf, sizeof buf) != 0)
			return CHAOS_ESYNTAX;
		f->nemesis = chaos_nemesis_parse(buf);
		if (f->nemesis == 0)
			return fail(p, v, "unknown nemesis '%s' (see docs/campaign.md)", buf);
		fc->have_nemesis = 1;
		return 0;
	}
	if (strcmp(k, "target") == 0) {
		fc->have_target = 1;
		return parse_target(p, kn, v, &f->target);
	}
	if (strcmp(k, "loss") == 0)
		return get_double(p, kn, v, 0, 1, &l->loss);
	if (strcmp(k, "burst") == 0)
		return get_u32(p, kn, v, 1, 1000, &l->loss_burst);
	if (strcmp(k, "delay") == 0 || strcmp(k, "jitter") == 0 || strcmp(k, "gap") == 0) {
		if (get_seconds(p, kn, v, 10, &d) != 0)
			return CHAOS_ESYNTAX;
		uint32_t us = (uint32_t)(d * 1e6 + 0.5);
		if (k[0] == 'd')
			l->delay_us = us;
		else if (k[0] == 'j')
			l->jitter_us = us;
		else
			l->reorder_gap_us = us;
		return 0;
	}
	if (strcmp(k, "reorder") == 0)
		return get_double(p, kn, v, 0, 1, &l->reorder);
	if (strcmp(k, "duplicate") == 0)
		return get_double(p, kn, v, 0, 1, &l->duplicate);
	if (strcmp(k, "corrupt") == 0)
		return get_double(p, kn, v, 0, 1, &l->corrupt);
	if (strcmp(k, "rate_kbit") == 0)
		return get_u32(p, kn, v, 8, 100000000, &f->rate_kbit);
	if (strcmp(k, "disk") == 0) {
		char buf[CHAOS_NAME_MAX];
		if (scalar(p, kn, v, buf, sizeof buf) != 0)
			return CHAOS_ESYNTAX;
		for (int i = 0; disk_modes[i] != NULL; i++)
			if (strcmp(buf, disk_modes[i]) == 0) {
				snprintf(f->disk, sizeof f->disk, "%s", buf);
				return 0;
			}
		return fail(p, v,
			    "unknown disk fault '%s' (fsync-fail, write-fail, open-fail; libfiu "
			    "cannot slow a call down)",
			    buf);
	}
	if (strcmp(k, "offset") == 0)
		return get_double(p, kn, v, -86400, 86400, &f->clock_offset_s);
	if (strcmp(k, "build") == 0)
		return get_name(p, kn, v, f->build, sizeof f->build);
	if (strcmp(k, "rate") == 0)
		return get_double(p, kn, v, 0.01, 100, &f->clock_rate);
	return fail(p, kn, "unknown fault key '%s'", k);
}

/* What each nemesis needs besides at/for/nemesis/target. */
static int fault_complete(struct parser *p, struct fy_node *at, struct fault_ctx *fc)
{
	struct chaos_fault *f = fc->f;
	if (!fc->have_nemesis)
		return fail(p, at, "fault without 'nemesis'");
	if (!fc->have_at)
		return fail(p, at, "fault without 'at' (when it starts)");
	if (!fc->have_for)
		return fail(p, at, "fault without 'for' (how long it lasts)");
	int needs_target = f->nemesis != CHAOS_NEM_HALVES && f->nemesis != CHAOS_NEM_MAJORITY &&
			   f->nemesis != CHAOS_NEM_BRIDGE;
	if (!fc->have_target) {
		if (needs_target)
			return fail(p, at, "%s needs a 'target'", chaos_nemesis_name(f->nemesis));
		f->target.kind = CHAOS_TGT_ALL_NODES;
	}
	const struct chaos_link_policy *l = &f->link;
	switch (f->nemesis) {
	case CHAOS_NEM_LOSS:
		if (l->loss <= 0)
			return fail(p, at, "loss needs 'loss' above 0");
		break;
	case CHAOS_NEM_DELAY:
		if (l->delay_us == 0)
			return fail(p, at, "delay needs 'delay' above 0");
		break;
	case CHAOS_NEM_REORDER:
		if (l->reorder <= 0)
			return fail(p, at, "reorder needs 'reorder' above 0");
		break;
	case CHAOS_NEM_DUPLICATE:
		if (l->duplicate <= 0)
			return fail(p, at, "duplicate needs 'duplicate' above 0");
		break;
	case CHAOS_NEM_CORRUPT:
		if (l->corrupt <= 0)
			return fail(p, at, "corrupt needs 'corrupt' above 0");
		break;
	case CHAOS_NEM_BANDWIDTH:
		if (f->rate_kbit == 0)
			return fail(p, at, "bandwidth needs 'rate_kbit'");
		break;
	case CHAOS_NEM_DISK:
		if (f->disk[0] == '\0')
			return fail(p, at, "disk needs 'disk' (fsync-fail, write-fail, ...)");
		break;
	case CHAOS_NEM_CLOCK:
		if (f->clock_offset_s == 0 && f->clock_rate == 0)
			return fail(p, at, "clock needs 'offset' or 'rate'");
		break;
	case CHAOS_NEM_ROLLBACK:
		if (f->build[0] == '\0')
			return fail(p, at, "rollback needs 'build' (the older physalia-node)");
		break;
	default:
		break;
	}
	return 0;
}

static int parse_faults(struct parser *p, struct fy_node *kn, struct fy_node *seq,
			struct chaos_campaign *c)
{
	if (fy_node_is_alias(seq) || !fy_node_is_sequence(seq))
		return fail(p, kn, "faults must be a list (- at: ...)");
	int n = fy_node_sequence_item_count(seq);
	if (n < 0 || n > MAX_FAULTS)
		return fail(p, kn, "at most %d faults", MAX_FAULTS);
	struct chaos_fault *fs = calloc(n > 0 ? (size_t)n : 1, sizeof *fs);
	if (fs == NULL)
		return CHAOS_ENOMEM;
	void *it = NULL;
	struct fy_node *item;
	int i = 0;
	while ((item = fy_node_sequence_iterate(seq, &it)) != NULL && i < n) {
		struct fault_ctx fc = { &fs[i], 0, 0, 0, 0 };
		/* The fault's position: its first key. */
		struct fy_node *first = kn;
		if (fy_node_is_mapping(item) && fy_node_mapping_item_count(item) > 0) {
			struct fy_node_pair *pr = fy_node_mapping_get_by_index(item, 0);
			if (pr != NULL && fy_node_pair_key(pr) != NULL)
				first = fy_node_pair_key(pr);
		}
		mark_of(first, &fs[i].line, &fs[i].column);
		int rc = each_pair(p, first, item, "a fault", fault_pair, &fc);
		if (rc == 0)
			rc = fault_complete(p, first, &fc);
		if (rc != 0) {
			free(fs);
			return rc;
		}
		i++;
	}
	free(c->faults);
	c->faults = fs;
	c->nfaults = (size_t)i;
	return 0;
}

static int top_pair(struct parser *p, const char *k, struct fy_node *kn, struct fy_node *v,
		    void *ud)
{
	struct chaos_campaign *c = ud;
	if (strcmp(k, "name") == 0)
		return get_name(p, kn, v, c->name, sizeof c->name);
	if (strcmp(k, "rack_model") == 0) {
		int rc = get_name(p, kn, v, c->rack_model, sizeof c->rack_model);
		if (rc == 0 && strcmp(c->rack_model, "default") == 0)
			c->rack_model[0] = '\0';
		return rc;
	}
	if (strcmp(k, "seed") == 0) {
		char buf[32];
		if (scalar(p, kn, v, buf, sizeof buf) != 0)
			return CHAOS_ESYNTAX;
		if (chaos_parse_u64(buf, &c->seed) != 0)
			return fail(p, v, "seed '%s' is not a non-negative integer", buf);
		return 0;
	}
	if (strcmp(k, "jury_size") == 0)
		return get_u32(p, kn, v, 3, 9, &c->jury_size);
	if (strcmp(k, "cells") == 0)
		return get_u32(p, kn, v, 1, 10000000, &c->cells);
	if (strcmp(k, "placement") == 0) {
		int rc = get_name(p, kn, v, c->placement, sizeof c->placement);
		if (rc == 0 && strcmp(c->placement, "auto") != 0 &&
		    strcmp(c->placement, "random") != 0)
			return fail(p, v, "placement is 'auto' or 'random'");
		return rc;
	}
	if (strcmp(k, "duration") == 0) {
		int rc = get_seconds(p, kn, v, 86400, &c->duration_s);
		if (rc == 0 && c->duration_s < 1)
			return fail(p, v, "duration must be at least 1s");
		return rc;
	}
	if (strcmp(k, "check_budget") == 0)
		return get_seconds(p, kn, v, 86400, &c->check_budget_s);
	if (strcmp(k, "pcap_max_mb") == 0)
		return get_u32(p, kn, v, 0, 100000, &c->pcap_max_mb);
	if (strcmp(k, "workload") == 0)
		return each_pair(p, kn, v, "workload", workload_pair, &c->workload);
	if (strcmp(k, "faults") == 0)
		return parse_faults(p, kn, v, c);
	return fail(p, kn,
		    "unknown key '%s' (name, rack_model, seed, jury_size, cells, placement, "
		    "duration, check_budget, pcap_max_mb, workload, faults)",
		    k);
}

/* A campaign is text: YAML's printable characters in UTF-8 (YAML 1.2, 5.1)
 * no tabs and no '' (below), checked before libfyaml sees the bytes: libfyaml 0.7.12 loops
 * forever on some invalid UTF-8 and double-frees after some tab sequences
 * (both found by fuzzing topology's rack models, same library). */
static int check_text(const char *name, const char *buf, size_t len, char *err, size_t errlen)
{
	static const uint32_t min_cp[4] = { 0, 0x80, 0x800, 0x10000 };
	const unsigned char *s = (const unsigned char *)buf;
	int line = 1, col = 1;
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		uint32_t cp, need;
		if (c < 0x80)
			cp = c, need = 0;
		else if ((c & 0xE0) == 0xC0)
			cp = c & 0x1F, need = 1;
		else if ((c & 0xF0) == 0xE0)
			cp = c & 0x0F, need = 2;
		else if ((c & 0xF8) == 0xF0)
			cp = c & 0x07, need = 3;
		else
			goto bad_utf8;
		if (i + need >= len)
			goto bad_utf8;
		for (uint32_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				goto bad_utf8;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if (cp < min_cp[need] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			goto bad_utf8;
		int printable = cp == 0x0A || cp == 0x0D || (cp >= 0x20 && cp <= 0x7E) ||
				cp == 0x85 || (cp >= 0xA0 && cp <= 0xFFFD && cp != 0xFEFF) ||
				(cp == 0xFEFF && i == 0) || cp >= 0x10000;
		if (cp == '\t') {
			snprintf(err, errlen, "%s:%d:%d: tab character: indent and space with spaces",
				 name, line, col);
			return CHAOS_ESYNTAX;
		}
		if (cp == '\'' && i + 1 < len && s[i + 1] == '\'') {
			/* libfyaml 0.7.12 leaks the text of single-quoted scalars
			 * with '' escapes; no campaign value needs a quote. */
			snprintf(err, errlen,
				 "%s:%d:%d: '' (an empty or escaped single-quoted string) is not "
				 "supported in a campaign",
				 name, line, col);
			return CHAOS_ESYNTAX;
		}
		if (!printable) {
			snprintf(err, errlen, "%s:%d:%d: character U+%04X is not allowed in YAML", name,
				 line, col, (unsigned)cp);
			return CHAOS_ESYNTAX;
		}
		if (cp == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
		i += need + 1;
		continue;
bad_utf8:
		snprintf(err, errlen, "%s:%d:%d: byte 0x%02X is not valid UTF-8", name, line, col, c);
		return CHAOS_ESYNTAX;
	}
	return 0;
}

int chaos_campaign_parse(const char *name, const char *text, size_t len,
			 struct chaos_campaign **out, char *err, size_t errlen)
{
	struct parser p = { name, err, errlen, 0 };
	int rc = 0;
	if (errlen > 0)
		err[0] = '\0';
	if (check_text(name, text, len, err, errlen) != 0)
		return CHAOS_ESYNTAX;

	struct chaos_campaign *c = malloc(sizeof *c);
	if (c == NULL)
		return CHAOS_ENOMEM;
	chaos_campaign_defaults(c);

	struct fy_diag_cfg dc;
	fy_diag_cfg_default(&dc);
	dc.fp = NULL;
	dc.colorize = false;
	struct fy_diag *diag = fy_diag_create(&dc);
	if (diag == NULL) {
		rc = CHAOS_ENOMEM;
		goto err_after_campaign;
	}
	fy_diag_set_collect_errors(diag, true);
	struct fy_parse_cfg pc = { NULL, FYPCF_QUIET | FYPCF_COLLECT_DIAG, NULL, diag };
	struct fy_document *doc = fy_document_build_from_string(&pc, text, len);
	if (doc == NULL) {
		void *it = NULL;
		struct fy_diag_error *e = fy_diag_errors_iterate(diag, &it);
		if (e != NULL)
			snprintf(err, errlen, "%s:%d:%d: %s", name, e->line, e->column, e->msg);
		else
			snprintf(err, errlen, "%s:1:1: empty campaign (no YAML document)", name);
		rc = CHAOS_ESYNTAX;
		goto err_after_diag;
	}
	struct fy_node *root = fy_document_root(doc);
	if (root == NULL) {
		snprintf(err, errlen, "%s:1:1: empty campaign", name);
		rc = CHAOS_ESYNTAX;
		goto err_after_doc;
	}
	rc = each_pair(&p, root, root, "a campaign", top_pair, c);
	if (rc != 0)
		goto err_after_doc;
	fy_document_destroy(doc);
	fy_diag_destroy(diag);
	*out = c;
	return 0;

err_after_doc:
	fy_document_destroy(doc);
err_after_diag:
	fy_diag_destroy(diag);
err_after_campaign:
	chaos_campaign_free(c);
	if (rc == CHAOS_ENOMEM)
		snprintf(err, errlen, "%s: out of memory", name);
	return rc;
}

int chaos_campaign_load(const char *path, struct chaos_campaign **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return CHAOS_ESYS;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			if (cap >= 16u << 20) {
				snprintf(err, errlen, "%s: larger than 16 MiB", path);
				free(buf);
				fclose(f);
				return CHAOS_ESYNTAX;
			}
			cap = cap ? cap * 2 : 8192;
			char *nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return CHAOS_ENOMEM;
			}
			buf = nb;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		if (got == 0)
			break;
		len += got;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		snprintf(err, errlen, "%s: read error", path);
		free(buf);
		return CHAOS_ESYS;
	}
	int rc = chaos_campaign_parse(path, buf, len, out, err, errlen);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------ validation */

int chaos_campaign_validate(const struct chaos_campaign *c, char *err, size_t errlen)
{
	if (c->jury_size < 3 || c->jury_size > 9) {
		snprintf(err, errlen, "jury_size %u is outside 3..9", c->jury_size);
		return CHAOS_EINVAL;
	}
	if (c->cells == 0 || c->duration_s < 1) {
		snprintf(err, errlen, "a campaign needs cells and a duration of at least 1s");
		return CHAOS_EINVAL;
	}
	const struct chaos_op_mix *m = &c->workload.mix;
	if (m->read + m->put + m->cas + m->increment + m->compound == 0) {
		snprintf(err, errlen, "the workload's mix has no operation");
		return CHAOS_EINVAL;
	}
	for (size_t i = 0; i < c->nfaults; i++) {
		const struct chaos_fault *f = &c->faults[i];
		if (f->at_s + f->for_s > c->duration_s + 1e-9) {
			snprintf(err, errlen,
				 "fault %zu (%s, line %d) ends at %g s, after the campaign's %g s", i + 1,
				 chaos_nemesis_name(f->nemesis), f->line, f->at_s + f->for_s,
				 c->duration_s);
			return CHAOS_EINVAL;
		}
	}
	return 0;
}

void chaos_campaign_scale(struct chaos_campaign *c, double duration_s)
{
	double k = duration_s / c->duration_s;
	for (size_t i = 0; i < c->nfaults; i++) {
		c->faults[i].at_s *= k;
		c->faults[i].for_s *= k;
	}
	c->duration_s = duration_s;
}

/* ------------------------------------------------------------- generator */

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t x = (r->s += 0x9e3779b97f4a7c15ULL);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(rng_next(r) % n);
}

/* Rounds to milliseconds so that a written campaign reads back equal. */
static double ms(double s)
{
	return floor(s * 1000 + 0.5) / 1000;
}

static int by_start(const void *a, const void *b)
{
	const struct chaos_fault *x = a, *y = b;
	return x->at_s < y->at_s ? -1 : x->at_s > y->at_s;
}

/* The default rack model's named things the generator may target: rows,
 * racks and power domains as topology's built-in model names them. Host
 * targets are avoided (they depend on the model); the runner resolves
 * rack/power/row names against whatever model is loaded. */
int chaos_campaign_generate(uint64_t seed, double duration_s, struct chaos_campaign **out)
{
	struct chaos_campaign *c = malloc(sizeof *c);
	if (c == NULL)
		return CHAOS_ENOMEM;
	chaos_campaign_defaults(c);
	c->seed = seed;
	snprintf(c->name, sizeof c->name, "seed-%" PRIu64, seed);
	if (duration_s > 0)
		c->duration_s = duration_s;
	struct rng r = { seed ^ 0x70687973616c6961ULL };

	c->cells = 10 + rng_below(&r, 31);
	c->workload.clients_per_host = 1 + rng_below(&r, 3);
	c->workload.rate = 5 + rng_below(&r, 26);
	c->workload.keys = 2 + rng_below(&r, 15);
	c->workload.dist = rng_below(&r, 2) ? CHAOS_KEYS_ZIPF : CHAOS_KEYS_UNIFORM;

	/* Faults in windows: the first 10% and last 15% stay quiet so the
	 * colony forms and the run ends healed. */
	size_t n = 2 + rng_below(&r, 5);
	c->faults = calloc(n, sizeof *c->faults);
	if (c->faults == NULL) {
		free(c);
		return CHAOS_ENOMEM;
	}
	static const enum chaos_nemesis pool[] = {
		CHAOS_NEM_PARTITION, CHAOS_NEM_MAJORITY, CHAOS_NEM_HALVES, CHAOS_NEM_BRIDGE,
		CHAOS_NEM_PARTITION_ONEWAY, CHAOS_NEM_LOSS, CHAOS_NEM_DELAY, CHAOS_NEM_REORDER,
		CHAOS_NEM_DUPLICATE, CHAOS_NEM_CORRUPT, CHAOS_NEM_KILL, CHAOS_NEM_PAUSE,
	};
	double lo = 0.10 * c->duration_s, hi = 0.85 * c->duration_s;
	for (size_t i = 0; i < n; i++) {
		struct chaos_fault *f = &c->faults[i];
		f->nemesis = pool[rng_below(&r, sizeof pool / sizeof pool[0])];
		f->at_s = ms(lo + rng_unit(&r) * (hi - lo) * 0.8);
		double room = hi - f->at_s;
		f->for_s = ms(room * (0.1 + 0.4 * rng_unit(&r)));
		if (f->for_s < 0.5)
			f->for_s = ms(room < 0.5 ? room : 0.5);
		switch (f->nemesis) {
		case CHAOS_NEM_HALVES:
		case CHAOS_NEM_MAJORITY:
		case CHAOS_NEM_BRIDGE:
			f->target.kind = CHAOS_TGT_ALL_NODES;
			break;
		case CHAOS_NEM_KILL:
		case CHAOS_NEM_PAUSE:
		case CHAOS_NEM_PARTITION:
		case CHAOS_NEM_PARTITION_ONEWAY:
			if (rng_below(&r, 2)) {
				f->target.kind = CHAOS_TGT_PROPOSER;
				f->target.cell = rng_below(&r, c->cells);
			} else {
				f->target.kind = CHAOS_TGT_RANDOM_MINORITY;
			}
			break;
		default:
			f->target.kind = CHAOS_TGT_ALL_NODES;
			break;
		}
		struct chaos_link_policy *l = &f->link;
		switch (f->nemesis) {
		case CHAOS_NEM_LOSS:
			l->loss = ms(0.05 + 0.3 * rng_unit(&r));
			l->loss_burst = 1 + rng_below(&r, 3);
			break;
		case CHAOS_NEM_DELAY:
			l->delay_us = 1000 * (1 + rng_below(&r, 50));
			l->jitter_us = l->delay_us / 2;
			break;
		case CHAOS_NEM_REORDER:
			l->reorder = ms(0.1 + 0.4 * rng_unit(&r));
			l->reorder_gap_us = 1000 * (5 + rng_below(&r, 30));
			break;
		case CHAOS_NEM_DUPLICATE:
			l->duplicate = ms(0.05 + 0.3 * rng_unit(&r));
			break;
		case CHAOS_NEM_CORRUPT:
			l->corrupt = ms(0.01 + 0.1 * rng_unit(&r));
			break;
		default:
			break;
		}
	}
	c->nfaults = n;
	qsort(c->faults, n, sizeof *c->faults, by_start);
	*out = c;
	return 0;
}

/* ---------------------------------------------------------------- writer */

static void write_target(FILE *f, const struct chaos_target *t)
{
	switch (t->kind) {
	case CHAOS_TGT_RANDOM_MINORITY:
	case CHAOS_TGT_ALL_NODES:
		fprintf(f, "%s", target_names[t->kind]);
		break;
	case CHAOS_TGT_PROPOSER:
		fprintf(f, "{proposer: %u}", t->cell);
		break;
	default:
		fprintf(f, "{%s: \"%s\"}", target_names[t->kind], t->name);
		break;
	}
}

int chaos_campaign_write(const struct chaos_campaign *c, FILE *f)
{
	const struct chaos_workload *w = &c->workload;
	fprintf(f, "# physalia-chaos campaign (docs/campaign.md)\n");
	fprintf(f, "name: \"%s\"\n", c->name);
	fprintf(f, "rack_model: \"%s\"\n", c->rack_model[0] ? c->rack_model : "default");
	fprintf(f, "seed: %" PRIu64 "\n", c->seed);
	fprintf(f, "jury_size: %u\ncells: %u\nplacement: %s\n", c->jury_size, c->cells,
		c->placement);
	fprintf(f, "duration: %.12g\ncheck_budget: %.12g\npcap_max_mb: %u\n", c->duration_s,
		c->check_budget_s, c->pcap_max_mb);
	fprintf(f, "workload:\n  clients_per_host: %u\n", w->clients_per_host);
	fprintf(f, "  mix: {read: %u, put: %u, cas: %u, increment: %u, compound: %u}\n",
		w->mix.read, w->mix.put, w->mix.cas, w->mix.increment, w->mix.compound);
	if (w->rate > 0)
		fprintf(f, "  rate: %.12g\n", w->rate);
	else
		fprintf(f, "  rate: closed\n");
	fprintf(f, "  keys: %u\n  distribution: %s\n  zipf_s: %.12g\n  timeout: %ums\n", w->keys,
		w->dist == CHAOS_KEYS_ZIPF ? "zipf" : "uniform", w->zipf_s, w->timeout_ms);
	fprintf(f, "faults:%s\n", c->nfaults == 0 ? " []" : "");
	for (size_t i = 0; i < c->nfaults; i++) {
		const struct chaos_fault *x = &c->faults[i];
		const struct chaos_link_policy *l = &x->link;
		fprintf(f, "  - at: %.12g\n    for: %.12g\n    nemesis: %s\n    target: ", x->at_s,
			x->for_s, chaos_nemesis_name(x->nemesis));
		write_target(f, &x->target);
		fprintf(f, "\n");
		if (l->loss > 0)
			fprintf(f, "    loss: %.12g\n", l->loss);
		if (l->loss_burst > 0)
			fprintf(f, "    burst: %u\n", l->loss_burst);
		if (l->delay_us > 0)
			fprintf(f, "    delay: %uus\n", l->delay_us);
		if (l->jitter_us > 0)
			fprintf(f, "    jitter: %uus\n", l->jitter_us);
		if (l->reorder > 0)
			fprintf(f, "    reorder: %.12g\n", l->reorder);
		if (l->reorder_gap_us > 0)
			fprintf(f, "    gap: %uus\n", l->reorder_gap_us);
		if (l->duplicate > 0)
			fprintf(f, "    duplicate: %.12g\n", l->duplicate);
		if (l->corrupt > 0)
			fprintf(f, "    corrupt: %.12g\n", l->corrupt);
		if (x->rate_kbit > 0)
			fprintf(f, "    rate_kbit: %u\n", x->rate_kbit);
		if (x->disk[0])
			fprintf(f, "    disk: %s\n", x->disk);
		if (x->clock_offset_s != 0)
			fprintf(f, "    offset: %.12g\n", x->clock_offset_s);
		if (x->clock_rate != 0)
			fprintf(f, "    rate: %.12g\n", x->clock_rate);
		if (x->build[0])
			fprintf(f, "    build: \"%s\"\n", x->build);
	}
	return ferror(f) ? CHAOS_ESYS : 0;
}
