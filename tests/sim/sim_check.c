/* The safety invariants of sim_check.h. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_check.h"

void sim_check_init(struct sim_checker *c, const ph_node_id *ids, int n)
{
	memset(c, 0, sizeof(*c));
	c->n = n;
	c->majority = n / 2 + 1;
	c->alpha = 3; /* engine default; sim_world sets its own */
	c->njury = 1;
	for (int i = 0; i < n; i++) {
		c->r[i].id = ids[i];
		c->r[i].up = true;
		c->jury[0].mask |= 1ull << i;
	}
	sim_map_init(&c->changes);
	sim_map_init(&c->accept_val);
	sim_map_init(&c->votes);
	sim_map_init(&c->chosen);
	sim_map_init(&c->log);
	sim_map_init(&c->by_req);
	sim_map_init(&c->state_at);
}

void sim_check_close(struct sim_checker *c)
{
	sim_map_close(&c->accept_val);
	sim_map_close(&c->votes);
	sim_map_close(&c->chosen);
	sim_map_close(&c->log);
	sim_map_close(&c->by_req);
	sim_map_close(&c->state_at);
	sim_map_close(&c->changes);
	free(c->snap);
	c->snap = NULL;
}

int sim_check_index(const struct sim_checker *c, ph_node_id id)
{
	for (int i = 0; i < c->n; i++)
		if (c->r[i].id == id)
			return i;
	return -1;
}

int sim_check_add_replica(struct sim_checker *c, ph_node_id id)
{
	if (c->n >= SIM_MAX_REPLICAS)
		return -1;
	c->r[c->n].id = id;
	c->r[c->n].up = true;
	return c->n++;
}

uint32_t sim_check_epoch(const struct sim_checker *c)
{
	return (uint32_t)(c->njury - 1);
}

/* The jury that votes at slot s. */
static uint64_t jury_mask(const struct sim_checker *c, ph_slot s)
{
	uint64_t m = c->jury[0].mask;
	for (int k = 1; k < c->njury && c->jury[k].from <= s; k++)
		m = c->jury[k].mask;
	return m;
}

/* Votes (a bitmask of indexes) form a majority of slot s's jury. */
static bool quorum(const struct sim_checker *c, ph_slot s, uint64_t votes)
{
	uint64_t j = jury_mask(c, s);
	return 2 * __builtin_popcountll(votes & j) > __builtin_popcountll(j);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void violate(struct sim_checker *c, const char *fmt, ...)
{
	if (c->violations++ == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->violation, sizeof(c->violation), fmt, ap);
		va_end(ap);
	}
}

static void put(struct sim_checker *c, struct sim_map *m, uint64_t a, uint64_t b, uint64_t k,
		uint64_t v)
{
	if (sim_map_put(m, a, b, k, v) != 0 && !c->oom) {
		c->oom = true;
		violate(c, "checker out of memory");
	}
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}
#define FNV0 0xcbf29ce484222325ull

static uint64_t bal_key(struct ph_ballot b)
{
	return b.round;
}

void sim_check_before_step(struct sim_checker *c, int i, const struct ph_cell *cell)
{
	struct ph_cell_status st;
	ph_cell_status(cell, &st);
	c->r[i].promised_before = st.promised;
}

