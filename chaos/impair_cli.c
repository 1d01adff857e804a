/* `physalia-chaos impair`: the impairment engine as a process, one per
 * router namespace. The runner starts it inside the namespace and steers it
 * with policy lines on stdin (the control protocol below); tests do the same.
 *
 * Control protocol (one command per line, at most 511 bytes):
 *   set SRC/LEN DST/LEN key=value...   add a policy (later ones win)
 *   clear                              remove every policy
 *   stats                              print "stats k=v ..." on stdout
 * Keys: loss burst delay jitter reorder gap dup corrupt (times in us,
 * probabilities in [0,1]). Every line gets one reply line: "ok" or
 * "error: why". */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chaos.h"
#include "internal.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int parse_prefix(const char *s, uint32_t *addr, int *len)
{
	char buf[32];
	if (strlen(s) >= sizeof buf)
		return -1;
	strcpy(buf, s);
	if (strcmp(buf, "any") == 0) {
		*addr = 0;
		*len = 0;
		return 0;
	}
	char *slash = strchr(buf, '/');
	int l = 32;
	if (slash != NULL) {
		*slash = '\0';
		uint64_t v;
		if (chaos_parse_u64(slash + 1, &v) != 0 || v > 32)
			return -1;
		l = (int)v;
	}
	struct in_addr a;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	*addr = ntohl(a.s_addr);
	*len = l;
	return 0;
}

static int parse_prob(const char *v, double *out)
{
	double d;
	if (chaos_parse_double(v, &d) != 0 || d < 0 || d > 1)
		return -1;
	*out = d;
	return 0;
}

static int parse_us(const char *v, uint32_t *out)
{
	uint64_t u;
	if (chaos_parse_u64(v, &u) != 0 || u > 10000000)
		return -1;
	*out = (uint32_t)u;
	return 0;
}

int chaos_policy_parse(const char *line, uint32_t *src, int *srclen, uint32_t *dst, int *dstlen,
		       struct chaos_link_policy *p, char *err, size_t errlen)
{
	char buf[512];
	if (strlen(line) >= sizeof buf) {
		snprintf(err, errlen, "line longer than %zu bytes", sizeof buf - 1);
		return CHAOS_EINVAL;
	}
	strcpy(buf, line);
	memset(p, 0, sizeof *p);
	char *save = NULL;
	char *a = strtok_r(buf, " \t\r\n", &save);
	char *b = a ? strtok_r(NULL, " \t\r\n", &save) : NULL;
	if (a == NULL || b == NULL || parse_prefix(a, src, srclen) != 0 ||
	    parse_prefix(b, dst, dstlen) != 0) {
		snprintf(err, errlen, "expected 'SRC/LEN DST/LEN key=value...' (or 'any')");
		return CHAOS_EINVAL;
	}
	char *kv;
	while ((kv = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
		char *eq = strchr(kv, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "'%.40s' is not key=value", kv);
			return CHAOS_EINVAL;
		}
		*eq = '\0';
		const char *v = eq + 1;
		int bad;
		if (strcmp(kv, "loss") == 0)
			bad = parse_prob(v, &p->loss);
		else if (strcmp(kv, "burst") == 0)
			bad = parse_us(v, &p->loss_burst);
		else if (strcmp(kv, "delay") == 0)
			bad = parse_us(v, &p->delay_us);
		else if (strcmp(kv, "jitter") == 0)
			bad = parse_us(v, &p->jitter_us);
		else if (strcmp(kv, "reorder") == 0)
			bad = parse_prob(v, &p->reorder);
		else if (strcmp(kv, "gap") == 0)
			bad = parse_us(v, &p->reorder_gap_us);
		else if (strcmp(kv, "dup") == 0)
			bad = parse_prob(v, &p->duplicate);
		else if (strcmp(kv, "corrupt") == 0)
			bad = parse_prob(v, &p->corrupt);
		else {
			snprintf(err, errlen, "unknown key '%.40s'", kv);
			return CHAOS_EINVAL;
		}
		if (bad) {
			snprintf(err, errlen, "bad value for %s: '%.40s'", kv, v);
			return CHAOS_EINVAL;
		}
	}
	return 0;
}

static void print_stats(struct chaos_impair *im, FILE *f)
{
	struct chaos_impair_stats s;
	chaos_impair_stats(im, &s);
	fprintf(f,
		"stats packets=%" PRIu64 " verdicts=%" PRIu64 " held_max=%" PRIu64
		" queue_dropped=%" PRIu64 " user_dropped=%" PRIu64 " dup_sent=%" PRIu64
		" errors=%" PRIu64 "\n",
		s.packets, s.verdicts, s.held_max, s.queue_dropped, s.user_dropped, s.dup_sent,
		s.errors);
	fflush(f);
}

