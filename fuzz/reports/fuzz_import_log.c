/* Fuzz target: the Jepsen log importer (and, for what it accepts, the EDN
 * exporter and the checker). */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_one(data, size, REP_FMT_LOG);
	return 0;
}
