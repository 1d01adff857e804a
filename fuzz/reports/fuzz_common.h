/* Shared body of the importer fuzz targets: import; on success the history
 * must be well formed, export to EDN, re-import to the same number of ops,
 * and check under a small budget without crashing. */
#include <stdio.h>
#include <stdlib.h>

#include "reports.h"

static void fuzz_one(const uint8_t *data, size_t size, enum rep_format fmt)
{
	struct rep_history h;
	rep_history_init(&h);
	struct rep_error err;
	if (rep_import_buffer((const char *)data, size, fmt, "fuzz", &h, &err) != 0)
		return;
	for (size_t i = 0; i < h.n; i++) {
		if (i > 0 && h.ops[i].invoke_ns < h.ops[i - 1].invoke_ns)
			abort();
		if (h.ops[i].outcome != REP_OUT_PENDING && h.ops[i].complete_ns < h.ops[i].invoke_ns)
			abort();
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (m != NULL) {
		if (rep_export_edn(&h, m) != 0)
			abort();
		fclose(m);
		struct rep_history h2;
		rep_history_init(&h2);
		if (rep_import_buffer(buf, len, REP_FMT_EDN, "export", &h2, &err) != 0 ||
		    h2.n != h.n) {
			fprintf(stderr, "re-import failed: %u:%u: %s\n%s", err.line, err.column,
				err.msg, buf);
			abort();
		}
		rep_history_free(&h2);
		free(buf);
	}
	if (h.n <= 64) {
		struct rep_budget b = {.seconds = 0.05, .threads = 1};
		struct rep_check_result r;
		int rc = rep_check(&h, &b, &r);
		if (rc == 0 || rc == REP_EMODEL)
			rep_check_result_free(&r);
	}
	rep_history_free(&h);
}
