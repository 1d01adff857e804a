/* engine/internal.h: the engine's internal types, shared by its files only.
 * Nothing here is API; node/ and tests/ use engine.h. */
#ifndef PH_INTERNAL_H
#define PH_INTERNAL_H

#include <string.h>

#include "engine.h"

/* ---- allocation (alloc.c) ---------------------------------------------------
 * Every engine allocation goes through these, with the allocator copied into
 * the owning object. */
void *ph__alloc(const struct ph_allocator *a, size_t n);
void *ph__realloc(const struct ph_allocator *a, void *p, size_t n);
void ph__free(const struct ph_allocator *a, void *p);
void ph__allocator_init(struct ph_allocator *dst, const struct ph_allocator *src);
/* A copy of n bytes (NULL with n 0 is fine: returns NULL, *err untouched). */
void *ph__memdup(const struct ph_allocator *a, const void *p, size_t n, int *err);

/* A growable array: ensure room for `want` elements of size `sz`.
 * PH_ENOMEM leaves *p and *cap unchanged. */
int ph__reserve(const struct ph_allocator *a, void **p, size_t *cap, size_t want, size_t sz);

/* ---- byte codec primitives (codec.c) ---------------------------------------
 * The writer never overflows: beyond cap it only counts, so one pass gives the
 * size needed. Integers big-endian. */
struct ph_wr {
	uint8_t *p;
	size_t cap;
	size_t len;
};
void ph__wr_init(struct ph_wr *w, uint8_t *p, size_t cap);
void ph__wr_u8(struct ph_wr *w, uint8_t v);
void ph__wr_u16(struct ph_wr *w, uint16_t v);
void ph__wr_u32(struct ph_wr *w, uint32_t v);
void ph__wr_u64(struct ph_wr *w, uint64_t v);
void ph__wr_bytes(struct ph_wr *w, const void *p, size_t n);
void ph__wr_ballot(struct ph_wr *w, struct ph_ballot b);
/* 0, or PH_ETOOBIG with w->len the size needed. */
int ph__wr_done(const struct ph_wr *w, size_t *len);

/* The reader has a sticky error: the first failure wins, later reads return
 * zeros. */
struct ph_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err;
};
void ph__rd_init(struct ph_rd *r, const uint8_t *p, size_t len);
uint8_t ph__rd_u8(struct ph_rd *r);
uint16_t ph__rd_u16(struct ph_rd *r);
uint32_t ph__rd_u32(struct ph_rd *r);
uint64_t ph__rd_u64(struct ph_rd *r);
const uint8_t *ph__rd_bytes(struct ph_rd *r, size_t n);
struct ph_ballot ph__rd_ballot(struct ph_rd *r);
void ph__rd_fail(struct ph_rd *r, int err);
/* 0 if no error and every byte consumed; else the error (PH_EMALFORMED for
 * trailing bytes). */
int ph__rd_end(const struct ph_rd *r);
size_t ph__rd_left(const struct ph_rd *r);

/* 64-bit FNV-1a, for state hashes. */
uint64_t ph__hash(uint64_t h, const void *p, size_t n);
uint64_t ph__hash_u64(uint64_t h, uint64_t v);
#define PH_HASH_INIT 0xcbf29ce484222325ull

/* ---- values (value.c) --------------------------------------------------------
 * An owned value. Integers are GMP limbs in our own memory (no GMP
 * allocation anywhere in the engine), with z a read-only mpz view over them
 * (mpz_roinit_n), so struct ph_value views need no copies. */
struct ph_val {
	uint8_t type;    /* enum ph_type */
	uint8_t boolean;
	uint32_t len;    /* BYTES: byte length; INT: limb count */
	void *data;      /* BYTES: bytes; INT: limbs; owned; NULL when len 0 */
	mpz_t z;         /* INT: view over data (re-made by ph__val_fix) */
};

void ph__val_free(const struct ph_allocator *a, struct ph_val *v);
/* Point z at data again (after a struct copy or move, z is still valid since
 * data is on the heap; needed only when data/len/sign change). */
