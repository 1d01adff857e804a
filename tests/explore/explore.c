/* The explorer (explore.h): breadth-first search over the states of a small
 * cell of real ph_cell replicas.
 *
 * The engine cannot be copied, so a state is reached by replaying its event
 * path from the initial world: every node of the search stores only its
 * parent and the event that led to it.  Replays are exact because the
 * engine and this harness are deterministic. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <engine.h>

#include "explore.h"
#include "sim.h"
#include "sim_check.h"
#include "sim_map.h"

#define EX_MAX_REPLICAS 5
#define EX_MAX_CLIENTS 3
#define EX_MAX_EVENTS 512
#define EX_MAX_DEPTH 256
#define EX_MAX_DEPTH_PRE 128

void ex_cfg_init(struct ex_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->replicas = 3;
	c->clients = 1;
	c->max_timeouts = 2;
	c->max_crashes = 0;
	c->max_dups = 0;
	c->max_sends = 1;
	c->reorder = -1;
	c->por = true;
}

/* ---------------------------------------------------------------- events */

enum ex_kind {
	EX_DELIVER = 'd', /* a: index in flight */
	EX_DUP = 'u',     /* a: index in flight; delivered, and stays in flight */
	EX_DISK = 'k',    /* a: replica; its oldest pending batch becomes durable */
	EX_TIMEOUT = 't', /* a: replica; time advances to its wake-up */
	EX_CRASH = 'c',   /* a: replica */
	EX_RESTART = 'r', /* a: replica; from its durable records */
	EX_REQUEST = 'q', /* a: client, b: replica */
	EX_DROP = 'x',    /* a: index in flight; the message is lost */
};

static uint32_t ev_make(int kind, unsigned a, unsigned b)
{
	return (uint32_t)kind << 24 | (a & 0xfff) << 12 | (b & 0xfff);
}
static int ev_kind(uint32_t e)
{
	return (int)(e >> 24);
}
static unsigned ev_a(uint32_t e)
{
	return (e >> 12) & 0xfff;
}
static unsigned ev_b(uint32_t e)
{
	return e & 0xfff;
}

/* ----------------------------------------------------------------- world */

struct ex_held {
	uint64_t pid;
	bool reply;
	struct ph_reply rep; /* result pointer dropped */
	uint32_t to;
	uint8_t *bytes;
	size_t len;
};

struct ex_msg {
	uint32_t from, to;
	uint8_t *bytes;
	size_t len;
	uint64_t h;
};

struct ex_rep {
	struct ph_cell *cell;
	bool up;
	struct sim_disk disk;
	struct ex_held *held;
	size_t nheld, capheld;
	ph_time now, wake;
	int inc;
};

struct ex_world {
	const struct ex_cfg *cfg;
	int n;
	struct ex_rep r[EX_MAX_REPLICAS];
	struct ex_msg *fl;
	size_t nfl, capfl;
	int timeouts, crashes, dups, losses;
	int sends[EX_MAX_CLIENTS];
	bool acked[EX_MAX_CLIENTS];
	uint8_t txn[EX_MAX_CLIENTS][256];
	size_t txnlen[EX_MAX_CLIENTS];
	struct sim_checker chk;
	struct sim_rng rng;
	uint64_t steps;
	bool broken; /* the harness itself failed (out of memory, engine error) */
	char broke[200];
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}
#define FNV0 0xcbf29ce484222325ull

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void broke(struct ex_world *w, const char *what, int rc)
{
	if (!w->broken)
		snprintf(w->broke, sizeof(w->broke), "%s: %s", what, ph_strerror(rc));
	w->broken = true;
}

static void cell_config(const struct ex_world *w, int i, struct ph_cell_config *cfg)
{
	static const uint8_t pkey[] = "vol-x";
	ph_cell_config_init(cfg);
	cfg->pkey = pkey;
	cfg->pkey_len = sizeof(pkey) - 1;
	cfg->self = (ph_node_id)(i + 1);
	cfg->jury_n = (size_t)w->n;
	for (int k = 0; k < w->n; k++)
		cfg->jury[k] = (ph_node_id)(k + 1);
	cfg->alpha = 2;
	cfg->max_batch = 4;
	cfg->seed = 0x1234u + (uint64_t)i * 7919u + (uint64_t)w->r[i].inc * 104729u;
	cfg->planted_bug = w->cfg->planted_bug;
}

static void fl_push(struct ex_world *w, uint32_t from, uint32_t to, const uint8_t *b, size_t len)
{
	if (w->nfl == w->capfl) {
		size_t cap = w->capfl ? w->capfl * 2 : 32;
		struct ex_msg *p = realloc(w->fl, cap * sizeof(*p));
		if (!p) {
			broke(w, "in flight", PH_ENOMEM);
			return;
		}
		w->fl = p;
		w->capfl = cap;
	}
	struct ex_msg m = {.from = from, .to = to, .len = len};
	m.bytes = malloc(len ? len : 1);
	if (!m.bytes) {
		broke(w, "in flight", PH_ENOMEM);
		return;
	}
	memcpy(m.bytes, b, len);
	m.h = fnv(fnv(FNV0, &to, sizeof(to)), b, len);
	m.h = fnv(m.h, &from, sizeof(from));
	w->fl[w->nfl++] = m;
}

