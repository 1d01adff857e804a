/* tests/engine/test_alloc.c: allocation-failure sweeps (STYLE.md 6). For a
 * set of representative steps, fail the Nth allocation for every N until the
 * step succeeds untouched: the step returns PH_ENOMEM (or absorbs the loss of
 * a message), the replica stays usable, retrying the event reaches exactly
 * the state of a run without failure with the same transitions, and
 * nothing leaks once the replica is freed. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "countalloc.h"
#include "engine.h"

#define MS 1000000ull

static const uint8_t PKEY[] = "vol-9";
static struct countalloc ca;
static ph_time now;
static uint8_t evbuf[PH_MSG_MAX];
static uint8_t txnbuf[PH_TXN_MAX];

static struct ph_cell *make(ph_node_id self)
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
	cfg.seed = 3;
	struct ph_cell *c;
	ck_assert_int_eq(ph_cell_new(&cfg, &ca.hook, &c), 0);
	now = 1000 * MS;
	return c;
}

static struct ph_update up;

static void must(struct ph_cell *c, const struct ph_event *ev)
{
	ck_assert_int_eq(ph_cell_step(c, ev, &up), 0);
}

static void msg_event(struct ph_event *ev, ph_node_id from, struct ph_msg *m)
{
	m->pkey = PKEY;
	m->pkey_len = sizeof PKEY - 1;
	size_t len;
	ck_assert_int_eq(ph_msg_encode(m, evbuf, sizeof evbuf, &len), 0);
	memset(ev, 0, sizeof *ev);
	ev->type = PH_EV_RECEIVE;
	ev->now = now;
	ev->receive.from = from;
	ev->receive.bytes = evbuf;
	ev->receive.len = len;
}

static size_t txn_bytes(void)
{
	struct ph_txn *t;
	ck_assert_int_eq(ph_txn_new(NULL, &t), 0);
	mpz_t z;
	mpz_init_set_si(z, 3);
	struct ph_value v = {.type = PH_T_BYTES, .bytes = (const uint8_t *)"val", .len = 3};
	ph_txn_put(t, "a", 1, &v);
	ph_txn_increment(t, "n", 1, z);
	ph_txn_read(t, "a", 1);
	ph_txn_cond_absent(t, "zz", 2);
	mpz_clear(z);
	size_t n;
	ck_assert_int_eq(ph_txn_encode(t, txnbuf, sizeof txnbuf, &n), 0);
	ph_txn_free(t);
	return n;
}

static size_t batch(uint8_t *buf, uint64_t client, uint64_t seq)
{
	size_t tl = txn_bytes();
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
	memcpy(buf + n, txnbuf, tl);
	return n + tl;
}

static void learn(struct ph_cell *c, ph_slot upto, ph_node_id from)
{
	static uint8_t b[PH_BATCH_BYTES_MAX];
	for (ph_slot s = 0; s < upto; s++) {
		struct ph_msg m;
		memset(&m, 0, sizeof m);
		m.type = PH_MSG_CHOSEN;
		m.slot = s;
		m.value_len = batch(b, 10 + s % 20, 1 + s / 20);
		m.value = b;
		struct ph_event ev;
		msg_event(&ev, from, &m);
		must(c, &ev);
	}
}

static struct ph_ballot elect(struct ph_cell *c)
{
	struct ph_cell_status s;
	struct ph_event ev = {.type = PH_EV_TICK, .now = now};
	for (int i = 0; i < 100; i++) {
		must(c, &ev);
		ph_cell_status(c, &s);
		if (s.role == PH_ROLE_CANDIDATE)
			break;
		now += 10 * MS;
		ev.now = now;
	}
	struct ph_msg m;
	memset(&m, 0, sizeof m);
	m.type = PH_MSG_PROMISE;
	m.ballot = s.ballot;
	msg_event(&ev, 2, &m);
	must(c, &ev);
	ph_cell_status(c, &s);
	ck_assert_int_eq(s.role, PH_ROLE_LEADER);
	return s.ballot;
}

static void request_event(struct ph_event *ev, uint64_t client)
{
	size_t n = txn_bytes();
	memset(ev, 0, sizeof *ev);
	ev->type = PH_EV_REQUEST;
	ev->now = now;
	ev->request.client = client;
	ev->request.seq = 1;
	ev->request.txn = txnbuf;
	ev->request.len = n;
}

/* ---- scenarios: a replica and the event to sweep ----------------------------- */

