/* fuzz/engine/fuzz_snapshot.c: the snapshot decoder (a peer's whole state). */
#include "engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ph_slot s;
	ph_snapshot_check(data, size, NULL, &s);
	return 0;
}
