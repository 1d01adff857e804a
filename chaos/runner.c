/* The run: fabric up, nodes, cells, workload, the fault schedule, evidence,
 * the checker, the report, and cleanup on every path.
 *
 *   1. rack model -> fabric (topology) under a run prefix; a watchdog
 *      process that takes the fabric down if this controller dies;
 *   2. one impairment engine per ToR, a bounded pcap per host;
 *   3. physalia-node on every node host, cells created per placement;
 *   4. workload clients on client hosts, faults on schedule, live progress;
 *   5. heal, stop, collect: histories, packet decisions, partition counters,
 *      node events and metrics, pcaps and logs -> run.db; check; report.
 *
 * Exit code: 0 linearizable and valid, 1 violation, 2 invalid run or error. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "nemesis.h"
#include "engine/engine.h"
#include "node/node.h"
#include "reports/reports.h"
#include "runner.h"
#include "topology/topology.h"

#define PEER_PORT 7000
#define CLIENT_PORT 7100
#define METRICS_PORT 7200
#define FAKETIME_LIB "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t unix_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ------------------------------------------------------------- the world */

void chaos_world_free(struct chaos_world *w)
{
	free(w->hosts);
	free(w->racks);
	free(w->rows);
	free(w->powers);
	free(w->routers);
	memset(w, 0, sizeof *w);
}

int chaos_world_find(const struct chaos_world *w, const char *host)
{
	for (size_t i = 0; i < w->nhosts; i++)
		if (strcmp(w->hosts[i].name, host) == 0)
			return (int)i;
	return -1;
}

static int world_from_model(const struct topo_model *m, const char *run, struct chaos_world *w)
{
	memset(w, 0, sizeof *w);
	if (m->n_hosts > CHAOS_HOSTS_MAX)
		return CHAOS_ELIMIT;
	w->hosts = calloc(m->n_hosts, sizeof *w->hosts);
	w->racks = calloc(m->n_racks, sizeof *w->racks);
	w->routers = calloc(m->n_racks, sizeof *w->routers);
	w->rows = calloc(m->n_rows, sizeof *w->rows);
	w->powers = calloc(m->n_powers ? m->n_powers : 1, sizeof *w->powers);
	if (!w->hosts || !w->racks || !w->routers || !w->rows || !w->powers) {
		chaos_world_free(w);
		return CHAOS_ENOMEM;
	}
	w->nhosts = m->n_hosts;
	w->nracks = m->n_racks;
	w->nrows = m->n_rows;
	w->npowers = m->n_powers;
	for (size_t i = 0; i < m->n_racks; i++) {
		snprintf(w->racks[i], sizeof w->racks[i], "%s", m->racks[i].name);
		topo_ns_name(w->routers[i], sizeof w->routers[i], run, m->racks[i].name);
	}
	for (size_t i = 0; i < m->n_rows; i++)
		snprintf(w->rows[i], sizeof w->rows[i], "%s", m->rows[i].name);
	for (size_t i = 0; i < m->n_powers; i++)
		snprintf(w->powers[i], sizeof w->powers[i], "%s", m->powers[i].name);
	uint32_t next_id = 1;
	for (size_t i = 0; i < m->n_hosts; i++) {
		const struct topo_host *t = &m->hosts[i];
		struct chaos_host *h = &w->hosts[i];
		snprintf(h->name, sizeof h->name, "%s", t->name);
		h->node = (t->role & TOPO_ROLE_NODE) != 0;
		h->client = (t->role & TOPO_ROLE_CLIENT) != 0;
		h->node_id = h->node ? next_id++ : 0;
		h->addr = t->addr;
		struct in_addr a = { htonl(t->addr) };
		inet_ntop(AF_INET, &a, h->addr_text, sizeof h->addr_text);
		h->rack = t->rack;
		h->row = t->row;
		h->power = t->power;
		topo_ns_name(h->ns, sizeof h->ns, run, t->name);
		snprintf(h->router, sizeof h->router, "%s", w->routers[t->rack]);
		snprintf(h->iface, sizeof h->iface, "h%u", t->slot);
	}
	return 0;
}

/* ------------------------------------------------------------ the run */

struct history_file {
	char path[600];
	char host[64];
	long offset;
	pid_t pid;
	size_t host_index;
};

struct run {
	const struct chaos_campaign *c;
	const struct chaos_run_options *o;
	char dir[400];
	char run_id[TOPO_RUN_MAX];
	char self[PATH_MAX];
	char node_bin[PATH_MAX];
	char key_hex[65];
	struct topo_model *model;
	struct topo_colony colony;
	int colony_ok;
	struct chaos_world w;
	struct chaos_backend be;
	int backend_ok;
	struct rep_db *db;
	int64_t t0;            /* workload start (monotonic) */
	int64_t engines_t0;    /* impairment engines' time origin (approx.) */
	struct chaos_nemesis_ctx nx;
	struct chaos_active *act; /* one per fault */
	struct chaos_active **actp;
	struct history_file *hist;
	size_t nhist;
	pid_t *captures;       /* per host */
	char (*cell_names)[32];
	uint64_t ok, fail, info;
	int invalid;           /* why the run cannot be trusted, text in invalid_why */
	char invalid_why[1024];
	int watchdog_fd;
	pid_t watchdog;
	int fabric_up;
	int progress;
};

static void mark_invalid(struct run *r, const char *fmt, const char *what)
{
	if (!r->invalid)
		snprintf(r->invalid_why, sizeof r->invalid_why, fmt, what);
	r->invalid = 1;
}

/* The watchdog: a process of its own session that waits for this controller
 * to end. If it ends without saying "done" (crash, SIGKILL), the watchdog
 * takes the fabric down (every process in it dies with its namespace). */
static int start_watchdog(struct run *r)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return CHAOS_ESYS;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return CHAOS_ESYS;
	}
	if (pid == 0) {
		setsid();
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		close(p[1]);
		for (int fd = 3; fd < 1024; fd++)
			if (fd != p[0])
				close(fd);
		char c = 0;
		ssize_t n;
		do
			n = read(p[0], &c, 1);
		while (n < 0 && errno == EINTR);
		if (n == 1 && c == 'd')
			_exit(0);
		uint32_t removed = 0;
		topo_fabric_down(r->run_id, &removed);
		_exit(0);
	}
	close(p[0]);
	r->watchdog_fd = p[1];
	r->watchdog = pid;
	return 0;
}

static void release_watchdog(struct run *r)
{
	if (r->watchdog <= 0)
		return;
	if (write(r->watchdog_fd, "d", 1) != 1)
		perror("physalia-chaos: watchdog");
	close(r->watchdog_fd);
	waitpid(r->watchdog, NULL, 0);
	r->watchdog = 0;
}

static int mkdirs(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	if (len >= sizeof buf)
		return CHAOS_EINVAL;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return CHAOS_ESYS;
		*p = '/';
	}
	if (mkdir(buf, 0755) != 0 && errno != EEXIST)
		return CHAOS_ESYS;
	return 0;
}

