/* reports/rundb.c: the run database (docs/run-database.md).
 *
 * One SQLite file per run, WAL mode. Frequent rows (ops, packets, metrics)
 * are batched into one open transaction, committed every REP_DB_BATCH_ROWS
 * rows or REP_DB_BATCH_NS, on rep_db_flush and on close; rare rows that say
 * what happened (run, hosts, juries, faults, node events, checks, artifacts)
 * commit at once. SQLite's WAL makes every commit atomic: a writer killed at
 * any moment leaves a valid database holding every committed batch. */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "internal.h"

/* Schema version 1 (docs/run-database.md), one SQL script. */
static const char schema_v1[] =
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE run (id INTEGER PRIMARY KEY CHECK (id = 1), campaign TEXT, seed INTEGER, "
	"version TEXT, start_unix_ns INTEGER, mono_origin_ns INTEGER, end_unix_ns INTEGER, "
	"verdict TEXT, op_timeout_ns INTEGER, notes TEXT);"
	"CREATE TABLE hosts (name TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN "
	"('node', 'client', 'router')), node_id INTEGER, datacenter TEXT, row_name TEXT, "
	"rack TEXT, power_domain TEXT, address TEXT);"
	"CREATE TABLE cells (cell TEXT PRIMARY KEY, first_ns INTEGER NOT NULL);"
	"CREATE TABLE juries (cell TEXT NOT NULL REFERENCES cells(cell), from_ns INTEGER NOT NULL, "
	"node_id INTEGER NOT NULL, PRIMARY KEY (cell, from_ns, node_id));"
	"CREATE TABLE ops (id INTEGER PRIMARY KEY, process INTEGER NOT NULL, invoke_ns INTEGER "
	"NOT NULL, client TEXT, f TEXT NOT NULL, outcome TEXT NOT NULL CHECK (outcome IN ('ok', "
	"'fail', 'info', 'pending')), complete_ns INTEGER, cell TEXT, key TEXT, "
	"edn_invoke TEXT NOT NULL, edn_complete TEXT, UNIQUE (process, invoke_ns));"
	"CREATE INDEX ops_by_time ON ops (invoke_ns);"
	"CREATE TABLE faults (id INTEGER PRIMARY KEY, nemesis TEXT NOT NULL, params TEXT, "
	"targets TEXT, start_ns INTEGER NOT NULL, end_ns INTEGER);"
	"CREATE TABLE packets (t_ns INTEGER NOT NULL, bucket_ns INTEGER NOT NULL, src TEXT, "
	"dst TEXT, proto TEXT, decision TEXT NOT NULL CHECK (decision IN ('deliver', 'drop', "
	"'delay', 'duplicate', 'corrupt', 'queue-drop')), delay_ns INTEGER, count INTEGER NOT "
	"NULL, bytes INTEGER NOT NULL);"
	"CREATE INDEX packets_by_time ON packets (t_ns);"
	"CREATE TABLE node_events (t_ns INTEGER NOT NULL, node TEXT NOT NULL, kind TEXT NOT NULL "
	"CHECK (kind IN ('start', 'stop', 'crash', 'restart', 'pause', 'resume', "
	"'fsync-failure', 'other')), detail TEXT);"
	"CREATE TABLE metrics (t_ns INTEGER NOT NULL, source TEXT NOT NULL, name TEXT NOT NULL, "
	"value REAL NOT NULL);"
	"CREATE INDEX metrics_by_name ON metrics (name, t_ns);"
	"CREATE TABLE checks (id INTEGER PRIMARY KEY, checker TEXT NOT NULL, verdict TEXT NOT "
	"NULL, operations INTEGER, parts INTEGER, seconds REAL, bytes INTEGER, result_json TEXT "
	"NOT NULL);"
	"CREATE TABLE artifacts (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, path TEXT NOT NULL, "
	"bytes INTEGER);";

enum stmt_id {
	ST_OP,
	ST_PACKET,
	ST_METRIC,
	ST_COUNT,
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_OP] = ("INSERT INTO ops (process, invoke_ns, client, f, outcome, complete_ns, cell, "
		  "key, edn_invoke, edn_complete) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
		  "ON CONFLICT (process, invoke_ns) DO UPDATE SET client = ?3, f = ?4, "
		  "outcome = ?5, complete_ns = ?6, cell = ?7, key = ?8, edn_invoke = ?9, "
		  "edn_complete = ?10"),
	[ST_PACKET] = ("INSERT INTO packets (t_ns, bucket_ns, src, dst, proto, decision, "
		       "delay_ns, count, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
	[ST_METRIC] = "INSERT INTO metrics (t_ns, source, name, value) VALUES (?, ?, ?, ?)",
};

struct rep_db {
	sqlite3 *db;
	bool readonly;
	sqlite3_stmt *st[ST_COUNT];
	bool in_batch;
	unsigned batch_rows;
	int64_t batch_start;
	char errmsg[256];
	struct rep_buf scratch;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int db_err(struct rep_db *d)
{
	snprintf(d->errmsg, sizeof d->errmsg, "%s", sqlite3_errmsg(d->db));
	return REP_EDB;
}

static int exec(struct rep_db *d, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(d->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(d->errmsg, sizeof d->errmsg, "%s", msg ? msg : "error");
		sqlite3_free(msg);
		return REP_EDB;
	}
	return 0;
}

const char *rep_db_errmsg(const struct rep_db *db)
{
	return db->errmsg;
}

static int db_setup(struct rep_db *d)
{
	sqlite3_busy_timeout(d->db, 5000);
	if (!d->readonly) {
		/* WAL: commits are atomic appends; NORMAL: a process kill loses
		 * nothing committed (an OS crash may lose the last batches, never
		 * the database). */
		int rc = exec(d, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
				 "PRAGMA foreign_keys=ON");
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int prepare_all(struct rep_db *d)
{
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v2(d->db, stmt_sql[i], -1, &d->st[i], NULL) != SQLITE_OK)
			return db_err(d);
	return 0;
}

static void db_free(struct rep_db *d)
{
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(d->st[i]);
	sqlite3_close(d->db);
	rep__buf_free(&d->scratch);
	free(d);
}

int rep_db_create(const char *path, struct rep_db **out)
{
	struct stat st;
	if (stat(path, &st) == 0)
		return REP_EIO;
	struct rep_db *d = calloc(1, sizeof *d);
	if (d == NULL)
		return REP_ENOMEM;
	int rc = REP_EDB;
	if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK)
		goto err_after_alloc;
	if ((rc = db_setup(d)) != 0 || (rc = exec(d, "BEGIN")) != 0)
		goto err_after_alloc;
	if ((rc = exec(d, schema_v1)) != 0)
		goto err_after_alloc;
	char sql[160];
	snprintf(sql, sizeof sql,
		 "INSERT INTO meta VALUES ('schema_version', '%d'), ('created_by', "
		 "'physalia reports')",
		 REP_DB_SCHEMA_VERSION);
	if ((rc = exec(d, sql)) != 0 || (rc = exec(d, "COMMIT")) != 0)
		goto err_after_alloc;
	if ((rc = prepare_all(d)) != 0)
		goto err_after_alloc;
	*out = d;
	return 0;
err_after_alloc:
	db_free(d);
	return rc;
}

int rep_db_open(const char *path, bool readonly, struct rep_db **out)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return REP_ENOTFOUND;
	struct rep_db *d = calloc(1, sizeof *d);
	if (d == NULL)
		return REP_ENOMEM;
	d->readonly = readonly;
	int rc = REP_EDB;
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if (sqlite3_open_v2(path, &d->db, flags, NULL) != SQLITE_OK)
		goto err_after_alloc;
	if ((rc = db_setup(d)) != 0)
		goto err_after_alloc;
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(d->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1,
			       &s, NULL) != SQLITE_OK) {
		rc = REP_EDB;
		goto err_after_alloc;
	}
	rc = REP_EDB;
	if (sqlite3_step(s) == SQLITE_ROW) {
		int v = sqlite3_column_int(s, 0);
		rc = v > REP_DB_SCHEMA_VERSION || v < 1 ? REP_EVERSION : 0;
	}
	sqlite3_finalize(s);
	if (rc != 0)
		goto err_after_alloc;
	if (!readonly && (rc = prepare_all(d)) != 0)
		goto err_after_alloc;
	*out = d;
	return 0;
err_after_alloc:
	db_free(d);
	return rc;
}

