/* node/store.h (internal): the node's one SQLite database holding every
 * hosted replica's durable state.
 *
 * WAL mode, synchronous=FULL. The daemon opens one transaction per loop turn
 * (node_store_begin), writes every record the cells produced in that turn,
 * and commits (node_store_commit: one fsync for all cells). A failed commit
 * is fatal for the node: the caller stops, it never retries and carries on.
 */
#ifndef NODE_STORE_H
#define NODE_STORE_H

#include <stddef.h>
#include <stdint.h>

struct node_store;

/* Open or create the database at path. vfs: SQLite VFS name, NULL for the
 * default (tests pass a fault-injecting one). Bumps and persists the node's
 * incarnation (boot counter) before returning. Returns 0, NODE_EIO (err
 * names the SQLite error), NODE_ENOMEM. *out untouched on failure. */
int node_store_open(const char *path, const char *vfs, struct node_store **out,
		    char *err, size_t errlen);
void node_store_close(struct node_store *s);

uint64_t node_store_incarnation(const struct node_store *s);
/* The last SQLite error text (for the fatal log line). */
const char *node_store_errmsg(const struct node_store *s);

/* Group commit. begin/commit return 0 or NODE_EIO. Writes between them are
 * in the transaction; with no open transaction each write fails NODE_EINVAL. */
int node_store_begin(struct node_store *s);
int node_store_commit(struct node_store *s);
int node_store_rollback(struct node_store *s);
int node_store_in_txn(const struct node_store *s);

/* Upsert the record (pkey, kind, slot). 0 or NODE_EIO. */
int node_store_put_record(struct node_store *s, const void *pkey, size_t plen,
			  uint32_t kind, uint64_t slot, const void *data, size_t dlen);
/* Delete records of pkey with the given kind and slot < below. */
int node_store_delete_below(struct node_store *s, const void *pkey, size_t plen,
			    uint32_t kind, uint64_t below);

/* Cells hosted here: pkey -> opaque config blob (the node's encoding of
 * the jury and creation parameters). put is an upsert. */
int node_store_put_cell(struct node_store *s, const void *pkey, size_t plen,
			const void *conf, size_t clen);
/* Returns 1 and a malloc'ed copy in *conf (caller frees) if hosted, 0 if not,
 * or NODE_EIO / NODE_ENOMEM. */
int node_store_get_cell(struct node_store *s, const void *pkey, size_t plen,
			uint8_t **conf, size_t *clen);
int node_store_delete_cell(struct node_store *s, const void *pkey, size_t plen);
/* Number of hosted cells, or a negative code. */
int64_t node_store_count_cells(struct node_store *s);

/* Forwarding pointers and discovery entries: pkey -> jury blob. */
int node_store_put_forward(struct node_store *s, const void *pkey, size_t plen,
			   const void *jury, size_t jlen);
int node_store_get_forward(struct node_store *s, const void *pkey, size_t plen,
			   uint8_t **jury, size_t *jlen);

/* Call fn for each record of pkey in (kind, slot) order; fn returning
 * non-zero stops and is returned. Otherwise 0 or NODE_EIO. The data pointer
 * is valid only during the call. */
typedef int (*node_record_fn)(void *ud, uint32_t kind, uint64_t slot,
			      const void *data, size_t len);
int node_store_each_record(struct node_store *s, const void *pkey, size_t plen,
			   node_record_fn fn, void *ud);

#endif