void ph__val_view(const struct ph_val *v, struct ph_value *out);
/* Owned copy of a public value, checking limits: PH_EINVAL, PH_ETOOBIG, PH_ENOMEM. */
int ph__val_from(const struct ph_allocator *a, const struct ph_value *in, struct ph_val *out);
int ph__val_copy(const struct ph_allocator *a, const struct ph_val *in, struct ph_val *out);
/* An integer from a signed limb vector (normalised here). */
int ph__val_set_int(const struct ph_allocator *a, struct ph_val *out, const mp_limb_t *limbs,
		    size_t n, int negative);
bool ph__val_equal(const struct ph_val *a, const struct ph_val *b);
size_t ph__int_mag_bytes(const struct ph_val *v);
/* out = a + b, both integers; PH_ETOOBIG past PH_INT_MAX_BYTES, PH_ENOMEM. */
int ph__int_add(const struct ph_allocator *a, const struct ph_val *x, const struct ph_val *y,
		struct ph_val *out);
/* Codec: type u8, then BYTES u16 len + bytes; INT sign u8, len u8, magnitude
 * big-endian (canonical: no leading zero byte, zero is sign 0 len 0);
 * BOOL u8 0/1. */
void ph__val_encode(struct ph_wr *w, const struct ph_val *v);
size_t ph__val_encoded_size(const struct ph_val *v);
/* Decode into out (owned) when a is non-NULL; validate only when a is NULL. */
int ph__val_decode(struct ph_rd *r, const struct ph_allocator *a, struct ph_val *out);
uint64_t ph__val_hash(uint64_t h, const struct ph_val *v);

/* ---- transactions, results, batches (txn.c) -------------------------------- */
struct ph_item {
	uint8_t kind;   /* enum ph_op_kind or enum ph_cond_kind */
	uint8_t sub;    /* TYPE_IS: enum ph_type; INT_CMP: enum ph_cmp */
	uint8_t klen;
	uint8_t *key;   /* owned */
	struct ph_val v; /* PUT value, INCREMENT delta, EQUALS / INT_CMP operand */
};

struct ph_txn {
	struct ph_allocator a;
	uint16_t level;
	uint8_t n_conds;
	uint8_t n_ops;
	size_t encoded; /* encoded size so far */
	struct ph_item conds[PH_TXN_ITEMS_MAX];
	struct ph_item ops[PH_TXN_ITEMS_MAX];
};

/* The feature level in an encoded transaction's header, without decoding
 * the rest (PH_ETRUNCATED, PH_EVERSION for an unknown codec version). */
int ph__txn_peek_level(const uint8_t *bytes, size_t len, uint16_t *level);

/* A decoded batch entry (view into the batch bytes). */
#define PH_ENTRY_TXN 1
#define PH_ENTRY_JURY 2 /* a jury change: version u8, op u8, out u32, in u32, epoch u32 */
#define PH_JURY_CHANGE_LEN 14
struct ph_bentry {
	uint8_t kind;
	uint64_t client;
	uint64_t seq;
	const uint8_t *txn;
	size_t len;
};
/* Batch: version u8, count u8, entries (kind u8, client u64, seq u64, u16 len,
 * txn bytes). Validates framing and limits. `fn` (may be NULL) sees each entry. */
int ph__batch_walk(const uint8_t *bytes, size_t len,
		   int (*fn)(void *ud, size_t i, const struct ph_bentry *e), void *ud);
int ph__batch_count(const uint8_t *bytes, size_t len, size_t *n);

/* Results: version u8, outcome u8, reason u8, failed u32, token u64, n u8,
 * reads (key u8 len + bytes, present u8, value). */
struct ph_result {
	struct ph_allocator a;
	uint8_t outcome;
	uint8_t reason;
	uint32_t failed;
	uint64_t token;
	uint8_t n_reads;
	struct ph_item reads[PH_TXN_ITEMS_MAX]; /* sub = present */
};
int ph__result_check(const uint8_t *bytes, size_t len);

/* ---- the replica ------------------------------------------------------------ */

/* One log slot known here, for slots base .. base + log_n - 1. */
struct ph_entry {
	struct ph_ballot accepted; /* (0,0) when never accepted here */
	uint8_t *value;            /* batch bytes; owned; NULL = slot unknown */
	uint32_t len;
	uint8_t chosen;            /* value known chosen */
	uint8_t dirty;             /* PH_DIRTY_* records still to emit */
	uint16_t votes;            /* leader: jury members that accepted (bit = jury index) */
};
#define PH_DIRTY_ACCEPT 1
#define PH_DIRTY_CHOSEN 2

