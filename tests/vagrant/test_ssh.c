/* The ssh backend against machines emulated by machines.sh: a generated
 * vagrant/ directory (1 row, 3 racks, a node and a client host per rack)
 * brought up as namespaces with an sshd each, provisioned by provision.sh.
 * Runs inside the controller's namespace; every packet stays in namespaces
 * the test made (198.18.0.0/15).
 *
 * Usage: test_vagrant_ssh DIR VAGRANTDIR UDPPROBE PHYSALIA_CHAOS */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runner.h" /* chaos/'s backend interface */
#include "vagrant.h"
#include <sys/wait.h>

static const char *dir, *vdir, *probe, *chaos;

/* One step of a bounded poll. */
static void nap(long ms)
{
	struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	nanosleep(&t, NULL);
}
static struct vag_ssh *b;
static char err[1024];

/* Host name -> its address and machine, from hosts.tsv. */
static void host(const char *name, char addr[16], char machine[64])
{
	char path[512], line[512];
	snprintf(path, sizeof(path), "%s/hosts.tsv", vdir);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	int found = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char h[64], rack[64], row[64], power[64], roles[64], a[16], m[64];
		if (sscanf(line, "%63s %63s %63s %63s %63s %15s %63s", h, rack, row, power, roles, a,
			   m) == 7 &&
		    strcmp(h, name) == 0) {
			strcpy(addr, a);
			strcpy(machine, m);
			found = 1;
		}
	}
	fclose(f);
	ck_assert_msg(found, "host %s not in hosts.tsv", name);
}

static void setup(void)
{
	char cm[512];
	snprintf(cm, sizeof(cm), "%s/cm", dir);
	mkdir(cm, 0700);
	char sc[512];
	snprintf(sc, sizeof(sc), "%s/ssh_config", dir);
	struct vag_ssh_opts o = { .ssh_config = sc, .control_dir = cm, .impair_cmd = chaos,
				  .connect_timeout_s = 5 };
	/* vag_ssh_open copies the strings. */
	ck_assert_int_eq(vag_ssh_open(&o, &b), VAG_OK);
}

static void teardown(void)
{
	vag_ssh_close(b);
	b = NULL;
}

/* Sends 10 datagrams from machine `from` (address src) to dst:7000 with
 * ttl; returns the replies counted. */
static int ping(const char *from, const char *src, const char *dst, int ttl)
{
	char t[8];
	snprintf(t, sizeof(t), "%d", ttl);
	const char *argv[] = { probe, "ping", src, dst, "7000", "10", t, "300", NULL };
	char *out = NULL;
	int status;
	int rc = vag_ssh_exec(b, from, argv, NULL, 0, &out, &status, err, sizeof(err));
	ck_assert_msg(rc == VAG_OK, "%s", err);
	ck_assert_msg(status == 0, "probe on %s: %s", from, err);
	int sent = -1, received = -1;
	ck_assert_int_eq(sscanf(out, "sent %d received %d", &sent, &received), 2);
	ck_assert_int_eq(sent, 10);
	free(out);
	return received;
}

static void start_echo(const char *machine, const char *addr)
{
	const char *argv[] = { probe, "echo", addr, "7000", NULL };
	long pid = 0;
	int rc = vag_ssh_start(b, machine, "echo", argv, &pid, err, sizeof(err));
	ck_assert_msg(rc == VAG_OK, "%s", err);
	ck_assert_int_gt(pid, 1);
	/* Ready when its log says it listens (bounded poll). */
	char remote[256], local[512];
	snprintf(remote, sizeof(remote), "/var/lib/physalia-chaos/echo.log");
	snprintf(local, sizeof(local), "%s/echo-%s.log", dir, machine);
	for (int i = 0; i < 100; i++) {
		if (vag_ssh_fetch(b, machine, remote, local, err, sizeof(err)) == VAG_OK) {
			FILE *f = fopen(local, "r");
			char line[128] = "";
			if (f != NULL) {
				if (fgets(line, sizeof(line), f) == NULL)
					line[0] = '\0';
				fclose(f);
			}
			if (strstr(line, "listening") != NULL)
				return;
		}
		nap(50);
	}
	ck_abort_msg("echo on %s did not start", machine);
}

static void stop_echo(const char *machine)
{
	ck_assert_int_eq(vag_ssh_signal(b, machine, "echo", SIGKILL, err, sizeof(err)), VAG_OK);
	int alive = 1;
	for (int i = 0; i < 100 && alive; i++) {
		ck_assert_int_eq(vag_ssh_alive(b, machine, "echo", &alive, err, sizeof(err)), VAG_OK);
		if (alive)
			nap(20);
	}
	ck_assert_int_eq(alive, 0);
}

