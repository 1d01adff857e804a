/* reports/reports.h: physalia's history model, linearizability checker, run
 * database and report (the one public header of reports/).
 *
 * Data flow: a workload (chaos/, the simulator) records a history of client
 * operations (struct rep_history), a run database (struct rep_db) collects the
 * history with the topology, fault timeline, packet decisions, node events,
 * metrics and artifacts; rep_check() decides whether the history is
 * linearizable; rep_report_*() turn a run database into HTML, text or JSON.
 *
 * Error contract: every function returning int returns 0 or a negative
 * REP_E* code; rep_strerror() names it. Functions taking a struct rep_error
 * fill it on failure with where (file, line, column) and what was expected.
 * On failure, output parameters are left untouched unless said otherwise.
 *
 * Formats and design: docs/checker.md, docs/run-database.md, docs/report.md.
 */
#ifndef PH_REPORTS_H
#define PH_REPORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- errors */

enum {
	REP_OK = 0,
	REP_ENOMEM = -1,    /* out of memory */
	REP_EINVAL = -2,    /* invalid argument (API misuse) */
	REP_EPARSE = -3,    /* malformed input: see struct rep_error */
	REP_EIO = -4,       /* reading or writing a file failed */
	REP_EDB = -5,       /* SQLite reported an error */
	REP_EVERSION = -6,  /* run database schema version not supported */
	REP_ENOTFOUND = -7, /* no such row / file */
	REP_EMODEL = -8,    /* operation not understood by its model */
	REP_ETHREAD = -9,   /* could not start a worker thread */
	REP_EUSAGE = -10,   /* bad command line */
};

/* A static message for a REP_E* code (never NULL). */
const char *rep_strerror(int code);

/* Where and why input was rejected. file is a copy of the name given. */
struct rep_error {
	char file[256];
	unsigned line;   /* 1-based, 0 if not applicable */
	unsigned column; /* 1-based, 0 if not applicable */
	char msg[256];   /* what was found and what was expected */
};

/* ---------------------------------------------------------------- values */

/* A value in a history. Integers are arbitrary precision, always kept as
 * canonical decimal text ("-12", "0", never "+1" or "007") in bytes/len so
 * the register, kv and cell models compare them byte for byte; build them with
 * rep_value_int() or rep_value_int_text(). */
enum rep_vkind {
	REP_V_NIL = 0, /* nil / absent / unknown */
	REP_V_INT,     /* decimal text in bytes/len */
	REP_V_BYTES,   /* byte string (may hold NUL) */
	REP_V_BOOL,    /* b */
};

struct rep_value {
	enum rep_vkind kind;
	bool b;
	const uint8_t *bytes; /* not owned by the value; see rep_history */
	size_t len;
};

/* ------------------------------------------------------------ histories */

/* Functions. Each belongs to one model family:
 *  register (per key):   READ -> value, WRITE value, CAS from -> to
 *  kv (per key, ../shared/histories/kv): GET -> string, PUT string,
 *                        APPEND string (a missing key reads as "")
 *  cell (physalia):      TXN, a multi-key conditional transaction (below) */
enum rep_fn {
	REP_FN_READ = 0,
	REP_FN_WRITE,
	REP_FN_CAS,
	REP_FN_GET,
	REP_FN_PUT,
	REP_FN_APPEND,
	REP_FN_TXN,
};

/* Completion of an operation (Jepsen's :type of the second event).
 * OK:   took effect exactly once, result is what the client saw.
 * FAIL: certainly did not take effect.
 * INFO: unknown (timeout, crashed node); may take effect at any point after
 *       its invoke, or never. The client carries on under a new process id.
 * PENDING: invoked, not completed yet (the checker treats it as INFO). */
enum rep_outcome {
	REP_OUT_OK = 0,
	REP_OUT_FAIL,
	REP_OUT_INFO,
	REP_OUT_PENDING,
};

