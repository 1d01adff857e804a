/* Nemeses: a campaign fault turned into actions on hosts through the backend,
 * and healed again. Targets are resolved against the world (rack model names)
 * when the fault starts; what was hit is written into the fault's record.
 *
 * Partitions are sets of directed cuts (dst, src), each one DROP rule at
 * dst's ToR tagged with the fault's id; at heal, every rule's counter is
 * read (exact drop counts per link) before the rule is removed. Packet faults
 * are policies sent to every ToR's impairment engine; healing one rebuilds
 * the engines' policy lists from the faults still active. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "nemesis.h"

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = (*s += 0x9e3779b97f4a7c15ULL);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The node hosts in a seeded random order. */
static size_t shuffled_nodes(struct chaos_nemesis_ctx *x, size_t *out)
{
	size_t n = 0;
	for (size_t i = 0; i < x->w->nhosts; i++)
		if (x->w->hosts[i].node)
			out[n++] = i;
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(rng_next(&x->rng) % i);
		size_t t = out[i - 1];
		out[i - 1] = out[j];
		out[j] = t;
	}
	return n;
}

int chaos_target_resolve(struct chaos_nemesis_ctx *x, const struct chaos_target *t,
			 uint8_t *set, char *err, size_t errlen)
{
	const struct chaos_world *w = x->w;
	memset(set, 0, w->nhosts);
	size_t hit = 0;
	size_t order[CHAOS_HOSTS_MAX];
	switch (t->kind) {
	case CHAOS_TGT_HOST: {
		int h = chaos_world_find(w, t->name);
		if (h < 0) {
			snprintf(err, errlen, "no host named '%s' in the rack model", t->name);
			return CHAOS_ENOTFOUND;
		}
		set[h] = 1;
		return 0;
	}
	case CHAOS_TGT_RACK:
	case CHAOS_TGT_POWER:
	case CHAOS_TGT_ROW:
	case CHAOS_TGT_CLIENTS_OF_RACK: {
		char(*names)[64] = t->kind == CHAOS_TGT_POWER ? w->powers :
				   t->kind == CHAOS_TGT_ROW   ? w->rows :
								w->racks;
		size_t n = t->kind == CHAOS_TGT_POWER ? w->npowers :
			   t->kind == CHAOS_TGT_ROW   ? w->nrows :
							w->nracks;
		size_t idx = n;
		for (size_t i = 0; i < n; i++)
			if (strcmp(names[i], t->name) == 0)
				idx = i;
		if (idx == n) {
			snprintf(err, errlen, "no %s named '%s' in the rack model",
				 t->kind == CHAOS_TGT_POWER ? "power domain" :
				 t->kind == CHAOS_TGT_ROW   ? "row" :
							      "rack",
				 t->name);
			return CHAOS_ENOTFOUND;
		}
		for (size_t i = 0; i < w->nhosts; i++) {
			const struct chaos_host *h = &w->hosts[i];
			uint32_t v = t->kind == CHAOS_TGT_POWER ? h->power :
				     t->kind == CHAOS_TGT_ROW   ? h->row :
								  h->rack;
			if (v != idx)
				continue;
			if (t->kind == CHAOS_TGT_CLIENTS_OF_RACK && !h->client)
				continue;
			set[i] = 1;
			hit++;
		}
		if (hit == 0) {
			snprintf(err, errlen, "'%s' has no %s hosts", t->name,
				 t->kind == CHAOS_TGT_CLIENTS_OF_RACK ? "client" : "");
			return CHAOS_ENOTFOUND;
		}
		return 0;
	}
	case CHAOS_TGT_PROPOSER: {
		size_t h;
		if (x->proposer_of == NULL || x->proposer_of(x->ud, t->cell, &h) != 0) {
			snprintf(err, errlen,
				 "cell %u has no distinguished proposer now (no jury member "
				 "names one and a consistent read found none)", t->cell);
			return CHAOS_ENOTARGET;
		}
		set[h] = 1;
		return 0;
	}
	case CHAOS_TGT_RANDOM_MINORITY: {
		size_t n = shuffled_nodes(x, order);
		size_t k = n > 1 ? (n - 1) / 2 : 0;
		if (k == 0) {
			snprintf(err, errlen, "too few node hosts for a minority");
			return CHAOS_ENOTFOUND;
		}
		for (size_t i = 0; i < k; i++)
			set[order[i]] = 1;
		return 0;
	}
	case CHAOS_TGT_ALL_NODES:
		for (size_t i = 0; i < w->nhosts; i++)
			set[i] = (uint8_t)w->hosts[i].node;
		return 0;
	default:
		snprintf(err, errlen, "unknown target kind");
		return CHAOS_EINVAL;
	}
}