static struct ph_cell *sc_prepare(struct ph_event *ev)
{
	struct ph_cell *c = make(1);
	struct ph_msg m;
	memset(&m, 0, sizeof m);
	m.type = PH_MSG_PREPARE;
	m.ballot = (struct ph_ballot){4, 2};
	msg_event(ev, 2, &m);
	return c;
}

static struct ph_cell *sc_request(struct ph_event *ev)
{
	struct ph_cell *c = make(1);
	elect(c);
	request_event(ev, 5);
	return c;
}

static struct ph_cell *sc_commit(struct ph_event *ev)
{
	struct ph_cell *c = make(1);
	struct ph_ballot b = elect(c);
	struct ph_event r;
	for (uint64_t k = 0; k < 3; k++) {
		request_event(&r, 5 + k);
		must(c, &r);
	}
	struct ph_msg m;
	memset(&m, 0, sizeof m);
	m.type = PH_MSG_ACCEPTED;
	m.ballot = b;
	m.slot = 0;
	msg_event(ev, 3, &m);
	return c;
}

static struct ph_cell *sc_learn_snapshot(struct ph_event *ev)
{
	struct ph_cell *c = make(1);
	learn(c, 31, 2);
	static uint8_t b[PH_BATCH_BYTES_MAX];
	struct ph_msg m;
	memset(&m, 0, sizeof m);
	m.type = PH_MSG_CHOSEN;
	m.slot = 31; /* applying it truncates the log behind a snapshot */
	m.value_len = batch(b, 99, 1);
	m.value = b;
	msg_event(ev, 2, &m);
	return c;
}

static struct ph_cell *sc_catchup(struct ph_event *ev)
{
	struct ph_cell *c = make(1);
	learn(c, 20, 2);
	struct ph_msg m;
	memset(&m, 0, sizeof m);
	m.type = PH_MSG_CATCHUP;
	m.slot = 1;
	msg_event(ev, 3, &m);
	return c;
}

static struct ph_cell *sc_install(struct ph_event *ev)
{
	/* a snapshot made by a replica that learned 20 slots */
	struct ph_cell *src = make(2);
	learn(src, 20, 3);
	struct ph_cell_status ss;
	ph_cell_status(src, &ss);
	ck_assert_uint_eq(ss.applied, 20);
	static uint8_t snap[PH_MSG_MAX];
	size_t sl;
	ck_assert_int_eq(ph_cell_snapshot_encode(src, snap, sizeof snap, &sl), 0);
	ph_cell_free(src);
	struct ph_cell *c = make(1);
	learn(c, 2, 2);
	struct ph_msg m;
	memset(&m, 0, sizeof m);
	m.type = PH_MSG_SNAPSHOT;
	m.slot = 20;
	m.value = snap;
	m.value_len = sl;
	msg_event(ev, 2, &m);
	return c;
}

