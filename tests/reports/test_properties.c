/* Property tests of the checker.
 *
 * 1. Histories recorded from a correct sequential execution with random
 *    concurrency (ops overlap, some end :info, some cas :fail) are always
 *    linearizable.
 * 2. The same with one result mutated are judged exactly as an independent
 *    brute-force oracle judges them (it enumerates every order of the ops
 *    that respects real time, with every subset of info ops left out), so a
 *    mutation that happens to be legal must be accepted and every other one
 *    caught.
 * 3. Random histories with random results (no execution behind them) agree
 *    with the oracle too.
 * For the register model and for the cell model (multi-key conditional
 * transactions with increments, two cells, keys split into parts). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "reports.h"

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* ------------------------------------------------------------- register */

enum { NIL = -1 };

struct gop {
	int64_t proc;
	enum rep_fn fn;
	int arg, arg2, result; /* NIL = nil */
	enum rep_outcome out;
	int64_t inv, comp;
	bool linearized;
};

/* Runs nprocs clients against one register for nops ops; about one op in
 * info_rate ends :info (half before taking effect, half after). */
static size_t gen_register_info(struct gop *ops, size_t nops, int nprocs, uint32_t info_rate)
{
	int state = NIL;
	int64_t t = 1;
	size_t started = 0;
	int64_t procid[8];
	long busy[8]; /* op index + 1 */
	for (int p = 0; p < nprocs; p++) {
		procid[p] = p;
		busy[p] = 0;
	}
	for (;;) {
		int p = (int)rnd((uint32_t)nprocs);
		if (busy[p] == 0) {
			if (started == nops) {
				bool any = false;
				for (int q = 0; q < nprocs; q++)
					any |= busy[q] != 0;
				if (!any)
					break;
				continue;
			}
			struct gop *o = &ops[started];
			memset(o, 0, sizeof *o);
			o->proc = procid[p];
			o->fn = (enum rep_fn)rnd(3);
			o->arg = (int)rnd(4);
			o->arg2 = (int)rnd(4);
			if (o->fn == REP_FN_CAS && rnd(4) == 0)
				o->arg = NIL;
			o->result = NIL;
			o->inv = t++;
			busy[p] = (long)++started;
			continue;
		}
		struct gop *o = &ops[busy[p] - 1];
		if (!o->linearized) {
			if (rnd(2 * info_rate) == 0) { /* crashes before taking effect */
				o->out = REP_OUT_INFO;
				o->comp = t++;
				busy[p] = 0;
				procid[p] += nprocs;
				continue;
			}
			o->linearized = true;
			switch (o->fn) {
			case REP_FN_READ:
				o->result = state;
				o->out = REP_OUT_OK;
				break;
			case REP_FN_WRITE:
				state = o->arg;
				o->out = REP_OUT_OK;
				break;
			default:
				if (state == o->arg) {
					state = o->arg2;
					o->out = REP_OUT_OK;
				} else {
					o->out = REP_OUT_FAIL;
				}
				break;
			}
			continue;
		}
		o->comp = t++;
		if (rnd(2 * info_rate) == 0 && o->out == REP_OUT_OK)
			o->out = REP_OUT_INFO; /* took effect, reply lost */
		busy[p] = 0;
		if (o->out == REP_OUT_INFO)
			procid[p] += nprocs;
	}
	return started;
}

static size_t gen_register(struct gop *ops, size_t nops, int nprocs)
{
	return gen_register_info(ops, nops, nprocs, 6);
}

static struct rep_value ival(struct rep_history *h, int v)
{
	return v == NIL ? rep_value_nil() : rep_value_int(h, v);
}

static void to_history(const struct gop *g, size_t n, struct rep_history *h)
{
	rep_history_init(h);
	for (size_t i = 0; i < n; i++) {
		struct rep_op op = {
			.process = g[i].proc,
			.fn = g[i].fn,
			.outcome = g[i].out,
			.invoke_ns = g[i].inv,
			.complete_ns = g[i].comp,
			.arg = ival(h, g[i].arg),
			.arg2 = ival(h, g[i].arg2),
			.result = ival(h, g[i].result),
		};
		if (g[i].fn == REP_FN_READ && g[i].out != REP_OUT_OK)
			op.result = rep_value_nil();
		ck_assert_int_eq(rep_history_add(h, &op, NULL), 0);
	}
}

/* The oracle: is there an order of the ops (FAIL ops left out, INFO ops
 * optional) respecting real time in which every op is legal? */
