/* The node store: SQLite, WAL, synchronous=FULL, one transaction per loop
 * turn. Statements are prepared once. */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

enum {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_PUT_REC, ST_DEL_BELOW, ST_PUT_CELL,
	ST_GET_CELL, ST_DEL_CELL, ST_COUNT_CELLS, ST_PUT_FWD, ST_GET_FWD,
	ST_EACH_REC, ST_N
};

static const char *const sql_text[ST_N] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_PUT_REC] = "INSERT OR REPLACE INTO records(pkey, kind, slot, data) VALUES(?,?,?,?)",
	[ST_DEL_BELOW] = "DELETE FROM records WHERE pkey=? AND kind=? AND slot<?",
	[ST_PUT_CELL] = "INSERT OR REPLACE INTO cells(pkey, conf) VALUES(?,?)",
	[ST_GET_CELL] = "SELECT conf FROM cells WHERE pkey=?",
	[ST_DEL_CELL] = "DELETE FROM cells WHERE pkey=?",
	[ST_COUNT_CELLS] = "SELECT count(*) FROM cells",
	[ST_PUT_FWD] = "INSERT OR REPLACE INTO forwards(pkey, jury) VALUES(?,?)",
	[ST_GET_FWD] = "SELECT jury FROM forwards WHERE pkey=?",
	[ST_EACH_REC] = "SELECT kind, slot, data FROM records WHERE pkey=? ORDER BY kind, slot",
};

struct node_store {
	sqlite3 *db;
	sqlite3_stmt *st[ST_N];
	uint64_t incarnation;
	int in_txn;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS cells(pkey BLOB PRIMARY KEY, conf BLOB NOT NULL)"
	" WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS records(pkey BLOB NOT NULL, kind INTEGER NOT NULL,"
	" slot INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(pkey, kind, slot))"
	" WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS forwards(pkey BLOB PRIMARY KEY, jury BLOB NOT NULL)"
	" WITHOUT ROWID;"
	"INSERT OR IGNORE INTO meta(k, v) VALUES('schema', 1);"
	"INSERT OR IGNORE INTO meta(k, v) VALUES('incarnation', 0);";

static int fail(struct node_store *s, char *err, size_t errlen, const char *what)
{
	if (err != NULL)
		snprintf(err, errlen, "%s: %s", what, s->db ? sqlite3_errmsg(s->db) : "no db");
	return NODE_EIO;
}

int node_store_open(const char *path, const char *vfs, struct node_store **out,
		    char *err, size_t errlen)
{
	struct node_store *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NODE_ENOMEM;
	int rc = sqlite3_open_v2(path, &s->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				 SQLITE_OPEN_NOMUTEX, vfs);
	if (rc != SQLITE_OK) {
		fail(s, err, errlen, "open");
		goto err_after_open;
	}
	sqlite3_extended_result_codes(s->db, 1);
	char *msg = NULL;
	if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(s->db, "PRAGMA synchronous=FULL", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint=4096", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(s->db, schema, NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(s->db, "UPDATE meta SET v=v+1 WHERE k='incarnation'", NULL,
			 NULL, &msg) != SQLITE_OK) {
		if (err != NULL)
			snprintf(err, errlen, "setup: %s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		goto err_after_open;
	}
	/* WAL must really be on: a filesystem refusing it would weaken the
	 * one-fsync-per-turn contract. */
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &q, NULL) != SQLITE_OK) {
		fail(s, err, errlen, "journal_mode");
		goto err_after_open;
	}
	int wal = sqlite3_step(q) == SQLITE_ROW &&
		  strcmp((const char *)sqlite3_column_text(q, 0), "wal") == 0;
	sqlite3_finalize(q);
	if (!wal) {
		if (err != NULL)
			snprintf(err, errlen, "WAL journal mode not available for %s", path);
		goto err_after_open;
	}
	if (sqlite3_prepare_v2(s->db, "SELECT v FROM meta WHERE k='incarnation'", -1, &q,
			       NULL) != SQLITE_OK) {
		fail(s, err, errlen, "incarnation");
		goto err_after_open;
	}
	if (sqlite3_step(q) == SQLITE_ROW)
		s->incarnation = (uint64_t)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	for (int i = 0; i < ST_N; i++) {
		if (sqlite3_prepare_v3(s->db, sql_text[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &s->st[i], NULL) != SQLITE_OK) {
			fail(s, err, errlen, sql_text[i]);
			goto err_after_prepare;
		}
	}
	*out = s;
	return 0;
err_after_prepare:
	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(s->st[i]);
err_after_open:
	sqlite3_close_v2(s->db);
	free(s);
	return NODE_EIO;
}

void node_store_close(struct node_store *s)
{
	if (s == NULL)
		return;
	if (s->in_txn)
		node_store_rollback(s);
	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close_v2(s->db);
	free(s);
}

uint64_t node_store_incarnation(const struct node_store *s)
{
	return s->incarnation;
}

const char *node_store_errmsg(const struct node_store *s)
{
	return sqlite3_errmsg(s->db);
}

/* Run a statement to completion (no rows expected) and reset it. */
static int run(struct node_store *s, int which)
{
	sqlite3_stmt *st = s->st[which];
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : NODE_EIO;
}