static void command(struct chaos_impair *im, char *line)
{
	size_t n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	char err[160];
	if (strcmp(line, "clear") == 0) {
		chaos_impair_clear(im);
		printf("ok\n");
	} else if (strcmp(line, "stats") == 0) {
		print_stats(im, stdout);
	} else if (strncmp(line, "set ", 4) == 0) {
		uint32_t s, d;
		int sl, dl;
		struct chaos_link_policy p;
		if (chaos_policy_parse(line + 4, &s, &sl, &d, &dl, &p, err, sizeof err) != 0)
			printf("error: %s\n", err);
		else if (chaos_impair_set(im, s, sl, d, dl, &p) != 0)
			printf("error: too many policies\n");
		else
			printf("ok\n");
	} else if (line[0] == '\0' || line[0] == '#') {
		return;
	} else {
		printf("error: unknown command (set, clear, stats)\n");
	}
	fflush(stdout);
}

int chaos_impair_cli(int argc, char **argv)
{
	uint64_t queue = UINT64_MAX, seed = 1;
	const char *records_path = NULL, *ready = NULL;
	const char *policies[64];
	int npol = 0;
	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--queue") == 0 && v != NULL) {
			if (chaos_parse_u64(v, &queue) != 0 || queue > 65535) {
				fprintf(stderr, "physalia-chaos impair: --queue needs 0..65535\n");
				return 2;
			}
		} else if (strcmp(a, "--seed") == 0 && v != NULL) {
			if (chaos_parse_u64(v, &seed) != 0) {
				fprintf(stderr, "physalia-chaos impair: --seed needs an integer\n");
				return 2;
			}
		} else if (strcmp(a, "--records") == 0 && v != NULL) {
			records_path = v;
		} else if (strcmp(a, "--ready") == 0 && v != NULL) {
			ready = v;
		} else if (strcmp(a, "--policy") == 0 && v != NULL) {
			if (npol == 64) {
				fprintf(stderr, "physalia-chaos impair: at most 64 --policy\n");
				return 2;
			}
			policies[npol++] = v;
		} else {
			fprintf(stderr, "physalia-chaos impair: bad argument '%s' (see --help)\n", a);
			return 2;
		}
	}
	if (queue == UINT64_MAX) {
		fprintf(stderr, "physalia-chaos impair: --queue N is required\n");
		return 2;
	}
	FILE *records = NULL;
	if (records_path != NULL) {
		records = fopen(records_path, "a");
		if (records == NULL) {
			fprintf(stderr, "physalia-chaos impair: %s: %s\n", records_path,
				strerror(errno));
			return 2;
		}
	}
	struct chaos_impair *im;
	int rc = chaos_impair_open((uint16_t)queue, seed, records, &im);
	if (rc != 0) {
		fprintf(stderr, "physalia-chaos impair: queue %" PRIu64 ": %s\n", queue,
			chaos_strerror(rc));
		if (records)
			fclose(records);
		return 2;
	}
	for (int i = 0; i < npol; i++) {
		uint32_t s, d;
		int sl, dl;
		struct chaos_link_policy p;
		char err[160];
		if (chaos_policy_parse(policies[i], &s, &sl, &d, &dl, &p, err, sizeof err) != 0 ||
		    chaos_impair_set(im, s, sl, d, dl, &p) != 0) {
			fprintf(stderr, "physalia-chaos impair: --policy '%s': %s\n", policies[i],
				err);
			chaos_impair_close(im);
			if (records)
				fclose(records);
			return 2;
		}
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (ready != NULL) {
		FILE *f = fopen(ready, "w");
		if (f != NULL) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	}

	int stdin_open = 1;
	char line[512];
	size_t used = 0;
	int status = 0;
	while (!stop_requested) {
		struct pollfd pfd[2] = { { chaos_impair_fd(im), POLLIN, 0 },
					 { stdin_open ? 0 : -1, POLLIN, 0 } };
		int r = poll(pfd, 2, chaos_impair_timeout_ms(im));
		if (r < 0 && errno != EINTR) {
			status = 2;
			break;
		}
		if (chaos_impair_poll(im) != 0) {
			fprintf(stderr, "physalia-chaos impair: netlink error\n");
			status = 2;
		}
		if (stdin_open && (pfd[1].revents & (POLLIN | POLLHUP))) {
			ssize_t got = read(0, line + used, sizeof line - 1 - used);
			if (got <= 0) {
				stdin_open = 0;
				break;
			}
			used += (size_t)got;
			line[used] = '\0';
			char *nl;
			while ((nl = strchr(line, '\n')) != NULL) {
				*nl = '\0';
				command(im, line);
				size_t rest = used - (size_t)(nl + 1 - line);
				memmove(line, nl + 1, rest + 1);
				used = rest;
			}
			if (used == sizeof line - 1) {
				printf("error: line too long\n");
				fflush(stdout);
				used = 0;
			}
		}
	}
	rc = chaos_impair_drain(im);
	print_stats(im, stdout);
	if (rc == CHAOS_EBEHIND) {
		fprintf(stderr, "physalia-chaos impair: %s\n", chaos_strerror(rc));
		status = 2;
	}
	chaos_impair_close(im);
	if (records)
		fclose(records);
	return status;
}
