/* Fuzz target: history lines written by workload clients and read back by
 * the runner (chaos/history.c). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "reports/reports.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	struct rep_history h;
	rep_history_init(&h);
	size_t before = h.n;
	if (chaos_history_line_parse(&h, "c1", line) == 0 && h.n != before + 1)
		abort(); /* success adds exactly one op */
	rep_history_free(&h);
	free(line);
	return 0;
}