static void sweep(struct ph_cell *(*scenario)(struct ph_event *ev), const char *name)
{
	struct ph_event ev;
	/* the reference run */
	countalloc_init(&ca);
	struct ph_cell *c = scenario(&ev);
	must(c, &ev);
	uint64_t ref_hash = ph_cell_state_hash(c);
	size_t ref_trans = up.n_transitions;
	ph_cell_free(c);
	ck_assert_uint_eq(ca.live_blocks, 0);

	uint64_t n;
	for (n = 1; n < 100000; n++) {
		countalloc_init(&ca);
		c = scenario(&ev);
		uint64_t before = ca.calls;
		ca.fail_at = before + n;
		int rc = ph_cell_step(c, &ev, &up);
		ca.fail_at = 0;
		if (ca.failed == 0) {
			ck_assert_int_eq(rc, 0);
			ph_cell_free(c);
			ck_assert_uint_eq(ca.live_blocks, 0);
			break;
		}
		ck_assert_msg(rc == 0 || rc == PH_ENOMEM, "%s n=%llu: %s", name,
			      (unsigned long long)n, ph_strerror(rc));
		if (rc != 0) {
			/* nothing produced is lost: the retry's update carries it */
			rc = ph_cell_step(c, &ev, &up);
			ck_assert_msg(rc == 0, "%s n=%llu: retry: %s", name, (unsigned long long)n,
				      ph_strerror(rc));
			ck_assert_msg(up.n_transitions == ref_trans, "%s n=%llu: %zu transitions, want %zu",
				      name, (unsigned long long)n, up.n_transitions, ref_trans);
		}
		ck_assert_msg(ph_cell_state_hash(c) == ref_hash, "%s n=%llu: state differs", name,
			      (unsigned long long)n);
		/* still usable */
		now += 500 * MS;
		struct ph_event t = {.type = PH_EV_TICK, .now = now};
		ck_assert_int_eq(ph_cell_step(c, &t, &up), 0);
		ph_cell_free(c);
		ck_assert_msg(ca.live_blocks == 0, "%s n=%llu: %zu blocks leaked", name,
			      (unsigned long long)n, ca.live_blocks);
	}
	printf("alloc sweep %s: %llu allocation points\n", name, (unsigned long long)(n - 1));
	ck_assert_uint_gt(n, 1);
}

START_TEST(sweep_prepare) { sweep(sc_prepare, "prepare"); }
END_TEST
START_TEST(sweep_request) { sweep(sc_request, "request"); }
END_TEST
START_TEST(sweep_commit) { sweep(sc_commit, "commit"); }
END_TEST
START_TEST(sweep_learn_snapshot) { sweep(sc_learn_snapshot, "learn+snapshot"); }
END_TEST
START_TEST(sweep_catchup) { sweep(sc_catchup, "catchup"); }
END_TEST
START_TEST(sweep_install) { sweep(sc_install, "install"); }
END_TEST

/* Cloning a busy leader: every failure frees everything. */
START_TEST(sweep_clone)
{
	countalloc_init(&ca);
	struct ph_event ev;
	struct ph_cell *src = sc_commit(&ev);
	must(src, &ev);
	struct countalloc ca2;
	uint64_t n;
	for (n = 1;; n++) {
		countalloc_init(&ca2);
		ca2.fail_at = n;
		struct ph_cell *c = NULL;
		int rc = ph_cell_clone(src, &ca2.hook, &c);
		if (rc == 0) {
			ck_assert(ph_cell_state_hash(c) == ph_cell_state_hash(src));
			ph_cell_free(c);
			ck_assert_uint_eq(ca2.live_blocks, 0);
			if (ca2.failed == 0)
				break;
			continue;
		}
		ck_assert_int_eq(rc, PH_ENOMEM);
		ck_assert_ptr_null(c);
		ck_assert_uint_eq(ca2.live_blocks, 0);
	}
	printf("alloc sweep clone: %llu allocation points\n", (unsigned long long)(n - 1));
	ck_assert_uint_gt(n, 5);
	ph_cell_free(src);
}
END_TEST

