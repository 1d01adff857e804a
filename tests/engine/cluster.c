/* tests/engine/cluster.c: the in-memory cluster (see cluster.h). */
#include "cluster.h"
#include "countalloc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000ull
#define CLIENT_TIMEOUT (300 * MS)

struct rec {
	int kind;
	ph_slot slot;
	uint64_t pid;
	uint8_t *bytes;
	size_t len;
};

struct held {
	uint64_t pid;
	int is_reply;
	ph_node_id to;
	uint8_t *bytes;
	size_t len;
	struct ph_reply reply; /* is_reply: result points at bytes */
};

struct net_msg {
	ph_node_id from, to;
	uint8_t *bytes;
	size_t len;
};

struct replica {
	struct ph_cell *cell;
	struct ph_cell_config cfg;
	ph_time wake;
	uint64_t durable;
	struct rec *disk; /* durable store */
	size_t disk_n, disk_cap;
	struct rec *unsynced;
	size_t uns_n, uns_cap;
	struct held *held;
	size_t held_n, held_cap;
	ph_slot last_slot; /* last transition seen (+1), for order */
	uint32_t last_index;
	int seen_any;
};

struct client {
	uint64_t id;
	uint64_t seq;
	int outstanding;
	ph_node_id target;
	ph_time sent;
	uint64_t *acked; /* seqs acknowledged committed */
	size_t acked_n, acked_cap;
};

struct slotlog {
	struct ph_transition *t;
	size_t n, cap;
	uint64_t chosen_hash; /* hash of the value known chosen here, 0: none yet */
};

struct cl_cluster {
	struct cl_opts o;
	uint64_t rng;
	ph_time now;
	uint8_t pkey[8];
	struct replica r[PH_JURY_MAX];
	struct client *cli;
	struct net_msg *net;
	size_t net_n, net_cap;
	struct slotlog *log;
	size_t log_n;
	struct cl_stats st;
	int healing;
	size_t cut;          /* replica cut off from the network (SIZE_MAX: none) */
	ph_time cut_until;
	char err[256];
	struct countalloc ca; /* alloc_fail_permille */
	const struct ph_allocator *alloc;
	uint64_t cap_client, cap_seq;
	int cap_done;
	struct ph_reply cap;
	uint8_t *cap_res;
	size_t cap_len;
};

