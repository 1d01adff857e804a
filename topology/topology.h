/* topology/topology.h: the rack model, cell placement near clients, and the
 * namespace fabric (PHYSALIA.md section 5; paper sections 2.1, 3.1-3.4, 5.2).
 *
 * Three parts, one error contract (0 or a negative TOPO_E* code,
 * topo_strerror() makes the message):
 *
 *   rack model   datacenter > rows > racks > hosts, loaded from YAML
 *                (libfyaml) or built in; validated with errors that name
 *                file:line:column. docs/rack-model.md has the format.
 *   placement    a colony of cells, each with a jury near its clients, the
 *                paper's random-swap improvement, move plans, blast radius
 *                and the section 5.2 availability simulation.
 *   fabric       one network namespace per host, one router namespace per
 *                rack (ToR), one per row (spine) and, with more than one row,
 *                a core; veths, addresses from 198.18.0.0/15, routes. All by
 *                netlink; namespaces are bind mounts under /run/netns so
 *                `ip netns list` sees them. docs/topology.md has the layout.
 *
 * Nothing here is thread-safe across calls on the same object; distinct
 * objects may be used from distinct threads. The fabric functions change the
 * calling thread's network namespace only transiently and always restore it.
 */
#ifndef PH_TOPOLOGY_H
#define PH_TOPOLOGY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* ---- errors -------------------------------------------------------------- */

enum {
	TOPO_OK = 0,
	TOPO_ENOMEM = -1,      /* out of memory */
	TOPO_EINVAL = -2,      /* bad argument from the caller */
	TOPO_EIO = -3,         /* a file could not be read or written */
	TOPO_ESYNTAX = -4,     /* the file is not well-formed YAML */
	TOPO_ESCHEMA = -5,     /* unknown key, wrong type, missing key, bad value */
	TOPO_EDUPLICATE = -6,  /* a name (host, rack, row) used twice */
	TOPO_ENOPOWER = -7,    /* a rack without a power domain, or an undeclared one */
	TOPO_EDIVERSITY = -8,  /* too few power domains / racks / nodes for the jury */
	TOPO_EADDRESS = -9,    /* address range invalid or exhausted */
	TOPO_ENOTFOUND = -10,  /* no such host / cell / run / namespace */
	TOPO_ECONSTRAINT = -11,/* no jury satisfies the placement constraints */
	TOPO_EEXIST = -12,     /* a fabric with that run prefix is already up */
	TOPO_EPERM = -13,      /* the kernel refused (namespaces not permitted) */
	TOPO_ENETLINK = -14,   /* a netlink request failed */
	TOPO_ENETNS = -15,     /* creating, entering or removing a namespace failed */
	TOPO_ECHILD = -16,     /* starting a process in a namespace failed */
	TOPO_ETIMEDOUT = -17,  /* a bounded wait ran out (processes would not die) */
	TOPO_ELIMIT = -18,     /* a fixed limit below was exceeded */
};

/* A static message for any code (never NULL). */
const char *topo_strerror(int code);

/* ---- limits ---------------------------------------------------------------- */

#define TOPO_NAME_MAX 32        /* names incl. NUL: [A-Za-z0-9_.]+, '-' inside */
#define TOPO_RUN_MAX 16         /* run prefix incl. NUL: [A-Za-z0-9]{1,15} */
#define TOPO_NSNAME_MAX 64      /* "ph-" RUN "-" NAME incl. NUL */
#define TOPO_PATH_MAX 256
#define TOPO_JURY_MIN 3
#define TOPO_JURY_MAX 9
#define TOPO_JURY_DEFAULT 7
#define TOPO_CLIENTS_MAX 4      /* client hosts per cell (client, primary, replica) */
#define TOPO_HOSTS_PER_RACK_MAX 127 /* one /31 per host in the rack's /24 */
#define TOPO_DIAG_MSG_MAX 256

/* The only address range the fabric uses (or a sub-range of it). */
#define TOPO_RANGE_BASE 0xC6120000u /* 198.18.0.0 */
#define TOPO_RANGE_PREFIX 15

/* ---- diagnostics ---------------------------------------------------------- */

/* Where and why a model was refused. line/column are 1-based; 0 when the
 * problem has no position (built-in or generated models, I/O errors). */
struct topo_diag {
	int code;                       /* the TOPO_E* code also returned */
	char file[TOPO_PATH_MAX];       /* "<default>", "<memory>" or the path */
	uint32_t line;
	uint32_t column;
	char msg[TOPO_DIAG_MSG_MAX];    /* the problem, one line, no position */
};