int rep_db_flush(struct rep_db *d)
{
	if (!d->in_batch)
		return 0;
	d->in_batch = false;
	d->batch_rows = 0;
	return exec(d, "COMMIT");
}

int rep_db_close(struct rep_db *d)
{
	if (d == NULL)
		return 0;
	int rc = rep_db_flush(d);
	db_free(d);
	return rc;
}

/* Opens the batch if needed, before a batched row. */
static int batch_begin(struct rep_db *d)
{
	if (d->readonly)
		return REP_EINVAL;
	if (d->in_batch)
		return 0;
	int rc = exec(d, "BEGIN");
	if (rc == 0) {
		d->in_batch = true;
		d->batch_rows = 0;
		d->batch_start = mono_ns();
	}
	return rc;
}

/* After a batched row: commit when the batch is full or old. */
static int batch_row(struct rep_db *d)
{
	d->batch_rows++;
	if (d->batch_rows >= REP_DB_BATCH_ROWS || mono_ns() - d->batch_start >= REP_DB_BATCH_NS)
		return rep_db_flush(d);
	return 0;
}

/* Runs one statement at once, in its own commit (after the open batch). */
static int exec_now(struct rep_db *d, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_err(d);
	sqlite3_finalize(s);
	if (rc == 0)
		rc = rep_db_flush(d);
	return rc;
}

