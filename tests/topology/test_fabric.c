/* tests/topology/test_fabric.c: the fabric in real network namespaces
 * (label netns; needs root). Every host reaches every other by UDP and TCP,
 * TTLs show the routers crossed (1 in a rack, 3 across racks, 5 across
 * rows), teardown leaves the machine as it was, and `down` cleans up after
 * a run killed with SIGKILL. Each test uses its own run prefix. */
#include "topology/topology.h"
#include "topology/fabric_internal.h"

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define UDP_PORT 7000
#define TCP_PORT 7001

static char base[12];      /* "tf" + pid digits, per test binary */
static char run[TOPO_RUN_MAX];

static void make_run(char letter)
{
	snprintf(run, sizeof run, "%s%c", base, letter);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Names of our run's namespaces under /run/netns. */
static int count_ns(const char *r)
{
	char prefix[TOPO_NSNAME_MAX];
	snprintf(prefix, sizeof prefix, "ph-%s-", r);
	DIR *d = opendir("/run/netns");
	if (d == NULL)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

/* The root namespace's links, as "index:name" lines. */
static char *root_links(void)
{
	struct if_nameindex *ifs = if_nameindex();
	ck_assert_ptr_nonnull(ifs);
	size_t cap = 4096, len = 0;
	char *s = malloc(cap);
	s[0] = '\0';
	for (struct if_nameindex *i = ifs; i->if_index != 0; i++) {
		if (len + IF_NAMESIZE + 16 > cap)
			s = realloc(s, cap *= 2);
		len += (size_t)snprintf(s + len, cap - len, "%u:%s\n", i->if_index, i->if_name);
	}
	if_freenameindex(ifs);
	return s;
}

static pid_t spawn_sleep(const char *host)
{
	char *argv[] = { "sleep", "1000", NULL };
	pid_t pid;
	int rc = topo_fabric_spawn(run, host, argv, &pid);
	ck_assert_msg(rc == 0, "spawn in %s: %s: %s", host, topo_strerror(rc), topo_fabric_error());
	return pid;
}

static bool pid_gone(pid_t pid)
{
	/* our child (or, as subreaper, our orphan): reap it if it died */
	int status;
	pid_t r = waitpid(pid, &status, WNOHANG);
	return r == pid || (r < 0 && errno == ECHILD);
}

static void wait_gone(pid_t pid)
{
	double deadline = now_s() + 10;
	while (!pid_gone(pid)) {
		ck_assert_msg(now_s() < deadline, "process %d still alive", (int)pid);
		struct timespec ts = { 0, 5000000 };
		nanosleep(&ts, NULL);
	}
}

static void setup(void)
{
	run[0] = '\0';
}

static void teardown(void)
{
	if (run[0] != '\0')
		topo_fabric_down(run, NULL);
}

/* ---- servers and clients inside hosts ------------------------------------------ */

/* Runs in a forked child inside host: UDP echo of the received TTL, TCP echo
 * of one byte plus one. Says "ready" on fd ready. Runs until killed. */
static void serve(const char *host, int ready)
{
	int saved;
	if (topo_ns_enter(run, host, &saved) != 0)
		_exit(2);
	int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(u, IPPROTO_IP, IP_RECVTTL, &one, sizeof one);
	a.sin_port = htons(UDP_PORT);
	if (bind(u, (struct sockaddr *)&a, sizeof a) != 0)
		_exit(3);
	a.sin_port = htons(TCP_PORT);
	if (bind(t, (struct sockaddr *)&a, sizeof a) != 0 || listen(t, 64) != 0)
		_exit(4);
	if (write(ready, "r", 1) != 1)
		_exit(5);
	for (;;) {
		struct pollfd p[2] = { { u, POLLIN, 0 }, { t, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[0].revents & POLLIN) {
			char buf[64], cbuf[128];
			struct sockaddr_in from;
			struct iovec iov = { buf, sizeof buf };
			struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof from,
					     .msg_iov = &iov, .msg_iovlen = 1,
					     .msg_control = cbuf, .msg_controllen = sizeof cbuf };
			if (recvmsg(u, &mh, 0) >= 0) {
				int ttl = -1;
				for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
					if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL)
						memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
				sendto(u, &ttl, sizeof ttl, 0, (struct sockaddr *)&from, sizeof from);
			}
		}
		if (p[1].revents & POLLIN) {
			int c = accept(t, NULL, NULL);
			if (c >= 0) {
				struct pollfd q = { c, POLLIN, 0 };
				unsigned char x;
				if (poll(&q, 1, 2000) == 1 && read(c, &x, 1) == 1) {
					x++;
					ssize_t w = write(c, &x, 1);
					(void)w;
				}
				close(c);
			}
		}
	}
}

static int udp_ttl(uint32_t dst)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0), ttl = -1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(UDP_PORT),
				 .sin_addr.s_addr = htonl(dst) };
	for (int attempt = 0; attempt < 5 && ttl < 0; attempt++) {
		sendto(s, "p", 1, 0, (struct sockaddr *)&a, sizeof a);
		struct pollfd p = { s, POLLIN, 0 };
		if (poll(&p, 1, 1000) == 1 && recv(s, &ttl, sizeof ttl, 0) != sizeof ttl)
			ttl = -1;
	}
	close(s);
	return ttl;
}

