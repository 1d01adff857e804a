/* Peer datagrams: batch, seal with HMAC, open and validate, replay window. */
#include "dgram.h"

#include <sodium.h>
#include <string.h>

#include "node.h"
#include "wire.h"

static void put_hdr(uint8_t *buf, const struct node_dgram_hdr *h, uint16_t count)
{
	struct node_wr w;
	node_wr_init(&w, buf, NODE_DGRAM_HEADER);
	node_wr_uint(&w, NODE_DGRAM_MAGIC0, 1);
	node_wr_uint(&w, NODE_DGRAM_MAGIC1, 1);
	node_wr_uint(&w, NODE_DGRAM_VERSION, 1);
	node_wr_uint(&w, 0, 1); /* flags, reserved */
	node_wr_uint(&w, h->from, 4);
	node_wr_uint(&w, h->to, 4);
	node_wr_uint(&w, h->incarnation, 8);
	node_wr_uint(&w, h->seq, 8);
	node_wr_uint(&w, count, 2);
}

void node_dgram_begin(struct node_dgram_builder *b, uint8_t *buf, size_t cap,
		      const struct node_dgram_hdr *h)
{
	b->buf = buf;
	b->cap = cap > NODE_DGRAM_MAX ? NODE_DGRAM_MAX : cap;
	b->len = NODE_DGRAM_HEADER;
	b->count = 0;
	put_hdr(buf, h, 0);
}

size_t node_dgram_item_size(size_t pkey_len, size_t len)
{
	return 1 + 1 + pkey_len + 2 + len;
}

int node_dgram_add(struct node_dgram_builder *b, uint8_t kind, const void *pkey,
		   size_t pkey_len, const void *bytes, size_t len)
{
	if (pkey_len > 255 || len > 65535)
		return NODE_EINVAL;
	size_t need = node_dgram_item_size(pkey_len, len);
	if (b->count == NODE_DGRAM_ITEMS_MAX || b->len + need + NODE_DGRAM_MAC > b->cap)
		return NODE_ETOOBIG;
	struct node_wr w;
	node_wr_init(&w, b->buf + b->len, need);
	node_wr_uint(&w, kind, 1);
	node_wr_uint(&w, pkey_len, 1);
	node_wr_bytes(&w, pkey, pkey_len);
	node_wr_uint(&w, len, 2);
	node_wr_bytes(&w, bytes, len);
	b->len += need;
	b->count++;
	return 0;
}

size_t node_dgram_seal(struct node_dgram_builder *b, const uint8_t key[NODE_KEY_BYTES])
{
	b->buf[28] = (uint8_t)(b->count >> 8);
	b->buf[29] = (uint8_t)b->count;
	crypto_auth(b->buf + b->len, b->buf, b->len, key);
	return b->len + NODE_DGRAM_MAC;
}

/* Walk the items; returns the count found, or -1 if the structure is bad. */
static int check_items(const uint8_t *body, size_t len, unsigned count)
{
	struct node_rd r;
	node_rd_init(&r, body, len);
	for (unsigned i = 0; i < count; i++) {
		uint8_t kind = (uint8_t)node_rd_uint(&r, 1);
		uint8_t pl = (uint8_t)node_rd_uint(&r, 1);
		node_rd_bytes(&r, pl);
		uint16_t bl = (uint16_t)node_rd_uint(&r, 2);
		const uint8_t *bytes = node_rd_bytes(&r, bl);
		if (r.bad)
			return -1;
		if (kind != NODE_ITEM_CELL && kind != NODE_ITEM_JURY)
			return -1;
		if (pl == 0)
			return -1;
		if (kind == NODE_ITEM_JURY) {
			if (bl < 1 || bytes[0] > NODE_JURY_MAX || bl != 1 + 4u * bytes[0])
				return -1;
		}
	}
	return r.left == 0 ? 0 : -1;
}

