/* engine/engine.h: one replica of one physalia cell, as a pure step function.
 *
 * A cell is a small transactional key-value database for one partition key,
 * replicated by multi-decree Paxos with a distinguished proposer over its jury
 * (PHYSALIA.md sections 2-3). This library is pure: no I/O, no clock reads,
 * no global state, no hidden randomness (a seeded generator lives in the
 * replica). It links only libc and GMP.
 *
 * The caller feeds events (time advanced, peer message received, client
 * request, records durable) to ph_cell_step() and carries out the update it
 * returns: persist the records, send the messages, deliver the replies.
 *
 * Durability contract: a message or reply flagged `after_durable` must not
 * leave before every record of updates up to and including update.persist_id
 * is on disk (the caller then reports PH_EV_DURABLE with that id). The engine
 * flags conservatively: whenever any record it produced is not yet known
 * durable, everything it emits is flagged.
 *
 * Errors: every function returning int returns 0 or a negative PH_E* code;
 * ph_strerror() names it. Outputs are untouched on failure. */
#ifndef PH_ENGINE_H
#define PH_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gmp.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- scalars -------------------------------------------------------------- */

typedef uint64_t ph_slot;    /* a position in a cell's log, from 0 */
typedef uint64_t ph_time;    /* ns on the caller's monotonic clock */
typedef uint32_t ph_node_id; /* colony-wide node id; 0 is invalid */

/* A Paxos ballot, compared lexicographically (round, then node). */
struct ph_ballot {
	uint64_t round;
	ph_node_id node;
};

/* <0, 0, >0 as a is lower, equal, higher than b. */
int ph_ballot_cmp(struct ph_ballot a, struct ph_ballot b);

/* ---- errors --------------------------------------------------------------- */

enum {
	PH_OK = 0,
	PH_ENOMEM = -1,      /* an allocation failed; the replica is unchanged */
	PH_EINVAL = -2,      /* bad argument from the caller */
	PH_EMALFORMED = -3,  /* input bytes are inconsistent or have trailing bytes */
	PH_ETRUNCATED = -4,  /* input bytes end early */
	PH_ETOOBIG = -5,     /* a length beyond a documented limit, or buffer too small */
	PH_EVERSION = -6,    /* codec version or feature level this build does not know */
	PH_EBUSY = -7,       /* reserved (a full pipeline answers PH_ST_BUSY) */
	PH_ENOTMEMBER = -8,  /* reserved for reconfiguration: not in the jury */
	PH_EDEPOSED = -9,    /* reserved for reconfiguration: removed from the jury */
	PH_ESTATE = -10,     /* call not allowed in this state (load after step) */
	PH_EUNKNOWN = -11,   /* unknown message type, record kind, op or value type */
	PH_EWRONGCELL = -12, /* reserved: message for another partition key (dropped) */
	PH_ECORRUPT = -13,   /* persisted records contradict each other */
	PH_ENOENT = -14,     /* no such key */
};

/* A static string naming code (never NULL). */
const char *ph_strerror(int code);

/* ---- allocation ------------------------------------------------------------
 * Every allocation of the engine goes through this hook. NULL means libc
 * (malloc, realloc, free). The realloc hook given a NULL block must behave
 * like alloc.
 * Tests sweep "fail the Nth allocation": every public call then returns
 * PH_ENOMEM, leaves its outputs untouched and leaks nothing; a replica stays
 * consistent and usable (see ph_cell_step for what happens to its work).
 * Integer arithmetic runs on limbs in memory from this hook: GMP itself
 * never allocates for the engine. */
struct ph_allocator {
	void *(*alloc)(void *ud, size_t n);
	void *(*realloc)(void *ud, void *p, size_t n);
	void (*free)(void *ud, void *p);
	void *ud;
};

/* ---- limits (identical on every replica: they decide apply outcomes) ------ */

