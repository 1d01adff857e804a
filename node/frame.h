/* node/frame.h (internal): the client protocol frame over TCP. Every frame:
 * u32 length of what follows, u8 version, u8 type, u64 corr (echoed in the
 * reply so requests can be pipelined), then the type's body. Layout:
 * docs/protocol-wire.md. */
#ifndef NODE_FRAME_H
#define NODE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"

#define NODE_FRAME_VERSION 1
#define NODE_FRAME_HEADER 14 /* length + version + type + corr */

enum node_frame_type {
	NODE_REQ_TXN = 1,
	NODE_REQ_CREATE = 2,
	NODE_REQ_DISCOVER = 3,
	NODE_REQ_CELL_STATUS = 4,
	NODE_REQ_NODE_STATUS = 5,
	NODE_REQ_NODES = 6,
	NODE_REPLY = 0x80, /* reply to request type t has type 0x80 | t */
};

/* Status of a reply: distinct codes for each kind of refusal. */
enum node_status {
	NODE_ST_OK = 0,
	NODE_ST_NOCELL = 1,     /* not hosted here (discover to find it) */
	NODE_ST_BUSY = 2,       /* cell pipeline full: back off */
	NODE_ST_NOTLEADER = 3,  /* hint = node id of the proposer, 0 unknown */
	NODE_ST_OVERLOAD = 4,   /* too many connections */
	NODE_ST_TOOBIG = 5,     /* frame over the node's max_frame */
	NODE_ST_MALFORMED = 6,  /* frame or transaction does not parse */
	NODE_ST_EXISTS = 7,     /* create: cell exists with another jury */
	NODE_ST_ERROR = 8,      /* the engine refused; text in data */
	NODE_ST_STOPPING = 9,   /* node draining */
	NODE_ST_BEHIND = 10,    /* eventual read: replica below the token asked */
	NODE_ST_MAX = 10
};

/* Discovery answer kinds. */
enum node_disc_kind {
	NODE_DISC_SERVING = 0, /* this node hosts the cell: ids = its jury */
	NODE_DISC_FORWARD = 1, /* forwarding pointer: the cell left, ids = new jury */
	NODE_DISC_CACHE = 2,   /* discovery cache entry pushed by the cell */
};

/* One decoded frame. Pointers point into the decoded buffer. */
struct node_frame {
	uint8_t type;
	uint64_t corr;
	/* requests */
	uint64_t client_id, seq;  /* TXN: the request id for exactly-once */
	uint8_t consistency;      /* TXN */
	uint64_t token;           /* TXN: eventual reads: lowest applied prefix
				   * accepted; TXN reply: applied prefix */
	uint8_t pkey_len;         /* TXN, CREATE, DISCOVER, CELL_STATUS */
	const uint8_t *pkey;
	/* replies */
	uint8_t status;
	uint8_t outcome;          /* TXN reply: PH_ST_COMMITTED or PH_ST_IGNORED */
	uint8_t reason;           /* TXN reply: enum ph_reason when IGNORED */
	uint32_t hint;            /* TXN reply: served-by; refusals: proposer hint */
	uint8_t disc_kind;        /* DISCOVER reply */
	/* jury: CREATE request, DISCOVER reply */
	uint8_t n_ids;
	uint32_t ids[NODE_JURY_MAX];
	/* TXN request: txn bytes; TXN reply: result; status replies: text;
	 * NODES reply: entries (u32 id, u8 len, address text) */
	const uint8_t *data;
	uint32_t data_len;
};

/* node_frame_decode: decode the first frame in buf[0..len). Returns 0 with
 * *f and *used set; NODE_ETRUNCATED: need more bytes (nothing consumed);
 * NODE_ETOOBIG: announced length over max_frame (*used set to the whole
 * frame length so a server may skip it, if it wants to); NODE_EVERSION;
 * NODE_EMALFORMED. */
int node_frame_decode(const uint8_t *buf, size_t len, uint32_t max_frame,
		      struct node_frame *f, size_t *used);

/* Bytes node_frame_encode will write for f. */
size_t node_frame_size(const struct node_frame *f);
/* Encode f into buf (cap bytes). Returns 0 with *len set, NODE_ETOOBIG if it
 * does not fit, NODE_EINVAL if f is not encodable. */
int node_frame_encode(const struct node_frame *f, uint8_t *buf, size_t cap,
		      size_t *len);

/* Iterate a NODES reply's entries. *off starts at 0. Returns 1 with id and
 * addr (NUL-terminated, truncated to addrsz) set, 0 at the end. */
int node_frame_nodes_next(const struct node_frame *f, size_t *off, uint32_t *id,
			  char *addr, size_t addrsz);

/* Map a reply status to a NODE_E* code (NODE_ST_OK -> 0). */
int node_status_to_error(uint8_t status);

#endif