static void release(struct ex_world *w, int i, struct ex_held *h)
{
	if (h->reply) {
		sim_check_reply(&w->chk, i, &h->rep, true);
		uint64_t c = h->rep.client - 1;
		if (c < (uint64_t)w->cfg->clients && h->rep.status == PH_ST_COMMITTED)
			w->acked[c] = true;
	} else {
		sim_check_sent(&w->chk, i, h->bytes, h->len);
		fl_push(w, (uint32_t)(i + 1), h->to, h->bytes, h->len);
	}
}

static void hold(struct ex_world *w, struct ex_rep *r, const struct ex_held *h)
{
	if (r->nheld == r->capheld) {
		size_t cap = r->capheld ? r->capheld * 2 : 16;
		struct ex_held *p = realloc(r->held, cap * sizeof(*p));
		if (!p) {
			broke(w, "held", PH_ENOMEM);
			return;
		}
		r->held = p;
		r->capheld = cap;
	}
	r->held[r->nheld] = *h;
	if (h->len) {
		r->held[r->nheld].bytes = malloc(h->len);
		if (!r->held[r->nheld].bytes) {
			broke(w, "held", PH_ENOMEM);
			return;
		}
		memcpy(r->held[r->nheld].bytes, h->bytes, h->len);
	}
	r->nheld++;
}

static void step(struct ex_world *w, int i, struct ph_event *ev)
{
	struct ex_rep *r = &w->r[i];
	ev->now = r->now;
	struct ph_update u;
	sim_check_before_step(&w->chk, i, r->cell);
	int rc = ph_cell_step(r->cell, ev, &u);
	w->steps++;
	if (rc) {
		broke(w, "ph_cell_step", rc);
		return;
	}
	bool undurable = r->disk.npending > 0 || u.n_records > 0;
	sim_check_after_step(&w->chk, i, r->cell, &u, undurable);
	if (u.n_records) {
		struct sim_rec recs[64];
		size_t n = u.n_records <= 64 ? u.n_records : 64;
		if (u.n_records > 64)
			broke(w, "more than 64 records in one update", PH_ETOOBIG);
		for (size_t k = 0; k < n; k++) {
			recs[k].kind = u.records[k].kind;
			recs[k].slot = u.records[k].slot;
			recs[k].bytes = (uint8_t *)u.records[k].bytes;
			recs[k].len = u.records[k].len;
		}
		sim_time done;
		if (sim_disk_submit(&r->disk, &w->rng, 0, u.persist_id, recs, n, &done) != SIM_OK)
			broke(w, "disk", PH_ENOMEM);
	}
	bool pending = r->disk.npending > 0;
	for (size_t k = 0; k < u.n_messages; k++) {
		const struct ph_message *m = &u.messages[k];
		struct ex_held h = {.pid = u.persist_id, .to = m->to, .bytes = (uint8_t *)m->bytes,
				    .len = m->len};
		if (m->after_durable && pending)
			hold(w, r, &h);
		else
			release(w, i, &h);
	}
	for (size_t k = 0; k < u.n_replies; k++) {
		struct ex_held h = {.pid = u.persist_id, .reply = true, .rep = u.replies[k]};
		h.rep.result = NULL;
		h.rep.result_len = 0;
		if (u.replies[k].after_durable && pending)
			hold(w, r, &h);
		else
			release(w, i, &h);
	}
	r->wake = u.wake;
}

static int start(struct ex_world *w, int i, bool load)
{
	struct ex_rep *r = &w->r[i];
	struct ph_cell_config cfg;
	cell_config(w, i, &cfg);
	int rc = ph_cell_new(&cfg, NULL, &r->cell);
	if (rc) {
		broke(w, "ph_cell_new", rc);
		return -1;
	}
	if (load) {
		size_t n = r->disk.ndurable;
		struct ph_record *recs = calloc(n ? n : 1, sizeof(*recs));
		if (!recs) {
			broke(w, "restart", PH_ENOMEM);
			return -1;
		}
		for (size_t k = 0; k < n; k++) {
			recs[k].kind = r->disk.durable[k].kind;
			recs[k].slot = r->disk.durable[k].slot;
			recs[k].bytes = r->disk.durable[k].bytes;
			recs[k].len = r->disk.durable[k].len;
		}
		rc = ph_cell_load(r->cell, recs, n);
		free(recs);
		if (rc) {
			/* The engine refusing its own durable records is a finding. */
			if (w->chk.violations++ == 0)
				snprintf(w->chk.violation, sizeof(w->chk.violation),
					 "node %d cannot restart from its durable records: %s", i + 1,
					 ph_strerror(rc));
			return -1;
		}
	}
	r->up = true;
	r->wake = 0;
	if (load)
		sim_check_restart(&w->chk, i, r->cell);
	struct ph_event ev = {.type = PH_EV_TICK};
	step(w, i, &ev);
	return 0;
}