static bool reg_search(const struct gop *g, size_t n, uint32_t placed, int state)
{
	bool done = true;
	for (size_t i = 0; i < n; i++)
		if (!(placed & (1u << i)) && g[i].out == REP_OUT_OK)
			done = false;
	if (done)
		return true;
	for (size_t i = 0; i < n; i++) {
		if (placed & (1u << i) || g[i].out == REP_OUT_FAIL)
			continue;
		/* every OK op that completed before i was invoked goes first */
		bool ready = true;
		for (size_t j = 0; j < n && ready; j++)
			if (!(placed & (1u << j)) && j != i && g[j].out == REP_OUT_OK &&
			    g[j].comp < g[i].inv)
				ready = false;
		if (!ready)
			continue;
		bool ok = g[i].out == REP_OUT_OK;
		int next = state;
		switch (g[i].fn) {
		case REP_FN_READ:
			if (ok && g[i].result != state)
				continue;
			break;
		case REP_FN_WRITE:
			next = g[i].arg;
			break;
		default:
			if (state != g[i].arg)
				continue;
			next = g[i].arg2;
			break;
		}
		if (reg_search(g, n, placed | 1u << i, next))
			return true;
	}
	return false;
}

static enum rep_verdict check(struct rep_history *h)
{
	struct rep_budget b = {.seconds = 30, .threads = 1 + rnd(3)};
	struct rep_check_result r;
	ck_assert_int_eq(rep_check(h, &b, &r), 0);
	enum rep_verdict v = r.verdict;
	if (v == REP_NOT_LINEARIZABLE) {
		ck_assert_ptr_nonnull(r.explanation);
		ck_assert_uint_lt(r.explanation->failing_op, h->n);
	}
	rep_check_result_free(&r);
	return v;
}

START_TEST(register_executions_are_linearizable)
{
	rng = 0x1234567ULL + (uint64_t)_i * 7919;
	for (int round = 0; round < 40; round++) {
		struct gop g[300];
		size_t n = gen_register(g, 60 + rnd(240), 2 + (int)rnd(5));
		struct rep_history h;
		to_history(g, n, &h);
		ck_assert_msg(check(&h) == REP_LINEARIZABLE, "round %d", round);
		rep_history_free(&h);
	}
}
END_TEST

/* Long histories (several bitset words): a read of a value never written is
 * caught wherever it is, and named as the failing op. */
START_TEST(register_long_history_impossible_read_is_caught)
{
	rng = 0x10f7ULL + (uint64_t)_i * 13;
	for (int round = 0; round < 20; round++) {
		struct gop g[400];
		/* few info ops: with many, a single register is exponential for
		 * any checker (see the budget test) */
		size_t n = gen_register_info(g, 200 + rnd(200), 2 + (int)rnd(6), 60);
		size_t reads[400], nr = 0;
		for (size_t i = 0; i < n; i++)
			if (g[i].fn == REP_FN_READ && g[i].out == REP_OUT_OK)
				reads[nr++] = i;
		ck_assert_uint_gt(nr, 10);
		size_t victim = reads[nr / 2 + rnd((uint32_t)(nr / 2))];
		g[victim].result = 999;
		struct rep_history h;
		to_history(g, n, &h);
		struct rep_check_result r;
		struct rep_budget b = {.seconds = 30};
		ck_assert_int_eq(rep_check(&h, &b, &r), 0);
		ck_assert_int_eq(r.verdict, REP_NOT_LINEARIZABLE);
		ck_assert_ptr_nonnull(r.explanation);
		const struct rep_op *f = &h.ops[r.explanation->failing_op];
		ck_assert_int_eq(f->fn, REP_FN_READ);
		ck_assert_int_eq(f->invoke_ns, g[victim].inv);
		rep_check_result_free(&r);
		rep_history_free(&h);
	}
}
END_TEST