#define PH_PKEY_MAX 64          /* partition key bytes */
#define PH_KEY_MAX 128          /* key bytes (1..128; the empty key is refused) */
#define PH_VALUE_MAX 512        /* bytes of a byte-string value */
#define PH_INT_MAX_BYTES 64     /* magnitude bytes of an integer (512 bits) */
#define PH_TXN_ITEMS_MAX 32     /* conditions + operations in one transaction */
#define PH_TXN_MAX 4096         /* encoded transaction bytes */
#define PH_RESULT_MAX 2048      /* encoded result bytes */
#define PH_CELL_KEYS_MAX 256    /* keys in one cell */
#define PH_CELL_DATA_MAX 24576  /* sum over keys of key bytes + encoded value bytes */
#define PH_DEDUP_MAX 16         /* client sessions remembered per cell */
#define PH_BATCH_MAX 64         /* transactions in one log slot */
#define PH_BATCH_BYTES_MAX 6144 /* encoded bytes of one log slot's value */
#define PH_JURY_MIN 3
#define PH_JURY_MAX 9
#define PH_ALPHA_MAX 8          /* pipeline bound alpha: 1..8, default 3 */
#define PH_MSG_MAX 65000        /* encoded peer message bytes */
#define PH_FEATURE_LEVEL 1      /* highest transaction feature level understood */
#define PH_WIRE_VERSION 1       /* peer message codec version */
#define PH_RECORD_VERSION 1     /* record and snapshot codec version */

/* ---- values ----------------------------------------------------------------
 * A value is a byte string, an arbitrary-precision integer (bounded by
 * PH_INT_MAX_BYTES of magnitude) or a boolean. No floats. struct ph_value is a
 * borrowed view: it points into memory owned by whoever produced it. */
enum ph_type {
	PH_T_BYTES = 1,
	PH_T_INT = 2,
	PH_T_BOOL = 3,
};

struct ph_value {
	enum ph_type type;
	const uint8_t *bytes; /* PH_T_BYTES: len bytes (may be NULL when len 0) */
	size_t len;
	mpz_srcptr integer;   /* PH_T_INT */
	bool boolean;         /* PH_T_BOOL */
};

/* Byte-exact equality (type and content). */
bool ph_value_equal(const struct ph_value *a, const struct ph_value *b);

/* ---- transactions ----------------------------------------------------------
 * A transaction declares up front every condition and every key it reads or
 * writes (PHYSALIA.md 2). At apply time, once every earlier slot is applied
 * (and after the session check, see PH_R_STALE_SEQ):
 *   1. reads are taken from the state before this transaction; if they would
 *      exceed PH_RESULT_MAX the transaction is IGNORED (PH_R_RESULT_TOO_BIG);
 *   2. conditions are evaluated in order; the first false one makes the
 *      transaction IGNORED (reason PH_R_CONDITION, failed_index = its index);
 *   3. writes, each against the state before the transaction; one that
 *      cannot apply (increment of a non-integer, integer overflow past
 *      PH_INT_MAX_BYTES) makes the whole transaction IGNORED with that reason
 *      and failed_index = the op, changing nothing; so does a cell left
 *      beyond its key or data limit (failed_index = number of ops);
 *   4. otherwise COMMITTED. Reads are returned in both cases.
 * Rules checked by the builder and by the decoder (PH_EMALFORMED):
 *   - a key appears in at most one write (put/delete/increment) and at most
 *     one read; a key may be both read and written (compound
 *     read-and-conditional-write); conditions may repeat a key;
 *   - keys are 1..PH_KEY_MAX bytes, values within limits, at most
 *     PH_TXN_ITEMS_MAX conditions + operations, PH_TXN_MAX encoded bytes;
 *   - the empty transaction is valid: it commits and changes nothing.
 * Increment of an absent key creates it with the delta. See docs/engine.md
 * for the full table. */
enum ph_cmp {
	PH_CMP_LT = 1,
	PH_CMP_LE = 2,
	PH_CMP_EQ = 3,
	PH_CMP_NE = 4,
	PH_CMP_GE = 5,
	PH_CMP_GT = 6,
};

enum ph_op_kind {
	PH_OP_READ = 1,
	PH_OP_PUT = 2,
	PH_OP_DELETE = 3,
	PH_OP_INCREMENT = 4,
};

enum ph_cond_kind {
	PH_COND_EXISTS = 1,
	PH_COND_ABSENT = 2,
	PH_COND_EQUALS = 3,   /* present and byte-exact equal */
	PH_COND_TYPE_IS = 4,  /* present and of the type */
	PH_COND_INT_CMP = 5,  /* present, an integer, and (stored CMP operand) */
};