static void set_text(const struct chaos_world *w, const uint8_t *set, char *buf, size_t cap)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < w->nhosts && used + 1 < cap; i++) {
		if (!set[i])
			continue;
		int k = snprintf(buf + used, cap - used, "%s%s", used ? "," : "", w->hosts[i].name);
		if (k < 0)
			break;
		used += (size_t)k;
	}
}

static int is_partition(enum chaos_nemesis n)
{
	return n == CHAOS_NEM_PARTITION || n == CHAOS_NEM_PARTITION_ONEWAY ||
	       n == CHAOS_NEM_HALVES || n == CHAOS_NEM_MAJORITY || n == CHAOS_NEM_BRIDGE;
}

static int is_packet(enum chaos_nemesis n)
{
	return n == CHAOS_NEM_LOSS || n == CHAOS_NEM_DELAY || n == CHAOS_NEM_REORDER ||
	       n == CHAOS_NEM_DUPLICATE || n == CHAOS_NEM_CORRUPT;
}

static int add_cut(struct chaos_active *a, size_t dst, size_t src)
{
	if (a->ncuts == a->capcuts) {
		size_t nc = a->capcuts ? a->capcuts * 2 : 64;
		uint32_t(*n)[2] = realloc(a->cuts, nc * sizeof *n);
		if (n == NULL)
			return CHAOS_ENOMEM;
		a->cuts = n;
		a->capcuts = nc;
	}
	a->cuts[a->ncuts][0] = (uint32_t)dst;
	a->cuts[a->ncuts][1] = (uint32_t)src;
	a->ncuts++;
	return 0;
}

/* Both directions between every host of side A and every host of side B. */
static int cut_sides(struct chaos_active *a, const uint8_t *sa, const uint8_t *sb, size_t n,
		     int both)
{
	for (size_t i = 0; i < n; i++) {
		if (!sa[i])
			continue;
		for (size_t j = 0; j < n; j++) {
			if (!sb[j] || i == j)
				continue;
			if (add_cut(a, i, j) != 0 || (both && add_cut(a, j, i) != 0))
				return CHAOS_ENOMEM;
		}
	}
	return 0;
}