static int prep(struct rep_db *d, const char *sql, sqlite3_stmt **s)
{
	if (d->readonly)
		return REP_EINVAL;
	if (sqlite3_prepare_v2(d->db, sql, -1, s, NULL) != SQLITE_OK)
		return db_err(d);
	return 0;
}

static void bind_text(sqlite3_stmt *s, int i, const char *t)
{
	if (t == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, t, -1, SQLITE_TRANSIENT);
}

int rep_db_run_begin(struct rep_db *d, const struct rep_run_info *run)
{
	sqlite3_stmt *s;
	int rc = prep(d, "INSERT INTO run (id, campaign, seed, version, start_unix_ns, "
			 "mono_origin_ns, op_timeout_ns, notes) VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
		      &s);
	if (rc != 0)
		return rc;
	bind_text(s, 1, run->campaign);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)run->seed);
	bind_text(s, 3, run->version);
	sqlite3_bind_int64(s, 4, run->start_unix_ns);
	sqlite3_bind_int64(s, 5, run->mono_origin_ns);
	sqlite3_bind_int64(s, 6, run->op_timeout_ns);
	bind_text(s, 7, run->notes);
	return exec_now(d, s);
}

int rep_db_run_end(struct rep_db *d, int64_t end_unix_ns, const char *verdict)
{
	sqlite3_stmt *s;
	int rc = prep(d, "UPDATE run SET end_unix_ns = ?, verdict = ? WHERE id = 1", &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, end_unix_ns);
	bind_text(s, 2, verdict);
	rc = exec_now(d, s);
	if (rc == 0 && sqlite3_changes(d->db) == 0)
		rc = REP_ENOTFOUND;
	return rc;
}