START_TEST(exec_reaches_each_machine)
{
	const char *hosts[] = { "r1-n1", "r1-c1", "r2-n1", "r3-c1" };
	for (size_t i = 0; i < 4; i++) {
		char addr[16], m[64];
		host(hosts[i], addr, m);
		const char *argv[] = { "ip", "-o", "-4", "addr", "show", "dev", "eth1", NULL };
		char *out = NULL;
		int status;
		ck_assert_int_eq(vag_ssh_exec(b, m, argv, NULL, 0, &out, &status, err, sizeof(err)),
				 VAG_OK);
		ck_assert_int_eq(status, 0);
		char want[32];
		snprintf(want, sizeof(want), " %s/24 ", addr);
		ck_assert_msg(strstr(out, want) != NULL, "%s: %s", m, out);
		free(out);
	}
	/* Arguments reach the remote command unchanged, stdin too. */
	const char *argv[] = { "sh", "-c", "printf '%s|' \"$@\"; cat", "x", "a b", "it's", "$HOME",
			       NULL };
	char *out = NULL;
	int status;
	ck_assert_int_eq(vag_ssh_exec(b, "r1-n1", argv, "in\n", 3, &out, &status, err, sizeof(err)),
			 VAG_OK);
	ck_assert_str_eq(out, "a b|it's|$HOME|in\n");
	free(out);
	const char *f[] = { "false", NULL };
	ck_assert_int_eq(vag_ssh_exec(b, "r1-n1", f, NULL, 0, NULL, &status, err, sizeof(err)),
			 VAG_OK);
	ck_assert_int_eq(status, 1);
	/* A machine that does not answer is ssh's failure, not the command's. */
	ck_assert_int_eq(vag_ssh_exec(b, "absent", f, NULL, 0, NULL, &status, err, sizeof(err)),
			 VAG_ESSH);
	ck_assert_int_eq(vag_ssh_exec(b, "-oProxyCommand=x", f, NULL, 0, NULL, &status, err,
				      sizeof(err)),
			 VAG_EINVAL);
}
END_TEST

/* Routers are real L3 hops: TTL 1 dies at the ToR inside a rack; across
 * racks the packet needs TTL 4 (ToR, spine, ToR). */
START_TEST(routes_cross_tor_and_spine)
{
	char n1[16], m1[64], c1[16], mc1[64], n2[16], m2[64];
	host("r1-n1", n1, m1);
	host("r1-c1", c1, mc1);
	host("r2-n1", n2, m2);
	start_echo(mc1, c1);
	start_echo(m2, n2);
	ck_assert_int_eq(ping(m1, n1, c1, 1), 0);
	ck_assert_int_eq(ping(m1, n1, c1, 2), 10);
	ck_assert_int_eq(ping(m1, n1, n2, 3), 0);
	ck_assert_int_eq(ping(m1, n1, n2, 4), 10);
	stop_echo(mc1);
	stop_echo(m2);
}
END_TEST

START_TEST(processes_start_signal_fetch_put)
{
	char n2[16], m2[64];
	host("r2-n1", n2, m2);
	start_echo(m2, n2);
	const char *argv[] = { probe, "echo", n2, "7001", NULL };
	ck_assert_int_eq(vag_ssh_start(b, m2, "echo", argv, NULL, err, sizeof(err)), VAG_EINVAL);
	const char *nosuch[] = { "/nonexistent/physalia-node", NULL };
	ck_assert_int_eq(vag_ssh_start(b, m2, "other", nosuch, NULL, err, sizeof(err)), VAG_ETOOL);
	ck_assert_int_eq(vag_ssh_start(b, m2, "../x", argv, NULL, err, sizeof(err)), VAG_EINVAL);
	/* SIGSTOP and SIGCONT reach it; SIGKILL ends it. */
	ck_assert_int_eq(vag_ssh_signal(b, m2, "echo", SIGSTOP, err, sizeof(err)), VAG_OK);
	ck_assert_int_eq(vag_ssh_signal(b, m2, "echo", SIGCONT, err, sizeof(err)), VAG_OK);
	stop_echo(m2);
	ck_assert_int_eq(vag_ssh_signal(b, m2, "echo", SIGKILL, err, sizeof(err)), VAG_ENOTFOUND);
	ck_assert_int_eq(vag_ssh_signal(b, m2, "never", SIGKILL, err, sizeof(err)), VAG_ENOTFOUND);

	/* Files both ways, byte for byte; each machine has its own disk. */
	char local[512], back[512];
	snprintf(local, sizeof(local), "%s/put.bin", dir);
	snprintf(back, sizeof(back), "%s/back.bin", dir);
	FILE *f = fopen(local, "wb");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 300000; i++)
		fputc((int)(((unsigned)i * 7919u) & 255u), f);
	fclose(f);
	ck_assert_int_eq(vag_ssh_put(b, m2, local, "/var/lib/physalia-chaos/in/put.bin", err,
				     sizeof(err)),
			 VAG_OK);
	ck_assert_int_eq(vag_ssh_fetch(b, m2, "/var/lib/physalia-chaos/in/put.bin", back, err,
				       sizeof(err)),
			 VAG_OK);
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", local, back);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(vag_ssh_fetch(b, "r1-n1", "/var/lib/physalia-chaos/in/put.bin", back, err,
				       sizeof(err)),
			 VAG_ENOTFOUND);
}
END_TEST