/* Cell model transactions: what physalia's engine (engine/engine.h) applies
 * atomically to one cell, at one point: reads are taken from the state before
 * the transaction; conditions are evaluated on that state; if all hold, the
 * writes apply in order and the transaction is "committed"; if one is false,
 * or an increment meets a non-integer, it changes nothing and is not
 * committed (the engine's IGNORED with reason condition or type): a
 * legitimate answer the checker must explain. Reads are returned either way.
 * A transaction that was refused whatever the state (stale seq, expired
 * session, feature level, busy, not leader) did not take effect: record it
 * with outcome FAIL; so, too, IGNORED for a size limit (cell full, integer
 * too big), which this model does not track (docs/checker.md). */
enum rep_cond_kind {
	REP_COND_EXISTS = 0, /* key present */
	REP_COND_ABSENT,     /* key absent */
	REP_COND_EQUALS,     /* key present and value == value (kind and bytes) */
	REP_COND_TYPE_IS,    /* key present and its kind == value.kind */
	REP_COND_INT_LT,     /* key holds an integer and it compares to value */
	REP_COND_INT_LE,
	REP_COND_INT_GE,
	REP_COND_INT_GT,
	REP_COND_INT_EQ,     /* key holds an integer equal to value */
	REP_COND_INT_NE,     /* key holds an integer not equal to value */
};

struct rep_cond {
	enum rep_cond_kind kind;
	struct rep_value key; /* REP_V_BYTES */
	struct rep_value value;
};

enum rep_txop_kind {
	REP_TX_READ = 0, /* result: reads[i] (NIL if absent) */
	REP_TX_PUT,      /* key := value */
	REP_TX_DELETE,   /* key := absent */
	REP_TX_INCR,     /* key := key + value (REP_V_INT); absent counts as 0;
	                    a non-integer value makes the whole transaction
	                    not committed (no effect) */
};

struct rep_txop {
	enum rep_txop_kind kind;
	struct rep_value key; /* REP_V_BYTES */
	struct rep_value value;
};

struct rep_txn {
	const struct rep_cond *conds;
	size_t nconds;
	const struct rep_txop *ops;
	size_t nops;
	/* Result (meaningful when the operation's outcome is OK): */
	bool committed;
	/* One entry per op (entries for non-READ ops are ignored; NIL = absent),
	 * committed or not; NULL when the reads were not recorded (then they are
	 * not checked). */
	const struct rep_value *reads;
};

/* One operation: its invoke and its completion. Timestamps are nanoseconds
 * on one monotonic clock for the whole history; complete_ns is when the
 * completion (ok / fail / info) was recorded (-1 while PENDING).
 *   READ:   result = value read (NIL = never written)
 *   WRITE:  arg = value written
 *   CAS:    arg = expected, arg2 = new value (FAIL = compare did not match)
 *   GET:    result = string read; PUT / APPEND: arg = string
 *   TXN:    txn (the cell model's transaction and its result)
 * key: REP_V_NIL for the single register of a Jepsen etcd history, else the
 * key (register / kv). cell: the partition key of the cell the op went to
 * (REP_V_NIL if the history has no cells). */
struct rep_op {
	int64_t process;
	const char *client; /* client host name, NULL if unknown (availability) */
	enum rep_fn fn;
	enum rep_outcome outcome;
	int64_t invoke_ns;
	int64_t complete_ns;
	struct rep_value cell;
	struct rep_value key;
	struct rep_value arg;
	struct rep_value arg2;
	struct rep_value result;
	const struct rep_txn *txn; /* TXN only */
};

/* A history: operations in invoke order (rep_history_add keeps that order by
 * invoke_ns, ties in insertion order). The history owns a deep copy of every
 * string, value and transaction added to it; pointers inside h->ops stay
 * valid until rep_history_free. */
struct rep_history {
	struct rep_op *ops;
	size_t n;
	/* private */
	size_t cap;
	struct rep_arena *arena;
};

void rep_history_init(struct rep_history *h);
void rep_history_free(struct rep_history *h);

/* Adds a copy of *op (deep: strings, values, txn). On success *index (may be
 * NULL) is the op's index. REP_ENOMEM, REP_EINVAL (bad enum, complete_ns <
 * invoke_ns for a completed op, TXN without txn). */