START_TEST(register_mutations_match_oracle)
{
	rng = 0xabcdefULL + (uint64_t)_i * 104729;
	int caught = 0, legal = 0;
	for (int round = 0; round < 1500; round++) {
		struct gop g[12];
		size_t n = gen_register(g, 3 + rnd(6), 2 + (int)rnd(3));
		ck_assert(reg_search(g, n, 0, NIL)); /* the oracle agrees it is fine */
		/* mutate one result */
		size_t i = rnd((uint32_t)n);
		if (g[i].fn == REP_FN_READ && g[i].out == REP_OUT_OK) {
			int v = (int)rnd(5) - 1;
			if (v == g[i].result)
				v = v == NIL ? 0 : NIL;
			g[i].result = v;
		} else if (g[i].fn == REP_FN_CAS && g[i].out != REP_OUT_INFO) {
			g[i].out = g[i].out == REP_OUT_OK ? REP_OUT_FAIL : REP_OUT_OK;
		} else if (g[i].fn == REP_FN_WRITE) {
			g[i].arg = (g[i].arg + 1) % 4;
		} else {
			continue;
		}
		bool oracle = reg_search(g, n, 0, NIL);
		struct rep_history h;
		to_history(g, n, &h);
		enum rep_verdict v = check(&h);
		ck_assert_msg(v == (oracle ? REP_LINEARIZABLE : REP_NOT_LINEARIZABLE),
			      "round %d: checker says %s, oracle %s", round, rep_verdict_name(v),
			      oracle ? "linearizable" : "not");
		caught += !oracle;
		legal += oracle;
		rep_history_free(&h);
	}
	/* the test must exercise both answers */
	ck_assert_int_gt(caught, 100);
	ck_assert_int_gt(legal, 100);
}
END_TEST

START_TEST(register_random_histories_match_oracle)
{
	rng = 0x5eed5eedULL + (uint64_t)_i;
	int nots = 0;
	for (int round = 0; round < 2000; round++) {
		struct gop g[10];
		size_t n = 1 + rnd(8);
		for (size_t i = 0; i < n; i++) {
			memset(&g[i], 0, sizeof g[i]);
			g[i].proc = (int64_t)i;
			g[i].fn = (enum rep_fn)rnd(3);
			g[i].arg = (int)rnd(3);
			g[i].arg2 = (int)rnd(3);
			g[i].result = (int)rnd(4) - 1;
			uint32_t o = rnd(10);
			g[i].out = o < 6 ? REP_OUT_OK : o < 8 ? REP_OUT_INFO : REP_OUT_FAIL;
			g[i].inv = rnd(20);
			g[i].comp = g[i].inv + rnd(8);
		}
		bool oracle = reg_search(g, n, 0, NIL);
		struct rep_history h;
		to_history(g, n, &h);
		enum rep_verdict v = check(&h);
		ck_assert_msg(v == (oracle ? REP_LINEARIZABLE : REP_NOT_LINEARIZABLE),
			      "round %d: checker says %s, oracle %s", round, rep_verdict_name(v),
			      oracle ? "linearizable" : "not");
		nots += !oracle;
		rep_history_free(&h);
	}
	ck_assert_int_gt(nots, 200);
}
END_TEST

/* ------------------------------------------------------------------ cell */

/* Two cells, keys "a" "b" "c" each, integer values. A transaction: up to
 * one condition, then up to three micro-ops. */
#define NK 3

struct cstate {
	bool present[NK];
	int64_t val[NK];
};

struct ctx_op {
	int cell;
	int ncond;
	enum rep_cond_kind ck;
	int ckey;
	int64_t cval;
	int nops;
	enum rep_txop_kind kind[3];
	int key[3];
	int64_t val[3];
	/* result */
	bool committed;
	bool rpresent[3];
	int64_t rval[3];
	enum rep_outcome out;
	int64_t inv, comp, proc;
	bool linearized;
};

/* Applies t to s (the spec as engine/engine.h states it, written
 * independently of models.c): reads from the state before, conditions, then
 * writes in order. Returns whether it commits; reads are filled either way. */
static bool capply(struct cstate *s, const struct ctx_op *t, bool *rp, int64_t *rv)
{
	for (int i = 0; i < t->nops; i++) {
		int k = t->key[i];
		if (t->kind[i] == REP_TX_READ) {
			rp[i] = s->present[k];
			rv[i] = s->present[k] ? s->val[k] : 0;
		}
	}
	if (t->ncond) {
		bool p = s->present[t->ckey];
		int64_t v = s->val[t->ckey];
		bool holds = false;
		switch (t->ck) {
		case REP_COND_EXISTS: holds = p; break;
		case REP_COND_ABSENT: holds = !p; break;
		case REP_COND_EQUALS: holds = p && v == t->cval; break;
		case REP_COND_INT_GE: holds = p && v >= t->cval; break;
		case REP_COND_INT_LT: holds = p && v < t->cval; break;
		case REP_COND_INT_NE: holds = p && v != t->cval; break;
		default: break;
		}
		if (!holds)
			return false;
	}
	for (int i = 0; i < t->nops; i++) {
		int k = t->key[i];
		switch (t->kind[i]) {
		case REP_TX_READ:
			break;
		case REP_TX_PUT:
			s->present[k] = true;
			s->val[k] = t->val[i];
			break;
		case REP_TX_DELETE:
			s->present[k] = false;
			break;
		case REP_TX_INCR:
			s->val[k] = (s->present[k] ? s->val[k] : 0) + t->val[i];
			s->present[k] = true;
			break;
		}
	}
	return true;
}

