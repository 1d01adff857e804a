/* tests/engine/test_paxos.c: each Paxos role of one replica, driven by hand
 * with crafted messages: acceptor, proposer (candidate and leader), learner,
 * catch-up, durability flags, restart from records, validation. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define MS 1000000ull

static const uint8_t PKEY[] = "vol-7";
static struct ph_cell *cell;
static struct ph_update up;
static ph_time now;

static struct ph_cell *make(ph_node_id self, unsigned alpha, unsigned max_batch)
{
	struct ph_cell_config cfg;
	ph_cell_config_init(&cfg);
	cfg.pkey = PKEY;
	cfg.pkey_len = sizeof PKEY - 1;
	cfg.self = self;
	cfg.jury_n = 3;
	cfg.jury[0] = 1;
	cfg.jury[1] = 2;
	cfg.jury[2] = 3;
	cfg.seed = 7;
	if (alpha)
		cfg.alpha = alpha;
	if (max_batch)
		cfg.max_batch = max_batch;
	struct ph_cell *c;
	ck_assert_int_eq(ph_cell_new(&cfg, NULL, &c), 0);
	return c;
}

static void setup(void)
{
	now = 1000 * MS;
	cell = make(1, 0, 0);
}

static void teardown(void)
{
	ph_cell_free(cell);
}

static void ev_step(const struct ph_event *ev)
{
	ck_assert_int_eq(ph_cell_step(cell, ev, &up), 0);
}

static void tick(ph_time t)
{
	now = t;
	struct ph_event ev = {.type = PH_EV_TICK, .now = now};
	ev_step(&ev);
}

static void durable(void)
{
	struct ph_cell_status s;
	ph_cell_status(cell, &s);
	struct ph_event ev = {.type = PH_EV_DURABLE, .now = now};
	ev.durable.persist_id = s.persist_id;
	ev_step(&ev);
}

static uint8_t wire[PH_MSG_MAX];

static void recv_msg(ph_node_id from, struct ph_msg *m)
{
	m->pkey = PKEY;
	m->pkey_len = sizeof PKEY - 1;
	size_t len;
	ck_assert_int_eq(ph_msg_encode(m, wire, sizeof wire, &len), 0);
	struct ph_event ev = {.type = PH_EV_RECEIVE, .now = now};
	ev.receive.from = from;
	ev.receive.bytes = wire;
	ev.receive.len = len;
	ev_step(&ev);
}

static struct ph_msg msg(int type, uint64_t round, ph_node_id node, ph_slot slot)
{
	struct ph_msg m;
	memset(&m, 0, sizeof m);
	m.type = type;
	m.ballot = (struct ph_ballot){round, node};
	m.slot = slot;
	return m;
}

/* The n-th message of type in the update (decoded), or fail. */
static const struct ph_message *find(int type, size_t nth, struct ph_msg *out)
{
	for (size_t i = 0; i < up.n_messages; i++) {
		if (up.messages[i].type != type)
			continue;
		if (nth-- > 0)
			continue;
		ck_assert_int_eq(ph_msg_peek_type(up.messages[i].bytes, up.messages[i].len), type);
		if (out)
			ck_assert_int_eq(ph_msg_decode(up.messages[i].bytes, up.messages[i].len, out), 0);
		return &up.messages[i];
	}
	return NULL;
}

static size_t count(int type)
{
	size_t n = 0;
	for (size_t i = 0; i < up.n_messages; i++)
		n += up.messages[i].type == type;
	return n;
}

static bool has_record(int kind, ph_slot slot)
{
	for (size_t i = 0; i < up.n_records; i++)
		if (up.records[i].kind == kind && up.records[i].slot == slot) {
			ck_assert_int_eq(ph_record_check(&up.records[i], NULL), 0);
			return true;
		}
	return false;
}

/* A batch of one transaction (put k=v) from (client, seq). */
static size_t batch(uint8_t *buf, uint64_t client, uint64_t seq, const char *k)
{
	struct ph_txn *t;
	ph_txn_new(NULL, &t);
	struct ph_value v = {.type = PH_T_BOOL, .boolean = true};
	ph_txn_put(t, k, strlen(k), &v);
	uint8_t tb[64];
	size_t tl;
	ph_txn_encode(t, tb, sizeof tb, &tl);
	ph_txn_free(t);
	size_t n = 0;
	buf[n++] = 1;
	buf[n++] = 1;
	buf[n++] = 1;
	for (int i = 7; i >= 0; i--)
		buf[n++] = (uint8_t)(client >> (8 * i));
	for (int i = 7; i >= 0; i--)
		buf[n++] = (uint8_t)(seq >> (8 * i));
	buf[n++] = (uint8_t)(tl >> 8);
	buf[n++] = (uint8_t)tl;
	memcpy(buf + n, tb, tl);
	return n + tl;
}