int rep_history_add(struct rep_history *h, const struct rep_op *op, size_t *index);

/* Recording as it happens: invoke returns the op's index, complete fills its
 * outcome, result (copied; ignored unless OK) and txn result (TXN: committed
 * and reads copied from *txn_result). Ops must be invoked in time order.
 * REP_ENOMEM, REP_EINVAL (unknown index, already completed, time going back). */
int rep_history_invoke(struct rep_history *h, const struct rep_op *op, size_t *index);
int rep_history_complete(struct rep_history *h, size_t index, enum rep_outcome outcome,
			 int64_t complete_ns, const struct rep_value *result,
			 const struct rep_txn *txn_result);

/* Value builders: the returned value points into the history's arena
 * (copied, no reference kept to the input). NULL-safe: a NULL history means
 * the value borrows the input (valid as long as it is). */
struct rep_value rep_value_nil(void);
struct rep_value rep_value_bool(bool b);
/* rep_value_int returns a value whose bytes live in h (or in a buffer per
 * thread when h is NULL: valid until the next call on that thread). When
 * memory runs out these return a REP_V_NIL value (check .kind if it
 * matters). */
struct rep_value rep_value_int(struct rep_history *h, int64_t i);
struct rep_value rep_value_bytes(struct rep_history *h, const void *p, size_t len);
struct rep_value rep_value_str(struct rep_history *h, const char *s);
/* Canonicalises decimal text (optional sign, digits). REP_EPARSE if not an
 * integer, REP_ENOMEM. */
int rep_value_int_text(struct rep_history *h, const char *text, size_t len,
		       struct rep_value *out);
bool rep_value_equal(const struct rep_value *a, const struct rep_value *b);
/* Writes the value as EDN (nil, 12, "text", true) into buf (always NUL
 * terminated, truncated with "..." when too long). Returns buf. */
char *rep_value_format(const struct rep_value *v, char *buf, size_t size);

const char *rep_fn_name(enum rep_fn fn);           /* "read", "cas", ... */
const char *rep_outcome_name(enum rep_outcome o);  /* "ok", "fail", "info", "pending" */

/* -------------------------------------------------- importers / exporter */

/* The two Jepsen text formats of ../shared/histories (docs/checker.md):
 *  LOG: "INFO  jepsen.util - P\t:TYPE\t:F\tVALUE" lines (etcd register)
 *  EDN: one map per line: {:process P, :type :invoke|:ok|:fail|:info,
 *       :f :read|:write|:cas|:get|:put|:append, :key K, :value V, :time NS}
 * Invokes are paired with the next completion of the same process; every
 * line must parse, or the import fails with REP_EPARSE and err naming file,
 * line, column and what was expected (a history is never half-imported: on
 * failure *out is untouched). Events must be in time order; an event
 * without :time gets the next integer after the previous event's time.
 * Also read: :client, :cell, :txn ops, jepsen.independent [key value]
 * tuples (docs/checker.md). On success *out is replaced (its old content
 * freed). name is used in errors only. REP_EPARSE, REP_ENOMEM, REP_EIO. */
enum rep_format { REP_FMT_AUTO = 0, REP_FMT_LOG, REP_FMT_EDN };

int rep_import_buffer(const char *text, size_t len, enum rep_format fmt, const char *name,
		      struct rep_history *out, struct rep_error *err);
int rep_import_file(const char *path, enum rep_format fmt, struct rep_history *out,
		    struct rep_error *err);

/* Writes h as Jepsen EDN, one event map per line (invokes and completions
 * interleaved in time order, with :time). TXN ops are written with
 * :f :txn and :value [[:r k v] [:w k v] [:d k] [:incr k d]] plus :conds.
 * REP_EIO. */
int rep_export_edn(const struct rep_history *h, FILE *out);

/* --------------------------------------------------------------- checker */

enum rep_verdict {
	REP_LINEARIZABLE = 0,
	REP_NOT_LINEARIZABLE,
	REP_UNKNOWN, /* the budget ran out before an answer */
};
const char *rep_verdict_name(enum rep_verdict v); /* "linearizable", "NOT linearizable", "unknown" */

