/* reports/check.c: the linearizability checker (docs/checker.md).
 *
 * Wing & Gong's search as improved by Lowe ("Testing for linearizability",
 * 2017) and used by Porcupine: the history is a doubly linked list of call and
 * return entries in time order; the search linearizes the first call it can
 * (its model step is legal and the configuration (set of linearized ops, model
 * state) was not seen before), lifts it and its return out of the list and
 * starts again from the head; meeting a return whose call is still in the
 * list means backtracking. Configurations are remembered in a hash set: the
 * linearized set as a bitset hashed incrementally (Zobrist), the model state
 * as an interned id, so the inner loop allocates only when a new
 * configuration is stored.
 *
 * P-compositionality (Herlihy & Wing): a history is linearizable iff each
 * independent object's sub-history is. Registers and kv split by key; cells
 * by cell and then by groups of keys that no transaction links. Parts run in
 * worker threads.
 *
 * Info and pending ops get a return at +infinity: they may be linearized
 * anywhere after their invoke. Reaching the first +infinity return in the
 * scan means every completed op is linearized and the remaining info ops can
 * simply never take effect: the history is linearizable. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models.h"

#define INF INT64_MAX

/* -------------------------------------------------------------- budget */

struct ctl {
	double deadline;
	size_t max_bytes;
	atomic_size_t bytes;
	atomic_size_t peak;
};

enum { S_LIN = 0, S_NOT = 1, S_TIME = 2, S_MEM = 3 };

/* ------------------------------------------------------------- parts */

struct part {
	enum rep_model model;
	size_t *ops; /* history indices, invoke order */
	size_t n, cap;
	char *label;
	/* result */
	enum rep_verdict verdict;
	const char *reason;
	double seconds;
	uint64_t configs;
	size_t bytes;
	int err;
};

/* Per-part working state: the interned model states and the step cache
 * outlive single searches (the explanation runs many on one part). */
struct pctx {
	const struct rep_history *h;
	const struct rep__model *m;
	struct part *p;
	struct ctl *ctl;
	size_t bytes; /* accounted to ctl */
	/* interned states */
	struct rep_buf spool;
	size_t *soff;
	uint32_t *slen;
	uint64_t *shash;
	uint32_t nst, capst;
	uint32_t *sidx; /* open addressing: state id + 1 */
	size_t sidx_cap;
	/* step cache: (state << 32 | local op) -> new state + 1, or 0 = illegal */
	uint64_t *ckey;
	uint32_t *cval;
	size_t ccap, cused;
	/* dense step table for the first stab_rows states: [state * p->n + op]
	 * = new state + 1, 0 = illegal, -1 = not computed yet */
	int32_t *stab;
	uint32_t stab_rows;
	struct rep_buf scratch;
	uint64_t configs;
	unsigned tick;
};

/* Entries of the dense step table at most (beyond: the hash cache). */
#define STAB_MAX ((size_t)1 << 22)

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Eight bytes at a time, each word mixed in with a multiply-rotate. */
static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xff51afd7ed558ccdULL);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ (w * 0xc4ceb9fe1a85ec53ULL)) * 0x9E3779B97F4A7C15ULL;
		h = (h << 29) | (h >> 35);
	}
	uint64_t w = 0;
	if (i < n)
		memcpy(&w, p + i, n - i);
	h ^= w * 0xc4ceb9fe1a85ec53ULL;
	return mix64(h);
}

/* Memory accounting against the shared budget. Returns S_MEM when over. */
static int account(struct pctx *c, size_t add, size_t sub)
{
	size_t now = atomic_fetch_add(&c->ctl->bytes, add) + add;
	atomic_fetch_sub(&c->ctl->bytes, sub);
	now -= sub;
	c->bytes += add;
	c->bytes -= sub;
	size_t peak = atomic_load(&c->ctl->peak);
	while (now > peak && !atomic_compare_exchange_weak(&c->ctl->peak, &peak, now))
		;
	if (c->bytes > c->p->bytes)
		c->p->bytes = c->bytes;
	return now > c->ctl->max_bytes ? S_MEM : 0;
}

static void pctx_free(struct pctx *c)
{
	account(c, 0, c->bytes);
	rep__buf_free(&c->spool);
	rep__buf_free(&c->scratch);
	free(c->soff);
	free(c->slen);
	free(c->shash);
	free(c->sidx);
	free(c->ckey);
	free(c->cval);
	free(c->stab);
	memset(c, 0, sizeof *c);
}

/* Interns state bytes; *id set. Returns 0, REP_ENOMEM or S_MEM. */
static int intern(struct pctx *c, const uint8_t *s, size_t n, uint32_t *id)
{
	uint64_t h = hash_bytes(s, n);
	if (c->sidx_cap == 0 || (size_t)(c->nst + 1) * 2 > c->sidx_cap) {
		size_t cap = c->sidx_cap ? c->sidx_cap * 2 : 64;
		uint32_t *idx = calloc(cap, sizeof *idx);
		if (idx == NULL)
			return REP_ENOMEM;
		for (uint32_t i = 0; i < c->nst; i++) {
			size_t j = c->shash[i] & (cap - 1);
			while (idx[j] != 0)
				j = (j + 1) & (cap - 1);
			idx[j] = i + 1;
		}
		free(c->sidx);
		c->sidx = idx;
		if (account(c, cap * sizeof *idx, c->sidx_cap * sizeof *idx) == S_MEM) {
			c->sidx_cap = cap;
			return S_MEM;
		}
		c->sidx_cap = cap;
	}
	size_t j = h & (c->sidx_cap - 1);
	while (c->sidx[j] != 0) {
		uint32_t i = c->sidx[j] - 1;
		if (c->shash[i] == h && c->slen[i] == n &&
		    (n == 0 || memcmp(c->spool.p + c->soff[i], s, n) == 0)) {
			*id = i;
			return 0;
		}
		j = (j + 1) & (c->sidx_cap - 1);
	}
	if (c->nst == c->capst) {
		uint32_t cap = c->capst ? c->capst * 2 : 64;
		size_t *soff = realloc(c->soff, cap * sizeof *soff);
		if (soff == NULL)
			return REP_ENOMEM;
		c->soff = soff;
		uint32_t *slen = realloc(c->slen, cap * sizeof *slen);
		if (slen == NULL)
			return REP_ENOMEM;
		c->slen = slen;
		uint64_t *shash = realloc(c->shash, cap * sizeof *shash);
		if (shash == NULL)
			return REP_ENOMEM;
		c->shash = shash;
		c->capst = cap;
	}
	size_t before = c->spool.cap;
	size_t off = c->spool.len;
	if (rep__buf_put(&c->spool, s, n) != 0)
		return REP_ENOMEM;
	c->soff[c->nst] = off;
	c->slen[c->nst] = (uint32_t)n;
	c->shash[c->nst] = h;
	c->sidx[j] = c->nst + 1;
	*id = c->nst++;
	return account(c, (c->spool.cap - before) + 16, 0);
}

/* The model step from state st by local op lop, cached. Returns 1 legal
 * (*next set), 0 illegal, or a negative REP_E* / S_MEM. */
