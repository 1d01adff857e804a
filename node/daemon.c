/* The physalia-node loop: many cells, one libuv loop, group commit.
 *
 * Reading order, top to bottom: state (cells, peers, connections), the cell
 * table (hash, LRU, timer heap, load/evict), carrying out a step's update,
 * the group commit at the end of each loop turn (uv_check), the peer
 * transport (UDP), the client protocol (TCP), metrics (HTTP), signals.
 *
 * Durability contract (DESIGN.md): a message or reply the engine flags
 * after_durable is held until the SQLite transaction holding every record
 * of its cell's updates so far has committed.
 */
#define _POSIX_C_SOURCE 200809L
#include "daemon.h"

#include <engine.h>
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include "dgram.h"
#include "frame.h"
#include "log.h"
#include "node.h"
#include "store.h"

#define NS_PER_MS 1000000ull
#define PENDING_TIMEOUT_NS (10ull * 1000 * NS_PER_MS)
#define DRAIN_MAX_NS (3ull * 1000 * NS_PER_MS)

/* ---- state ---------------------------------------------------------------- */

struct outitem {
	struct outitem *next;
	uint8_t kind;
	uint8_t plen;
	uint16_t len;
	uint8_t data[]; /* pkey then bytes */
};

struct outbox {
	struct outitem *head, *tail;
	uint64_t seq; /* last datagram seq sent to this peer */
	int dirty;
};

struct conn;

struct pending {
	uint64_t client, seq, corr;
	uint64_t since;
	struct conn *conn;
};

struct ncell {
	struct ncell *hnext;
	struct ncell *lru_prev, *lru_next;
	struct ncell *turn_next;
	struct ph_cell *cell;
	uint64_t hash;
	uint8_t pkey[PH_PKEY_MAX];
	uint8_t plen;
	int in_turn;
	ph_time wake;
	size_t heap_idx; /* SIZE_MAX: no timer */
	uint64_t persist_id, durable_id;
	struct pending *pend;
	size_t n_pend, cap_pend;
};

struct held {
	struct held *next;
	uint32_t to;           /* message: destination node */
	struct outitem *item;  /* message */
	struct conn *conn;     /* reply */
	uint8_t *frame;        /* reply */
	size_t len;
};

struct conn {
	uv_tcp_t tcp;
	struct node_daemon *d;
	struct conn *next, *prev;
	struct conn *dirty_next;
	uint8_t *in;
	size_t in_len, in_cap;
	uint8_t *out;
	size_t out_len, out_cap;
	int refs;       /* the handle + pending entries and held replies */
	int closing;
	int dirty;
	int close_after_write;
	int writes;     /* uv_write in flight */
};

struct dentry { /* discovery cache entry pushed by a cell */
	struct dentry *next;
	uint8_t pkey[PH_PKEY_MAX];
	uint8_t plen;
	uint8_t n;
	uint32_t jury[PH_JURY_MAX];
};

#define HIST_N 14
struct hist {
	double bounds[HIST_N];
	uint64_t counts[HIST_N + 1];
	double sum;
	uint64_t n;
};

struct metrics {
	uint64_t requests[NODE_ST_MAX + 1];
	uint64_t replies_by_engine[8];
	uint64_t commits, commit_failures;
	struct hist fsync, batch_records, batch_cells;
	uint64_t dropped_hmac, dropped_malformed, dropped_replay, dropped_unknown_cell,
		dropped_unknown_peer, dropped_misdirected, dropped_send, dropped_engine;
	uint64_t dgrams_in, dgrams_out, items_in, items_out;
	uint64_t conns_refused, frames_too_big, transitions;
	uint64_t loads, evictions, timeouts;
};

struct node_daemon {
	uv_loop_t loop;
	struct node_config cfg;
	const char *config_path;
	struct node_store *store;
	uv_udp_t udp;
	uv_tcp_t server, http;
	uv_timer_t timer, sweep, drain;
	uv_check_t check;
	uv_idle_t idle;
	uv_signal_t sigterm, sigint, sighup;
	uint8_t keys[2][NODE_KEY_BYTES];
	size_t nkeys;
	struct outbox *out;        /* parallel to cfg.peers */
	struct node_replay *replay;
	struct ncell **buckets;
	size_t nbuckets, resident;
	int64_t hosted;
	struct ncell lru;          /* sentinel: lru.lru_next is most recent */
	struct ncell **heap;
	size_t heap_n, heap_cap;
	struct ncell *turn_list;
	struct held *held_head, *held_tail;
	struct conn conns;         /* sentinel of the connection list */
	size_t n_conns;
	struct conn *dirty_conns;
	struct dentry **dcache;
	size_t dcache_n;
	ph_time last_now;
	uint64_t started;
	uint64_t incarnation;
	int stopping;
	uint64_t drain_started;
	int idle_on;
	uint64_t turn_records; /* records written in the open transaction */
	struct metrics m;
	uint8_t sendbuf[NODE_DGRAM_MAX];
	uint8_t recvbuf[65536];
};

static void fatal_storage(struct node_daemon *d, const char *what)
{
	node_log(NODE_LOG_ERROR, "fatal",
		 "what=%s error=\"%s\" action=stop detail=\"storage failed; the node "
		 "stops and never retries an fsync\"",
		 what, node_store_errmsg(d->store));
	exit(NODE_EXIT_STORAGE);
}

static ph_time now_ns(struct node_daemon *d)
{
	ph_time t = uv_hrtime();
	if (t < d->last_now)
		t = d->last_now;
	d->last_now = t;
	return t;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL) {
		node_log(NODE_LOG_ERROR, "fatal", "what=malloc bytes=%zu", n);
		abort();
	}
	return p;
}

static void hist_init(struct hist *h, const double *bounds)
{
	memset(h, 0, sizeof *h);
	memcpy(h->bounds, bounds, sizeof h->bounds);
}

static void hist_add(struct hist *h, double v)
{
	int i = 0;
	while (i < HIST_N && v > h->bounds[i])
		i++;
	h->counts[i]++;
	h->sum += v;
	h->n++;
}

/* ---- the cell table: hash by partition key, LRU, timer heap ---------------- */

static uint64_t pkey_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

static void heap_swap(struct node_daemon *d, size_t a, size_t b)
{
	struct ncell *t = d->heap[a];
	d->heap[a] = d->heap[b];
	d->heap[b] = t;
	d->heap[a]->heap_idx = a;
	d->heap[b]->heap_idx = b;
}

static void heap_up(struct node_daemon *d, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (d->heap[p]->wake <= d->heap[i]->wake)
			break;
		heap_swap(d, p, i);
		i = p;
	}
}

static void heap_down(struct node_daemon *d, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < d->heap_n && d->heap[l]->wake < d->heap[m]->wake)
			m = l;
		if (r < d->heap_n && d->heap[r]->wake < d->heap[m]->wake)
			m = r;
		if (m == i)
			break;
		heap_swap(d, i, m);
		i = m;
	}
}

static void heap_remove(struct node_daemon *d, struct ncell *c)
{
	size_t i = c->heap_idx;
	if (i == SIZE_MAX)
		return;
	d->heap_n--;
	if (i != d->heap_n) {
		d->heap[i] = d->heap[d->heap_n];
		d->heap[i]->heap_idx = i;
		heap_down(d, i);
		heap_up(d, i);
	}
	c->heap_idx = SIZE_MAX;
}

static void set_wake(struct node_daemon *d, struct ncell *c, ph_time wake)
{
	if (wake == c->wake && (wake == 0) == (c->heap_idx == SIZE_MAX))
		return;
	heap_remove(d, c);
	c->wake = wake;
	if (wake == 0)
		return;
	if (d->heap_n == d->heap_cap) {
		d->heap_cap = d->heap_cap ? d->heap_cap * 2 : 1024;
		struct ncell **nh = realloc(d->heap, d->heap_cap * sizeof *nh);
		if (nh == NULL)
			abort();
		d->heap = nh;
	}
	c->heap_idx = d->heap_n;
	d->heap[d->heap_n++] = c;
	heap_up(d, c->heap_idx);
}

static void lru_unlink(struct ncell *c)
{
	c->lru_prev->lru_next = c->lru_next;
	c->lru_next->lru_prev = c->lru_prev;
}

static void lru_front(struct node_daemon *d, struct ncell *c)
{
	c->lru_next = d->lru.lru_next;
	c->lru_prev = &d->lru;
	d->lru.lru_next->lru_prev = c;
	d->lru.lru_next = c;
}

static struct ncell *table_find(struct node_daemon *d, const uint8_t *pkey, size_t plen,
				uint64_t h)
{
	for (struct ncell *c = d->buckets[h & (d->nbuckets - 1)]; c; c = c->hnext)
		if (c->hash == h && c->plen == plen && memcmp(c->pkey, pkey, plen) == 0)
			return c;
	return NULL;
}

