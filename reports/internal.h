/* reports/internal.h: helpers shared by the files of reports/ (not public). */
#ifndef PH_REPORTS_INTERNAL_H
#define PH_REPORTS_INTERNAL_H

#include "reports.h"

/* A bump allocator: everything a history owns lives in one arena. */
struct rep_arena;
struct rep_arena *rep__arena_new(void);
void rep__arena_free(struct rep_arena *a);
void *rep__arena_alloc(struct rep_arena *a, size_t size);

/* A growable byte buffer. */
struct rep_buf {
	uint8_t *p;
	size_t len, cap;
};
int rep__buf_reserve(struct rep_buf *b, size_t extra);
int rep__buf_put(struct rep_buf *b, const void *p, size_t len);
int rep__buf_printf(struct rep_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void rep__buf_free(struct rep_buf *b);

/* Deep copy of a value / txn into an arena. */
int rep__value_copy(struct rep_arena *a, const struct rep_value *in, struct rep_value *out);
int rep__txn_copy(struct rep_arena *a, const struct rep_txn *in, struct rep_txn **out);

/* EDN text of a value appended to b (strings escaped). */
int rep__value_edn(struct rep_buf *b, const struct rep_value *v);
/* A transaction's ops as an EDN vector, [[r k v] [w k v] ...]; kw is the
 * prefix of each op name ("" for descriptions, ":" for Jepsen keywords);
 * reads carry their values when with_reads. 0 or REP_ENOMEM. */
struct rep_txn;
int rep__txn_ops_edn(struct rep_buf *b, const struct rep_txn *t, const char *kw,
		     bool with_reads);
/* JSON string literal of bytes appended to b. */
int rep__json_str(struct rep_buf *b, const uint8_t *p, size_t len);
/* One op as an EDN-ish line ("p3 cas [1 2] -> ok"), for explanations. */
int rep__op_describe(struct rep_buf *b, const struct rep_op *op);

/* A checker result as one JSON object appended to b. */
int rep__check_json(struct rep_buf *b, const struct rep_history *h,
		    const struct rep_check_result *r);

/* One op's invoke (completion false) or completion event as one EDN line
 * (with newline) appended to b, as rep_export_edn writes it. */
int rep__edn_event(struct rep_buf *b, const struct rep_op *op, bool completion);

/* The SQLite handle of a run database (for the report's queries). */
struct sqlite3;
struct sqlite3 *rep__db_handle(struct rep_db *d);

/* Order of events at one time in an EDN stream: completions of ops invoked
 * earlier (0) first, then (1) invokes and the completions of ops invoked at
 * that very time, by op, each op's invoke before its completion; so a
 * process's completion precedes its next invoke and follows its own. */
int rep__event_class(int64_t invoke_ns, int64_t t, int completion);

/* Monotonic clock in seconds (for budgets and timing). */
double rep__now(void);

/* Model family of a function. */
enum rep_model rep__fn_model(enum rep_fn fn);

#endif
