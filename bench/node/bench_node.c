/* bench_node: physalia-node against etcd 3.4 on this machine, side by side.
 *
 *   physalia: 3 nodes (jury 3) and 7 nodes (jury 7) on loopback, writes
 *             through the client library (node.h), each client on its own
 *             cells (PH_BENCH_CELLS cells in all, default 256).
 *   etcd:     3 members on loopback (Debian's etcd-server), writes through
 *             the HTTP JSON gateway POST /v3/kv/put with base64 keys, one
 *             keep-alive connection per client.
 * Both fsync every commit (physalia: SQLite WAL synchronous=FULL, one fsync
 * per loop turn; etcd: its WAL fsync per raft batch).
 *
 * Prints: single-client write latency p50/p99 and throughput with 1, 16 and
 * 64 concurrent clients, beside the anchors measured earlier on this machine
 * (etcd ~1.4k writes/s, p50 0.65 ms single client, ~9k writes/s at 64).
 * Then one node hosting PH_BENCH_MILLION cells (default 1000000): start-up
 * time, resident memory, idle CPU. Every figure printed was measured in this
 * run; nothing is assumed.
 *
 * Usage: bench_node [seconds-per-point (default 5)]
 * PH_BENCH_ONLY=million runs only the million-cell part. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <engine.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../tests/node/colony.h"
#include "node.h"
#include "store.h"

static double seconds_per_point = 5;

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

struct point {
	double ops_per_s;
	double p50_ms, p99_ms;
	long errors;
	long n;
};

/* ---- generic load driver --------------------------------------------------- */

struct loadgen;
typedef int (*op_fn)(struct loadgen *g, int thread, long i);

struct loadgen {
	int nthreads;
	int64_t stop_ns;
	op_fn op;
	void *ctx;
	int64_t *lat[64];
	long nlat[64], cap[64], errors[64];
	void *per[64];
};

struct thread_arg {
	struct loadgen *g;
	int t;
};

static void *load_thread(void *arg)
{
	struct thread_arg *a = arg;
	struct loadgen *g = a->g;
	for (long i = 0; mono_ns() < g->stop_ns; i++) {
		int64_t t0 = mono_ns();
		int rc = g->op(g, a->t, i);
		int64_t dt = mono_ns() - t0;
		if (rc != 0) {
			g->errors[a->t]++;
			continue;
		}
		if (g->nlat[a->t] == g->cap[a->t]) {
			g->cap[a->t] = g->cap[a->t] ? g->cap[a->t] * 2 : 4096;
			g->lat[a->t] = realloc(g->lat[a->t], (size_t)g->cap[a->t] * sizeof(int64_t));
		}
		g->lat[a->t][g->nlat[a->t]++] = dt;
	}
	return NULL;
}

static struct point run_load(struct loadgen *g)
{
	pthread_t th[64];
	struct thread_arg args[64];
	for (int t = 0; t < g->nthreads; t++) {
		g->nlat[t] = g->errors[t] = 0;
	}
	int64_t t0 = mono_ns();
	g->stop_ns = t0 + (int64_t)(seconds_per_point * 1e9);
	for (int t = 0; t < g->nthreads; t++) {
		args[t] = (struct thread_arg){ g, t };
		pthread_create(&th[t], NULL, load_thread, &args[t]);
	}
	for (int t = 0; t < g->nthreads; t++)
		pthread_join(th[t], NULL);
	double el = (double)(mono_ns() - t0) / 1e9;
	long n = 0, err = 0;
	for (int t = 0; t < g->nthreads; t++) {
		n += g->nlat[t];
		err += g->errors[t];
	}
	int64_t *all = malloc((size_t)(n ? n : 1) * sizeof *all);
	long k = 0;
	for (int t = 0; t < g->nthreads; t++) {
		memcpy(all + k, g->lat[t], (size_t)g->nlat[t] * sizeof *all);
		k += g->nlat[t];
	}
	qsort(all, (size_t)n, sizeof *all, cmp_i64);
	struct point p = { .ops_per_s = (double)n / el, .errors = err, .n = n };
	if (n > 0) {
		p.p50_ms = (double)all[n / 2] / 1e6;
		p.p99_ms = (double)all[(long)((double)n * 0.99)] / 1e6;
	}
	free(all);
	return p;
}