static int plan_partition(struct chaos_nemesis_ctx *x, struct chaos_active *a, char *err,
			  size_t errlen)
{
	const struct chaos_world *w = x->w;
	size_t n = w->nhosts;
	uint8_t *sa = calloc(n, 1), *sb = calloc(n, 1);
	int rc = 0;
	if (sa == NULL || sb == NULL) {
		rc = CHAOS_ENOMEM;
		goto out;
	}
	size_t order[CHAOS_HOSTS_MAX];
	switch (a->f->nemesis) {
	case CHAOS_NEM_PARTITION:
	case CHAOS_NEM_PARTITION_ONEWAY:
		rc = chaos_target_resolve(x, &a->f->target, sa, err, errlen);
		if (rc != 0)
			goto out;
		for (size_t i = 0; i < n; i++)
			sb[i] = !sa[i];
		/* one-way: packets *to* the target are dropped (dst in A). */
		rc = cut_sides(a, sa, sb, n, a->f->nemesis == CHAOS_NEM_PARTITION);
		memcpy(a->set, sa, n);
		break;
	case CHAOS_NEM_MAJORITY: {
		struct chaos_target t = { CHAOS_TGT_RANDOM_MINORITY, "", 0 };
		rc = chaos_target_resolve(x, &t, sa, err, errlen);
		if (rc != 0)
			goto out;
		for (size_t i = 0; i < n; i++)
			sb[i] = w->hosts[i].node && !sa[i];
		rc = cut_sides(a, sa, sb, n, 1);
		memcpy(a->set, sa, n);
		break;
	}
	case CHAOS_NEM_HALVES:
	case CHAOS_NEM_BRIDGE: {
		size_t k = shuffled_nodes(x, order);
		size_t first = 0;
		if (a->f->nemesis == CHAOS_NEM_BRIDGE) {
			if (k < 3) {
				snprintf(err, errlen, "a bridge needs at least 3 node hosts");
				rc = CHAOS_ENOTFOUND;
				goto out;
			}
			a->set[order[0]] = 2; /* the middle, seen by both sides */
			first = 1;
		}
		size_t half = first + (k - first) / 2;
		for (size_t i = first; i < k; i++) {
			if (i < half)
				sa[order[i]] = 1;
			else
				sb[order[i]] = 1;
			if (i < half)
				a->set[order[i]] = 1;
		}
		rc = cut_sides(a, sa, sb, n, 1);
		break;
	}
	default:
		break;
	}
out:
	free(sa);
	free(sb);
	return rc;
}

static void policy_kv(const struct chaos_link_policy *p, char *buf, size_t cap)
{
	snprintf(buf, cap, "loss=%.6f burst=%u delay=%u jitter=%u reorder=%.6f gap=%u dup=%.6f corrupt=%.6f",
		 p->loss, p->loss_burst, p->delay_us, p->jitter_us, p->reorder, p->reorder_gap_us,
		 p->duplicate, p->corrupt);
}

/* Re-sends the policies of every active packet fault (after one healed). */
static int rebuild_policies(struct chaos_nemesis_ctx *x)
{
	int rc = x->be->ops->impair(x->be, "clear");
	for (size_t i = 0; i < x->nactive; i++) {
		struct chaos_active *a = x->active[i];
		if (a->healed || !is_packet(a->f->nemesis))
			continue;
		char kv[256], line[400];
		policy_kv(&a->f->link, kv, sizeof kv);
		for (size_t h = 0; h < x->w->nhosts; h++) {
			if (!a->set[h])
				continue;
			const char *addr = x->w->hosts[h].addr_text;
			snprintf(line, sizeof line, "set %s/32 any %s", addr, kv);
			if (x->be->ops->impair(x->be, line) != 0)
				rc = CHAOS_ETOOL;
			snprintf(line, sizeof line, "set any %s/32 %s", addr, kv);
			if (x->be->ops->impair(x->be, line) != 0)
				rc = CHAOS_ETOOL;
		}
	}
	return rc;
}

static int fiu_points(const char *mode, const char **names)
{
	if (strcmp(mode, "fsync-fail") == 0) {
		names[0] = "posix/io/sync/fsync";
		names[1] = "posix/io/sync/fdatasync";
		return 2;
	}
	if (strcmp(mode, "write-fail") == 0) {
		names[0] = "posix/io/rw/write";
		names[1] = "posix/io/rw/pwrite";
		return 2;
	}
	if (strcmp(mode, "open-fail") == 0) {
		names[0] = "posix/io/oc/open";
		return 1;
	}
	return 0;
}

static int fiu(struct chaos_nemesis_ctx *x, size_t h, const char *mode, int enable)
{
	const char *names[2];
	int n = fiu_points(mode, names);
	if (n == 0)
		return CHAOS_EINVAL;
	struct chaos_host *host = &x->w->hosts[h];
	if (host->node_pid <= 0)
		return 0;
	char pid[32];
	snprintf(pid, sizeof pid, "%d", (int)host->node_pid);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		char cmd[128];
		snprintf(cmd, sizeof cmd, "%s name=%s", enable ? "enable" : "disable", names[i]);
		const char *argv[] = { "fiu-ctrl", "-c", cmd, pid, NULL };
		if (x->be->ops->run(x->be, host, argv) != 0)
			rc = CHAOS_ETOOL;
	}
	return rc;
}

