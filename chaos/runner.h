/* Internal to chaos/: the run's world (hosts as the campaign sees them), the
 * host backend interface, and the nemeses. Campaign logic (nemesis.c,
 * runner.c) reaches hosts only through struct chaos_backend, so a backend
 * over ssh to machines (vagrant/) can replace the namespace backend. */
#ifndef PHYSALIA_CHAOS_RUNNER_H
#define PHYSALIA_CHAOS_RUNNER_H

#include <stdint.h>
#include <sys/types.h>

#include "chaos.h"

#define CHAOS_HOSTS_MAX 1024

struct chaos_host {
	char name[64];
	int node, client;       /* roles */
	uint32_t node_id;       /* 1.. for node hosts, 0 otherwise */
	uint32_t addr;          /* IPv4, host order */
	char addr_text[16];
	uint32_t rack, row, power; /* indices into the world's name tables */
	/* Backend locators: for namespaces, the host's namespace, its ToR's
	 * namespace and the ToR's interface toward it. */
	char ns[64];
	char router[64];
	char iface[16];
	/* The node process, when running. */
	pid_t node_pid;
	int paused;
	int restarts;
	char node_log[512];
	char node_config[512];
	const char *node_bin;   /* NULL = the run's physalia-node (rollback sets it) */
};

struct chaos_world {
	struct chaos_host *hosts; /* owned */
	size_t nhosts;
	char (*racks)[64];
	size_t nracks;
	char (*rows)[64];
	size_t nrows;
	char (*powers)[64];
	size_t npowers;
	char (*routers)[64];     /* one namespace per rack (its ToR) */
};

void chaos_world_free(struct chaos_world *w);
int chaos_world_find(const struct chaos_world *w, const char *host);

/* ------------------------------------------------------------ backend */

struct chaos_backend;

/* A callback for block counters: packets from src (address) dropped. */
typedef void (*chaos_count_fn)(void *ud, uint32_t src, const char *iface, uint64_t packets);

struct chaos_backend_ops {
	const char *name;
	/* Starts argv on host h with stdout/stderr appended to log (path on the
	 * controller). env: extra "K=V" strings (NULL-terminated) or NULL. */
	int (*start)(struct chaos_backend *b, const struct chaos_host *h, const char *const *argv,
		     const char *const *env, const char *log, pid_t *pid);
	int (*signal)(struct chaos_backend *b, const struct chaos_host *h, pid_t pid, int sig);
	/* Waits for pid up to timeout_ms (0 = just look). Returns 1 and the
	 * wait status when it exited, 0 when still running, <0 on error. */
	int (*wait)(struct chaos_backend *b, pid_t pid, int timeout_ms, int *status);
	/* Adds (add=1) or removes a DROP of packets from src to dst, on the
	 * receive/forward path of dst, tagged for counting. */
	int (*block)(struct chaos_backend *b, const struct chaos_host *dst,
		     const struct chaos_host *src, const char *tag, int add);
	/* Reports every tagged block rule's packet counter at dst's router. */
	int (*block_counts)(struct chaos_backend *b, const char *router, const char *tag,
			    chaos_count_fn fn, void *ud);
	/* Sends one control line to every router's impairment engine. */
	int (*impair)(struct chaos_backend *b, const char *line);
	/* Rate-limits packets toward dst (kbit/s; 0 removes the limit). */
	int (*rate)(struct chaos_backend *b, const struct chaos_host *dst, uint32_t kbit);
	/* Runs argv on h and waits (fiu-ctrl and the like). Returns exit status. */
	int (*run)(struct chaos_backend *b, const struct chaos_host *h, const char *const *argv);
};

struct chaos_backend {
	const struct chaos_backend_ops *ops;
	struct chaos_world *world;
	void *impl;
};

/* The namespace backend: hosts and ToRs are namespaces on this machine. One
 * impairment engine per ToR on NFQUEUE queue 1, fed by a FORWARD rule for
 * packets leaving toward a host (so every packet meets exactly one engine,
 * at its destination's ToR). */
int chaos_backend_ns_open(struct chaos_world *w, const char *dir, uint64_t seed,
			  const char *self_exe, struct chaos_backend *out);
/* Stops the engines (drain, stats) and reports whether any fell behind.
 * *queue_drops gets the kernel's queue drops summed. */
int chaos_backend_ns_close(struct chaos_backend *b, uint64_t *queue_drops, char *stats,
			   size_t statslen);
/* The namespace backend's tbf counters toward dst (read before removal;
 * the runner hands this to the nemeses, other backends have none yet). */
int chaos_backend_ns_rate_stats(struct chaos_backend *b, const struct chaos_host *dst,
				uint64_t *dropped, uint64_t *overlimits);

/* The engines' records files are DIR/impair-<rack>.txt (docs/chaos.md). */

#endif