START_TEST(partition_on_router)
{
	char n1[16], m1[64], n2[16], m2[64];
	host("r1-n1", n1, m1);
	host("r2-n1", n2, m2);
	start_echo(m2, n2);
	ck_assert_int_eq(ping(m1, n1, n2, 64), 10);
	uint32_t a = 0, c = 0;
	unsigned x[4];
	sscanf(n1, "%u.%u.%u.%u", &x[0], &x[1], &x[2], &x[3]);
	a = x[0] << 24 | x[1] << 16 | x[2] << 8 | x[3];
	sscanf(n2, "%u.%u.%u.%u", &x[0], &x[1], &x[2], &x[3]);
	c = x[0] << 24 | x[1] << 16 | x[2] << 8 | x[3];
	/* Dropped where r2-n1 receives: its ToR's forward path. */
	int rc = vag_ssh_partition(b, "tor-rack2", a, 32, c, 32, "ph-test-p1", err, sizeof(err));
	ck_assert_msg(rc == VAG_OK, "%s", err);
	ck_assert_int_eq(ping(m1, n1, n2, 64), 0);
	uint64_t dropped = 0;
	ck_assert_int_eq(vag_ssh_partition_count(b, "tor-rack2", "ph-test-p1", &dropped, err,
						 sizeof(err)),
			 VAG_OK);
	ck_assert_uint_eq(dropped, 10);
	ck_assert_int_eq(vag_ssh_partition_heal(b, "tor-rack2", "ph-test-p1", err, sizeof(err)),
			 VAG_OK);
	ck_assert_int_eq(ping(m1, n1, n2, 64), 10);
	ck_assert_int_eq(vag_ssh_partition_count(b, "tor-rack2", "ph-test-p1", &dropped, err,
						 sizeof(err)),
			 VAG_OK);
	ck_assert_uint_eq(dropped, 0); /* healed: no rule of that tag is left */
	stop_echo(m2);
}
END_TEST

START_TEST(impairment_engine_on_router)
{
	char n1[16], m1[64], n2[16], m2[64];
	host("r1-n1", n1, m1);
	host("r2-n1", n2, m2);
	start_echo(m2, n2);
	unsigned x[4];
	sscanf(n1, "%u.%u.%u.%u", &x[0], &x[1], &x[2], &x[3]);
	uint32_t a = x[0] << 24 | x[1] << 16 | x[2] << 8 | x[3];
	sscanf(n2, "%u.%u.%u.%u", &x[0], &x[1], &x[2], &x[3]);
	uint32_t c = x[0] << 24 | x[1] << 16 | x[2] << 8 | x[3];
	const char *engine = NULL;
	/* This kernel has no sch_netem: the NFQUEUE engine does it. */
	int rc = vag_ssh_impair(b, "tor-rack2", a, 32, c, 32, "loss=1", &engine, err, sizeof(err));
	ck_assert_msg(rc == VAG_OK, "%s", err);
	ck_assert_str_eq(engine, "nfqueue");
	ck_assert_int_eq(ping(m1, n1, n2, 64), 0);
	/* Every request delivered twice: every one answered twice. */
	ck_assert_int_eq(vag_ssh_impair_clear(b, "tor-rack2", err, sizeof(err)), VAG_OK);
	ck_assert_int_eq(vag_ssh_impair(b, "tor-rack2", a, 32, c, 32, "dup=1", &engine, err,
					sizeof(err)),
			 VAG_OK);
	ck_assert_int_eq(ping(m1, n1, n2, 64), 20);
	char stats[512];
	ck_assert_int_eq(vag_ssh_impair_stats(b, "tor-rack2", stats, sizeof(stats), err, sizeof(err)),
			 VAG_OK);
	ck_assert_msg(strncmp(stats, "stats ", 6) == 0, "%s", stats);
	ck_assert_int_eq(vag_ssh_impair(b, "tor-rack2", a, 32, c, 32, "nonsense=3", &engine, err,
					sizeof(err)),
			 VAG_EINVAL);
	ck_assert_int_eq(vag_ssh_impair_clear(b, "tor-rack2", err, sizeof(err)), VAG_OK);
	ck_assert_int_eq(ping(m1, n1, n2, 64), 10);
	stop_echo(m2);
}
END_TEST

