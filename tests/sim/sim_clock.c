/* A clock per actor (PHYSALIA.md 6: "each actor has its own view of time,
 * fully controlled by the test").  local(g) = base_local + (g - base_global)
 * * (1e6 + rate_ppm) / 1e6, re-anchored whenever the rate changes or the
 * clock jumps.  Readings never go back, as CLOCK_MONOTONIC's don't: a
 * backward jump makes the clock stand still until it catches up. */
#include "sim.h"

void sim_clock_init(struct sim_clock *c, sim_time global_now, sim_time local_now, int64_t rate_ppm)
{
	c->base_global = global_now;
	c->base_local = local_now;
	c->rate_ppm = rate_ppm > -900000 ? rate_ppm : -900000;
	c->last = local_now;
}

static sim_time scaled(sim_time dg, int64_t rate_ppm)
{
	/* dg * (1e6 + rate) / 1e6 without overflow for dg up to ~days. */
	uint64_t mul = (uint64_t)(1000000 + rate_ppm);
	return (dg / 1000000) * mul + (dg % 1000000) * mul / 1000000;
}

sim_time sim_clock_peek(const struct sim_clock *c, sim_time g)
{
	sim_time dg = g > c->base_global ? g - c->base_global : 0;
	sim_time l = c->base_local + scaled(dg, c->rate_ppm);
	return l > c->last ? l : c->last;
}

sim_time sim_clock_local(struct sim_clock *c, sim_time g)
{
	c->last = sim_clock_peek(c, g);
	return c->last;
}

sim_time sim_clock_to_global(const struct sim_clock *c, sim_time g_now, sim_time local)
{
	if (local <= sim_clock_peek(c, g_now))
		return g_now;
	/* Smallest g with base_local + scaled(g - base_global) >= local. */
	sim_time need = local - c->base_local;
	uint64_t mul = (uint64_t)(1000000 + c->rate_ppm);
	sim_time dg = (need / mul) * 1000000 + ((need % mul) * 1000000 + mul - 1) / mul;
	while (dg > 0 && scaled(dg - 1, c->rate_ppm) >= need)
		dg--;
	while (scaled(dg, c->rate_ppm) < need)
		dg++;
	sim_time g = c->base_global + dg;
	return g > g_now ? g : g_now;
}

void sim_clock_set_rate(struct sim_clock *c, sim_time g_now, int64_t rate_ppm)
{
	sim_time l = sim_clock_peek(c, g_now);
	c->base_global = g_now;
	c->base_local = l;
	c->rate_ppm = rate_ppm > -900000 ? rate_ppm : -900000;
}

void sim_clock_jump(struct sim_clock *c, sim_time g_now, int64_t delta)
{
	sim_time dg = g_now > c->base_global ? g_now - c->base_global : 0;
	sim_time raw = c->base_local + scaled(dg, c->rate_ppm);
	c->base_global = g_now;
	if (delta < 0 && (uint64_t)(-delta) > raw)
		c->base_local = 0;
	else
		c->base_local = raw + (sim_time)delta;
}