/* Formats "file:line:column: msg" (or "file: msg" without a position) into
 * buf; returns buf. Never fails; truncates to len. */
char *topo_diag_format(const struct topo_diag *d, char *buf, size_t len);

/* ---- rack model ----------------------------------------------------------- */

enum topo_role {
	TOPO_ROLE_NODE = 1,    /* runs physalia-node */
	TOPO_ROLE_CLIENT = 2,  /* runs clients (an EBS instance, primary, replica) */
	TOPO_ROLE_BOTH = 3,
};

struct topo_pos {
	uint32_t line, column;  /* 0, 0 for built-in / generated models */
};

struct topo_host {
	char name[TOPO_NAME_MAX];
	enum topo_role role;
	uint32_t color;          /* index into model->colors (0 = "" when uncolored) */
	uint32_t rack;           /* index into model->racks */
	uint32_t row;            /* index into model->rows (the rack's row) */
	uint32_t power;          /* index into model->powers (the rack's domain) */
	uint32_t slot;           /* position within its rack, 0-based */
	uint32_t addr;           /* IPv4, host byte order: its fabric address */
	struct topo_pos pos;
};

struct topo_rack {
	char name[TOPO_NAME_MAX];
	uint32_t row;
	uint32_t power;          /* index into model->powers */
	uint32_t first_host;     /* hosts[first_host .. first_host+n_hosts-1] */
	uint32_t n_hosts;
	uint32_t subnet;         /* the rack's /24, host byte order */
	struct topo_pos pos;
};

struct topo_row {
	char name[TOPO_NAME_MAX];
	uint32_t first_rack;     /* racks[first_rack .. first_rack+n_racks-1] */
	uint32_t n_racks;
	struct topo_pos pos;
};

struct topo_power {
	char name[TOPO_NAME_MAX];
	struct topo_pos pos;     /* first mention */
};

struct topo_color {
	char name[TOPO_NAME_MAX]; /* "" for hosts without a color */
};

/* A loaded, validated rack model. Immutable after load; owned by the caller
 * who frees it with topo_model_free(). Hosts are stored rack by rack, racks
 * row by row, in file order. */
struct topo_model {
	char datacenter[TOPO_NAME_MAX];
	char source[TOPO_PATH_MAX];      /* where it came from, for messages */
	uint32_t jury_size;              /* the jury size it was validated for */
	uint32_t range_base;             /* address range, host byte order */
	uint32_t range_prefix;           /* 15..23 */
	struct topo_pos jury_pos;        /* where diversity errors point: the
					    `jury:` value, else `rows:` */
	struct topo_row *rows;
	size_t n_rows;
	struct topo_rack *racks;
	size_t n_racks;
	struct topo_host *hosts;
	size_t n_hosts;
	struct topo_power *powers;
	size_t n_powers;
	struct topo_color *colors;
	size_t n_colors;
};

/* Loads a rack model from a YAML file / from memory (len bytes, need not be
 * NUL-terminated; name is used in messages, NULL = "<memory>") and validates
 * it (topo_model_validate with the file's `jury:` or 7). On success *out is a
 * new model the caller frees. On failure *out is untouched and, if diag is not
 * NULL, it says what and where.
 * Returns 0, TOPO_ENOMEM, TOPO_EINVAL, TOPO_EIO, TOPO_ESYNTAX, TOPO_ESCHEMA,
 * TOPO_EDUPLICATE, TOPO_ENOPOWER, TOPO_EDIVERSITY, TOPO_EADDRESS,
 * TOPO_ELIMIT. */
int topo_model_load_file(const char *path, struct topo_model **out,
			 struct topo_diag *diag);
int topo_model_load_mem(const char *buf, size_t len, const char *name,
			struct topo_model **out, struct topo_diag *diag);

/* The built-in default: datacenter "dc1", 1 row "row1", 3 power domains
 * "pA" "pB" "pC", 5 racks "rack1".."rack5" (power domains pA pB pC pA pB),
 * each with node hosts "rN-n1".."rN-n3" and client host "rN-c1" (20 hosts,
 * 15 nodes), uncolored, jury 7, range 198.18.0.0/15. */
int topo_model_default(struct topo_model **out);

