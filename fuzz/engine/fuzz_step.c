/* fuzz/engine/fuzz_step.c: a replica fed arbitrary peer messages. The input is
 * a sequence of (sender u8, u16 length, bytes); senders 1..3 are the jury.
 * Every step must succeed (bad messages are dropped, never an error), and
 * the replica must stay consistent (status and hash readable). */
#include <stdlib.h>

#include "engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pkey[] = "vol-7";
	struct ph_cell_config cfg;
	ph_cell_config_init(&cfg);
	cfg.pkey = pkey;
	cfg.pkey_len = 5;
	cfg.self = 1;
	cfg.jury_n = 3;
	cfg.jury[0] = 1;
	cfg.jury[1] = 2;
	cfg.jury[2] = 3;
	struct ph_cell *c;
	if (ph_cell_new(&cfg, NULL, &c) != 0)
		return 0;
	ph_time now = 1000000000ull;
	while (size >= 3) {
		struct ph_event ev = {.type = PH_EV_RECEIVE, .now = now};
		ev.receive.from = (ph_node_id)(data[0] % 4);
		size_t len = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		ev.receive.bytes = data;
		ev.receive.len = len;
		struct ph_update u;
		if (ev.receive.from == 0) {
			ev.type = PH_EV_TICK;
			now += 50000000ull;
			ev.now = now;
		}
		if (ph_cell_step(c, &ev, &u) != 0)
			abort();
		struct ph_cell_status s;
		ph_cell_status(c, &s);
		if (s.applied > s.chosen || s.snapshot > s.applied)
			abort();
		(void)ph_cell_state_hash(c);
		data += len;
		size -= len;
	}
	ph_cell_free(c);
	return 0;
}