/* chaos/'s backend interface over ssh, as the runner would drive it. */
static struct chaos_world world;
static struct chaos_host hosts[16];

static void world_setup(void)
{
	char path[512], line[512];
	snprintf(path, sizeof(path), "%s/hosts.tsv", vdir);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = 0;
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	while (n < 16 && fgets(line, sizeof(line), f) != NULL) {
		char h[64], rack[64], row[64], power[64], roles[64], a[16], m[64], tor[64];
		ck_assert_int_eq(sscanf(line, "%63s %63s %63s %63s %63s %15s %63s %63s", h, rack, row,
					power, roles, a, m, tor),
				 8);
		struct chaos_host *x = &hosts[n++];
		memset(x, 0, sizeof(*x));
		snprintf(x->name, sizeof(x->name), "%s", h);
		x->node = strstr(roles, "node") != NULL;
		x->client = strstr(roles, "client") != NULL;
		snprintf(x->addr_text, sizeof(x->addr_text), "%s", a);
		unsigned o[4];
		sscanf(a, "%u.%u.%u.%u", &o[0], &o[1], &o[2], &o[3]);
		x->addr = o[0] << 24 | o[1] << 16 | o[2] << 8 | o[3];
		snprintf(x->router, sizeof(x->router), "%s", tor);
		snprintf(x->iface, sizeof(x->iface), "h%zu", n - 1);
	}
	fclose(f);
	world.hosts = hosts;
	world.nhosts = n;
}

static struct chaos_host *whost(const char *name)
{
	for (size_t i = 0; i < world.nhosts; i++)
		if (strcmp(hosts[i].name, name) == 0)
			return &hosts[i];
	ck_abort_msg("no host %s", name);
	return NULL;
}

struct counted { uint32_t src; char iface[16]; uint64_t packets; int calls; };

static void count_cb(void *ud, uint32_t src, const char *iface, uint64_t packets)
{
	struct counted *c = ud;
	c->src = src;
	snprintf(c->iface, sizeof(c->iface), "%s", iface);
	c->packets += packets;
	c->calls++;
}