/* A generated regular model, for simulations, property tests and benches:
 * rows x racks_per_row racks, power domains assigned round-robin over the
 * racks of the datacenter, each rack with `nodes` node hosts and `clients`
 * client hosts; node hosts colored round-robin over `colors` colors (0 or
 * 1 = uncolored), client hosts likewise. Names: "row%u", "rack%u", "p%u", "r%u-n%u", "r%u-c%u",
 * "color%u". Validated for jury_size. */
struct topo_gen {
	uint32_t rows, racks_per_row, powers, nodes, clients, colors;
	uint32_t jury_size;
};
int topo_model_generate(const struct topo_gen *g, struct topo_model **out,
			struct topo_diag *diag);

/* Checks a model built or edited by hand against every rule (names, power
 * domains, diversity for jury_size per color, address range). Used by the
 * loaders; returns the first problem found. */
int topo_model_validate(const struct topo_model *m, uint32_t jury_size,
			struct topo_diag *diag);

void topo_model_free(struct topo_model *m);

/* Index of the host / rack / row called name, or TOPO_ENOTFOUND. */
int topo_model_find_host(const struct topo_model *m, const char *name);
int topo_model_find_rack(const struct topo_model *m, const char *name);
int topo_model_find_row(const struct topo_model *m, const char *name);

/* Writes the model back as YAML (the same format the loader reads). */
int topo_model_write(const struct topo_model *m, FILE *f);

/* Network hops (routers crossed) between two hosts: 0 same host, 1 same rack
 * (the ToR), 3 same row (ToR, spine, ToR), 5 otherwise (through the core).
 * The placement's locality measure, and what TTLs show in the fabric. */
uint32_t topo_hops(const struct topo_model *m, uint32_t host_a, uint32_t host_b);

/* ---- placement -------------------------------------------------------------
 *
 * Constraints on a jury of n (paper section 3.2), all hard:
 *   - n distinct node hosts (role node or both), all of the cell's color;
 *   - at least 3 racks and 3 power domains;
 *   - no rack and no power domain holds more than (n-1)/2 members, so losing
 *     any one of them leaves a quorum ("no majority in any single one");
 *   - no node hosts more than its share of cells (the colony's cap).
 * Soft, optimized: locality (sum of topo_hops from each member to each of the
 * cell's clients; same row first), then load spread.
 */

struct topo_place_params {
	uint32_t jury_size;        /* 3..9; 0 = the model's jury_size */
	uint32_t swap_candidates;  /* random swaps tried per cell; 0 = 20 */
	uint32_t max_cells_per_node; /* 0 = share: ceil(cells*n/nodes)+1 per color,
					  recomputed as cells are added */
	uint64_t seed;             /* the only randomness; same seed, same result */
};

struct topo_cell {
	uint32_t id;                        /* index in the colony */
	uint32_t color;                     /* index into model->colors */
	uint32_t n_clients;
	uint32_t clients[TOPO_CLIENTS_MAX]; /* host indices */
	uint32_t n_jury;
	uint32_t jury[TOPO_JURY_MAX];       /* host indices, sorted */
};

/* A colony: a model (borrowed, must outlive the colony) and its cells. */
struct topo_colony {
	const struct topo_model *model;
	struct topo_place_params params;
	struct topo_cell *cells;   /* n_cells, owned */
	size_t n_cells, cap_cells;
	uint32_t *load;            /* cells per host, model->n_hosts entries, owned */
	uint32_t **host_cells;     /* internal: ids of the cells on each host
				      (load[h] of them), owned */
	uint32_t *host_cells_cap;  /* internal */
	uint32_t *color_cells;     /* internal: cells per color */
	uint64_t rng;              /* generator state, from params.seed */
};

/* Returns 0, TOPO_EINVAL, TOPO_ENOMEM. */
int topo_colony_init(struct topo_colony *c, const struct topo_model *m,
		     const struct topo_place_params *p);
void topo_colony_close(struct topo_colony *c);

/* Places a new cell for the given client hosts (1..TOPO_CLIENTS_MAX, any
 * role but must exist) in the given color (NULL or "" = uncolored / the
 * first color with enough nodes). Greedy: best locality under every hard
 * constraint, ties broken towards the least loaded node, then the seed.
 * *cell_out (may be NULL) gets the new cell's id. On failure the colony is
 * unchanged. Returns 0, TOPO_EINVAL, TOPO_ENOMEM, TOPO_ENOTFOUND (unknown
 * color), TOPO_ECONSTRAINT (no jury fits, e.g. every node at its cap). */
