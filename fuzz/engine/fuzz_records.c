/* fuzz/engine/fuzz_records.c: restart from persisted records. The input is a
 * sequence of records, each u16 length (big-endian) + bytes; each record's
 * store key (kind, slot) is read from its own header when present, so most
 * records reach the body checks, and all of them go to ph_cell_load. */
#include <string.h>

#include "engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ph_record recs[64];
	size_t n = 0;
	while (size >= 2 && n < 64) {
		size_t len = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		struct ph_record *r = &recs[n++];
		r->bytes = data;
		r->len = len;
		r->kind = len > 1 ? data[1] : 0;
		r->slot = 0;
		for (size_t i = 2; i < 10 && i < len; i++)
			r->slot = r->slot << 8 | data[i];
		ph_record_check(r, NULL);
		data += len;
		size -= len;
	}
	static const uint8_t pkey[] = "fuzz";
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
		return 0;
	ph_cell_load(c, recs, n);
	ph_cell_free(c);
	return 0;
}