static struct ph_cell_status status(void)
{
	struct ph_cell_status s;
	ph_cell_status(cell, &s);
	return s;
}

START_TEST(acceptor_prepare)
{
	struct ph_msg m = msg(PH_MSG_PREPARE, 5, 2, 0), r;
	recv_msg(2, &m);
	ck_assert(has_record(PH_REC_PROMISE, 0));
	const struct ph_message *p = find(PH_MSG_PROMISE, 0, &r);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->to, 2);
	ck_assert(p->after_durable); /* the promise is not on disk yet */
	ck_assert_uint_eq(up.persist_id, 1);
	ck_assert_uint_eq(r.ballot.round, 5);
	ck_assert_uint_eq(r.n_entries, 0);
	durable();
	/* the same prepare again: answered, nothing new to persist */
	recv_msg(2, &m);
	p = find(PH_MSG_PROMISE, 0, NULL);
	ck_assert_ptr_nonnull(p);
	ck_assert(!p->after_durable);
	ck_assert_uint_eq(up.n_records, 0);
	/* a lower ballot is rejected with the promise */
	m = msg(PH_MSG_PREPARE, 4, 3, 0);
	recv_msg(3, &m);
	ck_assert_ptr_nonnull(find(PH_MSG_REJECT, 0, &r));
	ck_assert_uint_eq(r.ballot.round, 5);
	ck_assert_uint_eq(r.ballot.node, 2);
	ck_assert_uint_eq(status().promised.round, 5);
}
END_TEST

START_TEST(acceptor_accept)
{
	uint8_t b[128];
	size_t bl = batch(b, 9, 1, "k");
	struct ph_msg m = msg(PH_MSG_ACCEPT, 2, 2, 0), r;
	m.value = b;
	m.value_len = bl;
	recv_msg(2, &m);
	ck_assert(has_record(PH_REC_ACCEPT, 0));
	ck_assert(has_record(PH_REC_PROMISE, 0)); /* accepting raises the promise */
	const struct ph_message *a = find(PH_MSG_ACCEPTED, 0, &r);
	ck_assert_ptr_nonnull(a);
	ck_assert(a->after_durable);
	ck_assert_uint_eq(r.slot, 0);
	ck_assert_uint_eq(status().leader_hint, 2);
	/* lower ballot: reject */
	m.ballot = (struct ph_ballot){1, 3};
	recv_msg(3, &m);
	ck_assert_ptr_nonnull(find(PH_MSG_REJECT, 0, NULL));
	ck_assert_ptr_null(find(PH_MSG_ACCEPTED, 0, NULL));
	/* beyond the acceptance window (chosen 0 + alpha 3): no vote, catch up */
	m = msg(PH_MSG_ACCEPT, 2, 2, 3);
	m.chosen = 3;
	m.value = b;
	m.value_len = bl;
	recv_msg(2, &m);
	ck_assert_ptr_null(find(PH_MSG_ACCEPTED, 0, NULL));
	ck_assert_ptr_nonnull(find(PH_MSG_CATCHUP, 0, &r));
	ck_assert_uint_eq(r.slot, 0);
	/* a promise now reports the accepted value */
	m = msg(PH_MSG_PREPARE, 3, 3, 0);
	recv_msg(3, &m);
	ck_assert_ptr_nonnull(find(PH_MSG_PROMISE, 0, &r));
	ck_assert_uint_eq(r.n_entries, 1);
	ck_assert_uint_eq(r.entries[0].slot, 0);
	ck_assert_uint_eq(r.entries[0].ballot.round, 2);
	ck_assert_uint_eq(r.entries[0].len, bl);
}
END_TEST