static bool tcp_echo(uint32_t dst)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(TCP_PORT),
				 .sin_addr.s_addr = htonl(dst) };
	bool ok = false;
	if (connect(s, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS)
		goto out;
	struct pollfd p = { s, POLLOUT, 0 };
	int err = 0;
	socklen_t el = sizeof err;
	if (poll(&p, 1, 3000) != 1 || getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err)
		goto out;
	unsigned char x = 41;
	if (write(s, &x, 1) != 1)
		goto out;
	p.events = POLLIN;
	if (poll(&p, 1, 3000) != 1 || read(s, &x, 1) != 1)
		goto out;
	ok = x == 42;
out:
	close(s);
	return ok;
}

/* Client in a forked child inside host src: every other host by UDP (with
 * the TTL the ToR/spine/core hops predict) and TCP. Exit status = failures. */
static int probe_all(const struct topo_model *m, uint32_t src)
{
	int saved, bad = 0;
	if (topo_ns_enter(run, m->hosts[src].name, &saved) != 0)
		return 100;
	for (uint32_t d = 0; d < m->n_hosts; d++) {
		if (d == src)
			continue;
		int want = 64 - (int)topo_hops(m, src, d);
		int ttl = udp_ttl(m->hosts[d].addr);
		if (ttl != want) {
			fprintf(stderr, "%s -> %s: UDP ttl %d, want %d\n", m->hosts[src].name,
				m->hosts[d].name, ttl, want);
			bad++;
		}
		if (!tcp_echo(m->hosts[d].addr)) {
			fprintf(stderr, "%s -> %s: TCP failed\n", m->hosts[src].name, m->hosts[d].name);
			bad++;
		}
	}
	return bad > 99 ? 99 : bad;
}

static void all_pairs(const struct topo_model *m)
{
	struct topo_fabric_stats st;
	int rc = topo_fabric_up(m, run, &st);
	ck_assert_msg(rc == 0, "up: %s: %s", topo_strerror(rc), topo_fabric_error());
	ck_assert_uint_eq(st.namespaces, m->n_hosts + m->n_racks + m->n_rows + (m->n_rows > 1));
	pid_t *srv = calloc(m->n_hosts, sizeof *srv), *cli = calloc(m->n_hosts, sizeof *cli);
	int ready[2];
	ck_assert_int_eq(pipe(ready), 0);
	for (uint32_t h = 0; h < m->n_hosts; h++) {
		srv[h] = fork();
		ck_assert_int_ge(srv[h], 0);
		if (srv[h] == 0) {
			close(ready[0]);
			serve(m->hosts[h].name, ready[1]);
		}
	}
	close(ready[1]);
	for (uint32_t h = 0; h < m->n_hosts; h++) {
		struct pollfd p = { ready[0], POLLIN, 0 };
		char c;
		ck_assert_msg(poll(&p, 1, 10000) == 1 && read(ready[0], &c, 1) == 1,
			      "servers not ready");
	}
	close(ready[0]);
	/* every server runs inside its namespace */
	struct topo_ns_status *ns;
	size_t n;
	ck_assert_int_eq(topo_fabric_status(run, &ns, &n), 0);
	ck_assert_uint_eq(n, st.namespaces);
	for (size_t i = 0; i < n; i++)
		if (topo_model_find_host(m, ns[i].entity) >= 0)
			ck_assert_uint_eq(ns[i].processes, 1);
	free(ns);
	for (uint32_t h = 0; h < m->n_hosts; h++) {
		cli[h] = fork();
		ck_assert_int_ge(cli[h], 0);
		if (cli[h] == 0)
			_exit(probe_all(m, h));
	}
	int failures = 0;
	for (uint32_t h = 0; h < m->n_hosts; h++) {
		int status;
		ck_assert_int_eq(waitpid(cli[h], &status, 0), cli[h]);
		failures += WIFEXITED(status) ? WEXITSTATUS(status) : 1000;
	}
	for (uint32_t h = 0; h < m->n_hosts; h++) {
		kill(srv[h], SIGKILL);
		waitpid(srv[h], NULL, 0);
	}
	free(srv);
	free(cli);
	ck_assert_int_eq(failures, 0);
	uint32_t removed = 0;
	ck_assert_int_eq(topo_fabric_down(run, &removed), 0);
	ck_assert_uint_eq(removed, st.namespaces);
	ck_assert_int_eq(count_ns(run), 0);
}

