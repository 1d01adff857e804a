/* The namespace host backend: every host and every ToR router is a network
 * namespace on this machine (topology's fabric). Processes are started with
 * setns + exec, signals are plain kill(2), partitions are iptables DROP rules
 * in the destination's ToR FORWARD chain (-o toward the host), packet faults
 * go to one impairment engine per ToR, rate limits are tbf qdiscs on the
 * ToR's interface toward the host (tc). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "runner.h"

#define QUEUE 1

struct engine {
	pid_t pid;
	int in, out;
	char records[512];
};

struct ns_impl {
	struct engine *engines; /* one per router */
	size_t n;
};

static int ns_start(struct chaos_backend *b, const struct chaos_host *h, const char *const *argv,
		    const char *const *env, const char *log, pid_t *pid)
{
	(void)b;
	/* Extra environment: set in a child-only way by passing through
	 * env(1), which keeps this process's environment untouched. */
	const char *full[64];
	size_t n = 0;
	if (env != NULL && env[0] != NULL) {
		full[n++] = "env";
		for (size_t i = 0; env[i] != NULL && n < 40; i++)
			full[n++] = env[i];
	}
	for (size_t i = 0; argv[i] != NULL && n < 63; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	return chaos_netns_spawn(h->ns, full, log, 1, pid, NULL, NULL);
}

static int ns_signal(struct chaos_backend *b, const struct chaos_host *h, pid_t pid, int sig)
{
	(void)b, (void)h;
	if (pid <= 0)
		return CHAOS_EINVAL;
	return kill(pid, sig) == 0 ? 0 : CHAOS_ESYS;
}

static int ns_wait(struct chaos_backend *b, pid_t pid, int timeout_ms, int *status)
{
	(void)b;
	for (int waited = 0;; waited += 10) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 1;
		if (r < 0)
			return errno == ECHILD ? 1 : CHAOS_ESYS;
		if (waited >= timeout_ms)
			return 0;
		poll(NULL, 0, 10);
	}
}

static int ns_block(struct chaos_backend *b, const struct chaos_host *dst,
		    const struct chaos_host *src, const char *tag, int add)
{
	(void)b;
	char comment[128];
	snprintf(comment, sizeof comment, "%s %s", CHAOS_RULE_TAG, tag);
	/* Inserted first, so they act before the NFQUEUE rule: a partitioned
	 * packet never reaches the engine. */
	const char *argv_add[] = { "iptables", "-I", "FORWARD", "1", "-o", dst->iface, "-s",
				   src->addr_text, "-m", "comment", "--comment", comment, "-j",
				   "DROP", NULL };
	const char *argv_del[] = { "iptables", "-D", "FORWARD", "-o", dst->iface, "-s",
				   src->addr_text, "-m", "comment", "--comment", comment, "-j",
				   "DROP", NULL };
	return chaos_nf_iptables(dst->router, add ? argv_add : argv_del);
}

static int ns_block_counts(struct chaos_backend *b, const char *router, const char *tag,
			   chaos_count_fn fn, void *ud)
{
	(void)b;
	const char *argv[] = { "iptables-legacy", "-w", "-L", "FORWARD", "-n", "-v", "-x", NULL };
	size_t cap = 1 << 20;
	char *out = malloc(cap);
	if (out == NULL)
		return CHAOS_ENOMEM;
	if (chaos_netns_run(router, argv, out, cap) != 0) {
		free(out);
		return CHAOS_ETOOL;
	}
	char needle[160];
	snprintf(needle, sizeof needle, "/* %s %s */", CHAOS_RULE_TAG, tag);
	char *save = NULL;
	for (char *line = strtok_r(out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, needle) == NULL)
			continue;
		/* pkts bytes target prot opt in out source destination */
		unsigned long long pk, by;
		char target[32], prot[16], opt[16], in[32], outif[32], src[64], dst[64];
		if (sscanf(line, "%llu %llu %31s %15s %15s %31s %31s %63s %63s", &pk, &by, target,
			   prot, opt, in, outif, src, dst) != 9)
			continue;
		struct in_addr a;
		if (inet_pton(AF_INET, src, &a) != 1)
			continue;
		fn(ud, ntohl(a.s_addr), outif, pk);
	}
	free(out);
	return 0;
}