/* ---- physalia ------------------------------------------------------------------ */

struct ph_ctx {
	struct colony *col;
	size_t ncells;
	struct node_client *cl[64];
	uint8_t txn[64][256];
	size_t txn_len[64];
};

static void cell_name(size_t i, char *buf, size_t n)
{
	snprintf(buf, n, "bench-%06zu", i);
}

static int ph_op(struct loadgen *g, int t, long i)
{
	struct ph_ctx *x = g->ctx;
	/* client t owns cells t, t + 64, t + 128, ... whatever the number of
	 * clients (the engine remembers PH_DEDUP_MAX client sessions per cell,
	 * and a client keeps its proposer hints across points) */
	size_t per = x->ncells / 64;
	if (per == 0)
		per = 1;
	size_t cell = ((size_t)t + 64 * ((size_t)i % per)) % x->ncells;
	char name[32];
	cell_name(cell, name, sizeof name);
	struct node_result r;
	int rc = node_client_txn(x->cl[t], name, strlen(name), x->txn[t], x->txn_len[t],
				 NODE_CONSISTENT, &r);
	if (rc != 0)
		return rc;
	rc = r.outcome == PH_ST_COMMITTED ? 0 : -1;
	node_result_free(&r);
	return rc;
}

static struct node_client *ph_client(struct colony *col)
{
	char a[COLONY_MAX][64];
	const char *seeds[COLONY_MAX];
	for (uint32_t i = 0; i < col->n; i++) {
		colony_client_addr(col, i + 1, a[i], sizeof a[i]);
		seeds[i] = a[i];
	}
	struct node_client *cl;
	if (node_client_new(seeds, col->n, 0, &cl) != 0)
		exit(1);
	node_client_set_retry(cl, 10000, 2, 100);
	return cl;
}

static int physalia_series(size_t nodes, size_t jury_n, size_t ncells, struct point *pts,
			   const int *clients, int npts)
{
	struct colony col;
	memset(&col, 0, sizeof col);
	/* the engine heartbeats every led cell: slower timing keeps the
	 * background load of ncells idle cells small */
	if (colony_start(&col, nodes, "log_level: warn\ntiming: {heartbeat_ms: 500, election_timeout_ms: 2000}\n") != 0) {
		colony_destroy(&col);
		return -1;
	}
	struct ph_ctx x = { .col = &col, .ncells = ncells };
	struct node_client *admin = ph_client(&col);
	for (size_t i = 0; i < ncells; i++) {
		char name[32];
		cell_name(i, name, sizeof name);
		uint32_t jury[NODE_JURY_MAX];
		for (size_t j = 0; j < jury_n; j++)
			jury[j] = (uint32_t)((i + j) % nodes) + 1;
		int rc = node_client_cell_create(admin, name, strlen(name), jury, jury_n);
		if (rc != 0) {
			fprintf(stderr, "create %s: %s\n", name, node_strerror(rc));
			colony_destroy(&col);
			return -1;
		}
	}
	node_client_free(admin);
	for (int t = 0; t < 64; t++) {
		x.cl[t] = ph_client(&col);
		struct ph_txn *txn;
		ph_txn_new(NULL, &txn);
		char val[32];
		snprintf(val, sizeof val, "value-from-client-%02d", t);
		struct ph_value v = { .type = PH_T_BYTES, .bytes = (const uint8_t *)val, .len = strlen(val) };
		ph_txn_put(txn, "k", 1, &v);
		ph_txn_encode(txn, x.txn[t], sizeof x.txn[t], &x.txn_len[t]);
		ph_txn_free(txn);
	}
	struct loadgen g;
	memset(&g, 0, sizeof g);
	g.op = ph_op;
	g.ctx = &x;
	/* warm up: elect a proposer in every cell, teach every client its cells'
	 * proposers */
	g.nthreads = 64;
	double keep = seconds_per_point;
	seconds_per_point = 2;
	run_load(&g);
	seconds_per_point = keep;
	for (int k = 0; k < npts; k++) {
		g.nthreads = clients[k];
		pts[k] = run_load(&g);
	}
	for (int t = 0; t < 64; t++) {
		node_client_free(x.cl[t]);
		free(g.lat[t]);
	}
	colony_destroy(&col);
	return 0;
}

/* ---- etcd ---------------------------------------------------------------------- */