START_TEST(default_model_every_host_reaches_every_other)
{
	make_run('a');
	struct topo_model *m = NULL;
	ck_assert_int_eq(topo_model_default(&m), 0);
	all_pairs(m);
	topo_model_free(m);
}
END_TEST

/* Reads one ethtool flag of ifname inside (run, ns). */
static int ethtool_get(const char *ns, const char *ifname, uint32_t cmd)
{
	int saved;
	ck_assert_int_eq(topo_ns_enter(run, ns, &saved), 0);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ethtool_value ev = { .cmd = cmd };
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	int rc = ioctl(s, SIOCETHTOOL, &ifr);
	close(s);
	ck_assert_int_eq(topo_ns_leave(saved), 0);
	return rc == 0 ? (int)ev.data : -1;
}

static int read_sysctl(const char *ns, const char *path)
{
	int saved;
	ck_assert_int_eq(topo_ns_enter(run, ns, &saved), 0);
	FILE *f = fopen(path, "r");
	int v = -1;
	if (f != NULL) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	ck_assert_int_eq(topo_ns_leave(saved), 0);
	return v;
}

START_TEST(hosts_and_routers_are_set_up_for_faults)
{
	make_run('j');
	struct topo_model *m = NULL;
	ck_assert_int_eq(topo_model_default(&m), 0);
	ck_assert_int_eq(topo_fabric_up(m, run, NULL), 0);
	/* offloads off on both ends of a host link and on an uplink */
	static const uint32_t gets[] = { ETHTOOL_GGRO, ETHTOOL_GGSO, ETHTOOL_GTSO,
					 ETHTOOL_GTXCSUM, ETHTOOL_GSG };
	for (size_t i = 0; i < sizeof gets / sizeof gets[0]; i++) {
		ck_assert_int_eq(ethtool_get("r2-n1", "eth0", gets[i]), 0);
		ck_assert_int_eq(ethtool_get("rack2", "h0", gets[i]), 0);
		ck_assert_int_eq(ethtool_get("rack2", "up", gets[i]), 0);
		ck_assert_int_eq(ethtool_get("row1", "r1", gets[i]), 0);
	}
	/* forwarding in routers only */
	ck_assert_int_eq(read_sysctl("rack2", "/proc/sys/net/ipv4/ip_forward"), 1);
	ck_assert_int_eq(read_sysctl("row1", "/proc/sys/net/ipv4/ip_forward"), 1);
	ck_assert_int_eq(read_sysctl("r2-n1", "/proc/sys/net/ipv4/ip_forward"), 0);
	/* the way iproute2 sees namespaces: a bind mount under /run/netns that
	 * `ip netns exec` could enter (same device and inode as the netns a
	 * process inside it has) */
	char *argv[] = { "sleep", "1000", NULL };
	pid_t pid;
	ck_assert_int_eq(topo_fabric_spawn(run, "r3-c1", argv, &pid), 0);
	char path[128], ns[TOPO_NSNAME_MAX];
	topo_ns_name(ns, sizeof ns, run, "r3-c1");
	snprintf(path, sizeof path, "/run/netns/%s", ns);
	struct stat a, b;
	ck_assert_int_eq(stat(path, &a), 0);
	snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
	double deadline = now_s() + 10;
	for (;;) {
		ck_assert_int_eq(stat(path, &b), 0);
		if (a.st_ino == b.st_ino || now_s() > deadline)
			break;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	ck_assert(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ck_assert_int_eq(topo_fabric_down(run, NULL), 0);
	topo_model_free(m);
}
END_TEST

START_TEST(two_rows_route_through_the_core)
{
	make_run('b');
	struct topo_gen g = { .rows = 2, .racks_per_row = 3, .powers = 3, .nodes = 1,
			      .clients = 1, .jury_size = 3 };
	struct topo_model *m = NULL;
	ck_assert_int_eq(topo_model_generate(&g, &m, NULL), 0);
	ck_assert_uint_eq(topo_hops(m, 0, (uint32_t)m->n_hosts - 1), 5);
	all_pairs(m);
	topo_model_free(m);
}
END_TEST

START_TEST(teardown_leaves_the_machine_as_it_was)
{
	make_run('c');
	char *before = root_links();
	struct topo_model *m = NULL;
	ck_assert_int_eq(topo_model_default(&m), 0);
	ck_assert_int_eq(topo_fabric_up(m, run, NULL), 0);
	ck_assert_int_eq(count_ns(run), 26);
	char *during = root_links();
	ck_assert_str_eq(before, during); /* nothing of ours in the root namespace */
	pid_t a = spawn_sleep("r1-n1"), b = spawn_sleep("rack3");
	struct topo_ns_status *st;
	size_t n;
	ck_assert_int_eq(topo_fabric_status(run, &st, &n), 0);
	ck_assert_uint_eq(n, 26);
	uint32_t procs = 0;
	for (size_t i = 0; i < n; i++) {
		procs += st[i].processes;
		if (strcmp(st[i].entity, "rack2") == 0) {
			ck_assert_uint_eq(st[i].links, 5);   /* 4 hosts + uplink */
			ck_assert_uint_eq(st[i].links_up, 5);
			ck_assert_uint_eq(st[i].addresses, 5);
		}
		if (strcmp(st[i].entity, "r2-c1") == 0) {
			ck_assert_uint_eq(st[i].links, 1);
			ck_assert_uint_eq(st[i].addresses, 1);
		}
		if (strcmp(st[i].entity, "row1") == 0)
			ck_assert_uint_eq(st[i].links, 5);
	}
	ck_assert_uint_eq(procs, 2);
	free(st);
	uint32_t removed = 0;
	ck_assert_int_eq(topo_fabric_down(run, &removed), 0);
	ck_assert_uint_eq(removed, 26);
	wait_gone(a);
	wait_gone(b);
	ck_assert_int_eq(count_ns(run), 0);
	char *after = root_links();
	ck_assert_str_eq(before, after);
	/* down again: nothing there is fine */
	ck_assert_int_eq(topo_fabric_down(run, &removed), 0);
	ck_assert_uint_eq(removed, 0);
	free(before);
	free(during);
	free(after);
	topo_model_free(m);
}
END_TEST

START_TEST(sigkill_during_a_run_then_down_cleans_everything)
{
	make_run('d');
	char *before = root_links();
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		close(p[0]);
		struct topo_model *m = NULL;
		if (topo_model_default(&m) != 0 || topo_fabric_up(m, run, NULL) != 0)
			_exit(1);
		pid_t s1, s2;
		char *argv[] = { "sleep", "1000", NULL };
		if (topo_fabric_spawn(run, "r4-c1", argv, &s1) != 0 ||
		    topo_fabric_spawn(run, "row1", argv, &s2) != 0)
			_exit(2);
		pid_t both[2] = { s1, s2 };
		if (write(p[1], both, sizeof both) != sizeof both)
			_exit(3);
		for (;;)
			pause();
	}
	close(p[1]);
	pid_t sleepers[2];
	struct pollfd pf = { p[0], POLLIN, 0 };
	ck_assert_msg(poll(&pf, 1, 20000) == 1, "child did not bring the fabric up");
	ck_assert_int_eq(read(p[0], sleepers, sizeof sleepers), (ssize_t)sizeof sleepers);
	close(p[0]);
	kill(child, SIGKILL);
	int status;
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* what the killed run left: namespaces with processes inside */
	ck_assert_int_eq(count_ns(run), 26);
	ck_assert_int_eq(kill(sleepers[0], 0), 0);
	uint32_t removed = 0;
	ck_assert_int_eq(topo_fabric_down(run, &removed), 0);
	ck_assert_uint_eq(removed, 26);
	wait_gone(sleepers[0]);
	wait_gone(sleepers[1]);
	ck_assert_int_eq(count_ns(run), 0);
	char *after = root_links();
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}
END_TEST

START_TEST(sigkill_in_the_middle_of_up_then_down_cleans)
{
	make_run('e');
	struct topo_gen g = { .rows = 2, .racks_per_row = 5, .powers = 3, .nodes = 6,
			      .clients = 2, .jury_size = 7 };
	struct topo_model *m = NULL;
	ck_assert_int_eq(topo_model_generate(&g, &m, NULL), 0);
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0)
		_exit(topo_fabric_up(m, run, NULL) == 0 ? 0 : 1);
	double deadline = now_s() + 20;
	while (count_ns(run) < 5 && now_s() < deadline) {
		struct timespec ts = { 0, 200000 };
		nanosleep(&ts, NULL);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	int left = count_ns(run);
	ck_assert_int_gt(left, 0);
	uint32_t removed = 0;
	ck_assert_int_eq(topo_fabric_down(run, &removed), 0);
	ck_assert_uint_eq(removed, (uint32_t)left);
	ck_assert_int_eq(count_ns(run), 0);
	/* and the run can come up again */
	ck_assert_int_eq(topo_fabric_up(m, run, NULL), 0);
	ck_assert_int_eq(topo_fabric_down(run, NULL), 0);
	topo_model_free(m);
}
END_TEST

/* A failure at any step of up (injected, as if the kernel refused it)
 * leaves nothing behind: no namespace, no link in the root namespace. */
START_TEST(a_failure_at_any_step_of_up_leaves_nothing)
{
	make_run('k');
	char *before = root_links();
	struct topo_gen g = { .rows = 2, .racks_per_row = 3, .powers = 3, .nodes = 1,
			      .clients = 1, .jury_size = 3 };
	struct topo_model *m = NULL;
	ck_assert_int_eq(topo_model_generate(&g, &m, NULL), 0);
	int n;
	for (n = 1; n < 10000; n++) {
		topo__fabric_fault_at = n;
		int rc = topo_fabric_up(m, run, NULL);
		if (rc == 0)
			break;
		ck_assert_msg(rc == TOPO_ENETLINK, "step %d: %s", n, topo_fabric_error());
		ck_assert_ptr_nonnull(strstr(topo_fabric_error(), "injected"));
		ck_assert_msg(count_ns(run) == 0, "step %d left namespaces", n);
	}
	topo__fabric_fault_at = 0;
	ck_assert_int_gt(n, 100); /* every step of a 12-host, 2-row fabric was hit */
	ck_assert_int_eq(topo_fabric_down(run, NULL), 0);
	char *after = root_links();
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	topo_model_free(m);
}
END_TEST

START_TEST(two_runs_coexist)
{
	make_run('f');
	char other[TOPO_RUN_MAX];
	snprintf(other, sizeof other, "%sg", base);
	struct topo_model *m = NULL;
	ck_assert_int_eq(topo_model_default(&m), 0);
	ck_assert_int_eq(topo_fabric_up(m, run, NULL), 0);
	int rc = topo_fabric_up(m, other, NULL);
	ck_assert_msg(rc == 0, "%s", topo_fabric_error());
	ck_assert_int_eq(topo_fabric_up(m, run, NULL), TOPO_EEXIST);
	ck_assert_int_eq(count_ns(run), 26);
	ck_assert_int_eq(count_ns(other), 26);
	ck_assert_int_eq(topo_fabric_down(other, NULL), 0);
	ck_assert_int_eq(count_ns(other), 0);
	ck_assert_int_eq(count_ns(run), 26);
	ck_assert_int_eq(topo_fabric_down(run, NULL), 0);
	topo_model_free(m);
}
END_TEST

START_TEST(exec_runs_inside_the_host)
{
	make_run('h');
	struct topo_model *m = NULL;
	ck_assert_int_eq(topo_model_default(&m), 0);
	ck_assert_int_eq(topo_fabric_up(m, run, NULL), 0);
	/* the host sees its own eth0 and no other link, in /sys too */
	char *argv[] = { "sh", "-c", "test -e /sys/class/net/eth0 && ! test -e /sys/class/net/h0 && exit 7", NULL };
	pid_t pid;
	ck_assert_int_eq(topo_fabric_spawn(run, "r2-n2", argv, &pid), 0);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 7);
	char *missing[] = { "/nonexistent/binary", NULL };
	ck_assert_int_eq(topo_fabric_spawn(run, "r2-n2", missing, &pid), TOPO_ECHILD);
	ck_assert_ptr_nonnull(strstr(topo_fabric_error(), "exec"));
	ck_assert_int_eq(topo_fabric_spawn(run, "nosuchhost", argv, &pid), TOPO_ENOTFOUND);
	/* the CLI entry point returns the command's status */
	char *cli[] = { "exec", "--run", run, "r3-c1", "--", "sh", "-c", "exit 5", NULL };
	ck_assert_int_eq(topo_cli_fabric(8, cli), 5);
	char *cli_status[] = { "status", "--run", run, NULL };
	ck_assert_int_eq(topo_cli_fabric(3, cli_status), 0);
	char *cli_down[] = { "down", "--run", run, NULL };
	ck_assert_int_eq(topo_cli_fabric(3, cli_down), 0);
	ck_assert_int_eq(count_ns(run), 0);
	char *bad[] = { "down", "--run", "bad-prefix", NULL };
	ck_assert_int_eq(topo_cli_fabric(3, bad), 2);
	topo_model_free(m);
}
END_TEST

