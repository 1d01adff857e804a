/* physalia-chaos: the campaign runner (public API of the chaos/ module).
 *
 * A campaign is a workload plus a fault schedule run against a colony of
 * real physalia-node processes inside a fabric of network namespaces. This
 * header is what main.c, the tests and the fuzz targets use:
 *
 *  - errors: 0 or a negative CHAOS_E* code, chaos_strerror() names it;
 *  - campaigns: parsed from YAML (chaos_campaign_parse_*), generated from a
 *    seed (chaos_campaign_generate) and written back (chaos_campaign_write);
 *  - the impairment policy: the pure per-packet decision (chaos_decide);
 *  - the impairment engine: NFQUEUE hold-and-release in one namespace
 *    (chaos_impair_*), recording every decision per link per second;
 *  - partitions: netfilter DROP rules on the forward or receive path
 *    (chaos_nf_*), never on a sender's OUTPUT;
 *  - the host backend: how campaign logic reaches hosts (chaos_backend).
 *
 * Who owns memory is said per function; nothing here keeps global state.
 */
#ifndef PHYSALIA_CHAOS_H
#define PHYSALIA_CHAOS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* ---------------------------------------------------------------- errors */

enum {
	CHAOS_OK = 0,
	CHAOS_ENOMEM = -1,     /* out of memory */
	CHAOS_EINVAL = -2,     /* bad argument */
	CHAOS_ESYNTAX = -3,    /* a campaign file is malformed (message names file:line:column) */
	CHAOS_ESYS = -4,       /* a system call failed (message carries errno's text) */
	CHAOS_ENETLINK = -5,   /* a netlink request failed */
	CHAOS_EPERM = -6,      /* not permitted here (namespaces, netfilter need root) */
	CHAOS_ENOTBUILT = -7,  /* the module this needs is not built into this binary */
	CHAOS_EBEHIND = -8,    /* the impairment engine fell behind: the kernel dropped queued packets */
	CHAOS_ENOTFOUND = -9,  /* a named host, rack, cell or file does not exist */
	CHAOS_ETOOL = -10,     /* an external tool (iptables, tc, fiu-ctrl) failed */
	CHAOS_ELIMIT = -11,    /* a configured limit was exceeded */
	CHAOS_ENOTARGET = -12, /* a fault's target does not exist right now (a cell with no
	                          distinguished proposer): the fault is skipped, recorded */
};

/* The message for a CHAOS_E* code; never NULL, static storage. */
const char *chaos_strerror(int code);

/* ------------------------------------------------------------- campaigns */

/* What a fault does. Network nemeses act on packets between the target and
 * the rest (or, for one-way and bridge, between named sides); process
 * nemeses act on physalia-node processes on the target's hosts. */
enum chaos_nemesis {
	CHAOS_NEM_PARTITION = 1, /* target cut off from everyone else, both ways */
	CHAOS_NEM_PARTITION_ONEWAY, /* packets *to* the target dropped, not from */
	CHAOS_NEM_HALVES,        /* node hosts split in two halves */
	CHAOS_NEM_MAJORITY,      /* a random minority cut off from the majority */
	CHAOS_NEM_BRIDGE,        /* two halves that both see one middle host */
	CHAOS_NEM_LOSS,          /* drop with probability (and bursts) */
	CHAOS_NEM_DELAY,         /* delay with jitter */
	CHAOS_NEM_REORDER,       /* hold some packets so later ones overtake */
	CHAOS_NEM_DUPLICATE,     /* deliver some packets twice */
	CHAOS_NEM_CORRUPT,       /* flip a payload byte (checksums fixed: HMAC sees it) */
	CHAOS_NEM_BANDWIDTH,     /* rate limit (tbf) toward the target */
	CHAOS_NEM_KILL,          /* kill -9, restart at the end of the window */
	CHAOS_NEM_PAUSE,         /* SIGSTOP, SIGCONT at the end of the window */
	CHAOS_NEM_ROLLING_RESTART, /* kill -9 and restart each target in turn */
	CHAOS_NEM_DISK,          /* libfiu: fail or slow fsync/write on the node */
	CHAOS_NEM_CLOCK,         /* libfaketime offset/rate, applied at restart */
	CHAOS_NEM_ROLLBACK,      /* kill -9, restart on an older build, back at the end */
	CHAOS_NEM__COUNT
};

/* Name as written in campaign files ("partition", "loss", ...), or NULL. */
const char *chaos_nemesis_name(enum chaos_nemesis n);
/* The nemesis of that name, or 0 when unknown. */
enum chaos_nemesis chaos_nemesis_parse(const char *name);

/* Whom a fault hits, named by the rack model. */
enum chaos_target_kind {
	CHAOS_TGT_HOST = 1,      /* name: a host */
	CHAOS_TGT_RACK,          /* name: a rack (its uplink) */
	CHAOS_TGT_POWER,         /* name: a power domain */
	CHAOS_TGT_ROW,           /* name: a row */
	CHAOS_TGT_PROPOSER,      /* cell: the distinguished proposer of cell K */
	CHAOS_TGT_RANDOM_MINORITY, /* a random minority of node hosts (seeded) */
	CHAOS_TGT_CLIENTS_OF_RACK, /* name: the client hosts of rack R */
	CHAOS_TGT_ALL_NODES,     /* every node host */
	CHAOS_TGT__COUNT
};