int node_store_begin(struct node_store *s)
{
	if (s->in_txn)
		return NODE_EINVAL;
	if (run(s, ST_BEGIN) != 0)
		return NODE_EIO;
	s->in_txn = 1;
	return 0;
}

int node_store_commit(struct node_store *s)
{
	if (!s->in_txn)
		return NODE_EINVAL;
	int rc = run(s, ST_COMMIT);
	if (rc != 0) {
		/* The transaction may or may not be open still; whatever it held
		 * is not known durable. The caller stops the node. */
		if (!sqlite3_get_autocommit(s->db))
			run(s, ST_ROLLBACK);
	}
	s->in_txn = 0;
	return rc;
}

int node_store_rollback(struct node_store *s)
{
	if (!s->in_txn)
		return NODE_EINVAL;
	s->in_txn = 0;
	return run(s, ST_ROLLBACK);
}

int node_store_in_txn(const struct node_store *s)
{
	return s->in_txn;
}

int node_store_put_record(struct node_store *s, const void *pkey, size_t plen,
			  uint32_t kind, uint64_t slot, const void *data, size_t dlen)
{
	if (!s->in_txn)
		return NODE_EINVAL;
	sqlite3_stmt *st = s->st[ST_PUT_REC];
	sqlite3_bind_blob(st, 1, pkey, (int)plen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, kind);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)slot);
	sqlite3_bind_blob(st, 4, dlen ? data : "", (int)dlen, SQLITE_STATIC);
	return run(s, ST_PUT_REC);
}

int node_store_delete_below(struct node_store *s, const void *pkey, size_t plen,
			    uint32_t kind, uint64_t below)
{
	if (!s->in_txn)
		return NODE_EINVAL;
	sqlite3_stmt *st = s->st[ST_DEL_BELOW];
	sqlite3_bind_blob(st, 1, pkey, (int)plen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, kind);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)below);
	return run(s, ST_DEL_BELOW);
}

int node_store_put_cell(struct node_store *s, const void *pkey, size_t plen,
			const void *conf, size_t clen)
{
	if (!s->in_txn)
		return NODE_EINVAL;
	sqlite3_stmt *st = s->st[ST_PUT_CELL];
	sqlite3_bind_blob(st, 1, pkey, (int)plen, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, clen ? conf : "", (int)clen, SQLITE_STATIC);
	return run(s, ST_PUT_CELL);
}

static int get_blob(struct node_store *s, int which, const void *pkey, size_t plen,
		    uint8_t **out, size_t *olen)
{
	sqlite3_stmt *st = s->st[which];
	sqlite3_bind_blob(st, 1, pkey, (int)plen, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int ret;
	if (rc == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		const void *b = sqlite3_column_blob(st, 0);
		uint8_t *copy = malloc(n ? n : 1);
		if (copy == NULL) {
			ret = NODE_ENOMEM;
		} else {
			if (n)
				memcpy(copy, b, n);
			*out = copy;
			*olen = n;
			ret = 1;
		}
	} else {
		ret = rc == SQLITE_DONE ? 0 : NODE_EIO;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

int node_store_get_cell(struct node_store *s, const void *pkey, size_t plen,
			uint8_t **conf, size_t *clen)
{
	return get_blob(s, ST_GET_CELL, pkey, plen, conf, clen);
}

int node_store_delete_cell(struct node_store *s, const void *pkey, size_t plen)
{
	if (!s->in_txn)
		return NODE_EINVAL;
	sqlite3_bind_blob(s->st[ST_DEL_CELL], 1, pkey, (int)plen, SQLITE_STATIC);
	return run(s, ST_DEL_CELL);
}

int64_t node_store_count_cells(struct node_store *s)
{
	sqlite3_stmt *st = s->st[ST_COUNT_CELLS];
	int64_t n = NODE_EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

int node_store_put_forward(struct node_store *s, const void *pkey, size_t plen,
			   const void *jury, size_t jlen)
{
	if (!s->in_txn)
		return NODE_EINVAL;
	sqlite3_stmt *st = s->st[ST_PUT_FWD];
	sqlite3_bind_blob(st, 1, pkey, (int)plen, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, jlen ? jury : "", (int)jlen, SQLITE_STATIC);
	return run(s, ST_PUT_FWD);
}

int node_store_get_forward(struct node_store *s, const void *pkey, size_t plen,
			   uint8_t **jury, size_t *jlen)
{
	return get_blob(s, ST_GET_FWD, pkey, plen, jury, jlen);
}

int node_store_each_record(struct node_store *s, const void *pkey, size_t plen,
			   node_record_fn fn, void *ud)
{
	sqlite3_stmt *st = s->st[ST_EACH_REC];
	sqlite3_bind_blob(st, 1, pkey, (int)plen, SQLITE_STATIC);
	int rc, ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = fn(ud, (uint32_t)sqlite3_column_int64(st, 0),
			 (uint64_t)sqlite3_column_int64(st, 1), sqlite3_column_blob(st, 2),
			 (size_t)sqlite3_column_bytes(st, 2));
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = NODE_EIO;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}
