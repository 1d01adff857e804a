/* tests/engine/pure_link.c: linked with ph_engine and GMP only (no Check, no
 * libuv, nothing else): creates a replica, steps it, frees it. */
#include <stdio.h>

#include "engine.h"

int main(void)
{
	static const uint8_t pkey[] = "pure";
	struct ph_cell_config cfg;
	ph_cell_config_init(&cfg);
	cfg.pkey = pkey;
	cfg.pkey_len = 4;
	cfg.self = 1;
	cfg.jury_n = 3;
	cfg.jury[0] = 1;
	cfg.jury[1] = 2;
	cfg.jury[2] = 3;
	struct ph_cell *c;
	if (ph_cell_new(&cfg, NULL, &c) != 0)
		return 1;
	struct ph_event ev = {.type = PH_EV_TICK, .now = 1};
	struct ph_update u;
	int rc = ph_cell_step(c, &ev, &u);
	ph_cell_free(c);
	printf("pure link: step %s\n", ph_strerror(rc));
	return rc != 0;
}