int rep_db_add_host(struct rep_db *d, const struct rep_host *h)
{
	static const char *const kinds[] = {"node", "client", "router"};
	if (h->name == NULL || (unsigned)h->kind > REP_HOST_ROUTER)
		return REP_EINVAL;
	sqlite3_stmt *s;
	int rc = prep(d, "INSERT OR REPLACE INTO hosts VALUES (?, ?, ?, ?, ?, ?, ?, ?)", &s);
	if (rc != 0)
		return rc;
	bind_text(s, 1, h->name);
	bind_text(s, 2, kinds[h->kind]);
	if (h->node_id)
		sqlite3_bind_int64(s, 3, h->node_id);
	bind_text(s, 4, h->datacenter);
	bind_text(s, 5, h->row);
	bind_text(s, 6, h->rack);
	bind_text(s, 7, h->power_domain);
	bind_text(s, 8, h->address);
	return exec_now(d, s);
}

/* Text form of a value for the cell / key columns: EDN. */
static const char *value_text(struct rep_db *d, const struct rep_value *v)
{
	if (v->kind == REP_V_NIL)
		return NULL;
	d->scratch.len = 0;
	if (rep__value_edn(&d->scratch, v) != 0)
		return NULL;
	return (const char *)d->scratch.p;
}

int rep_db_add_jury(struct rep_db *d, const struct rep_value *cell, int64_t from_ns,
		    const uint32_t *nodes, size_t nnodes)
{
	if (cell == NULL || cell->kind == REP_V_NIL || (nnodes && nodes == NULL))
		return REP_EINVAL;
	int rc = batch_begin(d);
	if (rc != 0)
		return rc;
	sqlite3_stmt *s;
	if ((rc = prep(d, "INSERT INTO cells VALUES (?, ?) ON CONFLICT (cell) DO UPDATE SET "
			  "first_ns = min(first_ns, excluded.first_ns)",
		       &s)) != 0)
		return rc;
	bind_text(s, 1, value_text(d, cell));
	sqlite3_bind_int64(s, 2, from_ns);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_err(d);
	sqlite3_finalize(s);
	if (rc != 0)
		return rc;
	if ((rc = prep(d, "INSERT OR IGNORE INTO juries VALUES (?, ?, ?)", &s)) != 0)
		return rc;
	for (size_t i = 0; i < nnodes && rc == 0; i++) {
		sqlite3_reset(s);
		bind_text(s, 1, value_text(d, cell));
		sqlite3_bind_int64(s, 2, from_ns);
		sqlite3_bind_int64(s, 3, nodes[i]);
		rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_err(d);
	}
	sqlite3_finalize(s);
	return rc == 0 ? rep_db_flush(d) : rc;
}

int rep_db_add_op(struct rep_db *d, const struct rep_op *op)
{
	if ((unsigned)op->fn > REP_FN_TXN || (unsigned)op->outcome > REP_OUT_PENDING ||
	    (op->fn == REP_FN_TXN && op->txn == NULL))
		return REP_EINVAL;
	int rc = batch_begin(d);
	if (rc != 0)
		return rc;
	sqlite3_stmt *s = d->st[ST_OP];
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	sqlite3_bind_int64(s, 1, op->process);
	sqlite3_bind_int64(s, 2, op->invoke_ns);
	bind_text(s, 3, op->client);
	bind_text(s, 4, rep_fn_name(op->fn));
	bind_text(s, 5, rep_outcome_name(op->outcome));
	if (op->outcome != REP_OUT_PENDING)
		sqlite3_bind_int64(s, 6, op->complete_ns);
	const char *t = value_text(d, &op->cell);
	bind_text(s, 7, t);
	t = value_text(d, &op->key);
	bind_text(s, 8, t);
	d->scratch.len = 0;
	if (rep__edn_event(&d->scratch, op, false) != 0)
		return REP_ENOMEM;
	sqlite3_bind_text(s, 9, (const char *)d->scratch.p, (int)d->scratch.len - 1,
			  SQLITE_TRANSIENT);
	if (op->outcome != REP_OUT_PENDING) {
		d->scratch.len = 0;
		if (rep__edn_event(&d->scratch, op, true) != 0)
			return REP_ENOMEM;
		sqlite3_bind_text(s, 10, (const char *)d->scratch.p, (int)d->scratch.len - 1,
				  SQLITE_TRANSIENT);
	}
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_err(d);
	return batch_row(d);
}