#define CHAOS_NAME_MAX 64
#define CHAOS_PATH_MAX 512

struct chaos_target {
	enum chaos_target_kind kind;
	char name[CHAOS_NAME_MAX]; /* host/rack/power/row name, or "" */
	uint32_t cell;             /* for CHAOS_TGT_PROPOSER */
};

/* Packet-fault parameters; a zero field means "no such impairment". */
struct chaos_link_policy {
	double loss;          /* probability a packet is dropped, 0..1 */
	uint32_t loss_burst;  /* when a loss happens, drop this many in a row (>= 1) */
	uint32_t delay_us;    /* added one-way delay */
	uint32_t jitter_us;   /* uniform +- jitter around delay_us */
	double reorder;       /* probability a packet is held back by reorder_gap_us */
	uint32_t reorder_gap_us;
	double duplicate;     /* probability a packet is delivered twice */
	double corrupt;       /* probability one payload byte is flipped */
};

struct chaos_fault {
	double at_s;          /* start, seconds after the workload started */
	double for_s;         /* duration; the fault is healed at at_s + for_s */
	enum chaos_nemesis nemesis;
	struct chaos_target target;
	struct chaos_link_policy link; /* loss/delay/reorder/duplicate/corrupt */
	uint32_t rate_kbit;   /* bandwidth */
	char disk[CHAOS_NAME_MAX]; /* disk: "fsync-fail", "write-fail", "open-fail" */
	double clock_offset_s; /* clock: offset */
	double clock_rate;     /* clock: rate (1.0 = normal; 0 = unset) */
	char build[CHAOS_PATH_MAX]; /* rollback: the older physalia-node to run */
	int line, column;     /* where the fault was written (0 when generated) */
};

enum chaos_key_dist { CHAOS_KEYS_UNIFORM = 1, CHAOS_KEYS_ZIPF };

/* Operation mix weights (relative; the sum must be > 0). */
struct chaos_op_mix {
	uint32_t read, put, cas, increment, compound;
};

struct chaos_workload {
	uint32_t clients_per_host; /* client processes per client host */
	struct chaos_op_mix mix;
	double rate;               /* ops/s per client; 0 = closed loop */
	uint32_t keys;             /* keys per cell */
	enum chaos_key_dist dist;
	double zipf_s;             /* skew for zipf */
	uint32_t timeout_ms;       /* per operation */
};

struct chaos_campaign {
	char name[CHAOS_NAME_MAX];
	char rack_model[CHAOS_PATH_MAX]; /* file, or "" for the built-in default */
	uint64_t seed;        /* drives every random choice of the run */
	uint32_t jury_size;   /* 3..9 */
	uint32_t cells;       /* cells created */
	char placement[CHAOS_NAME_MAX]; /* "auto" (topology's placement) or "random" */
	double duration_s;    /* workload time; faults must end within it */
	double check_budget_s; /* checker time budget per cell */
	uint32_t pcap_max_mb; /* per host */
	struct chaos_workload workload;
	struct chaos_fault *faults; /* owned */
	size_t nfaults;
};

/* Fills a campaign with the defaults (what `run --default` uses before its
 * schedule is generated). No allocation. */
void chaos_campaign_defaults(struct chaos_campaign *c);

/* Parses a campaign from YAML text. name is used in messages ("file.yaml").
 * On success *out is a new campaign (free with chaos_campaign_free).
 * On failure *out is untouched and err holds "name:line:column: what".
 * Returns 0, CHAOS_ESYNTAX, CHAOS_ENOMEM. */
int chaos_campaign_parse(const char *name, const char *text, size_t len,
			 struct chaos_campaign **out, char *err, size_t errlen);

/* Reads and parses a campaign file. Also CHAOS_ESYS when it cannot be read. */
int chaos_campaign_load(const char *path, struct chaos_campaign **out,
			char *err, size_t errlen);

/* A campaign generated from seed: the same for the same seed and version.
 * nodes is the number of node hosts the schedule may name (host names are
 * chosen by the runner later through targets, so this only bounds counts).
 * Returns 0 or CHAOS_ENOMEM. */
int chaos_campaign_generate(uint64_t seed, double duration_s,
			    struct chaos_campaign **out);

/* Writes c as campaign YAML that chaos_campaign_parse reads back equal.
 * Returns 0 or CHAOS_ESYS. */
int chaos_campaign_write(const struct chaos_campaign *c, FILE *f);

/* Checks the semantic rules (jury 3..9, faults within duration, ...).
 * Returns 0 or CHAOS_EINVAL with err set. */
int chaos_campaign_validate(const struct chaos_campaign *c, char *err, size_t errlen);

void chaos_campaign_free(struct chaos_campaign *c);

/* ------------------------------------------------- the impairment policy */