static int clock_set(struct chaos_nemesis_ctx *x, size_t h, double offset, double rate)
{
	char path[700];
	snprintf(path, sizeof path, "%s/faketime-%s", x->dir, x->w->hosts[h].name);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return CHAOS_ESYS;
	if (rate > 0)
		fprintf(f, "%+fs x%f\n", offset, rate);
	else
		fprintf(f, "%+fs\n", offset);
	return fclose(f) == 0 ? 0 : CHAOS_ESYS;
}

int chaos_nemesis_start(struct chaos_nemesis_ctx *x, struct chaos_active *a, char *err,
			size_t errlen)
{
	const struct chaos_fault *f = a->f;
	struct chaos_backend *be = x->be;
	size_t n = x->w->nhosts;
	int rc = 0;
	err[0] = '\0';
	snprintf(a->tag, sizeof a->tag, "f%" PRId64, a->id);
	if (is_partition(f->nemesis)) {
		rc = plan_partition(x, a, err, errlen);
		for (size_t i = 0; rc == 0 && i < a->ncuts; i++) {
			const struct chaos_host *dst = &x->w->hosts[a->cuts[i][0]];
			const struct chaos_host *src = &x->w->hosts[a->cuts[i][1]];
			rc = be->ops->block(be, dst, src, a->tag, 1);
			if (rc != 0)
				snprintf(err, errlen, "cannot add a DROP rule at %s", dst->router);
		}
	} else {
		rc = chaos_target_resolve(x, &f->target, a->set, err, errlen);
		if (rc != 0)
			return rc;
	}
	if (rc == 0 && is_packet(f->nemesis))
		rc = rebuild_policies(x);
	for (size_t h = 0; rc == 0 && h < n; h++) {
		struct chaos_host *host = &x->w->hosts[h];
		if (!a->set[h])
			continue;
		switch (f->nemesis) {
		case CHAOS_NEM_BANDWIDTH:
			rc = be->ops->rate(be, host, f->rate_kbit);
			break;
		case CHAOS_NEM_KILL:
			if (!host->node) {
				snprintf(err, errlen, "kill targets node hosts; %s runs no node",
					 host->name);
				rc = CHAOS_EINVAL;
			} else if (host->node_pid > 0) {
				be->ops->signal(be, host, host->node_pid, SIGKILL);
				int st;
				be->ops->wait(be, host->node_pid, 5000, &st);
				host->node_pid = 0;
				x->event(x->ud, h, CHAOS_EV_CRASH, "kill -9");
			}
			break;
		case CHAOS_NEM_ROLLBACK:
			if (!host->node) {
				snprintf(err, errlen, "rollback targets node hosts; %s runs no node",
					 host->name);
				rc = CHAOS_EINVAL;
				break;
			}
			if (host->node_pid > 0) {
				be->ops->signal(be, host, host->node_pid, SIGKILL);
				int st;
				be->ops->wait(be, host->node_pid, 5000, &st);
				host->node_pid = 0;
				x->event(x->ud, h, CHAOS_EV_CRASH, "rollback: kill -9");
			}
			host->node_bin = f->build;
			rc = x->node_start(x->ud, h);
			x->event(x->ud, h, CHAOS_EV_RESTART, "rollback: restarted on the older build");
			if (rc != 0)
				snprintf(err, errlen, "%s did not start on %s", f->build, host->name);
			break;
		case CHAOS_NEM_PAUSE:
			if (host->node && host->node_pid > 0 && !host->paused) {
				be->ops->signal(be, host, host->node_pid, SIGSTOP);
				host->paused = 1;
				x->event(x->ud, h, CHAOS_EV_PAUSE, "SIGSTOP");
			} else if (!host->node && host->client) {
				/* A client host: its workload clients stop mid-operation. */
				host->paused = x->clients_signal(x->ud, h, SIGSTOP) > 0;
				x->event(x->ud, h, CHAOS_EV_PAUSE, "SIGSTOP of the workload clients");
			}
			break;
		case CHAOS_NEM_DISK:
			if (!x->fiu) {
				snprintf(err, errlen, "disk faults need nodes started under fiu-run");
				rc = CHAOS_EINVAL;
			} else if (host->node) {
				rc = fiu(x, h, f->disk, 1);
				x->event(x->ud, h, CHAOS_EV_OTHER, f->disk);
			}
			break;
		case CHAOS_NEM_CLOCK:
			if (!x->faketime) {
				snprintf(err, errlen, "clock faults need nodes started under libfaketime");
				rc = CHAOS_EINVAL;
			} else if (host->node) {
				rc = clock_set(x, h, f->clock_offset_s, f->clock_rate);
				char what[96];
				snprintf(what, sizeof what, "clock offset %+gs rate %g", f->clock_offset_s,
					 f->clock_rate > 0 ? f->clock_rate : 1.0);
				x->event(x->ud, h, CHAOS_EV_OTHER, what);
			}
			break;
		default:
			break;
		}
	}
	if (f->nemesis == CHAOS_NEM_ROLLING_RESTART) {
		a->roll_next = 0;
		a->roll_next_ns = a->start_ns;
	}
	set_text(x->w, a->set, a->targets, sizeof a->targets);
	if (rc != 0 && err[0] == '\0')
		snprintf(err, errlen, "%s", chaos_strerror(rc));
	return rc;
}