static void free_held(struct ex_rep *r)
{
	for (size_t k = 0; k < r->nheld; k++)
		free(r->held[k].bytes);
	r->nheld = 0;
}

static void world_free(struct ex_world *w)
{
	for (int i = 0; i < w->n; i++) {
		ph_cell_free(w->r[i].cell);
		free_held(&w->r[i]);
		free(w->r[i].held);
		sim_disk_close(&w->r[i].disk);
	}
	for (size_t k = 0; k < w->nfl; k++)
		free(w->fl[k].bytes);
	free(w->fl);
	sim_check_close(&w->chk);
	free(w);
}

static int build_txn(struct ex_world *w, int c)
{
	struct ph_txn *t;
	int rc = ph_txn_new(NULL, &t);
	if (rc)
		return rc;
	mpz_t one;
	mpz_init_set_ui(one, (unsigned long)c + 1);
	/* Client 0 increments x (a retry applied twice shows), the others
	 * write their own value to x. */
	if (c == 0)
		rc = ph_txn_increment(t, "x", 1, one);
	else {
		struct ph_value v = {.type = PH_T_INT, .integer = one};
		rc = ph_txn_put(t, "x", 1, &v);
	}
	if (!rc)
		rc = ph_txn_encode(t, w->txn[c], sizeof(w->txn[c]), &w->txnlen[c]);
	mpz_clear(one);
	ph_txn_free(t);
	return rc;
}

static struct ex_world *world_new(const struct ex_cfg *cfg)
{
	struct ex_world *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->cfg = cfg;
	w->n = cfg->replicas;
	sim_rng_seed(&w->rng, 1);
	ph_node_id ids[EX_MAX_REPLICAS];
	for (int i = 0; i < w->n; i++)
		ids[i] = (ph_node_id)(i + 1);
	sim_check_init(&w->chk, ids, w->n);
	struct sim_disk_cfg dc = {.truncate_kind = PH_REC_TRUNCATE,
				  .truncate_targets = {PH_REC_ACCEPT, PH_REC_CHOSEN}};
	for (int i = 0; i < w->n; i++)
		sim_disk_init(&w->r[i].disk, &dc);
	for (int c = 0; c < cfg->clients; c++)
		if (build_txn(w, c)) {
			broke(w, "transaction", PH_EINVAL);
			return w;
		}
	for (int i = 0; i < w->n; i++)
		if (start(w, i, false))
			return w;
	return w;
}

static bool apply1(struct ex_world *w, uint32_t e);

/* Applies one event; false when it is not enabled (replay of a bad path).
 * With eager disks, the batches it wrote complete as part of it. */
static bool apply(struct ex_world *w, uint32_t e)
{
	if (!apply1(w, e))
		return false;
	for (bool more = w->cfg->eager_disk; more && !w->broken && !w->chk.violations;) {
		more = false;
		for (int i = 0; i < w->n; i++)
			if (w->r[i].up && w->r[i].disk.npending) {
				apply1(w, ev_make(EX_DISK, (unsigned)i, 0));
				more = true;
			}
	}
	return true;
}

static bool apply1(struct ex_world *w, uint32_t e)
{
	unsigned a = ev_a(e), b = ev_b(e);
	switch (ev_kind(e)) {
	case EX_DELIVER:
	case EX_DUP: {
		if (a >= w->nfl)
			return false;
		struct ex_msg m = w->fl[a];
		if (ev_kind(e) == EX_DELIVER) {
			memmove(&w->fl[a], &w->fl[a + 1], (w->nfl - a - 1) * sizeof(*w->fl));
			w->nfl--;
		} else {
			w->dups++;
		}
		int i = (int)m.to - 1;
		if (i >= 0 && i < w->n && w->r[i].up) {
			struct ph_event ev = {.type = PH_EV_RECEIVE};
			ev.receive.from = m.from;
			ev.receive.bytes = m.bytes;
			ev.receive.len = m.len;
			step(w, i, &ev);
		}
		if (ev_kind(e) == EX_DELIVER)
			free(m.bytes);
		return true;
	}
	case EX_DROP:
		if (a >= w->nfl)
			return false;
		free(w->fl[a].bytes);
		memmove(&w->fl[a], &w->fl[a + 1], (w->nfl - a - 1) * sizeof(*w->fl));
		w->nfl--;
		w->losses++;
		return true;
	case EX_DISK: {
		if (a >= (unsigned)w->n || !w->r[a].up || !w->r[a].disk.npending)
			return false;
		struct ex_rep *r = &w->r[a];
		uint64_t pid = r->disk.pending[0].persist_id;
		if (sim_disk_complete(&r->disk, &w->rng, pid) != SIM_OK) {
			broke(w, "disk complete", PH_EINVAL);
			return true;
		}
		size_t k = 0;
		for (size_t j = 0; j < r->nheld; j++) {
			if (r->held[j].pid <= pid) {
				release(w, (int)a, &r->held[j]);
				free(r->held[j].bytes);
			} else {
				r->held[k++] = r->held[j];
			}
		}
		r->nheld = k;
		struct ph_event ev = {.type = PH_EV_DURABLE};
		ev.durable.persist_id = pid;
		step(w, (int)a, &ev);
		return true;
	}
	case EX_TIMEOUT: {
		if (a >= (unsigned)w->n || !w->r[a].up || !w->r[a].wake)
			return false;
		struct ex_rep *r = &w->r[a];
		if (r->wake > r->now)
			r->now = r->wake;
		w->timeouts++;
		struct ph_event ev = {.type = PH_EV_TICK};
		step(w, (int)a, &ev);
		return true;
	}
	case EX_CRASH: {
		if (a >= (unsigned)w->n || !w->r[a].up)
			return false;
		struct ex_rep *r = &w->r[a];
		sim_disk_crash(&r->disk, &w->rng);
		ph_cell_free(r->cell);
		r->cell = NULL;
		free_held(r);
		r->up = false;
		r->inc++;
		w->crashes++;
		sim_check_crash(&w->chk, (int)a);
		return true;
	}
	case EX_RESTART:
		if (a >= (unsigned)w->n || w->r[a].up)
			return false;
		w->r[a].disk.busy_until = 0;
		start(w, (int)a, true);
		return true;
	case EX_REQUEST: {
		if (a >= (unsigned)w->cfg->clients || b >= (unsigned)w->n || !w->r[b].up)
			return false;
		w->sends[a]++;
		struct ph_event ev = {.type = PH_EV_REQUEST};
		ev.request.client = a + 1;
		ev.request.seq = 1;
		ev.request.consistency = PH_CONSISTENT;
		ev.request.txn = w->txn[a];
		ev.request.len = w->txnlen[a];
		step(w, (int)b, &ev);
		return true;
	}
	}
	return false;
}

