/* The simulated disk of one replica.  Batches are written in order (one
 * write+fsync each, like the node's one SQLite transaction per loop turn);
 * a batch is durable only when its completion runs.  A crash loses every
 * pending batch; a torn write leaves a prefix of the oldest one. */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

void sim_disk_init(struct sim_disk *d, const struct sim_disk_cfg *cfg)
{
	memset(d, 0, sizeof(*d));
	if (cfg)
		d->cfg = *cfg;
}

static void free_batch(struct sim_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->recs[i].bytes);
	free(b->recs);
}

void sim_disk_close(struct sim_disk *d)
{
	for (size_t i = 0; i < d->ndurable; i++)
		free(d->durable[i].bytes);
	free(d->durable);
	for (size_t i = 0; i < d->npending; i++)
		free_batch(&d->pending[i]);
	free(d->pending);
	memset(d, 0, sizeof(*d));
}

int sim_disk_submit(struct sim_disk *d, struct sim_rng *r, sim_time now, uint64_t persist_id,
		    const struct sim_rec *recs, size_t n, sim_time *done_at)
{
	if (d->npending == d->cappending) {
		size_t cap = d->cappending ? d->cappending * 2 : 8;
		struct sim_batch *p = realloc(d->pending, cap * sizeof(*p));
		if (!p)
			return SIM_ENOMEM;
		d->pending = p;
		d->cappending = cap;
	}
	struct sim_batch b = {.persist_id = persist_id, .n = n};
	if (n) {
		b.recs = calloc(n, sizeof(*b.recs));
		if (!b.recs)
			return SIM_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		b.recs[i] = recs[i];
		b.recs[i].bytes = NULL;
		if (recs[i].len) {
			b.recs[i].bytes = malloc(recs[i].len);
			if (!b.recs[i].bytes)
				goto err_after_recs;
			memcpy(b.recs[i].bytes, recs[i].bytes, recs[i].len);
		}
	}
	sim_time lat = sim_rng_range(r, d->cfg.lat_min, d->cfg.lat_max);
	sim_time at = now + lat;
	if (at < d->busy_until)
		at = d->busy_until; /* one disk: completes after what went before */
	d->busy_until = at;
	b.done_at = at;
	d->pending[d->npending++] = b;
	d->stats.batches++;
	d->stats.records += n;
	*done_at = at;
	return SIM_OK;

err_after_recs:
	free_batch(&b);
	return SIM_ENOMEM;
}

static int cmp_key(int ka, uint64_t sa, int kb, uint64_t sb)
{
	if (ka != kb)
		return ka < kb ? -1 : 1;
	if (sa != sb)
		return sa < sb ? -1 : 1;
	return 0;
}