static void node_event(void *ud, size_t h, enum chaos_event_kind kind, const char *detail)
{
	struct run *r = ud;
	static const enum rep_node_event_kind map[] = {
		[CHAOS_EV_START] = REP_NODE_START,     [CHAOS_EV_STOP] = REP_NODE_STOP,
		[CHAOS_EV_CRASH] = REP_NODE_CRASH,     [CHAOS_EV_RESTART] = REP_NODE_RESTART,
		[CHAOS_EV_PAUSE] = REP_NODE_PAUSE,     [CHAOS_EV_RESUME] = REP_NODE_RESUME,
		[CHAOS_EV_FSYNC] = REP_NODE_FSYNC_FAILURE, [CHAOS_EV_OTHER] = REP_NODE_OTHER,
	};
	struct rep_node_event e = { mono_ns(), r->w.hosts[h].name, map[kind], detail };
	if (r->db != NULL)
		rep_db_add_node_event(r->db, &e);
}

static int write_node_config(struct run *r, struct chaos_host *h)
{
	snprintf(h->node_config, sizeof h->node_config, "%s/nodes/%s.yaml", r->dir, h->name);
	FILE *f = fopen(h->node_config, "w");
	if (f == NULL)
		return CHAOS_ESYS;
	fprintf(f, "node_id: %u\n", h->node_id);
	fprintf(f, "listen: {peers: %s:%d, clients: %s:%d, metrics: %s:%d}\n", h->addr_text,
		PEER_PORT, h->addr_text, CLIENT_PORT, h->addr_text, METRICS_PORT);
	fprintf(f, "data_dir: %s/nodes/%s.data\n", r->dir, h->name);
	fprintf(f, "keys: {current: %s}\n", r->key_hex);
	fprintf(f, "peers:\n");
	for (size_t i = 0; i < r->w.nhosts; i++) {
		const struct chaos_host *p = &r->w.hosts[i];
		if (p->node)
			fprintf(f, "  - {id: %u, peer: %s:%d, client: %s:%d}\n", p->node_id,
				p->addr_text, PEER_PORT, p->addr_text, CLIENT_PORT);
	}
	return fclose(f) == 0 ? 0 : CHAOS_ESYS;
}

/* Counts "event=start" lines in a node's log (one per start). */
static int log_starts(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	char line[1024];
	int n = 0;
	while (fgets(line, sizeof line, f) != NULL)
		if (strstr(line, "event=start") != NULL)
			n++;
	fclose(f);
	return n;
}

/* Starts physalia-node on host h and waits (bounded) for its start line. */
static int node_start(void *ud, size_t hi)
{
	struct run *r = ud;
	struct chaos_host *h = &r->w.hosts[hi];
	const char *argv[8];
	size_t n = 0;
	if (r->nx.fiu) {
		argv[n++] = "fiu-run";
		argv[n++] = "-x";
	}
	argv[n++] = h->node_bin != NULL ? h->node_bin : r->node_bin;
	argv[n++] = "--config";
	argv[n++] = h->node_config;
	argv[n] = NULL;
	char ft_file[700], ft_env[760], bug_env[64];
	const char *env[6] = { NULL };
	size_t ne = 0;
	if (r->nx.faketime) {
		snprintf(ft_file, sizeof ft_file, "%s/faketime-%s", r->dir, h->name);
		if (access(ft_file, F_OK) != 0) {
			FILE *f = fopen(ft_file, "w");
			if (f != NULL) {
				fputs("+0s\n", f);
				fclose(f);
			}
		}
		snprintf(ft_env, sizeof ft_env, "FAKETIME_TIMESTAMP_FILE=%s", ft_file);
		env[ne++] = "LD_PRELOAD=" FAKETIME_LIB;
		env[ne++] = ft_env;
		env[ne++] = "FAKETIME_NO_CACHE=1";
	}
	if (r->o->planted) {
		snprintf(bug_env, sizeof bug_env, "PHYSALIA_PLANTED_BUG=%d", r->o->planted);
		env[ne++] = bug_env;
	}
	env[ne] = NULL;
	int before = log_starts(h->node_log);
	int rc = r->be.ops->start(&r->be, h, argv, env, h->node_log, &h->node_pid);
	if (rc != 0)
		return rc;
	for (int i = 0; i < 2000; i++) {
		if (log_starts(h->node_log) > before)
			return 0;
		int st;
		if (r->be.ops->wait(&r->be, h->node_pid, 0, &st) == 1) {
			h->node_pid = 0;
			return CHAOS_ETOOL;
		}
		poll(NULL, 0, 10);
	}
	return CHAOS_ETOOL;
}

/* Enters host h's namespace for the calling thread (client library calls). */
static int enter_host(struct run *r, const struct chaos_host *h, int *saved)
{
	return topo_ns_enter(r->run_id, h->name, saved) == 0 ? 0 : CHAOS_ESYS;
}

static int node_seeds(struct run *r, char (*buf)[32], const char **seeds)
{
	int n = 0;
	for (size_t i = 0; i < r->w.nhosts; i++) {
		if (!r->w.hosts[i].node)
			continue;
		snprintf(buf[n], 32, "%s:%d", r->w.hosts[i].addr_text, CLIENT_PORT);
		seeds[n] = buf[n];
		n++;
	}
	return n;
}

static size_t first_client_host(struct run *r)
{
	for (size_t i = 0; i < r->w.nhosts; i++)
		if (r->w.hosts[i].client)
			return i;
	return 0;
}

/* The node id that served a consistent read of `name`, or 0. */
static uint32_t proposer_by_read(struct node_client *nc, const char *name)
{
	struct ph_txn *t = NULL;
	uint8_t buf[64];
	size_t len = 0;
	uint32_t leader = 0;
	if (ph_txn_new(NULL, &t) != 0)
		return 0;
	if (ph_txn_read(t, "proposer-probe", 14) == 0 &&
	    ph_txn_encode(t, buf, sizeof buf, &len) == 0) {
		struct node_result res;
		if (node_client_txn(nc, name, strlen(name), buf, len, NODE_CONSISTENT, &res) == 0) {
			leader = res.served_by;
			node_result_free(&res);
		}
	}
	ph_txn_free(t);
	return leader;
}

static int proposer_of(void *ud, uint32_t cell, size_t *host)
{
	struct run *r = ud;
	if (!r->colony_ok || cell >= r->colony.n_cells)
		return CHAOS_ENOTFOUND;
	int saved;
	if (enter_host(r, &r->w.hosts[first_client_host(r)], &saved) != 0)
		return CHAOS_ESYS;
	char seedbuf[CHAOS_HOSTS_MAX][32];
	const char *seeds[CHAOS_HOSTS_MAX];
	int n = node_seeds(r, seedbuf, seeds);
	struct node_client *nc = NULL;
	int rc = CHAOS_ENOTFOUND;
	uint32_t leader = 0;
	if (node_client_new(seeds, (size_t)n, 0, &nc) == 0) {
		node_client_set_retry(nc, 1000, 2, 100);
		const struct topo_cell *tc = &r->colony.cells[cell];
		/* Ask the jury members; the first that names a leader wins. */
		for (uint32_t j = 0; j < tc->n_jury && leader == 0; j++) {
			char *text = NULL;
			uint32_t id = r->w.hosts[tc->jury[j]].node_id;
			if (node_client_cell_status(nc, r->cell_names[cell], strlen(r->cell_names[cell]),
						    id, &text) == 0 && text != NULL) {
				const char *l = strstr(text, "\nleader ");
				if (l != NULL)
					leader = (uint32_t)strtoul(l + 8, NULL, 10);
			}
			free(text);
		}
		/* A quiet cell may have no proposer yet (idle cells cost no
		 * timers): a consistent read goes through the log, so the node
		 * that answers it is the distinguished proposer. */
		if (leader == 0)
			leader = proposer_by_read(nc, r->cell_names[cell]);
		node_client_free(nc);
	}
	topo_ns_leave(saved);
	for (size_t i = 0; i < r->w.nhosts && leader != 0; i++)
		if (r->w.hosts[i].node_id == leader) {
			*host = i;
			rc = 0;
		}
	return rc;
}