/* Budget for one rep_check call, shared by all its parts. 0 = default:
 * 60 s, 1 GiB of checker memory, threads = online CPUs. */
struct rep_budget {
	double seconds;
	size_t max_bytes;
	unsigned threads;
	bool no_explain; /* skip computing the explanation of a violation */
};

/* Which model checks a part (inferred from its operations' functions). */
enum rep_model {
	REP_MODEL_REGISTER = 0,
	REP_MODEL_KV,
	REP_MODEL_CELL,
};
const char *rep_model_name(enum rep_model m);

/* One independent part (P-compositionality): register and kv split by key,
 * the cell model by cell and then by groups of keys no transaction links. */
struct rep_part_result {
	enum rep_model model;
	char *label;            /* key (EDN), or cell:{keys}; owned */
	enum rep_verdict verdict;
	size_t nops;            /* ops checked (OK + INFO + PENDING) */
	double seconds;
	uint64_t configurations; /* distinct (linearized set, state) visited */
	size_t bytes;           /* peak memory of this part's search */
	const char *unknown_reason; /* static text, NULL unless UNKNOWN */
};

/* For a violation: a minimal explanation in terms of history op indices. */
struct rep_explanation {
	size_t part;              /* index into parts */
	char *label;              /* the key / cell (owned) */
	enum rep_model model;
	/* The op whose completion first makes the history not linearizable. */
	size_t failing_op;
	/* Longest linearizable prefix: every event before the failing op's
	 * completion. prefix_ops counts the ops of this part in it. */
	size_t prefix_ops;
	/* Smallest window of ops (indices, in invoke order) ending at the failing
	 * op that cannot be linearized from any state the model held in the
	 * search (docs/checker.md). */
	size_t *window;
	size_t nwindow;
	/* true: no shorter window was found that fails from every such state,
	 * the window is the whole prefix up to the failure, failing from the
	 * initial state (docs/checker.md) */
	bool window_from_initial;
	/* Model states possible after the longest linearizable prefix, as EDN
	 * text (owned). truncated_states: more existed than were kept. */
	char **states;
	size_t nstates;
	bool truncated_states;
};

struct rep_check_result {
	enum rep_verdict verdict;
	size_t nops;                   /* ops in the history */
	size_t nparts;
	struct rep_part_result *parts; /* owned */
	struct rep_explanation *explanation; /* owned, NULL unless NOT */
	double seconds;
	size_t bytes; /* peak checker memory (sum over parts running at once) */
	char *error;  /* owned, NULL: a part whose ops its model refused */
};

/* Checks h. Each part is checked in a worker thread (budget->threads at a
 * time); the verdict is NOT if any part is NOT, else UNKNOWN if any part ran
 * out of budget, else LINEARIZABLE. Never blocks longer than the budget's
 * time (plus the time to stop a step, microseconds). *out is filled on
 * success; free it with rep_check_result_free. budget may be NULL.
 * REP_ENOMEM, REP_EMODEL (an op its model cannot check, e.g. a TXN without
 * txn: then *out is filled with verdict UNKNOWN and out->error naming the op;
 * free it too). Worker threads that cannot start leave the work to the
 * others (the caller's thread always works). */
int rep_check(const struct rep_history *h, const struct rep_budget *budget,
	      struct rep_check_result *out);
void rep_check_result_free(struct rep_check_result *r);

/* The result as text (verdict first, then parts and the explanation with
 * the ops of the window written out from h) or JSON. REP_EIO, REP_ENOMEM. */
int rep_check_print(const struct rep_history *h, const struct rep_check_result *r, FILE *out);
int rep_check_print_json(const struct rep_history *h, const struct rep_check_result *r,
			 FILE *out);

/* ---------------------------------------------------------- run database */