struct ph_kv {
	uint8_t *key;
	uint8_t klen;
	struct ph_val v;
};

struct ph_session {
	uint64_t client;
	uint64_t seq;       /* last applied seq */
	ph_slot slot;       /* when last applied (eviction: lowest (slot, index)) */
	uint32_t index;
	uint8_t outcome;
	uint8_t reason;
	uint16_t rlen;
	uint8_t *result;    /* the original answer, owned */
};

/* Phase 1 report: highest-ballot accepted value seen per slot. */
struct ph_p1 {
	ph_slot slot;
	struct ph_ballot ballot;
	uint8_t *value; /* owned */
	uint32_t len;
};

struct ph_pending {
	uint64_t client;
	uint64_t seq;
};

struct ph_jury {
	uint8_t n;
	ph_node_id ids[PH_JURY_MAX];
};

/* A jury era: `jury` votes on slots from `from` on (until the next era). */
#define PH_ERAS_MAX 6
struct ph_era {
	ph_slot from;
	struct ph_jury jury;
};
#define PH_ROSTER_MAX 16 /* c->jury plus one joiner per era: bits of a uint16_t */

/* Output under construction; bytes live in `arena` at offsets until
 * finalisation fixes the pointers (the arena may move while growing). */
struct ph_out {
	struct ph_record *recs;
	size_t n_recs, cap_recs;
	struct ph_message *msgs;
	size_t n_msgs, cap_msgs;
	struct ph_reply *reps;
	size_t n_reps, cap_reps;
	struct ph_transition *trans;
	size_t n_trans, cap_trans;
	uint8_t *arena;
	size_t arena_len, arena_cap;
};

struct ph_cell {
	struct ph_allocator a;
	uint8_t *pkey;
	uint8_t pkey_len;
	uint8_t role;
	uint8_t alpha;
	uint8_t max_batch;
	uint8_t started;       /* stepped: no more load */
	uint8_t loaded;
	uint8_t promise_dirty;
	uint8_t snapshot_dirty;
	uint8_t keep_out;      /* last step failed: keep its outputs queued */
	ph_node_id self;
	uint16_t feature_level;
#ifdef PH_PLANTED_BUGS
	int8_t planted_bug;    /* test builds only (ph_engine_planted) */
	struct ph_jury bug_mine; /* PH_BUG_DEPOSED_VOTES: the last jury self was in */
#endif
	uint64_t rng;
	ph_time now;
	ph_time election_timeout;
	ph_time heartbeat_interval;
	ph_time election_at;   /* follower/candidate: start (another) phase 1 */
	ph_time heartbeat_at;  /* leader: heartbeat + retransmit; candidate: retransmit */
	ph_time catchup_at;    /* earliest next catch-up request */
	struct ph_jury jury;   /* votes on slots below eras[0].from (jury.c) */
	struct ph_era eras[PH_ERAS_MAX]; /* later juries, by increasing from */
	uint8_t eras_n;
	uint8_t jury_window_changes; /* config: several changes in one window */
	uint32_t jury_epoch;   /* changes applied */
	ph_slot jury_from;     /* c->jury votes from this slot (its era's from) */
	ph_node_id joiner;     /* the node the last change added (0: none) */
	ph_slot joiner_from;   /* ... votes from this slot on */
	uint8_t joiner_acked;  /* leader: saw its vote in its jury (volatile) */
	uint8_t skip_learner_wait; /* config */
	uint8_t member_seen;   /* was in the jury of an open slot (volatile) */

	/* acceptor */
	struct ph_ballot promised;
	uint64_t seen_round;   /* highest ballot round seen anywhere */

	/* log */
	ph_slot base;          /* log truncated below; snapshot taken at base */
	ph_slot chosen;        /* every slot below is chosen and known */
	ph_slot applied;       /* every slot below is applied */
	uint32_t apply_index;  /* entries of slot `applied` already applied */
	ph_slot idle_applied;  /* applied at the previous tick */
	uint8_t idle_ticks;    /* ticks without progress (idle truncation) */
	uint8_t quiet;         /* no timer: leader idle, or follower told so */
	uint8_t idle_beats;    /* leader: heartbeats without work */
	ph_slot beat_applied;  /* leader: applied at the previous heartbeat */
	struct ph_entry *log;
	size_t log_n, log_cap;