static void partition_dropped(void *ud, struct chaos_active *a, size_t src, size_t dst,
			      uint64_t packets)
{
	struct run *r = ud;
	/* count 0 means "one packet" to the run database: skip idle rules. */
	if (r->db == NULL || packets == 0)
		return;
	int64_t now = mono_ns();
	struct rep_packet p = { now, now - a->start_ns, r->w.hosts[src].name, r->w.hosts[dst].name,
				NULL, REP_PKT_DROP, 0, packets, 0 };
	rep_db_add_packet(r->db, &p);
}

static void fault_metric(void *ud, size_t h, const char *name, double value)
{
	struct run *r = ud;
	if (r->db != NULL)
		rep_db_add_metric(r->db, mono_ns(), r->w.hosts[h].name, name, value);
}

static int clients_signal(void *ud, size_t h, int sig)
{
	struct run *r = ud;
	int n = 0;
	for (size_t i = 0; i < r->nhist; i++)
		if (r->hist[i].host_index == h && r->hist[i].pid > 0 &&
		    r->be.ops->signal(&r->be, &r->w.hosts[h], r->hist[i].pid, sig) == 0)
			n++;
	return n;
}

/* Sends sig to a process the backend started on host h, and with
 * wait_ms >= 0 waits for it up to wait_ms, then SIGKILLs and reaps it. */
static void stop_proc(struct run *r, size_t h, pid_t *pid, int sig, int wait_ms)
{
	if (*pid <= 0)
		return;
	const struct chaos_host *host = &r->w.hosts[h];
	r->be.ops->signal(&r->be, host, *pid, sig);
	if (wait_ms < 0)
		return;
	int st;
	if (r->be.ops->wait(&r->be, *pid, wait_ms, &st) != 1) {
		r->be.ops->signal(&r->be, host, *pid, SIGKILL);
		r->be.ops->wait(&r->be, *pid, 5000, &st);
	}
	*pid = 0;
}

/* Places the cells and creates them on their juries. */
static int create_cells(struct run *r)
{
	struct topo_place_params pp = { r->c->jury_size, 0, 0, r->c->seed };
	if (topo_colony_init(&r->colony, r->model, &pp) != 0)
		return CHAOS_EINVAL;
	r->colony_ok = 1;
	r->cell_names = calloc(r->c->cells, sizeof *r->cell_names);
	if (r->cell_names == NULL)
		return CHAOS_ENOMEM;
	uint32_t clients[CHAOS_HOSTS_MAX];
	uint32_t nclients = 0;
	for (size_t i = 0; i < r->w.nhosts; i++)
		if (r->w.hosts[i].client)
			clients[nclients++] = (uint32_t)i;
	if (nclients == 0)
		return CHAOS_ENOTFOUND;
	for (uint32_t k = 0; k < r->c->cells; k++) {
		uint32_t cl = clients[k % nclients];
		int rc = topo_colony_add_cell(&r->colony, &cl, 1, NULL, NULL);
		if (rc != 0) {
			fprintf(stderr, "physalia-chaos: placement of cell %u failed: %s\n", k,
				topo_strerror(rc));
			return CHAOS_EINVAL;
		}
		snprintf(r->cell_names[k], sizeof r->cell_names[k], "cell-%04u", k);
	}
	int saved;
	if (enter_host(r, &r->w.hosts[clients[0]], &saved) != 0)
		return CHAOS_ESYS;
	char seedbuf[CHAOS_HOSTS_MAX][32];
	const char *seeds[CHAOS_HOSTS_MAX];
	int n = node_seeds(r, seedbuf, seeds);
	struct node_client *nc = NULL;
	int rc = node_client_new(seeds, (size_t)n, 0, &nc);
	for (uint32_t k = 0; rc == 0 && k < r->c->cells; k++) {
		const struct topo_cell *tc = &r->colony.cells[k];
		uint32_t jury[NODE_JURY_MAX];
		for (uint32_t j = 0; j < tc->n_jury; j++)
			jury[j] = r->w.hosts[tc->jury[j]].node_id;
		rc = node_client_cell_create(nc, r->cell_names[k], strlen(r->cell_names[k]), jury,
					     tc->n_jury);
		if (rc != 0)
			fprintf(stderr, "physalia-chaos: creating %s failed: %s\n", r->cell_names[k],
				node_strerror(rc));
		if (r->db != NULL) {
			struct rep_value cv = rep_value_bytes(NULL, r->cell_names[k],
							      strlen(r->cell_names[k]));
			rep_db_add_jury(r->db, &cv, mono_ns(), jury, tc->n_jury);
		}
	}
	node_client_free(nc);
	topo_ns_leave(saved);
	return rc == 0 ? 0 : CHAOS_ETOOL;
}