/* One SQLite database per run, schema in docs/run-database.md (versioned:
 * REP_DB_SCHEMA_VERSION in table meta). Writes are batched: rows go into an
 * open transaction committed every REP_DB_BATCH_ROWS rows, every
 * REP_DB_BATCH_NS of the writer's monotonic clock, on rep_db_flush and on
 * rep_db_close. WAL mode: after a SIGKILL at any moment the file is a valid
 * database holding every batch committed before it. One writer per
 * database; a struct rep_db is not thread-safe. */
#define REP_DB_SCHEMA_VERSION 1
#define REP_DB_BATCH_ROWS 2000
#define REP_DB_BATCH_NS 200000000LL /* 200 ms */

struct rep_db;

/* Creates a new run database at path (REP_EIO if it exists), WAL mode. */
int rep_db_create(const char *path, struct rep_db **out);
/* Opens an existing database, checks its schema version (REP_EVERSION if
 * newer than this build, REP_EDB if not a run database, REP_ENOTFOUND if
 * there is no such file). readonly: every writer returns REP_EINVAL. */
int rep_db_open(const char *path, bool readonly, struct rep_db **out);
/* Commits the open batch (if any). REP_EDB. */
int rep_db_flush(struct rep_db *db);
/* Commits and closes; NULL is a no-op. Returns the flush error, if any (the
 * handle is freed anyway). */
int rep_db_close(struct rep_db *db);
/* The last SQLite error message of db (static for the handle's life). */
const char *rep_db_errmsg(const struct rep_db *db);

/* Wall-clock time is unix nanoseconds; event times (ops, faults, packets,
 * node events, metrics) are on the history's monotonic clock, with
 * run.mono_origin_ns mapping it: wall = start_unix_ns + (t - mono_origin_ns). */
struct rep_run_info {
	const char *campaign;
	uint64_t seed;
	const char *version;     /* physalia version / git describe */
	int64_t start_unix_ns;
	int64_t mono_origin_ns;  /* the monotonic time at start */
	const char *notes;       /* free text, may be NULL */
	int64_t op_timeout_ns;   /* client timeout, for availability */
};
int rep_db_run_begin(struct rep_db *db, const struct rep_run_info *run);
/* verdict: "linearizable", "NOT linearizable", "unknown", or NULL. */
int rep_db_run_end(struct rep_db *db, int64_t end_unix_ns, const char *verdict);

enum rep_host_kind { REP_HOST_NODE = 0, REP_HOST_CLIENT, REP_HOST_ROUTER };
struct rep_host {
	const char *name;
	enum rep_host_kind kind;
	uint32_t node_id; /* 0 unless a node */
	const char *datacenter, *row, *rack, *power_domain;
	const char *address;
};
int rep_db_add_host(struct rep_db *db, const struct rep_host *host);

/* A cell and its jury from a given time (call again when the jury changes). */
int rep_db_add_jury(struct rep_db *db, const struct rep_value *cell, int64_t from_ns,
		    const uint32_t *nodes, size_t nnodes);

/* The history: one row per operation (ops may be added before they complete
 * and added again once complete: rows are keyed by (process, invoke_ns)). */
int rep_db_add_op(struct rep_db *db, const struct rep_op *op);
int rep_db_add_history(struct rep_db *db, const struct rep_history *h);

/* Fault timeline: a nemesis starts (returns its id) and stops. */
struct rep_fault {
	int64_t id;           /* filled by rep_db_fault_start / the reader */
	const char *nemesis;  /* "partition", "loss", "kill", ... */
	const char *params;   /* JSON text, may be NULL */
	const char *targets;  /* who: hosts, links, racks (text), may be NULL */
	int64_t start_ns;
	int64_t end_ns;       /* -1 while active / never stopped */
};
int rep_db_fault_start(struct rep_db *db, const struct rep_fault *f, int64_t *id);
int rep_db_fault_stop(struct rep_db *db, int64_t id, int64_t end_ns);

/* Packet decisions, one per packet or aggregated (count, bytes) per link and
 * time bucket. */