int topo_colony_add_cell(struct topo_colony *c, const uint32_t *clients,
			 size_t n_clients, const char *color, uint32_t *cell_out);

/* Why a jury breaks a hard constraint; 0 if it keeps them all. */
enum topo_violation {
	TOPO_V_NONE = 0,
	TOPO_V_SIZE,        /* wrong number of members or a repeated member */
	TOPO_V_ROLE,        /* a member is not a node host */
	TOPO_V_COLOR,       /* a member of another color */
	TOPO_V_RACKS,       /* fewer than 3 racks */
	TOPO_V_POWERS,      /* fewer than 3 power domains */
	TOPO_V_RACK_MAJORITY,  /* more than (n-1)/2 in one rack */
	TOPO_V_POWER_MAJORITY, /* more than (n-1)/2 in one power domain */
	TOPO_V_LOAD,        /* a member above the colony's cap */
};
const char *topo_violation_name(enum topo_violation v);

/* Checks one cell's jury against every hard constraint (load against the
 * colony's cap when c is not NULL). */
enum topo_violation topo_jury_check(const struct topo_model *m,
				    const struct topo_colony *c,
				    uint32_t color, const uint32_t *jury, size_t n);

/* The locality cost of a jury for a cell's clients (sum of topo_hops). */
uint64_t topo_jury_cost(const struct topo_model *m, const struct topo_cell *cell,
			const uint32_t *jury, size_t n);

/* The cap (max cells per node) currently in force for a color. */
uint32_t topo_colony_cap(const struct topo_colony *c, uint32_t color);

/* The paper's random-swap improvement (section 5.2): for each cell, up to
 * params.swap_candidates times, pick one of its members and a member of a
 * random other cell of the same color and swap them if that lowers the sum
 * of both cells' costs and both juries keep every hard constraint. Swaps
 * keep every node's load. Deterministic for a seed. Returns 0 or
 * TOPO_EINVAL; *st (may be NULL) gets the figures. */
struct topo_improve_stats {
	uint64_t tried, accepted;
	uint64_t cost_before, cost_after;  /* sum over all cells */
};
int topo_colony_improve(struct topo_colony *c, struct topo_improve_stats *st);

/* A plan for moving an existing cell toward new clients one node at a time
 * (paper section 2.4: a jury change replaces one member). Each step replaces
 * `out` by `in`; every intermediate jury keeps every hard constraint (the
 * incoming node's load included), steps that lower the cost for the new
 * clients come first, and the last jury is the one topo_colony_add_cell would
 * choose for those clients today. The colony is not changed
 * (topo_colony_apply_move applies one step). *steps is allocated, owned by the
 * caller (free()); *n_steps may be 0 when the cell is already best placed.
 * Returns 0, TOPO_EINVAL, TOPO_ENOMEM, TOPO_ENOTFOUND (cell),
 * TOPO_ECONSTRAINT (no constraint-keeping path found). */
struct topo_move {
	uint32_t out, in;       /* host indices */
	uint64_t cost_after;    /* the jury's cost after this step */
};
int topo_move_plan(const struct topo_colony *c, uint32_t cell,
		   const uint32_t *new_clients, size_t n_clients,
		   struct topo_move **steps, size_t *n_steps);
/* Applies one step (and sets the cell's clients when clients != NULL).
 * Returns 0, TOPO_EINVAL, TOPO_ENOTFOUND, TOPO_ECONSTRAINT. */
int topo_colony_apply_move(struct topo_colony *c, uint32_t cell,
			   const struct topo_move *step,
			   const uint32_t *clients, size_t n_clients);

/* ---- blast radius ------------------------------------------------------- */

enum topo_domain_kind { TOPO_DOM_RACK = 1, TOPO_DOM_POWER, TOPO_DOM_ROW };

/* What one failed rack / power domain / row does to a colony. A cell loses
 * its quorum when fewer than n/2+1 members survive; a client host loses its
 * cell when it is itself alive but one of its cells lost its quorum. */
struct topo_blast {
	enum topo_domain_kind kind;
	uint32_t index;            /* into racks / powers / rows */
	uint32_t hosts_down;
	uint32_t cells_lost;       /* cells without quorum */
	uint32_t cells_touched;    /* cells with at least one member down */
	uint32_t clients_down;     /* client hosts inside the failed domain */
	uint32_t clients_lost;     /* live client hosts with a cell lost */
};
/* One entry per rack, then per power domain, then per row. *out is
 * allocated, caller frees. Returns 0, TOPO_EINVAL, TOPO_ENOMEM. */