enum chaos_verdict {
	CHAOS_V_DELIVER = 0,
	CHAOS_V_DROP,
	CHAOS_V_DELAY,     /* delivered after delay_us */
	CHAOS_V_REORDER,   /* held back by the reorder gap (delay_us says how long) */
	CHAOS_V_DUPLICATE, /* delivered, and a copy too */
	CHAOS_V_CORRUPT,   /* delivered with one payload byte flipped */
	CHAOS_V__COUNT
};

const char *chaos_verdict_name(enum chaos_verdict v);

struct chaos_decision {
	enum chaos_verdict verdict;
	uint32_t delay_us;    /* how long the packet is held (all verdicts but DROP) */
	uint32_t corrupt_at;  /* which payload byte, modulo the payload length */
};

/* Per-link state the decision carries between packets (loss bursts). */
struct chaos_link_state {
	uint64_t packets;     /* packets decided on this link so far */
	uint32_t burst_left;  /* drops still owed to a burst */
};

/* Decides the fate of one packet from src to dst (IPv4, host order) under
 * policy p. Pure: the result depends only on (seed, src, dst, the packet's
 * index on the link, p) so that a run replays the same decisions for the same
 * packet sequence. Advances st. */
void chaos_decide(const struct chaos_link_policy *p, uint64_t seed, uint32_t src,
		  uint32_t dst, struct chaos_link_state *st, struct chaos_decision *out);

/* -------------------------------------------------- the impairment engine */

/* One record: exact counts for a (second, src, dst) link. */
struct chaos_link_count {
	uint64_t second;      /* seconds since the engine started */
	uint32_t src, dst;    /* IPv4, host order */
	uint64_t count[CHAOS_V__COUNT];
	uint64_t delay_us_sum; /* total hold time of delivered packets */
};

struct chaos_impair_stats {
	uint64_t packets;     /* packets the engine saw */
	uint64_t verdicts;    /* verdicts it sent (duplicates count once) */
	uint64_t held_max;    /* most packets held at once */
	uint64_t queue_dropped; /* kernel: queue full (from /proc/net/netfilter/nfnetlink_queue) */
	uint64_t user_dropped;  /* kernel: netlink buffer overrun */
	uint64_t dup_sent;    /* copies injected */
	uint64_t errors;      /* malformed packets passed through untouched */
};

struct chaos_impair;

/* Opens an engine on NFQUEUE queue_num in the calling thread's network
 * namespace: binds the queue (copy-packet mode, auto-ack off, no fail-open),
 * sets the queue length. Packets are delivered only by the engine's verdict:
 * when the engine stops or falls behind, the kernel drops them (fail-closed).
 * records: where per-second link counts are appended as text lines
 * ("second src dst deliver drop delay reorder duplicate corrupt delay_us_sum"),
 * may be NULL. Returns 0, CHAOS_ENOMEM, CHAOS_ENETLINK, CHAOS_EPERM. */
int chaos_impair_open(uint16_t queue_num, uint64_t seed, FILE *records,
		      struct chaos_impair **out);

/* Sets the policy for packets from any address in src/srclen to any in
 * dst/dstlen (prefixes, host order; len 0 = any). Later rules win over
 * earlier ones for the same packet. Returns 0, CHAOS_ENOMEM, CHAOS_ELIMIT. */
int chaos_impair_set(struct chaos_impair *im, uint32_t src, int srclen,
		     uint32_t dst, int dstlen, const struct chaos_link_policy *p);

/* Removes every policy (all packets delivered untouched). */
void chaos_impair_clear(struct chaos_impair *im);

/* The engine's descriptor (readable when packets wait) and the time in
 * milliseconds until its next held packet is due (-1 = none). */
int chaos_impair_fd(const struct chaos_impair *im);
int chaos_impair_timeout_ms(const struct chaos_impair *im);

/* Reads every ready packet and releases every due one. Non-blocking.
 * Returns 0, CHAOS_ENETLINK. */
int chaos_impair_poll(struct chaos_impair *im);

/* Releases everything held now (used on shutdown), flushes records, reads
 * the kernel's drop counters into stats. */
int chaos_impair_drain(struct chaos_impair *im);

/* Copies the engine's counters, with the kernel's drop counters read now. */
void chaos_impair_stats(struct chaos_impair *im, struct chaos_impair_stats *out);

/* Closes the engine (unbinds the queue; held packets are dropped). */
void chaos_impair_close(struct chaos_impair *im);

/* -------------------------------------------------------------- netfilter */

/* Runs iptables (legacy) with argv (argv[0] ignored; NULL-terminated) inside
 * the named network namespace ("" = the caller's). Returns 0 or CHAOS_ETOOL. */
int chaos_nf_iptables(const char *netns, const char *const *argv);

/* Reads the packet counter of the rules in chain `chain` of table filter
 * that carry the comment `tag`, summed. Returns 0 or CHAOS_ETOOL. */
int chaos_nf_count(const char *netns, const char *chain, const char *tag,
		   uint64_t *packets);

/* ---------------------------------------------------------------- the CLI */

/* The physalia-chaos command line (main.c calls this). Returns the exit code:
 * 0 linearizable and valid, 1 violation, 2 invalid run or error. */
int chaos_cli(int argc, char **argv);

#endif
