/* Internal to chaos/: starting, ticking and healing one fault. */
#ifndef PHYSALIA_CHAOS_NEMESIS_H
#define PHYSALIA_CHAOS_NEMESIS_H

#include "runner.h"

enum chaos_event_kind {
	CHAOS_EV_START = 0,
	CHAOS_EV_STOP,
	CHAOS_EV_CRASH,
	CHAOS_EV_RESTART,
	CHAOS_EV_PAUSE,
	CHAOS_EV_RESUME,
	CHAOS_EV_FSYNC,
	CHAOS_EV_OTHER,
};

/* One fault while it runs. */
struct chaos_active {
	const struct chaos_fault *f;
	int64_t id;          /* the fault's number in the campaign, 1-based */
	int64_t db_id;       /* its row in the run database */
	int64_t start_ns;
	char tag[32];        /* netfilter rule comment suffix */
	uint8_t set[CHAOS_HOSTS_MAX]; /* hosts hit (2 = a bridge's middle) */
	char targets[2048];  /* their names, comma-separated */
	uint32_t (*cuts)[2]; /* partitions: (dst, src) host pairs */
	size_t ncuts, capcuts;
	size_t roll_next;    /* rolling restart: next target */
	int64_t roll_next_ns;
	int started, healed;
};

struct chaos_nemesis_ctx {
	struct chaos_backend *be;
	struct chaos_world *w;
	uint64_t rng;        /* seeded: minorities, halves */
	const char *dir;     /* run folder (faketime files) */
	int fiu, faketime;   /* nodes run under fiu-run / libfaketime */
	struct chaos_active **active; /* every fault of the run, for policy rebuilds */
	size_t nactive;
	void *ud;
	int (*node_start)(void *ud, size_t host);
	int (*proposer_of)(void *ud, uint32_t cell, size_t *host);
	void (*event)(void *ud, size_t host, enum chaos_event_kind kind, const char *detail);
	void (*dropped)(void *ud, struct chaos_active *a, size_t src, size_t dst, uint64_t packets);
	/* The backend's rate limiter counters, or NULL when it has none. */
	int (*rate_stats)(struct chaos_backend *b, const struct chaos_host *dst, uint64_t *dropped,
			  uint64_t *overlimits);
	/* A metric about a fault's effect (tbf counters). */
	void (*metric)(void *ud, size_t host, const char *name, double value);
	/* Signals the workload clients running on a client host; returns how
	 * many processes were signalled. */
	int (*clients_signal)(void *ud, size_t host, int sig);
};

/* Resolves a target to a host set (w->nhosts bytes). */
int chaos_target_resolve(struct chaos_nemesis_ctx *x, const struct chaos_target *t,
			 uint8_t *set, char *err, size_t errlen);

int chaos_nemesis_start(struct chaos_nemesis_ctx *x, struct chaos_active *a, char *err,
			size_t errlen);
int chaos_nemesis_tick(struct chaos_nemesis_ctx *x, struct chaos_active *a, int64_t now_ns);
int chaos_nemesis_stop(struct chaos_nemesis_ctx *x, struct chaos_active *a);

#endif