enum rep_packet_decision {
	REP_PKT_DELIVER = 0,
	REP_PKT_DROP,
	REP_PKT_DELAY,
	REP_PKT_DUPLICATE,
	REP_PKT_CORRUPT,
	REP_PKT_QUEUE_DROP, /* the NFQUEUE dropped it (queue full) */
};
struct rep_packet {
	int64_t t_ns;
	int64_t bucket_ns; /* 0 = one packet; else the aggregation period */
	const char *src, *dst;
	const char *proto; /* "udp", "tcp", may be NULL */
	enum rep_packet_decision decision;
	int64_t delay_ns;
	uint64_t count, bytes;
};
int rep_db_add_packet(struct rep_db *db, const struct rep_packet *p);

enum rep_node_event_kind {
	REP_NODE_START = 0,
	REP_NODE_STOP,
	REP_NODE_CRASH,
	REP_NODE_RESTART,
	REP_NODE_PAUSE,
	REP_NODE_RESUME,
	REP_NODE_FSYNC_FAILURE,
	REP_NODE_OTHER,
};
struct rep_node_event {
	int64_t t_ns;
	const char *node;   /* host name */
	enum rep_node_event_kind kind;
	const char *detail; /* may be NULL */
};
int rep_db_add_node_event(struct rep_db *db, const struct rep_node_event *e);

/* Metrics: a named sample from a source (client or node) at a time
 * (latency samples of client ops come from the ops table itself). */
int rep_db_add_metric(struct rep_db *db, int64_t t_ns, const char *source, const char *name,
		      double value);

/* A checker result (with its parts and explanation as JSON). */
int rep_db_add_check(struct rep_db *db, const char *checker, const struct rep_history *h,
		     const struct rep_check_result *r);

/* An artifact of the run: pcap, node log, core... */
int rep_db_add_artifact(struct rep_db *db, const char *kind, const char *path, int64_t bytes);

/* Readers. */
/* Loads the ops table into an empty *out (invoke order). REP_EDB, REP_EPARSE
 * (a row that does not decode: err names the table and rowid). */
int rep_db_load_history(struct rep_db *db, struct rep_history *out, struct rep_error *err);
/* Loads the fault timeline; *out is malloc'd (free with rep_faults_free). */
int rep_db_load_faults(struct rep_db *db, struct rep_fault **out, size_t *n);
void rep_faults_free(struct rep_fault *f, size_t n);

/* ---------------------------------------------------------- availability */

/* For each client and each window (each fault's [start, end) and the
 * fault-free time between them), the share of the client's operations
 * invoked in the window that completed OK within timeout_ns. The paper's
 * P(available | client available), made measurable. */
struct rep_avail {
	char *client;        /* owned */
	int64_t fault_id;    /* 0 = no fault active */
	char *window;        /* "no fault" or the nemesis name (owned) */
	int64_t start_ns, end_ns;
	uint64_t ops, ok_in_time;
	double share;        /* ok_in_time / ops, 1.0 when ops == 0 */
};
int rep_availability(const struct rep_history *h, const struct rep_fault *faults,
		     size_t nfaults, int64_t timeout_ns, struct rep_avail **out, size_t *n);
void rep_avail_free(struct rep_avail *a, size_t n);

/* ---------------------------------------------------------------- report */

/* From a run database: a self-contained HTML page (inline SVG, no fetches),
 * a plain-text summary, or JSON (docs/report.md). If the database holds no
 * check, the history is checked now with the default budget. REP_EDB,
 * REP_EIO, REP_ENOMEM, REP_EPARSE. */
int rep_report_html(struct rep_db *db, FILE *out, struct rep_error *err);
int rep_report_text(struct rep_db *db, FILE *out, struct rep_error *err);
int rep_report_json(struct rep_db *db, FILE *out, struct rep_error *err);

/* Command-line entry points (argv[0] is the subcommand name):
 *   report RUN.db [--json] [-o FILE]  text summary (or JSON) on stdout and
 *                                     the HTML page to FILE (default
 *                                     RUN.html beside RUN.db)
 *   check FILE [--json] [--seconds S] [--threads N]
 *       exit 0 linearizable, 1 NOT linearizable, 2 unknown or error. */
int rep_cli_report(int argc, char **argv);
int rep_cli_check(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