int chaos_nemesis_tick(struct chaos_nemesis_ctx *x, struct chaos_active *a, int64_t now_ns)
{
	if (a->f->nemesis != CHAOS_NEM_ROLLING_RESTART || a->healed)
		return 0;
	size_t targets = 0;
	for (size_t h = 0; h < x->w->nhosts; h++)
		targets += a->set[h] && x->w->hosts[h].node;
	if (targets == 0 || now_ns < a->roll_next_ns)
		return 0;
	size_t seen = 0;
	for (size_t h = 0; h < x->w->nhosts; h++) {
		struct chaos_host *host = &x->w->hosts[h];
		if (!a->set[h] || !host->node)
			continue;
		if (seen++ != a->roll_next)
			continue;
		if (host->node_pid > 0) {
			x->be->ops->signal(x->be, host, host->node_pid, SIGKILL);
			int st;
			x->be->ops->wait(x->be, host->node_pid, 5000, &st);
			host->node_pid = 0;
			x->event(x->ud, h, CHAOS_EV_CRASH, "rolling restart: kill -9");
		}
		int rc = x->node_start(x->ud, h);
		x->event(x->ud, h, CHAOS_EV_RESTART, "rolling restart");
		a->roll_next++;
		a->roll_next_ns += (int64_t)(a->f->for_s * 1e9 / (double)targets);
		if (a->roll_next >= targets)
			a->roll_next_ns = INT64_MAX;
		return rc;
	}
	return 0;
}

struct count_ctx {
	struct chaos_nemesis_ctx *x;
	struct chaos_active *a;
	const char *router;
};

static void on_count(void *ud, uint32_t src, const char *iface, uint64_t packets)
{
	struct count_ctx *c = ud;
	const struct chaos_world *w = c->x->w;
	int s = -1, d = -1;
	for (size_t i = 0; i < w->nhosts; i++) {
		if (w->hosts[i].addr == src)
			s = (int)i;
		if (strcmp(w->hosts[i].router, c->router) == 0 && strcmp(w->hosts[i].iface, iface) == 0)
			d = (int)i;
	}
	if (s >= 0 && d >= 0 && c->x->dropped != NULL)
		c->x->dropped(c->x->ud, c->a, (size_t)s, (size_t)d, packets);
}

