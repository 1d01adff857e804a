/* Fuzz target: `--shape` text (vag_shape_parse). Whatever the bytes, the
 * parser either refuses them with a message naming --shape, or returns
 * counts within the address plan's limits that print back to text parsing
 * to the same counts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagrant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 256)
		return 0;
	char text[257];
	memcpy(text, data, size);
	text[size] = '\0';
	unsigned v[4] = { 0, 0, 0, 0 }, w[4];
	char err[512] = "";
	int rc = vag_shape_parse(text, v, err, sizeof(err));
	if (rc != VAG_OK) {
		if (strstr(err, "--shape") == NULL || (v[0] | v[1] | v[2] | v[3]) != 0)
			abort();
		return 0;
	}
	if (v[0] == 0 || v[1] == 0 || v[2] + v[3] == 0 ||
	    (unsigned long)v[0] * v[1] > VAG_RACKS_MAX || v[2] + v[3] > VAG_HOSTS_PER_RACK_MAX)
		abort();
	char back[64];
	snprintf(back, sizeof(back), "%ux%ux%u+%u", v[0], v[1], v[2], v[3]);
	if (vag_shape_parse(back, w, err, sizeof(err)) != VAG_OK || memcmp(v, w, sizeof(v)) != 0)
		abort();
	return 0;
}