int topo_blast_radius(const struct topo_colony *c, struct topo_blast **out,
		      size_t *n_out);

/* ---- availability simulation (paper section 5.2, Figure 11) --------------
 *
 * A three-tier network: racks (ToR) under aggregation routers (one per row of
 * the model), aggs under one core that never fails; no redundancy, as in the
 * paper. A volume has a client, a primary and a replica on three distinct
 * racks (in the client's row with probability same_row_permille/1000,
 * elsewhere otherwise) and a cell placed by the colony (20 swap candidates).
 * In a trial a given fraction of aggs fail (exactly round(f*aggs), chosen at
 * random); every host under a failed agg is cut off. A volume is available
 * when its client reaches its configuration: a majority of its cell's jury
 * (physalia), or the one central database (baseline, anywhere with equal
 * chance: the expectation over its rack is counted). This is the reading of Figure 11 that its baseline figures fit
 * (DB about 80% at 10% down = (1 - 0.1)^2); primary and replica matter as
 * the cell's other clients, which pull its placement.
 */
struct topo_avail_params {
	uint32_t aggs;             /* rows of the generated datacenter; 0 = 20 */
	uint32_t racks_per_agg;    /* 0 = 8 */
	uint32_t nodes_per_rack;   /* 0 = 4 */
	uint32_t powers;           /* 0 = 3 */
	uint32_t volumes;          /* 0 = 2000 */
	uint32_t trials;           /* per failure fraction; 0 = 20 */
	uint32_t same_row_permille;/* volume locality; default (when
				      use_default_locality) 1000 */
	int use_default_locality;
	uint32_t jury_sizes[4];    /* cell sizes to compare; {5, 9} when all 0 */
	int tor_failures;          /* 0: aggs fail (Figure 11); 1: ToRs fail
				      instead (each cuts off its rack) */
	uint64_t seed;
};
#define TOPO_AVAIL_POINTS 9        /* 10%, 20%, .. 90% */
struct topo_avail_result {
	int tor_failures;                            /* as in the params */
	uint32_t n_sizes;
	uint32_t jury_sizes[4];
	double fraction[TOPO_AVAIL_POINTS];          /* 0.1 .. 0.9 */
	double db[TOPO_AVAIL_POINTS];                /* % volumes available */
	double physalia[4][TOPO_AVAIL_POINTS];       /* per cell size */
	double load[TOPO_AVAIL_POINTS];              /* % of volumes that must call
							their configuration store
							(Figure 12): the client
							reaches primary or replica
							but those two are split */
};
/* Runs the simulation. Deterministic for a seed. Returns 0, TOPO_EINVAL,
 * TOPO_ENOMEM, TOPO_ECONSTRAINT. */
int topo_avail_sim(const struct topo_avail_params *p, struct topo_avail_result *r);
/* Prints r as a table beside the paper's Figure 11 readings
 * (PHYSALIA.md section 7). */
void topo_avail_print(const struct topo_avail_result *r, FILE *f);

/* ---- fabric -----------------------------------------------------------------
 *
 * Namespace names: "ph-" RUN "-" NAME, NAME a host, rack (its ToR), row (its
 * spine) or "core" (only with more than one row). RUN is [A-Za-z0-9]{1,15}.
 * Interfaces: in a host, "eth0" (to its ToR); in a ToR, "h<slot>" per host
 * and "up" (to the spine); in a spine, "r<rack index>" per rack and "up" (to
 * the core); in the core, "s<row index>". Addresses (range R, default
 * 198.18.0.0/15): rack i owns the /24 R + i*256; host in slot s is
 * .(2s+1)/31 with its ToR at .(2s); the ToR uplink is .255/31 with the spine
 * at .254; row k's spine-core link is .(2k+1)/31 (core .(2k)) in the last /24
 * of R. Every host-to-host packet crosses at least its ToR.
 */

/* A one-line account of the last fabric failure in the calling thread (the
 * step, the object and the kernel's or libnl's reason); "" when none. The
 * string is thread-local, valid until the next fabric call in the thread. */
const char *topo_fabric_error(void);

/* Makes the namespace name for (run, name) into buf (TOPO_NSNAME_MAX).
 * Returns 0, TOPO_EINVAL (bad run or name). */
