/* Fuzz target: hosts.tsv (vag_hosts_tsv_parse). Refusals carry a message
 * with a position; accepted rows hold non-empty printable fields, known
 * roles and no host twice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vagrant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vag_hosts_row *rows = (struct vag_hosts_row *)&size; /* must stay untouched */
	size_t n = 12345;
	char err[512] = "";
	int rc = vag_hosts_tsv_parse("fuzz.tsv", (const char *)data, size, &rows, &n, err,
				     sizeof(err));
	if (rc != VAG_OK) {
		if (rows != (struct vag_hosts_row *)&size || n != 12345 ||
		    strncmp(err, "fuzz.tsv:", 9) != 0)
			abort();
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (rows[i].host[0] == '\0' || rows[i].machine[0] == '\0' || rows[i].tor[0] == '\0')
			abort();
		if (strcmp(rows[i].roles, "node") != 0 && strcmp(rows[i].roles, "client") != 0 &&
		    strcmp(rows[i].roles, "node+client") != 0)
			abort();
		for (size_t j = 0; j < i; j++)
			if (strcmp(rows[i].host, rows[j].host) == 0)
				abort();
	}
	free(rows);
	return 0;
}