int chaos_nemesis_stop(struct chaos_nemesis_ctx *x, struct chaos_active *a)
{
	const struct chaos_fault *f = a->f;
	struct chaos_backend *be = x->be;
	int rc = 0;
	if (a->healed)
		return 0;
	a->healed = 1;
	if (is_partition(f->nemesis)) {
		/* Exact counts first, then remove. Each router once. */
		for (size_t r = 0; r < x->w->nracks; r++) {
			int used = 0;
			for (size_t i = 0; i < a->ncuts && !used; i++)
				used = strcmp(x->w->hosts[a->cuts[i][0]].router, x->w->routers[r]) == 0;
			if (!used)
				continue;
			struct count_ctx c = { x, a, x->w->routers[r] };
			if (be->ops->block_counts(be, x->w->routers[r], a->tag, on_count, &c) != 0)
				rc = CHAOS_ETOOL;
		}
		for (size_t i = 0; i < a->ncuts; i++)
			if (be->ops->block(be, &x->w->hosts[a->cuts[i][0]], &x->w->hosts[a->cuts[i][1]],
					   a->tag, 0) != 0)
				rc = CHAOS_ETOOL;
	}
	if (is_packet(f->nemesis) && rebuild_policies(x) != 0)
		rc = CHAOS_ETOOL;
	for (size_t h = 0; h < x->w->nhosts; h++) {
		struct chaos_host *host = &x->w->hosts[h];
		if (!a->set[h])
			continue;
		switch (f->nemesis) {
		case CHAOS_NEM_BANDWIDTH: {
			uint64_t dropped = 0, over = 0;
			if (x->rate_stats != NULL && x->rate_stats(be, host, &dropped, &over) == 0) {
				x->metric(x->ud, h, "tbf_dropped", (double)dropped);
				x->metric(x->ud, h, "tbf_overlimits", (double)over);
			}
			if (be->ops->rate(be, host, 0) != 0)
				rc = CHAOS_ETOOL;
			break;
		}
		case CHAOS_NEM_KILL:
			if (host->node && host->node_pid == 0) {
				if (x->node_start(x->ud, h) != 0)
					rc = CHAOS_ETOOL;
				x->event(x->ud, h, CHAOS_EV_RESTART, "restart after kill");
			}
			break;
		case CHAOS_NEM_ROLLBACK:
			if (host->node) {
				if (host->node_pid > 0) {
					be->ops->signal(be, host, host->node_pid, SIGKILL);
					int st;
					be->ops->wait(be, host->node_pid, 5000, &st);
					host->node_pid = 0;
				}
				host->node_bin = NULL;
				if (x->node_start(x->ud, h) != 0)
					rc = CHAOS_ETOOL;
				x->event(x->ud, h, CHAOS_EV_RESTART, "rollback healed: current build");
			}
			break;
		case CHAOS_NEM_PAUSE:
			if (host->paused && host->node) {
				be->ops->signal(be, host, host->node_pid, SIGCONT);
				host->paused = 0;
				x->event(x->ud, h, CHAOS_EV_RESUME, "SIGCONT");
			} else if (host->paused) {
				x->clients_signal(x->ud, h, SIGCONT);
				host->paused = 0;
				x->event(x->ud, h, CHAOS_EV_RESUME, "SIGCONT of the workload clients");
			}
			break;
		case CHAOS_NEM_DISK:
			if (host->node) {
				fiu(x, h, f->disk, 0);
				/* A node that stopped on its failed fsync is started again. */
				int st;
				if (host->node_pid > 0 &&
				    be->ops->wait(be, host->node_pid, 0, &st) == 1) {
					host->node_pid = 0;
					x->event(x->ud, h, CHAOS_EV_FSYNC, "node stopped on disk fault");
				}
				if (host->node_pid == 0) {
					if (x->node_start(x->ud, h) != 0)
						rc = CHAOS_ETOOL;
					x->event(x->ud, h, CHAOS_EV_RESTART, "restart after disk fault");
				}
			}
			break;
		case CHAOS_NEM_CLOCK:
			if (host->node) {
				clock_set(x, h, 0, 0);
				x->event(x->ud, h, CHAOS_EV_OTHER, "clock reset");
			}
			break;
		default:
			break;
		}
	}
	free(a->cuts);
	a->cuts = NULL;
	a->ncuts = a->capcuts = 0;
	return rc;
}