int topo_ns_name(char *buf, size_t len, const char *run, const char *name);

/* Checks a run prefix: 0 or TOPO_EINVAL. */
int topo_run_valid(const char *run);

struct topo_fabric_stats {
	uint32_t namespaces, links, addresses, routes;
	double seconds;            /* wall time of topo_fabric_up */
};

/* Brings the fabric for model m up under run prefix `run`. Everything lives
 * in namespaces it creates; the root namespace is never changed (beyond the
 * /run/netns mount point iproute2 also makes). Fails with TOPO_EEXIST if any
 * namespace of that run exists. On any failure it removes everything it made
 * (and nothing else) before returning. st may be NULL.
 * Returns 0, TOPO_EINVAL, TOPO_ENOMEM, TOPO_EEXIST, TOPO_EPERM, TOPO_ENETNS,
 * TOPO_ENETLINK, TOPO_EIO. */
int topo_fabric_up(const struct topo_model *m, const char *run,
		   struct topo_fabric_stats *st);

/* Tears down every namespace of run (run NULL = every physalia run: all
 * "ph-*-*" names under /run/netns): kills (SIGKILL) every process inside one
 * and waits for them (bounded), unmounts and removes the bind mount. Links,
 * addresses, routes and netfilter rules go with their namespaces.
 * Idempotent: nothing there is success. *removed (may be NULL) gets the
 * number of namespaces removed.
 * Returns 0, TOPO_EINVAL, TOPO_ENOMEM, TOPO_ENETNS, TOPO_ETIMEDOUT, TOPO_EPERM. */
int topo_fabric_down(const char *run, uint32_t *removed);

/* One namespace of a fabric, as found on the machine. */
struct topo_ns_status {
	char name[TOPO_NSNAME_MAX];
	char run[TOPO_RUN_MAX];
	char entity[TOPO_NAME_MAX];  /* host, rack, row or "core" */
	uint32_t processes;          /* processes whose netns it is */
	uint32_t links, links_up;    /* excluding lo */
	uint32_t addresses;          /* IPv4, excluding lo */
};
/* Lists the namespaces of run (NULL = all runs), sorted by name. *out is
 * allocated, caller frees. Returns 0, TOPO_EINVAL, TOPO_ENOMEM, TOPO_ENETNS. */
int topo_fabric_status(const char *run, struct topo_ns_status **out, size_t *n);

/* Opens the namespace (run, name) read-only; *fd for setns(2), caller
 * closes it. Returns 0, TOPO_EINVAL, TOPO_ENOTFOUND, TOPO_ENETNS. */
int topo_ns_open(const char *run, const char *name, int *fd);

/* Moves the calling thread into namespace (run, name); *saved gets an fd of
 * the previous namespace for topo_ns_leave, which restores and closes it.
 * Returns 0, TOPO_EINVAL, TOPO_ENOTFOUND, TOPO_ENETNS. */
int topo_ns_enter(const char *run, const char *name, int *saved);
int topo_ns_leave(int saved);

/* Starts argv (argv[0] searched in PATH) inside host/router namespace
 * (run, name), like `ip netns exec`: the child joins the namespace, gets a
 * private mount namespace with /sys remounted for it, and execs. Standard
 * streams are inherited. *pid gets the child (caller waits for it). Returns
 * 0, TOPO_EINVAL, TOPO_ENOTFOUND, TOPO_ECHILD (the exec itself failed;
 * the child has been reaped). */
int topo_fabric_spawn(const char *run, const char *name, char *const argv[],
		      pid_t *pid);

/* ---- command line ------------------------------------------------------
 * Entry points physalia-chaos dispatches to; argv[0] is the subcommand.
 * They print to stdout, errors to stderr, and return an exit status
 * (0 ok, 1 failure, 2 usage).
 *
 *   place [RACKMODEL] [--jury N] [--cells N] [--seed S] [--swaps N] [--sim]
 *         [--same-row PERMILLE]   (volume locality for --sim; default 1000)
 *   up [RACKMODEL] [--run PREFIX]
 *   down [--run PREFIX | --all]
 *   status [--run PREFIX | --all]
 *   exec [--run PREFIX] HOST -- cmd [args...]   (exit status of cmd)
 *
 * The run prefix defaults to $PHYSALIA_RUN, else "main".
 */
int topo_cli_place(int argc, char **argv);
int topo_cli_fabric(int argc, char **argv);

#endif /* PH_TOPOLOGY_H */
