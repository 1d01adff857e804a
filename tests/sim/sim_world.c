/* SimWorld (sim_world.h): the event loop that drives real ph_cell replicas.
 *
 * One loop turn pops the earliest event (tie rule: scheduled first, runs
 * first), hands it to the replica or client it concerns, carries out the
 * update exactly as the node would (records to the simulated disk, messages
 * flagged after_durable held until their batch is durable, replies to
 * clients), and runs the invariant checker. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_world.h"

#ifdef PH_SIM_WITH_REPORTS
#include <reports.h>
#endif

#define SIM_MAX_QUEUED 1000000

enum ev_kind {
	EV_DELIVER = 1,  /* peer message: data = bytes, from, actor = to */
	EV_REQUEST,      /* client request to replica: data = txn, aux = seq */
	EV_REPLY,        /* reply to client actor: data = struct reply_msg */
	EV_TIMER,        /* replica wake-up: aux = timer generation */
	EV_DISK,         /* replica's batch aux done; from = incarnation */
	EV_CLIENT_GO,    /* client starts its next op */
	EV_CLIENT_TIMEOUT, /* aux = timeout generation */
	EV_CLIENT_RESEND, /* aux = timeout generation */
	EV_RECONF,       /* control plane: submit (or retry) jury change aux */
};

#define SIM_MAX_CHANGES 8

struct reply_msg {
	uint64_t client, seq;
	int status, reason, error;
	ph_node_id hint, node;
	int n_reads; /* -1: no result, or it did not decode */
	bool null_result; /* result_len > 0 but result NULL */
	bool read_present;
	int64_t read_value;
};

struct held {
	uint64_t persist_id;
	bool is_reply;
	ph_node_id to;
	uint8_t *bytes;   /* message bytes (owned) */
	size_t len;
	struct reply_msg rep;
	struct ph_reply raw; /* for the checker; result pointer not kept */
};

struct replica {
	ph_node_id id;
	struct ph_cell *cell;
	bool up;
	struct sim_disk disk;
	struct sim_clock clock;
	uint64_t timer_gen, incarnation;
	struct held *held;
	size_t nheld, capheld;
	bool crash_after_persist;
};

struct client {
	uint32_t actor;
	uint64_t eng_id, process, seq;
	int done_ops;
	bool busy, read_only;
	struct sim_op op;
	int attempts;
	ph_node_id target;
	uint8_t txn[512];
	size_t txn_len;
	uint64_t timeout_gen;
	bool resend_pending; /* a redirect or back-off resend is scheduled */
};

struct sim_world {
	struct sim_world_cfg cfg;
	struct sim_rng rng;
	struct sim_queue q;
	struct sim_net net;
	sim_time now;
	int n, nclients;
	int n0; /* the initial jury: nodes 1..n0; nodes above join by jury changes */
	struct replica r[SIM_MAX_REPLICAS];
	struct {
		ph_node_id out, in;
	} change[SIM_MAX_CHANGES]; /* jury changes, in the order they are submitted */
	int nchanges;
	uint64_t reconf_seq;
	struct client c[SIM_MAX_CLIENTS];
	struct sim_history hist;
	struct sim_checker chk;
	struct sim_world_stats stats;
	int64_t next_value;
	char err[300];
};

void sim_world_cfg_init(struct sim_world_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->seed = 1;
	cfg->replicas = 3;
	cfg->clients = 2;
	cfg->ops_per_client = 20;
	cfg->keys = 2;
	cfg->think_min = 1 * SIM_MS;
	cfg->think_max = 20 * SIM_MS;
	cfg->op_timeout = 500 * SIM_MS;
	cfg->max_attempts = 4;
	cfg->alpha = 3;
	cfg->max_batch = 16;
	cfg->election_timeout = 150 * SIM_MS;
	cfg->heartbeat = 30 * SIM_MS;
	cfg->net.delay_min = 100 * SIM_US;
	cfg->net.delay_max = 2 * SIM_MS;
	cfg->disk.lat_min = 100 * SIM_US;
	cfg->disk.lat_max = 1 * SIM_MS;
}

/* ------------------------------------------------------------ plumbing */

static int peek_type(const void *b, size_t n)
{
	return ph_msg_peek_type(b, n);
}

static void fail(struct sim_world *w, const char *what, int rc)
{
	if (w->chk.violations++ == 0)
		snprintf(w->chk.violation, sizeof(w->chk.violation), "%s: %s", what,
			 rc < 0 && rc > -100 ? ph_strerror(rc) : sim_strerror(rc));
}

static void push(struct sim_world *w, sim_time at, int kind, uint32_t actor, uint32_t from,
		 uint64_t aux, void *data, size_t len)
{
	struct sim_event e = {.at = at, .kind = kind, .actor = actor, .from = from, .aux = aux,
			      .data = data, .len = len};
	if (w->q.n >= SIM_MAX_QUEUED) {
		/* A message storm: report it rather than eat the machine. */
		free(data);
		if (w->chk.violations++ == 0)
			snprintf(w->chk.violation, sizeof(w->chk.violation),
				 "more than %d events queued at once (a message storm)", SIM_MAX_QUEUED);
		return;
	}
	if (sim_queue_push(&w->q, &e) != SIM_OK) {
		free(data);
		fail(w, "event queue", SIM_ENOMEM);
	}
}

static struct replica *replica(struct sim_world *w, ph_node_id id)
{
	return id >= 1 && id <= (ph_node_id)w->n ? &w->r[id - 1] : NULL;
}

static struct client *client_by_eng(struct sim_world *w, uint64_t eng)
{
	return eng >= 1 && eng <= (uint64_t)w->nclients ? &w->c[eng - 1] : NULL;
}

/* Sends bytes from -> to through the network model: one event per copy.
 * Client traffic (peer == false) is not a peer message: the type peek is
 * skipped, and matchers naming SIM_TYPE_REQUEST / SIM_TYPE_REPLY are applied
 * by client_filtered() before this. */