static void table_insert(struct node_daemon *d, struct ncell *c)
{
	if (d->resident + 1 > d->nbuckets) {
		size_t nb = d->nbuckets * 2;
		struct ncell **b = calloc(nb, sizeof *b);
		if (b == NULL)
			abort();
		for (size_t i = 0; i < d->nbuckets; i++) {
			struct ncell *x = d->buckets[i], *nx;
			for (; x; x = nx) {
				nx = x->hnext;
				x->hnext = b[x->hash & (nb - 1)];
				b[x->hash & (nb - 1)] = x;
			}
		}
		free(d->buckets);
		d->buckets = b;
		d->nbuckets = nb;
	}
	struct ncell **slot = &d->buckets[c->hash & (d->nbuckets - 1)];
	c->hnext = *slot;
	*slot = c;
	d->resident++;
	lru_front(d, c);
}

static void table_remove(struct node_daemon *d, struct ncell *c)
{
	struct ncell **p = &d->buckets[c->hash & (d->nbuckets - 1)];
	while (*p != c)
		p = &(*p)->hnext;
	*p = c->hnext;
	d->resident--;
	lru_unlink(c);
	heap_remove(d, c);
}

/* The cell's stored configuration blob: version 1, n, n * u32 jury. */
static size_t conf_encode(uint8_t *buf, const uint32_t *jury, size_t n)
{
	buf[0] = 1;
	buf[1] = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		buf[2 + 4 * i] = (uint8_t)(jury[i] >> 24);
		buf[3 + 4 * i] = (uint8_t)(jury[i] >> 16);
		buf[4 + 4 * i] = (uint8_t)(jury[i] >> 8);
		buf[5 + 4 * i] = (uint8_t)jury[i];
	}
	return 2 + 4 * n;
}

static int conf_decode(const uint8_t *b, size_t len, uint32_t *jury, size_t *n)
{
	if (len < 2 || b[0] != 1 || b[1] < PH_JURY_MIN || b[1] > PH_JURY_MAX ||
	    len != 2 + 4u * b[1])
		return NODE_EMALFORMED;
	*n = b[1];
	for (size_t i = 0; i < *n; i++)
		jury[i] = (uint32_t)b[2 + 4 * i] << 24 | (uint32_t)b[3 + 4 * i] << 16 |
			  (uint32_t)b[4 + 4 * i] << 8 | b[5 + 4 * i];
	return 0;
}

static int new_replica(struct node_daemon *d, const uint8_t *pkey, size_t plen,
		       const uint32_t *jury, size_t n, struct ph_cell **out)
{
	struct ph_cell_config cc;
	ph_cell_config_init(&cc);
	cc.pkey = pkey;
	cc.pkey_len = plen;
	cc.self = d->cfg.node_id;
	for (size_t i = 0; i < n; i++)
		cc.jury[i] = jury[i];
	cc.jury_n = n;
	randombytes_buf(&cc.seed, sizeof cc.seed);
	if (d->cfg.election_timeout_ms)
		cc.election_timeout = d->cfg.election_timeout_ms * NS_PER_MS;
	if (d->cfg.heartbeat_ms)
		cc.heartbeat_interval = d->cfg.heartbeat_ms * NS_PER_MS;
	return ph_cell_new(&cc, NULL, out);
}

struct recbuf {
	struct ph_record *recs;
	size_t n, cap;
};

static int collect_record(void *ud, uint32_t kind, uint64_t slot, const void *data, size_t len)
{
	struct recbuf *rb = ud;
	if (rb->n == rb->cap) {
		rb->cap = rb->cap ? rb->cap * 2 : 16;
		struct ph_record *nr = realloc(rb->recs, rb->cap * sizeof *nr);
		if (nr == NULL)
			return NODE_ENOMEM;
		rb->recs = nr;
	}
	uint8_t *copy = xmalloc(len);
	memcpy(copy, data, len);
	rb->recs[rb->n].kind = (int)kind;
	rb->recs[rb->n].slot = slot;
	rb->recs[rb->n].bytes = copy;
	rb->recs[rb->n].len = len;
	rb->n++;
	return 0;
}

static struct ncell *cell_wrap(struct node_daemon *d, const uint8_t *pkey, size_t plen,
			       uint64_t h, struct ph_cell *pc)
{
	struct ncell *c = calloc(1, sizeof *c);
	if (c == NULL)
		abort();
	c->cell = pc;
	c->hash = h;
	memcpy(c->pkey, pkey, plen);
	c->plen = (uint8_t)plen;
	c->heap_idx = SIZE_MAX;
	table_insert(d, c);
	return c;
}

static void step(struct node_daemon *d, struct ncell *c, const struct ph_event *ev);

/* The resident cell for pkey, loading it from the store if it is hosted
 * here but cold. NULL when not hosted (or its records do not load: logged). */
static struct ncell *cell_get(struct node_daemon *d, const uint8_t *pkey, size_t plen)
{
	if (plen == 0 || plen > PH_PKEY_MAX)
		return NULL;
	uint64_t h = pkey_hash(pkey, plen);
	struct ncell *c = table_find(d, pkey, plen, h);
	if (c != NULL) {
		lru_unlink(c);
		lru_front(d, c);
		return c;
	}
	uint8_t *conf;
	size_t clen;
	int rc = node_store_get_cell(d->store, pkey, plen, &conf, &clen);
	if (rc < 0)
		fatal_storage(d, "read cell");
	if (rc == 0)
		return NULL;
	uint32_t jury[PH_JURY_MAX];
	size_t n;
	rc = conf_decode(conf, clen, jury, &n);
	free(conf);
	if (rc != 0) {
		node_log(NODE_LOG_ERROR, "cell_load", "error=\"bad stored cell configuration\"");
		return NULL;
	}
	struct ph_cell *pc;
	if (new_replica(d, pkey, plen, jury, n, &pc) != 0) {
		node_log(NODE_LOG_ERROR, "cell_load", "error=\"cannot make replica\"");
		return NULL;
	}
	struct recbuf rb = { 0 };
	rc = node_store_each_record(d->store, pkey, plen, collect_record, &rb);
	if (rc == NODE_EIO)
		fatal_storage(d, "read records");
	if (rc == 0 && rb.n > 0)
		rc = ph_cell_load(pc, rb.recs, rb.n);
	for (size_t i = 0; i < rb.n; i++)
		free((void *)rb.recs[i].bytes);
	free(rb.recs);
	if (rc != 0) {
		node_log(NODE_LOG_ERROR, "cell_load", "error=\"%s\" records=%zu",
			 rc < 0 && rc >= PH_ENOENT ? ph_strerror(rc) : node_strerror(rc), rb.n);
		ph_cell_free(pc);
		return NULL;
	}
	d->m.loads++;
	c = cell_wrap(d, pkey, plen, h, pc);
	struct ph_event ev = { .type = PH_EV_TICK, .now = now_ns(d) };
	step(d, c, &ev);
	return c;
}

static int evictable(const struct ncell *c)
{
	return c->n_pend == 0 && !c->in_turn && c->persist_id == c->durable_id;
}

static void cell_free(struct node_daemon *d, struct ncell *c)
{
	table_remove(d, c);
	ph_cell_free(c->cell);
	free(c->pend);
	free(c);
}

/* Keep memory to the working set: evict least recently used idle cells. */
static void evict(struct node_daemon *d)
{
	int budget = 4096;
	struct ncell *c = d->lru.lru_prev;
	while (d->resident > d->cfg.max_resident && c != &d->lru && budget-- > 0) {
		struct ncell *prev = c->lru_prev;
		if (evictable(c)) {
			cell_free(d, c);
			d->m.evictions++;
		}
		c = prev;
	}
}

/* ---- carrying out an update ------------------------------------------------ */

static struct outitem *item_new(uint8_t kind, const uint8_t *pkey, size_t plen,
				const uint8_t *bytes, size_t len)
{
	struct outitem *it = xmalloc(sizeof *it + plen + len);
	it->next = NULL;
	it->kind = kind;
	it->plen = (uint8_t)plen;
	it->len = (uint16_t)len;
	memcpy(it->data, pkey, plen);
	if (len)
		memcpy(it->data + plen, bytes, len);
	return it;
}

static ssize_t peer_index(const struct node_daemon *d, uint32_t id)
{
	const struct node_peer *p = node_config_peer(&d->cfg, id);
	return p ? p - d->cfg.peers : -1;
}

static void outbox_push(struct node_daemon *d, uint32_t to, struct outitem *it)
{
	ssize_t i = peer_index(d, to);
	if (i < 0) {
		d->m.dropped_unknown_peer++;
		free(it);
		return;
	}
	struct outbox *o = &d->out[i];
	if (o->tail)
		o->tail->next = it;
	else
		o->head = it;
	o->tail = it;
	o->dirty = 1;
}

