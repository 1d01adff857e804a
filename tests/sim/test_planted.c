/* Proof that the simulator finds bugs: on ph_engine_planted, every planted
 * protocol bug must be caught by the randomised runner within a bounded
 * number of seeds, and the same engine with no bug selected must pass. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim_run.h"

static int max_seeds(void)
{
	const char *e = getenv("PH_SIM_PLANTED_SEEDS");
	return e ? atoi(e) : 600;
}

/* Seeds until the first violation; returns the seed, or 0. */
static uint64_t hunt(int bug, bool outcomes_only, unsigned faults, char *why, size_t size)
{
	struct sim_run_opts o;
	sim_run_opts_init(&o);
	o.planted_bug = bug;
	o.outcomes_only = outcomes_only;
	o.faults = faults;
	for (int s = 1; s <= max_seeds(); s++) {
		struct sim_run_result r;
		ck_assert_int_eq(sim_run_seed(&o, (uint64_t)s, &r), 0);
		if (r.violated) {
			snprintf(why, size, "%s", r.violation);
			char cmd[256];
			sim_run_replay_cmd(&o, (uint64_t)s, cmd, sizeof(cmd));
			printf("planted bug %d caught%s by seed %d: %s\n  replay: %s\n", bug,
			       outcomes_only ? " by its effects" : "", s, r.violation, cmd);
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
	uint64_t seed = hunt(bug, false, SIM_FAULT_ALL, why, sizeof(why));
	ck_assert_msg(seed != 0, "planted bug %d survived %d seeds", bug, max_seeds());
}
END_TEST

/* One seed in a child process: the planted engine may trip its own
 * assertions once a bug has corrupted its state (Debug builds), which ends
 * that seed without a verdict from us. 1 violation, 0 none, -1 aborted. */
static int run_forked(const struct sim_run_opts *o, uint64_t seed, char *why, size_t size)
{
	int fd[2];
	ck_assert_int_eq(pipe(fd), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fd[0]);
		struct sim_run_result r;
		if (sim_run_seed(o, seed, &r) != 0)
			_exit(3);
		if (r.violated && write(fd[1], r.violation, strlen(r.violation)) < 0)
			_exit(3);
		_exit(r.violated ? 1 : 0);
	}
	close(fd[1]);
	ssize_t n = read(fd[0], why, size - 1);
	why[n > 0 ? n : 0] = 0;
	close(fd[0]);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		return -1;
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) <= 1);
	return WEXITSTATUS(st);
}

/* The same hunt with the four rule checks off: each bug must also show in
 * what the cell did (two values chosen, diverging replicas, a request
 * applied twice, a message its own decoder refuses, a history that is not
 * linearizable). Bug 1 needs partitions and a lossy network to duel. */
START_TEST(planted_bug_caught_by_outcomes)
{
	int bug = _i;
	char why[600] = "";
	struct sim_run_opts o;
	sim_run_opts_init(&o);
	o.planted_bug = bug;
	o.outcomes_only = true;
	o.faults = bug == 1 ? SIM_FAULT_NET | SIM_FAULT_PART : SIM_FAULT_ALL;
	int aborted = 0;
	/* Effects take longer to show than rule breaks: a larger budget. */
	for (int s = 1; s <= 4 * max_seeds(); s++) {
		int v = run_forked(&o, (uint64_t)s, why, sizeof(why));
		if (v < 0) {
			aborted++;
			continue;
		}
		if (v == 1) {
			char cmd[256];
			sim_run_replay_cmd(&o, (uint64_t)s, cmd, sizeof(cmd));
			printf("planted bug %d caught by its effects by seed %d (%d seeds ended by an"
			       " engine assertion before): %s\n  replay: %s\n", bug, s, aborted, why, cmd);
			return;
		}
	}
	ck_abort_msg("planted bug %d survived %d seeds with outcome checks only", bug,
		     4 * max_seeds());
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
	tcase_add_loop_test(tc, planted_bug_caught_by_outcomes, 1, 6);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