static int step_slow(struct pctx *c, uint32_t st, uint32_t lop, uint32_t *next);

/* The op of local index lop; for lop >= n a copy, stepped as info. */
static const struct rep_op *local_op(const struct pctx *c, uint32_t lop, struct rep_op *copy)
{
	size_t n = c->p->n;
	if (lop < n)
		return &c->h->ops[c->p->ops[lop]];
	*copy = c->h->ops[c->p->ops[lop - n]];
	copy->outcome = REP_OUT_INFO;
	return copy;
}

/* Grows the dense table to cover state st if the limit allows. */
static int stab_cover(struct pctx *c, uint32_t st)
{
	size_t n = c->p->n ? 2 * c->p->n : 1;
	uint32_t rows = c->stab_rows ? c->stab_rows : 16;
	while (rows <= st)
		rows *= 2;
	if ((size_t)rows * n > STAB_MAX)
		return 0;
	int32_t *t = realloc(c->stab, (size_t)rows * n * sizeof *t);
	if (t == NULL)
		return REP_ENOMEM;
	for (size_t i = (size_t)c->stab_rows * n; i < (size_t)rows * n; i++)
		t[i] = -1;
	c->stab = t;
	int a = account(c, ((size_t)rows - c->stab_rows) * n * sizeof *t, 0);
	c->stab_rows = rows;
	return a;
}

static inline int step(struct pctx *c, uint32_t st, uint32_t lop, uint32_t *next)
{
	if (st < c->stab_rows) {
		int32_t v = c->stab[(size_t)st * 2 * c->p->n + lop];
		if (v > 0) {
			*next = (uint32_t)v - 1;
			return 1;
		}
		if (v == 0)
			return 0;
	} else {
		int a = stab_cover(c, st);
		if (a != 0)
			return a;
	}
	int rc = step_slow(c, st, lop, next);
	if (rc >= 0 && rc <= 1 && st < c->stab_rows)
		c->stab[(size_t)st * 2 * c->p->n + lop] = rc == 1 ? (int32_t)*next + 1 : 0;
	return rc;
}

static int step_slow(struct pctx *c, uint32_t st, uint32_t lop, uint32_t *next)
{
	struct rep_op as_info;
	const struct rep_op *op = local_op(c, lop, &as_info);
	if (st < c->stab_rows) {
		/* computed once per (state, op): straight to the model */
		c->scratch.len = 0;
		if (rep__buf_reserve(&c->scratch, 1) != 0)
			return REP_ENOMEM;
		int rc = c->m->step(c->spool.p + c->soff[st], c->slen[st], op, &c->scratch);
		if (rc != 1)
			return rc;
		int irc = intern(c, c->scratch.p, c->scratch.len, next);
		return irc != 0 ? irc : 1;
	}
	uint64_t key = (uint64_t)st << 32 | lop;
	if (c->ccap == 0 || (c->cused + 1) * 2 > c->ccap) {
		size_t cap = c->ccap ? c->ccap * 2 : 256;
		uint64_t *ckey = malloc(cap * sizeof *ckey);
		uint32_t *cval = malloc(cap * sizeof *cval);
		if (ckey == NULL || cval == NULL) {
			free(ckey);
			free(cval);
			return REP_ENOMEM;
		}
		memset(ckey, 0xff, cap * sizeof *ckey);
		for (size_t i = 0; i < c->ccap; i++) {
			if (c->ckey[i] == UINT64_MAX)
				continue;
			size_t j = mix64(c->ckey[i]) & (cap - 1);
			while (ckey[j] != UINT64_MAX)
				j = (j + 1) & (cap - 1);
			ckey[j] = c->ckey[i];
			cval[j] = c->cval[i];
		}
		free(c->ckey);
		free(c->cval);
		c->ckey = ckey;
		c->cval = cval;
		int a = account(c, cap * 12, c->ccap * 12);
		c->ccap = cap;
		if (a == S_MEM)
			return S_MEM;
	}
	size_t j = mix64(key) & (c->ccap - 1);
	while (c->ckey[j] != UINT64_MAX) {
		if (c->ckey[j] == key) {
			if (c->cval[j] == 0)
				return 0;
			*next = c->cval[j] - 1;
			return 1;
		}
		j = (j + 1) & (c->ccap - 1);
	}
	c->scratch.len = 0;
	if (rep__buf_reserve(&c->scratch, 1) != 0)
		return REP_ENOMEM;
	int rc = c->m->step(c->spool.p + c->soff[st], c->slen[st], op, &c->scratch);
	if (rc < 0)
		return rc;
	uint32_t id = 0;
	if (rc == 1) {
		int irc = intern(c, c->scratch.p, c->scratch.len, &id);
		if (irc != 0)
			return irc;
	}
	c->ckey[j] = key;
	c->cval[j] = rc == 1 ? id + 1 : 0;
	c->cused++;
	*next = id;
	return rc;
}

/* ------------------------------------------------------------ search */

/* A sub-history to search: m ops given as local op indices with call and
 * return times (ret INF: info / pending / truncated). */
/* A sub-history to search: m ops given as local op indices (lop >= n, the
 * part's size, means op lop - n stepped as if its outcome were info: its
 * result is not known yet) with call and return times (ret INF: info,
 * pending or truncated). prev_same[i] is the position of the previous
 * info op with the very same input (-1 if none): such ops are
 * interchangeable, so the search linearizes them in invoke order only
 * (symmetry reduction: k identical info writes cost k + 1 configurations,
 * not 2^k). */
struct sub {
	size_t m;
	uint32_t *lop;
	int64_t *call, *ret;
	int32_t *prev_same;
};

struct entry {
	int32_t prev, next;
	int32_t pos;   /* position in the sub */
	int32_t match; /* call: its return entry */
	int64_t t;
	uint8_t is_call;
};

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->is_call != y->is_call)
		return x->is_call ? -1 : 1; /* calls first at equal times */
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Sorts entries by entry_cmp. They arrive as call, return, call, return...
 * in invoke order, nearly sorted (a return moves past the calls of the ops
 * concurrent with it), so insertion sort is linear in practice; it gives up
 * for qsort when the input is far from sorted. */
static void sort_entries(struct entry *a, size_t n)
{
	size_t budget = 32 * n + 1024;
	for (size_t i = 1; i < n; i++) {
		struct entry x = a[i];
		size_t j = i;
		while (j > 0 && entry_cmp(&a[j - 1], &x) > 0) {
			a[j] = a[j - 1];
			j--;
			if (--budget == 0) {
				a[j] = x;
				qsort(a, n, sizeof *a, entry_cmp);
				return;
			}
		}
		a[j] = x;
	}
}

/* The linearized set as a bitset, with the canonical compact form the memo
 * stores: every word below lo is all ones, every word above hi is zero, so a
 * configuration costs the words lo..hi (about the concurrency of the
 * history, not its length). */
struct lset {
	uint64_t *bits;
	size_t W;
	size_t lo;
	long hi; /* -1: no bit set */
};