static uint64_t rnd(struct cl_cluster *cl)
{
	uint64_t z = (cl->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void *grow(void *p, size_t *cap, size_t want, size_t sz)
{
	if (want <= *cap)
		return p;
	size_t n = *cap ? *cap * 2 : 16;
	while (n < want)
		n *= 2;
	void *q = realloc(p, n * sz);
	if (q == NULL)
		abort();
	*cap = n;
	return q;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);
	if (q == NULL)
		abort();
	if (n)
		memcpy(q, p, n);
	return q;
}

static void fail(struct cl_cluster *cl, const char *fmt, ...)
{
	if (cl->err[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cl->err, sizeof cl->err, fmt, ap);
	va_end(ap);
}

/* ---- replicas ---------------------------------------------------------------- */

static int replica_start(struct cl_cluster *cl, size_t i)
{
	struct replica *r = &cl->r[i];
	struct ph_record *recs = calloc(r->disk_n + 1, sizeof *recs);
	if (recs == NULL)
		abort();
	for (size_t k = 0; k < r->disk_n; k++)
		recs[k] = (struct ph_record){r->disk[k].kind, r->disk[k].slot, r->disk[k].bytes,
					     r->disk[k].len};
	/* restart itself is swept in test_alloc.c; here it always gets memory */
	unsigned saved = cl->ca.fail_permille;
	cl->ca.fail_permille = 0;
	int err;
	int tries = 0;
	do {
		err = ph_cell_new(&r->cfg, cl->alloc, &r->cell);
	} while (err == PH_ENOMEM && ++tries < 1000);
	if (err == 0) {
		tries = 0;
		do {
			err = ph_cell_load(r->cell, recs, r->disk_n);
		} while (err == PH_ENOMEM && ++tries < 1000);
		if (err != 0) {
			fail(cl, "replica %zu: load: %s", i, ph_strerror(err));
			ph_cell_free(r->cell);
			r->cell = NULL;
		}
	}
	free(recs);
	cl->ca.fail_permille = saved;
	r->wake = 1; /* first tick arms the timers */
	r->durable = 0;
	return err;
}

static void disk_put(struct replica *r, const struct rec *x)
{
	if (x->kind == PH_REC_TRUNCATE) {
		size_t k = 0;
		for (size_t j = 0; j < r->disk_n; j++) {
			struct rec *d = &r->disk[j];
			if ((d->kind == PH_REC_ACCEPT || d->kind == PH_REC_CHOSEN) && d->slot < x->slot) {
				free(d->bytes);
				continue;
			}
			r->disk[k++] = *d;
		}
		r->disk_n = k;
		free(x->bytes);
		return;
	}
	for (size_t j = 0; j < r->disk_n; j++) {
		struct rec *d = &r->disk[j];
		if (d->kind == x->kind && d->slot == x->slot) {
			free(d->bytes);
			*d = *x;
			return;
		}
	}
	r->disk = grow(r->disk, &r->disk_cap, r->disk_n + 1, sizeof *r->disk);
	r->disk[r->disk_n++] = *x;
}

static int is_cut(struct cl_cluster *cl, ph_node_id id)
{
	return !cl->healing && cl->cut != SIZE_MAX && cl->r[cl->cut].cfg.self == id;
}

static void net_send(struct cl_cluster *cl, ph_node_id from, ph_node_id to, const uint8_t *b,
		     size_t len)
{
	if (!cl->healing && rnd(cl) % 100 < cl->o.loss_pct)
		return;
	if (is_cut(cl, from) || is_cut(cl, to))
		return;
	int copies = !cl->healing && rnd(cl) % 100 < cl->o.dup_pct ? 2 : 1;
	for (int k = 0; k < copies; k++) {
		cl->net = grow(cl->net, &cl->net_cap, cl->net_n + 1, sizeof *cl->net);
		cl->net[cl->net_n++] = (struct net_msg){from, to, dup_bytes(b, len), len};
	}
}

static void client_reply(struct cl_cluster *cl, const struct ph_reply *rep);

static void grow_log(struct cl_cluster *cl, ph_slot slot);

static void record_transition(struct cl_cluster *cl, size_t i, const struct ph_transition *t)
{
	struct replica *r = &cl->r[i];
	if (r->seen_any && (t->slot < r->last_slot || (t->slot == r->last_slot && t->index <= r->last_index)))
		fail(cl, "replica %zu: transition (%" PRIu64 ",%u) out of order", i, t->slot, t->index);
	r->seen_any = 1;
	r->last_slot = t->slot;
	r->last_index = t->index;
	grow_log(cl, t->slot);
	if (t->slot > cl->st.max_slot)
		cl->st.max_slot = t->slot;
	struct slotlog *s = &cl->log[t->slot];
	if (t->index < s->n) {
		const struct ph_transition *g = &s->t[t->index];
		if (g->client != t->client || g->seq != t->seq || g->outcome != t->outcome ||
		    g->reason != t->reason)
			fail(cl, "replica %zu: slot %" PRIu64 " index %u differs: (%" PRIu64 ",%" PRIu64
				 ",%d) vs (%" PRIu64 ",%" PRIu64 ",%d)",
			     i, t->slot, t->index, t->client, t->seq, t->outcome, g->client, g->seq,
			     g->outcome);
		return;
	}
	if (t->index != s->n) {
		/* an earlier index of this slot was reported only by a replica that
		 * installed a snapshot past it: fine, but keep positions */
		fail(cl, "replica %zu: slot %" PRIu64 " index %u skips %zu", i, t->slot, t->index, s->n);
		return;
	}
	s->t = grow(s->t, &s->cap, s->n + 1, sizeof *s->t);
	s->t[s->n++] = *t;
}

static void grow_log(struct cl_cluster *cl, ph_slot slot)
{
	if (slot < cl->log_n)
		return;
	size_t n = slot + 1 + 64;
	cl->log = realloc(cl->log, n * sizeof *cl->log);
	if (cl->log == NULL)
		abort();
	memset(cl->log + cl->log_n, 0, (n - cl->log_n) * sizeof *cl->log);
	cl->log_n = n;
}

/* Safety after every step: no two replicas ever know different values
 * chosen at one slot (checked on every slot each replica holds). */
static void check_chosen(struct cl_cluster *cl, size_t i)
{
	struct ph_cell *c = cl->r[i].cell;
	struct ph_cell_status s;
	ph_cell_status(c, &s);
	for (ph_slot k = s.snapshot; k < s.chosen + 64; k++) {
		bool chosen;
		const uint8_t *v;
		size_t len;
		if (ph_cell_log_entry(c, k, NULL, &chosen, &v, &len) != 0 || !chosen)
			continue;
		uint64_t h = 0xcbf29ce484222325ull;
		for (size_t b = 0; b < len; b++)
			h = (h ^ v[b]) * 0x100000001b3ull;
		h |= 1;
		grow_log(cl, k);
		if (cl->log[k].chosen_hash == 0)
			cl->log[k].chosen_hash = h;
		else if (cl->log[k].chosen_hash != h)
			fail(cl, "replica %zu: a different value known chosen at slot %llu", i,
			     (unsigned long long)k);
	}
}

static void handle_update(struct cl_cluster *cl, size_t i, const struct ph_update *u)
{
	struct replica *r = &cl->r[i];
	for (size_t k = 0; k < u->n_records; k++) {
		const struct ph_record *x = &u->records[k];
		r->unsynced = grow(r->unsynced, &r->uns_cap, r->uns_n + 1, sizeof *r->unsynced);
		r->unsynced[r->uns_n++] = (struct rec){x->kind, x->slot, u->persist_id,
						       dup_bytes(x->bytes, x->len), x->len};
	}
	for (size_t k = 0; k < u->n_messages; k++) {
		const struct ph_message *m = &u->messages[k];
		if (m->after_durable && u->persist_id > r->durable) {
			r->held = grow(r->held, &r->held_cap, r->held_n + 1, sizeof *r->held);
			r->held[r->held_n++] = (struct held){.pid = u->persist_id, .to = m->to,
							      .bytes = dup_bytes(m->bytes, m->len),
							      .len = m->len};
		} else {
			net_send(cl, r->cfg.self, m->to, m->bytes, m->len);
		}
	}
	for (size_t k = 0; k < u->n_replies; k++) {
		const struct ph_reply *p = &u->replies[k];
		if (p->after_durable && u->persist_id > r->durable) {
			r->held = grow(r->held, &r->held_cap, r->held_n + 1, sizeof *r->held);
			struct held *h = &r->held[r->held_n++];
			*h = (struct held){.pid = u->persist_id, .is_reply = 1,
					   .bytes = dup_bytes(p->result, p->result_len),
					   .len = p->result_len, .reply = *p};
			h->reply.result = h->bytes;
		} else {
			client_reply(cl, p);
		}
	}
	for (size_t k = 0; k < u->n_transitions; k++)
		record_transition(cl, i, &u->transitions[k]);
	r->wake = u->wake;
	check_chosen(cl, i);
}

static int step(struct cl_cluster *cl, size_t i, const struct ph_event *ev)
{
	struct replica *r = &cl->r[i];
	struct ph_update u;
	cl->st.steps++;
	if (getenv("PH_CLUSTER_TRACE")) {
		struct ph_cell_status s;
		ph_cell_status(r->cell, &s);
		fprintf(stderr, "t=%llu r%zu ev=%d", (unsigned long long)(cl->now / MS), i, ev->type);
		if (ev->type == PH_EV_RECEIVE) {
			struct ph_msg m;
			if (ph_msg_decode(ev->receive.bytes, ev->receive.len, &m) == 0)
				fprintf(stderr, " %s from=%u b=%llu.%u slot=%llu chosen=%llu n=%zu",
					ph_msg_type_name(m.type), ev->receive.from,
					(unsigned long long)m.ballot.round, m.ballot.node,
					(unsigned long long)m.slot, (unsigned long long)m.chosen, m.n_entries);
		}
		fprintf(stderr, " | role=%d prom=%llu.%u chosen=%llu applied=%llu base=%llu\n", s.role,
			(unsigned long long)s.promised.round, s.promised.node,
			(unsigned long long)s.chosen, (unsigned long long)s.applied,
			(unsigned long long)s.snapshot);
	}
	int err = ph_cell_step(r->cell, ev, &u);
	if (err == PH_ENOMEM && cl->o.alloc_fail_permille) {
		/* like a lost event: what the step produced comes out later */
		cl->st.enomem++;
		return err;
	}
	if (err != 0) {
		fail(cl, "replica %zu: step: %s", i, ph_strerror(err));
		return err;
	}
	handle_update(cl, i, &u);
	return 0;
}

static void sync_disk(struct cl_cluster *cl, size_t i)
{
	struct replica *r = &cl->r[i];
	if (r->uns_n == 0)
		return;
	uint64_t pid = 0;
	for (size_t k = 0; k < r->uns_n; k++) {
		pid = r->unsynced[k].pid;
		disk_put(r, &r->unsynced[k]);
	}
	r->uns_n = 0;
	r->durable = pid;
	struct ph_event ev = {.type = PH_EV_DURABLE, .now = cl->now};
	ev.durable.persist_id = pid;
	step(cl, i, &ev);
	size_t k = 0;
	for (size_t j = 0; j < r->held_n; j++) {
		struct held *h = &r->held[j];
		if (h->pid > r->durable) {
			r->held[k++] = *h;
			continue;
		}
		if (h->is_reply)
			client_reply(cl, &h->reply);
		else
			net_send(cl, r->cfg.self, h->to, h->bytes, h->len);
		free(h->bytes);
	}
	r->held_n = k;
}

static void crash(struct cl_cluster *cl, size_t i)
{
	struct replica *r = &cl->r[i];
	for (size_t k = 0; k < r->uns_n; k++)
		free(r->unsynced[k].bytes);
	r->uns_n = 0;
	for (size_t k = 0; k < r->held_n; k++)
		free(r->held[k].bytes);
	r->held_n = 0;
	ph_cell_free(r->cell);
	r->cell = NULL;
	r->cfg.seed = rnd(cl);
	r->seen_any = 0; /* a replay is not reported; order restarts after load */
	cl->st.crashes++;
	replica_start(cl, i);
	/* transitions after restart continue above the loaded prefix */
	struct ph_cell_status s;
	if (r->cell != NULL) {
		ph_cell_status(r->cell, &s);
		if (s.applied > 0) {
			r->seen_any = 1;
			r->last_slot = s.applied - 1;
			r->last_index = UINT32_MAX;
		}
	}
}

/* ---- clients ------------------------------------------------------------------ */

static size_t node_index(struct cl_cluster *cl, ph_node_id id)
{
	for (size_t i = 0; i < cl->o.n; i++)
		if (cl->r[i].cfg.self == id)
			return i;
	return SIZE_MAX;
}

static void client_send(struct cl_cluster *cl, struct client *c)
{
	struct ph_txn *t;
	if (ph_txn_new(NULL, &t) != 0)
		abort();
	char key[32];
	int kl = snprintf(key, sizeof key, "c%" PRIu64, c->id);
	mpz_t one;
	mpz_init_set_ui(one, 1);
	ph_txn_increment(t, key, (size_t)kl, one);
	mpz_clear(one);
	char sv[32];
	int sl = snprintf(sv, sizeof sv, "%" PRIu64, c->seq);
	struct ph_value v = {.type = PH_T_BYTES, .bytes = (const uint8_t *)sv, .len = (size_t)sl};
	kl = snprintf(key, sizeof key, "s%" PRIu64, c->id);
	ph_txn_put(t, key, (size_t)kl, &v);
	uint8_t buf[256];
	size_t len;
	if (ph_txn_encode(t, buf, sizeof buf, &len) != 0)
		abort();
	ph_txn_free(t);
	size_t i = node_index(cl, c->target);
	if (i == SIZE_MAX)
		i = rnd(cl) % cl->o.n;
	c->target = cl->r[i].cfg.self;
	c->outstanding = 1;
	c->sent = cl->now;
	struct ph_event ev = {.type = PH_EV_REQUEST, .now = cl->now};
	ev.request.client = c->id;
	ev.request.seq = c->seq;
	ev.request.consistency = PH_CONSISTENT;
	ev.request.txn = buf;
	ev.request.len = len;
	step(cl, i, &ev);
}

static void client_reply(struct cl_cluster *cl, const struct ph_reply *rep)
{
	if (cl->cap_client != 0 && rep->client == cl->cap_client && rep->seq == cl->cap_seq &&
	    !cl->cap_done) {
		cl->cap = *rep;
		cl->cap_done = 1;
		size_t n = rep->result_len < cl->cap_len ? rep->result_len : cl->cap_len;
		if (n)
			memcpy(cl->cap_res, rep->result, n);
		cl->cap.result = n ? cl->cap_res : NULL;
		cl->cap.result_len = n;
		return;
	}
	if (rep->client == 0 || rep->client > cl->o.clients)
		return;
	struct client *c = &cl->cli[rep->client - 1];
	if (!c->outstanding || rep->seq != c->seq)
		return;
	switch (rep->status) {
	case PH_ST_COMMITTED:
		c->acked = grow(c->acked, &c->acked_cap, c->acked_n + 1, sizeof *c->acked);
		c->acked[c->acked_n++] = c->seq;
		cl->st.acked++;
		c->seq++;
		c->outstanding = 0;
		break;
	case PH_ST_IGNORED:
		cl->st.ignored++;
		c->seq++;
		c->outstanding = 0;
		break;
	case PH_ST_BUSY:
		cl->st.busy++;
		c->outstanding = 0; /* resend the same seq later */
		break;
	case PH_ST_NOT_LEADER:
		cl->st.not_leader++;
		c->target = rep->leader_hint ? rep->leader_hint : cl->r[rnd(cl) % cl->o.n].cfg.self;
		c->outstanding = 0;
		break;
	default:
		fail(cl, "client %" PRIu64 ": unexpected status %d error %s", c->id, rep->status,
		     ph_strerror(rep->error));
	}
}

/* ---- public ------------------------------------------------------------------------ */

int cl_new(const struct cl_opts *o, struct cl_cluster **out)
{
	if (o->n < PH_JURY_MIN || o->n > PH_JURY_MAX || o->clients == 0 ||
	    o->clients > PH_DEDUP_MAX)
		return PH_EINVAL;
	struct cl_cluster *cl = calloc(1, sizeof *cl);
	if (cl == NULL)
		abort();
	cl->o = *o;
	cl->rng = o->seed * 0x2545f4914f6cdd1dull + 1;
	cl->alloc = o->alloc;
	if (o->alloc == NULL && o->alloc_fail_permille) {
		countalloc_init(&cl->ca);
		cl->ca.fail_permille = o->alloc_fail_permille;
		cl->ca.rng = o->seed;
		cl->alloc = &cl->ca.hook;
	}
	cl->now = 1000 * MS;
	cl->cut = SIZE_MAX;
	memcpy(cl->pkey, "volume-1", 8);
	for (size_t i = 0; i < o->n; i++) {
		struct ph_cell_config *c = &cl->r[i].cfg;
		ph_cell_config_init(c);
		c->pkey = cl->pkey;
		c->pkey_len = sizeof cl->pkey;
		c->self = (ph_node_id)(10 + i);
		c->jury_n = o->n;
		for (size_t k = 0; k < o->n; k++)
			c->jury[k] = (ph_node_id)(10 + k);
		c->seed = rnd(cl);
		c->planted_bug = o->planted_bug;
		if (o->alpha)
			c->alpha = o->alpha;
		if (o->max_batch)
			c->max_batch = o->max_batch;
	}
	for (size_t i = 0; i < o->n; i++) {
		int err = replica_start(cl, i);
		if (err != 0) {
			cl_free(cl);
			return err;
		}
	}
	cl->cli = calloc(o->clients, sizeof *cl->cli);
	for (size_t k = 0; k < o->clients; k++) {
		cl->cli[k].id = k + 1;
		cl->cli[k].seq = 1;
	}
	*out = cl;
	return 0;
}

void cl_free(struct cl_cluster *cl)
{
	if (cl == NULL)
		return;
	for (size_t i = 0; i < PH_JURY_MAX; i++) {
		struct replica *r = &cl->r[i];
		ph_cell_free(r->cell);
		for (size_t k = 0; k < r->disk_n; k++)
			free(r->disk[k].bytes);
		for (size_t k = 0; k < r->uns_n; k++)
			free(r->unsynced[k].bytes);
		for (size_t k = 0; k < r->held_n; k++)
			free(r->held[k].bytes);
		free(r->disk);
		free(r->unsynced);
		free(r->held);
	}
	for (size_t k = 0; cl->cli && k < cl->o.clients; k++)
		free(cl->cli[k].acked);
	free(cl->cli);
	for (size_t k = 0; k < cl->net_n; k++)
		free(cl->net[k].bytes);
	free(cl->net);
	for (size_t k = 0; k < cl->log_n; k++)
		free(cl->log[k].t);
	free(cl->log);
	free(cl);
}

static void deliver_one(struct cl_cluster *cl)
{
	size_t k = rnd(cl) % cl->net_n;
	struct net_msg m = cl->net[k];
	cl->net[k] = cl->net[--cl->net_n];
	size_t i = node_index(cl, m.to);
	if (i != SIZE_MAX && cl->r[i].cell != NULL && !is_cut(cl, m.to)) {
		struct ph_event ev = {.type = PH_EV_RECEIVE, .now = cl->now};
		ev.receive.from = m.from;
		ev.receive.bytes = m.bytes;
		ev.receive.len = m.len;
		cl->st.delivered++;
		step(cl, i, &ev);
	}
	free(m.bytes);
}

static void advance_ms(struct cl_cluster *cl)
{
	cl->now += MS;
	cl->st.sim_ms++;
	for (size_t i = 0; i < cl->o.n; i++) {
		struct replica *r = &cl->r[i];
		/* healing, every replica also gets a tick each 100 ms: a quiet
		 * leader then re-announces its chosen prefix to laggards */
		int poke = cl->healing && cl->st.sim_ms % 100 == 0;
		if (r->cell != NULL && ((r->wake != 0 && r->wake <= cl->now) || poke)) {
			struct ph_event ev = {.type = PH_EV_TICK, .now = cl->now};
			step(cl, i, &ev);
		}
	}
	if (!cl->healing && cl->o.crash_permille && rnd(cl) % 1000 < cl->o.crash_permille)
		crash(cl, rnd(cl) % cl->o.n);
	if (cl->cut != SIZE_MAX && cl->now >= cl->cut_until)
		cl->cut = SIZE_MAX;
	if (!cl->healing && cl->cut == SIZE_MAX && cl->o.partition_permille &&
	    rnd(cl) % 1000 < cl->o.partition_permille) {
		cl->cut = rnd(cl) % cl->o.n;
		cl->cut_until = cl->now + (100 + rnd(cl) % 900) * MS;
	}
	for (size_t k = 0; k < cl->o.clients && !cl->healing; k++) {
		struct client *c = &cl->cli[k];
		if (c->outstanding && cl->now - c->sent > CLIENT_TIMEOUT) {
			c->outstanding = 0;
			c->target = cl->r[rnd(cl) % cl->o.n].cfg.self;
			cl->st.retries++;
		}
		if (!c->outstanding && cl->st.acked < cl->o.target && rnd(cl) % 4 == 0)
			client_send(cl, c);
	}
}

static int settled(struct cl_cluster *cl)
{
	if (cl->net_n > 0)
		return 0;
	struct ph_cell_status s0, s;
	for (size_t i = 0; i < cl->o.n; i++) {
		if (cl->r[i].uns_n > 0 || cl->r[i].held_n > 0)
			return 0;
		ph_cell_status(cl->r[i].cell, &s);
		if (s.in_flight > 0)
			return 0;
		if (i == 0)
			s0 = s;
		else if (s.applied != s0.applied)
			return 0;
	}
	return 1;
}

int cl_run(struct cl_cluster *cl, uint64_t max_ms, char *err, size_t errlen)
{
	uint64_t end = cl->st.sim_ms + max_ms;
	while (!cl->err[0] && cl->st.acked < cl->o.target && cl->st.sim_ms < end) {
		unsigned r = (unsigned)(rnd(cl) % 100);
		unsigned sync = cl->o.sync_pct ? cl->o.sync_pct : 10;
		if (cl->net_n > 0 && r < 75)
			deliver_one(cl);
		else if (r < 75 + sync && r < 99)
			sync_disk(cl, rnd(cl) % cl->o.n);
		else
			advance_ms(cl);
	}
	if (!cl->err[0] && cl->st.acked < cl->o.target)
		fail(cl, "only %zu of %zu commits acknowledged in %" PRIu64 " ms", cl->st.acked,
		     cl->o.target, max_ms);
	/* heal: no loss, no crash; let every replica learn everything */
	cl->healing = 1;
	uint64_t heal_end = cl->st.sim_ms + 20000;
	int quiet = 0;
	while (!cl->err[0] && cl->st.sim_ms < heal_end) {
		while (cl->net_n > 0 && !cl->err[0])
			deliver_one(cl);
		for (size_t i = 0; i < cl->o.n; i++)
			sync_disk(cl, i);
		if (settled(cl)) {
			if (++quiet > 100)
				break;
		} else {
			quiet = 0;
		}
		advance_ms(cl);
	}
	if (!cl->err[0] && !settled(cl))
		fail(cl, "replicas did not settle after healing");
	if (cl->err[0]) {
		snprintf(err, errlen, "%s", cl->err);
		return -1;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int cl_check(struct cl_cluster *cl, char *err, size_t errlen)
{
	/* equal states (data, sessions, jury) everywhere */
	static uint8_t a[PH_MSG_MAX], b[PH_MSG_MAX];
	size_t alen = 0, blen = 0;
	for (size_t i = 0; i < cl->o.n && !cl->err[0]; i++) {
		size_t *len = i == 0 ? &alen : &blen;
		if (ph_cell_snapshot_encode(cl->r[i].cell, i == 0 ? a : b, sizeof a, len) != 0)
			fail(cl, "replica %zu: snapshot encode failed", i);
		else if (i > 0 && (alen != blen || memcmp(a, b, alen) != 0))
			fail(cl, "replica %zu: state differs from replica 0", i);
	}
	/* per client: committed transitions in log order */
	for (size_t k = 0; k < cl->o.clients && !cl->err[0]; k++) {
		struct client *c = &cl->cli[k];
		uint64_t *seqs = NULL;
		size_t n = 0, cap = 0;
		for (size_t s = 0; s < cl->log_n; s++) {
			for (size_t j = 0; j < cl->log[s].n; j++) {
				const struct ph_transition *t = &cl->log[s].t[j];
				if (t->client != c->id || t->outcome != PH_OUT_COMMITTED)
					continue;
				seqs = grow(seqs, &cap, n + 1, sizeof *seqs);
				seqs[n++] = t->seq;
			}
		}
		uint64_t last = n ? seqs[n - 1] : 0;
		if (n > 0)
			qsort(seqs, n, sizeof *seqs, cmp_u64);
		for (size_t j = 1; j < n; j++)
			if (seqs[j] == seqs[j - 1])
				fail(cl, "client %" PRIu64 ": seq %" PRIu64 " committed twice", c->id, seqs[j]);
		for (size_t j = 0; j < c->acked_n; j++)
			if (n == 0 || bsearch(&c->acked[j], seqs, n, sizeof *seqs, cmp_u64) == NULL)
				fail(cl, "client %" PRIu64 ": acknowledged seq %" PRIu64 " not committed in the log",
				     c->id, c->acked[j]);
		/* the final state: c<id> counts the commits, s<id> is the last */
		char key[32];
		int kl = snprintf(key, sizeof key, "c%" PRIu64, c->id);
		struct ph_value v;
		int e = ph_cell_get(cl->r[0].cell, key, (size_t)kl, &v);
		if (n == 0 && e != PH_ENOENT)
			fail(cl, "client %" PRIu64 ": counter present without commits", c->id);
		if (n > 0 && (e != 0 || v.type != PH_T_INT || mpz_cmp_ui(v.integer, n) != 0))
			fail(cl, "client %" PRIu64 ": counter is not %zu", c->id, n);
		kl = snprintf(key, sizeof key, "s%" PRIu64, c->id);
		char sv[32];
		int sl = snprintf(sv, sizeof sv, "%" PRIu64, last);
		e = ph_cell_get(cl->r[0].cell, key, (size_t)kl, &v);
		if (n > 0 && (e != 0 || v.type != PH_T_BYTES || v.len != (size_t)sl ||
			      memcmp(v.bytes, sv, (size_t)sl) != 0))
			fail(cl, "client %" PRIu64 ": last seq is not %" PRIu64, c->id, last);
		free(seqs);
	}
	if (cl->err[0]) {
		snprintf(err, errlen, "%s", cl->err);
		return -1;
	}
	return 0;
}

void cl_stats(const struct cl_cluster *cl, struct cl_stats *out)
{
	*out = cl->st;
}

struct ph_cell *cl_cell(struct cl_cluster *cl, size_t i)
{
	return i < cl->o.n ? cl->r[i].cell : NULL;
}

size_t cl_leader(struct cl_cluster *cl)
{
	for (size_t i = 0; i < cl->o.n; i++) {
		struct ph_cell_status s;
		ph_cell_status(cl->r[i].cell, &s);
		if (s.role == PH_ROLE_LEADER)
			return i;
	}
	return SIZE_MAX;
}

void cl_settle(struct cl_cluster *cl, uint64_t ms)
{
	for (uint64_t t = 0; t <= ms; t++) {
		while (cl->net_n > 0 && !cl->err[0])
			deliver_one(cl);
		for (size_t i = 0; i < cl->o.n; i++)
			sync_disk(cl, i);
		if (t < ms)
			advance_ms(cl);
	}
}

int cl_submit(struct cl_cluster *cl, size_t to, uint64_t client, uint64_t seq, int consistency,
	      uint64_t token, const uint8_t *txn, size_t len, struct ph_reply *out, uint8_t *res,
	      size_t cap)
{
	if (client <= cl->o.clients)
		return -1;
	for (int k = 0; to == SIZE_MAX && cl_leader(cl) == SIZE_MAX && k < 5000; k++)
		cl_settle(cl, 1);
	size_t i = to == SIZE_MAX ? cl_leader(cl) : to;
	if (i >= cl->o.n)
		return -1;
	cl->cap_client = client;
	cl->cap_seq = seq;
	cl->cap_done = 0;
	cl->cap_res = res;
	cl->cap_len = cap;
	struct ph_event ev = {.type = PH_EV_REQUEST, .now = cl->now};
	ev.request.client = client;
	ev.request.seq = seq;
	ev.request.consistency = consistency;
	ev.request.token = token;
	ev.request.txn = txn;
	ev.request.len = len;
	step(cl, i, &ev);
	for (int k = 0; !cl->cap_done && !cl->err[0] && k < 5000; k++) {
		if (cl->net_n > 0) {
			deliver_one(cl);
			continue;
		}
		for (size_t j = 0; j < cl->o.n; j++)
			sync_disk(cl, j);
		if (!cl->cap_done && cl->net_n == 0)
			advance_ms(cl);
	}
	cl->cap_client = 0;
	if (!cl->cap_done)
		return -1;
	*out = cl->cap;
	return 0;
}

ph_time cl_wake(struct cl_cluster *cl, size_t i)
{
	return i < cl->o.n ? cl->r[i].wake : 0;
}

void cl_isolate(struct cl_cluster *cl, size_t i, uint64_t ms)
{
	cl->cut = i;
	cl->cut_until = cl->now + ms * MS;
}