struct ph_txn; /* opaque; owns copies of every key and value given */

/* A new empty transaction at feature level PH_FEATURE_LEVEL.
 * PH_ENOMEM. alloc may be NULL (libc). */
int ph_txn_new(const struct ph_allocator *alloc, struct ph_txn **out);
void ph_txn_free(struct ph_txn *txn);

/* Builders: copy key and value; PH_EINVAL (bad key/value, duplicate write or
 * read of the key, bad enum), PH_ETOOBIG (item count or encoded size),
 * PH_ENOMEM. On failure the transaction is unchanged. */
int ph_txn_read(struct ph_txn *txn, const void *key, size_t klen);
int ph_txn_put(struct ph_txn *txn, const void *key, size_t klen, const struct ph_value *v);
int ph_txn_delete(struct ph_txn *txn, const void *key, size_t klen);
int ph_txn_increment(struct ph_txn *txn, const void *key, size_t klen, mpz_srcptr delta);
int ph_txn_cond_exists(struct ph_txn *txn, const void *key, size_t klen);
int ph_txn_cond_absent(struct ph_txn *txn, const void *key, size_t klen);
int ph_txn_cond_equals(struct ph_txn *txn, const void *key, size_t klen, const struct ph_value *v);
int ph_txn_cond_type_is(struct ph_txn *txn, const void *key, size_t klen, enum ph_type t);
int ph_txn_cond_int_cmp(struct ph_txn *txn, const void *key, size_t klen, enum ph_cmp cmp,
			mpz_srcptr operand);
/* The feature level the transaction needs (1..65535). A replica refuses
 * levels above what it understands. PH_EINVAL on 0. */
int ph_txn_set_feature_level(struct ph_txn *txn, uint16_t level);

/* Inspection of a built or decoded transaction (views borrowed from txn). */
size_t ph_txn_n_ops(const struct ph_txn *txn);
size_t ph_txn_n_conds(const struct ph_txn *txn);
uint16_t ph_txn_feature_level(const struct ph_txn *txn);
bool ph_txn_read_only(const struct ph_txn *txn); /* no put/delete/increment */
/* Op i: kind, key, value (PUT) or delta (INCREMENT, as a PH_T_INT value). */
int ph_txn_op(const struct ph_txn *txn, size_t i, enum ph_op_kind *kind, const uint8_t **key,
	      size_t *klen, struct ph_value *v);
/* Condition i: kind, key, operand value (EQUALS, INT_CMP), type (TYPE_IS),
 * comparison (INT_CMP). */
int ph_txn_cond(const struct ph_txn *txn, size_t i, enum ph_cond_kind *kind, const uint8_t **key,
		size_t *klen, struct ph_value *v, enum ph_type *type, enum ph_cmp *cmp);

/* Encode into buf (cap bytes); *len gets the size used, or the size needed
 * with PH_ETOOBIG when cap is too small. */
int ph_txn_encode(const struct ph_txn *txn, uint8_t *buf, size_t cap, size_t *len);
/* Decode and validate every rule above. PH_ETRUNCATED, PH_EMALFORMED,
 * PH_ETOOBIG, PH_EVERSION (codec version or feature level above
 * PH_FEATURE_LEVEL), PH_EUNKNOWN (op/condition/type code), PH_ENOMEM. */
int ph_txn_decode(const uint8_t *bytes, size_t len, const struct ph_allocator *alloc,
		  struct ph_txn **out);

/* ---- results --------------------------------------------------------------- */

