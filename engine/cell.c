/* engine/cell.c: a cell replica's lifecycle and its step function: event in,
 * update out (STYLE.md 1). The step dispatches to the Paxos roles
 * (paxos.c), applies whatever became chosen (kv.c), lets the proposer fill
 * the pipeline, then finalises the update: records for every durable change
 * (record.c), one persist id, and the after_durable flags.
 *
 * Failure contract: a step that returns PH_ENOMEM may have processed part of
 * its event, but loses nothing: changed durable state stays marked dirty and
 * its records come out with the next successful update, as do the messages,
 * replies and transitions produced so far. No message leaves without the
 * records it depends on, because every message of an update is flagged
 * after_durable while any record is not yet durable. */
#include <assert.h>
#include <stdint.h>

#include "internal.h"

#define PH_SNAP_EVERY 16 /* applied slots between snapshots (log truncation) */

uint64_t ph__rand(struct ph_cell *c)
{
	/* splitmix64 */
	uint64_t z = (c->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void ph_cell_config_init(struct ph_cell_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->alpha = 3;
	cfg->election_timeout = 150 * 1000 * 1000ull;
	cfg->heartbeat_interval = 30 * 1000 * 1000ull;
	cfg->max_batch = 16;
}

static int config_check(const struct ph_cell_config *cfg)
{
	if (cfg->pkey == NULL || cfg->pkey_len == 0 || cfg->pkey_len > PH_PKEY_MAX)
		return PH_EINVAL;
	if (cfg->self == 0 || ph__jury_check(cfg->jury, cfg->jury_n) != 0)
		return PH_EINVAL;
	if (cfg->alpha < 1 || cfg->alpha > PH_ALPHA_MAX)
		return PH_EINVAL;
	if (cfg->max_batch < 1 || cfg->max_batch > PH_BATCH_MAX)
		return PH_EINVAL;
	if (cfg->election_timeout == 0 || cfg->heartbeat_interval == 0 ||
	    cfg->election_timeout > UINT64_MAX / 4)
		return PH_EINVAL;
#ifdef PH_PLANTED_BUGS
	if (cfg->planted_bug < PH_BUG_NONE || cfg->planted_bug > PH_BUG_DEPOSED_VOTES)
		return PH_EINVAL;
#else
	if (cfg->planted_bug != PH_BUG_NONE)
		return PH_EINVAL;
#endif
	return 0;
}

int ph_cell_new(const struct ph_cell_config *cfg, const struct ph_allocator *alloc,
		struct ph_cell **out)
{
	if (cfg == NULL || out == NULL)
		return PH_EINVAL;
	int err = config_check(cfg);
	if (err != 0)
		return err;
	struct ph_allocator a;
	ph__allocator_init(&a, alloc);
	struct ph_cell *c = ph__alloc(&a, sizeof *c);
	if (c == NULL)
		return PH_ENOMEM;
	memset(c, 0, sizeof *c);
	c->a = a;
	c->pkey = ph__memdup(&a, cfg->pkey, cfg->pkey_len, &err);
	if (err != 0) {
		ph__free(&a, c);
		return err;
	}
	c->pkey_len = (uint8_t)cfg->pkey_len;
	c->self = cfg->self;
	c->jury.n = (uint8_t)cfg->jury_n;
	memcpy(c->jury.ids, cfg->jury, cfg->jury_n * sizeof cfg->jury[0]);
	c->member_seen = ph__jury_member(&c->jury, c->self);
	c->jury_window_changes = cfg->jury_window_changes;
	c->skip_learner_wait = cfg->jury_skip_learner_wait;
	c->alpha = (uint8_t)cfg->alpha;
	c->max_batch = (uint8_t)cfg->max_batch;
	c->rng = cfg->seed ^ 0x70687973616c6961ull; /* "physalia" */
	c->election_timeout = cfg->election_timeout;
	c->heartbeat_interval = cfg->heartbeat_interval;
	c->feature_level = PH_FEATURE_LEVEL;
#ifdef PH_PLANTED_BUGS
	c->planted_bug = (int8_t)cfg->planted_bug;
	c->bug_mine = c->jury;
#endif
	c->role = PH_ROLE_FOLLOWER;
	*out = c;
	return 0;
}

static void p1_clear(struct ph_cell *c)
{
	for (size_t i = 0; i < c->p1_n; i++)
		ph__free(&c->a, c->p1[i].value);
	c->p1_n = 0;
}

static void out_free(struct ph_cell *c)
{
	struct ph_out *o = &c->out;
	ph__free(&c->a, o->recs);
	ph__free(&c->a, o->msgs);
	ph__free(&c->a, o->reps);
	ph__free(&c->a, o->trans);
	ph__free(&c->a, o->arena);
	memset(o, 0, sizeof *o);
}

void ph_cell_free(struct ph_cell *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->log_n; i++)
		ph__free(&c->a, c->log[i].value);
	ph__free(&c->a, c->log);
	p1_clear(c);
	ph__free(&c->a, c->p1);
	ph__free(&c->a, c->batch);
	ph__free(&c->a, c->pend);
	ph__kv_clear(c);
	ph__sessions_clear(c);
	out_free(c);
	ph__free(&c->a, c->pkey);
	struct ph_allocator a = c->a;
	ph__free(&a, c);
}

/* Copies of src's arrays into c (c already a shallow copy with every
 * pointer cleared); on failure c holds what was copied so far, freeable by
 * ph_cell_free. */
static int clone_deep(struct ph_cell *c, const struct ph_cell *src)
{
	int err = 0;
	c->pkey = ph__memdup(&c->a, src->pkey, src->pkey_len, &err);
	if (err == 0 && src->log_n > 0) {
		c->log = ph__alloc(&c->a, src->log_n * sizeof *c->log);
		if (c->log == NULL)
			return PH_ENOMEM;
		c->log_cap = src->log_n;
		for (size_t i = 0; i < src->log_n && err == 0; i++) {
			c->log[i] = src->log[i];
			c->log[i].value = ph__memdup(&c->a, src->log[i].value, src->log[i].len, &err);
			c->log_n = err == 0 ? i + 1 : i;
		}
	}
	if (err == 0 && src->p1_n > 0) {
		c->p1 = ph__alloc(&c->a, src->p1_n * sizeof *c->p1);
		if (c->p1 == NULL)
			return PH_ENOMEM;
		c->p1_cap = src->p1_n;
		for (size_t i = 0; i < src->p1_n && err == 0; i++) {
			c->p1[i] = src->p1[i];
			c->p1[i].value = ph__memdup(&c->a, src->p1[i].value, src->p1[i].len, &err);
			c->p1_n = err == 0 ? i + 1 : i;
		}
	}
	if (err == 0 && src->batch_len > 0) {
		c->batch = ph__memdup(&c->a, src->batch, src->batch_len, &err);
		c->batch_cap = err == 0 ? src->batch_len : 0;
		c->batch_len = err == 0 ? src->batch_len : 0;
	}
	if (err == 0 && src->pend_n > 0) {
		c->pend = ph__memdup(&c->a, src->pend, src->pend_n * sizeof *c->pend, &err);
		c->pend_cap = c->pend_n = err == 0 ? src->pend_n : 0;
	}
	if (err == 0 && src->kv_n > 0) {
		c->kv = ph__alloc(&c->a, src->kv_n * sizeof *c->kv);
		if (c->kv == NULL)
			return PH_ENOMEM;
		c->kv_cap = src->kv_n;
		for (size_t i = 0; i < src->kv_n && err == 0; i++) {
			struct ph_kv *d = &c->kv[i];
			memset(d, 0, sizeof *d);
			d->klen = src->kv[i].klen;
			d->key = ph__memdup(&c->a, src->kv[i].key, d->klen, &err);
			if (err == 0 && (err = ph__val_copy(&c->a, &src->kv[i].v, &d->v)) != 0) {
				ph__free(&c->a, d->key);
				d->key = NULL;
			}
			c->kv_n = err == 0 ? i + 1 : i;
		}
	}
	if (err == 0 && src->ses_n > 0) {
		c->ses = ph__alloc(&c->a, src->ses_n * sizeof *c->ses);
		if (c->ses == NULL)
			return PH_ENOMEM;
		c->ses_cap = src->ses_n;
		for (size_t i = 0; i < src->ses_n && err == 0; i++) {
			c->ses[i] = src->ses[i];
			c->ses[i].result = ph__memdup(&c->a, src->ses[i].result, src->ses[i].rlen, &err);
			c->ses_n = err == 0 ? i + 1 : i;
		}
	}
	return err;
}

int ph_cell_clone(const struct ph_cell *src, const struct ph_allocator *alloc,
		  struct ph_cell **out)
{
	if (src == NULL || out == NULL)
		return PH_EINVAL;
	if (src->keep_out)
		return PH_ESTATE;
	struct ph_allocator a;
	ph__allocator_init(&a, alloc);
	struct ph_cell *c = ph__alloc(&a, sizeof *c);
	if (c == NULL)
		return PH_ENOMEM;
	*c = *src;
	c->a = a;
	c->pkey = NULL;
	c->log = NULL;
	c->log_n = c->log_cap = 0;
	c->p1 = NULL;
	c->p1_n = c->p1_cap = 0;
	c->batch = NULL;
	c->batch_len = c->batch_cap = 0;
	c->pend = NULL;
	c->pend_n = c->pend_cap = 0;
	c->kv = NULL;
	c->kv_n = c->kv_cap = 0;
	c->ses = NULL;
	c->ses_n = c->ses_cap = 0;
	memset(&c->out, 0, sizeof c->out);
	int err = clone_deep(c, src);
	if (err != 0) {
		ph_cell_free(c);
		return err;
	}
	*out = c;
	return 0;
}

/* ---- output ------------------------------------------------------------------ */

static int arena_take(struct ph_cell *c, size_t n, size_t *off)
{
	struct ph_out *o = &c->out;
	int err = ph__reserve(&c->a, (void **)&o->arena, &o->arena_cap, o->arena_len + n, 1);
	if (err != 0)
		return err;
	*off = o->arena_len;
	return 0;
}

#define OFF(x) ((const uint8_t *)(uintptr_t)(x))

/* One encoded copy of m for every destination in `to`. */
static int out_msgs(struct ph_cell *c, const ph_node_id *to, size_t n, const struct ph_msg *m)
{
	struct ph_out *o = &c->out;
	if (n == 0)
		return 0;
	size_t size = ph__msg_size(m);
	size_t off;
	int err = ph__reserve(&c->a, (void **)&o->msgs, &o->cap_msgs, o->n_msgs + n, sizeof *o->msgs);
	if (err == 0)
		err = arena_take(c, size, &off);
	if (err != 0)
		return err;
	size_t len;
	err = ph_msg_encode(m, o->arena + off, size, &len);
	if (err != 0)
		return err; /* a message we could not encode is a bug in the caller */
	o->arena_len += len;
	for (size_t i = 0; i < n; i++) {
		struct ph_message *x = &o->msgs[o->n_msgs++];
		x->to = to[i];
		x->type = m->type;
		x->bytes = OFF(off);
		x->len = len;
		x->after_durable = false;
	}
	return 0;
}

int ph__out_msg(struct ph_cell *c, ph_node_id to, const struct ph_msg *m)
{
	return out_msgs(c, &to, 1, m);
}

int ph__out_broadcast(struct ph_cell *c, const struct ph_msg *m)
{
	/* every jury of the open eras: the roster (jury.c) */
	ph_node_id ids[PH_ROSTER_MAX], to[PH_ROSTER_MAX];
	size_t n = 0, r = ph__roster(c, ids);
	for (size_t i = 0; i < r; i++)
		if (ids[i] != c->self)
			to[n++] = ids[i];
	return out_msgs(c, to, n, m);
}

int ph__out_reply(struct ph_cell *c, const struct ph_reply *r)
{
	struct ph_out *o = &c->out;
	size_t off = 0;
	int err = ph__reserve(&c->a, (void **)&o->reps, &o->cap_reps, o->n_reps + 1, sizeof *o->reps);
	if (err == 0)
		err = arena_take(c, r->result_len, &off);
	if (err != 0)
		return err;
	if (r->result_len > 0)
		memcpy(o->arena + off, r->result, r->result_len);
	o->arena_len += r->result_len;
	struct ph_reply *x = &o->reps[o->n_reps++];
	*x = *r;
	x->result = r->result_len ? OFF(off) : NULL;
	return 0;
}

int ph__out_transition(struct ph_cell *c, const struct ph_transition *t)
{
	struct ph_out *o = &c->out;
	int err = ph__reserve(&c->a, (void **)&o->trans, &o->cap_trans, o->n_trans + 1,
			      sizeof *o->trans);
	if (err != 0)
		return err;
	o->trans[o->n_trans++] = *t;
	return 0;
}

int ph__out_record(struct ph_cell *c, int kind, ph_slot slot, size_t size,
		   void (*fill)(struct ph_wr *w, const void *ud), const void *ud)
{
	struct ph_out *o = &c->out;
	size_t off;
	int err = ph__reserve(&c->a, (void **)&o->recs, &o->cap_recs, o->n_recs + 1, sizeof *o->recs);
	if (err == 0)
		err = arena_take(c, size, &off);
	if (err != 0)
		return err;
	struct ph_wr w;
	ph__wr_init(&w, o->arena + off, size);
	fill(&w, ud);
	o->arena_len += w.len;
	struct ph_record *r = &o->recs[o->n_recs++];
	r->kind = kind;
	r->slot = slot;
	r->bytes = OFF(off);
	r->len = w.len;
	return 0;
}

static void shrink(struct ph_cell *c, void **p, size_t *cap, size_t n, size_t sz)
{
	if (*cap == n)
		return;
	if (n == 0) {
		ph__free(&c->a, *p);
		*p = NULL;
		*cap = 0;
		return;
	}
	void *q = ph__realloc(&c->a, *p, n * sz);
	if (q != NULL) { /* keeping the larger block is fine */
		*p = q;
		*cap = n;
	}
}

void ph_cell_trim(struct ph_cell *c)
{
	if (c == NULL || c->keep_out)
		return; /* queued output of a failed step must survive */
	out_free(c);
	shrink(c, (void **)&c->log, &c->log_cap, c->log_n, sizeof *c->log);
	shrink(c, (void **)&c->kv, &c->kv_cap, c->kv_n, sizeof *c->kv);
	shrink(c, (void **)&c->ses, &c->ses_cap, c->ses_n, sizeof *c->ses);
	shrink(c, (void **)&c->p1, &c->p1_cap, c->p1_n, sizeof *c->p1);
	shrink(c, (void **)&c->pend, &c->pend_cap, c->pend_n, sizeof *c->pend);
	shrink(c, (void **)&c->batch, &c->batch_cap, c->batch_len, 1);
}

static void out_reset(struct ph_cell *c)
{
	struct ph_out *o = &c->out;
	o->n_recs = o->n_msgs = o->n_reps = o->n_trans = 0;
	o->arena_len = 0;
}

/* ---- the log ------------------------------------------------------------------- */

struct ph_entry *ph__log_get(struct ph_cell *c, ph_slot s)
{
	if (s < c->base || s - c->base >= c->log_n)
		return NULL;
	return &c->log[s - c->base];
}

int ph__log_at(struct ph_cell *c, ph_slot s, struct ph_entry **out)
{
	if (s < c->base)
		return PH_EINVAL;
	size_t i = (size_t)(s - c->base);
	if (i >= c->log_n) {
		int err = ph__reserve(&c->a, (void **)&c->log, &c->log_cap, i + 1, sizeof *c->log);
		if (err != 0)
			return err;
		memset(&c->log[c->log_n], 0, (i + 1 - c->log_n) * sizeof *c->log);
		c->log_n = i + 1;
	}
	*out = &c->log[i];
	return 0;
}

int ph__entry_set(struct ph_cell *c, struct ph_entry *e, const uint8_t *v, size_t len)
{
	if (e->value != NULL && e->len == len && memcmp(e->value, v, len) == 0)
		return 0;
	uint8_t *p = ph__alloc(&c->a, len);
	if (p == NULL)
		return PH_ENOMEM;
	memcpy(p, v, len);
	ph__free(&c->a, e->value);
	e->value = p;
	e->len = (uint32_t)len;
	return 0;
}

void ph__truncate(struct ph_cell *c, ph_slot s)
{
	if (s <= c->base)
		return;
	size_t drop = (size_t)(s - c->base);
	if (drop > c->log_n)
		drop = c->log_n;
	for (size_t i = 0; i < drop; i++)
		ph__free(&c->a, c->log[i].value);
	if (c->log_n > drop)
		memmove(c->log, c->log + drop, (c->log_n - drop) * sizeof *c->log);
	c->log_n -= drop;
	c->base = s;
	c->snapshot_dirty = 1;
}

struct apply_ud {
	struct ph_cell *c;
	ph_slot slot;
};

static int apply_one(void *ud, size_t i, const struct ph_bentry *e)
{
	struct apply_ud *u = ud;
	if (i < u->c->apply_index)
		return 0;
	int err = ph__apply_entry(u->c, u->slot, (uint32_t)i, e);
	if (err == 0)
		u->c->apply_index = (uint32_t)i + 1;
	return err;
}

int ph__advance(struct ph_cell *c)
{
	struct ph_entry *e;
	while ((e = ph__log_get(c, c->chosen)) != NULL && e->chosen)
		c->chosen++;
	while (c->applied < c->chosen) {
		e = ph__log_get(c, c->applied);
		struct apply_ud u = {c, c->applied};
		int err = ph__batch_walk(e->value, e->len, apply_one, &u);
		if (err != 0)
			return err;
		c->applied++;
		c->apply_index = 0;
		ph__jury_fold(c);
	}
	if (ph__member_from(c, c->chosen))
		c->member_seen = 1;
	assert(c->base <= c->applied && c->applied <= c->chosen);
	if (c->applied - c->base >= PH_SNAP_EVERY)
		ph__truncate(c, c->applied);
	return 0;
}

/* ---- the step ------------------------------------------------------------------- */

static int finalise(struct ph_cell *c, struct ph_update *up)
{
	struct ph_out *o = &c->out;
	size_t recs0 = o->n_recs, arena0 = o->arena_len;
	int err = ph__records_emit(c);
	if (err != 0) {
		o->n_recs = recs0;
		o->arena_len = arena0;
		return err;
	}
	uint64_t pid = 0;
	if (o->n_recs > 0)
		pid = ++c->persist_id;
	else if (c->persist_id > c->durable_id)
		pid = c->persist_id;
	bool pending = c->persist_id > c->durable_id;
	for (size_t i = 0; i < o->n_recs; i++)
		o->recs[i].bytes = o->arena + (uintptr_t)o->recs[i].bytes;
	for (size_t i = 0; i < o->n_msgs; i++) {
		o->msgs[i].bytes = o->arena + (uintptr_t)o->msgs[i].bytes;
		o->msgs[i].after_durable = pending;
#ifdef PH_PLANTED_BUGS
		/* the planted bug: an acceptor's answers leave before its records */
		if (PH_BUG(c, PH_BUG_REPLY_BEFORE_DURABLE) &&
		    (o->msgs[i].type == PH_MSG_PROMISE || o->msgs[i].type == PH_MSG_ACCEPTED))
			o->msgs[i].after_durable = false;
#endif
	}
	for (size_t i = 0; i < o->n_reps; i++) {
		if (o->reps[i].result_len > 0)
			o->reps[i].result = o->arena + (uintptr_t)o->reps[i].result;
		o->reps[i].after_durable = pending;
#ifdef PH_PLANTED_BUGS
		if (PH_BUG(c, PH_BUG_REPLY_BEFORE_DURABLE))
			o->reps[i].after_durable = false;
#endif
	}
	memset(up, 0, sizeof *up);
	up->records = o->recs;
	up->n_records = o->n_recs;
	up->persist_id = pid;
	up->messages = o->msgs;
	up->n_messages = o->n_msgs;
	up->replies = o->reps;
	up->n_replies = o->n_reps;
	up->transitions = o->trans;
	up->n_transitions = o->n_trans;
	up->wake = ph__wake(c);
	return 0;
}

/* Messages for another cell, or that fail validation, are dropped. */
static int on_receive(struct ph_cell *c, const struct ph_event *ev)
{
	struct ph_msg m;
	if (ev->receive.bytes == NULL || ev->receive.from == 0 ||
	    ph_msg_decode(ev->receive.bytes, ev->receive.len, &m) != 0 || m.pkey_len != c->pkey_len ||
	    memcmp(m.pkey, c->pkey, m.pkey_len) != 0 || ev->receive.from == c->self) {
		c->dropped++;
		return 0;
	}
	return ph__on_message(c, ev->receive.from, &m);
}

int ph_cell_step(struct ph_cell *c, const struct ph_event *ev, struct ph_update *out)
{
	if (c == NULL || ev == NULL || out == NULL)
		return PH_EINVAL;
	if (ev->now < c->now)
		return PH_EINVAL;
	if (ev->type == PH_EV_DURABLE && ev->durable.persist_id > c->persist_id)
		return PH_EINVAL;
	if (ev->type < PH_EV_TICK || ev->type > PH_EV_RECONFIGURE)
		return PH_EINVAL;
	if (!c->keep_out)
		out_reset(c);
	c->now = ev->now;
	if (!c->started) {
		c->started = 1;
		ph__reset_election(c);
	}
	int err = 0;
	switch (ev->type) {
	case PH_EV_TICK:
		err = ph__on_tick(c);
		break;
	case PH_EV_RECEIVE:
		err = on_receive(c, ev);
		break;
	case PH_EV_REQUEST:
		err = ph__on_request(c, ev);
		break;
	case PH_EV_RECONFIGURE:
		err = ph__on_reconfigure(c, ev);
		break;
	case PH_EV_DURABLE:
		if (ev->durable.persist_id > c->durable_id)
			c->durable_id = ev->durable.persist_id;
		break;
	}
	if (err == 0)
		err = ph__advance(c);
	if (err == 0)
		err = ph__propose(c);
	if (err == 0)
		err = finalise(c, out);
	c->keep_out = err != 0;
	return err;
}

/* ---- introspection ----------------------------------------------------------------- */

void ph_cell_status(const struct ph_cell *c, struct ph_cell_status *s)
{
	memset(s, 0, sizeof *s);
	s->role = c->role;
	s->self = c->self;
	s->promised = c->promised;
	s->ballot = c->ballot;
	s->leader_hint = c->leader_hint;
	s->chosen = c->chosen;
	s->applied = c->applied;
	s->snapshot = c->base;
	s->in_flight = c->role == PH_ROLE_LEADER && c->next > c->chosen ? (uint32_t)(c->next - c->chosen) : 0;
	const struct ph_jury *nj = ph__jury_newest(c, &s->jury_from);
	s->jury_n = nj->n;
	memcpy(s->jury, nj->ids, sizeof s->jury);
	s->jury_epoch = c->jury_epoch;
	s->deposed = ph__deposed(c);
	s->persist_id = c->persist_id;
	s->durable_id = c->durable_id;
	s->dropped_messages = c->dropped;
	s->n_keys = c->kv_n;
	s->data_bytes = c->data_bytes;
}

static uint64_t hash_ballot(uint64_t h, struct ph_ballot b)
{
	return ph__hash_u64(ph__hash_u64(h, b.round), b.node);
}

uint64_t ph_cell_state_hash(const struct ph_cell *c)
{
	uint64_t h = PH_HASH_INIT;
	h = ph__hash_u64(h, c->role);
	h = hash_ballot(h, c->promised);
	h = hash_ballot(h, c->ballot);
	h = ph__hash_u64(h, c->base);
	h = ph__hash_u64(h, c->chosen);
	h = ph__hash_u64(h, c->applied);
	h = ph__hash_u64(h, c->apply_index);
	h = ph__hash_u64(h, c->role == PH_ROLE_LEADER ? c->next : 0);
	h = ph__hash_u64(h, c->role == PH_ROLE_CANDIDATE ? c->p1_mask : 0);
	for (size_t i = 0; i < c->log_n; i++) {
		const struct ph_entry *e = &c->log[i];
		h = hash_ballot(h, e->accepted);
		h = ph__hash_u64(h, (uint64_t)e->chosen << 32 | (c->role == PH_ROLE_LEADER ? e->votes : 0));
		h = ph__hash_u64(h, e->len);
		h = ph__hash(h, e->value, e->len);
	}
	h = ph__hash_u64(h, c->jury.n);
	for (size_t i = 0; i < c->jury.n; i++)
		h = ph__hash_u64(h, c->jury.ids[i]);
	h = ph__hash_u64(h, c->jury_epoch);
	h = ph__hash_u64(h, c->jury_from);
	h = ph__hash_u64(h, c->joiner);
	h = ph__hash_u64(h, c->joiner_from);
	h = ph__hash_u64(h, c->eras_n);
	for (size_t k = 0; k < c->eras_n; k++) {
		h = ph__hash_u64(h, c->eras[k].from);
		for (size_t i = 0; i < c->eras[k].jury.n; i++)
			h = ph__hash_u64(h, c->eras[k].jury.ids[i]);
	}
	h = ph__hash_u64(h, c->feature_level);
	/* sessions in client order, so the table's layout does not matter */
	uint64_t last = 0;
	for (size_t k = 0; k < c->ses_n; k++) {
		const struct ph_session *best = NULL;
		for (size_t i = 0; i < c->ses_n; i++)
			if (c->ses[i].client > last && (best == NULL || c->ses[i].client < best->client))
				best = &c->ses[i];
		last = best->client;
		h = ph__hash_u64(h, best->client);
		h = ph__hash_u64(h, best->seq);
		h = ph__hash(h, best->result, best->rlen);
	}
	for (size_t i = 0; i < c->kv_n; i++) {
		h = ph__hash_u64(h, c->kv[i].klen);
		h = ph__hash(h, c->kv[i].key, c->kv[i].klen);
		h = ph__val_hash(h, &c->kv[i].v);
	}
	return h;
}

int ph_cell_log_entry(const struct ph_cell *c, ph_slot s, struct ph_ballot *accepted,
		      bool *chosen, const uint8_t **value, size_t *len)
{
	if (c == NULL)
		return PH_EINVAL;
	if (s < c->base || s - c->base >= c->log_n || c->log[s - c->base].value == NULL)
		return PH_ENOENT;
	const struct ph_entry *e = &c->log[s - c->base];
	if (accepted)
		*accepted = e->accepted;
	if (chosen)
		*chosen = e->chosen != 0;
	if (value)
		*value = e->value;
	if (len)
		*len = e->len;
	return 0;
}

size_t ph_cell_n_keys(const struct ph_cell *c)
{
	return c->kv_n;
}

int ph_cell_key_at(const struct ph_cell *c, size_t i, const uint8_t **key, size_t *klen,
		   struct ph_value *v)
{
	if (c == NULL || i >= c->kv_n)
		return PH_EINVAL;
	if (key)
		*key = c->kv[i].key;
	if (klen)
		*klen = c->kv[i].klen;
	if (v)
		ph__val_view(&c->kv[i].v, v);
	return 0;
}

int ph_cell_get(const struct ph_cell *c, const void *key, size_t klen, struct ph_value *v)
{
	if (c == NULL || (key == NULL && klen > 0))
		return PH_EINVAL;
	const struct ph_kv *kv = ph__kv_find(c, key, klen, NULL);
	if (kv == NULL)
		return PH_ENOENT;
	if (v)
		ph__val_view(&kv->v, v);
	return 0;
}