/* The enabled events of the current state, in a canonical order.
 * Identical in-flight messages are delivered only once (the first). */
static size_t enabled(const struct ex_world *w, uint32_t *out, size_t cap)
{
	size_t n = 0;
#define ADD(e)                      \
	do {                        \
		if (n < cap)        \
			out[n] = (e); \
		n++;                \
	} while (0)
	int ahead[EX_MAX_REPLICAS + 1] = {0}; /* older messages to the same node */
	for (size_t k = 0; k < w->nfl; k++) {
		uint32_t to = w->fl[k].to;
		int pos = to <= EX_MAX_REPLICAS ? ahead[to]++ : 0;
		if (w->cfg->reorder >= 0 && pos > w->cfg->reorder)
			continue;
		bool seen = false;
		for (size_t j = 0; j < k && !seen; j++)
			seen = w->fl[j].h == w->fl[k].h && w->fl[j].to == w->fl[k].to;
		if (seen)
			continue;
		ADD(ev_make(EX_DELIVER, (unsigned)k, 0));
		if (w->dups < w->cfg->max_dups)
			ADD(ev_make(EX_DUP, (unsigned)k, 0));
		if (w->cfg->reorder >= 0 && w->losses < w->cfg->max_losses)
			ADD(ev_make(EX_DROP, (unsigned)k, 0));
	}
	for (int i = 0; i < w->n; i++) {
		const struct ex_rep *r = &w->r[i];
		if (r->up && r->disk.npending)
			ADD(ev_make(EX_DISK, (unsigned)i, 0));
		if (r->up && r->wake && w->timeouts < w->cfg->max_timeouts)
			ADD(ev_make(EX_TIMEOUT, (unsigned)i, 0));
		if (r->up && w->crashes < w->cfg->max_crashes)
			ADD(ev_make(EX_CRASH, (unsigned)i, 0));
		if (!r->up)
			ADD(ev_make(EX_RESTART, (unsigned)i, 0));
	}
	for (int c = 0; c < w->cfg->clients; c++)
		if (w->sends[c] < w->cfg->max_sends && !w->acked[c])
			for (int i = 0; i < w->n; i++)
				if (w->r[i].up)
					ADD(ev_make(EX_REQUEST, (unsigned)c, (unsigned)i));
#undef ADD
	return n;
}

/* The replica an event concerns (for partial-order reduction), and whether
 * it spends a shared budget (then it depends on every other such event). */
static int ev_owner(const struct ex_world *w, uint32_t e, bool *budget)
{
	*budget = false;
	switch (ev_kind(e)) {
	case EX_DELIVER:
		return (int)w->fl[ev_a(e)].to - 1;
	case EX_DUP:
	case EX_DROP:
		*budget = true;
		return (int)w->fl[ev_a(e)].to - 1;
	case EX_TIMEOUT:
	case EX_CRASH:
		*budget = true;
		return (int)ev_a(e);
	case EX_REQUEST:
		return (int)ev_b(e);
	default:
		return (int)ev_a(e);
	}
}

/* A stable identity of an event (independent of in-flight indices), for
 * sleep sets. */
