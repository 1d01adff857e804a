/* Integration: a 7-node colony hosting thousands of cells, clients writing
 * through the client library while nodes are SIGKILLed at random points and
 * restarted; every acknowledged write is present afterwards and the recorded
 * history is linearizable (reports/ checker). And a durability loop: every
 * node of a colony SIGKILLed at once at random points, restarted, every
 * acknowledged write still there.
 *
 * Sizes scale with PH_COLONY_CELLS (default 2000) and PH_COLONY_SECONDS
 * (default 20). Real processes on 127.0.0.1. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <engine.h>
#include <inttypes.h>
#include <pthread.h>
#include <reports.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "colony.h"
#include "node.h"

static struct colony col;

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

static long env_long(const char *name, long dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtol(v, NULL, 10) : dflt;
}

static struct node_client *new_client(size_t nodes, uint64_t total_ms)
{
	char a[COLONY_MAX][64];
	const char *seeds[COLONY_MAX];
	for (uint32_t i = 0; i < nodes; i++) {
		colony_client_addr(&col, i + 1, a[i], sizeof a[i]);
		seeds[i] = a[i];
	}
	struct node_client *cl;
	ck_assert_int_eq(node_client_new(seeds, nodes, 0, &cl), 0);
	node_client_set_retry(cl, total_ms, 2, 100);
	return cl;
}

/* ---- the recorded workload ------------------------------------------------ */

struct shared {
	struct rep_history h;
	pthread_mutex_t mu;
	size_t ncells;
	int64_t stop_ns;
	long acked, failed, indeterminate;
	/* last acknowledged value per (cell, key) written by anyone, for the
	 * "every acknowledged write present" check: any acked write must be
	 * visible or overwritten by a later-invoked write. */
};

struct worker {
	struct shared *sh;
	int id;
	unsigned seed;
	struct node_client *cl;
	int64_t process;
};

static void cell_name(size_t i, char *buf, size_t n)
{
	snprintf(buf, n, "vol-%05zu", i);
}

enum op_kind { OP_WRITE, OP_READ, OP_CAS };