struct etcd {
	pid_t pid[3];
	char dir[128];
	int client_port[3];
};

static int tcp_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct timeval tv = { 10, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return fd;
}

static void b64(const char *in, char *out)
{
	static const char tb[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(uint8_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)(uint8_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (uint8_t)in[i + 2];
		out[o++] = tb[v >> 18 & 63];
		out[o++] = tb[v >> 12 & 63];
		out[o++] = i + 1 < n ? tb[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? tb[v & 63] : '=';
	}
	out[o] = 0;
}

/* One PUT over a keep-alive connection; 0 on HTTP 200 without "error". */
static int etcd_put(int fd, const char *key, const char *val)
{
	char k64[128], v64[128], body[400], req[700], resp[4096];
	b64(key, k64);
	b64(val, v64);
	int bl = snprintf(body, sizeof body, "{\"key\":\"%s\",\"value\":\"%s\"}", k64, v64);
	int rl = snprintf(req, sizeof req,
			  "POST /v3/kv/put HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
			  "Content-Length: %d\r\n\r\n%s", bl, body);
	if (write(fd, req, (size_t)rl) != rl)
		return -1;
	size_t got = 0;
	for (;;) {
		ssize_t r = read(fd, resp + got, sizeof resp - 1 - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
		resp[got] = 0;
		char *end = strstr(resp, "\r\n\r\n");
		if (!end)
			continue;
		const char *cl = strstr(resp, "Content-Length:");
		if (cl == NULL)
			cl = strstr(resp, "content-length:");
		long clen = cl ? strtol(cl + 15, NULL, 10) : 0;
		if ((long)(got - (size_t)(end + 4 - resp)) < clen)
			continue;
		return strncmp(resp, "HTTP/1.1 200", 12) == 0 && !strstr(end, "\"error\"") ? 0 : -1;
	}
}

struct etcd_ctx {
	struct etcd *e;
	int fd[64];
};

static int etcd_op(struct loadgen *g, int t, long i)
{
	struct etcd_ctx *x = g->ctx;
	if (x->fd[t] < 0)
		x->fd[t] = tcp_connect(x->e->client_port[t % 3]);
	if (x->fd[t] < 0)
		return -1;
	char key[32], val[32];
	snprintf(key, sizeof key, "bench-%02d-%02ld", t, i % 4);
	snprintf(val, sizeof val, "value-from-client-%02d", t);
	int rc = etcd_put(x->fd[t], key, val);
	if (rc != 0) {
		close(x->fd[t]);
		x->fd[t] = -1;
	}
	return rc;
}

static void etcd_stop(struct etcd *e)
{
	for (int i = 0; i < 3; i++)
		if (e->pid[i] > 0) {
			kill(e->pid[i], SIGKILL);
			waitpid(e->pid[i], NULL, 0);
		}
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
	if (strncmp(e->dir, "/tmp/ph-bench-etcd-", 19) == 0 && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", e->dir);
}

static int etcd_start(struct etcd *e)
{
	memset(e, 0, sizeof *e);
	snprintf(e->dir, sizeof e->dir, "/tmp/ph-bench-etcd-XXXXXX");
	if (mkdtemp(e->dir) == NULL)
		return -1;
	int base = 12000 + (int)(getpid() % 500) * 10; /* below the ephemeral range */
	char cluster[400];
	snprintf(cluster, sizeof cluster, "m0=http://127.0.0.1:%d,m1=http://127.0.0.1:%d,m2=http://127.0.0.1:%d",
		 base + 5, base + 6, base + 7);
	for (int i = 0; i < 3; i++) {
		e->client_port[i] = base + i;
		pid_t p = fork();
		if (p == 0) {
			char name[8], data[200], lc[64], pc[64], log[220];
			snprintf(name, sizeof name, "m%d", i);
			snprintf(data, sizeof data, "%s/m%d", e->dir, i);
			snprintf(lc, sizeof lc, "http://127.0.0.1:%d", base + i);
			snprintf(pc, sizeof pc, "http://127.0.0.1:%d", base + 5 + i);
			snprintf(log, sizeof log, "%s/m%d.log", e->dir, i);
			int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			dup2(fd, 1);
			dup2(fd, 2);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			execlp("etcd", "etcd", "--name", name, "--data-dir", data, "--listen-client-urls", lc,
			       "--advertise-client-urls", lc, "--listen-peer-urls", pc,
			       "--initial-advertise-peer-urls", pc, "--initial-cluster", cluster,
			       "--initial-cluster-state", "new", "--initial-cluster-token", "phbench",
			       "--log-level", "error", (char *)NULL);
			_exit(127);
		}
		e->pid[i] = p;
	}
	for (int k = 0; k < 300; k++) {
		int fd = tcp_connect(e->client_port[0]);
		if (fd >= 0) {
			int rc = etcd_put(fd, "ready", "1");
			close(fd);
			if (rc == 0)
				return 0;
		}
		nap_ms(100);
	}
	return -1;
}

/* ---- one node with a million cells ---------------------------------------------- */

static long rss_kib(pid_t p)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)p);
	FILE *f = fopen(path, "r");
	long v = -1;
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			v = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static double cpu_s(pid_t p)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)p);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char *q = strrchr(buf, ')');
	unsigned long ut = 0, st = 0;
	if (q == NULL || sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void million(long ncells)
{
	struct colony col;
	memset(&col, 0, sizeof col);
	/* a 3-node config, only node 1 runs: its cells stay cold until used */
	if (colony_start(&col, 3, "log_level: warn\ntiming: {heartbeat_ms: 1000, election_timeout_ms: 10000}\n") != 0) {
		printf("million: could not start\n");
		colony_destroy(&col);
		return;
	}
	for (uint32_t id = 1; id <= 3; id++)
		colony_node_signal(&col, id, SIGTERM);
	char path[400], err[256];
	snprintf(path, sizeof path, "%s/data1/node.db", col.dir);
	struct node_store *s;
	if (node_store_open(path, NULL, &s, err, sizeof err) != 0) {
		printf("million: store: %s\n", err);
		colony_destroy(&col);
		return;
	}
	int64_t t0 = mono_ns();
	uint8_t conf[2 + 12] = { 1, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3 };
	for (long i = 0; i < ncells; i += 50000) {
		node_store_begin(s);
		for (long j = i; j < i + 50000 && j < ncells; j++) {
			char name[32];
			cell_name((size_t)j, name, sizeof name);
			node_store_put_cell(s, name, strlen(name), conf, sizeof conf);
		}
		if (node_store_commit(s) != 0) {
			printf("million: commit failed\n");
			break;
		}
	}
	node_store_close(s);
	printf("  wrote %ld cells into the node database in %.1f s (store API, offline)\n", ncells,
	       (double)(mono_ns() - t0) / 1e9);
	t0 = mono_ns();
	if (colony_node_start(&col, 1) != 0) {
		printf("million: node did not start\n");
		colony_destroy(&col);
		return;
	}
	double start_s = (double)(mono_ns() - t0) / 1e9;
	long rss0 = rss_kib(col.pid[1]);
	double c0 = cpu_s(col.pid[1]);
	nap_ms(5000);
	double c1 = cpu_s(col.pid[1]);
	long rss1 = rss_kib(col.pid[1]);
	printf("  %-44s %10.2f s   (target < 10 s)\n", "start-up (client port open)", start_s);
	printf("  %-44s %10.1f MiB (target < 2 GiB)\n", "resident memory after start", (double)rss0 / 1024);
	printf("  %-44s %10.3f s of CPU in 5 s (target none)\n", "idle CPU, all cells idle and cold", c1 - c0);
	/* touch 20k cells (loads them into memory) and measure again */
	char addr[64];
	colony_client_addr(&col, 1, addr, sizeof addr);
	const char *seeds[1] = { addr };
	struct node_client *cl;
	node_client_new(seeds, 1, 0, &cl);
	node_client_set_retry(cl, 2000, 1, 10);
	const char *te = getenv("PH_BENCH_TOUCH");
	long env_touch = te ? strtol(te, NULL, 10) : 20000;
	int64_t t1 = mono_ns();
	long touched = 0;
	for (long i = 0; i < (long)env_touch && i < ncells; i++) {
		char name[32], *text;
		cell_name((size_t)i, name, sizeof name);
		if (node_client_cell_status(cl, name, strlen(name), 1, &text) == 0) {
			free(text);
			touched++;
		}
	}
	double touch_s = (double)(mono_ns() - t1) / 1e9;
	node_client_free(cl);
	long rss2 = rss_kib(col.pid[1]);
	double c2 = cpu_s(col.pid[1]);
	nap_ms(5000);
	double c3 = cpu_s(col.pid[1]);
	printf("  %-44s %10.1f MiB (%ld cells loaded in %.1f s)\n", "resident memory after loading cells",
	       (double)rss2 / 1024, touched, touch_s);
	printf("  %-44s %10.3f s of CPU in 5 s\n", "CPU, loaded cells (peers down)", c3 - c2);
	(void)rss1;
	colony_destroy(&col);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1)
		seconds_per_point = strtod(argv[1], NULL);
	const char *mc = getenv("PH_BENCH_MILLION");
	long ncells_million = mc ? strtol(mc, NULL, 10) : 1000000;
	const char *cc = getenv("PH_BENCH_CELLS");
	size_t ncells = cc ? (size_t)strtoul(cc, NULL, 10) : 256;
	static const int clients[] = { 1, 16, 64 };
	struct point ph3[3], ph7[3], et[3];
	memset(ph3, 0, sizeof ph3);
	memset(ph7, 0, sizeof ph7);
	memset(et, 0, sizeof et);
	const char *only = getenv("PH_BENCH_ONLY");
	if (only && strcmp(only, "million") == 0) {
		printf("one node hosting %ld cells:\n", ncells_million);
		fflush(stdout);
		million(ncells_million);
		return 0;
	}
	printf("bench_node: %.0f s per point, physalia over %zu cells, machine: %ld CPUs\n",
	       seconds_per_point, ncells, sysconf(_SC_NPROCESSORS_ONLN));
	fflush(stdout);
	int ok3 = physalia_series(3, 3, ncells, ph3, clients, 3) == 0;
	int ok7 = physalia_series(7, 7, ncells, ph7, clients, 3) == 0;
	struct etcd e;
	int oke = etcd_start(&e) == 0;
	if (oke) {
		struct etcd_ctx x = { .e = &e };
		for (int t = 0; t < 64; t++)
			x.fd[t] = -1;
		struct loadgen g;
		memset(&g, 0, sizeof g);
		g.op = etcd_op;
		g.ctx = &x;
		for (int k = 0; k < 3; k++) {
			g.nthreads = clients[k];
			et[k] = run_load(&g);
		}
		for (int t = 0; t < 64; t++) {
			if (x.fd[t] >= 0)
				close(x.fd[t]);
			free(g.lat[t]);
		}
	}
	etcd_stop(&e);
	printf("\nwrites, fsync on every commit            %14s %14s %14s %14s\n", "physalia 3", "etcd 3.4 (3)",
	       "anchor etcd", "physalia 7");
	printf("single client p50 latency (ms)           %14.3f %14.3f %14s %14.3f\n", ph3[0].p50_ms,
	       et[0].p50_ms, "0.65", ph7[0].p50_ms);
	printf("single client p99 latency (ms)           %14.3f %14.3f %14s %14.3f\n", ph3[0].p99_ms,
	       et[0].p99_ms, "-", ph7[0].p99_ms);
	static const char *anchors[] = { "1400", "-", "9000" };
	for (int k = 0; k < 3; k++)
		printf("throughput, %2d clients (writes/s)        %14.0f %14.0f %14s %14.0f\n", clients[k],
		       ph3[k].ops_per_s, et[k].ops_per_s, anchors[k], ph7[k].ops_per_s);
	printf("errors (ph3 / etcd / ph7)                %14ld %14ld %14s %14ld\n",
	       ph3[0].errors + ph3[1].errors + ph3[2].errors, et[0].errors + et[1].errors + et[2].errors,
	       "", ph7[0].errors + ph7[1].errors + ph7[2].errors);
	if (!ok3 || !ok7 || !oke)
		printf("(a series failed to start: physalia3 %d physalia7 %d etcd %d)\n", ok3, ok7, oke);
	printf("targets: physalia single-client p50 <= 0.35 ms; physalia at 64 clients >= 3x etcd: %s\n",
	       et[2].ops_per_s > 0 && ph3[2].ops_per_s >= 3 * et[2].ops_per_s ? "met" : "NOT met");
	if (ncells_million > 0) {
		printf("\none node hosting %ld cells:\n", ncells_million);
		fflush(stdout);
		million(ncells_million);
	}
	return 0;
}
