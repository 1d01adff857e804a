/* The explorer on the production engine: the CI bound is exhausted with no
 * violation; and on ph_engine_planted (test_explore_planted) every planted
 * bug is found, with a shortest sequence that replays to it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <inttypes.h>

#include "explore.h"

/* Node 1 elected and every replica quiet (eager disks). */
#define LEADER_1 "t1 d0 d0 d0 d0"

#ifndef EX_PLANTED
static void report(const char *what, const struct ex_result *r)
{
	printf("explore %s: %" PRIu64 " states, %" PRIu64 " transitions, depth %d, exhausted %s,"
	       " %.0f states/s\n", what, r->states, r->transitions, r->depth,
	       r->exhausted ? "yes" : "no", r->seconds > 0 ? (double)r->states / r->seconds : 0.0);
}

START_TEST(election_request_crash_exhausts_safely)
{
	/* From power-on: one election, one client request sent up to twice to
	 * any replica, one crash (and restart) of any replica at any point;
	 * every delivery order, every subset of messages lost, every order of
	 * disk completions. */
	struct ex_cfg c;
	ex_cfg_init(&c);
	c.max_timeouts = 1;
	c.max_crashes = 1;
	c.max_sends = 2;
	struct ex_result r;
	ck_assert_int_eq(ex_explore(&c, &r, stderr), 0);
	report("election+request+crash", &r);
	ck_assert_msg(!r.violated, "%s\n  sequence: %s", r.violation, r.sequence);
	ck_assert(r.exhausted);
	ck_assert_uint_gt(r.states, 1000);
}
END_TEST

START_TEST(duplicates_exhaust_safely)
{
	struct ex_cfg c;
	ex_cfg_init(&c);
	c.max_timeouts = 1;
	c.max_dups = 1;
	struct ex_result r;
	ck_assert_int_eq(ex_explore(&c, &r, stderr), 0);
	report("election+request+1 duplicate", &r);
	ck_assert_msg(!r.violated, "%s\n  sequence: %s", r.violation, r.sequence);
	ck_assert(r.exhausted);
}
END_TEST

START_TEST(proposer_change_exhausts_safely)
{
	/* The bounded scenario of the issue: a leader in place, then one
	 * proposer change (one timer) while a client's request, retried once,
	 * is in flight; FIFO links with one loss. */
	struct ex_cfg c;
	ex_cfg_init(&c);
	c.prefix = LEADER_1;
	c.max_timeouts = 1;
	c.max_sends = 2;
	c.reorder = 0;
	c.max_losses = 1;
	c.eager_disk = true;
	struct ex_result r;
	ck_assert_int_eq(ex_explore(&c, &r, stderr), 0);
	report("proposer change", &r);
	ck_assert_msg(!r.violated, "%s\n  sequence: %s", r.violation, r.sequence);
	ck_assert(r.exhausted);
}
END_TEST

START_TEST(five_replicas_exhaust_safely)
{
	/* A jury of 5 from power-on: one election and one request over FIFO
	 * links with one loss (every order does not fit a CI budget at 5). */
	struct ex_cfg c;
	ex_cfg_init(&c);
	c.replicas = 5;
	c.max_timeouts = 1;
	c.reorder = 0;
	c.max_losses = 1;
	c.eager_disk = true;
	struct ex_result r;
	ck_assert_int_eq(ex_explore(&c, &r, stderr), 0);
	report("5 replicas", &r);
	ck_assert_msg(!r.violated, "%s\n  sequence: %s", r.violation, r.sequence);
	ck_assert(r.exhausted);
}
END_TEST

START_TEST(por_agrees_with_full_search)
{
	/* Sleep sets skip transitions, never states: both searches see the
	 * same distinct states. */
	struct ex_cfg c;
	ex_cfg_init(&c);
	c.max_timeouts = 1;
	struct ex_result a, b;
	ck_assert_int_eq(ex_explore(&c, &a, stderr), 0);
	c.por = false;
	ck_assert_int_eq(ex_explore(&c, &b, stderr), 0);
	ck_assert(a.exhausted && b.exhausted);
	ck_assert_uint_eq(a.states, b.states);
	ck_assert_uint_lt(a.transitions, b.transitions);
	printf("explore POR: %" PRIu64 " transitions with sleep sets, %" PRIu64 " without, %" PRIu64
	       " states both\n", a.transitions, b.transitions, a.states);
}
END_TEST