START_TEST(sweep_new_load_decode)
{
	/* records of a replica that learned 20 slots */
	countalloc_init(&ca);
	struct ph_cell *src = make(1);
	static struct ph_record recs[128];
	static uint8_t store[128][PH_MSG_MAX / 8];
	size_t nrec = 0;
	static uint8_t b[PH_BATCH_BYTES_MAX];
	struct ph_msg pm;
	memset(&pm, 0, sizeof pm);
	pm.type = PH_MSG_PREPARE;
	pm.ballot = (struct ph_ballot){4, 2};
	for (ph_slot s = 0; s < 22; s++) {
		struct ph_event ev;
		struct ph_msg m;
		memset(&m, 0, sizeof m);
		m.type = PH_MSG_CHOSEN;
		m.slot = s;
		m.value_len = batch(b, 10 + s, 1);
		m.value = b;
		msg_event(&ev, 2, s == 21 ? &pm : &m);
		must(src, &ev);
		for (size_t i = 0; i < up.n_records; i++) {
			ck_assert_uint_lt(up.records[i].len, sizeof store[0]);
			memcpy(store[nrec], up.records[i].bytes, up.records[i].len);
			recs[nrec] = up.records[i];
			recs[nrec].bytes = store[nrec];
			nrec++;
		}
	}
	ph_cell_free(src);
	uint64_t ref = 0;
	uint64_t n;
	for (n = 1; n < 100000; n++) {
		countalloc_init(&ca);
		ca.fail_at = n;
		struct ph_cell_config cfg;
		ph_cell_config_init(&cfg);
		cfg.pkey = PKEY;
		cfg.pkey_len = 3;
		cfg.self = 1;
		cfg.jury_n = 3;
		cfg.jury[0] = 1;
		cfg.jury[1] = 2;
		cfg.jury[2] = 3;
		struct ph_cell *c = NULL;
		int rc = ph_cell_new(&cfg, &ca.hook, &c);
		if (rc == PH_ENOMEM) {
			ck_assert_uint_eq(ca.live_blocks, 0);
			continue;
		}
		ck_assert_int_eq(rc, 0);
		uint64_t fresh = ph_cell_state_hash(c);
		rc = ph_cell_load(c, recs, nrec);
		if (rc == PH_ENOMEM) {
			ck_assert(ph_cell_state_hash(c) == fresh); /* as fresh as before */
			ca.fail_at = 0;
			ck_assert_int_eq(ph_cell_load(c, recs, nrec), 0);
		}
		ck_assert_int_eq(rc == PH_ENOMEM ? 0 : rc, 0);
		if (ref == 0)
			ref = ph_cell_state_hash(c);
		ck_assert(ph_cell_state_hash(c) == ref || ca.failed == 0);
		ph_cell_free(c);
		ck_assert_uint_eq(ca.live_blocks, 0);
		if (ca.failed == 0)
			break;
	}
	printf("alloc sweep new+load: %llu allocation points\n", (unsigned long long)(n - 1));
	/* decoders */
	size_t tl = txn_bytes();
	for (n = 1;; n++) {
		countalloc_init(&ca);
		ca.fail_at = n;
		struct ph_txn *t = NULL;
		int rc = ph_txn_decode(txnbuf, tl, &ca.hook, &t);
		if (rc == 0) {
			ph_txn_free(t);
			ck_assert_uint_eq(ca.live_blocks, 0);
			if (ca.failed == 0)
				break;
			continue;
		}
		ck_assert_int_eq(rc, PH_ENOMEM);
		ck_assert_ptr_null(t);
		ck_assert_uint_eq(ca.live_blocks, 0);
	}
	ck_assert_uint_gt(n, 3);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("alloc");
	TCase *tc = tcase_create("alloc");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, sweep_prepare);
	tcase_add_test(tc, sweep_request);
	tcase_add_test(tc, sweep_commit);
	tcase_add_test(tc, sweep_learn_snapshot);
	tcase_add_test(tc, sweep_catchup);
	tcase_add_test(tc, sweep_install);
	tcase_add_test(tc, sweep_new_load_decode);
	tcase_add_test(tc, sweep_clone);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
