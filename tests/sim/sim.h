/*
 * SimWorld core: the pieces of physalia's simulator that do not depend on the
 * engine (PHYSALIA.md section 6, SimWorld).  Everything here is deterministic:
 * no clock reads, no global state, randomness only from a seeded struct
 * sim_rng passed in by the caller.
 *
 *   sim_rng      xoshiro256** seeded by splitmix64
 *   sim_queue    event queue ordered by (time, insertion sequence): the fixed
 *                tie rule is "earlier scheduled first"
 *   sim_net      per-link delay/loss/duplication/reordering, named partitions
 *                (symmetric or one-way), message matchers by type
 *   sim_disk     a replica's store: pending batches, durable records, latency,
 *                failed writes/fsyncs, crash losing what is not durable, torn
 *                writes
 *   sim_clock    a clock per actor: offset, rate, jumps
 *   sim_history  a Jepsen-shaped history (invoke, then ok / fail / info)
 *
 * Errors: 0 or a negative SIM_E* code; sim_strerror() names it.
 * Memory: every object is created by _init or _new functions and released by the
 * matching _close or _free; byte buffers handed in are copied, no reference
 * kept, unless a comment says otherwise.
 */
#ifndef PH_TESTS_SIM_H
#define PH_TESTS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef uint64_t sim_time; /* global simulated nanoseconds; equals ph_time */

enum {
	SIM_OK = 0,
	SIM_ENOMEM = -1,  /* allocation failed */
	SIM_EINVAL = -2,  /* bad argument */
	SIM_ENOENT = -3,  /* no such partition / batch / record */
	SIM_EFULL = -4,   /* a fixed-size table is full */
	SIM_EWRITE = -5,  /* simulated disk write failed */
	SIM_EFSYNC = -6,  /* simulated fsync failed */
	SIM_EEMPTY = -7,  /* the queue is empty */
};
const char *sim_strerror(int code);

#define SIM_MS ((sim_time)1000000)
#define SIM_US ((sim_time)1000)
#define SIM_S ((sim_time)1000000000)

/* ---------------------------------------------------------------- rng */

struct sim_rng {
	uint64_t s[4];
};
void sim_rng_seed(struct sim_rng *r, uint64_t seed);
uint64_t sim_rng_next(struct sim_rng *r);
/* Uniform in [0, n); n == 0 returns 0. Unbiased (rejection). */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t n);
/* Uniform in [lo, hi]; hi < lo returns lo. */
uint64_t sim_rng_range(struct sim_rng *r, uint64_t lo, uint64_t hi);
/* True with probability ppm / 1e6. */
bool sim_rng_chance(struct sim_rng *r, uint32_t ppm);
/* One splitmix64 step: also used to derive independent sub-seeds. */
uint64_t sim_splitmix64(uint64_t *state);

/* -------------------------------------------------------------- queue */

/* An event: what happens at `at` to `actor`.  `kind` and the payload are the
 * caller's; the queue owns `data` once pushed (freed by sim_queue_close for
 * events never popped; a popped event's data belongs to the popper). */
struct sim_event {
	sim_time at;
	uint64_t seq; /* assigned by push: the tie rule */
	int kind;
	uint32_t actor;
	uint32_t from;
	uint64_t aux;
	void *data;
	size_t len;
};

struct sim_queue {
	struct sim_event *heap;
	size_t n, cap;
	uint64_t next_seq;
};
void sim_queue_init(struct sim_queue *q);
void sim_queue_close(struct sim_queue *q);
/* Copies *ev (seq overwritten). SIM_ENOMEM leaves the queue unchanged and
 * `ev->data` owned by the caller. */
int sim_queue_push(struct sim_queue *q, const struct sim_event *ev);
/* Removes the earliest event (lowest at, then lowest seq). SIM_EEMPTY. */
int sim_queue_pop(struct sim_queue *q, struct sim_event *out);
/* Earliest event without removing it, or NULL. */
const struct sim_event *sim_queue_peek(const struct sim_queue *q);

/* ------------------------------------------------------------ network */

#define SIM_NET_MAX_COPIES 4
#define SIM_NET_MAX_LINKS 64
#define SIM_NET_MAX_PARTS 16
#define SIM_NET_MAX_MATCH 32
#define SIM_NET_MAX_GROUP 16
#define SIM_NET_NAME_MAX 24
#define SIM_ANY 0u        /* wildcard node in matchers */
#define SIM_ANY_TYPE (-1) /* wildcard message type */

struct sim_link_cfg {
	sim_time delay_min, delay_max; /* uniform in [min, max] */
	uint32_t loss_ppm;             /* drop probability */
	uint32_t dup_ppm;              /* probability of one extra copy */
	uint32_t reorder_ppm;          /* probability of extra delay ... */
	sim_time reorder_extra;        /* ... uniform in [0, reorder_extra] */
};