START_TEST(bad_arguments_are_refused_before_touching_anything)
{
	make_run('i');
	struct topo_model *m = NULL;
	ck_assert_int_eq(topo_model_default(&m), 0);
	ck_assert_int_eq(topo_fabric_up(m, "bad-run", NULL), TOPO_EINVAL);
	ck_assert_int_eq(topo_fabric_up(m, "", NULL), TOPO_EINVAL);
	ck_assert_int_eq(topo_fabric_up(m, "waytoolongprefix0", NULL), TOPO_EINVAL);
	ck_assert_int_eq(topo_fabric_up(NULL, run, NULL), TOPO_EINVAL);
	ck_assert_int_eq(topo_fabric_down("a/b", NULL), TOPO_EINVAL);
	ck_assert_int_eq(count_ns(run), 0);
	int fd;
	ck_assert_int_eq(topo_ns_open(run, "r1-n1", &fd), TOPO_ENOTFOUND);
	topo_model_free(m);
}
END_TEST

/* Namespaces, mounts and netlink need root (CAP_SYS_ADMIN, CAP_NET_ADMIN);
 * a sandbox without them skips with its reason. */
static const char *why_not_permitted(void)
{
	static char why[160];
	pid_t pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0)
			_exit(1);
		if (mount("", "/", "none", MS_SLAVE | MS_REC, NULL) != 0)
			_exit(2);
		if (mkdir("/run/netns", 0755) != 0 && errno != EEXIST)
			_exit(3);
		_exit(0);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return "cannot fork a probe";
	switch (WEXITSTATUS(status)) {
	case 0: return NULL;
	case 1: snprintf(why, sizeof why, "network namespaces not permitted (unshare(CLONE_NEWNET) fails; run as root)"); break;
	case 2: snprintf(why, sizeof why, "mount namespaces not permitted (needed to mount namespaces under /run/netns)"); break;
	default: snprintf(why, sizeof why, "cannot create /run/netns"); break;
	}
	return why;
}

int main(void)
{
	const char *why = why_not_permitted();
	if (why != NULL) {
		printf("SKIP: %s\n", why);
		return 77;
	}
	snprintf(base, sizeof base, "tf%u", (unsigned)getpid() % 100000u);
	Suite *s = suite_create("topology fabric");
	TCase *tc = tcase_create("fabric");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, bad_arguments_are_refused_before_touching_anything);
	tcase_add_test(tc, default_model_every_host_reaches_every_other);
	tcase_add_test(tc, two_rows_route_through_the_core);
	tcase_add_test(tc, hosts_and_routers_are_set_up_for_faults);
	tcase_add_test(tc, teardown_leaves_the_machine_as_it_was);
	tcase_add_test(tc, sigkill_during_a_run_then_down_cleans_everything);
	tcase_add_test(tc, sigkill_in_the_middle_of_up_then_down_cleans);
	tcase_add_test(tc, a_failure_at_any_step_of_up_leaves_nothing);
	tcase_add_test(tc, two_runs_coexist);
	tcase_add_test(tc, exec_runs_inside_the_host);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/* whatever a crashed test left behind goes too */
	for (char c = 'a'; c <= 'k'; c++) {
		make_run(c);
		topo_fabric_down(run, NULL);
	}
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