static uint64_t ev_ident(const struct ex_world *w, uint32_t e)
{
	if (ev_kind(e) == EX_DELIVER || ev_kind(e) == EX_DUP || ev_kind(e) == EX_DROP)
		return mix64(w->fl[ev_a(e)].h ^ (uint64_t)ev_kind(e) << 56);
	return mix64((uint64_t)e * 0x9e3779b97f4a7c15ull + 1);
}

static uint64_t state_hash(const struct ex_world *w)
{
	uint64_t h = FNV0;
	for (int i = 0; i < w->n; i++) {
		const struct ex_rep *r = &w->r[i];
		uint64_t x = r->up ? ph_cell_state_hash(r->cell) : 0xd0d0d0d0ull;
		h = fnv(h, &x, sizeof(x));
		x = sim_disk_hash(&r->disk);
		h = fnv(h, &x, sizeof(x));
		for (size_t b = 0; b < r->disk.npending; b++) {
			const struct sim_batch *bt = &r->disk.pending[b];
			for (size_t k = 0; k < bt->n; k++) {
				h = fnv(h, &bt->recs[k].kind, sizeof(bt->recs[k].kind));
				h = fnv(h, bt->recs[k].bytes, bt->recs[k].len);
			}
			h = fnv(h, "|", 1);
		}
		uint64_t held = 0;
		for (size_t k = 0; k < r->nheld; k++) {
			const struct ex_held *hd = &r->held[k];
			uint64_t y = fnv(FNV0, &hd->pid, sizeof(hd->pid));
			if (hd->reply) {
				y = fnv(y, &hd->rep.client, sizeof(hd->rep.client));
				y = fnv(y, &hd->rep.status, sizeof(hd->rep.status));
			} else {
				y = fnv(y, &hd->to, sizeof(hd->to));
				y = fnv(y, hd->bytes, hd->len);
			}
			held += mix64(y);
		}
		h = fnv(h, &held, sizeof(held));
	}
	if (w->cfg->reorder < 0) {
		uint64_t fl = 0; /* a multiset: order does not matter */
		for (size_t k = 0; k < w->nfl; k++)
			fl += mix64(w->fl[k].h);
		h = fnv(h, &fl, sizeof(fl));
	} else {
		/* Bounded reordering: the order towards each node matters. */
		for (uint32_t to = 1; to <= (uint32_t)w->n; to++) {
			for (size_t k = 0; k < w->nfl; k++)
				if (w->fl[k].to == to)
					h = fnv(h, &w->fl[k].h, sizeof(w->fl[k].h));
			h = fnv(h, "/", 1);
		}
	}
	int budget[4] = {w->timeouts, w->crashes, w->dups, w->losses};
	h = fnv(h, budget, sizeof(budget));
	h = fnv(h, w->sends, sizeof(w->sends));
	h = fnv(h, w->acked, sizeof(w->acked));
	return h;
}

/* ------------------------------------------------------------ printing */

static void ev_text(uint32_t e, char *buf, size_t size)
{
	if (ev_kind(e) == EX_REQUEST)
		snprintf(buf, size, "q%u@%u", ev_a(e), ev_b(e) + 1);
	else if (ev_kind(e) == EX_DELIVER || ev_kind(e) == EX_DUP || ev_kind(e) == EX_DROP)
		snprintf(buf, size, "%c%u", ev_kind(e), ev_a(e));
	else
		snprintf(buf, size, "%c%u", ev_kind(e), ev_a(e) + 1);
}

static void ev_describe(const struct ex_world *w, uint32_t e, char *buf, size_t size)
{
	switch (ev_kind(e)) {
	case EX_DELIVER:
	case EX_DUP:
	case EX_DROP: {
		const struct ex_msg *m = &w->fl[ev_a(e)];
		snprintf(buf, size, "%s %s %u -> %u",
			 ev_kind(e) == EX_DUP ? "duplicate" : ev_kind(e) == EX_DROP ? "lose" : "deliver",
			 ph_msg_type_name(ph_msg_peek_type(m->bytes, m->len)), m->from, m->to);
		break;
	}
	case EX_DISK:
		snprintf(buf, size, "disk of node %u completes a batch", ev_a(e) + 1);
		break;
	case EX_TIMEOUT:
		snprintf(buf, size, "timer of node %u fires", ev_a(e) + 1);
		break;
	case EX_CRASH:
		snprintf(buf, size, "node %u crashes", ev_a(e) + 1);
		break;
	case EX_RESTART:
		snprintf(buf, size, "node %u restarts from its durable records", ev_a(e) + 1);
		break;
	case EX_REQUEST:
		snprintf(buf, size, "client %u sends its request to node %u", ev_a(e) + 1, ev_b(e) + 1);
		break;
	default:
		snprintf(buf, size, "?");
	}
}