enum sim_part_mode {
	SIM_PART_SYMMETRIC, /* group <-> rest: nothing crosses */
	SIM_PART_ISOLATE_IN, /* nothing from the rest reaches the group */
	SIM_PART_ISOLATE_OUT, /* nothing from the group reaches the rest */
};

enum sim_match_action {
	SIM_MATCH_DROP,
	SIM_MATCH_DUPLICATE, /* deliver `copies` extra copies */
	SIM_MATCH_DELAY,     /* add `delay` to the delivery time */
};

struct sim_matcher {
	uint32_t from, to; /* SIM_ANY matches every node */
	int type;          /* SIM_ANY_TYPE, or a message type from peek */
	enum sim_match_action action;
	sim_time delay;
	int copies;
	uint64_t remaining; /* 0: forever; else applies this many times */
};

/* The message-type peek (the engine's ph_msg_peek_type in the world):
 * returns the type or a negative value for "unknown". */
typedef int (*sim_peek_fn)(const void *bytes, size_t len);

struct sim_net_stats {
	uint64_t sent, dropped_loss, dropped_part, dropped_match, duplicated,
		delivered;
};

struct sim_net {
	struct sim_link_cfg dflt;
	struct {
		uint32_t from, to;
		struct sim_link_cfg cfg;
	} links[SIM_NET_MAX_LINKS];
	int nlinks;
	struct {
		char name[SIM_NET_NAME_MAX];
		enum sim_part_mode mode;
		uint32_t nodes[SIM_NET_MAX_GROUP];
		int n;
	} parts[SIM_NET_MAX_PARTS];
	int nparts;
	struct {
		int id;
		struct sim_matcher m;
	} match[SIM_NET_MAX_MATCH];
	int nmatch, next_match_id;
	sim_peek_fn peek;
	struct sim_net_stats stats;
};

void sim_net_init(struct sim_net *n, const struct sim_link_cfg *dflt, sim_peek_fn peek);
/* Sets the config of the directed link from -> to. SIM_EFULL. */
int sim_net_set_link(struct sim_net *n, uint32_t from, uint32_t to, const struct sim_link_cfg *cfg);
const struct sim_link_cfg *sim_net_link(const struct sim_net *n, uint32_t from, uint32_t to);
/* Partitions `nodes` off from everyone else under `name` (PHYSALIA.md 6:
 * net.partitionOff(NAME, ...)).  Replaces a partition of the same name.
 * SIM_EINVAL (empty name, too many nodes), SIM_EFULL. */
int sim_net_partition(struct sim_net *n, const char *name, const uint32_t *nodes, int count,
		      enum sim_part_mode mode);
/* Removes partition `name`. SIM_ENOENT. */
int sim_net_heal(struct sim_net *n, const char *name);
void sim_net_heal_all(struct sim_net *n);
/* True when an active partition forbids from -> to right now. */
bool sim_net_blocked(const struct sim_net *n, uint32_t from, uint32_t to);
/* Adds a matcher; returns its id (> 0) or SIM_EFULL. */
int sim_net_match(struct sim_net *n, const struct sim_matcher *m);
int sim_net_unmatch(struct sim_net *n, int id);
/* Decides the fate of one message sent at `now`: fills out[] with the
 * delivery times of its copies (0 copies: lost) and returns the count.
 * Partitions are checked here and again at delivery (sim_net_blocked), so a
 * partition cuts messages already in flight, as a real one does. */
int sim_net_route(struct sim_net *n, struct sim_rng *r, sim_time now, uint32_t from, uint32_t to,
		  const void *bytes, size_t len, sim_time out[SIM_NET_MAX_COPIES]);

/* --------------------------------------------------------------- disk */

struct sim_rec {
	int kind;
	uint64_t slot;
	uint8_t *bytes; /* owned by the disk */
	size_t len;
};

struct sim_batch {
	uint64_t persist_id;
	struct sim_rec *recs;
	size_t n;
	sim_time done_at; /* when the write+fsync completes */
};

struct sim_disk_cfg {
	sim_time lat_min, lat_max; /* write+fsync latency */
	uint32_t write_fail_ppm;   /* the write itself fails */
	uint32_t fsync_fail_ppm;   /* the fsync fails (the node must stop) */
	uint32_t torn_ppm;         /* on crash: the oldest pending batch is torn */
	/* A record of kind truncate_kind (0: none) deletes the durable records
	 * of kinds truncate_targets[] with slot below its own slot, in batch
	 * order, and is kept itself (the engine's PH_REC_TRUNCATE). */
	int truncate_kind;
	int truncate_targets[2];
};

struct sim_disk_stats {
	uint64_t batches, records, write_fails, fsync_fails, crashes, torn, lost_batches;
};