static void held_push(struct node_daemon *d, struct held *h)
{
	h->next = NULL;
	if (d->held_tail)
		d->held_tail->next = h;
	else
		d->held_head = h;
	d->held_tail = h;
}

static void conn_append(struct conn *cn, const uint8_t *frame, size_t len);
static void conn_unref(struct conn *cn);

static void ensure_txn(struct node_daemon *d)
{
	if (!node_store_in_txn(d->store) && node_store_begin(d->store) != 0)
		fatal_storage(d, "begin");
}

/* Encode a reply frame into a fresh buffer. */
static uint8_t *frame_alloc(const struct node_frame *f, size_t *len)
{
	size_t cap = node_frame_size(f);
	uint8_t *b = xmalloc(cap);
	if (node_frame_encode(f, b, cap, len) != 0) {
		free(b);
		return NULL;
	}
	return b;
}

/* Send a reply now or after the current transaction commits. */
static void reply_frame(struct node_daemon *d, struct conn *cn, const struct node_frame *f,
			int after_commit)
{
	size_t len;
	uint8_t *b = frame_alloc(f, &len);
	if (b == NULL)
		return;
	if (f->type & NODE_REPLY)
		d->m.requests[f->status <= NODE_ST_MAX ? f->status : NODE_ST_ERROR]++;
	if (!after_commit) {
		conn_append(cn, b, len);
		free(b);
		return;
	}
	struct held *h = xmalloc(sizeof *h);
	memset(h, 0, sizeof *h);
	h->conn = cn;
	cn->refs++;
	h->frame = b;
	h->len = len;
	held_push(d, h);
}

static void route_reply(struct node_daemon *d, struct ncell *c, const struct ph_reply *r,
			int hold)
{
	for (size_t i = 0; i < c->n_pend;) {
		struct pending *p = &c->pend[i];
		if (p->client != r->client || p->seq != r->seq) {
			i++;
			continue;
		}
		struct node_frame f;
		memset(&f, 0, sizeof f);
		f.type = NODE_REPLY | NODE_REQ_TXN;
		f.corr = p->corr;
		char text[96];
		switch (r->status) {
		case PH_ST_COMMITTED:
		case PH_ST_IGNORED:
			f.status = NODE_ST_OK;
			f.outcome = (uint8_t)r->status;
			f.reason = (uint8_t)r->reason;
			f.token = r->token;
			f.hint = d->cfg.node_id;
			f.data = r->result;
			f.data_len = (uint32_t)r->result_len;
			break;
		case PH_ST_BUSY:
			f.status = NODE_ST_BUSY;
			break;
		case PH_ST_NOT_LEADER:
			f.status = NODE_ST_NOTLEADER;
			f.hint = r->leader_hint;
			break;
		case PH_ST_BEHIND:
			f.status = NODE_ST_BEHIND;
			break;
		default:
			f.status = NODE_ST_ERROR;
			snprintf(text, sizeof text, "%s", ph_strerror(r->error));
			f.data = (const uint8_t *)text;
			f.data_len = (uint32_t)strlen(text);
			break;
		}
		if (r->status >= 1 && r->status <= 7)
			d->m.replies_by_engine[r->status]++;
		if (!p->conn->closing)
			reply_frame(d, p->conn, &f, hold);
		conn_unref(p->conn);
		c->pend[i] = c->pend[--c->n_pend];
	}
}

static void handle_update(struct node_daemon *d, struct ncell *c, const struct ph_update *u)
{
	if (u->n_records > 0) {
		ensure_txn(d);
		d->turn_records += u->n_records;
		for (size_t i = 0; i < u->n_records; i++) {
			const struct ph_record *r = &u->records[i];
			int rc;
			if (r->kind == PH_REC_TRUNCATE) {
				rc = node_store_delete_below(d->store, c->pkey, c->plen,
							     PH_REC_ACCEPT, r->slot);
				if (rc == 0)
					rc = node_store_delete_below(d->store, c->pkey, c->plen,
								     PH_REC_CHOSEN, r->slot);
			} else {
				rc = node_store_put_record(d->store, c->pkey, c->plen,
							   (uint32_t)r->kind, r->slot, r->bytes,
							   r->len);
			}
			if (rc != 0)
				fatal_storage(d, "write record");
		}
		if (!c->in_turn) {
			c->in_turn = 1;
			c->turn_next = d->turn_list;
			d->turn_list = c;
		}
	}
	if (u->persist_id > c->persist_id)
		c->persist_id = u->persist_id;
	int undurable = c->persist_id > c->durable_id;
	for (size_t i = 0; i < u->n_messages; i++) {
		const struct ph_message *m = &u->messages[i];
		if (m->len > 65535) {
			d->m.dropped_send++;
			continue;
		}
		struct outitem *it = item_new(NODE_ITEM_CELL, c->pkey, c->plen, m->bytes, m->len);
		if (m->after_durable && undurable) {
			struct held *h = xmalloc(sizeof *h);
			memset(h, 0, sizeof *h);
			h->to = m->to;
			h->item = it;
			held_push(d, h);
		} else {
			outbox_push(d, m->to, it);
		}
	}
	for (size_t i = 0; i < u->n_replies; i++)
		route_reply(d, c, &u->replies[i], u->replies[i].after_durable && undurable);
	d->m.transitions += u->n_transitions;
	set_wake(d, c, u->wake);
}

static void step(struct node_daemon *d, struct ncell *c, const struct ph_event *ev)
{
	struct ph_update u;
	int rc = ph_cell_step(c->cell, ev, &u);
	if (rc != 0) {
		node_log(NODE_LOG_WARN, "step", "event=%d error=\"%s\"", ev->type, ph_strerror(rc));
		return;
	}
	handle_update(d, c, &u);
}

/* ---- the end of a loop turn: group commit, release, durable ---------------- */

static void flush_outboxes(struct node_daemon *d);
static void flush_conns(struct node_daemon *d);
static void rearm_timer(struct node_daemon *d);

static void release_held(struct node_daemon *d)
{
	struct held *h = d->held_head;
	d->held_head = d->held_tail = NULL;
	while (h) {
		struct held *nx = h->next;
		if (h->item) {
			outbox_push(d, h->to, h->item);
		} else {
			if (!h->conn->closing)
				conn_append(h->conn, h->frame, h->len);
			conn_unref(h->conn);
			free(h->frame);
		}
		free(h);
		h = nx;
	}
}

static void on_idle(uv_idle_t *h);

static void turn_end(struct node_daemon *d)
{
	for (int round = 0; round < 16; round++) {
		if (node_store_in_txn(d->store)) {
			size_t cells = 0;
			for (struct ncell *c = d->turn_list; c; c = c->turn_next)
				cells++;
			uint64_t t0 = uv_hrtime();
			if (node_store_commit(d->store) != 0) {
				d->m.commit_failures++;
				fatal_storage(d, "commit");
			}
			uint64_t t1 = uv_hrtime();
			d->m.commits++;
			hist_add(&d->m.fsync, (double)(t1 - t0) / 1e9);
			hist_add(&d->m.batch_cells, (double)cells);
			hist_add(&d->m.batch_records, (double)d->turn_records);
			d->turn_records = 0;
		} else if (d->held_head == NULL && d->turn_list == NULL) {
			break;
		}
		release_held(d);
		struct ncell *list = d->turn_list;
		d->turn_list = NULL;
		ph_time now = now_ns(d);
		while (list) {
			struct ncell *c = list;
			list = c->turn_next;
			c->in_turn = 0;
			c->durable_id = c->persist_id;
			struct ph_event ev = { .type = PH_EV_DURABLE, .now = now };
			ev.durable.persist_id = c->persist_id;
			step(d, c, &ev);
		}
	}
	/* Still work after 16 rounds: keep the loop from blocking in poll. */
	int more = node_store_in_txn(d->store) || d->held_head || d->turn_list;
	if (more && !d->idle_on) {
		uv_idle_start(&d->idle, on_idle);
		d->idle_on = 1;
	}
	flush_outboxes(d);
	flush_conns(d);
	evict(d);
	rearm_timer(d);
}

static void on_check(uv_check_t *h)
{
	turn_end(h->data);
}

static void on_idle(uv_idle_t *h)
{
	struct node_daemon *d = h->data;
	if (!node_store_in_txn(d->store) && !d->held_head && !d->turn_list) {
		uv_idle_stop(h);
		d->idle_on = 0;
	}
}

/* ---- cell timers ------------------------------------------------------------ */

static void on_timer(uv_timer_t *t)
{
	struct node_daemon *d = t->data;
	ph_time now = now_ns(d);
	int budget = 100000;
	while (d->heap_n > 0 && d->heap[0]->wake <= now + NS_PER_MS / 2 && budget-- > 0) {
		struct ncell *c = d->heap[0];
		heap_remove(d, c);
		c->wake = 0;
		struct ph_event ev = { .type = PH_EV_TICK, .now = now };
		step(d, c, &ev);
	}
}

