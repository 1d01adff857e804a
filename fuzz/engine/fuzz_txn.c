/* fuzz/engine/fuzz_txn.c: the transaction decoder (client bytes). A
 * transaction that decodes must encode back to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[PH_TXN_MAX];
	struct ph_txn *t;
	if (ph_txn_decode(data, size, NULL, &t) != 0)
		return 0;
	size_t len;
	if (ph_txn_encode(t, buf, sizeof buf, &len) != 0 || len != size || memcmp(buf, data, size) != 0)
		abort();
	for (size_t i = 0; i < ph_txn_n_ops(t); i++)
		if (ph_txn_op(t, i, NULL, NULL, NULL, NULL) != 0)
			abort();
	ph_txn_free(t);
	return 0;
}