int rep_db_add_history(struct rep_db *d, const struct rep_history *h)
{
	for (size_t i = 0; i < h->n; i++) {
		int rc = rep_db_add_op(d, &h->ops[i]);
		if (rc != 0)
			return rc;
	}
	return rep_db_flush(d);
}

int rep_db_fault_start(struct rep_db *d, const struct rep_fault *f, int64_t *id)
{
	if (f->nemesis == NULL)
		return REP_EINVAL;
	sqlite3_stmt *s;
	int rc = prep(d, "INSERT INTO faults (nemesis, params, targets, start_ns, end_ns) "
			 "VALUES (?, ?, ?, ?, ?)",
		      &s);
	if (rc != 0)
		return rc;
	bind_text(s, 1, f->nemesis);
	bind_text(s, 2, f->params);
	bind_text(s, 3, f->targets);
	sqlite3_bind_int64(s, 4, f->start_ns);
	if (f->end_ns >= 0)
		sqlite3_bind_int64(s, 5, f->end_ns);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_err(d);
	sqlite3_finalize(s);
	if (rc != 0)
		return rc;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(d->db);
	return rep_db_flush(d);
}

int rep_db_fault_stop(struct rep_db *d, int64_t id, int64_t end_ns)
{
	sqlite3_stmt *s;
	int rc = prep(d, "UPDATE faults SET end_ns = ? WHERE id = ?", &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, end_ns);
	sqlite3_bind_int64(s, 2, id);
	rc = exec_now(d, s);
	if (rc == 0 && sqlite3_changes(d->db) == 0)
		rc = REP_ENOTFOUND;
	return rc;
}

int rep_db_add_packet(struct rep_db *d, const struct rep_packet *p)
{
	static const char *const dec[] = {"deliver", "drop", "delay", "duplicate", "corrupt",
					  "queue-drop"};
	if ((unsigned)p->decision > REP_PKT_QUEUE_DROP)
		return REP_EINVAL;
	int rc = batch_begin(d);
	if (rc != 0)
		return rc;
	sqlite3_stmt *s = d->st[ST_PACKET];
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, p->t_ns);
	sqlite3_bind_int64(s, 2, p->bucket_ns);
	bind_text(s, 3, p->src);
	bind_text(s, 4, p->dst);
	bind_text(s, 5, p->proto);
	bind_text(s, 6, dec[p->decision]);
	sqlite3_bind_int64(s, 7, p->delay_ns);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)(p->count ? p->count : 1));
	sqlite3_bind_int64(s, 9, (sqlite3_int64)p->bytes);
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_err(d);
	return batch_row(d);
}

int rep_db_add_node_event(struct rep_db *d, const struct rep_node_event *e)
{
	static const char *const kinds[] = {"start", "stop",  "crash",	       "restart",
					    "pause", "resume", "fsync-failure", "other"};
	if (e->node == NULL || (unsigned)e->kind > REP_NODE_OTHER)
		return REP_EINVAL;
	sqlite3_stmt *s;
	int rc = prep(d, "INSERT INTO node_events VALUES (?, ?, ?, ?)", &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, e->t_ns);
	bind_text(s, 2, e->node);
	bind_text(s, 3, kinds[e->kind]);
	bind_text(s, 4, e->detail);
	return exec_now(d, s);
}