static inline void lset_set(struct lset *l, size_t pos)
{
	size_t w = pos >> 6;
	l->bits[w] |= 1ULL << (pos & 63);
	if ((long)w > l->hi)
		l->hi = (long)w;
	while (l->lo < l->W && l->bits[l->lo] == ~0ULL)
		l->lo++;
}

static inline void lset_clear(struct lset *l, size_t pos)
{
	size_t w = pos >> 6;
	l->bits[w] &= ~(1ULL << (pos & 63));
	if (w < l->lo)
		l->lo = w;
	while (l->hi >= 0 && l->bits[l->hi] == 0)
		l->hi--;
}

struct memo_entry {
	uint64_t hash;
	size_t off;        /* into pool */
	uint32_t state;
	uint32_t lo, len;  /* compact form: words lo .. lo + len - 1 */
};

struct memo {
	uint32_t *slots; /* entry + 1 */
	size_t cap;
	struct memo_entry *ent;
	size_t n, ecap;
	uint64_t *pool;
	size_t pool_len, pool_cap;
};

#define MEMO_ENTRY_BYTES sizeof(struct memo_entry)

static void memo_free(struct pctx *c, struct memo *mm)
{
	size_t bytes = mm->cap * 4 + mm->ecap * MEMO_ENTRY_BYTES + mm->pool_cap * 8;
	account(c, 0, bytes);
	free(mm->slots);
	free(mm->ent);
	free(mm->pool);
	memset(mm, 0, sizeof *mm);
}

/* Inserts (set, state) unless present. Returns 1 inserted, 0 present, or
 * REP_ENOMEM / S_MEM. */
static int memo_insert(struct pctx *c, struct memo *mm, uint64_t h, uint32_t state,
		       const struct lset *l)
{
	size_t lo = l->lo;
	size_t len = l->hi >= (long)lo ? (size_t)(l->hi - (long)lo + 1) : 0;
	const uint64_t *words = l->bits + lo;
	if ((mm->n + 1) * 2 > mm->cap) {
		size_t cap = mm->cap ? mm->cap * 2 : 64;
		uint32_t *slots = calloc(cap, sizeof *slots);
		if (slots == NULL)
			return REP_ENOMEM;
		for (size_t i = 0; i < mm->n; i++) {
			size_t j = mm->ent[i].hash & (cap - 1);
			while (slots[j] != 0)
				j = (j + 1) & (cap - 1);
			slots[j] = (uint32_t)i + 1;
		}
		free(mm->slots);
		mm->slots = slots;
		int a = account(c, cap * 4, mm->cap * 4);
		mm->cap = cap;
		if (a == S_MEM)
			return S_MEM;
	}
	size_t j = h & (mm->cap - 1);
	while (mm->slots[j] != 0) {
		const struct memo_entry *me = &mm->ent[mm->slots[j] - 1];
		if (me->hash == h && me->state == state && me->lo == lo && me->len == len &&
		    (len == 0 || memcmp(mm->pool + me->off, words, len * 8) == 0))
			return 0;
		j = (j + 1) & (mm->cap - 1);
	}
	if (mm->n == mm->ecap) {
		size_t ecap = mm->ecap ? mm->ecap * 2 : 32;
		struct memo_entry *ne = realloc(mm->ent, ecap * sizeof *ne);
		if (ne == NULL)
			return REP_ENOMEM;
		mm->ent = ne;
		int a = account(c, (ecap - mm->ecap) * MEMO_ENTRY_BYTES, 0);
		mm->ecap = ecap;
		if (a == S_MEM)
			return S_MEM;
	}
	if (mm->pool_len + len > mm->pool_cap) {
		size_t cap = mm->pool_cap ? mm->pool_cap * 2 : 256;
		while (cap < mm->pool_len + len)
			cap *= 2;
		uint64_t *pool = realloc(mm->pool, cap * 8);
		if (pool == NULL)
			return REP_ENOMEM;
		mm->pool = pool;
		int a = account(c, (cap - mm->pool_cap) * 8, 0);
		mm->pool_cap = cap;
		if (a == S_MEM)
			return S_MEM;
	}
	mm->ent[mm->n] = (struct memo_entry){.hash = h, .off = mm->pool_len, .state = state,
					     .lo = (uint32_t)lo, .len = (uint32_t)len};
	if (len)
		memcpy(mm->pool + mm->pool_len, words, len * 8);
	mm->pool_len += len;
	mm->slots[j] = (uint32_t)mm->n + 1;
	mm->n++;
	c->configs++;
	return 1;
}

/* Marks of final states found by an enumerating search. */
struct finals {
	uint32_t *ids;
	size_t n, cap;
};

static int finals_add(struct finals *f, uint32_t id)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->ids[i] == id)
			return 0;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		uint32_t *ids = realloc(f->ids, cap * sizeof *ids);
		if (ids == NULL)
			return REP_ENOMEM;
		f->ids = ids;
		f->cap = cap;
	}
	f->ids[f->n++] = id;
	return 0;
}

static bool out_of_time(struct pctx *c)
{
	if ((++c->tick & 255) != 0)
		return false;
	return rep__now() > c->ctl->deadline;
}

/* Searches sub from state start. With finals != NULL, enumerates every
 * reachable final state instead of stopping at the first (returns S_LIN if
 * any was found). Returns S_LIN, S_NOT, S_TIME, S_MEM or a negative REP_E*. */