START_TEST(learner_chosen_and_catchup)
{
	uint8_t b[128];
	for (ph_slot s = 0; s < 20; s++) {
		size_t bl = batch(b, 9, s + 1, "k");
		struct ph_msg m = msg(PH_MSG_CHOSEN, 0, 0, s);
		m.value = b;
		m.value_len = bl;
		recv_msg(2, &m);
		ck_assert_uint_eq(up.n_transitions, 1);
		ck_assert_uint_eq(up.transitions[0].slot, s);
		ck_assert_int_eq(up.transitions[0].outcome, PH_OUT_COMMITTED);
	}
	struct ph_cell_status s = status();
	ck_assert_uint_eq(s.chosen, 20);
	ck_assert_uint_eq(s.applied, 20);
	ck_assert_uint_eq(s.snapshot, 16); /* truncated behind a snapshot */
	/* catch-up within the log: chosen values */
	struct ph_msg m = msg(PH_MSG_CATCHUP, 0, 0, 17), r;
	recv_msg(3, &m);
	ck_assert_uint_eq(count(PH_MSG_CHOSEN), 3);
	ck_assert_ptr_nonnull(find(PH_MSG_CHOSEN, 0, &r));
	ck_assert_uint_eq(r.slot, 17);
	/* behind the truncation: the whole state */
	m = msg(PH_MSG_CATCHUP, 0, 0, 2);
	recv_msg(3, &m);
	ck_assert_ptr_nonnull(find(PH_MSG_SNAPSHOT, 0, &r));
	ck_assert_uint_eq(r.slot, 20);
	/* a fresh replica installs it */
	struct ph_cell *other = make(3, 0, 0);
	struct ph_event ev = {.type = PH_EV_RECEIVE, .now = now};
	ev.receive.from = 1;
	const struct ph_message *sm = find(PH_MSG_SNAPSHOT, 0, NULL);
	uint8_t *copy = malloc(sm->len);
	memcpy(copy, sm->bytes, sm->len);
	ev.receive.bytes = copy;
	ev.receive.len = sm->len;
	struct ph_update u2;
	ck_assert_int_eq(ph_cell_step(other, &ev, &u2), 0);
	struct ph_cell_status s2;
	ph_cell_status(other, &s2);
	ck_assert_uint_eq(s2.applied, 20);
	ck_assert_uint_eq(s2.chosen, 20);
	ck_assert_uint_eq(ph_cell_n_keys(other), 1);
	free(copy);
	ph_cell_free(other);
}
END_TEST

static void elect(void)
{
	/* the election timer fires within [timeout, 3 timeouts) */
	for (int i = 0; i < 100 && status().role != PH_ROLE_CANDIDATE; i++)
		tick(now + 10 * MS);
	ck_assert_int_eq(status().role, PH_ROLE_CANDIDATE);
	ck_assert_uint_eq(count(PH_MSG_PREPARE), 2);
	ck_assert(has_record(PH_REC_PROMISE, 0));
	struct ph_msg p;
	find(PH_MSG_PREPARE, 0, &p);
	ck_assert_uint_eq(p.ballot.node, 1);
	durable();
	struct ph_msg m = msg(PH_MSG_PROMISE, p.ballot.round, 1, 0);
	recv_msg(2, &m);
	ck_assert_int_eq(status().role, PH_ROLE_LEADER);
}