static int start_clients(struct run *r)
{
	const struct chaos_workload *wl = &r->c->workload;
	size_t max = r->w.nhosts * wl->clients_per_host;
	r->hist = calloc(max ? max : 1, sizeof *r->hist);
	if (r->hist == NULL)
		return CHAOS_ENOMEM;
	char nodes[CHAOS_HOSTS_MAX * 24] = "";
	size_t used = 0;
	for (size_t i = 0; i < r->w.nhosts; i++)
		if (r->w.hosts[i].node)
			used += (size_t)snprintf(nodes + used, sizeof nodes - used, "%s%s:%d",
						 used ? "," : "", r->w.hosts[i].addr_text, CLIENT_PORT);
	char mix[128];
	snprintf(mix, sizeof mix, "%u,%u,%u,%u,%u", wl->mix.read, wl->mix.put, wl->mix.cas,
		 wl->mix.increment, wl->mix.compound);
	char rate[32], dur[32], keys[16], tmo[16], zs[32];
	snprintf(rate, sizeof rate, "%g", wl->rate);
	snprintf(dur, sizeof dur, "%g", r->c->duration_s);
	snprintf(keys, sizeof keys, "%u", wl->keys);
	snprintf(tmo, sizeof tmo, "%u", wl->timeout_ms);
	snprintf(zs, sizeof zs, "%g", wl->zipf_s);
	for (size_t i = 0; i < r->w.nhosts; i++) {
		const struct chaos_host *h = &r->w.hosts[i];
		if (!h->client)
			continue;
		/* The cells placed for this client host; every cell when none. */
		size_t cap = (size_t)r->c->cells * 11 + 1;
		char *cells = malloc(cap);
		if (cells == NULL)
			return CHAOS_ENOMEM;
		size_t cu = 0;
		for (size_t k = 0; k < r->colony.n_cells; k++)
			for (uint32_t j = 0; j < r->colony.cells[k].n_clients; j++)
				if (r->colony.cells[k].clients[j] == i)
					cu += (size_t)snprintf(cells + cu, cap - cu, "%s%s", cu ? "," : "",
							       r->cell_names[k]);
		if (cu == 0)
			for (size_t k = 0; k < r->colony.n_cells; k++)
				cu += (size_t)snprintf(cells + cu, cap - cu, "%s%s", cu ? "," : "",
						       r->cell_names[k]);
		for (uint32_t j = 0; j < wl->clients_per_host; j++) {
			struct history_file *hf = &r->hist[r->nhist];
			snprintf(hf->path, sizeof hf->path, "%s/history/%s-%u.txt", r->dir, h->name, j);
			snprintf(hf->host, sizeof hf->host, "%s", h->name);
			hf->host_index = i;
			char proc[32], seed[32], log[700];
			snprintf(proc, sizeof proc, "%zu", r->nhist + 1);
			snprintf(seed, sizeof seed, "%" PRIu64, r->c->seed * 1000003 + r->nhist);
			snprintf(log, sizeof log, "%s/logs/client-%s-%u.log", r->dir, h->name, j);
			const char *argv[] = { r->self, "client", "--nodes", nodes, "--cells", cells,
					       "--process", proc, "--keys", keys, "--mix", mix,
					       "--rate", rate, "--duration", dur, "--timeout-ms", tmo,
					       "--seed", seed, "--dist",
					       wl->dist == CHAOS_KEYS_ZIPF ? "zipf" : "uniform",
					       "--zipf-s", zs, "--out", hf->path, NULL };
			int rc = r->be.ops->start(&r->be, h, argv, NULL, log, &hf->pid);
			if (rc != 0) {
				free(cells);
				return rc;
			}
			r->nhist++;
		}
		free(cells);
	}
	return 0;
}

/* Counts new history lines per outcome for the progress line. */
static void tally(struct run *r)
{
	for (size_t i = 0; i < r->nhist; i++) {
		struct history_file *hf = &r->hist[i];
		FILE *f = fopen(hf->path, "r");
		if (f == NULL)
			continue;
		fseek(f, hf->offset, SEEK_SET);
		char line[512];
		long good = hf->offset;
		while (fgets(line, sizeof line, f) != NULL) {
			size_t n = strlen(line);
			if (n == 0 || line[n - 1] != '\n')
				break;
			good = ftell(f);
			if (strstr(line, " ok ") != NULL)
				r->ok++;
			else if (strstr(line, " fail ") != NULL)
				r->fail++;
			else if (strstr(line, " info ") != NULL)
				r->info++;
		}
		hf->offset = good;
		fclose(f);
	}
}

static void progress(struct run *r, double t, int final)
{
	if (!r->progress)
		return;
	char faults[256] = "";
	size_t used = 0;
	for (size_t i = 0; i < r->c->nfaults; i++) {
		struct chaos_active *a = &r->act[i];
		if (!a->started || a->healed)
			continue;
		int k = snprintf(faults + used, sizeof faults - used, "%s%s", used ? " " : "",
				 chaos_nemesis_name(a->f->nemesis));
		if (k > 0 && (size_t)k < sizeof faults - used)
			used += (size_t)k;
	}
	fprintf(stderr, "\r\033[K[%6.1fs/%.0fs] ok %" PRIu64 " fail %" PRIu64 " info %" PRIu64
			" | faults: %s%s",
		t, r->c->duration_s, r->ok, r->fail, r->info, used ? faults : "none",
		final ? "\n" : "");
}

/* --------------------------------------------------------------- evidence */

static int load_histories(struct run *r, struct rep_history *h)
{
	int bad = 0;
	for (size_t i = 0; i < r->nhist; i++) {
		FILE *f = fopen(r->hist[i].path, "r");
		if (f == NULL)
			continue;
		char line[512];
		while (fgets(line, sizeof line, f) != NULL) {
			size_t n = strlen(line);
			if (n == 0 || line[n - 1] != '\n')
				break; /* a torn last line of a killed client */
			if (chaos_history_line_parse(h, r->hist[i].host, line) != 0)
				bad++;
		}
		fclose(f);
	}
	return bad;
}

static const char *host_of_addr(struct run *r, const char *addr)
{
	for (size_t i = 0; i < r->w.nhosts; i++)
		if (strcmp(r->w.hosts[i].addr_text, addr) == 0)
			return r->w.hosts[i].name;
	return addr;
}

/* Engine records -> packet rows (per link and second, exact counts), and
 * totals per verdict for the summary. */
static void load_packet_records(struct run *r, uint64_t totals[CHAOS_V__COUNT])
{
	for (size_t k = 0; k < r->w.nracks; k++) {
		char path[700];
		snprintf(path, sizeof path, "%s/impair-%s.txt", r->dir, r->w.racks[k]);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		unsigned long long sec, c[6], dsum;
		char s[32], d[32];
		while (fscanf(f, "%llu %31s %31s %llu %llu %llu %llu %llu %llu %llu", &sec, s, d,
			      &c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &dsum) == 10) {
			uint64_t kept = c[0] + c[2] + c[3] + c[4] + c[5];
			int64_t avg = kept ? (int64_t)(dsum * 1000 / kept) : 0;
			static const enum rep_packet_decision map[6] = {
				REP_PKT_DELIVER, REP_PKT_DROP,	    REP_PKT_DELAY,
				REP_PKT_DELAY,	 REP_PKT_DUPLICATE, REP_PKT_CORRUPT,
			};
			for (int v = 0; v < 6; v++) {
				totals[v] += c[v];
				if (c[v] == 0)
					continue;
				struct rep_packet p = { r->engines_t0 + (int64_t)sec * 1000000000LL,
							1000000000LL,
							host_of_addr(r, s),
							host_of_addr(r, d),
							v == CHAOS_V_REORDER ? "reorder" : NULL,
							map[v],
							v == CHAOS_V_DROP ? 0 : avg,
							c[v],
							0 };
				rep_db_add_packet(r->db, &p);
			}
		}
		fclose(f);
		char name[64];
		snprintf(name, sizeof name, "impair-%s", r->w.racks[k]);
		struct stat st;
		if (stat(path, &st) == 0)
			rep_db_add_artifact(r->db, "impair-records", path, st.st_size);
	}
}

/* Scrapes one node's Prometheus metrics (physalia_dropped_packets_total and
 * friends) into the run database. */