/* Why a transaction was IGNORED (identical on every replica). */
enum ph_reason {
	PH_R_NONE = 0,
	PH_R_CONDITION = 1,       /* condition failed_index was false */
	PH_R_TYPE = 2,            /* increment of a non-integer (failed_index = op) */
	PH_R_CELL_FULL = 3,       /* PH_CELL_KEYS_MAX or PH_CELL_DATA_MAX exceeded */
	PH_R_INT_TOO_BIG = 4,     /* increment result beyond PH_INT_MAX_BYTES (op) */
	PH_R_RESULT_TOO_BIG = 5,  /* reads would exceed PH_RESULT_MAX */
	PH_R_STALE_SEQ = 6,       /* seq below the client's last applied seq */
	PH_R_SESSION_EXPIRED = 7, /* unknown client (evicted) with seq != 1 */
	PH_R_FEATURE = 8,         /* feature level above the cell's level */
	PH_R_MALFORMED = 9,       /* a logged transaction that does not decode */
	/* jury changes (PH_EV_RECONFIGURE; docs/protocol.md) */
	PH_R_JURY_EPOCH = 10,     /* the change expected another jury epoch */
	PH_R_JURY_INVALID = 11,   /* out not a member, in already one, or size out of 3..9 */
	PH_R_JURY_PENDING = 12,   /* an earlier change is still inside its alpha window */
	PH_R_JURY_RETURN = 13,    /* the joining node's earlier term is still open */
	PH_R_JURY_LEARNER = 14,   /* the node the last change added has not caught up
				   * (no vote from it in its jury seen yet): retry later */
};
const char *ph_reason_name(int reason);

enum ph_outcome {
	PH_OUT_COMMITTED = 1,
	PH_OUT_IGNORED = 2,
	PH_OUT_DUPLICATE = 3, /* transition only: a retry answered from the dedup table */
};

struct ph_result; /* opaque, decoded result bytes of a reply */

/* The encoded result: outcome, reason, failed index, token, and for every
 * READ op in order: key, present flag, value. PH_ETRUNCATED, PH_EMALFORMED,
 * PH_EVERSION, PH_EUNKNOWN, PH_ETOOBIG, PH_ENOMEM. */
int ph_result_decode(const uint8_t *bytes, size_t len, const struct ph_allocator *alloc,
		     struct ph_result **out);
void ph_result_free(struct ph_result *r);
int ph_result_outcome(const struct ph_result *r);    /* PH_OUT_COMMITTED or _IGNORED */
int ph_result_reason(const struct ph_result *r);     /* enum ph_reason */
uint32_t ph_result_failed_index(const struct ph_result *r);
uint64_t ph_result_token(const struct ph_result *r); /* applied prefix (slot + 1) */
size_t ph_result_n_reads(const struct ph_result *r);
/* Read i (views borrowed from r); *present false means the key was absent. */
int ph_result_read(const struct ph_result *r, size_t i, const uint8_t **key, size_t *klen,
		   bool *present, struct ph_value *v);

/* ---- a cell replica --------------------------------------------------------- */

enum ph_bug {
	PH_BUG_NONE = 0,
	PH_BUG_ACCEPT_LOWER_BALLOT = 1,     /* acceptor accepts below its promise */
	PH_BUG_REPLY_BEFORE_DURABLE = 2,    /* promises, accepted votes and client replies
					     * leave before their records are durable */
	PH_BUG_CHOOSE_WITHOUT_MAJORITY = 3, /* chosen with one vote short of a majority */
	PH_BUG_FORGET_PROMISE_ON_RESTART = 4, /* load ignores PROMISE records */
	PH_BUG_APPLY_RETRY_TWICE = 5,       /* dedup check skipped at apply */
	PH_BUG_JURY_EFFECT_AT_I = 6,        /* a jury change chosen at i acts from i + 1,
					     * not i + alpha */
	PH_BUG_DEPOSED_VOTES = 7,           /* a deposed replica keeps acting on the last
					     * jury it was in (elections, votes) */
};

struct ph_cell_config {
	const uint8_t *pkey;  /* partition key, 1..PH_PKEY_MAX bytes, copied */
	size_t pkey_len;
	ph_node_id self;      /* this replica's node id (non-zero) */
	ph_node_id jury[PH_JURY_MAX]; /* initial jury, distinct non-zero ids */
	size_t jury_n;        /* PH_JURY_MIN..PH_JURY_MAX, default 7 in the colony */
	uint32_t alpha;       /* pipeline bound, 1..PH_ALPHA_MAX (init: 3) */
	uint64_t seed;        /* the replica's random generator (backoff, timeouts) */
	ph_time election_timeout;   /* base; actual is base + random [0, base) (init: 150 ms) */
	ph_time heartbeat_interval; /* leader heartbeat and retransmission (init: 30 ms) */
	uint32_t max_batch;   /* transactions per slot, 1..PH_BATCH_MAX (init: 16) */
	int planted_bug;      /* enum ph_bug; only ph_engine_planted accepts non-zero */
	bool jury_window_changes; /* allow several jury changes inside one alpha window
				   * (init: false: a change is refused, PH_R_JURY_PENDING,
				   * until the previous one took effect) */
	bool jury_skip_learner_wait; /* do not refuse a change while the node the last
				      * change added is behind (init: false: refuse,
				      * PH_R_JURY_LEARNER; PHYSALIA.md 4: one node at a
				      * time, wait until it has caught up) */
};