int node_dgram_open(const uint8_t *buf, size_t len,
		    const uint8_t (*keys)[NODE_KEY_BYTES], size_t nkeys,
		    struct node_dgram_hdr *h, size_t *key_used)
{
	if (len < NODE_DGRAM_HEADER + NODE_DGRAM_MAC)
		return NODE_ETRUNCATED;
	if (len > NODE_DGRAM_MAX)
		return NODE_ETOOBIG;
	if (buf[0] != NODE_DGRAM_MAGIC0 || buf[1] != NODE_DGRAM_MAGIC1)
		return NODE_EMALFORMED;
	if (buf[2] != NODE_DGRAM_VERSION)
		return NODE_EVERSION;
	size_t body = len - NODE_DGRAM_MAC;
	size_t k;
	for (k = 0; k < nkeys; k++) {
		if (crypto_auth_verify(buf + body, buf, body, keys[k]) == 0)
			break;
	}
	if (k == nkeys)
		return NODE_EAUTH;
	if (buf[3] != 0)
		return NODE_EMALFORMED;
	struct node_rd r;
	node_rd_init(&r, buf + 4, NODE_DGRAM_HEADER - 4);
	struct node_dgram_hdr hh;
	hh.from = (uint32_t)node_rd_uint(&r, 4);
	hh.to = (uint32_t)node_rd_uint(&r, 4);
	hh.incarnation = node_rd_uint(&r, 8);
	hh.seq = node_rd_uint(&r, 8);
	hh.count = (uint16_t)node_rd_uint(&r, 2);
	if (hh.from == 0 || hh.to == 0 || hh.seq == 0 || hh.count > NODE_DGRAM_ITEMS_MAX)
		return NODE_EMALFORMED;
	if (check_items(buf + NODE_DGRAM_HEADER, body - NODE_DGRAM_HEADER, hh.count) != 0)
		return NODE_EMALFORMED;
	*h = hh;
	*key_used = k;
	return 0;
}

int node_dgram_items(const uint8_t *buf, size_t len, size_t *off,
		     struct node_item *it)
{
	size_t end = len - NODE_DGRAM_MAC;
	size_t pos = *off ? *off : NODE_DGRAM_HEADER;
	if (pos >= end)
		return 0;
	struct node_rd r;
	node_rd_init(&r, buf + pos, end - pos);
	it->kind = (uint8_t)node_rd_uint(&r, 1);
	it->pkey_len = (uint8_t)node_rd_uint(&r, 1);
	it->pkey = node_rd_bytes(&r, it->pkey_len);
	it->len = (uint16_t)node_rd_uint(&r, 2);
	it->bytes = node_rd_bytes(&r, it->len);
	if (r.bad)
		return 0; /* proven impossible after node_dgram_open */
	*off = end - r.left;
	return 1;
}

void node_replay_init(struct node_replay *w)
{
	memset(w, 0, sizeof *w);
}

static int bit_get(const struct node_replay *w, uint64_t i)
{
	return (int)(w->bits[i / 64] >> (i % 64) & 1);
}

static void bit_set(struct node_replay *w, uint64_t i)
{
	w->bits[i / 64] |= (uint64_t)1 << (i % 64);
}

/* Shift the window up by d: bit i moves to bit i + d. */
static void shift(struct node_replay *w, uint64_t d)
{
	const unsigned words = NODE_REPLAY_BITS / 64;
	if (d >= NODE_REPLAY_BITS) {
		memset(w->bits, 0, sizeof w->bits);
		return;
	}
	unsigned ws = (unsigned)(d / 64), bs = (unsigned)(d % 64);
	for (int i = (int)words - 1; i >= 0; i--) {
		uint64_t v = 0;
		int src = i - (int)ws;
		if (src >= 0) {
			v = w->bits[src] << bs;
			if (bs && src - 1 >= 0)
				v |= w->bits[src - 1] >> (64 - bs);
		}
		w->bits[i] = v;
	}
}

int node_replay_check(struct node_replay *w, uint64_t incarnation, uint64_t seq)
{
	if (incarnation < w->incarnation)
		return NODE_EREPLAY;
	if (incarnation > w->incarnation || w->top == 0) {
		memset(w->bits, 0, sizeof w->bits);
		w->incarnation = incarnation;
		w->top = seq;
		bit_set(w, 0);
		return 0;
	}
	if (seq > w->top) {
		shift(w, seq - w->top);
		w->top = seq;
		bit_set(w, 0);
		return 0;
	}
	uint64_t back = w->top - seq;
	if (back >= NODE_REPLAY_BITS || bit_get(w, back))
		return NODE_EREPLAY;
	bit_set(w, back);
	return 0;
}