static void rearm_timer(struct node_daemon *d)
{
	if (d->heap_n == 0) {
		uv_timer_stop(&d->timer);
		return;
	}
	ph_time now = now_ns(d), w = d->heap[0]->wake;
	uint64_t ms = w > now ? (w - now + NS_PER_MS - 1) / NS_PER_MS : 0;
	uv_timer_start(&d->timer, on_timer, ms, 0);
}

/* ---- peer transport: UDP datagrams ----------------------------------------- */

static void send_dgram(struct node_daemon *d, size_t pi, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)d->sendbuf, (unsigned)len);
	int rc = uv_udp_try_send(&d->udp, &b, 1,
				 (const struct sockaddr *)&d->cfg.peers[pi].peer.sa);
	if (rc < 0)
		d->m.dropped_send++;
	else
		d->m.dgrams_out++;
}

/* Batch each destination's queued items into as few datagrams as fit
 * max_datagram (a single item larger than that goes alone, up to the UDP
 * bound). */
static void flush_outboxes(struct node_daemon *d)
{
	for (size_t pi = 0; pi < d->cfg.n_peers; pi++) {
		struct outbox *o = &d->out[pi];
		if (!o->dirty)
			continue;
		o->dirty = 0;
		struct outitem *it = o->head;
		o->head = o->tail = NULL;
		while (it) {
			struct node_dgram_hdr h = { .from = d->cfg.node_id, .to = d->cfg.peers[pi].id,
						    .incarnation = d->incarnation, .seq = ++o->seq };
			struct node_dgram_builder b;
			size_t first = NODE_DGRAM_HEADER + node_dgram_item_size(it->plen, it->len) +
				       NODE_DGRAM_MAC;
			size_t cap = first > d->cfg.max_datagram ? first : d->cfg.max_datagram;
			node_dgram_begin(&b, d->sendbuf, cap, &h);
			while (it) {
				if (node_dgram_add(&b, it->kind, it->data, it->plen, it->data + it->plen,
						   it->len) != 0)
					break;
				struct outitem *nx = it->next;
				free(it);
				d->m.items_out++;
				it = nx;
			}
			if (b.count == 0) { /* one item over the UDP bound: never sent */
				struct outitem *nx = it->next;
				free(it);
				d->m.dropped_send++;
				it = nx;
				continue;
			}
			send_dgram(d, pi, node_dgram_seal(&b, d->keys[0]));
		}
	}
}

static void dcache_put(struct node_daemon *d, const uint8_t *pkey, size_t plen,
		       const uint8_t *bytes, size_t len)
{
	uint64_t h = pkey_hash(pkey, plen) % d->dcache_n;
	struct dentry *e;
	for (e = d->dcache[h]; e; e = e->next)
		if (e->plen == plen && memcmp(e->pkey, pkey, plen) == 0)
			break;
	if (e == NULL) {
		if (plen > PH_PKEY_MAX)
			return;
		e = xmalloc(sizeof *e);
		memcpy(e->pkey, pkey, plen);
		e->plen = (uint8_t)plen;
		e->next = d->dcache[h];
		d->dcache[h] = e;
	}
	e->n = bytes[0]; /* validated by node_dgram_open: 1 + 4n bytes, n <= 9 */
	for (unsigned i = 0; i < e->n; i++)
		e->jury[i] = (uint32_t)bytes[1 + 4 * i] << 24 | (uint32_t)bytes[2 + 4 * i] << 16 |
			     (uint32_t)bytes[3 + 4 * i] << 8 | bytes[4 + 4 * i];
}

static const struct dentry *dcache_get(struct node_daemon *d, const uint8_t *pkey, size_t plen)
{
	uint64_t h = pkey_hash(pkey, plen) % d->dcache_n;
	for (struct dentry *e = d->dcache[h]; e; e = e->next)
		if (e->plen == plen && memcmp(e->pkey, pkey, plen) == 0)
			return e;
	return NULL;
}

static void on_dgram(struct node_daemon *d, const uint8_t *buf, size_t len)
{
	struct node_dgram_hdr h;
	size_t k;
	int rc = node_dgram_open(buf, len, (const uint8_t(*)[NODE_KEY_BYTES])d->keys, d->nkeys,
				 &h, &k);
	if (rc == NODE_EAUTH) {
		d->m.dropped_hmac++;
		return;
	}
	if (rc != 0) {
		d->m.dropped_malformed++;
		return;
	}
	if (h.to != d->cfg.node_id) {
		d->m.dropped_misdirected++;
		return;
	}
	ssize_t pi = peer_index(d, h.from);
	if (pi < 0) {
		d->m.dropped_unknown_peer++;
		return;
	}
	if (node_replay_check(&d->replay[pi], h.incarnation, h.seq) != 0) {
		d->m.dropped_replay++;
		return;
	}
	d->m.dgrams_in++;
	size_t off = 0;
	struct node_item it;
	ph_time now = now_ns(d);
	while (node_dgram_items(buf, len, &off, &it)) {
		d->m.items_in++;
		if (it.kind == NODE_ITEM_JURY) {
			dcache_put(d, it.pkey, it.pkey_len, it.bytes, it.len);
			continue;
		}
		struct ncell *c = cell_get(d, it.pkey, it.pkey_len);
		if (c == NULL) {
			d->m.dropped_unknown_cell++;
			continue;
		}
		struct ph_event ev = { .type = PH_EV_RECEIVE, .now = now };
		ev.receive.from = h.from;
		ev.receive.bytes = it.bytes;
		ev.receive.len = it.len;
		step(d, c, &ev);
	}
}

static void udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct node_daemon *d = h->data;
	*b = uv_buf_init((char *)d->recvbuf, sizeof d->recvbuf);
}

static void on_udp(uv_udp_t *u, ssize_t n, const uv_buf_t *b, const struct sockaddr *a,
		   unsigned flags)
{
	struct node_daemon *d = u->data;
	if (n <= 0 || a == NULL)
		return;
	if (flags & UV_UDP_PARTIAL) {
		d->m.dropped_malformed++;
		return;
	}
	on_dgram(d, (const uint8_t *)b->base, (size_t)n);
}

/* ---- client protocol: TCP frames --------------------------------------------- */

static void conn_closed(uv_handle_t *h)
{
	struct conn *cn = h->data;
	conn_unref(cn);
}

static void conn_unref(struct conn *cn)
{
	if (--cn->refs > 0)
		return;
	free(cn->in);
	free(cn->out);
	free(cn);
}

static void conn_close(struct conn *cn)
{
	if (cn->closing)
		return;
	cn->closing = 1;
	cn->prev->next = cn->next;
	cn->next->prev = cn->prev;
	cn->d->n_conns--;
	uv_close((uv_handle_t *)&cn->tcp, conn_closed);
}

static void conn_append(struct conn *cn, const uint8_t *frame, size_t len)
{
	if (cn->closing)
		return;
	if (cn->out_len + len > cn->out_cap) {
		size_t nc = cn->out_cap ? cn->out_cap : 4096;
		while (nc < cn->out_len + len)
			nc *= 2;
		uint8_t *no = realloc(cn->out, nc);
		if (no == NULL)
			abort();
		cn->out = no;
		cn->out_cap = nc;
	}
	memcpy(cn->out + cn->out_len, frame, len);
	cn->out_len += len;
	if (!cn->dirty) {
		cn->dirty = 1;
		cn->refs++;
		cn->dirty_next = cn->d->dirty_conns;
		cn->d->dirty_conns = cn;
	}
}

struct wreq {
	uv_write_t req;
	struct conn *conn;
	uint8_t *buf;
};

static void on_written(uv_write_t *w, int status)
{
	struct wreq *r = (struct wreq *)w;
	struct conn *cn = r->conn;
	free(r->buf);
	free(r);
	cn->writes--;
	if (status < 0 || (cn->close_after_write && cn->writes == 0))
		conn_close(cn);
	conn_unref(cn);
}

static void flush_conns(struct node_daemon *d)
{
	struct conn *cn = d->dirty_conns;
	d->dirty_conns = NULL;
	while (cn) {
		struct conn *nx = cn->dirty_next;
		cn->dirty = 0;
		if (!cn->closing && cn->out_len > 0) {
			struct wreq *r = xmalloc(sizeof *r);
			r->conn = cn;
			r->buf = cn->out;
			uv_buf_t b = uv_buf_init((char *)cn->out, (unsigned)cn->out_len);
			cn->out = NULL;
			cn->out_len = cn->out_cap = 0;
			cn->refs++;
			cn->writes++;
			if (uv_write(&r->req, (uv_stream_t *)&cn->tcp, &b, 1, on_written) != 0) {
				free(r->buf);
				free(r);
				cn->writes--;
				conn_unref(cn);
				conn_close(cn);
			}
		}
		conn_unref(cn); /* the dirty-list reference */
		cn = nx;
	}
}