	/* proposer */
	struct ph_ballot ballot;
	ph_node_id leader_hint;
	uint16_t p1_mask;      /* candidate: jury members that promised */
	ph_slot p1_chosen;     /* candidate: highest chosen prefix among promises */
	ph_node_id p1_ahead;   /* candidate: who has that prefix */
	ph_slot next;          /* leader: next slot to propose */
	ph_slot p1_hi;         /* leader: slots below are recovered from phase 1 */
	struct ph_p1 *p1;
	size_t p1_n, p1_cap;
	uint8_t *batch;        /* leader: open batch being filled (encoded) */
	size_t batch_len, batch_cap;
	uint32_t batch_n;
	struct ph_pending *pend; /* requests this replica will answer */
	size_t pend_n, pend_cap;

	/* state machine */
	struct ph_kv *kv;
	size_t kv_n, kv_cap;
	size_t data_bytes;
	struct ph_session *ses;
	size_t ses_n, ses_cap;

	/* durability and output */
	uint64_t persist_id;
	uint64_t durable_id;
	uint64_t dropped;
	struct ph_out out;
};

/* Output builders (cell.c). Each is all-or-nothing: PH_ENOMEM adds nothing. */
int ph__out_msg(struct ph_cell *c, ph_node_id to, const struct ph_msg *m);
/* m to every jury member but self (one encoded copy). */
int ph__out_broadcast(struct ph_cell *c, const struct ph_msg *m);
/* A record of `size` bytes (an upper bound) written by fill. */
int ph__out_record(struct ph_cell *c, int kind, ph_slot slot, size_t size,
		   void (*fill)(struct ph_wr *w, const void *ud), const void *ud);
int ph__out_reply(struct ph_cell *c, const struct ph_reply *r);
int ph__out_transition(struct ph_cell *c, const struct ph_transition *t);

/* Random (splitmix64 over the seeded state). */
uint64_t ph__rand(struct ph_cell *c);
/* Has this build a planted bug active? Only defined in ph_engine_planted:
 * every use sits inside #ifdef PH_PLANTED_BUGS. */
#ifdef PH_PLANTED_BUGS
#define PH_BUG(c, b) ((c)->planted_bug == (b))
#endif

/* ---- the log (cell.c) -------------------------------------------------------- */
/* The entry for slot s (NULL when below base or beyond the log). */
struct ph_entry *ph__log_get(struct ph_cell *c, ph_slot s);
/* The entry for slot s >= base, growing the log as needed. PH_ENOMEM. */
int ph__log_at(struct ph_cell *c, ph_slot s, struct ph_entry **out);
/* Store value at entry (copy); PH_ENOMEM leaves the entry unchanged. */
int ph__entry_set(struct ph_cell *c, struct ph_entry *e, const uint8_t *v, size_t len);
/* Advance `chosen` over known-chosen entries, then apply what is chosen. */
int ph__advance(struct ph_cell *c);
/* Drop log entries below s (s <= applied) and mark a snapshot to write. */
void ph__truncate(struct ph_cell *c, ph_slot s);

/* ---- state machine (kv.c) ---------------------------------------------------- */
/* Apply one logged transaction (atomic; PH_ENOMEM changes nothing), emitting
 * its transition and, when pending here, its reply. */
int ph__apply_entry(struct ph_cell *c, ph_slot slot, uint32_t index, const struct ph_bentry *e);
/* Answer an eventually consistent read from the applied state. */
int ph__eventual_read(struct ph_cell *c, const struct ph_txn *t, uint64_t client, uint64_t seq);
struct ph_session *ph__session_find(struct ph_cell *c, uint64_t client);
struct ph_kv *ph__kv_find(const struct ph_cell *c, const uint8_t *key, size_t klen, size_t *pos);
void ph__kv_clear(struct ph_cell *c);
void ph__sessions_clear(struct ph_cell *c);
/* Snapshot codec over the cell's state machine. */
int ph__snapshot_encode(const struct ph_cell *c, struct ph_wr *w);
/* Replace the state machine by the snapshot's (atomic). a NULL c: check only. */
int ph__snapshot_decode(struct ph_cell *c, const uint8_t *bytes, size_t len, ph_slot *slot);
/* An encoded result for the reply to a request answered without the log. */
int ph__reply_simple(struct ph_cell *c, uint64_t client, uint64_t seq, int status, int reason,
		     int error);