/* One operation: build the engine txn and the reports op, run, record. */
static void one_op(struct worker *w, enum op_kind kind, const char *cell, const char *key,
		   const char *val, const char *expect)
{
	struct shared *sh = w->sh;
	struct ph_txn *t;
	ck_assert_int_eq(ph_txn_new(NULL, &t), 0);
	struct rep_cond cond;
	struct rep_txop rop;
	struct rep_txn rt;
	memset(&rt, 0, sizeof rt);
	memset(&cond, 0, sizeof cond);
	memset(&rop, 0, sizeof rop);
	rop.key = rep_value_bytes(NULL, key, strlen(key));
	struct ph_value pv = { .type = PH_T_BYTES };
	if (kind == OP_READ) {
		ck_assert_int_eq(ph_txn_read(t, key, strlen(key)), 0);
		rop.kind = REP_TX_READ;
	} else {
		if (kind == OP_CAS) {
			cond.key = rop.key;
			if (expect) {
				pv.bytes = (const uint8_t *)expect;
				pv.len = strlen(expect);
				ck_assert_int_eq(ph_txn_cond_equals(t, key, strlen(key), &pv), 0);
				cond.kind = REP_COND_EQUALS;
				cond.value = rep_value_bytes(NULL, expect, strlen(expect));
			} else {
				ck_assert_int_eq(ph_txn_cond_absent(t, key, strlen(key)), 0);
				cond.kind = REP_COND_ABSENT;
			}
			rt.conds = &cond;
			rt.nconds = 1;
		}
		pv.bytes = (const uint8_t *)val;
		pv.len = strlen(val);
		ck_assert_int_eq(ph_txn_put(t, key, strlen(key), &pv), 0);
		rop.kind = REP_TX_PUT;
		rop.value = rep_value_bytes(NULL, val, strlen(val));
	}
	rt.ops = &rop;
	rt.nops = 1;
	uint8_t buf[1024];
	size_t len;
	ck_assert_int_eq(ph_txn_encode(t, buf, sizeof buf, &len), 0);
	ph_txn_free(t);

	struct rep_op op;
	memset(&op, 0, sizeof op);
	op.process = w->process;
	op.fn = REP_FN_TXN;
	op.outcome = REP_OUT_PENDING;
	op.cell = rep_value_bytes(NULL, cell, strlen(cell));
	op.txn = &rt;
	op.complete_ns = -1;
	size_t idx;
	pthread_mutex_lock(&sh->mu);
	op.invoke_ns = mono_ns();
	ck_assert_int_eq(rep_history_invoke(&sh->h, &op, &idx), 0);
	pthread_mutex_unlock(&sh->mu);

	struct node_result r;
	int rc = node_client_txn(w->cl, cell, strlen(cell), buf, len, NODE_CONSISTENT, &r);
	struct rep_txn res;
	memset(&res, 0, sizeof res);
	struct rep_value reads[1];
	enum rep_outcome outcome;
	struct ph_result *pr = NULL;
	if (rc == 0) {
		ck_assert_int_eq(ph_result_decode(r.bytes, r.len, NULL, &pr), 0);
		outcome = REP_OUT_OK;
		res.committed = ph_result_outcome(pr) == PH_OUT_COMMITTED;
		if (!res.committed)
			ck_assert_int_eq(ph_result_reason(pr), PH_R_CONDITION);
		if (res.committed) {
			reads[0] = rep_value_nil();
			if (kind == OP_READ) {
				const uint8_t *k;
				size_t kl;
				bool present;
				struct ph_value v;
				ck_assert_int_eq(ph_result_read(pr, 0, &k, &kl, &present, &v), 0);
				if (present)
					reads[0] = rep_value_bytes(NULL, v.bytes, v.len);
			}
			res.reads = reads;
		}
	} else if (rc == NODE_ECELL || rc == NODE_EMALFORMED) {
		ck_abort_msg("refused: %s", node_strerror(rc));
	} else {
		/* timed out / unavailable: may or may not have applied */
		outcome = REP_OUT_INFO;
	}
	pthread_mutex_lock(&sh->mu);
	ck_assert_int_eq(rep_history_complete(&sh->h, idx, outcome, mono_ns(), NULL,
					      outcome == REP_OUT_OK ? &res : NULL), 0);
	if (outcome == REP_OUT_OK)
		sh->acked++;
	else
		sh->indeterminate++;
	pthread_mutex_unlock(&sh->mu);
	if (pr)
		ph_result_free(pr);
	if (rc == 0)
		node_result_free(&r);
	else
		w->process += 1000; /* Jepsen: after INFO carry on as a new process */
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	long n = 0;
	/* a per-thread hot set keeps several ops on the same keys (so the
	 * checker has something to check), the rest spreads over every cell */
	while (mono_ns() < w->sh->stop_ns) {
		unsigned r = (unsigned)rand_r(&w->seed);
		size_t ci = (r % 4 == 0) ? (size_t)rand_r(&w->seed) % w->sh->ncells
					 : (size_t)rand_r(&w->seed) % 64;
		char cell[32], val[64];
		cell_name(ci, cell, sizeof cell);
		const char *key = (r >> 3) % 2 ? "a" : "b";
		snprintf(val, sizeof val, "w%d-%ld", w->id, n++);
		unsigned kind = (r >> 5) % 10;
		if (kind < 5) {
			one_op(w, OP_WRITE, cell, key, val, NULL);
		} else if (kind < 8) {
			one_op(w, OP_READ, cell, key, NULL, NULL);
		} else {
			char expect[64];
			snprintf(expect, sizeof expect, "w%d-%ld", (int)((r >> 9) % 8),
				 n > 3 ? n - 3 : 0);
			one_op(w, OP_CAS, cell, key, val, (r >> 12) % 4 ? expect : NULL);
		}
	}
	return NULL;
}

struct creator {
	size_t from, to, nodes, jury_n;
};

static void *creator_main(void *arg)
{
	struct creator *cr = arg;
	struct node_client *cl = new_client(cr->nodes, 30000);
	for (size_t i = cr->from; i < cr->to; i++) {
		char cell[32];
		cell_name(i, cell, sizeof cell);
		uint32_t jury[NODE_JURY_MAX];
		for (size_t j = 0; j < cr->jury_n; j++)
			jury[j] = (uint32_t)((i + j) % cr->nodes) + 1;
		int rc = node_client_cell_create(cl, cell, strlen(cell), jury, cr->jury_n);
		ck_assert_msg(rc == 0, "create %s: %s", cell, node_strerror(rc));
	}
	node_client_free(cl);
	return NULL;
}