static void scrape_metrics(struct run *r, size_t hi)
{
	struct chaos_host *h = &r->w.hosts[hi];
	if (h->node_pid <= 0 || h->paused)
		return;
	int saved;
	if (enter_host(r, h, &saved) != 0)
		return;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	topo_ns_leave(saved);
	if (s < 0)
		return;
	struct timeval tv = { 0, 300000 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(METRICS_PORT) };
	a.sin_addr.s_addr = htonl(h->addr);
	static char buf[1 << 16];
	size_t used = 0;
	if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
		const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
		if (write(s, req, sizeof req - 1) == (ssize_t)(sizeof req - 1)) {
			ssize_t n;
			while (used + 1 < sizeof buf &&
			       (n = read(s, buf + used, sizeof buf - 1 - used)) > 0)
				used += (size_t)n;
		}
	}
	close(s);
	buf[used] = '\0';
	char *body = strstr(buf, "\r\n\r\n");
	if (body == NULL)
		return;
	int64_t now = mono_ns();
	char *save = NULL;
	for (char *line = strtok_r(body + 4, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || strncmp(line, "physalia_", 9) != 0)
			continue;
		if (strstr(line, "_bucket") != NULL)
			continue;
		char *sp = strrchr(line, ' ');
		if (sp == NULL)
			continue;
		*sp = '\0';
		double v;
		if (chaos_parse_double(sp + 1, &v) != 0)
			continue;
		rep_db_add_metric(r->db, now, h->name, line, v);
	}
}

static void add_artifacts(struct run *r)
{
	for (size_t i = 0; i < r->w.nhosts; i++) {
		struct chaos_host *h = &r->w.hosts[i];
		char path[700];
		struct stat st;
		snprintf(path, sizeof path, "%s/pcap/%s.pcap", r->dir, h->name);
		if (stat(path, &st) == 0)
			rep_db_add_artifact(r->db, "pcap", path, st.st_size);
		if (h->node && stat(h->node_log, &st) == 0)
			rep_db_add_artifact(r->db, "node-log", h->node_log, st.st_size);
	}
	for (size_t i = 0; i < r->nhist; i++) {
		struct stat st;
		if (stat(r->hist[i].path, &st) == 0)
			rep_db_add_artifact(r->db, "history", r->hist[i].path, st.st_size);
	}
}

static void fault_params(const struct chaos_fault *f, char *buf, size_t cap)
{
	const struct chaos_link_policy *l = &f->link;
	snprintf(buf, cap,
		 "{\"at\":%g,\"for\":%g,\"loss\":%g,\"burst\":%u,\"delay_us\":%u,\"jitter_us\":%u,"
		 "\"reorder\":%g,\"gap_us\":%u,\"duplicate\":%g,\"corrupt\":%g,\"rate_kbit\":%u,"
		 "\"disk\":\"%s\",\"clock_offset_s\":%g,\"clock_rate\":%g,\"line\":%d}",
		 f->at_s, f->for_s, l->loss, l->loss_burst, l->delay_us, l->jitter_us, l->reorder,
		 l->reorder_gap_us, l->duplicate, l->corrupt, f->rate_kbit, f->disk, f->clock_offset_s,
		 f->clock_rate, f->line);
}

/* Renders report.html in a child process: the verdict is already in the run
 * database, and a crash while rendering must not turn into this run's exit
 * code. Returns 1 when the report was written. */
static int render_report(struct rep_db *db, const char *dbpath, const char *path)
{
	rep_db_flush(db);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		/* A connection of its own: SQLite handles do not cross fork(). */
		struct rep_db *own = NULL;
		FILE *f = fopen(path, "w");
		if (f == NULL || rep_db_open(dbpath, true, &own) != 0)
			_exit(2);
		struct rep_error re;
		int rc = rep_report_html(own, f, &re);
		rep_db_close(own);
		if (rc != 0)
			fprintf(stderr, "physalia-chaos: report: %s: %s\n", rep_strerror(rc), re.msg);
		if (fclose(f) != 0)
			rc = -1;
		_exit(rc == 0 ? 0 : 2);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "physalia-chaos: rendering %s failed (%s %d)\n", path,
			WIFEXITED(st) ? "exit" : "signal",
			WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		return 0;
	}
	return 1;
}

/* ------------------------------------------------------------- the main */

static void self_path(char *buf, size_t cap)
{
	ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
	buf[n > 0 ? n : 0] = '\0';
}

static void find_node_bin(struct run *r)
{
	if (r->o->node_bin != NULL) {
		snprintf(r->node_bin, sizeof r->node_bin, "%s", r->o->node_bin);
		return;
	}
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s", r->self);
	char *d = dirname(tmp); /* build/X/chaos */
	if (r->o->planted) {
		snprintf(r->node_bin, sizeof r->node_bin, "%s/physalia-node-planted", d);
		return;
	}
	snprintf(r->node_bin, sizeof r->node_bin, "%s/../node/physalia-node", d);
	if (access(r->node_bin, X_OK) != 0)
		snprintf(r->node_bin, sizeof r->node_bin, "%s/physalia-node", d);
}

static int setup(struct run *r)
{
	const struct chaos_campaign *c = r->c;
	int rc;
	char err[512];
	self_path(r->self, sizeof r->self);
	find_node_bin(r);
	if (access(r->node_bin, X_OK) != 0) {
		fprintf(stderr, "physalia-chaos: no physalia-node at %s (use --node-bin)\n",
			r->node_bin);
		return CHAOS_ENOTFOUND;
	}
	if (r->o->out_dir != NULL && strlen(r->o->out_dir) >= sizeof r->dir) {
		fprintf(stderr, "physalia-chaos: --out is longer than %zu characters\n",
			sizeof r->dir - 1);
		return CHAOS_EINVAL;
	}
	if (r->o->out_dir != NULL)
		snprintf(r->dir, sizeof r->dir, "%s", r->o->out_dir);
	else
		snprintf(r->dir, sizeof r->dir, "runs/%s-%" PRIu64, c->name, c->seed);
	const char *subs[] = { "", "/logs", "/pcap", "/history", "/nodes" };
	for (size_t i = 0; i < 5; i++) {
		char p[PATH_MAX + 16];
		snprintf(p, sizeof p, "%s%s", r->dir, subs[i]);
		if (mkdirs(p) != 0) {
			fprintf(stderr, "physalia-chaos: cannot create %s: %s\n", p, strerror(errno));
			return CHAOS_ESYS;
		}
	}
	/* Absolute paths from here on: they go into the run database. */
	char real[PATH_MAX];
	if (realpath(r->dir, real) != NULL && strlen(real) < sizeof r->dir)
		memcpy(r->dir, real, strlen(real) + 1);
	char dbpath[PATH_MAX + 16];
	snprintf(dbpath, sizeof dbpath, "%s/run.db", r->dir);
	if (access(dbpath, F_OK) == 0) {
		fprintf(stderr, "physalia-chaos: %s exists; choose another --out\n", dbpath);
		return CHAOS_EINVAL;
	}
	/* Rack model. */
	const char *model_path = r->o->rack_model ? r->o->rack_model :
				 c->rack_model[0] ? c->rack_model :
						    NULL;
	if (model_path != NULL) {
		struct topo_diag d;
		rc = topo_model_load_file(model_path, &r->model, &d);
		if (rc != 0) {
			char msg[600];
			fprintf(stderr, "physalia-chaos: %s\n", topo_diag_format(&d, msg, sizeof msg));
			return CHAOS_EINVAL;
		}
	} else if (topo_model_default(&r->model) != 0) {
		return CHAOS_ENOMEM;
	}
	/* Run prefix: unique per controller. */
	snprintf(r->run_id, sizeof r->run_id, "c%x", (unsigned)((uint32_t)getpid() ^ (uint32_t)c->seed) & 0xfffffff);
	rc = world_from_model(r->model, r->run_id, &r->w);
	if (rc != 0)
		return rc;
	/* Names in the schedule must exist before anything starts. */
	r->nx.w = &r->w;
	r->nx.rng = c->seed ^ 0x6e656d65736973ULL;
	for (size_t i = 0; i < c->nfaults; i++) {
		const struct chaos_target *t = &c->faults[i].target;
		if (t->kind == CHAOS_TGT_PROPOSER || t->kind == CHAOS_TGT_RANDOM_MINORITY)
			continue;
		uint8_t set[CHAOS_HOSTS_MAX];
		uint64_t keep = r->nx.rng;
		if (chaos_target_resolve(&r->nx, t, set, err, sizeof err) != 0) {
			fprintf(stderr, "physalia-chaos: fault %zu (line %d): %s\n", i + 1,
				c->faults[i].line, err);
			return CHAOS_ENOTFOUND;
		}
		r->nx.rng = keep;
		if (c->faults[i].nemesis == CHAOS_NEM_DISK)
			r->nx.fiu = 1;
		if (c->faults[i].nemesis == CHAOS_NEM_CLOCK)
			r->nx.faketime = 1;
		if (c->faults[i].nemesis == CHAOS_NEM_ROLLBACK &&
		    access(c->faults[i].build, X_OK) != 0) {
			fprintf(stderr, "physalia-chaos: fault %zu (line %d): no executable build at %s\n",
				i + 1, c->faults[i].line, c->faults[i].build);
			return CHAOS_ENOTFOUND;
		}
	}
	/* The cluster key: from the seed (a test colony, never production). */
	uint64_t k = c->seed;
	for (int i = 0; i < 32; i++) {
		k = k * 6364136223846793005ULL + 1442695040888963407ULL;
		snprintf(r->key_hex + 2 * i, 3, "%02x", (unsigned)(k >> 56));
	}
	return 0;
}