/* Binary search: index of (kind, slot) or where it would go. */
static size_t lower_bound(const struct sim_disk *d, int kind, uint64_t slot)
{
	size_t lo = 0, hi = d->ndurable;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_key(d->durable[mid].kind, d->durable[mid].slot, kind, slot) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct sim_rec *sim_disk_find(const struct sim_disk *d, int kind, uint64_t slot)
{
	size_t i = lower_bound(d, kind, slot);
	if (i < d->ndurable && d->durable[i].kind == kind && d->durable[i].slot == slot)
		return &d->durable[i];
	return NULL;
}

/* Moves rec's bytes into the durable set (takes ownership). Cannot fail
 * after the capacity is reserved by reserve(). */
static void upsert(struct sim_disk *d, struct sim_rec *rec)
{
	if (d->cfg.truncate_kind && rec->kind == d->cfg.truncate_kind)
		for (int t = 0; t < 2; t++)
			if (d->cfg.truncate_targets[t])
				sim_disk_drop_below(d, d->cfg.truncate_targets[t], rec->slot);
	size_t i = lower_bound(d, rec->kind, rec->slot);
	if (i < d->ndurable && d->durable[i].kind == rec->kind && d->durable[i].slot == rec->slot) {
		free(d->durable[i].bytes);
		d->durable[i] = *rec;
	} else {
		memmove(&d->durable[i + 1], &d->durable[i], (d->ndurable - i) * sizeof(*d->durable));
		d->durable[i] = *rec;
		d->ndurable++;
	}
	rec->bytes = NULL;
	rec->len = 0;
}

static int reserve(struct sim_disk *d, size_t more)
{
	if (d->ndurable + more <= d->capdurable)
		return SIM_OK;
	size_t cap = d->capdurable ? d->capdurable : 16;
	while (cap < d->ndurable + more)
		cap *= 2;
	struct sim_rec *p = realloc(d->durable, cap * sizeof(*p));
	if (!p)
		return SIM_ENOMEM;
	d->durable = p;
	d->capdurable = cap;
	return SIM_OK;
}

static void pop_oldest(struct sim_disk *d)
{
	free_batch(&d->pending[0]);
	memmove(&d->pending[0], &d->pending[1], (d->npending - 1) * sizeof(*d->pending));
	d->npending--;
}

int sim_disk_complete(struct sim_disk *d, struct sim_rng *r, uint64_t persist_id)
{
	if (d->npending == 0 || d->pending[0].persist_id != persist_id)
		return SIM_ENOENT;
	bool wfail = sim_rng_chance(r, d->cfg.write_fail_ppm);
	bool ffail = sim_rng_chance(r, d->cfg.fsync_fail_ppm);
	if (wfail || ffail) {
		/* Nothing of a failed batch counts as durable: the caller crashes
		 * the replica, which drops the rest (a failed fsync stops the node,
		 * DESIGN.md "Storage"). */
		if (wfail)
			d->stats.write_fails++;
		else
			d->stats.fsync_fails++;
		return wfail ? SIM_EWRITE : SIM_EFSYNC;
	}
	struct sim_batch *b = &d->pending[0];
	if (reserve(d, b->n) != SIM_OK)
		return SIM_ENOMEM;
	for (size_t i = 0; i < b->n; i++)
		upsert(d, &b->recs[i]);
	d->durable_id = persist_id;
	d->durable_gen++;
	pop_oldest(d);
	return SIM_OK;
}

void sim_disk_crash(struct sim_disk *d, struct sim_rng *r)
{
	d->stats.crashes++;
	if (d->npending && sim_rng_chance(r, d->cfg.torn_ppm)) {
		struct sim_batch *b = &d->pending[0];
		size_t keep = (size_t)sim_rng_below(r, b->n + 1);
		if (keep < b->n && reserve(d, keep) == SIM_OK) {
			for (size_t i = 0; i < keep; i++)
				upsert(d, &b->recs[i]);
			if (keep)
				d->durable_gen++;
			d->stats.torn++;
		}
	}
	d->stats.lost_batches += d->npending;
	while (d->npending)
		pop_oldest(d);
	d->busy_until = 0;
}

void sim_disk_drop_below(struct sim_disk *d, int kind, uint64_t below)
{
	size_t lo = lower_bound(d, kind, 0), hi = lower_bound(d, kind, below);
	if (hi == lo)
		return;
	for (size_t i = lo; i < hi; i++)
		free(d->durable[i].bytes);
	memmove(&d->durable[lo], &d->durable[hi], (d->ndurable - hi) * sizeof(*d->durable));
	d->ndurable -= hi - lo;
	d->durable_gen++;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t sim_disk_hash(const struct sim_disk *d)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < d->ndurable; i++) {
		const struct sim_rec *x = &d->durable[i];
		int32_t k = x->kind;
		h = fnv(h, &k, sizeof(k));
		h = fnv(h, &x->slot, sizeof(x->slot));
		uint64_t len = x->len;
		h = fnv(h, &len, sizeof(len));
		if (x->len)
			h = fnv(h, x->bytes, x->len);
	}
	return h;
}