START_TEST(chaos_backend_ops)
{
	world_setup();
	char cm[512], sc[512];
	snprintf(cm, sizeof(cm), "%s/cm", dir);
	snprintf(sc, sizeof(sc), "%s/ssh_config", dir);
	struct chaos_backend be;
	int rc = vag_backend_open(&world, vdir, sc, cm, chaos, 0, &be, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_str_eq(be.ops->name, "vagrant (ssh)");
	struct chaos_host *a = whost("r1-n1"), *c = whost("r2-n1");

	/* start: output reaches the log on the controller; signal and wait. */
	char log[512];
	snprintf(log, sizeof(log), "%s/echo-backend.log", dir);
	const char *argv[] = { probe, "echo", c->addr_text, "7000", NULL };
	const char *env[] = { "PHYSALIA_TEST=1", NULL };
	pid_t pid;
	ck_assert_int_eq(be.ops->start(&be, c, argv, env, log, &pid), 0);
	int up = 0;
	for (int i = 0; i < 200 && !up; i++) {
		FILE *f = fopen(log, "r");
		char line[128] = "";
		if (f != NULL) {
			up = fgets(line, sizeof(line), f) != NULL && strstr(line, "listening") != NULL;
			fclose(f);
		}
		if (!up)
			nap(20);
	}
	ck_assert(up);
	int status = 0;
	ck_assert_int_eq(be.ops->wait(&be, pid, 0, &status), 0); /* still running */
	ck_assert_int_eq(ping("r1-n1", a->addr_text, c->addr_text, 64), 10);

	/* block: dropped at r2-n1's ToR, counted per source. */
	ck_assert_int_eq(be.ops->block(&be, c, a, "t1", 1), 0);
	ck_assert_int_eq(ping("r1-n1", a->addr_text, c->addr_text, 64), 0);
	struct counted cnt = { 0 };
	ck_assert_int_eq(be.ops->block_counts(&be, c->router, "t1", count_cb, &cnt), 0);
	ck_assert_int_eq(cnt.calls, 1);
	ck_assert_uint_eq(cnt.src, a->addr);
	ck_assert_str_eq(cnt.iface, c->iface);
	ck_assert_uint_eq(cnt.packets, 10);
	ck_assert_int_eq(be.ops->block(&be, c, a, "t1", 0), 0);
	ck_assert_int_eq(ping("r1-n1", a->addr_text, c->addr_text, 64), 10);

	/* impair: every ToR's engine gets the line; a packet meets one engine
	 * (its destination's ToR), so dup=1 doubles the answers once. */
	char line[256];
	snprintf(line, sizeof(line), "set %s/32 %s/32 dup=1", a->addr_text, c->addr_text);
	ck_assert_int_eq(be.ops->impair(&be, line), 0);
	ck_assert_int_eq(ping("r1-n1", a->addr_text, c->addr_text, 64), 20);
	snprintf(line, sizeof(line), "set %s/32 %s/32 loss=1", a->addr_text, c->addr_text);
	ck_assert_int_eq(be.ops->impair(&be, line), 0);
	ck_assert_int_eq(ping("r1-n1", a->addr_text, c->addr_text, 64), 0);
	ck_assert_int_eq(be.ops->impair(&be, "clear"), 0);
	ck_assert_int_eq(ping("r1-n1", a->addr_text, c->addr_text, 64), 10);
	ck_assert_int_ne(be.ops->impair(&be, "set nonsense"), 0);

	/* run: the exit status of the command on the host's machine. */
	const char *t[] = { "true", NULL }, *f[] = { "false", NULL };
	ck_assert_int_eq(be.ops->run(&be, a, t), 0);
	ck_assert_int_eq(be.ops->run(&be, a, f), 1);
	/* Files both ways through the backend (configs out, histories back). */
	char back[512];
	snprintf(back, sizeof(back), "%s/log-back.txt", dir);
	ck_assert_int_eq(vag_backend_put(&be, c, log, "/var/lib/physalia-chaos/run/echo.log"), 0);
	ck_assert_int_eq(vag_backend_fetch(&be, c, "/var/lib/physalia-chaos/run/echo.log", back), 0);
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", log, back);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(vag_backend_fetch(&be, a, "/var/lib/physalia-chaos/run/echo.log", back),
			 CHAOS_ENOTFOUND);
	/* rate: refused, never silently ignored. */
	ck_assert_int_eq(be.ops->rate(&be, c, 1000), CHAOS_ENOTBUILT);

	/* kill -9 reaches the remote process; wait says it was killed by 9. */
	ck_assert_int_eq(be.ops->signal(&be, c, pid, SIGKILL), 0);
	ck_assert_int_eq(be.ops->wait(&be, pid, 10000, &status), 1);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGKILL);
	ck_assert_int_eq(ping("r1-n1", a->addr_text, c->addr_text, 64), 0);
	vag_backend_close(&be);
	/* The engines are gone: no NFQUEUE rule is left on the ToRs. */
	const char *ls[] = { "sh", "-c", "iptables -w -S FORWARD | grep -c NFQUEUE || true", NULL };
	char *out = NULL;
	ck_assert_int_eq(vag_ssh_exec(b, c->router, ls, NULL, 0, &out, &status, err, sizeof(err)),
			 VAG_OK);
	ck_assert_str_eq(out, "0\n");
	free(out);
}
END_TEST

/* The colony as the VMs would run it: provision.sh on each node machine
 * installs the node of the commit with its generated config and starts it
 * under supervision; a client on another rack creates a cell on the three
 * racks' nodes and writes and reads it through ToRs and the spine. */