static void teardown(struct run *r)
{
	/* Workload clients and captures first, then nodes (all through the
	 * backend, which is still open), then the backend, then the fabric. */
	if (r->be.ops != NULL) {
		for (size_t i = 0; i < r->nhist; i++)
			stop_proc(r, r->hist[i].host_index, &r->hist[i].pid, SIGKILL, 5000);
		for (size_t i = 0; i < r->w.nhosts; i++) {
			struct chaos_host *h = &r->w.hosts[i];
			if (r->captures != NULL)
				stop_proc(r, i, &r->captures[i], SIGKILL, 5000);
			if (h->node_pid > 0 && h->paused)
				r->be.ops->signal(&r->be, h, h->node_pid, SIGCONT);
			stop_proc(r, i, &h->node_pid, SIGKILL, 5000);
		}
	}
	if (r->backend_ok) {
		uint64_t drops;
		char stats[64];
		chaos_backend_ns_close(&r->be, &drops, stats, sizeof stats);
		r->backend_ok = 0;
	}
	if (r->fabric_up && !r->o->keep) {
		uint32_t removed = 0;
		int rc = topo_fabric_down(r->run_id, &removed);
		if (rc != 0)
			fprintf(stderr, "physalia-chaos: fabric down: %s (run `physalia-chaos down --all`)\n",
				topo_strerror(rc));
		r->fabric_up = 0;
	}
	if (r->o->keep && r->fabric_up)
		fprintf(stderr, "physalia-chaos: --keep: fabric %s left up; `physalia-chaos down --all` removes it\n",
			r->run_id);
	release_watchdog(r);
}