static void refuse(struct node_daemon *d, struct conn *cn, uint8_t type, uint64_t corr,
		   uint8_t status, uint32_t hint, const char *text)
{
	struct node_frame f;
	memset(&f, 0, sizeof f);
	f.type = NODE_REPLY | (type & 0x7f);
	if ((f.type & 0x7f) < NODE_REQ_TXN || (f.type & 0x7f) > NODE_REQ_NODES)
		f.type = NODE_REPLY | NODE_REQ_TXN;
	f.corr = corr;
	f.status = status;
	f.hint = hint;
	if (text) {
		f.data = (const uint8_t *)text;
		f.data_len = (uint32_t)strlen(text);
	}
	reply_frame(d, cn, &f, 0);
}

static void push_jury(struct node_daemon *d, const uint8_t *pkey, size_t plen,
		      const uint32_t *jury, size_t n)
{
	uint8_t b[1 + 4 * PH_JURY_MAX];
	b[0] = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		b[1 + 4 * i] = (uint8_t)(jury[i] >> 24);
		b[2 + 4 * i] = (uint8_t)(jury[i] >> 16);
		b[3 + 4 * i] = (uint8_t)(jury[i] >> 8);
		b[4 + 4 * i] = (uint8_t)jury[i];
	}
	for (size_t pi = 0; pi < d->cfg.n_peers; pi++) {
		if (d->cfg.peers[pi].id == d->cfg.node_id)
			continue;
		struct held *h = xmalloc(sizeof *h);
		memset(h, 0, sizeof *h);
		h->to = d->cfg.peers[pi].id;
		h->item = item_new(NODE_ITEM_JURY, pkey, plen, b, 1 + 4 * n);
		held_push(d, h);
	}
}

static void do_create(struct node_daemon *d, struct conn *cn, const struct node_frame *f)
{
	uint32_t jury[PH_JURY_MAX];
	size_t n = f->n_ids;
	int self_in = 0;
	if (f->pkey_len > PH_PKEY_MAX) {
		refuse(d, cn, f->type, f->corr, NODE_ST_ERROR, 0, "partition key over 64 bytes");
		return;
	}
	if (n < PH_JURY_MIN || n > PH_JURY_MAX) {
		refuse(d, cn, f->type, f->corr, NODE_ST_ERROR, 0, "jury size must be 3..9");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		jury[i] = f->ids[i];
		if (jury[i] == d->cfg.node_id)
			self_in = 1;
		for (size_t j = 0; j < i; j++)
			if (jury[j] == jury[i]) {
				refuse(d, cn, f->type, f->corr, NODE_ST_ERROR, 0,
				       "jury lists a node twice");
				return;
			}
		if (node_config_peer(&d->cfg, jury[i]) == NULL) {
			refuse(d, cn, f->type, f->corr, NODE_ST_ERROR, 0,
			       "jury names a node not in this node's peers");
			return;
		}
	}
	if (!self_in) {
		refuse(d, cn, f->type, f->corr, NODE_ST_ERROR, 0, "this node is not in the jury");
		return;
	}
	struct node_frame r;
	memset(&r, 0, sizeof r);
	r.type = NODE_REPLY | NODE_REQ_CREATE;
	r.corr = f->corr;
	uint8_t *conf;
	size_t clen;
	int rc = node_store_get_cell(d->store, f->pkey, f->pkey_len, &conf, &clen);
	if (rc < 0)
		fatal_storage(d, "read cell");
	if (rc == 1) {
		uint32_t have[PH_JURY_MAX];
		size_t hn = 0;
		int same = conf_decode(conf, clen, have, &hn) == 0 && hn == n &&
			   memcmp(have, jury, n * sizeof *jury) == 0;
		free(conf);
		r.status = same ? NODE_ST_OK : NODE_ST_EXISTS;
		reply_frame(d, cn, &r, node_store_in_txn(d->store));
		return;
	}
	struct ph_cell *pc;
	rc = new_replica(d, f->pkey, f->pkey_len, jury, n, &pc);
	if (rc != 0) {
		refuse(d, cn, f->type, f->corr, NODE_ST_ERROR, 0, ph_strerror(rc));
		return;
	}
	uint8_t cb[2 + 4 * PH_JURY_MAX];
	size_t cl = conf_encode(cb, jury, n);
	ensure_txn(d);
	if (node_store_put_cell(d->store, f->pkey, f->pkey_len, cb, cl) != 0)
		fatal_storage(d, "write cell");
	d->hosted++;
	struct ncell *c = cell_wrap(d, f->pkey, f->pkey_len, pkey_hash(f->pkey, f->pkey_len), pc);
	reply_frame(d, cn, &r, 1);
	push_jury(d, f->pkey, f->pkey_len, jury, n);
	node_log(NODE_LOG_DEBUG, "cell_create", "jury_n=%zu", n);
	struct ph_event ev = { .type = PH_EV_TICK, .now = now_ns(d) };
	step(d, c, &ev);
}

static void do_discover(struct node_daemon *d, struct conn *cn, const struct node_frame *f)
{
	struct node_frame r;
	memset(&r, 0, sizeof r);
	r.type = NODE_REPLY | NODE_REQ_DISCOVER;
	r.corr = f->corr;
	struct ncell *c = cell_get(d, f->pkey, f->pkey_len);
	if (c != NULL) {
		struct ph_cell_status st;
		ph_cell_status(c->cell, &st);
		r.disc_kind = NODE_DISC_SERVING;
		r.n_ids = (uint8_t)st.jury_n;
		for (size_t i = 0; i < st.jury_n; i++)
			r.ids[i] = st.jury[i];
		reply_frame(d, cn, &r, 0);
		return;
	}
	uint8_t *j;
	size_t jl;
	int rc = node_store_get_forward(d->store, f->pkey, f->pkey_len, &j, &jl);
	if (rc < 0)
		fatal_storage(d, "read forward");
	if (rc == 1) {
		uint32_t jury[PH_JURY_MAX];
		size_t n;
		if (conf_decode(j, jl, jury, &n) == 0) {
			r.disc_kind = NODE_DISC_FORWARD;
			r.n_ids = (uint8_t)n;
			memcpy(r.ids, jury, n * sizeof *jury);
			free(j);
			reply_frame(d, cn, &r, 0);
			return;
		}
		free(j);
	}
	const struct dentry *e = dcache_get(d, f->pkey, f->pkey_len);
	if (e != NULL && e->n > 0) {
		r.disc_kind = NODE_DISC_CACHE;
		r.n_ids = e->n;
		memcpy(r.ids, e->jury, e->n * sizeof *e->jury);
		reply_frame(d, cn, &r, 0);
		return;
	}
	refuse(d, cn, f->type, f->corr, NODE_ST_NOCELL, 0, NULL);
}

static void do_cell_status(struct node_daemon *d, struct conn *cn, const struct node_frame *f)
{
	struct ncell *c = cell_get(d, f->pkey, f->pkey_len);
	if (c == NULL) {
		refuse(d, cn, f->type, f->corr, NODE_ST_NOCELL, 0, NULL);
		return;
	}
	struct ph_cell_status st;
	ph_cell_status(c->cell, &st);
	char text[1024], jury[128] = "";
	size_t jl = 0;
	for (size_t i = 0; i < st.jury_n && jl < sizeof jury - 12; i++)
		jl += (size_t)snprintf(jury + jl, sizeof jury - jl, "%s%u", i ? "," : "", st.jury[i]);
	static const char *const roles[] = { "?", "follower", "candidate", "leader" };
	int n = snprintf(text, sizeof text,
			 "node %u\nrole %s\nleader %u\nballot %" PRIu64 ".%u\npromised %" PRIu64
			 ".%u\nchosen %" PRIu64 "\napplied %" PRIu64 "\nsnapshot %" PRIu64
			 "\nin_flight %u\njury %s\nkeys %zu\ndata_bytes %zu\npersist_id %" PRIu64
			 "\ndurable_id %" PRIu64 "\ndropped_messages %" PRIu64 "\n",
			 d->cfg.node_id, st.role >= 1 && st.role <= 3 ? roles[st.role] : "?",
			 st.leader_hint, st.ballot.round, st.ballot.node, st.promised.round,
			 st.promised.node, st.chosen, st.applied, st.snapshot, st.in_flight, jury,
			 st.n_keys, st.data_bytes, st.persist_id, st.durable_id, st.dropped_messages);
	struct node_frame r;
	memset(&r, 0, sizeof r);
	r.type = NODE_REPLY | NODE_REQ_CELL_STATUS;
	r.corr = f->corr;
	r.data = (const uint8_t *)text;
	r.data_len = (uint32_t)(n < 0 ? 0 : n);
	reply_frame(d, cn, &r, 0);
}