int rep_db_add_metric(struct rep_db *d, int64_t t_ns, const char *source, const char *name,
		      double value)
{
	if (source == NULL || name == NULL)
		return REP_EINVAL;
	int rc = batch_begin(d);
	if (rc != 0)
		return rc;
	sqlite3_stmt *s = d->st[ST_METRIC];
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, t_ns);
	bind_text(s, 2, source);
	bind_text(s, 3, name);
	sqlite3_bind_double(s, 4, value);
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_err(d);
	return batch_row(d);
}

int rep_db_add_check(struct rep_db *d, const char *checker, const struct rep_history *h,
		     const struct rep_check_result *r)
{
	struct rep_buf b = {0};
	if (rep__check_json(&b, h, r) != 0) {
		rep__buf_free(&b);
		return REP_ENOMEM;
	}
	sqlite3_stmt *s;
	int rc = prep(d, "INSERT INTO checks (checker, verdict, operations, parts, seconds, "
			 "bytes, result_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
		      &s);
	if (rc != 0) {
		rep__buf_free(&b);
		return rc;
	}
	bind_text(s, 1, checker ? checker : "linearizability");
	bind_text(s, 2, rep_verdict_name(r->verdict));
	sqlite3_bind_int64(s, 3, (sqlite3_int64)r->nops);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)r->nparts);
	sqlite3_bind_double(s, 5, r->seconds);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)r->bytes);
	sqlite3_bind_text(s, 7, (const char *)b.p, (int)b.len, SQLITE_TRANSIENT);
	rep__buf_free(&b);
	return exec_now(d, s);
}

int rep_db_add_artifact(struct rep_db *d, const char *kind, const char *path, int64_t bytes)
{
	if (kind == NULL || path == NULL)
		return REP_EINVAL;
	sqlite3_stmt *s;
	int rc = prep(d, "INSERT INTO artifacts (kind, path, bytes) VALUES (?, ?, ?)", &s);
	if (rc != 0)
		return rc;
	bind_text(s, 1, kind);
	bind_text(s, 2, path);
	sqlite3_bind_int64(s, 3, bytes);
	return exec_now(d, s);
}

/* ---------------------------------------------------------------- readers */

sqlite3 *rep__db_handle(struct rep_db *d)
{
	return d->db;
}

struct ev_line {
	int64_t t, invoke;
	int cls;
	int completion;
	int64_t rowid;
	const char *text; /* into texts */
	size_t off, len;
};

static int evl_cmp(const void *a, const void *b)
{
	const struct ev_line *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->cls != y->cls)
		return x->cls - y->cls;
	if (x->invoke != y->invoke) /* ops in invoke order, then row order */
		return x->invoke < y->invoke ? -1 : 1;
	if (x->rowid != y->rowid)
		return x->rowid < y->rowid ? -1 : 1;
	return x->completion - y->completion;
}