/* Fills defaults; the caller then sets pkey, self, jury, seed. */
void ph_cell_config_init(struct ph_cell_config *cfg);

struct ph_cell; /* opaque */

/* A fresh replica (empty log, empty state, follower). The config is copied.
 * PH_EINVAL (config out of range, planted_bug in production build), PH_ENOMEM. */
int ph_cell_new(const struct ph_cell_config *cfg, const struct ph_allocator *alloc,
		struct ph_cell **out);
void ph_cell_free(struct ph_cell *cell);

/* ---- records (what the caller persists) -------------------------------------
 * The store keeps one record per (cell, kind, slot) and upserts: a later
 * record with the same key replaces the earlier. PROMISE and SNAPSHOT use slot
 * 0. TRUNCATE{below} is a command: delete every ACCEPT and CHOSEN record with
 * slot < below (the TRUNCATE record itself may be kept or dropped). */
enum ph_record_kind {
	PH_REC_PROMISE = 1,  /* acceptor's promised ballot */
	PH_REC_ACCEPT = 2,   /* acceptor accepted (ballot, value) at slot */
	PH_REC_CHOSEN = 3,   /* value known chosen at slot */
	PH_REC_SNAPSHOT = 4, /* the whole state up to (excluding) a slot */
	PH_REC_TRUNCATE = 5, /* delete ACCEPT/CHOSEN below slot */
};

struct ph_record {
	int kind;             /* enum ph_record_kind */
	ph_slot slot;
	const uint8_t *bytes; /* versioned encoding, self-describing (kind, slot inside) */
	size_t len;
};

/* Restart from durable state only: call once, before the first step, with
 * every record the store holds for this cell (any order). Records are
 * validated: PH_ETRUNCATED, PH_EMALFORMED, PH_EVERSION, PH_EUNKNOWN,
 * PH_ECORRUPT (record kind/slot disagree with its bytes, or contradictions),
 * PH_ESTATE (already stepped or loaded), PH_ENOMEM. On failure the replica is
 * as fresh as before the call. */
int ph_cell_load(struct ph_cell *cell, const struct ph_record *records, size_t n);

/* ---- the step function ------------------------------------------------------ */

enum ph_event_type {
	PH_EV_TICK = 1,    /* time advanced to now */
	PH_EV_RECEIVE = 2, /* a peer message (undecoded; validated by the engine) */
	PH_EV_REQUEST = 3, /* a client request */
	PH_EV_DURABLE = 4, /* every record of updates up to persist_id is on disk */
	PH_EV_RECONFIGURE = 5, /* a jury change from the control plane (at the leader) */
};

/*
 * Jury changes (PHYSALIA.md 4; docs/protocol.md; model tests/spec/cell.pml).
 * A change is a transition in the cell's log: chosen at slot i, it takes
 * effect at slot i + alpha (slots below are voted on by the jury before it).
 * It names the jury epoch it expects (ph_cell_status.jury_epoch, the number
 * of changes applied so far); at any other epoch it is refused, so a
 * duplicated or retried change never moves the cell twice (ABA). Refusals
 * come back as PH_ST_IGNORED with a PH_R_JURY_* reason. A replica that is
 * not in the jury of any open slot is deposed: it stops voting and leading
 * and answers clients PH_ST_ERROR / PH_EDEPOSED; its status keeps the newest
 * jury as a forwarding pointer.
 */
enum ph_jury_op {
	PH_JURY_REPLACE = 1, /* out leaves, in joins (the common move) */
	PH_JURY_ADD = 2,     /* in joins */
	PH_JURY_REMOVE = 3,  /* out leaves */
};