START_TEST(proposer_lead_and_commit)
{
	elect();
	struct ph_cell_status s = status();
	ck_assert_uint_eq(s.leader_hint, 1);
	/* a request becomes an accept to both others */
	uint8_t tb[64];
	struct ph_txn *t;
	ph_txn_new(NULL, &t);
	ph_txn_read(t, "x", 1);
	size_t tl;
	ph_txn_encode(t, tb, sizeof tb, &tl);
	ph_txn_free(t);
	struct ph_event ev = {.type = PH_EV_REQUEST, .now = now};
	ev.request.client = 5;
	ev.request.seq = 1;
	ev.request.txn = tb;
	ev.request.len = tl;
	ev_step(&ev);
	ck_assert_uint_eq(count(PH_MSG_ACCEPT), 2);
	ck_assert(has_record(PH_REC_ACCEPT, 0));
	ck_assert_uint_eq(status().in_flight, 1);
	struct ph_msg a;
	find(PH_MSG_ACCEPT, 0, &a);
	/* one vote + ours: chosen, announced, applied, answered */
	struct ph_msg m = msg(PH_MSG_ACCEPTED, a.ballot.round, 1, 0);
	recv_msg(3, &m);
	ck_assert_uint_eq(count(PH_MSG_CHOSEN), 2);
	ck_assert(has_record(PH_REC_CHOSEN, 0));
	ck_assert_uint_eq(up.n_transitions, 1);
	ck_assert_uint_eq(up.n_replies, 1);
	ck_assert_int_eq(up.replies[0].status, PH_ST_COMMITTED);
	ck_assert(up.replies[0].after_durable); /* our own accept is not on disk yet */
	ck_assert_uint_eq(up.replies[0].token, 1);
	/* heartbeats keep coming */
	ck_assert_uint_gt(up.wake, now);
	tick(up.wake);
	ck_assert_uint_eq(count(PH_MSG_HEARTBEAT), 2);
	/* a retry of the same request is answered from the session table */
	ev.now = now;
	ev_step(&ev);
	ck_assert_uint_eq(up.n_replies, 1);
	ck_assert_int_eq(up.replies[0].status, PH_ST_COMMITTED);
	ck_assert_uint_eq(count(PH_MSG_ACCEPT), 0);
	/* preempted by a higher ballot: step down */
	m = msg(PH_MSG_REJECT, a.ballot.round + 5, 2, 0);
	recv_msg(2, &m);
	ck_assert_int_eq(status().role, PH_ROLE_FOLLOWER);
	ev.request.seq = 2;
	ev_step(&ev);
	ck_assert_int_eq(up.replies[0].status, PH_ST_NOT_LEADER);
}
END_TEST

START_TEST(proposer_recovers_accepted)
{
	/* another proposer was seen at round 3: our ballot goes above it */
	struct ph_msg pre = msg(PH_MSG_PREPARE, 3, 2, 0);
	recv_msg(2, &pre);
	for (int i = 0; i < 100 && status().role != PH_ROLE_CANDIDATE; i++)
		tick(now + 10 * MS);
	struct ph_msg p;
	find(PH_MSG_PREPARE, 0, &p);
	ck_assert_uint_eq(p.ballot.round, 4);
	uint8_t b[128];
	size_t bl = batch(b, 9, 1, "old");
	struct ph_msg m = msg(PH_MSG_PROMISE, p.ballot.round, 1, 0);
	m.n_entries = 1;
	m.entries[0] = (struct ph_msg_entry){1, {3, 2}, b, bl};
	recv_msg(2, &m);
	ck_assert_int_eq(status().role, PH_ROLE_LEADER);
	/* slot 0: a hole (no-op); slot 1: the reported value */
	ck_assert_uint_eq(count(PH_MSG_ACCEPT), 4);
	struct ph_msg a0, a1;
	find(PH_MSG_ACCEPT, 0, &a0);
	find(PH_MSG_ACCEPT, 2, &a1);
	ck_assert_uint_eq(a0.slot, 0);
	ck_assert_uint_eq(a0.value_len, 2);
	ck_assert_uint_eq(a1.slot, 1);
	ck_assert_uint_eq(a1.value_len, bl);
	ck_assert(memcmp(a1.value, b, bl) == 0);
}
END_TEST

START_TEST(busy_when_full)
{
	ph_cell_free(cell);
	cell = make(1, 1, 1);
	elect();
	uint8_t tb[16];
	struct ph_txn *t;
	ph_txn_new(NULL, &t);
	size_t tl;
	ph_txn_encode(t, tb, sizeof tb, &tl);
	ph_txn_free(t);
	struct ph_event ev = {.type = PH_EV_REQUEST, .now = now};
	ev.request.txn = tb;
	ev.request.len = tl;
	ev.request.seq = 1;
	ev.request.client = 1;
	ev_step(&ev); /* proposed: fills the pipeline (alpha 1) */
	ck_assert_uint_eq(count(PH_MSG_ACCEPT), 2);
	ev.request.client = 2;
	ev_step(&ev); /* waits in the open batch */
	ck_assert_uint_eq(up.n_replies, 0);
	ev.request.client = 3;
	ev_step(&ev); /* refused */
	ck_assert_uint_eq(up.n_replies, 1);
	ck_assert_int_eq(up.replies[0].status, PH_ST_BUSY);
}
END_TEST

