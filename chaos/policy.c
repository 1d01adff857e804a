/* The per-packet fault decision: pure, seeded, replayable.
 *
 * Every packet between two hosts meets this function exactly once (the
 * impairment engine calls it for each queued packet). Its result depends only
 * on (seed, source, destination, the packet's index on that link, policy):
 * the same packet sequence under the same seed gets the same fates, which is
 * what lets a failing run be replayed and shrunk. */
#include "chaos.h"

/* splitmix64: a well-mixed 64-bit hash step (Steele, Lea, Flood 2014). */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* A uniform double in [0, 1) for draw `salt` of packet `index` on a link. */
static double draw(uint64_t seed, uint32_t src, uint32_t dst, uint64_t index, uint32_t salt)
{
	uint64_t h = mix64(seed ^ mix64(((uint64_t)src << 32 | dst) ^ mix64(index * 8 + salt)));
	return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

const char *chaos_verdict_name(enum chaos_verdict v)
{
	static const char *const names[CHAOS_V__COUNT] = {
		"deliver", "drop", "delay", "reorder", "duplicate", "corrupt",
	};
	if ((unsigned)v < CHAOS_V__COUNT)
		return names[v];
	return "unknown";
}

void chaos_decide(const struct chaos_link_policy *p, uint64_t seed, uint32_t src,
		  uint32_t dst, struct chaos_link_state *st, struct chaos_decision *out)
{
	uint64_t i = st->packets++;
	struct chaos_decision d = { CHAOS_V_DELIVER, 0, 0 };

	if (st->burst_left > 0) {
		st->burst_left--;
		d.verdict = CHAOS_V_DROP;
		*out = d;
		return;
	}
	if (p->loss > 0 && draw(seed, src, dst, i, 0) < p->loss) {
		st->burst_left = p->loss_burst > 1 ? p->loss_burst - 1 : 0;
		d.verdict = CHAOS_V_DROP;
		*out = d;
		return;
	}
	if (p->delay_us > 0 || p->jitter_us > 0) {
		int64_t delay = p->delay_us;
		if (p->jitter_us > 0) {
			double j = draw(seed, src, dst, i, 1) * 2.0 - 1.0;
			delay += (int64_t)(j * p->jitter_us);
		}
		d.delay_us = delay > 0 ? (uint32_t)delay : 0;
		if (d.delay_us > 0)
			d.verdict = CHAOS_V_DELAY;
	}
	if (p->reorder > 0 && draw(seed, src, dst, i, 2) < p->reorder) {
		d.verdict = CHAOS_V_REORDER;
		d.delay_us += p->reorder_gap_us > 0 ? p->reorder_gap_us : 20000;
	}
	if (p->duplicate > 0 && draw(seed, src, dst, i, 3) < p->duplicate)
		d.verdict = CHAOS_V_DUPLICATE;
	if (p->corrupt > 0 && draw(seed, src, dst, i, 4) < p->corrupt) {
		d.verdict = CHAOS_V_CORRUPT;
		d.corrupt_at = (uint32_t)(draw(seed, src, dst, i, 5) * 65536.0);
	}
	*out = d;
}