struct sim_disk {
	struct sim_disk_cfg cfg;
	struct sim_rec *durable; /* sorted by (kind, slot), unique */
	size_t ndurable, capdurable;
	struct sim_batch *pending; /* FIFO: the disk completes in order */
	size_t npending, cappending;
	sim_time busy_until; /* last pending completion time */
	uint64_t durable_id; /* highest persist id made durable */
	uint64_t durable_gen; /* bumped on every durable change */
	struct sim_disk_stats stats;
};

void sim_disk_init(struct sim_disk *d, const struct sim_disk_cfg *cfg);
void sim_disk_close(struct sim_disk *d);
/* Queues a batch of records (copied) written at `now`; its completion time
 * (FIFO after earlier batches) goes to *done_at. SIM_ENOMEM leaves the disk
 * unchanged. An empty batch is allowed (a pure durability barrier). */
int sim_disk_submit(struct sim_disk *d, struct sim_rng *r, sim_time now, uint64_t persist_id,
		    const struct sim_rec *recs, size_t n, sim_time *done_at);
/* Completes the oldest pending batch, which must be `persist_id`: decides
 * failure (SIM_EWRITE / SIM_EFSYNC: nothing of it became durable and the
 * caller must crash the replica) or upserts its records into the durable set
 * by (kind, slot). SIM_ENOENT if it is not the oldest pending batch. */
int sim_disk_complete(struct sim_disk *d, struct sim_rng *r, uint64_t persist_id);
/* Power loss: every pending batch is lost, except that with torn_ppm the
 * oldest one leaves a prefix of its records durable (records are atomic
 * units: a torn record fails its checksum in the store and is discarded,
 * which is the same as not written). */
void sim_disk_crash(struct sim_disk *d, struct sim_rng *r);
/* Removes durable records of `kind` with slot < `below` (TRUNCATE). */
void sim_disk_drop_below(struct sim_disk *d, int kind, uint64_t below);
const struct sim_rec *sim_disk_find(const struct sim_disk *d, int kind, uint64_t slot);
/* Hash of the durable set (FNV-1a over kind, slot, bytes in order). */
uint64_t sim_disk_hash(const struct sim_disk *d);

/* -------------------------------------------------------------- clock */

struct sim_clock {
	sim_time base_global;
	sim_time base_local;
	int64_t rate_ppm; /* local runs (1e6 + rate_ppm)/1e6 as fast as global */
	sim_time last;     /* last value handed out: local clocks never go back */
};
void sim_clock_init(struct sim_clock *c, sim_time global_now, sim_time local_now, int64_t rate_ppm);
/* The actor's local reading at global time g (monotonic: never below the
 * previous reading, like CLOCK_MONOTONIC; a backward jump makes it stand
 * still until it catches up). */
sim_time sim_clock_local(struct sim_clock *c, sim_time g);
/* Local reading without updating `last`. */
sim_time sim_clock_peek(const struct sim_clock *c, sim_time g);
/* Global time at which the local clock reads `local` (rounded up), never
 * before `g_now`. */
sim_time sim_clock_to_global(const struct sim_clock *c, sim_time g_now, sim_time local);
void sim_clock_set_rate(struct sim_clock *c, sim_time g_now, int64_t rate_ppm);
/* Jump the local clock by delta (signed) at global time g_now. */
void sim_clock_jump(struct sim_clock *c, sim_time g_now, int64_t delta);

/* ------------------------------------------------------------ history */

enum sim_op_type { SIM_OP_INVOKE, SIM_OP_OK, SIM_OP_FAIL, SIM_OP_INFO };
enum sim_op_f { SIM_F_READ, SIM_F_WRITE, SIM_F_CAS, SIM_F_INCR };

#define SIM_KEY_MAX 16

struct sim_op {
	uint64_t process;  /* Jepsen process: a new one after an info */
	enum sim_op_type type;
	enum sim_op_f f;
	char key[SIM_KEY_MAX];
	int64_t value;     /* write / incr argument, cas new, read result */
	int64_t expect;    /* cas expected value */
	bool has_value;    /* read result present (false: key absent / unknown) */
	bool committed;    /* ok: the transaction's conditions held (cas matched) */
	sim_time time;     /* global simulated time */
	uint64_t client, seq; /* the engine-level request identity */
};

struct sim_history {
	struct sim_op *ops;
	size_t n, cap;
};
void sim_history_init(struct sim_history *h);
void sim_history_close(struct sim_history *h);
/* Appends a copy of *op. SIM_ENOMEM leaves the history unchanged. */
int sim_history_add(struct sim_history *h, const struct sim_op *op);
/* Writes the history in Jepsen's text form, one op a line:
 *   {:process 3, :type :invoke, :f :write, :key "x", :value 5, :time 123}  */
void sim_history_print(const struct sim_history *h, FILE *out);
/* Checks the history is well formed: every completion follows an invoke of
 * the same process with no other op of that process in between; no process
 * is reused after an info. Returns the index of the first bad op, or -1. */
long sim_history_wellformed(const struct sim_history *h);

#endif