START_TEST(colony_provisioned_on_machines)
{
	const char *prov = getenv("PH_PROVISION"), *node = getenv("PH_NODE"),
		   *cli = getenv("PH_CLI");
	if (node == NULL || *node == '\0' || cli == NULL || *cli == '\0') {
		printf("colony: physalia-node or physalia is not built: not run\n");
		return;
	}
	char commit[64] = "", path[512];
	snprintf(path, sizeof(path), "%s/COMMIT", vdir);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(commit, sizeof(commit), f));
	fclose(f);
	commit[strcspn(commit, "\n")] = '\0';
	char src[512];
	snprintf(src, sizeof(src), "%s/physalia-src.tar.gz", vdir);
	const char *nodes[] = { "r1-n1", "r2-n1", "r3-n1" };
	char peers[256] = "";
	for (int i = 0; i < 3; i++) {
		char addr[16], m[64], cfg[512];
		host(nodes[i], addr, m);
		snprintf(peers + strlen(peers), sizeof(peers) - strlen(peers), "%s%s:7100",
			 i ? "," : "", addr);
		snprintf(cfg, sizeof(cfg), "%s/nodes/%s.yaml", vdir, m);
		const char *argv[] = { "bash", prov, "--src", src, "--commit", commit, "--no-deps",
				       "--binary", node, "--prefix", "/var/lib/physalia-chaos/prefix",
				       "--state", "/var/lib/physalia-chaos/state", "--etc",
				       "/var/lib/physalia-chaos/etc", "--node-config", cfg,
				       "--start-node", "/var/lib/physalia-chaos/etc/node.yaml",
				       "--supervisor", "supervise", NULL };
		char *out = NULL;
		int status;
		ck_assert_int_eq(vag_ssh_exec(b, m, argv, NULL, 0, &out, &status, err, sizeof(err)),
				 VAG_OK);
		ck_assert_msg(status == 0, "provision on %s: %s %s", m, out, err);
		ck_assert_ptr_nonnull(strstr(out, "node started (supervise"));
		free(out);
	}
	char caddr[16], cm[64];
	host("r1-c1", caddr, cm);
	/* The nodes bind before they log their start; poll until the cell can be
	 * created (bounded), then write and read it. */
	int status = -1;
	for (int i = 0; i < 100 && status != 0; i++) {
		const char *create[] = { cli, "--nodes", peers, "--timeout", "2000", "cell", "create",
					 "vol-1", "1,2,3", NULL };
		ck_assert_int_eq(vag_ssh_exec(b, cm, create, NULL, 0, NULL, &status, err, sizeof(err)),
				 VAG_OK);
		if (status != 0)
			nap(100);
	}
	ck_assert_msg(status == 0, "cell create: %s", err);
	const char *put[] = { cli, "--nodes", peers, "put", "vol-1", "owner", "alice", NULL };
	ck_assert_int_eq(vag_ssh_exec(b, cm, put, NULL, 0, NULL, &status, err, sizeof(err)), VAG_OK);
	ck_assert_msg(status == 0, "put: %s", err);
	const char *get[] = { cli, "--nodes", peers, "get", "vol-1", "owner", NULL };
	char *out = NULL;
	ck_assert_int_eq(vag_ssh_exec(b, cm, get, NULL, 0, &out, &status, err, sizeof(err)), VAG_OK);
	ck_assert_msg(status == 0, "get: %s", err);
	ck_assert_msg(strstr(out, "alice") != NULL, "get printed: %s", out);
	free(out);
	for (int i = 0; i < 3; i++) {
		char addr[16], m[64];
		host(nodes[i], addr, m);
		const char *stop[] = { "bash", prov, "--stop-node", "--state",
				       "/var/lib/physalia-chaos/state", "--supervisor", "supervise",
				       NULL };
		ck_assert_int_eq(vag_ssh_exec(b, m, stop, NULL, 0, NULL, &status, err, sizeof(err)),
				 VAG_OK);
		ck_assert_int_eq(status, 0);
	}
}
END_TEST

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: test_vagrant_ssh DIR VAGRANTDIR UDPPROBE PHYSALIA_CHAOS\n");
		return 2;
	}
	dir = argv[1], vdir = argv[2], probe = argv[3], chaos = argv[4];
	Suite *s = suite_create("vagrant ssh backend");
	TCase *tc = tcase_create("ssh");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, exec_reaches_each_machine);
	tcase_add_test(tc, routes_cross_tor_and_spine);
	tcase_add_test(tc, processes_start_signal_fetch_put);
	tcase_add_test(tc, partition_on_router);
	tcase_add_test(tc, impairment_engine_on_router);
	tcase_add_test(tc, chaos_backend_ops);
	tcase_add_test(tc, colony_provisioned_on_machines);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