int chaos_runner(const struct chaos_campaign *c, const struct chaos_run_options *o)
{
	struct run r;
	memset(&r, 0, sizeof r);
	r.c = c;
	r.o = o;
	r.progress = !o->quiet && isatty(2);
	int rc = setup(&r);
	if (rc != 0)
		goto out_free;

	struct sigaction sa, old_int, old_term;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_interrupt;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	signal(SIGPIPE, SIG_IGN);

	if ((rc = start_watchdog(&r)) != 0)
		goto out_restore;
	printf("run: %s (fabric %s, %zu hosts, %zu racks), output in %s\n", c->name, r.run_id,
	       r.w.nhosts, r.w.nracks, r.dir);
	fflush(stdout);
	struct topo_fabric_stats fst;
	rc = topo_fabric_up(r.model, r.run_id, &fst);
	if (rc != 0) {
		fprintf(stderr, "physalia-chaos: fabric up failed: %s\n", topo_strerror(rc));
		rc = rc == TOPO_EPERM ? CHAOS_EPERM : CHAOS_ETOOL;
		goto out_teardown;
	}
	r.fabric_up = 1;

	/* Run database first: everything after this leaves its mark. */
	char dbpath[PATH_MAX + 16];
	snprintf(dbpath, sizeof dbpath, "%s/run.db", r.dir);
	if (rep_db_create(dbpath, &r.db) != 0) {
		fprintf(stderr, "physalia-chaos: cannot create %s\n", dbpath);
		rc = CHAOS_ESYS;
		goto out_teardown;
	}
	char notes[PATH_MAX + 256];
	snprintf(notes, sizeof notes,
		 "impairment: NFQUEUE engine per ToR (no netem); backend: namespaces; fabric %s; node %s%s",
		 r.run_id, r.node_bin, o->planted ? " (planted bug build)" : "");
	struct rep_run_info ri = { c->name, c->seed, CHAOS_VERSION, unix_ns(), mono_ns(), notes,
				   (int64_t)c->workload.timeout_ms * 1000000LL };
	rep_db_run_begin(r.db, &ri);
	for (size_t i = 0; i < r.w.nhosts; i++) {
		const struct chaos_host *h = &r.w.hosts[i];
		struct rep_host rh = { h->name, h->node ? REP_HOST_NODE : REP_HOST_CLIENT, h->node_id,
				       r.model->datacenter, r.w.rows[h->row], r.w.racks[h->rack],
				       r.w.npowers ? r.w.powers[h->power] : "", h->addr_text };
		rep_db_add_host(r.db, &rh);
	}
	for (size_t i = 0; i < r.w.nracks; i++) {
		struct rep_host rh = { r.w.routers[i], REP_HOST_ROUTER, 0, r.model->datacenter, "",
				       r.w.racks[i], "", "" };
		rep_db_add_host(r.db, &rh);
	}
	/* The campaign as run (resolved: seed, scaled schedule), so that the
	 * run database alone is enough to run it again. */
	char cpath[PATH_MAX + 32];
	snprintf(cpath, sizeof cpath, "%s/campaign.yaml", r.dir);
	FILE *cf = fopen(cpath, "w");
	if (cf != NULL) {
		int wrc = chaos_campaign_write(c, cf);
		if (fclose(cf) == 0 && wrc == 0) {
			struct stat cst;
			if (stat(cpath, &cst) == 0)
				rep_db_add_artifact(r.db, "campaign", cpath, cst.st_size);
		}
	}

	/* Impairment engines, captures. */
	r.engines_t0 = mono_ns();
	rc = chaos_backend_ns_open(&r.w, r.dir, c->seed, r.self, &r.be);
	r.backend_ok = r.be.impl != NULL;
	if (rc != 0) {
		fprintf(stderr, "physalia-chaos: impairment engines: %s\n", chaos_strerror(rc));
		goto out_teardown;
	}
	r.captures = calloc(r.w.nhosts, sizeof *r.captures);
	if (r.captures == NULL) {
		rc = CHAOS_ENOMEM;
		goto out_teardown;
	}
	char mb[32];
	snprintf(mb, sizeof mb, "%u", c->pcap_max_mb ? c->pcap_max_mb : 16);
	for (size_t i = 0; c->pcap_max_mb > 0 && i < r.w.nhosts; i++) {
		struct chaos_host *h = &r.w.hosts[i];
		char pcap[700], log[700];
		snprintf(pcap, sizeof pcap, "%s/pcap/%s.pcap", r.dir, h->name);
		snprintf(log, sizeof log, "%s/logs/capture-%s.log", r.dir, h->name);
		const char *argv[] = { r.self, "capture", "--out", pcap, "--max-mb", mb, NULL };
		if (r.be.ops->start(&r.be, h, argv, NULL, log, &r.captures[i]) != 0)
			mark_invalid(&r, "capture on %s did not start", h->name);
	}

	/* Nodes. */
	r.nx.be = &r.be;
	r.nx.dir = r.dir;
	r.nx.ud = &r;
	r.nx.node_start = node_start;
	r.nx.proposer_of = proposer_of;
	r.nx.event = node_event;
	r.nx.dropped = partition_dropped;
	r.nx.metric = fault_metric;
	r.nx.rate_stats = chaos_backend_ns_rate_stats;
	r.nx.clients_signal = clients_signal;
	for (size_t i = 0; i < r.w.nhosts; i++) {
		struct chaos_host *h = &r.w.hosts[i];
		if (!h->node)
			continue;
		snprintf(h->node_log, sizeof h->node_log, "%s/logs/node-%s.log", r.dir, h->name);
		if ((rc = write_node_config(&r, h)) != 0 || (rc = node_start(&r, i)) != 0) {
			fprintf(stderr, "physalia-chaos: physalia-node on %s did not start (see %s)\n",
				h->name, h->node_log);
			goto out_teardown;
		}
		node_event(&r, i, CHAOS_EV_START, "start");
	}
	if ((rc = create_cells(&r)) != 0) {
		fprintf(stderr, "physalia-chaos: creating the cells failed\n");
		goto out_teardown;
	}
	size_t nnodes = 0, nclients = 0;
	for (size_t i = 0; i < r.w.nhosts; i++) {
		nnodes += r.w.hosts[i].node != 0;
		nclients += r.w.hosts[i].client != 0;
	}
	printf("colony: %zu nodes, %u cells (jury %u), %zu client hosts x %u clients\n", nnodes,
	       c->cells, c->jury_size, nclients, c->workload.clients_per_host);
	fflush(stdout);

	/* Faults: every one gets its active slot up front. */
	r.act = calloc(c->nfaults ? c->nfaults : 1, sizeof *r.act);
	r.actp = calloc(c->nfaults ? c->nfaults : 1, sizeof *r.actp);
	if (r.act == NULL || r.actp == NULL) {
		rc = CHAOS_ENOMEM;
		goto out_teardown;
	}
	for (size_t i = 0; i < c->nfaults; i++) {
		r.act[i].f = &c->faults[i];
		r.actp[i] = &r.act[i];
	}
	r.nx.active = r.actp;
	r.nx.nactive = c->nfaults;

	if ((rc = start_clients(&r)) != 0) {
		fprintf(stderr, "physalia-chaos: workload clients did not start\n");
		goto out_teardown;
	}
	r.t0 = mono_ns();
	int64_t end = r.t0 + (int64_t)(c->duration_s * 1e9);
	int64_t last_tick = 0, last_scrape = 0;
	while (!interrupted) {
		int64_t now = mono_ns();
		double t = (double)(now - r.t0) / 1e9;
		for (size_t i = 0; i < c->nfaults; i++) {
			struct chaos_active *a = &r.act[i];
			if (!a->started && t >= a->f->at_s) {
				a->started = 1;
				a->start_ns = now;
				a->id = (int64_t)i + 1; /* rule tags: f1, f2, ... */
				char err[512];
				int frc = chaos_nemesis_start(&r.nx, a, err, sizeof err);
				char params[600];
				fault_params(a->f, params, sizeof params);
				if (frc == CHAOS_ENOTARGET) {
					/* The system's own state left nothing to hit (a cell
					 * that lost its quorum has no proposer): the fault is
					 * recorded as skipped, with why, and the run stays valid. */
					fprintf(stderr, "\nphysalia-chaos: fault %zu (%s) skipped: %s\n",
						i + 1, chaos_nemesis_name(a->f->nemesis), err);
					size_t pl = strlen(params); /* a JSON object: add "skipped" */
					if (pl > 0 && params[pl - 1] == '}')
						snprintf(params + pl - 1, sizeof params - (pl - 1),
							 ",\"skipped\":\"%.400s\"}", err);
					a->healed = 1;
					struct rep_fault sf = { 0, chaos_nemesis_name(a->f->nemesis), params,
								"", now, now };
					rep_db_fault_start(r.db, &sf, &a->db_id);
					continue;
				}
				if (frc != 0) {
					fprintf(stderr, "\nphysalia-chaos: fault %zu (%s): %s\n", i + 1,
						chaos_nemesis_name(a->f->nemesis), err);
					mark_invalid(&r, "a fault could not be applied: %s", err);
				}
				struct rep_fault rf = { 0, chaos_nemesis_name(a->f->nemesis), params,
							a->targets, now, -1 };
				rep_db_fault_start(r.db, &rf, &a->db_id);
			}
			if (a->started && !a->healed) {
				chaos_nemesis_tick(&r.nx, a, now);
				if (t >= a->f->at_s + a->f->for_s) {
					if (chaos_nemesis_stop(&r.nx, a) != 0)
						mark_invalid(&r, "healing %s failed",
							     chaos_nemesis_name(a->f->nemesis));
					rep_db_fault_stop(r.db, a->db_id, mono_ns());
				}
			}
		}
		/* Nodes that died on their own (not killed by us). */
		for (size_t i = 0; i < r.w.nhosts; i++) {
			struct chaos_host *h = &r.w.hosts[i];
			int st;
			if (h->node && h->node_pid > 0 && r.be.ops->wait(&r.be, h->node_pid, 0, &st) == 1) {
				char why[64];
				snprintf(why, sizeof why, "exited on its own, status %d",
					 WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
				h->node_pid = 0;
				node_event(&r, i, WIFEXITED(st) && WEXITSTATUS(st) == 3 ? CHAOS_EV_FSYNC :
											   CHAOS_EV_CRASH,
					   why);
			}
		}
		if (now - last_scrape > 2000000000LL) {
			for (size_t i = 0; i < r.w.nhosts; i++)
				if (r.w.hosts[i].node)
					scrape_metrics(&r, i);
			last_scrape = now;
		}
		if (now - last_tick > 500000000LL) {
			tally(&r);
			progress(&r, t, 0);
			last_tick = now;
		}
		if (now >= end)
			break;
		poll(NULL, 0, 20);
	}
	int was_interrupted = interrupted;

	/* Heal whatever is still active, stop the workload (each client ends
	 * its op in flight within its timeout), then the engines. */
	for (size_t i = 0; i < c->nfaults; i++) {
		struct chaos_active *a = &r.act[i];
		if (a->started && !a->healed) {
			chaos_nemesis_stop(&r.nx, a);
			rep_db_fault_stop(r.db, a->db_id, mono_ns());
		}
	}
	for (size_t i = 0; i < r.nhist; i++) {
		stop_proc(&r, r.hist[i].host_index, &r.hist[i].pid, SIGCONT, -1);
		stop_proc(&r, r.hist[i].host_index, &r.hist[i].pid, SIGTERM, -1);
	}
	int64_t limit = mono_ns() + (int64_t)c->workload.timeout_ms * 1000000LL + 5000000000LL;
	for (size_t i = 0; i < r.nhist; i++) {
		int st;
		while (r.hist[i].pid > 0) {
			if (r.be.ops->wait(&r.be, r.hist[i].pid, 50, &st) == 1) {
				r.hist[i].pid = 0;
				break;
			}
			if (mono_ns() > limit)
				stop_proc(&r, r.hist[i].host_index, &r.hist[i].pid, SIGKILL, 5000);
		}
	}
	tally(&r);
	progress(&r, (double)(mono_ns() - r.t0) / 1e9, 1);
	for (size_t i = 0; i < r.w.nhosts; i++)
		if (r.w.hosts[i].node)
			scrape_metrics(&r, i);
	for (size_t i = 0; i < r.w.nhosts; i++)
		stop_proc(&r, i, &r.captures[i], SIGTERM, 5000);
	/* Nodes drain on SIGTERM; then the engines (still forwarding for the
	 * drain) are closed. */
	for (size_t i = 0; i < r.w.nhosts; i++) {
		struct chaos_host *h = &r.w.hosts[i];
		if (h->node_pid <= 0)
			continue;
		if (h->paused)
			r.be.ops->signal(&r.be, h, h->node_pid, SIGCONT);
		r.be.ops->signal(&r.be, h, h->node_pid, SIGTERM);
	}
	for (size_t i = 0; i < r.w.nhosts; i++) {
		struct chaos_host *h = &r.w.hosts[i];
		if (h->node_pid <= 0)
			continue;
		stop_proc(&r, i, &h->node_pid, 0, 5000);
		node_event(&r, i, CHAOS_EV_STOP, "end of run");
	}
	uint64_t qdrops = 0;
	char estats[2048];
	int erc = chaos_backend_ns_close(&r.be, &qdrops, estats, sizeof estats);
	r.backend_ok = 0;
	if (erc != 0) {
		char why[64];
		snprintf(why, sizeof why, "%" PRIu64 " queued packets dropped by the kernel", qdrops);
		mark_invalid(&r, "the impairment engine fell behind or failed: %s", why);
	}
	rep_db_add_metric(r.db, mono_ns(), "impair", "queue_dropped", (double)qdrops);
	/* Evidence. */
	uint64_t totals[CHAOS_V__COUNT] = { 0 };
	load_packet_records(&r, totals);
	for (int v = 0; v < CHAOS_V__COUNT; v++) {
		char name[48];
		snprintf(name, sizeof name, "packets_%s", chaos_verdict_name((enum chaos_verdict)v));
		rep_db_add_metric(r.db, mono_ns(), "impair", name, (double)totals[v]);
	}
	add_artifacts(&r);
	struct rep_history h;
	rep_history_init(&h);
	int bad = load_histories(&r, &h);
	if (bad > 0)
		mark_invalid(&r, "%s history lines did not parse", "some");
	rep_db_add_history(r.db, &h);
	if (r.ok == 0)
		mark_invalid(&r, "%s", "no operation succeeded: the run shows nothing");
	if (was_interrupted)
		mark_invalid(&r, "%s", "interrupted (Ctrl-C)");

	struct rep_budget budget = { c->check_budget_s > 0 ? c->check_budget_s : 30, 0, 0, false };
	struct rep_check_result cr;
	memset(&cr, 0, sizeof cr);
	int crc = rep_check(&h, &budget, &cr);
	const char *verdict = crc == 0 || crc == REP_EMODEL ? rep_verdict_name(cr.verdict) : "unknown";
	if (crc == 0 || crc == REP_EMODEL)
		rep_db_add_check(r.db, "linearizability", &h, &cr);
	if (crc == REP_EMODEL)
		mark_invalid(&r, "checker refused the history: %s", cr.error ? cr.error : "?");
	rep_db_run_end(r.db, unix_ns(), verdict);
	rep_db_flush(r.db);
	char report[PATH_MAX + 32];
	snprintf(report, sizeof report, "%s/report.html", r.dir);
	int report_ok = render_report(r.db, dbpath, report);
	printf("history: %zu operations (ok %" PRIu64 ", fail %" PRIu64 ", info %" PRIu64 ")\n", h.n,
	       r.ok, r.fail, r.info);
	printf("packets: deliver %" PRIu64 " drop %" PRIu64 " delay %" PRIu64 " reorder %" PRIu64
	       " duplicate %" PRIu64 " corrupt %" PRIu64 ", kernel queue drops %" PRIu64 "\n",
	       totals[0], totals[1], totals[2], totals[3], totals[4], totals[5], qdrops);
	printf("verdict: %s%s%s\n", verdict, r.invalid ? "; run INVALID: " : "",
	       r.invalid ? r.invalid_why : "");
	printf("run database: %s\nreport: %s%s\n", dbpath, report,
	       report_ok ? "" : " (FAILED: the report could not be rendered)");
	int code;
	if (crc == 0 && cr.verdict == REP_NOT_LINEARIZABLE)
		code = 1; /* a violation stands even in a run with other problems */
	else if (r.invalid || crc != 0 || cr.verdict != REP_LINEARIZABLE || !report_ok)
		code = 2;
	else
		code = 0;
	if (crc == 0 || crc == REP_EMODEL)
		rep_check_result_free(&cr);
	rep_history_free(&h);
	rep_db_close(r.db);
	r.db = NULL;
	teardown(&r);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	topo_colony_close(&r.colony);
	topo_model_free(r.model);
	chaos_world_free(&r.w);
	free(r.act);
	free(r.actp);
	free(r.hist);
	free(r.captures);
	free(r.cell_names);
	return code;

out_teardown:
	if (r.db != NULL) {
		rep_db_run_end(r.db, unix_ns(), "unknown");
		rep_db_close(r.db);
		r.db = NULL;
	}
	teardown(&r);
out_restore:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
out_free:
	if (r.colony_ok)
		topo_colony_close(&r.colony);
	topo_model_free(r.model);
	chaos_world_free(&r.w);
	free(r.act);
	free(r.actp);
	free(r.hist);
	free(r.captures);
	free(r.cell_names);
	fprintf(stderr, "physalia-chaos run: %s\n", chaos_strerror(rc));
	return 2;
}