START_TEST(replay_rejects_bad_sequences)
{
	struct ex_cfg c;
	ex_cfg_init(&c);
	bool bad;
	ck_assert_int_eq(ex_replay(&c, "t1 d0 zz", NULL, &bad, NULL, 0), -1);
	ck_assert_int_eq(ex_replay(&c, "d9", NULL, &bad, NULL, 0), -1);
	ck_assert_int_eq(ex_replay(&c, LEADER_1, NULL, &bad, NULL, 0), -1); /* lazy disks: k needed */
	c.eager_disk = true;
	ck_assert_int_eq(ex_replay(&c, LEADER_1, NULL, &bad, NULL, 0), 0);
	ck_assert(!bad);
}
END_TEST
#else
/* The smallest bound that reaches each bug. */
static void bound_for(int bug, struct ex_cfg *c)
{
	ex_cfg_init(c);
	c->planted_bug = bug;
	c->max_timeouts = 1;
	switch (bug) {
	case 1: /* accept lower ballot: two proposers */
		c->max_timeouts = 2;
		break;
	case 4: /* forget promise on restart */
		c->max_timeouts = 2;
		c->max_crashes = 1;
		break;
	case 5: /* a retry applied twice: the retry reaches the next proposer */
		c->prefix = LEADER_1;
		c->max_sends = 2;
		c->reorder = 0;
		c->max_losses = 1;
		c->eager_disk = true;
		break;
	}
}

START_TEST(planted_bug_found)
{
	int bug = _i;
	struct ex_cfg c;
	bound_for(bug, &c);
	struct ex_result r;
	ck_assert_int_eq(ex_explore(&c, &r, stderr), 0);
	ck_assert_msg(r.violated, "planted bug %d not found: %" PRIu64 " states, exhausted %s", bug,
		      r.states, r.exhausted ? "yes" : "no");
	printf("planted bug %d found after %" PRIu64 " states: %s\n  shortest (%d events): %s\n", bug,
	       r.states, r.violation, r.seq_len, r.sequence);
	/* The printed sequence is a test case: it replays to the violation. */
	bool bad;
	char why[600];
	ck_assert_int_eq(ex_replay(&c, r.sequence, NULL, &bad, why, sizeof(why)), 0);
	ck_assert(bad);
	ck_assert_str_eq(why, r.violation);
}
END_TEST

START_TEST(no_bug_same_bounds_safe)
{
	/* The bounds that find bugs 1 and 4 find nothing on the same build
	 * with no bug selected. */
	struct ex_cfg c;
	bound_for(4, &c);
	c.planted_bug = 0;
	c.max_states = 60000;
	struct ex_result r;
	ck_assert_int_eq(ex_explore(&c, &r, stderr), 0);
	ck_assert_msg(!r.violated, "%s\n  sequence: %s", r.violation, r.sequence);
}
END_TEST
#endif

int main(void)
{
	Suite *s = suite_create("explore");
	TCase *tc = tcase_create("explore");
	tcase_set_timeout(tc, 600);
#ifndef EX_PLANTED
	tcase_add_test(tc, election_request_crash_exhausts_safely);
	tcase_add_test(tc, duplicates_exhaust_safely);
	tcase_add_test(tc, proposer_change_exhausts_safely);
	tcase_add_test(tc, five_replicas_exhaust_safely);
	tcase_add_test(tc, por_agrees_with_full_search);
	tcase_add_test(tc, replay_rejects_bad_sequences);
#else
	tcase_add_loop_test(tc, planted_bug_found, 1, 6);
	tcase_add_test(tc, no_bug_same_bounds_safe);
#endif
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