static int search(struct pctx *c, const struct sub *s, uint32_t start, struct finals *finals)
{
	size_t m = s->m;
	if (m == 0) {
		if (finals != NULL)
			return finals_add(finals, start) == 0 ? S_LIN : REP_ENOMEM;
		return S_LIN;
	}
	int rc = REP_ENOMEM;
	size_t W = (m + 63) / 64;
	/* one block: entries, Zobrist words, the bitset, the stack */
	size_t fixed = (2 * m + 1) * sizeof(struct entry) + m * 16 + W * 8;
	char *block = malloc(fixed);
	struct memo mm = {0};
	if (block == NULL)
		return REP_ENOMEM;
	struct entry *e = (struct entry *)block;
	uint64_t *z = (uint64_t *)(block + (2 * m + 1) * sizeof *e);
	uint64_t *bits = z + m;
	int32_t *stk_e = (int32_t *)(bits + W);
	uint32_t *stk_s = (uint32_t *)(stk_e + m);
	memset(bits, 0, W * sizeof *bits);
	if (account(c, fixed, 0) == S_MEM) {
		rc = S_MEM;
		goto out_account;
	}
	/* entries 1..2m sorted by time; 0 is the sentinel (head and tail) */
	for (size_t i = 0; i < m; i++) {
		e[1 + 2 * i] = (struct entry){.pos = (int32_t)i, .t = s->call[i], .is_call = 1};
		e[2 + 2 * i] = (struct entry){.pos = (int32_t)i, .t = s->ret[i], .is_call = 0};
		z[i] = mix64(0x9E3779B97F4A7C15ULL * (i + 1));
	}
	sort_entries(e + 1, 2 * m);
	{
		/* pair calls with returns: ret_of[pos] found through a scratch map */
		int32_t *ret_of = stk_e; /* reuse: m entries, filled before any push */
		for (size_t i = 1; i <= 2 * m; i++)
			if (!e[i].is_call)
				ret_of[e[i].pos] = (int32_t)i;
		for (size_t i = 1; i <= 2 * m; i++) {
			if (e[i].is_call)
				e[i].match = ret_of[e[i].pos];
			e[i].prev = (int32_t)i - 1;
			e[i].next = i == 2 * m ? 0 : (int32_t)i + 1;
		}
		e[0].next = 1;
		e[0].prev = (int32_t)(2 * m);
	}
	uint32_t state = start;
	uint64_t hash = 0;
	size_t depth = 0;
	int32_t cur = e[0].next;
	struct lset ls = {.bits = bits, .W = W, .lo = 0, .hi = -1};
	rc = memo_insert(c, &mm, mix64(hash ^ ((uint64_t)state * 0x9E3779B97F4A7C15ULL)), state,
			 &ls);
	if (rc < 0 || rc == S_MEM)
		goto out_account;
	bool found = false;
	for (;;) {
		if (out_of_time(c)) {
			rc = S_TIME;
			goto out_account;
		}
		bool success = cur == 0 || (!e[cur].is_call && s->ret[e[cur].pos] == INF);
		if (!success && e[cur].is_call) {
			int32_t pos = e[cur].pos;
			int32_t prev = s->prev_same[pos];
			if (prev >= 0 && !(bits[prev >> 6] & (1ULL << (prev & 63)))) {
				cur = e[cur].next; /* its twin invoked earlier goes first */
				continue;
			}
			uint32_t next = 0;
			int r = step(c, state, s->lop[pos], &next);
			if (r < 0 || r == S_MEM) {
				rc = r;
				goto out_account;
			}
			if (r == 1) {
				uint64_t h2 = hash ^ z[pos];
				lset_set(&ls, (size_t)pos);
				r = memo_insert(c, &mm,
						mix64(h2 ^ ((uint64_t)next * 0x9E3779B97F4A7C15ULL)),
						next, &ls);
				if (r < 0 || r == S_MEM) {
					rc = r;
					goto out_account;
				}
				if (r == 1) {
					stk_e[depth] = cur;
					stk_s[depth] = state;
					depth++;
					state = next;
					hash = h2;
					/* lift the call and its return */
					struct entry *ce = &e[cur], *re = &e[ce->match];
					e[ce->prev].next = ce->next;
					e[ce->next].prev = ce->prev;
					e[re->prev].next = re->next;
					e[re->next].prev = re->prev;
					cur = e[0].next;
					continue;
				}
				lset_clear(&ls, (size_t)pos);
			}
			cur = e[cur].next;
			continue;
		}
		if (success) {
			found = true;
			if (finals == NULL) {
				rc = S_LIN;
				goto out_account;
			}
			if (finals_add(finals, state) != 0) {
				rc = REP_ENOMEM;
				goto out_account;
			}
		}
		/* a return whose call is not linearized (or enumerating on):
		 * backtrack */
		if (depth == 0) {
			rc = found ? S_LIN : S_NOT;
			goto out_account;
		}
		depth--;
		int32_t ce_i = stk_e[depth];
		state = stk_s[depth];
		struct entry *ce = &e[ce_i], *re = &e[ce->match];
		int32_t pos = ce->pos;
		lset_clear(&ls, (size_t)pos);
		hash ^= z[pos];
		e[re->prev].next = ce->match;
		e[re->next].prev = ce->match;
		e[ce->prev].next = ce_i;
		e[ce->next].prev = ce_i;
		cur = ce->next;
	}
out_account:
	account(c, 0, fixed);
	memo_free(c, &mm);
	free(block);
	return rc;
}

/* --------------------------------------------------------- partitioning */

/* A string -> index map for part labels. */
struct smap {
	char **keys;
	size_t *vals;
	size_t cap, n;
};

static size_t smap_slot(const struct smap *s, const char *k)
{
	size_t j = hash_bytes((const uint8_t *)k, strlen(k)) & (s->cap - 1);
	while (s->keys[j] != NULL && strcmp(s->keys[j], k) != 0)
		j = (j + 1) & (s->cap - 1);
	return j;
}

/* Finds k; if absent inserts it with value val. Returns the value, or
 * SIZE_MAX on ENOMEM. k is copied. */
static size_t smap_get_or_put(struct smap *s, const char *k, size_t val)
{
	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct smap t = {calloc(cap, sizeof(char *)), calloc(cap, sizeof(size_t)), cap, 0};
		if (t.keys == NULL || t.vals == NULL) {
			free(t.keys);
			free(t.vals);
			return SIZE_MAX;
		}
		for (size_t i = 0; i < s->cap; i++) {
			if (s->keys[i] == NULL)
				continue;
			size_t j = smap_slot(&t, s->keys[i]);
			t.keys[j] = s->keys[i];
			t.vals[j] = s->vals[i];
		}
		t.n = s->n;
		free(s->keys);
		free(s->vals);
		*s = t;
	}
	size_t j = smap_slot(s, k);
	if (s->keys[j] != NULL)
		return s->vals[j];
	s->keys[j] = strdup(k);
	if (s->keys[j] == NULL)
		return SIZE_MAX;
	s->vals[j] = val;
	s->n++;
	return val;
}

static void smap_free(struct smap *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->keys[i]);
	free(s->keys);
	free(s->vals);
}

static int part_push(struct part *p, size_t op)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		size_t *ops = realloc(p->ops, cap * sizeof *ops);
		if (ops == NULL)
			return REP_ENOMEM;
		p->ops = ops;
		p->cap = cap;
	}
	p->ops[p->n++] = op;
	return 0;
}

/* Union-find over (cell, key) strings, for the cell model. */
struct uf {
	size_t *parent;
	size_t n, cap;
};

static size_t uf_find(struct uf *u, size_t x)
{
	while (u->parent[x] != x) {
		u->parent[x] = u->parent[u->parent[x]];
		x = u->parent[x];
	}
	return x;
}

static int uf_add(struct uf *u)
{
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 64;
		size_t *p = realloc(u->parent, cap * sizeof *p);
		if (p == NULL)
			return REP_ENOMEM;
		u->parent = p;
		u->cap = cap;
	}
	u->parent[u->n] = u->n;
	u->n++;
	return 0;
}

/* Whether an op can change or constrain its object at all: failed ops never
 * took effect; an unfinished read can be left out (it has no effect). */
static bool op_matters(const struct rep_op *op)
{
	if (op->outcome == REP_OUT_FAIL)
		return false;
	bool unfinished = op->outcome == REP_OUT_INFO || op->outcome == REP_OUT_PENDING;
	if (unfinished && (op->fn == REP_FN_READ || op->fn == REP_FN_GET))
		return false;
	if (op->fn == REP_FN_TXN && op->txn != NULL && unfinished) {
		for (size_t i = 0; i < op->txn->nops; i++)
			if (op->txn->ops[i].kind != REP_TX_READ)
				return true;
		return false;
	}
	return true;
}