static int engine_line(struct engine *e, const char *line)
{
	size_t len = strlen(line);
	if (write(e->in, line, len) != (ssize_t)len || write(e->in, "\n", 1) != 1)
		return CHAOS_ESYS;
	/* One reply line per command. */
	char reply[256];
	size_t n = 0;
	while (n + 1 < sizeof reply) {
		struct pollfd p = { e->out, POLLIN, 0 };
		if (poll(&p, 1, 5000) <= 0)
			return CHAOS_ETOOL;
		char c;
		if (read(e->out, &c, 1) != 1)
			return CHAOS_ETOOL;
		if (c == '\n')
			break;
		reply[n++] = c;
	}
	reply[n] = '\0';
	if (strncmp(reply, "ok", 2) != 0 && strncmp(reply, "stats", 5) != 0) {
		fprintf(stderr, "physalia-chaos: impairment engine: %s (for '%s')\n", reply, line);
		return CHAOS_ETOOL;
	}
	return 0;
}

static int ns_impair(struct chaos_backend *b, const char *line)
{
	struct ns_impl *im = b->impl;
	int rc = 0;
	for (size_t i = 0; i < im->n; i++)
		if (engine_line(&im->engines[i], line) != 0)
			rc = CHAOS_ETOOL;
	return rc;
}

int chaos_backend_ns_rate_stats(struct chaos_backend *b, const struct chaos_host *dst,
				uint64_t *dropped, uint64_t *overlimits)
{
	(void)b;
	/* " Sent B bytes P pkt (dropped D, overlimits O requeues R)" */
	const char *show[] = { "tc", "-s", "qdisc", "show", "dev", dst->iface, NULL };
	char out[4096];
	*dropped = *overlimits = 0;
	if (chaos_netns_run(dst->router, show, out, sizeof out) != 0)
		return CHAOS_ETOOL;
	const char *d = strstr(out, "dropped ");
	const char *o = strstr(out, "overlimits ");
	if (d != NULL)
		*dropped = strtoull(d + 8, NULL, 10);
	if (o != NULL)
		*overlimits = strtoull(o + 11, NULL, 10);
	return 0;
}

static int ns_rate(struct chaos_backend *b, const struct chaos_host *dst, uint32_t kbit)
{
	(void)b;
	char rate[32];
	snprintf(rate, sizeof rate, "%ukbit", kbit);
	if (kbit == 0) {
		const char *argv[] = { "tc", "qdisc", "del", "dev", dst->iface, "root", NULL };
		return chaos_netns_run(dst->router, argv, NULL, 0) == 0 ? 0 : CHAOS_ETOOL;
	}
	/* tbf: burst of at least one MTU-sized packet per tick, 50 ms queue. */
	const char *argv[] = { "tc", "qdisc", "replace", "dev", dst->iface, "root", "tbf", "rate",
			       rate, "burst", "16kb", "latency", "50ms", NULL };
	return chaos_netns_run(dst->router, argv, NULL, 0) == 0 ? 0 : CHAOS_ETOOL;
}

static int ns_run(struct chaos_backend *b, const struct chaos_host *h, const char *const *argv)
{
	(void)b;
	return chaos_netns_run(h->ns, argv, NULL, 0);
}

static const struct chaos_backend_ops ns_ops = {
	"namespaces", ns_start, ns_signal, ns_wait, ns_block, ns_block_counts, ns_impair, ns_rate,
	ns_run,
};