struct ph_jury_change {
	int op;           /* enum ph_jury_op */
	ph_node_id out;   /* REPLACE, REMOVE */
	ph_node_id in;    /* REPLACE, ADD */
	uint32_t epoch;   /* the jury epoch this change expects */
};

enum ph_consistency {
	PH_CONSISTENT = 0, /* through the log: linearizable */
	PH_EVENTUAL = 1,   /* read-only, from this replica's applied state */
};

struct ph_event {
	int type;    /* enum ph_event_type */
	ph_time now; /* must not go backwards (PH_EINVAL) */
	union {
		struct {
			ph_node_id from;
			const uint8_t *bytes; /* borrowed for the call */
			size_t len;
		} receive;
		struct {
			uint64_t client; /* non-zero */
			uint64_t seq;    /* from 1, per (client, cell), increasing */
			int consistency; /* enum ph_consistency */
			uint64_t token;  /* PH_EVENTUAL: lowest acceptable applied prefix */
			const uint8_t *txn; /* encoded transaction, borrowed for the call */
			size_t len;
		} request;
		struct {
			uint64_t persist_id;
		} durable;
		struct {
			uint64_t client; /* non-zero; one session with PH_EV_REQUEST's */
			uint64_t seq;
			struct ph_jury_change change;
		} reconfigure;
	};
};

struct ph_message {
	ph_node_id to;
	int type;             /* enum ph_msg_type */
	const uint8_t *bytes; /* owned by the cell until the next step */
	size_t len;
	bool after_durable;   /* hold until update.persist_id is durable */
};

enum ph_status {
	PH_ST_COMMITTED = 1,  /* result holds reads; token = applied prefix */
	PH_ST_IGNORED = 2,    /* reason says why; result holds reads */
	PH_ST_BUSY = 3,       /* pipeline full: back off with jitter and retry */
	PH_ST_NOT_LEADER = 4, /* leader_hint names the proposer if known (else 0) */
	PH_ST_BEHIND = 5,     /* PH_EVENTUAL: this replica is below the token */
	PH_ST_ERROR = 6,      /* error = PH_E* (malformed txn, feature level ...) */
};

struct ph_reply {
	uint64_t client;
	uint64_t seq;
	int status;             /* enum ph_status */
	int reason;             /* enum ph_reason (IGNORED) */
	int error;              /* PH_E* (ERROR) */
	ph_node_id leader_hint; /* NOT_LEADER */
	uint64_t token;         /* applied prefix the answer reflects */
	const uint8_t *result;  /* encoded result (ph_result_decode), may be NULL */
	size_t result_len;
	bool after_durable;
};

/* One transition as applied to the state machine, in log order. */
struct ph_transition {
	ph_slot slot;
	uint32_t index; /* within the slot's batch */
	uint64_t client;
	uint64_t seq;
	int outcome; /* enum ph_outcome */
	int reason;  /* enum ph_reason */
};

/* What one step asks of the caller. Everything is owned by the cell and valid
 * until its next ph_cell_step or ph_cell_free. Carry it out in this order:
 * persist records (in order), then send messages and replies, holding those
 * flagged after_durable until persist_id is durable. */
struct ph_update {
	const struct ph_record *records;
	size_t n_records;
	uint64_t persist_id; /* this update's records' id (increasing from 1 after
			      * new or load), or the latest earlier id still not
			      * durable, or 0 when nothing is pending */
	const struct ph_message *messages;
	size_t n_messages;
	const struct ph_reply *replies;
	size_t n_replies;
	const struct ph_transition *transitions;
	size_t n_transitions;
	ph_time wake; /* deliver a PH_EV_TICK at this time; 0 = no timer needed */
};

/* Process one event. PH_EINVAL (bad event, time backwards, durable id never
 * issued), PH_ENOMEM: the event may be partly processed, but nothing is lost
 * and nothing unsafe leaves: the records, messages, replies and transitions
 * produced so far stay queued and come out with the next update that
 * succeeds; durable changes stay marked until their records are emitted.
 * The caller may retry the event or drop it (peer messages and client
 * requests are safe to repeat). A peer message that fails validation is
 * dropped and counted, not an error: the step returns 0. */
