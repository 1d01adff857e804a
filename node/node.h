/* physalia-node: public API of the node module.
 *
 * Two parts: the error table every node_ function uses, and the C client
 * library (node_client_*) that applications link to talk to a colony. The
 * daemon itself is the physalia-node executable; its internals (config,
 * datagram framing, client frames, store) have internal headers in node/.
 */
#ifndef PHYSALIA_NODE_H
#define PHYSALIA_NODE_H

#include <stddef.h>
#include <stdint.h>

/* Every node_ function returns 0 or one of these. */
enum {
	NODE_OK = 0,
	NODE_ENOMEM = -1,      /* allocation failed */
	NODE_EINVAL = -2,      /* bad argument */
	NODE_EMALFORMED = -3,  /* bytes from outside do not parse */
	NODE_ETRUNCATED = -4,  /* bytes end early */
	NODE_ETOOBIG = -5,     /* a frame/datagram/field over its bound */
	NODE_EAUTH = -6,       /* HMAC check failed under every key */
	NODE_EREPLAY = -7,     /* datagram outside or already in the replay window */
	NODE_EVERSION = -8,    /* unknown protocol version */
	NODE_ECONFIG = -9,     /* configuration error (message has file:line:col) */
	NODE_EIO = -10,        /* storage or socket I/O failed */
	NODE_ENOCELL = -11,    /* the node does not host that cell */
	NODE_EBUSY = -12,      /* the cell's pipeline is full: back off and retry */
	NODE_ECONN = -13,      /* cannot connect / connection lost */
	NODE_ETIMEDOUT = -14,  /* no answer in time */
	NODE_ENOTLEADER = -15, /* this replica is not the distinguished proposer */
	NODE_EOVERLOAD = -16,  /* too many connections on the node */
	NODE_EEXIST = -17,     /* the cell exists with a different jury */
	NODE_ECELL = -18,      /* the engine refused the request */
	NODE_EUNAVAIL = -19,   /* no node of the cell answered */
	NODE_ESTOPPED = -20,   /* the node is draining or stopped */
	NODE_EBEHIND = -21,    /* eventual read: the replica is behind the session */
};

/* A static message for a NODE_E* code (never NULL). */
const char *node_strerror(int code);

/* ---- client library --------------------------------------------------- */

#define NODE_PKEY_MAX 255      /* bytes in a partition key on the wire */
#define NODE_JURY_MAX 9

/* Consistency of a read (writes are always consistent). */
enum node_consistency {
	NODE_CONSISTENT = 0,  /* through the cell's log: linearizable */
	NODE_EVENTUAL = 1,    /* any replica's applied prefix */
};

struct node_client;

/* node_client_new: make a client that knows the colony through `seeds`
 * ("host:port" of nodes' client ports, n >= 1; copied, no reference kept).
 * client_id names this client for exactly-once retries; 0 picks a random one.
 * Returns 0, NODE_EINVAL (bad address), NODE_ENOMEM. *out untouched on
 * failure; free with node_client_free. */
int node_client_new(const char *const *seeds, size_t n, uint64_t client_id,
		    struct node_client **out);
void node_client_free(struct node_client *c);

/* Bounds on retrying one request: total time, first backoff (doubled each
 * retry with full jitter, capped at max_backoff). Defaults 10 s, 2 ms, 200 ms. */
void node_client_set_retry(struct node_client *c, uint64_t total_ms,
			   uint64_t first_backoff_ms, uint64_t max_backoff_ms);

/* The result of one transaction. Owned by the caller after node_client_txn
 * returns; free with node_result_free. */
struct node_result {
	int outcome;       /* engine reply status (PH_REPLY_* numeric value) */
	uint8_t *bytes;    /* encoded result (ph_result_decode), malloc'ed */
	size_t len;
	uint32_t served_by; /* node id that answered */
};
void node_result_free(struct node_result *r);

/* node_client_txn: run one encoded transaction (engine's ph_txn_encode
 * bytes) on the cell of partition key `pkey`. Finds the cell through the
 * discovery cache (refreshed lazily, old entries kept on failure), chases
 * forwarding pointers and not-leader hints, retries with exponential
 * backoff and jitter under one request id (client id, seq), so a retried
 * write applies at most once. Returns 0 with *out filled, or
 * NODE_ETIMEDOUT, NODE_EUNAVAIL, NODE_ENOCELL, NODE_EMALFORMED,
 * NODE_ECELL, NODE_ENOMEM. */
int node_client_txn(struct node_client *c, const void *pkey, size_t pkey_len,
		    const void *txn, size_t txn_len, enum node_consistency cons,
		    struct node_result *out);

/* node_client_cell_create: create the cell of `pkey` with the given jury
 * (node ids, 3..9) on every jury member. Idempotent. Returns 0,
 * NODE_EEXIST (exists with another jury), NODE_EUNAVAIL, NODE_EINVAL. */
int node_client_cell_create(struct node_client *c, const void *pkey,
			    size_t pkey_len, const uint32_t *jury, size_t n);

/* Discovery: the jury the colony reports for `pkey` (fills up to
 * NODE_JURY_MAX ids, *n set). Returns 0, NODE_ENOCELL, NODE_EUNAVAIL. */
int node_client_discover(struct node_client *c, const void *pkey,
			 size_t pkey_len, uint32_t *jury, size_t *n);

/* Raw status queries used by the CLI: the answer is a text "key value"
 * line list (malloc'ed, NUL-terminated, caller frees). node_id 0 = any. */
int node_client_cell_status(struct node_client *c, const void *pkey,
			    size_t pkey_len, uint32_t node_id, char **text);
int node_client_node_status(struct node_client *c, uint32_t node_id,
			    char **text);

#endif