static void do_node_status(struct node_daemon *d, struct conn *cn, const struct node_frame *f)
{
	char text[1024];
	int n = snprintf(text, sizeof text,
			 "node %u\nincarnation %" PRIu64 "\nuptime_s %.3f\ncells_hosted %" PRId64
			 "\ncells_resident %zu\ncells_with_timer %zu\nconnections %zu\ncommits %" PRIu64
			 "\ndgrams_in %" PRIu64 "\ndgrams_out %" PRIu64 "\npeers %zu\nstopping %d\n",
			 d->cfg.node_id, d->incarnation,
			 (double)(uv_hrtime() - d->started) / 1e9, d->hosted, d->resident, d->heap_n,
			 d->n_conns, d->m.commits, d->m.dgrams_in, d->m.dgrams_out, d->cfg.n_peers,
			 d->stopping);
	struct node_frame r;
	memset(&r, 0, sizeof r);
	r.type = NODE_REPLY | NODE_REQ_NODE_STATUS;
	r.corr = f->corr;
	r.data = (const uint8_t *)text;
	r.data_len = (uint32_t)(n < 0 ? 0 : n);
	reply_frame(d, cn, &r, 0);
}

static void do_nodes(struct node_daemon *d, struct conn *cn, const struct node_frame *f)
{
	size_t cap = d->cfg.n_peers * (5 + 64) + 1;
	uint8_t *b = xmalloc(cap);
	size_t len = 0;
	for (size_t i = 0; i < d->cfg.n_peers; i++) {
		const struct node_peer *p = &d->cfg.peers[i];
		const char *a = p->has_client ? p->client.text : "";
		if (p->id == d->cfg.node_id)
			a = d->cfg.client_listen.text;
		size_t al = strlen(a);
		b[len++] = (uint8_t)(p->id >> 24);
		b[len++] = (uint8_t)(p->id >> 16);
		b[len++] = (uint8_t)(p->id >> 8);
		b[len++] = (uint8_t)p->id;
		b[len++] = (uint8_t)al;
		memcpy(b + len, a, al);
		len += al;
	}
	struct node_frame r;
	memset(&r, 0, sizeof r);
	r.type = NODE_REPLY | NODE_REQ_NODES;
	r.corr = f->corr;
	r.data = b;
	r.data_len = (uint32_t)len;
	reply_frame(d, cn, &r, 0);
	free(b);
}

static void do_txn(struct node_daemon *d, struct conn *cn, const struct node_frame *f)
{
	if (f->client_id == 0 || f->seq == 0) {
		refuse(d, cn, f->type, f->corr, NODE_ST_MALFORMED, 0, "client id and seq must be non-zero");
		return;
	}
	struct ncell *c = cell_get(d, f->pkey, f->pkey_len);
	if (c == NULL) {
		refuse(d, cn, f->type, f->corr, NODE_ST_NOCELL, 0, NULL);
		return;
	}
	if (c->n_pend >= d->cfg.max_pending) {
		refuse(d, cn, f->type, f->corr, NODE_ST_BUSY, 0, NULL);
		return;
	}
	if (c->n_pend == c->cap_pend) {
		c->cap_pend = c->cap_pend ? c->cap_pend * 2 : 4;
		struct pending *np = realloc(c->pend, c->cap_pend * sizeof *np);
		if (np == NULL)
			abort();
		c->pend = np;
	}
	ph_time now = now_ns(d);
	struct pending *p = &c->pend[c->n_pend++];
	p->client = f->client_id;
	p->seq = f->seq;
	p->corr = f->corr;
	p->since = now;
	p->conn = cn;
	cn->refs++;
	struct ph_event ev = { .type = PH_EV_REQUEST, .now = now };
	ev.request.client = f->client_id;
	ev.request.seq = f->seq;
	ev.request.consistency = f->consistency == NODE_EVENTUAL ? PH_EVENTUAL : PH_CONSISTENT;
	ev.request.token = f->token;
	ev.request.txn = f->data;
	ev.request.len = f->data_len;
	step(d, c, &ev);
}

static void handle_frame(struct node_daemon *d, struct conn *cn, const struct node_frame *f)
{
	if (f->type & NODE_REPLY) {
		refuse(d, cn, NODE_REQ_TXN, f->corr, NODE_ST_MALFORMED, 0, "a reply sent to a node");
		return;
	}
	if (d->stopping && f->type != NODE_REQ_NODE_STATUS) {
		refuse(d, cn, f->type, f->corr, NODE_ST_STOPPING, 0, NULL);
		return;
	}
	switch (f->type) {
	case NODE_REQ_TXN: do_txn(d, cn, f); break;
	case NODE_REQ_CREATE: do_create(d, cn, f); break;
	case NODE_REQ_DISCOVER: do_discover(d, cn, f); break;
	case NODE_REQ_CELL_STATUS: do_cell_status(d, cn, f); break;
	case NODE_REQ_NODE_STATUS: do_node_status(d, cn, f); break;
	case NODE_REQ_NODES: do_nodes(d, cn, f); break;
	}
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct conn *cn = h->data;
	if (cn->in_cap - cn->in_len < 16384) {
		size_t nc = cn->in_cap ? cn->in_cap * 2 : 32768;
		uint8_t *ni = realloc(cn->in, nc);
		if (ni == NULL) {
			*b = uv_buf_init(NULL, 0);
			return;
		}
		cn->in = ni;
		cn->in_cap = nc;
	}
	*b = uv_buf_init((char *)cn->in + cn->in_len, (unsigned)(cn->in_cap - cn->in_len));
}

static void on_conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct conn *cn = s->data;
	struct node_daemon *d = cn->d;
	if (n < 0) {
		conn_close(cn);
		return;
	}
	cn->in_len += (size_t)n;
	size_t off = 0;
	while (!cn->closing && !cn->close_after_write) {
		struct node_frame f;
		size_t used;
		int rc = node_frame_decode(cn->in + off, cn->in_len - off, d->cfg.max_frame, &f, &used);
		if (rc == NODE_ETRUNCATED)
			break;
		if (rc != 0) {
			uint64_t corr = 0;
			uint8_t type = NODE_REQ_TXN;
			if (cn->in_len - off >= NODE_FRAME_HEADER) {
				const uint8_t *h = cn->in + off;
				type = h[5];
				for (int i = 0; i < 8; i++)
					corr = corr << 8 | h[6 + i];
			}
			if (rc == NODE_ETOOBIG)
				d->m.frames_too_big++;
			refuse(d, cn, type, corr, rc == NODE_ETOOBIG ? NODE_ST_TOOBIG : NODE_ST_MALFORMED,
			       0, rc == NODE_ETOOBIG ? "frame over max_frame" : node_strerror(rc));
			cn->close_after_write = 1;
			uv_read_stop(s);
			break;
		}
		handle_frame(d, cn, &f);
		off += used;
	}
	if (off > 0) {
		memmove(cn->in, cn->in + off, cn->in_len - off);
		cn->in_len -= off;
	}
}

static void on_client(uv_stream_t *server, int status)
{
	struct node_daemon *d = server->data;
	if (status < 0)
		return;
	struct conn *cn = calloc(1, sizeof *cn);
	if (cn == NULL)
		abort();
	cn->d = d;
	cn->refs = 1;
	uv_tcp_init(&d->loop, &cn->tcp);
	cn->tcp.data = cn;
	cn->next = d->conns.next;
	cn->prev = &d->conns;
	d->conns.next->prev = cn;
	d->conns.next = cn;
	d->n_conns++;
	if (uv_accept(server, (uv_stream_t *)&cn->tcp) != 0) {
		conn_close(cn);
		return;
	}
	uv_tcp_nodelay(&cn->tcp, 1);
	if (d->n_conns > d->cfg.max_connections || d->stopping) {
		d->m.conns_refused++;
		refuse(d, cn, NODE_REQ_TXN, 0, d->stopping ? NODE_ST_STOPPING : NODE_ST_OVERLOAD, 0,
		       "too many connections");
		cn->close_after_write = 1;
		return;
	}
	uv_read_start((uv_stream_t *)&cn->tcp, conn_alloc, on_conn_read);
}

/* ---- metrics over HTTP (Prometheus text format) ------------------------------ */

struct hconn {
	uv_tcp_t tcp;
	uv_write_t w;
	char *body;
	char in[512];
	int done;
};

static void hclosed(uv_handle_t *h)
{
	struct hconn *hc = h->data;
	free(hc->body);
	free(hc);
}

static void hwritten(uv_write_t *w, int status)
{
	struct hconn *hc = w->data;
	uv_close((uv_handle_t *)&hc->tcp, hclosed);
}

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_printf(struct sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *s, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < s->cap - s->len) {
			s->len += (size_t)n;
			return;
		}
		s->cap = s->cap * 2 + (size_t)n;
		char *np = realloc(s->p, s->cap);
		if (np == NULL)
			abort();
		s->p = np;
	}
}