START_TEST(restart_from_records)
{
	/* promise (9,3) and accept slot 0, as persisted */
	struct ph_msg m = msg(PH_MSG_PREPARE, 9, 3, 0);
	recv_msg(3, &m);
	uint8_t b[128];
	size_t bl = batch(b, 9, 1, "k");
	m = msg(PH_MSG_ACCEPT, 9, 3, 0);
	m.value = b;
	m.value_len = bl;
	struct ph_record recs[8];
	uint8_t store[8][512];
	size_t n = 0;
	struct ph_record first = up.records[0];
	memcpy(store[n], first.bytes, first.len);
	recs[n] = first;
	recs[n].bytes = store[n];
	n++;
	recv_msg(3, &m);
	for (size_t i = 0; i < up.n_records; i++) {
		memcpy(store[n], up.records[i].bytes, up.records[i].len);
		recs[n] = up.records[i];
		recs[n].bytes = store[n];
		n++;
	}
	uint64_t h = ph_cell_state_hash(cell);
	struct ph_cell *c2 = make(1, 0, 0);
	ck_assert_int_eq(ph_cell_load(c2, recs, n), 0);
	struct ph_cell_status s;
	ph_cell_status(c2, &s);
	ck_assert_uint_eq(s.promised.round, 9);
	ck_assert_uint_eq(s.promised.node, 3);
	ck_assert_uint_eq(ph_cell_state_hash(c2), h);
	/* loading twice, or after a step, is refused */
	ck_assert_int_eq(ph_cell_load(c2, recs, n), PH_ESTATE);
	ph_cell_free(c2);
	/* a record whose key disagrees with its bytes */
	c2 = make(1, 0, 0);
	recs[0].slot = 4;
	ck_assert_int_eq(ph_record_check(&recs[0], NULL), PH_ECORRUPT);
	ck_assert_int_eq(ph_cell_load(c2, recs, n), PH_ECORRUPT);
	ph_cell_status(c2, &s);
	ck_assert_uint_eq(s.promised.round, 0); /* as fresh as before */
	recs[0].slot = 0;
	/* every truncation of a record is refused */
	for (size_t k = 0; k < recs[1].len; k++) {
		struct ph_record r = recs[1];
		r.len = k;
		ck_assert_int_ne(ph_record_check(&r, NULL), 0);
	}
	ck_assert_int_eq(ph_cell_load(c2, recs, n), 0);
	ph_cell_free(c2);
}
END_TEST

START_TEST(validation_and_errors)
{
	/* another cell's message, garbage, a message from ourselves: dropped */
	struct ph_msg m = msg(PH_MSG_PREPARE, 5, 2, 0);
	m.pkey = (const uint8_t *)"other";
	m.pkey_len = 5;
	size_t len;
	ck_assert_int_eq(ph_msg_encode(&m, wire, sizeof wire, &len), 0);
	struct ph_event ev = {.type = PH_EV_RECEIVE, .now = now};
	ev.receive.from = 2;
	ev.receive.bytes = wire;
	ev.receive.len = len;
	ev_step(&ev);
	ck_assert_uint_eq(up.n_messages, 0);
	ev.receive.len = len - 1;
	ev_step(&ev);
	m = msg(PH_MSG_PREPARE, 5, 2, 0);
	recv_msg(1, &m);
	ck_assert_uint_eq(up.n_messages, 0);
	ck_assert_uint_eq(status().dropped_messages, 3);
	/* time backwards, unknown event, durable beyond what was issued */
	ev.type = PH_EV_TICK;
	ev.now = now - 1;
	ck_assert_int_eq(ph_cell_step(cell, &ev, &up), PH_EINVAL);
	ev.now = now;
	ev.type = 99;
	ck_assert_int_eq(ph_cell_step(cell, &ev, &up), PH_EINVAL);
	ev.type = PH_EV_DURABLE;
	ev.durable.persist_id = 50;
	ck_assert_int_eq(ph_cell_step(cell, &ev, &up), PH_EINVAL);
	ck_assert_int_eq(ph_cell_load(cell, NULL, 0), PH_ESTATE);
	/* bad configs */
	struct ph_cell_config cfg;
	ph_cell_config_init(&cfg);
	struct ph_cell *c;
	ck_assert_int_eq(ph_cell_new(&cfg, NULL, &c), PH_EINVAL);
	cfg.pkey = PKEY;
	cfg.pkey_len = 3;
	cfg.self = 1;
	cfg.jury_n = 3;
	cfg.jury[0] = 1;
	cfg.jury[1] = 2;
	cfg.jury[2] = 2; /* duplicate */
	ck_assert_int_eq(ph_cell_new(&cfg, NULL, &c), PH_EINVAL);
	cfg.jury[2] = 3;
	cfg.alpha = PH_ALPHA_MAX + 1;
	ck_assert_int_eq(ph_cell_new(&cfg, NULL, &c), PH_EINVAL);
	cfg.alpha = 3;
	cfg.planted_bug = PH_BUG_APPLY_RETRY_TWICE;
#ifndef PH_PLANTED_BUGS
	ck_assert_int_eq(ph_cell_new(&cfg, NULL, &c), PH_EINVAL); /* production build */
#endif
	cfg.planted_bug = 0;
	ck_assert_int_eq(ph_cell_new(&cfg, NULL, &c), 0);
	ph_cell_free(c);
}
END_TEST