static void transmit(struct sim_world *w, uint32_t from, uint32_t to, bool peer, int kind,
		     uint64_t aux, const void *bytes, size_t len)
{
	sim_time at[SIM_NET_MAX_COPIES];
	sim_peek_fn saved = w->net.peek;
	if (!peer)
		w->net.peek = NULL;
	int k = sim_net_route(&w->net, &w->rng, w->now, from, to, bytes, len, at);
	w->net.peek = saved;
	for (int i = 0; i < k; i++) {
		void *copy = NULL;
		if (len) {
			copy = malloc(len);
			if (!copy) {
				fail(w, "message copy", SIM_ENOMEM);
				return;
			}
			memcpy(copy, bytes, len);
		}
		push(w, at[i], kind, to, from, aux, copy, len);
	}
}

/* Matchers naming SIM_TYPE_REQUEST / SIM_TYPE_REPLY: drop or delay client
 * traffic.  Returns true when the message is dropped. */
static bool client_filtered(struct sim_world *w, uint32_t from, uint32_t to, int type)
{
	for (int i = 0; i < w->net.nmatch; i++) {
		struct sim_matcher *m = &w->net.match[i].m;
		if (m->type != type || (m->from != SIM_ANY && m->from != from) ||
		    (m->to != SIM_ANY && m->to != to))
			continue;
		bool drop = m->action == SIM_MATCH_DROP;
		if (m->remaining && --m->remaining == 0)
			sim_net_unmatch(&w->net, w->net.match[i].id);
		if (drop) {
			w->net.stats.dropped_match++;
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------ replicas */

static void cell_config(struct sim_world *w, struct replica *r, struct ph_cell_config *cfg)
{
	static const uint8_t pkey[] = "vol-0001";
	ph_cell_config_init(cfg);
	cfg->pkey = pkey;
	cfg->pkey_len = sizeof(pkey) - 1;
	cfg->self = r->id;
	cfg->jury_n = (size_t)w->n0;
	for (int i = 0; i < w->n0; i++)
		cfg->jury[i] = (ph_node_id)(i + 1);
	cfg->alpha = w->cfg.alpha;
	cfg->max_batch = w->cfg.max_batch;
	cfg->election_timeout = w->cfg.election_timeout;
	cfg->heartbeat_interval = w->cfg.heartbeat;
	uint64_t st = w->cfg.seed ^ ((uint64_t)r->id << 32) ^ (r->incarnation * 0x9e37ull);
	cfg->seed = sim_splitmix64(&st);
	cfg->planted_bug = w->cfg.planted_bug;
}

static void release(struct sim_world *w, struct replica *r, struct held *h)
{
	int i = (int)(r->id - 1);
	if (h->is_reply) {
		struct client *c = client_by_eng(w, h->rep.client);
		bool writes = c && c->seq == h->rep.seq ? !c->read_only : true;
		sim_check_reply(&w->chk, i, &h->raw, writes);
		if (!c || client_filtered(w, r->id, c->actor, SIM_TYPE_REPLY))
			return;
		transmit(w, r->id, c->actor, false, EV_REPLY, 0, &h->rep, sizeof(h->rep));
	} else {
		sim_check_sent(&w->chk, i, h->bytes, h->len);
		transmit(w, r->id, h->to, true, EV_DELIVER, 0, h->bytes, h->len);
	}
}

static void free_held(struct held *h)
{
	free(h->bytes);
	h->bytes = NULL;
}

static void release_durable(struct sim_world *w, struct replica *r, uint64_t durable)
{
	size_t k = 0;
	for (size_t j = 0; j < r->nheld; j++) {
		struct held *h = &r->held[j];
		if (h->persist_id <= durable) {
			release(w, r, h);
			free_held(h);
		} else {
			r->held[k++] = *h;
		}
	}
	r->nheld = k;
}

static int hold(struct sim_world *w, struct replica *r, const struct held *h)
{
	if (r->nheld == r->capheld) {
		size_t cap = r->capheld ? r->capheld * 2 : 16;
		struct held *p = realloc(r->held, cap * sizeof(*p));
		if (!p) {
			fail(w, "hold", SIM_ENOMEM);
			return SIM_ENOMEM;
		}
		r->held = p;
		r->capheld = cap;
	}
	r->held[r->nheld++] = *h;
	return SIM_OK;
}

static void reply_msg_of(const struct ph_reply *rp, struct reply_msg *out)
{
	memset(out, 0, sizeof(*out));
	out->client = rp->client;
	out->seq = rp->seq;
	out->status = rp->status;
	out->reason = rp->reason;
	out->error = rp->error;
	out->hint = rp->leader_hint;
	out->n_reads = -1;
	out->null_result = !rp->result && rp->result_len > 0;
	if (!rp->result || (rp->status != PH_ST_COMMITTED && rp->status != PH_ST_IGNORED))
		return;
	struct ph_result *res;
	if (ph_result_decode(rp->result, rp->result_len, NULL, &res) != 0)
		return;
	out->n_reads = (int)ph_result_n_reads(res);
	if (ph_result_n_reads(res) > 0) {
		const uint8_t *k;
		size_t kl;
		bool present;
		struct ph_value v;
		if (ph_result_read(res, 0, &k, &kl, &present, &v) == 0) {
			out->read_present = present;
			if (present && v.type == PH_T_INT && mpz_fits_slong_p(v.integer))
				out->read_value = mpz_get_si(v.integer);
		}
	}
	ph_result_free(res);
}

static void crash(struct sim_world *w, struct replica *r);

/* Carries out one update of replica r (sim_check_after_step already ran). */
static void carry_out(struct sim_world *w, struct replica *r, const struct ph_update *u)
{
	/* 1. records to disk */
	if (u->n_records) {
		struct sim_rec recs[64];
		struct sim_rec *rp = u->n_records <= 64 ? recs : calloc(u->n_records, sizeof(*rp));
		if (!rp) {
			fail(w, "records", SIM_ENOMEM);
			return;
		}
		for (size_t k = 0; k < u->n_records; k++) {
			rp[k].kind = u->records[k].kind;
			rp[k].slot = u->records[k].slot;
			rp[k].bytes = (uint8_t *)u->records[k].bytes;
			rp[k].len = u->records[k].len;
		}
		sim_time done;
		int rc = sim_disk_submit(&r->disk, &w->rng, w->now, u->persist_id, rp, u->n_records, &done);
		if (rp != recs)
			free(rp);
		if (rc != SIM_OK) {
			fail(w, "disk submit", rc);
			return;
		}
		push(w, done, EV_DISK, r->id, (uint32_t)r->incarnation, u->persist_id, NULL, 0);
	}
	/* 2. messages and replies, held while their batch is not durable */
	bool pending = r->disk.npending > 0;
	for (size_t k = 0; k < u->n_messages; k++) {
		const struct ph_message *m = &u->messages[k];
		struct held h = {.persist_id = u->persist_id, .to = m->to, .len = m->len};
		h.bytes = malloc(m->len ? m->len : 1);
		if (!h.bytes) {
			fail(w, "message", SIM_ENOMEM);
			return;
		}
		memcpy(h.bytes, m->bytes, m->len);
		if (m->after_durable && pending) {
			if (hold(w, r, &h) != SIM_OK)
				free_held(&h);
		} else {
			release(w, r, &h);
			free_held(&h);
		}
	}
	for (size_t k = 0; k < u->n_replies; k++) {
		const struct ph_reply *rp = &u->replies[k];
		struct held h = {.persist_id = u->persist_id, .is_reply = true, .raw = *rp};
		h.raw.result = NULL;
		h.raw.result_len = 0;
		reply_msg_of(rp, &h.rep);
		h.rep.node = r->id;
		if (rp->after_durable && pending)
			hold(w, r, &h);
		else
			release(w, r, &h);
	}
	for (size_t k = 0; k < u->n_transitions; k++)
		if (u->transitions[k].outcome == PH_OUT_COMMITTED)
			w->stats.transitions_committed++;
	/* 3. the timer */
	r->timer_gen++;
	if (u->wake) {
		sim_time at = sim_clock_to_global(&r->clock, w->now, u->wake);
		push(w, at, EV_TIMER, r->id, 0, r->timer_gen, NULL, 0);
	}
}

static void step(struct sim_world *w, struct replica *r, struct ph_event *ev)
{
	int i = (int)(r->id - 1);
	ev->now = sim_clock_local(&r->clock, w->now);
	struct ph_update u;
	sim_check_before_step(&w->chk, i, r->cell);
	int rc = ph_cell_step(r->cell, ev, &u);
	w->stats.steps++;
	if (rc != 0) {
		if (rc != PH_ENOMEM)
			fail(w, "ph_cell_step", rc);
		return;
	}
	bool undurable = r->disk.npending > 0 || u.n_records > 0;
	sim_check_after_step(&w->chk, i, r->cell, &u, undurable);
	if (w->cfg.trace)
		fprintf(stderr, "  node %u: %zu records, %zu msgs, %zu replies, %zu transitions, wake %" PRIu64 "\n",
			r->id, u.n_records, u.n_messages, u.n_replies, u.n_transitions, u.wake);
	if (w->cfg.trace)
		for (size_t k = 0; k < u.n_transitions; k++)
			fprintf(stderr, "  node %u applies slot %" PRIu64 " index %u: client %" PRIu64
				" seq %" PRIu64 " outcome %d reason %d\n", r->id, u.transitions[k].slot,
				u.transitions[k].index, u.transitions[k].client, u.transitions[k].seq,
				u.transitions[k].outcome, u.transitions[k].reason);
	carry_out(w, r, &u);
}

static void crash(struct sim_world *w, struct replica *r)
{
	if (!r->up)
		return;
	sim_disk_crash(&r->disk, &w->rng);
	ph_cell_free(r->cell);
	r->cell = NULL;
	for (size_t j = 0; j < r->nheld; j++)
		free_held(&r->held[j]);
	r->nheld = 0;
	r->up = false;
	r->incarnation++;
	r->timer_gen++;
	r->crash_after_persist = false;
	sim_check_crash(&w->chk, (int)(r->id - 1));
	w->stats.crashes++;
}

static int start(struct sim_world *w, struct replica *r, bool load)
{
	struct ph_cell_config cfg;
	cell_config(w, r, &cfg);
	int rc = ph_cell_new(&cfg, NULL, &r->cell);
	if (rc != 0) {
		fail(w, "ph_cell_new", rc);
		return SIM_EVIOLATION;
	}
	if (load) {
		size_t n = r->disk.ndurable;
		struct ph_record *recs = calloc(n ? n : 1, sizeof(*recs));
		if (!recs) {
			fail(w, "restart", SIM_ENOMEM);
			return SIM_ENOMEM;
		}
		for (size_t k = 0; k < n; k++) {
			recs[k].kind = r->disk.durable[k].kind;
			recs[k].slot = r->disk.durable[k].slot;
			recs[k].bytes = r->disk.durable[k].bytes;
			recs[k].len = r->disk.durable[k].len;
		}
		rc = ph_cell_load(r->cell, recs, n);
		free(recs);
		if (rc != 0) {
			char what[80];
			snprintf(what, sizeof(what), "node %u cannot restart from its durable records", r->id);
			fail(w, what, rc);
			return SIM_EVIOLATION;
		}
	}
	r->up = true;
	r->disk.busy_until = w->now;
	if (load)
		sim_check_restart(&w->chk, (int)(r->id - 1), r->cell);
	struct ph_event ev = {.type = PH_EV_TICK};
	step(w, r, &ev);
	return SIM_OK;
}

/* ------------------------------------------------------------- clients */

static void client_send(struct sim_world *w, struct client *c)
{
	if (client_filtered(w, c->actor, c->target, SIM_TYPE_REQUEST))
		return;
	transmit(w, c->actor, c->target, false, EV_REQUEST, c->seq, c->txn, c->txn_len);
}

static int build_txn(struct sim_world *w, struct client *c)
{
	struct ph_txn *t;
	int rc = ph_txn_new(NULL, &t);
	if (rc)
		return rc;
	const char *k = c->op.key;
	size_t kl = strlen(k);
	mpz_t a, b;
	mpz_init_set_si(a, c->op.value);
	mpz_init_set_si(b, c->op.expect);
	struct ph_value va = {.type = PH_T_INT, .integer = a};
	struct ph_value vb = {.type = PH_T_INT, .integer = b};
	switch (c->op.f) {
	case SIM_F_READ:
		rc = ph_txn_read(t, k, kl);
		break;
	case SIM_F_WRITE:
		rc = ph_txn_put(t, k, kl, &va);
		break;
	case SIM_F_CAS:
		rc = ph_txn_cond_equals(t, k, kl, &vb);
		if (!rc)
			rc = ph_txn_put(t, k, kl, &va);
		break;
	case SIM_F_INCR:
		rc = ph_txn_increment(t, k, kl, a);
		break;
	}
	if (!rc)
		rc = ph_txn_encode(t, c->txn, sizeof(c->txn), &c->txn_len);
	c->read_only = ph_txn_read_only(t);
	mpz_clear(a);
	mpz_clear(b);
	ph_txn_free(t);
	(void)w;
	return rc;
}

static void client_complete(struct sim_world *w, struct client *c, enum sim_op_type type)
{
	c->op.type = type;
	c->op.time = w->now;
	if (sim_history_add(&w->hist, &c->op) != SIM_OK)
		fail(w, "history", SIM_ENOMEM);
	c->busy = false;
	c->timeout_gen++;
	c->done_ops++;
	if (type == SIM_OP_OK)
		w->stats.ops_ok++;
	else if (type == SIM_OP_FAIL)
		w->stats.ops_fail++;
	else {
		w->stats.ops_info++;
		/* Jepsen: after an info the client continues as a new process. */
		c->process += (uint64_t)w->nclients;
	}
	if (c->done_ops < w->cfg.ops_per_client)
		push(w, w->now + sim_rng_range(&w->rng, w->cfg.think_min, w->cfg.think_max),
		     EV_CLIENT_GO, c->actor, 0, 0, NULL, 0);
}

static void client_go(struct sim_world *w, struct client *c)
{
	if (c->busy || c->done_ops >= w->cfg.ops_per_client)
		return;
	memset(&c->op, 0, sizeof(c->op));
	c->op.process = c->process;
	c->op.type = SIM_OP_INVOKE;
	c->op.f = (enum sim_op_f)sim_rng_below(&w->rng, 4);
	snprintf(c->op.key, sizeof(c->op.key), "k%d", (int)sim_rng_below(&w->rng, (uint64_t)w->cfg.keys));
	if (c->op.f == SIM_F_WRITE || c->op.f == SIM_F_CAS)
		c->op.value = ++w->next_value;
	if (c->op.f == SIM_F_CAS)
		c->op.expect = (int64_t)sim_rng_below(&w->rng, (uint64_t)w->next_value);
	if (c->op.f == SIM_F_INCR)
		c->op.value = 1;
	c->seq++;
	c->op.client = c->eng_id;
	c->op.seq = c->seq;
	c->op.time = w->now;
	int rc = build_txn(w, c);
	if (rc) {
		fail(w, "client transaction", rc);
		return;
	}
	if (sim_history_add(&w->hist, &c->op) != SIM_OK) {
		fail(w, "history", SIM_ENOMEM);
		return;
	}
	c->busy = true;
	c->attempts = 1;
	c->timeout_gen++;
	c->resend_pending = false;
	client_send(w, c);
	push(w, w->now + w->cfg.op_timeout, EV_CLIENT_TIMEOUT, c->actor, 0, c->timeout_gen, NULL, 0);
}

static void client_reply(struct sim_world *w, struct client *c, const struct reply_msg *m)
{
	if (w->cfg.trace)
		fprintf(stderr, "  client %" PRIu64 " reply seq %" PRIu64 " from node %u status %d reason %d"
			" hint %u present %d value %" PRId64 "\n", c->eng_id, m->seq, m->node, m->status,
			m->reason, m->hint, m->read_present, m->read_value);
	if (!c->busy || m->seq != c->seq)
		return; /* a late answer to an op already completed */
	switch (m->status) {
	case PH_ST_COMMITTED:
	case PH_ST_IGNORED:
		if (m->status == PH_ST_IGNORED && m->reason != PH_R_CONDITION) {
			client_complete(w, c, SIM_OP_FAIL); /* applied as a no-op */
			return;
		}
		c->op.committed = m->status == PH_ST_COMMITTED;
		if (c->op.f == SIM_F_READ && m->n_reads < 1) {
			/* engine.h: a committed or ignored reply's result holds the
			 * reads; without them the client cannot know what it read. */
			if (w->chk.violations++ == 0)
				snprintf(w->chk.violation, sizeof(w->chk.violation),
					 "node %u answered client %" PRIu64 " seq %" PRIu64 " (a read) with"
					 " status %d and %s", m->node, c->eng_id, c->seq, m->status,
					 m->null_result ? "result NULL but result_len > 0"
					 : m->n_reads < 0 ? "no decodable result" : "no reads in its result");
			return;
		}
		if (c->op.f == SIM_F_READ) {
			c->op.has_value = m->read_present;
			c->op.value = m->read_value;
		}
		client_complete(w, c, SIM_OP_OK);
		return;
	case PH_ST_ERROR:
		if (m->error != PH_EDEPOSED) {
			client_complete(w, c, SIM_OP_FAIL);
			return;
		}
		/* A deposed replica applied nothing for us: ask another node. */
		/* fall through */
	case PH_ST_NOT_LEADER: {
		/* One resend at a time: duplicated replies must not multiply
		 * requests. A hint naming the node that refused is no hint. */
		if (c->resend_pending)
			return;
		bool hinted = m->hint && m->hint != m->node && m->hint <= (ph_node_id)w->n;
		c->target = hinted ? m->hint : (m->node % (ph_node_id)w->n) + 1;
		c->resend_pending = true;
		push(w, w->now + (hinted ? 1 * SIM_MS : 20 * SIM_MS), EV_CLIENT_RESEND, c->actor, 0,
		     c->timeout_gen, NULL, 0);
		return;
	}
	case PH_ST_BUSY:
		if (c->resend_pending)
			return;
		c->resend_pending = true;
		push(w, w->now + sim_rng_range(&w->rng, 5 * SIM_MS, 50 * SIM_MS), EV_CLIENT_RESEND,
		     c->actor, 0, c->timeout_gen, NULL, 0);
		return;
	default:
		client_complete(w, c, SIM_OP_FAIL);
		return;
	}
}

static void client_timeout(struct sim_world *w, struct client *c)
{
	if (c->attempts >= w->cfg.max_attempts) {
		client_complete(w, c, SIM_OP_INFO);
		return;
	}
	c->attempts++;
	c->resend_pending = false; /* the resend scheduled before is now stale */
	c->timeout_gen++;
	c->target = (c->target % (ph_node_id)w->n) + 1;
	client_send(w, c);
	push(w, w->now + w->cfg.op_timeout, EV_CLIENT_TIMEOUT, c->actor, 0, c->timeout_gen, NULL, 0);
}

/* -------------------------------------------------------- jury changes */

/* The control plane's loop for change k: it names the epoch k (changes are
 * made one after the other), goes to the leader of the moment, and retries
 * with a new seq until the log has committed k changes. A retry never moves
 * the cell twice: the engine refuses a change naming an old epoch. */
static void reconf(struct sim_world *w, int k)
{
	uint32_t epoch = sim_check_epoch(&w->chk);
	if (epoch > (uint32_t)k)
		return; /* done */
	sim_time again = 50 * SIM_MS;
	ph_node_id l = sim_world_leader(w);
	if (epoch == (uint32_t)k && l) {
		struct ph_event ev = {.type = PH_EV_RECONFIGURE};
		ev.reconfigure.client = SIM_RECONF_CLIENT;
		ev.reconfigure.seq = ++w->reconf_seq;
		ev.reconfigure.change = (struct ph_jury_change){
			.op = PH_JURY_REPLACE, .out = w->change[k].out, .in = w->change[k].in,
			.epoch = epoch};
		sim_check_expect_change(&w->chk, SIM_RECONF_CLIENT, ev.reconfigure.seq,
					w->change[k].out, w->change[k].in);
		if (w->cfg.trace)
			fprintf(stderr, "  control plane: replace %u by %u (epoch %u) at node %u\n",
				w->change[k].out, w->change[k].in, epoch, l);
		step(w, &w->r[l - 1], &ev);
		again = 300 * SIM_MS;
	}
	push(w, w->now + again, EV_RECONF, 0, 0, (uint64_t)k, NULL, 0);
}

static void init_replica(struct sim_world *w, int i);
static int start(struct sim_world *w, struct replica *r, bool load);

int sim_world_replace_at(struct sim_world *w, sim_time at, ph_node_id out, ph_node_id *in)
{
	if (w->n >= SIM_MAX_REPLICAS || w->nchanges >= SIM_MAX_CHANGES || !replica(w, out))
		return SIM_EINVAL;
	int i = w->n;
	if (sim_check_add_replica(&w->chk, (ph_node_id)(i + 1)) != i)
		return SIM_EINVAL;
	w->n++;
	init_replica(w, i);
	int rc = start(w, &w->r[i], false);
	if (rc)
		return rc;
	w->change[w->nchanges].out = out;
	w->change[w->nchanges].in = w->r[i].id;
	push(w, at > w->now ? at : w->now, EV_RECONF, 0, 0, (uint64_t)w->nchanges, NULL, 0);
	w->nchanges++;
	*in = w->r[i].id;
	return w->chk.violations ? SIM_EVIOLATION : SIM_OK;
}

uint32_t sim_world_jury_epoch(const struct sim_world *w)
{
	return sim_check_epoch(&w->chk);
}

/* ------------------------------------------------------------- the loop */

static void handle(struct sim_world *w, struct sim_event *e)
{
	struct replica *r = replica(w, e->actor);
	struct client *c = NULL;
	if (e->actor >= SIM_CLIENT_BASE && e->actor < SIM_CLIENT_BASE + (uint32_t)w->nclients)
		c = &w->c[e->actor - SIM_CLIENT_BASE];
	switch (e->kind) {
	case EV_DELIVER:
	case EV_REQUEST:
		if (!r || !r->up || sim_net_blocked(&w->net, e->from, e->actor))
			break;
		w->net.stats.delivered++;
		if (e->kind == EV_DELIVER) {
			struct ph_event ev = {.type = PH_EV_RECEIVE};
			ev.receive.from = e->from;
			ev.receive.bytes = e->data;
			ev.receive.len = e->len;
			step(w, r, &ev);
		} else {
			struct ph_event ev = {.type = PH_EV_REQUEST};
			ev.request.client = e->from - SIM_CLIENT_BASE + 1;
			ev.request.seq = e->aux;
			ev.request.consistency = PH_CONSISTENT;
			ev.request.txn = e->data;
			ev.request.len = e->len;
			step(w, r, &ev);
		}
		break;
	case EV_REPLY:
		if (c && !sim_net_blocked(&w->net, e->from, e->actor)) {
			w->net.stats.delivered++;
			client_reply(w, c, e->data);
		}
		break;
	case EV_TIMER:
		if (r && r->up && e->aux == r->timer_gen) {
			struct ph_event ev = {.type = PH_EV_TICK};
			step(w, r, &ev);
		}
		break;
	case EV_DISK: {
		if (!r || !r->up || e->from != (uint32_t)r->incarnation)
			break;
		int rc = sim_disk_complete(&r->disk, &w->rng, e->aux);
		if (rc == SIM_EWRITE || rc == SIM_EFSYNC) {
			crash(w, r); /* a failed fsync stops the node */
			break;
		}
		if (rc != SIM_OK) {
			fail(w, "disk complete", rc);
			break;
		}
		if (r->crash_after_persist) {
			crash(w, r); /* persisted, and nothing sent */
			break;
		}
		release_durable(w, r, e->aux);
		struct ph_event ev = {.type = PH_EV_DURABLE};
		ev.durable.persist_id = e->aux;
		step(w, r, &ev);
		break;
	}
	case EV_CLIENT_GO:
		if (c)
			client_go(w, c);
		break;
	case EV_CLIENT_TIMEOUT:
		if (c && c->busy && e->aux == c->timeout_gen)
			client_timeout(w, c);
		break;
	case EV_CLIENT_RESEND:
		if (c && c->busy && e->aux == c->timeout_gen) {
			c->resend_pending = false;
			client_send(w, c);
		}
		break;
	case EV_RECONF:
		reconf(w, (int)e->aux);
		break;
	}
}

int sim_world_step(struct sim_world *w)
{
	if (w->chk.violations)
		return SIM_EVIOLATION;
	struct sim_event e;
	int rc = sim_queue_pop(&w->q, &e);
	if (rc)
		return rc;
	w->now = e.at;
	w->stats.events++;
	if (w->cfg.trace)
		fprintf(stderr, "t=%" PRIu64 " ev %d actor %u from %u aux %" PRIu64 "\n", e.at, e.kind,
			e.actor, e.from, e.aux);
	handle(w, &e);
	free(e.data);
	return w->chk.violations ? SIM_EVIOLATION : SIM_OK;
}

int sim_world_run_until(struct sim_world *w, sim_time t)
{
	for (;;) {
		if (w->chk.violations)
			return SIM_EVIOLATION;
		const struct sim_event *e = sim_queue_peek(&w->q);
		if (!e || e->at > t)
			break;
		int rc = sim_world_step(w);
		if (rc)
			return rc;
	}
	if (w->now < t)
		w->now = t;
	return SIM_OK;
}

int sim_world_run_for(struct sim_world *w, sim_time dt)
{
	return sim_world_run_until(w, w->now + dt);
}

sim_time sim_world_now(const struct sim_world *w)
{
	return w->now;
}

/* Replica i's disk and clock (node id i + 1), not started. */
static void init_replica(struct sim_world *w, int i)
{
	const struct sim_world_cfg *cfg = &w->cfg;
	struct sim_disk_cfg dc = cfg->disk;
	dc.truncate_kind = PH_REC_TRUNCATE;
	dc.truncate_targets[0] = PH_REC_ACCEPT;
	dc.truncate_targets[1] = PH_REC_CHOSEN;
	struct replica *r = &w->r[i];
	r->id = (ph_node_id)(i + 1);
	sim_disk_init(&r->disk, &dc);
	int64_t skew = cfg->clock_skew_ppm
			       ? (int64_t)sim_rng_below(&w->rng, (uint64_t)(2 * cfg->clock_skew_ppm + 1)) -
					 cfg->clock_skew_ppm
			       : 0;
	/* Local clocks start at different readings: nothing may assume they
	 * agree. */
	sim_clock_init(&r->clock, 0, SIM_S * (uint64_t)(i + 1) + sim_rng_below(&w->rng, SIM_MS), skew);
}

struct sim_world *sim_world_new(const struct sim_world_cfg *cfg)
{
	if (cfg->replicas < PH_JURY_MIN || cfg->replicas > PH_JURY_MAX || cfg->clients < 0 ||
	    cfg->clients > SIM_MAX_CLIENTS || cfg->keys < 1 || cfg->keys > 8) {
		fprintf(stderr, "sim_world_new: config out of range\n");
		return NULL;
	}
	struct sim_world *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->cfg = *cfg;
	w->n = cfg->replicas;
	w->n0 = cfg->replicas;
	w->nclients = cfg->clients;
	sim_rng_seed(&w->rng, cfg->seed);
	sim_queue_init(&w->q);
	sim_net_init(&w->net, &cfg->net, peek_type);
	sim_history_init(&w->hist);
	ph_node_id ids[SIM_MAX_REPLICAS];
	for (int i = 0; i < w->n; i++)
		ids[i] = (ph_node_id)(i + 1);
	sim_check_init(&w->chk, ids, w->n);
	w->chk.outcomes_only = cfg->outcomes_only;
	w->chk.alpha = cfg->alpha;
	for (int i = 0; i < w->n; i++)
		init_replica(w, i);
	for (int i = 0; i < w->nclients; i++) {
		struct client *c = &w->c[i];
		c->actor = SIM_CLIENT_BASE + (uint32_t)i;
		c->eng_id = (uint64_t)i + 1;
		c->process = (uint64_t)i;
		c->target = (ph_node_id)(i % w->n) + 1;
		push(w, sim_rng_range(&w->rng, 0, 50 * SIM_MS), EV_CLIENT_GO, c->actor, 0, 0, NULL, 0);
	}
	for (int i = 0; i < w->n; i++)
		if (start(w, &w->r[i], false) != SIM_OK) {
			fprintf(stderr, "sim_world_new: %s\n", w->chk.violation);
			sim_world_free(w);
			return NULL;
		}
	return w;
}

void sim_world_free(struct sim_world *w)
{
	if (!w)
		return;
	for (int i = 0; i < w->n; i++) {
		struct replica *r = &w->r[i];
		ph_cell_free(r->cell);
		for (size_t j = 0; j < r->nheld; j++)
			free_held(&r->held[j]);
		free(r->held);
		sim_disk_close(&r->disk);
	}
	sim_queue_close(&w->q);
	sim_history_close(&w->hist);
	sim_check_close(&w->chk);
	free(w);
}

/* --------------------------------------------------------------- faults */

int sim_world_partition(struct sim_world *w, const char *name, const uint32_t *nodes, int n,
			enum sim_part_mode mode)
{
	return sim_net_partition(&w->net, name, nodes, n, mode);
}

int sim_world_heal(struct sim_world *w, const char *name)
{
	return sim_net_heal(&w->net, name);
}

void sim_world_heal_all(struct sim_world *w)
{
	sim_net_heal_all(&w->net);
}

int sim_world_match(struct sim_world *w, const struct sim_matcher *m)
{
	return sim_net_match(&w->net, m);
}

int sim_world_unmatch(struct sim_world *w, int id)
{
	return sim_net_unmatch(&w->net, id);
}

int sim_world_set_link(struct sim_world *w, uint32_t from, uint32_t to,
		       const struct sim_link_cfg *cfg)
{
	return sim_net_set_link(&w->net, from, to, cfg);
}

void sim_world_set_net(struct sim_world *w, const struct sim_link_cfg *cfg)
{
	w->net.dflt = *cfg;
}

int sim_world_crash(struct sim_world *w, ph_node_id node)
{
	struct replica *r = replica(w, node);
	if (!r)
		return SIM_EINVAL;
	crash(w, r);
	return SIM_OK;
}

int sim_world_restart(struct sim_world *w, ph_node_id node)
{
	struct replica *r = replica(w, node);
	if (!r || r->up)
		return SIM_EINVAL;
	w->stats.restarts++;
	int rc = start(w, r, true);
	return rc ? rc : (w->chk.violations ? SIM_EVIOLATION : SIM_OK);
}

int sim_world_crash_after_persist(struct sim_world *w, ph_node_id node)
{
	struct replica *r = replica(w, node);
	if (!r)
		return SIM_EINVAL;
	r->crash_after_persist = true;
	return SIM_OK;
}

int sim_world_set_disk(struct sim_world *w, ph_node_id node, const struct sim_disk_cfg *cfg)
{
	struct replica *r = replica(w, node);
	if (!r)
		return SIM_EINVAL;
	int tk = r->disk.cfg.truncate_kind, t0 = r->disk.cfg.truncate_targets[0],
	    t1 = r->disk.cfg.truncate_targets[1];
	r->disk.cfg = *cfg;
	r->disk.cfg.truncate_kind = tk;
	r->disk.cfg.truncate_targets[0] = t0;
	r->disk.cfg.truncate_targets[1] = t1;
	return SIM_OK;
}

int sim_world_clock_jump(struct sim_world *w, ph_node_id node, int64_t delta)
{
	struct replica *r = replica(w, node);
	if (!r)
		return SIM_EINVAL;
	sim_clock_jump(&r->clock, w->now, delta);
	if (r->up) {
		/* The replica notices at its next event; wake it now so a forward
		 * jump fires its timers, as a real timer wheel would. */
		struct ph_event ev = {.type = PH_EV_TICK};
		step(w, r, &ev);
	}
	return w->chk.violations ? SIM_EVIOLATION : SIM_OK;
}

int sim_world_clock_rate(struct sim_world *w, ph_node_id node, int64_t rate_ppm)
{
	struct replica *r = replica(w, node);
	if (!r)
		return SIM_EINVAL;
	sim_clock_set_rate(&r->clock, w->now, rate_ppm);
	return SIM_OK;
}

bool sim_world_is_up(const struct sim_world *w, ph_node_id node)
{
	return node >= 1 && node <= (ph_node_id)w->n && w->r[node - 1].up;
}

ph_node_id sim_world_leader(const struct sim_world *w)
{
	ph_node_id best = 0;
	struct ph_ballot bb = {0, 0};
	for (int i = 0; i < w->n; i++) {
		if (!w->r[i].up)
			continue;
		struct ph_cell_status st;
		ph_cell_status(w->r[i].cell, &st);
		if (st.role == PH_ROLE_LEADER && (best == 0 || ph_ballot_cmp(st.ballot, bb) > 0)) {
			best = w->r[i].id;
			bb = st.ballot;
		}
	}
	return best;
}

int sim_world_status(const struct sim_world *w, ph_node_id node, struct ph_cell_status *out)
{
	if (!sim_world_is_up(w, node))
		return SIM_EINVAL;
	ph_cell_status(w->r[node - 1].cell, out);
	return SIM_OK;
}

bool sim_world_clients_done(const struct sim_world *w)
{
	for (int i = 0; i < w->nclients; i++)
		if (w->c[i].done_ops < w->cfg.ops_per_client)
			return false;
	return true;
}

const char *sim_world_violation(const struct sim_world *w)
{
	return w->chk.violations ? w->chk.violation : NULL;
}

const struct sim_world_stats *sim_world_stats(const struct sim_world *w)
{
	((struct sim_world *)w)->stats.transitions_committed = w->chk.committed;
	return &w->stats;
}

const struct sim_history *sim_world_history(const struct sim_world *w)
{
	return &w->hist;
}

const struct sim_net_stats *sim_world_net_stats(const struct sim_world *w)
{
	return &w->net.stats;
}

/* Register-per-key check of the history for the ops whose effect is
 * certain, used until (and besides) the reports/ checker: every ok read
 * returns a value that some write / cas / incr could have produced. This is
 * a necessary condition of linearizability, not the full check. */
static int check_reads(struct sim_world *w)
{
	for (size_t i = 0; i < w->hist.n; i++) {
		const struct sim_op *o = &w->hist.ops[i];
		if (o->type != SIM_OP_OK || o->f != SIM_F_READ || !o->has_value)
			continue;
		bool possible = false;
		int64_t incrs = 0;
		for (size_t j = 0; j < w->hist.n && !possible; j++) {
			const struct sim_op *p = &w->hist.ops[j];
			if (p->type != SIM_OP_INVOKE || strcmp(p->key, o->key) != 0)
				continue;
			if ((p->f == SIM_F_WRITE || p->f == SIM_F_CAS) && p->value <= o->value)
				possible = true; /* a write plus some increments */
			if (p->f == SIM_F_INCR)
				incrs++;
		}
		if (!possible && o->value > incrs) {
			snprintf(w->chk.violation, sizeof(w->chk.violation),
				 "history: client %" PRIu64 " read %" PRId64 " from %s, which no write"
				 " or increment could have produced", o->client, o->value, o->key);
			w->chk.violations++;
			return SIM_EVIOLATION;
		}
	}
	return SIM_OK;
}

#ifdef PH_SIM_WITH_REPORTS
/* The history in the reports/ cell model: every client op is a one-key
 * physalia transaction on cell "vol-0001". */
static int to_rep(const struct sim_history *sh, struct rep_history *h)
{
	for (size_t i = 0; i < sh->n; i++) {
		const struct sim_op *o = &sh->ops[i];
		if (o->type != SIM_OP_INVOKE)
			continue;
		const struct sim_op *done = NULL;
		for (size_t j = i + 1; j < sh->n && !done; j++)
			if (sh->ops[j].process == o->process)
				done = &sh->ops[j];
		struct rep_cond cond = {.kind = REP_COND_EQUALS};
		struct rep_txop op = {.key = rep_value_str(h, o->key)};
		struct rep_value read = rep_value_nil();
		struct rep_txn txn = {.ops = &op, .nops = 1};
		switch (o->f) {
		case SIM_F_READ:
			op.kind = REP_TX_READ;
			break;
		case SIM_F_WRITE:
			op.kind = REP_TX_PUT;
			op.value = rep_value_int(h, o->value);
			break;
		case SIM_F_CAS:
			op.kind = REP_TX_PUT;
			op.value = rep_value_int(h, o->value);
			cond.key = op.key;
			cond.value = rep_value_int(h, o->expect);
			txn.conds = &cond;
			txn.nconds = 1;
			break;
		case SIM_F_INCR:
			op.kind = REP_TX_INCR;
			op.value = rep_value_int(h, o->value);
			break;
		}
		struct rep_op r = {.process = (int64_t)o->process, .fn = REP_FN_TXN,
				   .invoke_ns = (int64_t)o->time, .complete_ns = -1,
				   .cell = rep_value_str(h, "vol-0001"), .outcome = REP_OUT_PENDING,
				   .txn = &txn};
		if (done) {
			r.complete_ns = (int64_t)done->time;
			r.outcome = done->type == SIM_OP_OK     ? REP_OUT_OK
				    : done->type == SIM_OP_FAIL ? REP_OUT_FAIL
								: REP_OUT_INFO;
			if (done->type == SIM_OP_OK) {
				txn.committed = done->committed;
				if (done->committed && o->f == SIM_F_READ) {
					if (done->has_value)
						read = rep_value_int(h, done->value);
					txn.reads = &read;
				} else if (done->committed) {
					txn.reads = &read;
				}
			}
		}
		int rc = rep_history_add(h, &r, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

static int check_linearizable(struct sim_world *w)
{
	struct rep_history h;
	rep_history_init(&h);
	int rc = to_rep(&w->hist, &h);
	if (rc) {
		rep_history_free(&h);
		snprintf(w->chk.violation, sizeof(w->chk.violation), "history conversion: %s",
			 rep_strerror(rc));
		w->chk.violations++;
		return SIM_EVIOLATION;
	}
	struct rep_budget b = {.seconds = 20, .threads = 1};
	struct rep_check_result res;
	rc = rep_check(&h, &b, &res);
	if (rc) {
		rep_history_free(&h);
		snprintf(w->chk.violation, sizeof(w->chk.violation), "linearizability checker: %s",
			 rep_strerror(rc));
		w->chk.violations++;
		return SIM_EVIOLATION;
	}
	w->stats.lin_checked++;
	if (res.verdict == REP_UNKNOWN)
		w->stats.lin_unknown++;
	if (res.verdict == REP_NOT_LINEARIZABLE) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (f) {
			rep_check_print(&h, &res, f);
			fclose(f);
		}
		if (w->cfg.trace && buf)
			fprintf(stderr, "%s\n", buf);
		snprintf(w->chk.violation, sizeof(w->chk.violation),
			 "history NOT linearizable (reports/ checker): %.480s", buf ? buf : "");
		free(buf);
		w->chk.violations++;
	}
	rep_check_result_free(&res);
	rep_history_free(&h);
	return w->chk.violations ? SIM_EVIOLATION : SIM_OK;
}
#endif

int sim_world_finish(struct sim_world *w)
{
	if (w->chk.violations)
		return SIM_EVIOLATION;
	sim_world_heal_all(w);
	w->net.nmatch = 0;
	for (int i = 0; i < w->n; i++)
		if (!w->r[i].up) {
			int rc = sim_world_restart(w, w->r[i].id);
			if (rc)
				return rc;
		}
	sim_time limit = w->now + 120 * SIM_S;
	while (!sim_world_clients_done(w) && w->now < limit) {
		int rc = sim_world_run_for(w, 100 * SIM_MS);
		if (rc)
			return rc;
	}
	int rc = sim_world_run_for(w, 1 * SIM_S);
	if (rc)
		return rc;
	if (w->cfg.trace)
		sim_history_print(&w->hist, stderr);
	long bad = sim_history_wellformed(&w->hist);
	if (bad >= 0) {
		snprintf(w->chk.violation, sizeof(w->chk.violation),
			 "history is not well formed at op %ld", bad);
		w->chk.violations++;
		return SIM_EVIOLATION;
	}
	rc = check_reads(w);
#ifdef PH_SIM_WITH_REPORTS
	if (rc == SIM_OK)
		rc = check_linearizable(w);
#endif
	return rc;
}