struct parts {
	struct part *v;
	size_t n, cap;
};

static void parts_free(struct parts *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		free(ps->v[i].ops);
		free(ps->v[i].label);
	}
	free(ps->v);
}

static size_t parts_new(struct parts *ps, enum rep_model model, const char *label)
{
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 16;
		struct part *v = realloc(ps->v, cap * sizeof *v);
		if (v == NULL)
			return SIZE_MAX;
		ps->v = v;
		ps->cap = cap;
	}
	struct part *p = &ps->v[ps->n];
	memset(p, 0, sizeof *p);
	p->model = model;
	p->label = strdup(label);
	if (p->label == NULL)
		return SIZE_MAX;
	return ps->n++;
}

static int txn_keys_union(struct uf *u, struct smap *keys, struct rep_buf *b,
			  const struct rep_op *op, size_t *first)
{
	const struct rep_txn *t = op->txn;
	*first = SIZE_MAX;
	for (size_t i = 0; i < t->nconds + t->nops; i++) {
		const struct rep_value *k = i < t->nconds ? &t->conds[i].key
							   : &t->ops[i - t->nconds].key;
		b->len = 0;
		if (rep__value_edn(b, &op->cell) != 0 || rep__buf_put(b, "\x01", 1) != 0 ||
		    rep__value_edn(b, k) != 0)
			return REP_ENOMEM;
		size_t id = smap_get_or_put(keys, (const char *)b->p, u->n);
		if (id == SIZE_MAX)
			return REP_ENOMEM;
		if (id == u->n && uf_add(u) != 0)
			return REP_ENOMEM;
		if (*first == SIZE_MAX)
			*first = id;
		else
			u->parent[uf_find(u, id)] = uf_find(u, *first);
	}
	return 0;
}

static int partition(const struct rep_history *h, struct parts *ps, char **error)
{
	struct smap keys = {0};
	size_t *kpart = NULL, kcap = 0;
	uint64_t *khash = NULL;
	struct uf u = {0};
	struct rep_buf b = {0};
	size_t *group = NULL;
	int rc = REP_ENOMEM;
	/* pass 1: cell ops link their keys */
	for (size_t i = 0; i < h->n; i++) {
		const struct rep_op *op = &h->ops[i];
		if (!op_matters(op))
			continue;
		enum rep_model model = rep__fn_model(op->fn);
		int v = rep__models[model].validate(op);
		if (v != 0) {
			struct rep_buf eb = {0};
			rep__buf_printf(&eb, "op %zu (", i);
			rep__op_describe(&eb, op);
			rep__buf_printf(&eb, ") is not understood by the %s model",
					rep_model_name(model));
			*error = (char *)eb.p;
			rc = REP_EMODEL;
			goto out_free;
		}
		if (model == REP_MODEL_CELL) {
			size_t first;
			if ((rc = txn_keys_union(&u, &keys, &b, op, &first)) != 0)
				goto out_free;
		}
	}
	/* labels of the cell key groups: cell and the keys of the group */
	group = malloc((u.n ? u.n : 1) * sizeof *group);
	if (group == NULL)
		goto out_free;
	for (size_t i = 0; i < u.n; i++)
		group[i] = SIZE_MAX;
	for (size_t i = 0; i < h->n; i++) {
		const struct rep_op *op = &h->ops[i];
		if (!op_matters(op))
			continue;
		enum rep_model model = rep__fn_model(op->fn);
		size_t pi;
		b.len = 0;
		if (model == REP_MODEL_CELL) {
			size_t first;
			if ((rc = txn_keys_union(&u, &keys, &b, op, &first)) != 0)
				goto out_free;
			rc = REP_ENOMEM;
			if (first == SIZE_MAX)
				continue; /* an empty transaction constrains nothing */
			size_t root = uf_find(&u, first);
			if (group[root] == SIZE_MAX) {
				b.len = 0;
				if (rep__buf_put(&b, "cell ", 5) != 0 ||
				    rep__value_edn(&b, &op->cell) != 0)
					goto out_free;
				/* the keys of this group, in key order of first use */
				if (rep__buf_put(&b, " keys #{", 8) != 0)
					goto out_free;
				size_t listed = 0;
				for (size_t k = 0; k < keys.cap; k++) {
					if (keys.keys[k] == NULL || uf_find(&u, keys.vals[k]) != root)
						continue;
					const char *name = strchr(keys.keys[k], '\x01') + 1;
					if (listed++ < 8 &&
					    rep__buf_printf(&b, "%s%s", listed > 1 ? " " : "", name) != 0)
						goto out_free;
				}
				if (listed > 8 && rep__buf_printf(&b, " +%zu", listed - 8) != 0)
					goto out_free;
				if (rep__buf_put(&b, "}", 1) != 0)
					goto out_free;
				size_t np = parts_new(ps, model, (const char *)b.p);
				if (np == SIZE_MAX)
					goto out_free;
				group[root] = np;
			}
			pi = group[root];
		} else {
			/* the part of (model, cell, key): found by hash, compared
			 * against the part's first op; the label is made once */
			uint64_t hk = mix64(((uint64_t)model << 8 | op->cell.kind) ^
					    hash_bytes(op->cell.bytes, op->cell.len) * 31 ^
					    hash_bytes(op->key.bytes, op->key.len) ^ op->key.kind);
			if ((ps->n + 1) * 2 > kcap) {
				size_t cap = kcap ? kcap * 2 : 64;
				size_t *t = malloc(cap * sizeof *t);
				uint64_t *th = malloc(cap * sizeof *th);
				if (t == NULL || th == NULL) {
					free(t);
					free(th);
					goto out_free;
				}
				for (size_t j = 0; j < cap; j++)
					t[j] = SIZE_MAX;
				for (size_t j = 0; j < kcap; j++) {
					if (kpart[j] == SIZE_MAX)
						continue;
					size_t q = khash[j] & (cap - 1);
					while (t[q] != SIZE_MAX)
						q = (q + 1) & (cap - 1);
					t[q] = kpart[j];
					th[q] = khash[j];
				}
				free(kpart);
				free(khash);
				kpart = t;
				khash = th;
				kcap = cap;
			}
			size_t q = hk & (kcap - 1);
			pi = SIZE_MAX;
			while (kpart[q] != SIZE_MAX) {
				const struct part *pp = &ps->v[kpart[q]];
				const struct rep_op *first = &h->ops[pp->ops[0]];
				if (khash[q] == hk && pp->model == model &&
				    rep_value_equal(&first->cell, &op->cell) &&
				    rep_value_equal(&first->key, &op->key)) {
					pi = kpart[q];
					break;
				}
				q = (q + 1) & (kcap - 1);
			}
			if (pi == SIZE_MAX) {
				if (rep__buf_printf(&b, "%s ", rep_model_name(model)) != 0)
					goto out_free;
				if (op->cell.kind != REP_V_NIL &&
				    (rep__buf_put(&b, "cell ", 5) != 0 ||
				     rep__value_edn(&b, &op->cell) != 0 || rep__buf_put(&b, " ", 1) != 0))
					goto out_free;
				if (rep__buf_put(&b, "key ", 4) != 0 || rep__value_edn(&b, &op->key) != 0)
					goto out_free;
				pi = parts_new(ps, model, (const char *)b.p);
				if (pi == SIZE_MAX)
					goto out_free;
				kpart[q] = pi;
				khash[q] = hk;
			}
		}
		if (part_push(&ps->v[pi], i) != 0)
			goto out_free;
	}
	rc = 0;
out_free:
	free(group);
	free(u.parent);
	free(kpart);
	free(khash);
	smap_free(&keys);
	rep__buf_free(&b);
	return rc;
}

