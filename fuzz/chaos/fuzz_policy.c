/* Fuzz target: the impairment engine's control lines ("SRC/LEN DST/LEN
 * k=v ..."), read by `physalia-chaos impair` from its stdin. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chaos.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	uint32_t s, d;
	int sl, dl;
	struct chaos_link_policy p;
	char err[160];
	if (chaos_policy_parse(line, &s, &sl, &d, &dl, &p, err, sizeof err) == 0) {
		if (sl < 0 || sl > 32 || dl < 0 || dl > 32 || p.loss < 0 || p.loss > 1 ||
		    p.duplicate < 0 || p.duplicate > 1 || p.corrupt < 0 || p.corrupt > 1 ||
		    p.reorder < 0 || p.reorder > 1)
			abort(); /* accepted something out of range */
		struct chaos_link_state st = { 0, 0 };
		struct chaos_decision dec;
		for (int i = 0; i < 16; i++)
			chaos_decide(&p, 1, s, d, &st, &dec);
	}
	free(line);
	return 0;
}