static void sb_hist(struct sbuf *s, const char *name, const char *help, const struct hist *h)
{
	sb_printf(s, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	uint64_t cum = 0;
	for (int i = 0; i < HIST_N; i++) {
		cum += h->counts[i];
		sb_printf(s, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, h->bounds[i], cum);
	}
	cum += h->counts[HIST_N];
	sb_printf(s, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n%s_sum %.9f\n%s_count %" PRIu64 "\n",
		  name, cum, name, h->sum, name, h->n);
}

static char *render_metrics(struct node_daemon *d)
{
	struct sbuf s = { xmalloc(8192), 0, 8192 };
	static const char *const st[] = { "ok", "nocell", "busy", "notleader", "overload",
					  "toobig", "malformed", "exists", "error", "stopping",
					  "behind" };
	sb_printf(&s, "# HELP physalia_requests_total Client replies sent, by status.\n"
		      "# TYPE physalia_requests_total counter\n");
	for (int i = 0; i <= NODE_ST_MAX; i++)
		sb_printf(&s, "physalia_requests_total{status=\"%s\"} %" PRIu64 "\n", st[i],
			  d->m.requests[i]);
	static const char *const es[] = { "", "committed", "ignored", "busy", "not_leader",
					  "behind", "error", "" };
	sb_printf(&s, "# HELP physalia_cell_replies_total Engine replies to transactions.\n"
		      "# TYPE physalia_cell_replies_total counter\n");
	for (int i = 1; i <= 6; i++)
		sb_printf(&s, "physalia_cell_replies_total{status=\"%s\"} %" PRIu64 "\n", es[i],
			  d->m.replies_by_engine[i]);
	sb_printf(&s, "# HELP physalia_commits_total Group commits (one SQLite transaction, one fsync).\n"
		      "# TYPE physalia_commits_total counter\nphysalia_commits_total %" PRIu64 "\n",
		  d->m.commits);
	sb_hist(&s, "physalia_fsync_seconds", "Commit (fsync) latency of each group commit.",
		&d->m.fsync);
	sb_hist(&s, "physalia_batch_cells", "Cells with records in each group commit.",
		&d->m.batch_cells);
	sb_hist(&s, "physalia_batch_records", "Records written by each group commit.",
		&d->m.batch_records);
	sb_printf(&s, "# HELP physalia_cells_hosted Cells hosted by this node.\n"
		      "# TYPE physalia_cells_hosted gauge\nphysalia_cells_hosted %" PRId64 "\n"
		      "# HELP physalia_cells_resident Cells in memory.\n"
		      "# TYPE physalia_cells_resident gauge\nphysalia_cells_resident %zu\n"
		      "# HELP physalia_cells_timers Cells with a timer armed.\n"
		      "# TYPE physalia_cells_timers gauge\nphysalia_cells_timers %zu\n"
		      "# HELP physalia_connections Client connections open.\n"
		      "# TYPE physalia_connections gauge\nphysalia_connections %zu\n",
		  d->hosted, d->resident, d->heap_n, d->n_conns);
	sb_printf(&s, "# HELP physalia_dropped_packets_total Peer datagrams or items dropped, by reason.\n"
		      "# TYPE physalia_dropped_packets_total counter\n");
	struct { const char *r; uint64_t v; } drops[] = {
		{ "hmac", d->m.dropped_hmac }, { "malformed", d->m.dropped_malformed },
		{ "replay", d->m.dropped_replay }, { "unknown_cell", d->m.dropped_unknown_cell },
		{ "unknown_peer", d->m.dropped_unknown_peer },
		{ "misdirected", d->m.dropped_misdirected }, { "send_failed", d->m.dropped_send },
	};
	for (size_t i = 0; i < sizeof drops / sizeof drops[0]; i++)
		sb_printf(&s, "physalia_dropped_packets_total{reason=\"%s\"} %" PRIu64 "\n",
			  drops[i].r, drops[i].v);
	sb_printf(&s, "# TYPE physalia_datagrams_total counter\n"
		      "physalia_datagrams_total{dir=\"in\"} %" PRIu64 "\n"
		      "physalia_datagrams_total{dir=\"out\"} %" PRIu64 "\n"
		      "# TYPE physalia_transitions_total counter\nphysalia_transitions_total %" PRIu64 "\n"
		      "# TYPE physalia_cell_loads_total counter\nphysalia_cell_loads_total %" PRIu64 "\n"
		      "# TYPE physalia_cell_evictions_total counter\nphysalia_cell_evictions_total %" PRIu64 "\n"
		      "# TYPE physalia_connections_refused_total counter\nphysalia_connections_refused_total %" PRIu64 "\n"
		      "# TYPE physalia_frames_too_big_total counter\nphysalia_frames_too_big_total %" PRIu64 "\n",
		  d->m.dgrams_in, d->m.dgrams_out, d->m.transitions, d->m.loads, d->m.evictions,
		  d->m.conns_refused, d->m.frames_too_big);
	return s.p;
}

static void halloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
	struct hconn *hc = h->data;
	*b = uv_buf_init(hc->in, sizeof hc->in);
}

static void hread(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct hconn *hc = s->data;
	struct node_daemon *d = s->loop->data;
	if (hc->done)
		return;
	if (n < 0) {
		hc->done = 1;
		uv_close((uv_handle_t *)&hc->tcp, hclosed);
		return;
	}
	if (n == 0)
		return;
	hc->done = 1;
	uv_read_stop(s);
	char *body = render_metrics(d);
	size_t bl = strlen(body);
	char head[160];
	int hl = snprintf(head, sizeof head,
			  "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
			  "Content-Length: %zu\r\nConnection: close\r\n\r\n", bl);
	hc->body = xmalloc((size_t)hl + bl);
	memcpy(hc->body, head, (size_t)hl);
	memcpy(hc->body + hl, body, bl);
	free(body);
	uv_buf_t buf = uv_buf_init(hc->body, (unsigned)((size_t)hl + bl));
	hc->w.data = hc;
	if (uv_write(&hc->w, s, &buf, 1, hwritten) != 0)
		uv_close((uv_handle_t *)&hc->tcp, hclosed);
}

static void on_http(uv_stream_t *server, int status)
{
	if (status < 0)
		return;
	struct hconn *hc = calloc(1, sizeof *hc);
	if (hc == NULL)
		return;
	uv_tcp_init(server->loop, &hc->tcp);
	hc->tcp.data = hc;
	if (uv_accept(server, (uv_stream_t *)&hc->tcp) != 0 ||
	    uv_read_start((uv_stream_t *)&hc->tcp, halloc, hread) != 0)
		uv_close((uv_handle_t *)&hc->tcp, hclosed);
}

/* ---- pending request sweep, signals, drain -------------------------------- */

/* Drop waiting entries whose cell never answered (lost leadership, ...):
 * the client times out and retries under the same request id. */
static void on_sweep(uv_timer_t *t)
{
	struct node_daemon *d = t->data;
	ph_time now = now_ns(d);
	for (size_t b = 0; b < d->nbuckets; b++) {
		for (struct ncell *c = d->buckets[b]; c; c = c->hnext) {
			for (size_t i = 0; i < c->n_pend;) {
				if (now - c->pend[i].since > PENDING_TIMEOUT_NS) {
					conn_unref(c->pend[i].conn);
					c->pend[i] = c->pend[--c->n_pend];
					d->m.timeouts++;
				} else {
					i++;
				}
			}
		}
	}
}