int rep_db_load_history(struct rep_db *d, struct rep_history *out, struct rep_error *err)
{
	/* Rebuild the EDN event stream in time order and import it: the one
	 * parser validates what the database holds. */
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(d->db, "SELECT id, invoke_ns, complete_ns, edn_invoke, "
				      "edn_complete FROM ops",
			       -1, &s, NULL) != SQLITE_OK)
		return db_err(d);
	struct rep_buf texts = {0};
	struct ev_line *ev = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	int step;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		for (int c = 0; c < 2; c++) {
			const unsigned char *t = sqlite3_column_text(s, 3 + c);
			if (t == NULL)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 1024;
				struct ev_line *m = realloc(ev, cap * sizeof *m);
				if (m == NULL) {
					rc = REP_ENOMEM;
					goto out_free;
				}
				ev = m;
			}
			size_t len = (size_t)sqlite3_column_bytes(s, 3 + c);
			ev[n] = (struct ev_line){
				.t = sqlite3_column_int64(s, 1 + c),
				.invoke = sqlite3_column_int64(s, 1),
				.completion = c,
				.cls = rep__event_class(sqlite3_column_int64(s, 1),
							sqlite3_column_int64(s, 1 + c), c),
				.rowid = sqlite3_column_int64(s, 0),
				.off = texts.len,
				.len = len,
			};
			if (memchr(t, '\n', len) != NULL) {
				if (err != NULL) {
					snprintf(err->file, sizeof err->file, "ops");
					err->line = (unsigned)ev[n].rowid;
					err->column = 0;
					snprintf(err->msg, sizeof err->msg,
						 "table ops, row %lld: an event spans lines",
						 (long long)ev[n].rowid);
				}
				rc = REP_EPARSE;
				goto out_free;
			}
			if ((rc = rep__buf_put(&texts, t, len)) != 0)
				goto out_free;
			n++;
		}
	}
	if (step != SQLITE_DONE) {
		rc = db_err(d);
		goto out_free;
	}
	if (n > 1) /* no events leaves ev NULL: qsort(NULL) is UB */
		qsort(ev, n, sizeof *ev, evl_cmp);
	struct rep_buf all = {0};
	for (size_t i = 0; i < n; i++) {
		if (rep__buf_put(&all, texts.p + ev[i].off, ev[i].len) != 0 ||
		    rep__buf_put(&all, "\n", 1) != 0) {
			rep__buf_free(&all);
			rc = REP_ENOMEM;
			goto out_free;
		}
	}
	if (n == 0) {
		rep_history_free(out);
		rep_history_init(out);
		rc = 0;
	} else {
		struct rep_error e2;
		rc = rep_import_buffer((const char *)all.p, all.len, REP_FMT_EDN, "ops", out, &e2);
		if (rc != 0 && err != NULL) {
			long long row = e2.line >= 1 && e2.line <= n ? ev[e2.line - 1].rowid : -1;
			snprintf(err->file, sizeof err->file, "ops");
			err->line = (unsigned)(row > 0 ? row : 0);
			err->column = e2.column;
			snprintf(err->msg, sizeof err->msg, "table ops, row %lld (%s event): %.180s",
				 row, e2.line >= 1 && e2.line <= n && ev[e2.line - 1].completion
					      ? "completion"
					      : "invoke",
				 e2.msg);
		}
	}
	rep__buf_free(&all);
out_free:
	sqlite3_finalize(s);
	rep__buf_free(&texts);
	free(ev);
	return rc;
}

int rep_db_load_faults(struct rep_db *d, struct rep_fault **out, size_t *nout)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(d->db, "SELECT id, nemesis, params, targets, start_ns, "
				      "coalesce(end_ns, -1) FROM faults ORDER BY start_ns, id",
			       -1, &s, NULL) != SQLITE_OK)
		return db_err(d);
	struct rep_fault *f = NULL;
	size_t n = 0, cap = 0;
	int step, rc = 0;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct rep_fault *m = realloc(f, cap * sizeof *m);
			if (m == NULL) {
				rc = REP_ENOMEM;
				break;
			}
			f = m;
		}
		struct rep_fault *x = &f[n];
		memset(x, 0, sizeof *x);
		x->id = sqlite3_column_int64(s, 0);
		const char *cols[3];
		for (int c = 0; c < 3; c++) {
			const unsigned char *t = sqlite3_column_text(s, 1 + c);
			cols[c] = t ? strdup((const char *)t) : NULL;
			if (t != NULL && cols[c] == NULL)
				rc = REP_ENOMEM;
		}
		x->nemesis = cols[0];
		x->params = cols[1];
		x->targets = cols[2];
		x->start_ns = sqlite3_column_int64(s, 4);
		x->end_ns = sqlite3_column_int64(s, 5);
		n++;
		if (rc != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = db_err(d);
	sqlite3_finalize(s);
	if (rc != 0) {
		rep_faults_free(f, n);
		return rc;
	}
	*out = f;
	*nout = n;
	return 0;
}

void rep_faults_free(struct rep_fault *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)f[i].nemesis);
		free((char *)f[i].params);
		free((char *)f[i].targets);
	}
	free(f);
}