/* --------------------------------------------------------------- workers */

static uint64_t value_hash(const struct rep_value *v)
{
	return hash_bytes(v->bytes, v->len) ^
	       ((uint64_t)v->kind << 1 | (uint64_t)v->b) * 0x9E3779B97F4A7C15ULL;
}

/* What an op contributes when its result is unknown: its input. */
static uint64_t input_hash(const struct rep_op *op)
{
	uint64_t h = mix64((uint64_t)op->fn + 1);
	h = mix64(h ^ value_hash(&op->cell));
	h = mix64(h ^ value_hash(&op->key));
	h = mix64(h ^ value_hash(&op->arg));
	h = mix64(h ^ value_hash(&op->arg2));
	if (op->txn != NULL) {
		for (size_t i = 0; i < op->txn->nconds; i++) {
			const struct rep_cond *cd = &op->txn->conds[i];
			h = mix64(h ^ (uint64_t)cd->kind ^ value_hash(&cd->key) ^
				  value_hash(&cd->value) * 3);
		}
		for (size_t i = 0; i < op->txn->nops; i++) {
			const struct rep_txop *o = &op->txn->ops[i];
			h = mix64(h ^ ((uint64_t)o->kind + 16) ^ value_hash(&o->key) ^
				  value_hash(&o->value) * 5);
		}
	}
	return h;
}

static bool same_input(const struct rep_op *a, const struct rep_op *b)
{
	if (a->fn != b->fn || !rep_value_equal(&a->cell, &b->cell) ||
	    !rep_value_equal(&a->key, &b->key) || !rep_value_equal(&a->arg, &b->arg) ||
	    !rep_value_equal(&a->arg2, &b->arg2))
		return false;
	if ((a->txn == NULL) != (b->txn == NULL))
		return false;
	if (a->txn == NULL)
		return true;
	const struct rep_txn *x = a->txn, *y = b->txn;
	if (x->nconds != y->nconds || x->nops != y->nops)
		return false;
	for (size_t i = 0; i < x->nconds; i++)
		if (x->conds[i].kind != y->conds[i].kind ||
		    !rep_value_equal(&x->conds[i].key, &y->conds[i].key) ||
		    !rep_value_equal(&x->conds[i].value, &y->conds[i].value))
			return false;
	for (size_t i = 0; i < x->nops; i++)
		if (x->ops[i].kind != y->ops[i].kind ||
		    !rep_value_equal(&x->ops[i].key, &y->ops[i].key) ||
		    !rep_value_equal(&x->ops[i].value, &y->ops[i].value))
			return false;
	return true;
}

/* Fills s->prev_same: for each op stepped as info (return INF), the latest
 * earlier position of an op stepped as info with the same input. Positions
 * are in invoke order, so the twin is invoked no later: wherever the later
 * one may be linearized, so may the earlier, with the same effect (an info
 * op's step depends on its input only), so trying them in order loses no
 * linearization. */
static int sub_symmetry(const struct rep_history *h, const struct part *p, struct sub *s)
{
	size_t m = s->m;
	if (s->prev_same == NULL &&
	    (s->prev_same = malloc((p->n + 1) * sizeof *s->prev_same)) == NULL)
		return REP_ENOMEM;
	size_t cap = 16;
	while (cap < 2 * m + 2)
		cap *= 2;
	int32_t *slot = malloc(cap * sizeof *slot); /* latest position per input */
	uint64_t *sh = malloc(cap * sizeof *sh);
	if (slot == NULL || sh == NULL) {
		free(slot);
		free(sh);
		return REP_ENOMEM;
	}
	for (size_t i = 0; i < cap; i++)
		slot[i] = -1;
	for (size_t i = 0; i < m; i++) {
		s->prev_same[i] = -1;
		if (s->ret[i] != INF)
			continue;
		const struct rep_op *op = &h->ops[p->ops[s->lop[i] % p->n]];
		uint64_t hk = input_hash(op);
		size_t j = hk & (cap - 1);
		while (slot[j] >= 0) {
			const struct rep_op *o2 = &h->ops[p->ops[s->lop[slot[j]] % p->n]];
			if (sh[j] == hk && same_input(op, o2))
				break;
			j = (j + 1) & (cap - 1);
		}
		s->prev_same[i] = slot[j];
		slot[j] = (int32_t)i;
		sh[j] = hk;
	}
	free(slot);
	free(sh);
	return 0;
}

static int sub_full(const struct rep_history *h, const struct part *p, struct sub *s)
{
	s->m = p->n;
	s->lop = malloc((p->n + 1) * sizeof *s->lop);
	s->call = malloc((p->n + 1) * sizeof *s->call);
	s->ret = malloc((p->n + 1) * sizeof *s->ret);
	s->prev_same = malloc((p->n + 1) * sizeof *s->prev_same);
	if (s->lop == NULL || s->call == NULL || s->ret == NULL || s->prev_same == NULL)
		return REP_ENOMEM;
	for (size_t i = 0; i < p->n; i++) {
		const struct rep_op *op = &h->ops[p->ops[i]];
		s->lop[i] = (uint32_t)i;
		s->call[i] = op->invoke_ns;
		s->ret[i] = op->outcome == REP_OUT_OK ? op->complete_ns : INF;
	}
	return sub_symmetry(h, p, s);
}

static void sub_free(struct sub *s)
{
	free(s->prev_same);
	free(s->lop);
	free(s->call);
	free(s->ret);
	memset(s, 0, sizeof *s);
}

static int pctx_init(struct pctx *c, const struct rep_history *h, struct part *p,
		     struct ctl *ctl, uint32_t *initial)
{
	memset(c, 0, sizeof *c);
	c->h = h;
	c->p = p;
	c->ctl = ctl;
	c->m = &rep__models[p->model];
	struct rep_buf b = {0};
	if (rep__buf_reserve(&b, 1) != 0 || c->m->init(&b) != 0) {
		rep__buf_free(&b);
		return REP_ENOMEM;
	}
	int rc = intern(c, b.p, b.len, initial);
	rep__buf_free(&b);
	return rc == S_MEM ? 0 : rc;
}