/* A clone steps exactly like its original. */
START_TEST(clone_steps_alike)
{
	elect();
	uint8_t tb[64];
	struct ph_txn *t;
	ph_txn_new(NULL, &t);
	ph_txn_cond_absent(t, "x", 1);
	ph_txn_put(t, "x", 1, &(struct ph_value){.type = PH_T_BOOL, .boolean = true});
	size_t tl;
	ph_txn_encode(t, tb, sizeof tb, &tl);
	ph_txn_free(t);
	struct ph_event ev = {.type = PH_EV_REQUEST, .now = now};
	ev.request.client = 5;
	ev.request.seq = 1;
	ev.request.txn = tb;
	ev.request.len = tl;
	ev_step(&ev);
	struct ph_msg a;
	find(PH_MSG_ACCEPT, 0, &a);
	struct ph_cell *twin;
	ck_assert_int_eq(ph_cell_clone(cell, NULL, &twin), 0);
	ck_assert(ph_cell_state_hash(twin) == ph_cell_state_hash(cell));
	struct ph_msg m = msg(PH_MSG_ACCEPTED, a.ballot.round, 1, 0);
	m.pkey = PKEY;
	m.pkey_len = sizeof PKEY - 1;
	static uint8_t w2[PH_MSG_MAX];
	size_t len;
	ck_assert_int_eq(ph_msg_encode(&m, w2, sizeof w2, &len), 0);
	struct ph_event rv = {.type = PH_EV_RECEIVE, .now = now};
	rv.receive.from = 3;
	rv.receive.bytes = w2;
	rv.receive.len = len;
	struct ph_update u1, u2;
	ck_assert_int_eq(ph_cell_step(cell, &rv, &u1), 0);
	ck_assert_int_eq(ph_cell_step(twin, &rv, &u2), 0);
	ck_assert_uint_eq(u1.n_messages, u2.n_messages);
	ck_assert_uint_eq(u1.n_records, u2.n_records);
	ck_assert_uint_eq(u1.n_replies, u2.n_replies);
	ck_assert_uint_eq(u1.n_transitions, 1);
	ck_assert_uint_eq(u2.n_transitions, 1);
	ck_assert_uint_eq(u1.persist_id, u2.persist_id);
	ck_assert_uint_eq(u1.wake, u2.wake);
	for (size_t i = 0; i < u1.n_messages; i++)
		ck_assert(u1.messages[i].len == u2.messages[i].len &&
			  memcmp(u1.messages[i].bytes, u2.messages[i].bytes, u1.messages[i].len) == 0);
	for (size_t i = 0; i < u1.n_records; i++)
		ck_assert(u1.records[i].len == u2.records[i].len &&
			  memcmp(u1.records[i].bytes, u2.records[i].bytes, u1.records[i].len) == 0);
	ck_assert(ph_cell_state_hash(twin) == ph_cell_state_hash(cell));
	ph_cell_free(twin);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("paxos");
	TCase *tc = tcase_create("paxos");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, acceptor_prepare);
	tcase_add_test(tc, acceptor_accept);
	tcase_add_test(tc, learner_chosen_and_catchup);
	tcase_add_test(tc, proposer_lead_and_commit);
	tcase_add_test(tc, proposer_recovers_accepted);
	tcase_add_test(tc, busy_when_full);
	tcase_add_test(tc, restart_from_records);
	tcase_add_test(tc, validation_and_errors);
	tcase_add_test(tc, clone_steps_alike);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