/* ---- Paxos roles (paxos.c) --------------------------------------------------- */
int ph__on_message(struct ph_cell *c, ph_node_id from, const struct ph_msg *m);
int ph__on_tick(struct ph_cell *c);
int ph__on_request(struct ph_cell *c, const struct ph_event *ev);
int ph__on_reconfigure(struct ph_cell *c, const struct ph_event *ev);
/* After applying (cell.c): answer pending requests, propose open work. */
int ph__propose(struct ph_cell *c);
void ph__step_down(struct ph_cell *c);
void ph__unquiet(struct ph_cell *c);
ph_time ph__wake(const struct ph_cell *c);
void ph__reset_election(struct ph_cell *c);

/* ---- jury and the alpha window (jury.c) ------------------------------------- */
int ph__jury_index(const struct ph_jury *j, ph_node_id id);
bool ph__jury_member(const struct ph_jury *j, ph_node_id id);
size_t ph__jury_quorum(const struct ph_jury *j);
/* The jury that votes on slot s (PHYSALIA.md 4: a change at i acts at i + alpha). */
const struct ph_jury *ph__jury_for(const struct ph_cell *c, ph_slot s);
/* May the proposer open slot s now? (s < chosen + alpha) */
bool ph__window_open(const struct ph_cell *c, ph_slot s);
/* May an acceptor accept slot s now? (s < its chosen + alpha) */
bool ph__accept_window(const struct ph_cell *c, ph_slot s);
int ph__jury_check(const ph_node_id *ids, size_t n);
/* The newest jury (after every applied change) and the slot it votes from. */
const struct ph_jury *ph__jury_newest(const struct ph_cell *c, ph_slot *from);
/* The roster: c->jury then each era's newcomers, in a stable order (bit i of
 * a vote mask is roster id i). Returns n, fills ids (PH_ROSTER_MAX). */
size_t ph__roster(const struct ph_cell *c, ph_node_id *ids);
uint16_t ph__roster_bit(const struct ph_cell *c, ph_node_id id);
/* Does mask (roster bits) hold a majority of the jury of slot s? */
bool ph__quorum_at(const struct ph_cell *c, ph_slot s, uint16_t mask);
/* How many members of the jury of slot s are in mask? */
size_t ph__votes_at(const struct ph_cell *c, ph_slot s, uint16_t mask);
/* ... of every jury voting on a slot in [from, from + alpha)? */
bool ph__quorum_window(const struct ph_cell *c, ph_slot from, uint16_t mask);
/* Is self in the jury of some slot from `from` on (the window and later)? */
bool ph__member_from(const struct ph_cell *c, ph_slot from);
/* Was a member, and is in no jury of an open slot any more? */
bool ph__deposed(const struct ph_cell *c);
/* May self vote on slot s (member of its jury; planted bug aside)? */
bool ph__may_vote(const struct ph_cell *c, ph_slot s);
/* Validate a logged jury change at slot against the applied history:
 * PH_R_NONE or the PH_R_JURY_* reason it is refused for. */
int ph__jury_check_change(const struct ph_cell *c, ph_slot slot, const uint8_t *bytes, size_t len);
/* Apply a change ph__jury_check_change accepted (cannot fail). */
void ph__jury_commit_change(struct ph_cell *c, ph_slot slot, const uint8_t *bytes, size_t len);
/* Fold eras no slot still needing a jury can see (deterministic: from the
 * applied prefix only), remapping vote masks to the new roster. */
void ph__jury_fold(struct ph_cell *c);
/* Encode a change (PH_JURY_CHANGE_LEN bytes). */
void ph__jury_change_encode(const struct ph_jury_change *ch, uint8_t *buf);

/* ---- records (record.c) ----------------------------------------------------- */
/* Emit the records for everything dirty into the output (cell.c finalise). */
int ph__records_emit(struct ph_cell *c);

/* ---- wire (wire.c) ---------------------------------------------------------- */
size_t ph__msg_size(const struct ph_msg *m);

#endif /* PH_INTERNAL_H */
