/* fuzz/engine/fuzz_msg.c: the peer message decoder. A message that decodes
 * must encode back to the same bytes (the wire format is canonical). */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[PH_MSG_MAX];
	struct ph_msg m;
	const uint8_t *pk;
	size_t pl;
	int t = ph_msg_peek_type(data, size);
	ph_msg_peek_pkey(data, size, &pk, &pl);
	if (ph_msg_decode(data, size, &m) != 0)
		return 0;
	if (t != m.type)
		abort();
	size_t len;
	if (ph_msg_encode(&m, buf, sizeof buf, &len) != 0 || len != size || memcmp(buf, data, size) != 0)
		abort();
	return 0;
}