static void cgen_txn(struct ctx_op *o)
{
	memset(o, 0, sizeof *o);
	o->cell = (int)rnd(2);
	o->ncond = rnd(3) == 0;
	static const enum rep_cond_kind cks[] = {REP_COND_EXISTS, REP_COND_ABSENT, REP_COND_EQUALS,
						 REP_COND_INT_GE, REP_COND_INT_LT, REP_COND_INT_NE};
	o->ck = cks[rnd(6)];
	o->ckey = (int)rnd(NK);
	o->cval = rnd(4);
	o->nops = 1 + (int)rnd(3);
	for (int i = 0; i < o->nops; i++) {
		static const enum rep_txop_kind ks[] = {REP_TX_READ, REP_TX_READ, REP_TX_PUT,
							REP_TX_INCR, REP_TX_DELETE};
		o->kind[i] = ks[rnd(5)];
		o->key[i] = (int)rnd(NK);
		o->val[i] = rnd(4);
	}
}

static size_t gen_cell(struct ctx_op *ops, size_t nops, int nprocs)
{
	struct cstate st[2];
	memset(st, 0, sizeof st);
	int64_t t = 1;
	size_t started = 0;
	int64_t procid[8];
	long busy[8];
	for (int p = 0; p < nprocs; p++) {
		procid[p] = p;
		busy[p] = 0;
	}
	for (;;) {
		int p = (int)rnd((uint32_t)nprocs);
		if (busy[p] == 0) {
			if (started == nops) {
				bool any = false;
				for (int q = 0; q < nprocs; q++)
					any |= busy[q] != 0;
				if (!any)
					break;
				continue;
			}
			struct ctx_op *o = &ops[started];
			cgen_txn(o);
			o->proc = procid[p];
			o->inv = t++;
			busy[p] = (long)++started;
			continue;
		}
		struct ctx_op *o = &ops[busy[p] - 1];
		if (!o->linearized) {
			if (rnd(12) == 0) {
				o->out = REP_OUT_INFO;
				o->comp = t++;
				busy[p] = 0;
				procid[p] += nprocs;
				continue;
			}
			o->linearized = true;
			o->committed = capply(&st[o->cell], o, o->rpresent, o->rval);
			o->out = REP_OUT_OK;
			continue;
		}
		o->comp = t++;
		if (rnd(10) == 0)
			o->out = rnd(2) ? REP_OUT_INFO : o->out;
		busy[p] = 0;
		if (o->out == REP_OUT_INFO)
			procid[p] += nprocs;
	}
	return started;
}

static void cto_history(const struct ctx_op *g, size_t n, struct rep_history *h)
{
	static const char *const names[NK] = {"a", "b", "c"};
	rep_history_init(h);
	for (size_t i = 0; i < n; i++) {
		struct rep_cond cond = {
			.kind = g[i].ck,
			.key = rep_value_str(NULL, names[g[i].ckey]),
			.value = rep_value_int(h, g[i].cval),
		};
		struct rep_txop tops[3];
		struct rep_value reads[3];
		for (int k = 0; k < g[i].nops; k++) {
			tops[k].kind = g[i].kind[k];
			tops[k].key = rep_value_str(NULL, names[g[i].key[k]]);
			tops[k].value = rep_value_int(h, g[i].val[k]);
			reads[k] = g[i].rpresent[k] ? rep_value_int(h, g[i].rval[k]) : rep_value_nil();
		}
		struct rep_txn txn = {
			.conds = &cond,
			.nconds = (size_t)g[i].ncond,
			.ops = tops,
			.nops = (size_t)g[i].nops,
			.committed = g[i].committed,
			.reads = reads,
		};
		struct rep_op op = {
			.process = g[i].proc,
			.fn = REP_FN_TXN,
			.outcome = g[i].out,
			.invoke_ns = g[i].inv,
			.complete_ns = g[i].comp,
			.cell = rep_value_str(NULL, g[i].cell ? "cell-1" : "cell-0"),
			.txn = &txn,
		};
		ck_assert_int_eq(rep_history_add(h, &op, NULL), 0);
	}
}