static void create_cells(size_t ncells, size_t nodes, size_t jury_n)
{
	enum { NT = 4 };
	pthread_t th[NT];
	struct creator cr[NT];
	for (size_t i = 0; i < NT; i++) {
		cr[i] = (struct creator){ ncells * i / NT, ncells * (i + 1) / NT, nodes, jury_n };
		ck_assert_int_eq(pthread_create(&th[i], NULL, creator_main, &cr[i]), 0);
	}
	for (size_t i = 0; i < NT; i++)
		pthread_join(th[i], NULL);
}

static void teardown(void)
{
	colony_destroy(&col);
}

START_TEST(seven_nodes_thousands_of_cells_with_kills)
{
	const size_t nodes = 7, jury_n = 5;
	size_t ncells = (size_t)env_long("PH_COLONY_CELLS", 2000);
	long seconds = env_long("PH_COLONY_SECONDS", 20);
	/* The engine heartbeats every led cell and keeps an election timer on
	 * every follower, so thousands of cells on 7 processes sharing two
	 * cores need slower timing than the engine's defaults. */
	ck_assert_int_eq(colony_start(&col, nodes,
				      "timing: {heartbeat_ms: 500, election_timeout_ms: 2000}\n"), 0);
	int64_t t0 = mono_ns();
	create_cells(ncells, nodes, jury_n);
	fprintf(stderr, "colony: %zu cells (jury %zu of %zu nodes) created in %.1f s\n", ncells,
		jury_n, nodes, (double)(mono_ns() - t0) / 1e9);

	struct shared sh;
	memset(&sh, 0, sizeof sh);
	rep_history_init(&sh.h);
	pthread_mutex_init(&sh.mu, NULL);
	sh.ncells = ncells;
	sh.stop_ns = mono_ns() + seconds * 1000000000LL;
	enum { NW = 8 };
	struct worker w[NW];
	pthread_t th[NW];
	for (int i = 0; i < NW; i++) {
		w[i] = (struct worker){ .sh = &sh, .id = i, .seed = 1234u + (unsigned)i,
					.cl = new_client(nodes, 4000), .process = i };
		ck_assert_int_eq(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	/* nemesis: SIGKILL one random node at a random point, restart it */
	unsigned seed = (unsigned)getpid();
	int kills = 0;
	while (mono_ns() < sh.stop_ns - 1500000000LL) {
		nap_ms(300 + rand_r(&seed) % 900);
		uint32_t victim = (uint32_t)(rand_r(&seed) % nodes) + 1;
		int st = colony_node_signal(&col, victim, SIGKILL);
		ck_assert(st != -1 && WIFSIGNALED(st));
		kills++;
		nap_ms(100 + rand_r(&seed) % 500);
		ck_assert_int_eq(colony_node_start(&col, victim), 0);
	}
	for (int i = 0; i < NW; i++) {
		pthread_join(th[i], NULL);
		node_client_free(w[i].cl);
	}
	/* final reads of the hot keys, after every write completed */
	struct worker fin = { .sh = &sh, .id = 99, .cl = new_client(nodes, 20000), .process = 99 };
	for (size_t ci = 0; ci < 64 && ci < ncells; ci++) {
		char cell[32];
		cell_name(ci, cell, sizeof cell);
		one_op(&fin, OP_READ, cell, "a", NULL, NULL);
		one_op(&fin, OP_READ, cell, "b", NULL, NULL);
	}
	node_client_free(fin.cl);
	fprintf(stderr, "colony: %zu ops (%ld ok, %ld indeterminate), %d kills\n", sh.h.n, sh.acked,
		sh.indeterminate, kills);
	ck_assert_int_gt(sh.acked, 100);
	struct rep_budget budget = { .seconds = 120 };
	struct rep_check_result res;
	ck_assert_int_eq(rep_check(&sh.h, &budget, &res), 0);
	if (res.verdict != REP_LINEARIZABLE)
		rep_check_print(&sh.h, &res, stderr);
	fprintf(stderr, "colony: verdict %s (%zu parts, %.2f s)\n", rep_verdict_name(res.verdict),
		res.nparts, res.seconds);
	ck_assert_int_eq(res.verdict, REP_LINEARIZABLE);
	rep_check_result_free(&res);
	rep_history_free(&sh.h);
}
END_TEST

/* ---- durability loop ------------------------------------------------------ */

struct writer {
	int cell;
	long attempted, acked;
	struct node_client *cl;
	volatile int *stop;
};

static void *writer_main(void *arg)
{
	struct writer *wr = arg;
	char cell[32];
	cell_name((size_t)wr->cell, cell, sizeof cell);
	while (!*wr->stop) {
		long v = wr->attempted + 1;
		char val[32];
		snprintf(val, sizeof val, "%ld", v);
		struct ph_txn *t;
		ph_txn_new(NULL, &t);
		struct ph_value pv = { .type = PH_T_BYTES, .bytes = (const uint8_t *)val, .len = strlen(val) };
		ph_txn_put(t, "n", 1, &pv);
		uint8_t buf[256];
		size_t len;
		ph_txn_encode(t, buf, sizeof buf, &len);
		ph_txn_free(t);
		wr->attempted = v;
		struct node_result r;
		if (node_client_txn(wr->cl, cell, strlen(cell), buf, len, NODE_CONSISTENT, &r) == 0) {
			if (r.outcome == PH_ST_COMMITTED)
				wr->acked = v;
			node_result_free(&r);
		}
	}
	return NULL;
}

START_TEST(kill_every_node_at_random_points)
{
	const size_t nodes = 3;
	enum { NCELLS = 6 };
	long rounds = env_long("PH_DURABILITY_ROUNDS", 10);
	ck_assert_int_eq(colony_start(&col, nodes, NULL), 0);
	create_cells(NCELLS, nodes, 3);
	unsigned seed = (unsigned)getpid();
	struct writer wr[NCELLS];
	memset(wr, 0, sizeof wr);
	for (long round = 0; round < rounds; round++) {
		volatile int stop = 0;
		pthread_t th[NCELLS];
		for (int i = 0; i < NCELLS; i++) {
			wr[i].cell = i;
			wr[i].stop = &stop;
			wr[i].cl = new_client(nodes, 1500);
			ck_assert_int_eq(pthread_create(&th[i], NULL, writer_main, &wr[i]), 0);
		}
		nap_ms(50 + rand_r(&seed) % 400);
		for (uint32_t id = 1; id <= nodes; id++)
			kill(col.pid[id], SIGKILL);
		for (uint32_t id = 1; id <= nodes; id++)
			ck_assert(WIFSIGNALED(colony_node_wait(&col, id, 10000)));
		stop = 1;
		for (int i = 0; i < NCELLS; i++) {
			pthread_join(th[i], NULL);
			node_client_free(wr[i].cl);
		}
		for (uint32_t id = 1; id <= nodes; id++)
			ck_assert_int_eq(colony_node_start(&col, id), 0);
		struct node_client *cl = new_client(nodes, 20000);
		for (int i = 0; i < NCELLS; i++) {
			char cell[32];
			cell_name((size_t)i, cell, sizeof cell);
			struct ph_txn *t;
			ph_txn_new(NULL, &t);
			ph_txn_read(t, "n", 1);
			uint8_t buf[64];
			size_t len;
			ph_txn_encode(t, buf, sizeof buf, &len);
			ph_txn_free(t);
			struct node_result r;
			int rc = node_client_txn(cl, cell, strlen(cell), buf, len, NODE_CONSISTENT, &r);
			ck_assert_msg(rc == 0, "round %ld read %s: %s", round, cell, node_strerror(rc));
			struct ph_result *pr;
			ck_assert_int_eq(ph_result_decode(r.bytes, r.len, NULL, &pr), 0);
			const uint8_t *k;
			size_t kl;
			bool present;
			struct ph_value v;
			ck_assert_int_eq(ph_result_read(pr, 0, &k, &kl, &present, &v), 0);
			long got = 0;
			if (present) {
				char tmp[32];
				snprintf(tmp, sizeof tmp, "%.*s", (int)v.len, (const char *)v.bytes);
				got = strtol(tmp, NULL, 10);
			}
			ck_assert_msg(got >= wr[i].acked && got <= wr[i].attempted,
				      "round %ld %s: read %ld, acknowledged %ld, attempted %ld", round,
				      cell, got, wr[i].acked, wr[i].attempted);
			/* the next round continues from what is there */
			wr[i].attempted = got > wr[i].attempted ? got : wr[i].attempted;
			wr[i].acked = got;
			ph_result_free(pr);
			node_result_free(&r);
		}
		node_client_free(cl);
	}
}
END_TEST

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	Suite *s = suite_create("node_colony");
	TCase *tc = tcase_create("colony");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, seven_nodes_thousands_of_cells_with_kills);
	tcase_add_test(tc, kill_every_node_at_random_points);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
