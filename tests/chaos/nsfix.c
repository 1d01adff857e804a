/* The namespace fixture of the chaos tests (see nsfix.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "nsfix.h"

static struct nsfix made;
static int made_up;
static pid_t owner;

void nsfix_down(void)
{
	if (!made_up || getpid() != owner)
		return;
	made_up = 0;
	chaos_netns_del(made.a);
	chaos_netns_del(made.b);
	chaos_netns_del(made.r);
}

static void on_signal(int sig)
{
	nsfix_down();
	signal(sig, SIG_DFL);
	raise(sig);
}

int nsfix_run(const char *ns, const char *const *argv)
{
	return chaos_netns_run(ns, argv, NULL, 0);
}

#define RUN(ns, ...)                                                      \
	do {                                                              \
		const char *argv_[] = { __VA_ARGS__, NULL };              \
		if (nsfix_run(ns, argv_) != 0) {                          \
			fprintf(stderr, "nsfix: failed in %s: %s %s %s\n", \
				ns ? ns : "root", argv_[0], argv_[1], argv_[2]); \
			goto err;                                         \
		}                                                         \
	} while (0)

int nsfix_up(struct nsfix *f)
{
	if (geteuid() != 0) {
		printf("skipped: needs root for network namespaces\n");
		return 77;
	}
	/* Probe: can we make a namespace at all? Then go back to ours. */
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		printf("skipped: cannot open /proc/self/ns/net: %s\n", strerror(errno));
		return 77;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		printf("skipped: network namespaces not permitted here: %s\n", strerror(errno));
		close(self);
		return 77;
	}
	if (setns(self, CLONE_NEWNET) != 0) {
		printf("skipped: cannot return to our network namespace\n");
		close(self);
		return 77;
	}
	close(self);

	snprintf(f->a, sizeof f->a, "chaos-t%d-a", (int)getpid());
	snprintf(f->b, sizeof f->b, "chaos-t%d-b", (int)getpid());
	snprintf(f->r, sizeof f->r, "chaos-t%d-r", (int)getpid());
	made = *f;
	owner = getpid();
	made_up = 1;
	atexit(nsfix_down);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (chaos_netns_add(f->a) != 0 || chaos_netns_add(f->b) != 0 || chaos_netns_add(f->r) != 0) {
		printf("skipped: cannot create network namespaces (ip netns add)\n");
		nsfix_down();
		return 77;
	}
	RUN(f->r, "ip", "link", "add", "ha", "type", "veth", "peer", "name", "eth0", "netns", f->a);
	RUN(f->r, "ip", "link", "add", "hb", "type", "veth", "peer", "name", "eth0", "netns", f->b);
	RUN(f->r, "ip", "addr", "add", "198.18.1.1/24", "dev", "ha");
	RUN(f->r, "ip", "addr", "add", "198.18.2.1/24", "dev", "hb");
	RUN(f->a, "ip", "addr", "add", NSFIX_A "/24", "dev", "eth0");
	RUN(f->b, "ip", "addr", "add", NSFIX_B "/24", "dev", "eth0");
	const char *all[] = { f->a, f->b, f->r };
	for (int i = 0; i < 3; i++)
		RUN(all[i], "ip", "link", "set", "lo", "up");
	RUN(f->r, "ip", "link", "set", "ha", "up");
	RUN(f->r, "ip", "link", "set", "hb", "up");
	RUN(f->a, "ip", "link", "set", "eth0", "up");
	RUN(f->b, "ip", "link", "set", "eth0", "up");
	RUN(f->a, "ip", "route", "add", "default", "via", "198.18.1.1");
	RUN(f->b, "ip", "route", "add", "default", "via", "198.18.2.1");
	RUN(f->r, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
	char q[16];
	snprintf(q, sizeof q, "%d", NSFIX_QUEUE);
	RUN(f->r, "iptables-legacy", "-w", "-A", "FORWARD", "-j", "NFQUEUE", "--queue-num", q);
	return 0;
err:
	nsfix_down();
	return 1;
}

int nsfix_udp_socket(const char *ns)
{
	char path[128];
	snprintf(path, sizeof path, "/run/netns/%s", ns);
	int saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int s = -1;
	if (saved >= 0 && fd >= 0 && setns(fd, CLONE_NEWNET) == 0) {
		s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		setns(saved, CLONE_NEWNET);
	}
	if (fd >= 0)
		close(fd);
	if (saved >= 0)
		close(saved);
	return s;
}

int engine_start(const struct nsfix *f, uint64_t seed, struct engine *e)
{
	static int n;
	char qs[16], ss[32], ready[256];
	snprintf(qs, sizeof qs, "%d", NSFIX_QUEUE);
	snprintf(ss, sizeof ss, "%llu", (unsigned long long)seed);
	snprintf(e->records, sizeof e->records, "/tmp/chaos-t%d-records-%d", (int)getpid(), n);
	snprintf(ready, sizeof ready, "/tmp/chaos-t%d-ready-%d", (int)getpid(), n++);
	unlink(e->records);
	unlink(ready);
	const char *argv[] = { PH_BINARY_DIR "/chaos/physalia-chaos", "impair", "--queue", qs,
			       "--seed", ss, "--records", e->records, "--ready", ready, NULL };
	if (chaos_netns_spawn(f->r, argv, NULL, 1, &e->pid, &e->in, &e->out) != 0)
		return -1;
	/* Bound: 10 s for the engine to bind its queue. */
	for (int i = 0; i < 1000; i++) {
		if (access(ready, F_OK) == 0) {
			unlink(ready);
			return 0;
		}
		int st;
		if (waitpid(e->pid, &st, WNOHANG) == e->pid)
			return -1;
		poll(NULL, 0, 10);
	}
	return -1;
}

static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 10000) <= 0)
			return -1;
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r <= 0)
			return -1;
		if (c == '\n')
			break;
		buf[n++] = c;
	}
	buf[n] = '\0';
	return 0;
}

int engine_cmd(struct engine *e, const char *line, char *reply, size_t cap)
{
	size_t len = strlen(line);
	if (write(e->in, line, len) != (ssize_t)len || write(e->in, "\n", 1) != 1)
		return -1;
	return read_line(e->out, reply, cap);
}

uint64_t engine_packets(struct engine *e)
{
	char buf[512];
	if (engine_cmd(e, "stats", buf, sizeof buf) != 0)
		return 0;
	const char *p = strstr(buf, "packets=");
	return p ? strtoull(p + 8, NULL, 10) : 0;
}

int engine_stop(struct engine *e, char *reply, size_t cap)
{
	close(e->in);
	int rc = read_line(e->out, reply, cap);
	close(e->out);
	int st = 0;
	waitpid(e->pid, &st, 0);
	if (rc != 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int records_sum(const char *path, const char *src, const char *dst, uint64_t counts[6])
{
	memset(counts, 0, 6 * sizeof counts[0]);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	char s[32], d[32];
	unsigned long long sec, c[6], delay;
	while (fscanf(f, "%llu %31s %31s %llu %llu %llu %llu %llu %llu %llu", &sec, s, d, &c[0],
		      &c[1], &c[2], &c[3], &c[4], &c[5], &delay) == 10) {
		if (strcmp(s, src) != 0 || strcmp(d, dst) != 0)
			continue;
		for (int i = 0; i < 6; i++)
			counts[i] += c[i];
	}
	fclose(f);
	return 0;
}
