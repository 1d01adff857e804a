/* fuzz/engine/fuzz_result.c: the result decoder (bytes a client receives). */
#include <stdlib.h>

#include "engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ph_result *r;
	if (ph_result_decode(data, size, NULL, &r) != 0)
		return 0;
	for (size_t i = 0; i < ph_result_n_reads(r); i++) {
		struct ph_value v;
		bool present;
		if (ph_result_read(r, i, NULL, NULL, &present, &v) != 0)
			abort();
	}
	ph_result_free(r);
	return 0;
}
