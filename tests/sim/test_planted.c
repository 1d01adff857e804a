/* Proof that the simulator finds bugs: on ph_engine_planted, every planted
 * protocol bug must be caught by the randomised runner within a bounded
 * number of seeds, and the same engine with no bug selected must pass. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_run.h"

static int max_seeds(void)
{
	const char *e = getenv("PH_SIM_PLANTED_SEEDS");
	return e ? atoi(e) : 300;
}

/* Seeds until the first violation; returns the seed, or 0. */
static uint64_t hunt(int bug, char *why, size_t size)
{
	struct sim_run_opts o;
	sim_run_opts_init(&o);
	o.planted_bug = bug;
	for (int s = 1; s <= max_seeds(); s++) {
		struct sim_run_result r;
		ck_assert_int_eq(sim_run_seed(&o, (uint64_t)s, &r), 0);
		if (r.violated) {
			snprintf(why, size, "%s", r.violation);
			char cmd[256];
			sim_run_replay_cmd(&o, (uint64_t)s, cmd, sizeof(cmd));
			printf("planted bug %d caught by seed %d: %s\n  replay: %s-planted%s\n", bug, s,
			       r.violation, "physalia-sim", cmd + strlen("physalia-sim"));
			/* The seed replays to the same violation. */
			struct sim_run_result again;
			ck_assert_int_eq(sim_run_seed(&o, (uint64_t)s, &again), 0);
			ck_assert(again.violated);
			ck_assert_str_eq(again.violation, r.violation);
			return (uint64_t)s;
		}
	}
	return 0;
}

START_TEST(planted_bug_caught)
{
	int bug = _i;
	char why[600] = "";
	uint64_t seed = hunt(bug, why, sizeof(why));
	ck_assert_msg(seed != 0, "planted bug %d survived %d seeds", bug, max_seeds());
}
END_TEST

START_TEST(no_bug_no_violation)
{
	struct sim_run_opts o;
	sim_run_opts_init(&o);
	for (int s = 1; s <= 10; s++) {
		struct sim_run_result r;
		ck_assert_int_eq(sim_run_seed(&o, (uint64_t)s, &r), 0);
		ck_assert_msg(!r.violated, "seed %d: %s", s, r.violation);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("planted-sim");
	TCase *tc = tcase_create("planted");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, no_bug_no_violation);
	tcase_add_loop_test(tc, planted_bug_caught, 1, 6);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