int chaos_backend_ns_open(struct chaos_world *w, const char *dir, uint64_t seed,
			  const char *self_exe, struct chaos_backend *out)
{
	struct ns_impl *im = calloc(1, sizeof *im);
	if (im == NULL)
		return CHAOS_ENOMEM;
	im->engines = calloc(w->nracks, sizeof *im->engines);
	if (im->engines == NULL) {
		free(im);
		return CHAOS_ENOMEM;
	}
	out->ops = &ns_ops;
	out->world = w;
	out->impl = im;
	char q[8], s[32];
	snprintf(q, sizeof q, "%d", QUEUE);
	snprintf(s, sizeof s, "%" PRIu64, seed);
	for (size_t r = 0; r < w->nracks; r++) {
		struct engine *e = &im->engines[r];
		/* Every packet the ToR forwards toward one of its hosts goes to the
		 * engine; no --queue-bypass: fail-closed. */
		const char *rule[] = { "iptables", "-A", "FORWARD", "-o", "h+", "-j", "NFQUEUE",
				       "--queue-num", q, NULL };
		if (chaos_nf_iptables(w->routers[r], rule) != 0) {
			fprintf(stderr, "physalia-chaos: cannot add the NFQUEUE rule in %s\n",
				w->routers[r]);
			return CHAOS_ETOOL;
		}
		char ready[600], log[600];
		snprintf(e->records, sizeof e->records, "%s/impair-%s.txt", dir, w->racks[r]);
		snprintf(ready, sizeof ready, "%s/.impair-%s.ready", dir, w->racks[r]);
		snprintf(log, sizeof log, "%s/logs/impair-%s.log", dir, w->racks[r]);
		unlink(ready);
		const char *argv[] = { self_exe, "impair", "--queue", q, "--seed", s, "--records",
				       e->records, "--ready", ready, NULL };
		int rc = chaos_netns_spawn(w->routers[r], argv, log, 1, &e->pid, &e->in, &e->out);
		if (rc != 0)
			return rc;
		im->n = r + 1;
		int ok = 0;
		for (int i = 0; i < 1000 && !ok; i++) {
			if (access(ready, F_OK) == 0)
				ok = 1;
			else
				poll(NULL, 0, 10);
		}
		unlink(ready);
		if (!ok) {
			fprintf(stderr, "physalia-chaos: impairment engine in %s did not start (see %s)\n",
				w->routers[r], log);
			return CHAOS_ETOOL;
		}
	}
	return 0;
}

int chaos_backend_ns_close(struct chaos_backend *b, uint64_t *queue_drops, char *stats,
			   size_t statslen)
{
	struct ns_impl *im = b->impl;
	int rc = 0;
	uint64_t drops = 0;
	size_t used = 0;
	if (statslen > 0)
		stats[0] = '\0';
	for (size_t i = 0; i < im->n; i++) {
		struct engine *e = &im->engines[i];
		close(e->in);
		char line[512] = "";
		size_t n = 0;
		for (;;) {
			struct pollfd p = { e->out, POLLIN, 0 };
			if (poll(&p, 1, 10000) <= 0)
				break;
			char c;
			if (read(e->out, &c, 1) != 1)
				break;
			if (c == '\n') {
				line[n] = '\0';
				if (strncmp(line, "stats", 5) == 0)
					break;
				n = 0;
				continue;
			}
			if (n + 1 < sizeof line)
				line[n++] = c;
		}
		line[n] = '\0';
		close(e->out);
		int st = 0;
		waitpid(e->pid, &st, 0);
		const char *q = strstr(line, "queue_dropped=");
		const char *u = strstr(line, "user_dropped=");
		if (q == NULL || u == NULL) {
			rc = CHAOS_ETOOL; /* no stats: the engine died */
		} else {
			drops += strtoull(q + 14, NULL, 10) + strtoull(u + 13, NULL, 10);
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			rc = rc ? rc : CHAOS_EBEHIND;
		if (used < statslen) {
			int k = snprintf(stats + used, statslen - used, "%s%s: %s",
					 used ? "; " : "", b->world->racks[i], line);
			if (k > 0)
				used += (size_t)k;
		}
	}
	*queue_drops = drops;
	if (rc == 0 && drops > 0)
		rc = CHAOS_EBEHIND;
	free(im->engines);
	free(im);
	b->impl = NULL;
	return rc;
}