static bool cell_search(const struct ctx_op *g, size_t n, uint32_t placed, struct cstate *st)
{
	bool done = true;
	for (size_t i = 0; i < n; i++)
		if (!(placed & (1u << i)) && g[i].out == REP_OUT_OK)
			done = false;
	if (done)
		return true;
	for (size_t i = 0; i < n; i++) {
		if (placed & (1u << i) || g[i].out == REP_OUT_FAIL)
			continue;
		bool ready = true;
		for (size_t j = 0; j < n && ready; j++)
			if (!(placed & (1u << j)) && j != i && g[j].out == REP_OUT_OK &&
			    g[j].comp < g[i].inv)
				ready = false;
		if (!ready)
			continue;
		struct cstate save = st[g[i].cell];
		bool rp[3];
		int64_t rv[3];
		bool commits = capply(&st[g[i].cell], &g[i], rp, rv);
		bool legal;
		if (g[i].out != REP_OUT_OK) {
			legal = commits; /* a no-op info is the same as leaving it out */
		} else {
			legal = commits == g[i].committed;
			for (int k = 0; k < g[i].nops && legal; k++)
				if (g[i].kind[k] == REP_TX_READ &&
				    (rp[k] != g[i].rpresent[k] || (rp[k] && rv[k] != g[i].rval[k])))
					legal = false;
		}
		if (legal && cell_search(g, n, placed | 1u << i, st)) {
			st[g[i].cell] = save;
			return true;
		}
		st[g[i].cell] = save;
	}
	return false;
}

static bool cell_oracle(const struct ctx_op *g, size_t n)
{
	struct cstate st[2];
	memset(st, 0, sizeof st);
	return cell_search(g, n, 0, st);
}

START_TEST(cell_executions_are_linearizable)
{
	rng = 0xce11ULL + (uint64_t)_i * 31;
	for (int round = 0; round < 40; round++) {
		struct ctx_op g[200];
		size_t n = gen_cell(g, 40 + rnd(160), 2 + (int)rnd(5));
		struct rep_history h;
		cto_history(g, n, &h);
		ck_assert_msg(check(&h) == REP_LINEARIZABLE, "round %d", round);
		rep_history_free(&h);
	}
}
END_TEST

START_TEST(cell_mutations_match_oracle)
{
	rng = 0xfeedULL + (uint64_t)_i * 17;
	int caught = 0, legal = 0;
	for (int round = 0; round < 1500; round++) {
		struct ctx_op g[12];
		size_t n = gen_cell(g, 3 + rnd(6), 2 + (int)rnd(3));
		ck_assert(cell_oracle(g, n));
		size_t i = rnd((uint32_t)n);
		if (g[i].out != REP_OUT_OK)
			continue;
		int k = (int)rnd((uint32_t)g[i].nops);
		if (g[i].kind[k] == REP_TX_READ && rnd(3) != 0) {
			if (g[i].rpresent[k] && rnd(3) == 0)
				g[i].rpresent[k] = false;
			else {
				g[i].rpresent[k] = true;
				g[i].rval[k] = (g[i].rval[k] + 1 + rnd(3)) % 5;
			}
		} else {
			g[i].committed = !g[i].committed;
		}
		bool oracle = cell_oracle(g, n);
		struct rep_history h;
		cto_history(g, n, &h);
		enum rep_verdict v = check(&h);
		ck_assert_msg(v == (oracle ? REP_LINEARIZABLE : REP_NOT_LINEARIZABLE),
			      "round %d: checker says %s, oracle %s", round, rep_verdict_name(v),
			      oracle ? "linearizable" : "not");
		caught += !oracle;
		legal += oracle;
		rep_history_free(&h);
	}
	ck_assert_int_gt(caught, 100);
	ck_assert_int_gt(legal, 20);
}
END_TEST

/* -------------------------------------------------------------- budget */

/* 40 concurrent info writes and one impossible read: every subset of the
 * writes must be tried before "not linearizable", 2^40 configurations. The
 * checker must give up with unknown, promptly (the bound here is loose:
 * 20x the budget, so the test never depends on the machine's speed). */