int ph_cell_step(struct ph_cell *cell, const struct ph_event *ev, struct ph_update *out);

/* A deep copy of a replica (state, log, timers, generator: everything but
 * the buffers of its last update), for explorers that branch on event
 * orders. The copy uses alloc (NULL: libc) and steps exactly like the
 * original would. PH_ESTATE when src holds queued output of a failed step,
 * PH_ENOMEM. */
int ph_cell_clone(const struct ph_cell *src, const struct ph_allocator *alloc,
		  struct ph_cell **out);

/* Give back memory an idle replica does not need: the buffers of the last
 * update (which must have been carried out: its pointers become invalid) and
 * slack in internal arrays. The node calls it for cells going cold; the
 * next step allocates again as needed. */
void ph_cell_trim(struct ph_cell *cell);

/* ---- introspection for tests, simulators, the node ------------------------- */

enum ph_role {
	PH_ROLE_FOLLOWER = 1,
	PH_ROLE_CANDIDATE = 2, /* running phase 1 */
	PH_ROLE_LEADER = 3,    /* distinguished proposer (phase 1 done) */
};

struct ph_cell_status {
	int role;
	ph_node_id self;
	struct ph_ballot promised;  /* highest ballot promised (acceptor) */
	struct ph_ballot ballot;    /* ballot of the proposer role (if any) */
	ph_node_id leader_hint;     /* believed distinguished proposer, 0 unknown */
	ph_slot chosen;             /* every slot below is chosen and known here */
	ph_slot applied;            /* every slot below is applied (= token) */
	ph_slot snapshot;           /* log truncated below this slot */
	uint32_t in_flight;         /* slots proposed and not yet chosen */
	size_t jury_n;              /* the newest jury (after every applied change) */
	ph_node_id jury[PH_JURY_MAX];
	uint32_t jury_epoch;        /* jury changes applied so far */
	ph_slot jury_from;          /* the newest jury votes from this slot on */
	bool deposed;               /* not in the jury of any open slot: jury is
				     * the forwarding pointer */
	uint64_t persist_id;        /* last persist id issued */
	uint64_t durable_id;        /* last reported durable */
	uint64_t dropped_messages;  /* peer messages refused by validation */
	size_t n_keys;
	size_t data_bytes;
};
void ph_cell_status(const struct ph_cell *cell, struct ph_cell_status *out);

/* What this replica's log holds at slot s (from status.snapshot on): the
 * ballot it accepted there ((0,0) if none), whether the value is known
 * chosen, and the value (a batch; view valid until the next step). PH_ENOENT
 * when the slot is truncated or unknown here. For per-step safety checks:
 * two replicas must never know different values chosen at one slot. */
int ph_cell_log_entry(const struct ph_cell *cell, ph_slot s, struct ph_ballot *accepted,
		      bool *chosen, const uint8_t **value, size_t *len);

/* 64-bit hash of the replica's protocol state (durable state, log, applied
 * state, dedup table, role and proposer progress; not timers), for state
 * de-duplication in explorers. Equal states hash equally on every build. */
uint64_t ph_cell_state_hash(const struct ph_cell *cell);

/* The applied state, in key order: n keys, and key i (views borrowed from the
 * cell, valid until its next step). PH_EINVAL when i >= n. */
size_t ph_cell_n_keys(const struct ph_cell *cell);
int ph_cell_key_at(const struct ph_cell *cell, size_t i, const uint8_t **key, size_t *klen,
		   struct ph_value *v);
/* Lookup: 0 and *v, or PH_ENOENT when absent. */
int ph_cell_get(const struct ph_cell *cell, const void *key, size_t klen, struct ph_value *v);

/* The whole applied state (data, dedup table, jury, feature level) as of
 * status.applied, in the record codec. *len gets the size used, or needed with
 * PH_ETOOBIG. */
int ph_cell_snapshot_encode(const struct ph_cell *cell, uint8_t *buf, size_t cap, size_t *len);
/* Validate snapshot bytes without a cell (for fuzzing and tools):
 * PH_ETRUNCATED, PH_EMALFORMED, PH_EVERSION, PH_EUNKNOWN, PH_ETOOBIG, PH_ENOMEM.
 * *applied (may be NULL) gets the slot the snapshot is taken at. */