static int parse_event(const char *tok, size_t len, uint32_t *out)
{
	char buf[32];
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, tok, len);
	buf[len] = 0;
	char *end;
	unsigned long a = strtoul(buf + 1, &end, 10), b = 0;
	if (end == buf + 1 || a > 0xfff)
		return -1;
	int k = buf[0];
	if (k == EX_REQUEST) {
		if (*end != '@')
			return -1;
		char *e2;
		b = strtoul(end + 1, &e2, 10);
		if (e2 == end + 1 || *e2 || b < 1 || b > EX_MAX_REPLICAS)
			return -1;
		*out = ev_make(k, (unsigned)a, (unsigned)(b - 1));
		return 0;
	}
	if (*end)
		return -1;
	if (k == EX_DELIVER || k == EX_DUP || k == EX_DROP) {
		*out = ev_make(k, (unsigned)a, 0);
		return 0;
	}
	if (k != EX_DISK && k != EX_TIMEOUT && k != EX_CRASH && k != EX_RESTART)
		return -1;
	if (a < 1 || a > EX_MAX_REPLICAS)
		return -1;
	*out = ev_make(k, (unsigned)(a - 1), 0);
	return 0;
}

/* --------------------------------------------------------------- search */

struct node {
	uint32_t parent;
	uint32_t ev;
	uint32_t depth;
	uint32_t sleep_off, sleep_n; /* sleep set: idents in the sleep pool */
};

struct search {
	struct node *nodes;
	size_t n, cap;
	uint64_t *pool; /* sleep-set identities */
	size_t npool, cappool;
	struct sim_map seen; /* state hash -> node index + 1 */
};

static int path_of(const struct search *s, uint32_t idx, uint32_t *path, int cap)
{
	int d = (int)s->nodes[idx].depth;
	if (d > cap)
		return -1;
	for (int k = d - 1; k >= 0; k--) {
		path[k] = s->nodes[idx].ev;
		idx = s->nodes[idx].parent;
	}
	return d;
}

static int parse_seq(const char *seq, uint32_t *out, int cap, int *n)
{
	int k = 0;
	const char *p = seq;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, " ,");
		if (k == cap || parse_event(p, len, &out[k]))
			return -1;
		k++;
		p += len;
	}
	*n = k;
	return 0;
}

/* The scenario's start: the initial world, then the prefix; budgets count
 * from here. */
static struct ex_world *root(const struct ex_cfg *cfg, const uint32_t *pre, int npre)
{
	struct ex_world *w = world_new(cfg);
	if (!w)
		return NULL;
	for (int k = 0; k < npre && !w->broken && !w->chk.violations; k++)
		if (!apply(w, pre[k])) {
			broke(w, "the prefix names an event that is not enabled", PH_EINVAL);
			break;
		}
	w->timeouts = w->crashes = w->dups = w->losses = 0;
	memset(w->sends, 0, sizeof(w->sends));
	return w;
}

/* The parsed prefix of the search under way (one search at a time). */
static uint32_t g_pre[EX_MAX_DEPTH_PRE];
static int g_npre;

static struct ex_world *replay(const struct ex_cfg *cfg, const uint32_t *path, int d,
			       uint64_t *steps)
{
	struct ex_world *w = root(cfg, g_pre, g_npre);
	if (!w)
		return NULL;
	for (int k = 0; k < d && !w->broken && !w->chk.violations; k++)
		if (!apply(w, path[k])) {
			broke(w, "replay diverged (the engine is not deterministic?)", PH_EINVAL);
			break;
		}
	if (steps)
		*steps += w->steps;
	return w;
}

static void seq_text(const uint32_t *path, int d, char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = 0;
	for (int k = 0; k < g_npre + d && used + 16 < size; k++) {
		char t[16];
		ev_text(k < g_npre ? g_pre[k] : path[k - g_npre], t, sizeof(t));
		used += (size_t)snprintf(buf + used, size - used, "%s%s", k ? " " : "", t);
	}
}

static int add_node(struct search *s, uint32_t parent, uint32_t ev, uint32_t depth,
		    const uint64_t *sleep, size_t nsleep)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct node *p = realloc(s->nodes, cap * sizeof(*p));
		if (!p)
			return -1;
		s->nodes = p;
		s->cap = cap;
	}
	if (s->npool + nsleep > s->cappool) {
		size_t cap = s->cappool ? s->cappool : 4096;
		while (cap < s->npool + nsleep)
			cap *= 2;
		uint64_t *p = realloc(s->pool, cap * sizeof(*p));
		if (!p)
			return -1;
		s->pool = p;
		s->cappool = cap;
	}
	struct node *nd = &s->nodes[s->n];
	nd->parent = parent;
	nd->ev = ev;
	nd->depth = depth;
	nd->sleep_off = (uint32_t)s->npool;
	nd->sleep_n = (uint32_t)nsleep;
	if (nsleep)
		memcpy(&s->pool[s->npool], sleep, nsleep * sizeof(*sleep));
	s->npool += nsleep;
	s->n++;
	return 0;
}

static bool in_set(const uint64_t *set, size_t n, uint64_t x)
{
	for (size_t k = 0; k < n; k++)
		if (set[k] == x)
			return true;
	return false;
}