static void check_transition(struct sim_checker *c, int i, const struct ph_transition *t)
{
	struct sim_check_replica *r = &c->r[i];
	uint64_t pos = ((uint64_t)t->slot << 8 | t->index) + 1;
	if (pos <= r->last_pos)
		violate(c, "node %u applied slot %" PRIu64 " index %u after position %" PRIu64
			   " (applied out of order)", r->id, t->slot, t->index, r->last_pos - 1);
	r->last_pos = pos;
	uint64_t h = FNV0;
	h = fnv(h, &t->client, sizeof(t->client));
	h = fnv(h, &t->seq, sizeof(t->seq));
	int32_t o = t->outcome, rs = t->reason;
	h = fnv(h, &o, sizeof(o));
	h = fnv(h, &rs, sizeof(rs));
	uint64_t *have = sim_map_get(&c->log, t->slot, t->index, 0);
	if (have) {
		if (*have != h)
			violate(c, "applied prefixes disagree: node %u applied client %" PRIu64
				   " seq %" PRIu64 " outcome %d at slot %" PRIu64 " index %u, another"
				   " replica applied something else there", r->id, t->client, t->seq,
				t->outcome, t->slot, t->index);
		return;
	}
	put(c, &c->log, t->slot, t->index, 0, h);
	if (t->outcome == PH_OUT_COMMITTED)
		c->committed++;
	uint64_t *ch = sim_map_get(&c->changes, t->client, t->seq, 0);
	if (ch && t->outcome == PH_OUT_COMMITTED) {
		if (c->njury == SIM_MAX_JURIES) {
			violate(c, "more than %d jury changes (checker limit)", SIM_MAX_JURIES - 1);
			return;
		}
		int out = sim_check_index(c, (ph_node_id)(*ch & 0xffffffffu));
		int in = sim_check_index(c, (ph_node_id)(*ch >> 32));
		uint64_t m = c->jury[c->njury - 1].mask;
		if (out >= 0)
			m &= ~(1ull << out);
		if (in >= 0)
			m |= 1ull << in;
		c->jury[c->njury].from = t->slot + c->alpha;
		c->jury[c->njury].mask = m;
		c->njury++;
	}
	/* Only a decided transition counts: committed, or ignored after its
	 * conditions and writes were evaluated. Refusals without evaluation
	 * (stale seq, expired session, feature level, malformed) and DUPLICATE
	 * answers have no effect and may repeat. */
	bool decided = t->outcome == PH_OUT_COMMITTED ||
		       (t->outcome == PH_OUT_IGNORED &&
			(t->reason == PH_R_CONDITION || t->reason == PH_R_TYPE ||
			 t->reason == PH_R_CELL_FULL || t->reason == PH_R_INT_TOO_BIG ||
			 t->reason == PH_R_RESULT_TOO_BIG));
	if (!decided)
		return;
	uint64_t *at = sim_map_get(&c->by_req, t->client, t->seq, 0);
	if (at && *at != pos)
		violate(c, "request applied twice: client %" PRIu64 " seq %" PRIu64
			   " at slot %" PRIu64 " index %" PRIu64 " and slot %" PRIu64 " index %u",
			t->client, t->seq, (*at - 1) >> 8, (*at - 1) & 0xff, t->slot, t->index);
	else if (!at)
		put(c, &c->by_req, t->client, t->seq, 0, pos);
}

static uint64_t state_hash(struct sim_checker *c, const struct ph_cell *cell)
{
	size_t len = 0;
	for (;;) {
		int rc = ph_cell_snapshot_encode(cell, c->snap, c->snap_cap, &len);
		if (rc == 0)
			return fnv(FNV0, c->snap, len);
		if (rc != PH_ETOOBIG || len <= c->snap_cap) {
			violate(c, "ph_cell_snapshot_encode: %s", ph_strerror(rc));
			return 0;
		}
		uint8_t *p = realloc(c->snap, len);
		if (!p) {
			violate(c, "checker out of memory");
			return 0;
		}
		c->snap = p;
		c->snap_cap = len;
	}
}

/* Status facts after a step or a load. */
static void check_status(struct sim_checker *c, int i, const struct ph_cell *cell)
{
	struct sim_check_replica *r = &c->r[i];
	struct ph_cell_status st;
	ph_cell_status(cell, &st);
	if (!c->outcomes_only && ph_ballot_cmp(st.promised, r->max_sent) < 0)
		violate(c, "durable state went back: node %u promised (%" PRIu64 ",%u) after"
			   " having sent ballot (%" PRIu64 ",%u)", r->id, st.promised.round,
			st.promised.node, r->max_sent.round, r->max_sent.node);
	for (ph_slot s = r->chosen_checked; s < st.chosen && !c->outcomes_only; s++)
		if (!sim_map_get(&c->chosen, s, 0, 0) && s >= st.snapshot) {
			violate(c, "node %u holds slot %" PRIu64 " chosen but no majority of the"
				   " jury accepted it", r->id, s);
			break;
		}
	if (st.chosen > r->chosen_checked)
		r->chosen_checked = st.chosen;
	if (st.applied != r->last_applied) {
		r->last_applied = st.applied;
		uint64_t h = state_hash(c, cell);
		uint64_t *have = sim_map_get(&c->state_at, st.applied, 0, 0);
		if (!have)
			put(c, &c->state_at, st.applied, 0, 0, h);
		else if (*have != h)
			violate(c, "applied states differ: node %u at applied prefix %" PRIu64
				   " holds a state another replica did not have there", r->id,
				st.applied);
	}
}

void sim_check_after_step(struct sim_checker *c, int i, const struct ph_cell *cell,
			  const struct ph_update *u, bool undurable)
{
	struct sim_check_replica *r = &c->r[i];
	for (size_t k = 0; k < u->n_transitions; k++)
		check_transition(c, i, &u->transitions[k]);
	for (size_t k = 0; k < u->n_messages; k++) {
		const struct ph_message *m = &u->messages[k];
		if (undurable && !m->after_durable && !c->outcomes_only)
			violate(c, "durability contract: node %u sent a %s unflagged while records"
				   " were not durable", r->id, ph_msg_type_name(m->type));
		if (m->type == PH_MSG_ACCEPTED && !c->outcomes_only) {
			struct ph_msg d;
			if (ph_msg_decode(m->bytes, m->len, &d) == 0 &&
			    ph_ballot_cmp(d.ballot, r->promised_before) < 0)
				violate(c, "node %u accepted ballot (%" PRIu64 ",%u) at slot %" PRIu64
					   " below its promise (%" PRIu64 ",%u)", r->id, d.ballot.round,
					d.ballot.node, d.slot, r->promised_before.round,
					r->promised_before.node);
		}
	}
	for (size_t k = 0; k < u->n_replies; k++)
		if (undurable && !u->replies[k].after_durable && !c->outcomes_only)
			violate(c, "durability contract: node %u replied to client %" PRIu64
				   " seq %" PRIu64 " unflagged while records were not durable",
				r->id, u->replies[k].client, u->replies[k].seq);
	check_status(c, i, cell);
}