/* At exit: handles embedded in the daemon close without a callback. */
static void walk_close(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static int all_quiet(struct node_daemon *d)
{
	for (size_t b = 0; b < d->nbuckets; b++)
		for (struct ncell *c = d->buckets[b]; c; c = c->hnext)
			if (c->n_pend > 0)
				return 0;
	return !node_store_in_txn(d->store) && d->held_head == NULL;
}

static void on_drain(uv_timer_t *t)
{
	struct node_daemon *d = t->data;
	if (!all_quiet(d) && uv_hrtime() - d->drain_started < DRAIN_MAX_NS)
		return;
	node_log(NODE_LOG_INFO, "stop", "drained=%d", all_quiet(d));
	uv_stop(&d->loop);
}

static void on_term(uv_signal_t *s, int sig)
{
	struct node_daemon *d = s->data;
	if (d->stopping)
		return;
	d->stopping = 1;
	d->drain_started = uv_hrtime();
	node_log(NODE_LOG_INFO, "draining", "signal=%d", sig);
	uv_close((uv_handle_t *)&d->server, NULL);
	uv_timer_start(&d->drain, on_drain, 0, 20);
}

static void on_hup(uv_signal_t *s, int sig)
{
	struct node_daemon *d = s->data;
	struct node_config nc;
	char err[512];
	if (d->config_path == NULL ||
	    node_config_load(d->config_path, &nc, err, sizeof err) != 0) {
		node_log(NODE_LOG_ERROR, "reload", "error=\"%s\" keys=unchanged",
			 d->config_path ? err : "no config file");
		return;
	}
	memcpy(d->keys[0], nc.key, NODE_KEY_BYTES);
	d->nkeys = 1;
	if (nc.has_prev_key) {
		memcpy(d->keys[1], nc.prev_key, NODE_KEY_BYTES);
		d->nkeys = 2;
	}
	node_config_free(&nc);
	node_log(NODE_LOG_INFO, "reload", "keys=%zu", d->nkeys);
}

/* ---- start and stop ------------------------------------------------------------ */

static int bind_all(struct node_daemon *d)
{
	int rc;
	uv_udp_init(&d->loop, &d->udp);
	d->udp.data = d;
	if ((rc = uv_udp_bind(&d->udp, (const struct sockaddr *)&d->cfg.peer_listen.sa, 0)) != 0) {
		node_log(NODE_LOG_ERROR, "bind", "what=peers addr=%s error=\"%s\"",
			 d->cfg.peer_listen.text, uv_strerror(rc));
		return -1;
	}
	int sz = 8 << 20;
	uv_recv_buffer_size((uv_handle_t *)&d->udp, &sz);
	sz = 8 << 20;
	uv_send_buffer_size((uv_handle_t *)&d->udp, &sz);
	uv_udp_recv_start(&d->udp, udp_alloc, on_udp);
	uv_tcp_init(&d->loop, &d->server);
	d->server.data = d;
	if ((rc = uv_tcp_bind(&d->server, (const struct sockaddr *)&d->cfg.client_listen.sa, 0)) != 0 ||
	    (rc = uv_listen((uv_stream_t *)&d->server, 511, on_client)) != 0) {
		node_log(NODE_LOG_ERROR, "bind", "what=clients addr=%s error=\"%s\"",
			 d->cfg.client_listen.text, uv_strerror(rc));
		return -1;
	}
	uv_tcp_init(&d->loop, &d->http);
	d->http.data = d;
	if (d->cfg.has_metrics &&
	    ((rc = uv_tcp_bind(&d->http, (const struct sockaddr *)&d->cfg.metrics_listen.sa, 0)) != 0 ||
	     (rc = uv_listen((uv_stream_t *)&d->http, 64, on_http)) != 0)) {
		node_log(NODE_LOG_ERROR, "bind", "what=metrics addr=%s error=\"%s\"",
			 d->cfg.metrics_listen.text, uv_strerror(rc));
		return -1;
	}
	return 0;
}

static void walk_close(uv_handle_t *h, void *arg);

/* Undo a start-up that failed part way: close what was opened, free what
 * was allocated (calloc'ed fields are NULL when not reached). */
static int startup_failed(struct node_daemon *d, int loop_up)
{
	if (loop_up) {
		uv_walk(&d->loop, walk_close, NULL);
		uv_run(&d->loop, UV_RUN_DEFAULT);
		uv_loop_close(&d->loop);
	}
	node_store_close(d->store);
	free(d->buckets);
	free(d->dcache);
	free(d->out);
	free(d->replay);
	node_config_free(&d->cfg);
	free(d);
	return NODE_EXIT_STARTUP;
}

int node_daemon_run(struct node_config *cfg, const char *config_path)
{
	if (sodium_init() < 0) {
		node_config_free(cfg);
		return NODE_EXIT_STARTUP;
	}
	struct node_daemon *d = calloc(1, sizeof *d);
	if (d == NULL) {
		node_config_free(cfg);
		return NODE_EXIT_STARTUP;
	}
	d->cfg = *cfg;
	d->config_path = config_path;
	d->started = uv_hrtime();
	node_log_setup(d->cfg.log_level, d->cfg.node_id);
	memcpy(d->keys[0], d->cfg.key, NODE_KEY_BYTES);
	d->nkeys = 1;
	if (d->cfg.has_prev_key) {
		memcpy(d->keys[1], d->cfg.prev_key, NODE_KEY_BYTES);
		d->nkeys = 2;
	}
	static const double fs_b[HIST_N] = { 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
					     0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1 };
	static const double bc_b[HIST_N] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048,
					     4096, 8192 };
	hist_init(&d->m.fsync, fs_b);
	hist_init(&d->m.batch_cells, bc_b);
	hist_init(&d->m.batch_records, bc_b);
	if (mkdir(d->cfg.data_dir, 0700) != 0 && errno != EEXIST) {
		node_log(NODE_LOG_ERROR, "startup", "what=data_dir path=%s error=\"%s\"",
			 d->cfg.data_dir, strerror(errno));
		return startup_failed(d, 0);
	}
	char path[600], err[512];
	snprintf(path, sizeof path, "%s/node.db", d->cfg.data_dir);
	if (node_store_open(path, NULL, &d->store, err, sizeof err) != 0) {
		node_log(NODE_LOG_ERROR, "startup", "what=store path=%s error=\"%s\"", path, err);
		return startup_failed(d, 0);
	}
	d->incarnation = node_store_incarnation(d->store);
	d->hosted = node_store_count_cells(d->store);
	if (d->hosted < 0)
		fatal_storage(d, "count cells");
	d->nbuckets = 1024;
	d->buckets = calloc(d->nbuckets, sizeof *d->buckets);
	d->dcache_n = 4096;
	d->dcache = calloc(d->dcache_n, sizeof *d->dcache);
	d->out = calloc(d->cfg.n_peers + 1, sizeof *d->out);
	d->replay = calloc(d->cfg.n_peers + 1, sizeof *d->replay);
	if (!d->buckets || !d->dcache || !d->out || !d->replay)
		return startup_failed(d, 0);
	d->lru.lru_next = d->lru.lru_prev = &d->lru;
	d->conns.next = d->conns.prev = &d->conns;
	uv_loop_init(&d->loop);
	d->loop.data = d;
	if (bind_all(d) != 0)
		return startup_failed(d, 1);
	uv_timer_init(&d->loop, &d->timer);
	d->timer.data = d;
	uv_timer_init(&d->loop, &d->sweep);
	d->sweep.data = d;
	uv_timer_start(&d->sweep, on_sweep, 1000, 1000);
	uv_unref((uv_handle_t *)&d->sweep);
	uv_timer_init(&d->loop, &d->drain);
	d->drain.data = d;
	uv_check_init(&d->loop, &d->check);
	d->check.data = d;
	uv_check_start(&d->check, on_check);
	uv_idle_init(&d->loop, &d->idle);
	d->idle.data = d;
	uv_signal_init(&d->loop, &d->sigterm);
	uv_signal_init(&d->loop, &d->sigint);
	uv_signal_init(&d->loop, &d->sighup);
	d->sigterm.data = d->sigint.data = d->sighup.data = d;
	uv_signal_start(&d->sigterm, on_term, SIGTERM);
	uv_signal_start(&d->sigint, on_term, SIGINT);
	uv_signal_start(&d->sighup, on_hup, SIGHUP);
	node_log(NODE_LOG_INFO, "start",
		 "peers=%s clients=%s metrics=%s data_dir=%s incarnation=%" PRIu64
		 " cells_hosted=%" PRId64 " startup_ms=%.1f",
		 d->cfg.peer_listen.text, d->cfg.client_listen.text,
		 d->cfg.has_metrics ? d->cfg.metrics_listen.text : "off", d->cfg.data_dir,
		 d->incarnation, d->hosted, (double)(uv_hrtime() - d->started) / 1e6);
	uv_run(&d->loop, UV_RUN_DEFAULT);
	/* stopped: finish the turn in progress, close everything */
	turn_end(d);
	while (d->conns.next != &d->conns)
		conn_close(d->conns.next);
	uv_walk(&d->loop, walk_close, NULL);
	uv_run(&d->loop, UV_RUN_DEFAULT);
	uv_loop_close(&d->loop);
	for (size_t b = 0; b < d->nbuckets; b++) {
		struct ncell *c = d->buckets[b], *nx;
		for (; c; c = nx) {
			nx = c->hnext;
			for (size_t i = 0; i < c->n_pend; i++)
				conn_unref(c->pend[i].conn);
			ph_cell_free(c->cell);
			free(c->pend);
			free(c);
		}
	}
	for (size_t b = 0; b < d->dcache_n; b++) {
		struct dentry *e = d->dcache[b], *nx;
		for (; e; e = nx) {
			nx = e->next;
			free(e);
		}
	}
	for (size_t i = 0; i < d->cfg.n_peers; i++) {
		struct outitem *it = d->out[i].head, *nx;
		for (; it; it = nx) {
			nx = it->next;
			free(it);
		}
	}
	node_store_close(d->store);
	node_log(NODE_LOG_INFO, "stopped", "commits=%" PRIu64, d->m.commits);
	free(d->buckets);
	free(d->dcache);
	free(d->out);
	free(d->replay);
	free(d->heap);
	node_config_free(&d->cfg);
	free(d);
	return NODE_EXIT_OK;
}