int ex_explore(const struct ex_cfg *cfg, struct ex_result *res, FILE *log)
{
	memset(res, 0, sizeof(*res));
	if (cfg->replicas < 3 || cfg->replicas > EX_MAX_REPLICAS || cfg->clients < 0 ||
	    cfg->clients > EX_MAX_CLIENTS) {
		fprintf(stderr, "explore: replicas 3..%d, clients 0..%d\n", EX_MAX_REPLICAS, EX_MAX_CLIENTS);
		return -1;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	g_npre = 0;
	if (cfg->prefix && parse_seq(cfg->prefix, g_pre, EX_MAX_DEPTH_PRE, &g_npre)) {
		fprintf(stderr, "explore: the prefix '%s' does not parse\n", cfg->prefix);
		return -1;
	}
	struct search s = {0};
	sim_map_init(&s.seen);
	int ret = 0;
	struct ex_world *w0 = root(cfg, g_pre, g_npre);
	if (!w0 || w0->broken) {
		fprintf(stderr, "explore: initial world: %s\n", w0 ? w0->broke : "out of memory");
		if (w0)
			world_free(w0);
		return -1;
	}
	if (w0->chk.violations) {
		res->violated = true;
		snprintf(res->violation, sizeof(res->violation), "%s", w0->chk.violation);
	}
	uint64_t h0 = state_hash(w0);
	world_free(w0);
	if (add_node(&s, 0, 0, 0, NULL, 0) || sim_map_put(&s.seen, h0, 0, 0, 1)) {
		ret = -1;
		goto out;
	}
	res->states = 1;
	bool cut = false;
	uint32_t path[EX_MAX_DEPTH + 1];
	uint32_t evs[EX_MAX_EVENTS];
	uint64_t idents[EX_MAX_EVENTS];
	int owners[EX_MAX_EVENTS];
	bool budgets[EX_MAX_EVENTS];
	uint64_t sleep[EX_MAX_EVENTS + 64];
	for (size_t qi = 0; qi < s.n && !res->violated; qi++) {
		int d = path_of(&s, (uint32_t)qi, path, EX_MAX_DEPTH);
		if (d < 0 || (cfg->max_depth && d >= cfg->max_depth)) {
			cut = true;
			continue;
		}
		struct ex_world *w = replay(cfg, path, d, &res->replay_steps);
		if (!w || w->broken) {
			fprintf(stderr, "explore: %s\n", w ? w->broke : "out of memory");
			if (w)
				world_free(w);
			ret = -1;
			goto out;
		}
		size_t ne = enabled(w, evs, EX_MAX_EVENTS);
		if (ne > EX_MAX_EVENTS) {
			fprintf(stderr, "explore: more than %d events enabled\n", EX_MAX_EVENTS);
			world_free(w);
			ret = -1;
			goto out;
		}
		for (size_t k = 0; k < ne; k++) {
			idents[k] = ev_ident(w, evs[k]);
			owners[k] = ev_owner(w, evs[k], &budgets[k]);
		}
		/* Copy this node's sleep set: the pool may move below. */
		size_t nz = s.nodes[qi].sleep_n < 64 ? s.nodes[qi].sleep_n : 64;
		uint64_t zs[64];
		if (nz)
			memcpy(zs, &s.pool[s.nodes[qi].sleep_off], nz * sizeof(*zs));
		bool first = true;
		for (size_t k = 0; k < ne && !res->violated; k++) {
			if (cfg->por && in_set(zs, nz, idents[k]))
				continue; /* explored from a sibling in another order */
			if (!first) {
				world_free(w);
				w = replay(cfg, path, d, &res->replay_steps);
				if (!w || w->broken) {
					fprintf(stderr, "explore: %s\n", w ? w->broke : "out of memory");
					if (w)
						world_free(w);
					ret = -1;
					goto out;
				}
			}
			first = false;
			uint64_t before = w->steps;
			apply(w, evs[k]);
			res->replay_steps += w->steps - before;
			res->transitions++;
			path[d] = evs[k];
			if (w->broken) {
				fprintf(stderr, "explore: %s\n", w->broke);
				world_free(w);
				ret = -1;
				goto out;
			}
			if (w->chk.violations) {
				res->violated = true;
				snprintf(res->violation, sizeof(res->violation), "%s", w->chk.violation);
				seq_text(path, d + 1, res->sequence, sizeof(res->sequence));
				res->seq_len = g_npre + d + 1;
				if (d + 1 > res->depth)
					res->depth = d + 1;
				break;
			}
			uint64_t h = state_hash(w);
			/* Sleep set of the child: earlier siblings (and our own
			 * sleepers) independent of this event. */
			size_t nsl = 0;
			if (cfg->por) {
				for (size_t j = 0; j < k; j++)
					if (owners[j] != owners[k] && !(budgets[j] && budgets[k]) &&
					    !in_set(zs, nz, idents[j]))
						sleep[nsl++] = idents[j];
				for (size_t j = 0; j < nz; j++) {
					/* A sleeper stays asleep if independent of this
					 * event; its owner is unknown here, so keep it
					 * only when it is not one of our own events. */
					bool indep = true;
					for (size_t m = 0; m < ne; m++)
						if (idents[m] == zs[j])
							indep = owners[m] != owners[k] &&
								!(budgets[m] && budgets[k]);
					if (indep && nsl < 64)
						sleep[nsl++] = zs[j];
				}
				if (nsl > 64)
					nsl = 64;
			}
			uint64_t *seenp = sim_map_get(&s.seen, h, 0, 0);
			if (seenp) {
				if (!cfg->por)
					continue;
				/* Sleep sets with state caching: the state was reached
				 * before with sleep set Z; from here only `sleep` may be
				 * skipped, so whatever Z skipped beyond it must still be
				 * explored (Godefroid's condition). */
				uint32_t idx = (uint32_t)(*seenp - 1);
				struct node *nd = &s.nodes[idx];
				uint64_t inter[64];
				size_t ni = 0;
				for (uint32_t j = 0; j < nd->sleep_n; j++)
					if (in_set(sleep, nsl, s.pool[nd->sleep_off + j]))
						inter[ni++] = s.pool[nd->sleep_off + j];
				if (ni == nd->sleep_n)
					continue;
				if (idx > qi) { /* not expanded yet: shrink its sleep set */
					if (ni)
						memcpy(&s.pool[nd->sleep_off], inter, ni * sizeof(*inter));
					nd->sleep_n = (uint32_t)ni;
					continue;
				}
				if (add_node(&s, (uint32_t)qi, evs[k], (uint32_t)d + 1, inter, ni) ||
				    sim_map_put(&s.seen, h, 0, 0, s.n)) {
					world_free(w);
					ret = -1;
					goto out;
				}
				res->reexpanded++;
				continue;
			}
			if (add_node(&s, (uint32_t)qi, evs[k], (uint32_t)d + 1, sleep, nsl) ||
			    sim_map_put(&s.seen, h, 0, 0, s.n)) {
				world_free(w);
				ret = -1;
				goto out;
			}
			res->states++;
			if ((uint32_t)(d + 1) > (uint32_t)res->depth)
				res->depth = d + 1;
			if (cfg->max_states && res->states >= cfg->max_states) {
				cut = true;
				break;
			}
		}
		world_free(w);
		if (cfg->max_states && res->states >= cfg->max_states) {
			cut = true;
			break;
		}
		if (log && cfg->verbose && qi % 10000 == 0)
			fprintf(log, "explore: %zu expanded, %" PRIu64 " states, depth %d\n", qi,
				res->states, res->depth);
	}
	res->exhausted = !cut && !res->violated;
out:
	clock_gettime(CLOCK_MONOTONIC, &t1);
	res->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	free(s.nodes);
	free(s.pool);
	sim_map_close(&s.seen);
	return ret;
}

int ex_replay(const struct ex_cfg *cfg, const char *seq, FILE *out, bool *violated,
	      char *violation, size_t vsize)
{
	struct ex_world *w = world_new(cfg);
	if (!w)
		return -1;
	int ret = 0, k = 0;
	const char *p = seq;
	while (*p && !w->chk.violations && !w->broken) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, " ,");
		uint32_t e;
		if (parse_event(p, len, &e)) {
			fprintf(stderr, "explore: replay: '%.*s' (event %d) is not an event\n", (int)len, p, k + 1);
			ret = -1;
			break;
		}
		char desc[160];
		bool ok = true;
		if ((ev_kind(e) == EX_DELIVER || ev_kind(e) == EX_DUP || ev_kind(e) == EX_DROP) &&
		    ev_a(e) >= w->nfl)
			ok = false;
		if (ok)
			ev_describe(w, e, desc, sizeof(desc));
		if (!ok || !apply(w, e)) {
			fprintf(stderr, "explore: replay: event %d '%.*s' is not enabled\n", k + 1, (int)len, p);
			ret = -1;
			break;
		}
		if (out)
			fprintf(out, "%3d. %.*s  %s\n", k + 1, (int)len, p, desc);
		p += len;
		k++;
	}
	if (w->broken) {
		fprintf(stderr, "explore: replay: %s\n", w->broke);
		ret = -1;
	}
	if (out) {
		/* Where the sequence leaves the cell: roles and what is in flight. */
		for (int i = 0; i < w->n; i++) {
			if (!w->r[i].up) {
				fprintf(out, "     node %d: down\n", i + 1);
				continue;
			}
			struct ph_cell_status st;
			ph_cell_status(w->r[i].cell, &st);
			fprintf(out, "     node %d: role %d promised (%" PRIu64 ",%u) chosen %" PRIu64
				" applied %" PRIu64 ", %zu batches pending, %zu held\n", i + 1, st.role,
				st.promised.round, st.promised.node, st.chosen, st.applied,
				w->r[i].disk.npending, w->r[i].nheld);
		}
		for (size_t m = 0; m < w->nfl; m++)
			fprintf(out, "     in flight d%zu: %s %u -> %u\n", m,
				ph_msg_type_name(ph_msg_peek_type(w->fl[m].bytes, w->fl[m].len)),
				w->fl[m].from, w->fl[m].to);
	}
	*violated = w->chk.violations > 0;
	if (violation && vsize)
		snprintf(violation, vsize, "%s", w->chk.violations ? w->chk.violation : "");
	world_free(w);
	return ret;
}