START_TEST(pathological_history_is_unknown_within_budget)
{
	struct rep_history h;
	rep_history_init(&h);
	for (int i = 0; i < 40; i++) {
		struct rep_op w = {.process = i, .fn = REP_FN_WRITE, .outcome = REP_OUT_INFO,
				   .invoke_ns = i, .complete_ns = 1000 + i,
				   .arg = rep_value_int(&h, i)};
		ck_assert_int_eq(rep_history_add(&h, &w, NULL), 0);
	}
	struct rep_op r = {.process = 100, .fn = REP_FN_READ, .outcome = REP_OUT_OK,
			   .invoke_ns = 2000, .complete_ns = 2001,
			   .result = rep_value_int(&h, 999)};
	ck_assert_int_eq(rep_history_add(&h, &r, NULL), 0);
	struct rep_budget b = {.seconds = 0.3, .threads = 2};
	struct rep_check_result res;
	ck_assert_int_eq(rep_check(&h, &b, &res), 0);
	ck_assert_int_eq(res.verdict, REP_UNKNOWN);
	ck_assert_str_eq(res.parts[0].unknown_reason, "time budget exhausted");
	ck_assert_double_lt(res.seconds, 6.0);
	rep_check_result_free(&res);
	/* and the memory budget */
	b = (struct rep_budget){.seconds = 60, .max_bytes = 2 << 20, .threads = 1};
	ck_assert_int_eq(rep_check(&h, &b, &res), 0);
	ck_assert_int_eq(res.verdict, REP_UNKNOWN);
	ck_assert_str_eq(res.parts[0].unknown_reason, "memory budget exhausted");
	rep_check_result_free(&res);
	rep_history_free(&h);
}
END_TEST

/* 40 concurrent info writes of one value and an impossible read: the
 * writes are interchangeable, so the search tries them in invoke order
 * (41 configurations instead of 2^40) and answers NOT at once. */
START_TEST(identical_info_ops_are_interchangeable)
{
	struct rep_history h;
	rep_history_init(&h);
	for (int i = 0; i < 40; i++) {
		struct rep_op w = {.process = i, .fn = REP_FN_WRITE, .outcome = REP_OUT_INFO,
				   .invoke_ns = i, .complete_ns = 1000 + i,
				   .arg = rep_value_int(&h, 7)};
		ck_assert_int_eq(rep_history_add(&h, &w, NULL), 0);
	}
	struct rep_op r = {.process = 100, .fn = REP_FN_READ, .outcome = REP_OUT_OK,
			   .invoke_ns = 2000, .complete_ns = 2001,
			   .result = rep_value_int(&h, 999)};
	ck_assert_int_eq(rep_history_add(&h, &r, NULL), 0);
	struct rep_budget b = {.seconds = 30};
	struct rep_check_result res;
	ck_assert_int_eq(rep_check(&h, &b, &res), 0);
	ck_assert_int_eq(res.verdict, REP_NOT_LINEARIZABLE);
	ck_assert_uint_lt(res.parts[0].configurations, 200);
	rep_check_result_free(&res);
	/* and reading the written value is fine */
	h.ops[40].result = h.ops[0].arg;
	ck_assert_int_eq(rep_check(&h, &b, &res), 0);
	ck_assert_int_eq(res.verdict, REP_LINEARIZABLE);
	rep_check_result_free(&res);
	rep_history_free(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("properties");
	TCase *tc = tcase_create("register");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, register_executions_are_linearizable, 0, 2);
	tcase_add_loop_test(tc, register_mutations_match_oracle, 0, 2);
	tcase_add_loop_test(tc, register_long_history_impossible_read_is_caught, 0, 2);
	tcase_add_loop_test(tc, register_random_histories_match_oracle, 0, 2);
	suite_add_tcase(s, tc);
	TCase *tcc = tcase_create("cell");
	tcase_set_timeout(tcc, 240);
	tcase_add_loop_test(tcc, cell_executions_are_linearizable, 0, 2);
	tcase_add_loop_test(tcc, cell_mutations_match_oracle, 0, 2);
	suite_add_tcase(s, tcc);
	TCase *tb = tcase_create("budget");
	tcase_set_timeout(tb, 60);
	tcase_add_test(tb, pathological_history_is_unknown_within_budget);
	tcase_add_test(tb, identical_info_ops_are_interchangeable);
	suite_add_tcase(s, tb);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
