/* node/dgram.h (internal): the peer datagram: a batch of cell messages from
 * one node to another, authenticated with HMAC (libsodium crypto_auth,
 * HMAC-SHA-512-256) under the cluster key, with a per-sender replay window.
 * Layout: docs/protocol-wire.md. */
#ifndef NODE_DGRAM_H
#define NODE_DGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define NODE_DGRAM_MAGIC0 'P'
#define NODE_DGRAM_MAGIC1 'H'
#define NODE_DGRAM_VERSION 1
#define NODE_DGRAM_HEADER 30
#define NODE_DGRAM_MAC 32
#define NODE_DGRAM_MAX 65507     /* hard bound on any datagram (UDP payload) */
#define NODE_DGRAM_ITEMS_MAX 1024

/* Item kinds. */
enum node_item_kind {
	NODE_ITEM_CELL = 1,   /* engine message for the cell of pkey */
	NODE_ITEM_JURY = 2,   /* discovery push: pkey's jury (u8 n, n*u32) */
};

struct node_dgram_hdr {
	uint32_t from, to;
	uint64_t incarnation; /* sender's boot counter (persisted, grows) */
	uint64_t seq;         /* per (sender incarnation, destination), from 1 */
	uint16_t count;
};

struct node_item {
	uint8_t kind;
	uint8_t pkey_len;
	const uint8_t *pkey;
	uint16_t len;
	const uint8_t *bytes;
};

/* Builder over a caller buffer of `cap` bytes (<= NODE_DGRAM_MAX). */
struct node_dgram_builder {
	uint8_t *buf;
	size_t cap, len;
	uint16_t count;
};

void node_dgram_begin(struct node_dgram_builder *b, uint8_t *buf, size_t cap,
		      const struct node_dgram_hdr *h);
/* Bytes one item takes. */
size_t node_dgram_item_size(size_t pkey_len, size_t len);
/* Append one item. NODE_ETOOBIG when it does not fit (builder unchanged),
 * NODE_EINVAL for pkey_len > 255 or len > 65535. */
int node_dgram_add(struct node_dgram_builder *b, uint8_t kind, const void *pkey,
		   size_t pkey_len, const void *bytes, size_t len);
/* Seal with the key: writes count and HMAC, returns the datagram length. */
size_t node_dgram_seal(struct node_dgram_builder *b, const uint8_t key[NODE_KEY_BYTES]);

/* node_dgram_open: authenticate and validate a received datagram. Tries each
 * of nkeys keys (current first). On success fills *h, sets *key_used and
 * returns 0; items are then read with node_dgram_items. Errors:
 * NODE_ETRUNCATED, NODE_EMALFORMED (bad magic, reserved bits, structure),
 * NODE_EVERSION, NODE_EAUTH (no key verifies). The HMAC is checked before
 * the body is parsed, and the whole item structure is validated before
 * returning 0, so node_dgram_items never fails after a successful open. */
int node_dgram_open(const uint8_t *buf, size_t len,
		    const uint8_t (*keys)[NODE_KEY_BYTES], size_t nkeys,
		    struct node_dgram_hdr *h, size_t *key_used);
/* Iterate items of an opened datagram: *off starts at 0. Returns 1 with
 * *it filled, 0 at the end. */
int node_dgram_items(const uint8_t *buf, size_t len, size_t *off,
		     struct node_item *it);

/* Replay window per sender: accepts each (incarnation, seq) at most once,
 * within NODE_REPLAY_BITS of the highest seq seen; a higher incarnation
 * resets it, a lower one is refused. */
#define NODE_REPLAY_BITS 256
struct node_replay {
	uint64_t incarnation;
	uint64_t top; /* highest seq accepted, 0 = none */
	uint64_t bits[NODE_REPLAY_BITS / 64]; /* bit i: top - i seen */
};
void node_replay_init(struct node_replay *w);
/* 0 = fresh (now recorded), NODE_EREPLAY = duplicate, too old, or an older
 * incarnation. Call only after node_dgram_open succeeded. */
int node_replay_check(struct node_replay *w, uint64_t incarnation, uint64_t seq);

#endif