int ph_snapshot_check(const uint8_t *bytes, size_t len, const struct ph_allocator *alloc,
		      ph_slot *applied);
/* Validate one record (kind, slot must match its bytes). Same codes, plus
 * PH_ECORRUPT for a kind/slot mismatch. */
int ph_record_check(const struct ph_record *rec, const struct ph_allocator *alloc);

/* ---- the peer wire codec ----------------------------------------------------
 * Layout (docs/engine.md): "PH" magic, version u8, type u8, pkey (u8 length +
 * bytes), then a body fixed by the type; integers big-endian; no trailing
 * bytes. Every field is length-checked; unknown versions, types and extra
 * bytes are refused. */
enum ph_msg_type {
	PH_MSG_PREPARE = 1,   /* phase 1a: ballot, slot = first slot asked about */
	PH_MSG_PROMISE = 2,   /* phase 1b: ballot, chosen, base, entries (accepted) */
	PH_MSG_ACCEPT = 3,    /* phase 2a: ballot, slot, value, chosen (commit point) */
	PH_MSG_ACCEPTED = 4,  /* phase 2b: ballot, slot */
	PH_MSG_REJECT = 5,    /* nack: ballot = the higher promise, slot = sender's chosen */
	PH_MSG_CHOSEN = 6,    /* learn: slot, value */
	PH_MSG_HEARTBEAT = 7, /* leader alive: ballot, chosen, flags (PH_HB_QUIET) */
	PH_MSG_CATCHUP = 8,   /* learner asks for chosen values from slot */
	PH_MSG_SNAPSHOT = 9,  /* whole state at slot (value = snapshot bytes) */
};
#define PH_MSG_TYPE_MAX 9
/* HEARTBEAT flag: the leader is idle and stops heartbeating until there is
 * work; followers disarm their election timers until any other message or a
 * consistent request arrives (such a request at a follower re-arms it, so a
 * dead quiet leader is replaced as soon as a client needs the cell). */
#define PH_HB_QUIET 0x01

/* Decoded message: views borrowed from the bytes decoded. */
struct ph_msg_entry {
	ph_slot slot;
	struct ph_ballot ballot;
	const uint8_t *value;
	size_t len;
};

struct ph_msg {
	int type;
	const uint8_t *pkey;
	size_t pkey_len;
	struct ph_ballot ballot; /* PREPARE PROMISE ACCEPT ACCEPTED REJECT HEARTBEAT */
	ph_slot slot;            /* PREPARE ACCEPT ACCEPTED REJECT CHOSEN CATCHUP SNAPSHOT */
	ph_slot chosen;          /* PROMISE ACCEPT HEARTBEAT: sender's chosen prefix */
	ph_slot base;            /* PROMISE: sender's snapshot slot */
	const uint8_t *value;    /* ACCEPT CHOSEN SNAPSHOT */
	size_t value_len;
	uint8_t flags;           /* HEARTBEAT: PH_HB_QUIET */
	size_t n_entries;        /* PROMISE: 0..PH_ALPHA_MAX */
	struct ph_msg_entry entries[PH_ALPHA_MAX];
};

/* The type of an encoded message after checking magic and version, without
 * decoding the rest; or PH_ETRUNCATED, PH_EMALFORMED, PH_EVERSION, PH_EUNKNOWN. */
int ph_msg_peek_type(const uint8_t *bytes, size_t len);
/* The partition key of an encoded message (view into bytes), for routing. */
int ph_msg_peek_pkey(const uint8_t *bytes, size_t len, const uint8_t **pkey, size_t *pkey_len);
const char *ph_msg_type_name(int type); /* "prepare", ... or "unknown" */
/* Full validation. PH_ETRUNCATED, PH_EMALFORMED, PH_ETOOBIG, PH_EVERSION,
 * PH_EUNKNOWN. out is untouched on failure. */
int ph_msg_decode(const uint8_t *bytes, size_t len, struct ph_msg *out);
/* *len gets the size used, or needed with PH_ETOOBIG; PH_EINVAL for fields
 * out of range. */
int ph_msg_encode(const struct ph_msg *m, uint8_t *buf, size_t cap, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* PH_ENGINE_H */