static void set_verdict(struct part *p, int r)
{
	switch (r) {
	case S_LIN:
		p->verdict = REP_LINEARIZABLE;
		break;
	case S_NOT:
		p->verdict = REP_NOT_LINEARIZABLE;
		break;
	case S_TIME:
		p->verdict = REP_UNKNOWN;
		p->reason = "time budget exhausted";
		break;
	case S_MEM:
		p->verdict = REP_UNKNOWN;
		p->reason = "memory budget exhausted";
		break;
	default:
		p->verdict = REP_UNKNOWN;
		p->reason = "checker error";
		p->err = r;
		break;
	}
}

static void check_part(const struct rep_history *h, struct part *p, struct ctl *ctl)
{
	double t0 = rep__now();
	struct pctx c;
	struct sub s = {0};
	uint32_t init;
	int r = pctx_init(&c, h, p, ctl, &init);
	if (r == 0)
		r = sub_full(h, p, &s);
	if (r == 0)
		r = search(&c, &s, init, NULL);
	set_verdict(p, r);
	p->configs = c.configs;
	sub_free(&s);
	pctx_free(&c);
	p->seconds = rep__now() - t0;
}

struct pool {
	const struct rep_history *h;
	struct parts *ps;
	size_t *order; /* parts, largest first */
	struct ctl *ctl;
	atomic_size_t next;
};

static void *worker(void *arg)
{
	struct pool *pl = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&pl->next, 1);
		if (i >= pl->ps->n)
			break;
		check_part(pl->h, &pl->ps->v[pl->order[i]], pl->ctl);
	}
	return NULL;
}

/* Helper threads cost tens of microseconds to start, more than most small
 * histories take to check: they start at once for big histories, else only
 * once the caller's thread has worked LAZY_THREADS_S on its own. */
#define EAGER_THREADS_OPS 2000
#define LAZY_THREADS_S 0.002

struct helpers {
	pthread_t tids[64];
	unsigned started, want;
};

static void helpers_start(struct pool *pl, struct helpers *hp)
{
	while (hp->started + 1 < hp->want &&
	       pthread_create(&hp->tids[hp->started], NULL, worker, pl) == 0)
		hp->started++;
	hp->want = 0; /* started what we could; the caller's thread works too */
}

static void run_parts(struct pool *pl, unsigned threads, size_t total_ops, double t0)
{
	struct helpers hp = {.want = threads < pl->ps->n ? threads : (unsigned)pl->ps->n};
	if (hp.want > 64)
		hp.want = 64;
	if (total_ops >= EAGER_THREADS_OPS)
		helpers_start(pl, &hp);
	for (;;) {
		if (hp.want > 1 && rep__now() - t0 > LAZY_THREADS_S)
			helpers_start(pl, &hp);
		size_t i = atomic_fetch_add(&pl->next, 1);
		if (i >= pl->ps->n)
			break;
		check_part(pl->h, &pl->ps->v[pl->order[i]], pl->ctl);
	}
	for (unsigned i = 0; i < hp.started; i++)
		pthread_join(hp.tids[i], NULL);
}

struct by_size {
	size_t n, i;
};

static int size_desc(const void *a, const void *b)
{
	const struct by_size *x = a, *y = b;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* ----------------------------------------------------------- explanation */

struct ret_ev {
	int64_t t;
	uint32_t pos;
};

static int ret_cmp(const void *a, const void *b)
{
	const struct ret_ev *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* P(k): the part cut just after its k-th return event (0 = before the
 * first): ops invoked by then, with their returns if among the first k. */
static int sub_prefix(const struct rep_history *h, const struct part *p,
		      const struct ret_ev *rets, size_t k, size_t from, struct sub *s)
{
	int64_t cut_t = k ? rets[k - 1].t : INT64_MIN;
	uint32_t cut_pos = k ? rets[k - 1].pos : 0;
	s->m = 0;
	for (size_t i = from; i < p->n; i++) {
		const struct rep_op *op = &h->ops[p->ops[i]];
		/* invoked before the cut (calls sort before returns at one time) */
		if (k == 0 || op->invoke_ns > cut_t)
			continue;
		int64_t ret = INF;
		uint32_t lop = (uint32_t)i;
		if (op->outcome == REP_OUT_OK) {
			if (op->complete_ns < cut_t || (op->complete_ns == cut_t && i <= cut_pos))
				ret = op->complete_ns;
			else
				lop = (uint32_t)(i + p->n); /* not completed yet at the cut */
		}
		s->lop[s->m] = lop;
		s->call[s->m] = op->invoke_ns;
		s->ret[s->m] = ret;
		s->m++;
	}
	return sub_symmetry(h, p, s);
}

#define MAX_STATES 32
#define MAX_CANDIDATES 256

static int explain(const struct rep_history *h, struct part *p, size_t part_index,
		   struct ctl *ctl, struct rep_explanation **out)
{
	struct pctx c;
	uint32_t init;
	struct sub s = {0};
	struct ret_ev *rets = NULL;
	struct finals fin = {0};
	struct rep_explanation *ex = NULL;
	int rc = pctx_init(&c, h, p, ctl, &init);
	if (rc != 0)
		goto out_free;
	rc = REP_ENOMEM;
	if (sub_full(h, p, &s) != 0)
		goto out_free;
	rets = malloc((p->n + 1) * sizeof *rets);
	if (rets == NULL)
		goto out_free;
	size_t K = 0;
	for (size_t i = 0; i < p->n; i++) {
		const struct rep_op *op = &h->ops[p->ops[i]];
		if (op->outcome == REP_OUT_OK)
			rets[K++] = (struct ret_ev){op->complete_ns, (uint32_t)i};
	}
	qsort(rets, K, sizeof *rets, ret_cmp);
	/* smallest k with P(k) not linearizable (P(K) is not) */
	size_t lo = 1, hi = K;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sub_prefix(h, p, rets, mid, 0, &s) != 0)
			goto out_free;
		int r = search(&c, &s, init, NULL);
		if (r == S_NOT) {
			hi = mid;
		} else if (r == S_LIN) {
			lo = mid + 1;
		} else {
			rc = r < 0 ? r : 0; /* budget gone: no explanation */
			goto out_free;
		}
	}
	ex = calloc(1, sizeof *ex);
	if (ex == NULL)
		goto out_free;
	ex->part = part_index;
	ex->model = p->model;
	ex->label = strdup(p->label);
	if (ex->label == NULL)
		goto out_free;
	size_t k = lo;
	uint32_t fpos = rets[k - 1].pos;
	ex->failing_op = p->ops[fpos];
	/* states possible after the longest linearizable prefix P(k-1) */
	if (sub_prefix(h, p, rets, k - 1, 0, &s) != 0)
		goto out_free;
	ex->prefix_ops = s.m;
	int r = search(&c, &s, init, &fin);
	if (r < 0) {
		rc = r;
		goto out_free;
	}
	if (r == S_LIN) {
		size_t keep = fin.n < MAX_STATES ? fin.n : MAX_STATES;
		ex->truncated_states = fin.n > keep;
		ex->states = calloc(keep ? keep : 1, sizeof *ex->states);
		if (ex->states == NULL)
			goto out_free;
		for (size_t i = 0; i < keep; i++) {
			struct rep_buf b = {0};
			uint32_t id = fin.ids[i];
			if (rep__buf_reserve(&b, 1) != 0 ||
			    c.m->format(c.spool.p + c.soff[id], c.slen[id], &b) != 0) {
				rep__buf_free(&b);
				goto out_free;
			}
			ex->states[ex->nstates++] = (char *)b.p;
		}
	}
	/* smallest window ending at the failing op that no start state the
	 * search has met can explain */
	uint32_t ncand = c.nst < MAX_CANDIDATES ? c.nst : MAX_CANDIDATES;
	size_t found_from = SIZE_MAX;
	for (size_t a = fpos + 1; a-- > 0;) {
		if (sub_prefix(h, p, rets, k, a, &s) != 0)
			goto out_free;
		bool all_not = true;
		for (uint32_t st = 0; st < ncand && all_not; st++) {
			r = search(&c, &s, st, NULL);
			if (r != S_NOT)
				all_not = false;
			if (r != S_NOT && r != S_LIN)
				a = 0; /* budget gone: stop scanning */
		}
		if (all_not) {
			found_from = a;
			break;
		}
	}
	if (found_from == SIZE_MAX) {
		found_from = 0;
		ex->window_from_initial = true;
	}
	if (sub_prefix(h, p, rets, k, found_from, &s) != 0)
		goto out_free;
	ex->window = malloc((s.m ? s.m : 1) * sizeof *ex->window);
	if (ex->window == NULL)
		goto out_free;
	for (size_t i = 0; i < s.m; i++)
		ex->window[i] = p->ops[s.lop[i] % p->n];
	ex->nwindow = s.m;
	*out = ex;
	ex = NULL;
	rc = 0;
out_free:
	if (ex != NULL) {
		for (size_t i = 0; i < ex->nstates; i++)
			free(ex->states[i]);
		free(ex->states);
		free(ex->window);
		free(ex->label);
		free(ex);
	}
	free(fin.ids);
	free(rets);
	sub_free(&s);
	pctx_free(&c);
	return rc;
}