static void note_sent_ballot(struct sim_check_replica *r, struct ph_ballot b)
{
	if (ph_ballot_cmp(b, r->max_sent) > 0)
		r->max_sent = b;
}

static void vote(struct sim_checker *c, int voter, struct ph_ballot b, ph_slot slot)
{
	uint64_t *mask = sim_map_get(&c->votes, bal_key(b), b.node, slot);
	uint64_t m = (mask ? *mask : 0) | (1ull << voter);
	put(c, &c->votes, bal_key(b), b.node, slot, m);
	if (!quorum(c, slot, m))
		return;
	uint64_t *val = sim_map_get(&c->accept_val, bal_key(b), b.node, slot);
	if (!val)
		return; /* the ACCEPT itself was not seen yet: counted when it is */
	uint64_t *ch = sim_map_get(&c->chosen, slot, 0, 0);
	if (!ch)
		put(c, &c->chosen, slot, 0, 0, *val);
	else if (*ch != *val)
		violate(c, "two values chosen for slot %" PRIu64 " (the second by ballot (%" PRIu64
			   ",%u))", slot, b.round, b.node);
}

void sim_check_sent(struct sim_checker *c, int i, const uint8_t *bytes, size_t len)
{
	struct sim_check_replica *r = &c->r[i];
	struct ph_msg d;
	int rc = ph_msg_decode(bytes, len, &d);
	if (rc != 0) {
		violate(c, "node %u sent a %s message that does not decode: %s", r->id,
			ph_msg_type_name(ph_msg_peek_type(bytes, len)), ph_strerror(rc));
		return;
	}
	switch (d.type) {
	case PH_MSG_PROMISE:
	case PH_MSG_REJECT:
		note_sent_ballot(r, d.ballot);
		break;
	case PH_MSG_ACCEPTED:
		note_sent_ballot(r, d.ballot);
		vote(c, i, d.ballot, d.slot);
		break;
	case PH_MSG_ACCEPT: {
		uint64_t h = fnv(FNV0, d.value, d.value_len);
		uint64_t *have = sim_map_get(&c->accept_val, bal_key(d.ballot), d.ballot.node, d.slot);
		if (have && *have != h)
			violate(c, "two values proposed in ballot (%" PRIu64 ",%u) for slot %" PRIu64,
				d.ballot.round, d.ballot.node, d.slot);
		if (!have) {
			put(c, &c->accept_val, bal_key(d.ballot), d.ballot.node, d.slot, h);
			/* Votes counted before the value was known now decide. */
			uint64_t *mask = sim_map_get(&c->votes, bal_key(d.ballot), d.ballot.node, d.slot);
			if (mask && quorum(c, d.slot, *mask) &&
			    !sim_map_get(&c->chosen, d.slot, 0, 0))
				put(c, &c->chosen, d.slot, 0, 0, h);
		}
		/* The proposer's own vote: its ACCEPT leaves only once its own
		 * accept record is durable. */
		int self = sim_check_index(c, d.ballot.node);
		if (self == i)
			vote(c, i, d.ballot, d.slot);
		break;
	}
	default:
		break;
	}
}

void sim_check_expect_change(struct sim_checker *c, uint64_t client, uint64_t seq,
			     ph_node_id out, ph_node_id in)
{
	put(c, &c->changes, client, seq, 0, (uint64_t)out | (uint64_t)in << 32);
}

void sim_check_reply(struct sim_checker *c, int i, const struct ph_reply *rep, bool writes)
{
	if (rep->status != PH_ST_COMMITTED || !writes)
		return;
	if (!sim_map_get(&c->by_req, rep->client, rep->seq, 0))
		violate(c, "node %u acknowledged client %" PRIu64 " seq %" PRIu64
			   " as committed but it is not in the log", c->r[i].id, rep->client, rep->seq);
}

void sim_check_crash(struct sim_checker *c, int i)
{
	c->r[i].up = false;
}

void sim_check_restart(struct sim_checker *c, int i, const struct ph_cell *cell)
{
	struct sim_check_replica *r = &c->r[i];
	r->up = true;
	r->last_pos = 0;
	r->chosen_checked = 0;
	r->last_applied = (ph_slot)-1;
	check_status(c, i, cell);
}
