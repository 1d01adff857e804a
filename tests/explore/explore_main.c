/* physalia-explore: exhaustive exploration of a small cell (explore.h).
 *
 *   physalia-explore [--replicas 3|5] [--clients C] [--timeouts T] [--crashes K]
 *                    [--dups D] [--sends S] [--reorder all|K] [--losses L]
 *                    [--depth N] [--max-states N] [--eager-disk]
 *                    [--no-por] [--planted BUG] [--prefix "SEQ"] [--replay "SEQ"]
 *                    [--verbose]
 *
 * Exit status: 0 no violation (exhausted or not), 1 a violation, 2 usage or
 * harness error. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explore.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: physalia-explore [--replicas 3|5] [--clients C] [--timeouts T] [--crashes K]\n"
		"                        [--dups D] [--sends S] [--reorder all|K] [--losses L] [--depth N]\n"
		"                        [--max-states N] [--eager-disk] [--no-por]\n"
		"                        [--planted BUG] [--prefix \"SEQ\"] [--replay \"SEQ\"] [--verbose]\n");
}

static int num(const char *opt, const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	if (!s || !*s || *s == '-') {
		fprintf(stderr, "physalia-explore: %s needs a number\n", opt);
		return -1;
	}
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || v > max) {
		fprintf(stderr, "physalia-explore: %s: '%s' is not a number in 0..%llu\n", opt, s, max);
		return -1;
	}
	*out = v;
	return 0;
}

static void print_cmd(const struct ex_cfg *c, const char *seq)
{
	printf("physalia-explore%s --replicas %d --clients %d",
	       c->planted_bug ? "-planted" : "", c->replicas, c->clients);
	if (c->planted_bug)
		printf(" --planted %d", c->planted_bug);
	if (c->eager_disk)
		printf(" --eager-disk");
	if (seq)
		printf(" --replay \"%s\"", seq);
	printf("\n");
}

int main(int argc, char **argv)
{
	struct ex_cfg c;
	ex_cfg_init(&c);
	const char *seq = NULL;
	unsigned long long v;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *arg = i + 1 < argc ? argv[i + 1] : NULL;
		int *field = NULL;
		unsigned long long max = 0;
		if (strcmp(a, "--replicas") == 0)
			field = &c.replicas, max = 5;
		else if (strcmp(a, "--clients") == 0)
			field = &c.clients, max = 3;
		else if (strcmp(a, "--timeouts") == 0)
			field = &c.max_timeouts, max = 100;
		else if (strcmp(a, "--crashes") == 0)
			field = &c.max_crashes, max = 100;
		else if (strcmp(a, "--dups") == 0)
			field = &c.max_dups, max = 100;
		else if (strcmp(a, "--sends") == 0)
			field = &c.max_sends, max = 100;
		else if (strcmp(a, "--losses") == 0)
			field = &c.max_losses, max = 100;
		else if (strcmp(a, "--depth") == 0)
			field = &c.max_depth, max = 250;
		else if (strcmp(a, "--planted") == 0)
			field = &c.planted_bug, max = 5;
		if (field) {
			if (num(a, arg, max, &v)) {
				usage();
				return 2;
			}
			*field = (int)v;
			i++;
		} else if (strcmp(a, "--max-states") == 0) {
			if (num(a, arg, UINT64_MAX, &v)) {
				usage();
				return 2;
			}
			c.max_states = v;
			i++;
		} else if (strcmp(a, "--reorder") == 0) {
			if (arg && strcmp(arg, "all") == 0) {
				c.reorder = -1;
			} else if (num(a, arg, 100, &v)) {
				usage();
				return 2;
			} else {
				c.reorder = (int)v;
			}
			i++;
		} else if (strcmp(a, "--eager-disk") == 0) {
			c.eager_disk = true;
		} else if (strcmp(a, "--no-por") == 0) {
			c.por = false;
		} else if (strcmp(a, "--verbose") == 0) {
			c.verbose = true;
		} else if (strcmp(a, "--prefix") == 0 && arg) {
			c.prefix = arg;
			i++;
		} else if (strcmp(a, "--replay") == 0 && arg) {
			seq = arg;
			i++;
		} else {
			fprintf(stderr, "physalia-explore: unknown or incomplete option '%s'\n", a);
			usage();
			return 2;
		}
	}
	if (c.replicas < 3) {
		fprintf(stderr, "physalia-explore: --replicas must be 3, 4 or 5\n");
		return 2;
	}
	if (seq) {
		bool bad;
		char why[600];
		if (ex_replay(&c, seq, stdout, &bad, why, sizeof(why)))
			return 2;
		printf(bad ? "VIOLATION: %s\n" : "no violation\n", why);
		return bad ? 1 : 0;
	}
	struct ex_result r;
	if (ex_explore(&c, &r, stderr))
		return 2;
	printf("distinct states: %" PRIu64 "\ntransitions: %" PRIu64 "\ndepth: %d\nexhausted: %s\n"
	       "states/s: %.0f\nengine steps: %" PRIu64 "\nwall time: %.2f s\n",
	       r.states, r.transitions, r.depth, r.exhausted ? "yes" : "no",
	       r.seconds > 0 ? (double)r.states / r.seconds : 0.0, r.replay_steps, r.seconds);
	if (r.violated) {
		printf("VIOLATION: %s\nshortest sequence (%d events):\n", r.violation, r.seq_len);
		bool bad;
		ex_replay(&c, r.sequence, stdout, &bad, NULL, 0);
		printf("replay: ");
		print_cmd(&c, r.sequence);
		return 1;
	}
	return 0;
}