/* ---------------------------------------------------------------- entry */

int rep_check(const struct rep_history *h, const struct rep_budget *budget,
	      struct rep_check_result *out)
{
	if (h == NULL || out == NULL)
		return REP_EINVAL;
	double t0 = rep__now();
	struct rep_budget b = budget ? *budget : (struct rep_budget){0};
	if (b.seconds <= 0)
		b.seconds = 60;
	if (b.max_bytes == 0)
		b.max_bytes = (size_t)1 << 30;
	if (b.threads == 0) {
		/* sysconf reads /sys each time: once per process is enough */
		static atomic_long cpus;
		long n = atomic_load(&cpus);
		if (n == 0) {
			n = sysconf(_SC_NPROCESSORS_ONLN);
			atomic_store(&cpus, n > 0 ? n : 1);
		}
		b.threads = n > 0 ? (unsigned)n : 1;
	}
	struct ctl ctl = {.deadline = t0 + b.seconds, .max_bytes = b.max_bytes};
	atomic_init(&ctl.bytes, 0);
	atomic_init(&ctl.peak, 0);
	struct parts ps = {0};
	struct rep_check_result r = {.nops = h->n};
	char *error = NULL;
	size_t *order = NULL;
	int rc = partition(h, &ps, &error);
	if (rc != 0) {
		if (rc == REP_EMODEL) {
			/* the result names the op; no verdict */
			r.verdict = REP_UNKNOWN;
			r.error = error;
			r.seconds = rep__now() - t0;
			parts_free(&ps);
			*out = r;
			return REP_EMODEL;
		}
		goto out_free;
	}
	rc = REP_ENOMEM;
	order = malloc((ps.n + 1) * sizeof *order);
	struct by_size *bs = malloc((ps.n + 1) * sizeof *bs);
	if (order == NULL || bs == NULL) {
		free(bs);
		goto out_free;
	}
	for (size_t i = 0; i < ps.n; i++)
		bs[i] = (struct by_size){ps.v[i].n, i};
	qsort(bs, ps.n, sizeof *bs, size_desc);
	for (size_t i = 0; i < ps.n; i++)
		order[i] = bs[i].i;
	free(bs);
	struct pool pl = {.h = h, .ps = &ps, .order = order, .ctl = &ctl};
	atomic_init(&pl.next, 0);
	size_t total_ops = 0;
	for (size_t i = 0; i < ps.n; i++)
		total_ops += ps.v[i].n;
	run_parts(&pl, b.threads, total_ops, t0);
	/* verdict and per-part results */
	r.verdict = REP_LINEARIZABLE;
	r.parts = calloc(ps.n ? ps.n : 1, sizeof *r.parts);
	if (r.parts == NULL)
		goto out_free;
	size_t first_bad = SIZE_MAX;
	for (size_t i = 0; i < ps.n; i++) {
		struct part *p = &ps.v[i];
		if (p->err == REP_ENOMEM) {
			rc = REP_ENOMEM;
			goto out_free;
		}
		struct rep_part_result *pr = &r.parts[i];
		pr->model = p->model;
		pr->label = p->label;
		p->label = NULL;
		pr->verdict = p->verdict;
		pr->nops = p->n;
		pr->seconds = p->seconds;
		pr->configurations = p->configs;
		pr->bytes = p->bytes;
		pr->unknown_reason = p->reason;
		r.nparts++;
		if (p->verdict == REP_NOT_LINEARIZABLE) {
			r.verdict = REP_NOT_LINEARIZABLE;
			if (first_bad == SIZE_MAX)
				first_bad = i;
		} else if (p->verdict == REP_UNKNOWN && r.verdict == REP_LINEARIZABLE) {
			r.verdict = REP_UNKNOWN;
		}
	}
	if (first_bad != SIZE_MAX && !b.no_explain) {
		ps.v[first_bad].label = strdup(r.parts[first_bad].label);
		if (ps.v[first_bad].label == NULL)
			goto out_free;
		/* the explanation gets what is left of the budget, but no more
		 * than ten times what the check took (at least 5 s): a verdict
		 * should not wait long for its commentary */
		double spent = rep__now() - t0;
		double cap = rep__now() + (spent * 10 > 5 ? spent * 10 : 5);
		if (cap < ctl.deadline)
			ctl.deadline = cap;
		rc = explain(h, &ps.v[first_bad], first_bad, &ctl, &r.explanation);
		if (rc != 0)
			goto out_free;
	}
	r.seconds = rep__now() - t0;
	r.bytes = atomic_load(&ctl.peak);
	parts_free(&ps);
	free(order);
	*out = r;
	return 0;
out_free:
	rep_check_result_free(&r);
	parts_free(&ps);
	free(order);
	free(error);
	return rc;
}

void rep_check_result_free(struct rep_check_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nparts; i++)
		free(r->parts[i].label);
	free(r->parts);
	if (r->explanation != NULL) {
		struct rep_explanation *ex = r->explanation;
		for (size_t i = 0; i < ex->nstates; i++)
			free(ex->states[i]);
		free(ex->states);
		free(ex->window);
		free(ex->label);
		free(ex);
	}
	free(r->error);
	memset(r, 0, sizeof *r);
}
