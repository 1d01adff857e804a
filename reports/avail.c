/* reports/avail.c: availability from each client's point of view
 * (docs/report.md): for each client and each fault window, the share of the
 * client's operations invoked in the window that completed OK within the
 * timeout. The paper's P(available | client available), made measurable. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct span {
	int64_t a, b;
};

static int span_cmp(const void *x, const void *y)
{
	const struct span *p = x, *q = y;
	return p->a < q->a ? -1 : p->a > q->a;
}

static char *client_name(const struct rep_op *op, char *buf, size_t size)
{
	if (op->client != NULL)
		return (char *)op->client;
	snprintf(buf, size, "process %lld", (long long)op->process);
	return buf;
}

static bool in_time(const struct rep_op *op, int64_t timeout_ns)
{
	return op->outcome == REP_OUT_OK &&
	       (timeout_ns <= 0 || op->complete_ns - op->invoke_ns <= timeout_ns);
}

void rep_avail_free(struct rep_avail *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].client);
		free(a[i].window);
	}
	free(a);
}

int rep_availability(const struct rep_history *h, const struct rep_fault *faults,
		     size_t nfaults, int64_t timeout_ns, struct rep_avail **out, size_t *nout)
{
	int64_t hist_end = 0, hist_start = h->n ? h->ops[0].invoke_ns : 0;
	for (size_t i = 0; i < h->n; i++) {
		int64_t t = h->ops[i].outcome == REP_OUT_PENDING ? h->ops[i].invoke_ns
								 : h->ops[i].complete_ns;
		if (t > hist_end)
			hist_end = t;
	}
	/* the fault-free time: the complement of the union of fault windows */
	struct span *fs = malloc((nfaults + 1) * sizeof *fs);
	if (fs == NULL)
		return REP_ENOMEM;
	for (size_t i = 0; i < nfaults; i++) {
		fs[i].a = faults[i].start_ns;
		fs[i].b = faults[i].end_ns < 0 ? INT64_MAX : faults[i].end_ns;
	}
	qsort(fs, nfaults, sizeof *fs, span_cmp);
	size_t nu = 0;
	for (size_t i = 0; i < nfaults; i++) {
		if (nu > 0 && fs[i].a <= fs[nu - 1].b) {
			if (fs[i].b > fs[nu - 1].b)
				fs[nu - 1].b = fs[i].b;
		} else {
			fs[nu++] = fs[i];
		}
	}
	/* clients in order of first appearance */
	char **clients = NULL;
	size_t nc = 0;
	struct rep_avail *rows = NULL;
	size_t nrows = 0;
	int rc = REP_ENOMEM;
	char buf[48];
	for (size_t i = 0; i < h->n; i++) {
		const char *c = client_name(&h->ops[i], buf, sizeof buf);
		size_t k = 0;
		while (k < nc && strcmp(clients[k], c) != 0)
			k++;
		if (k < nc)
			continue;
		char **m = realloc(clients, (nc + 1) * sizeof *m);
		if (m == NULL)
			goto out_free;
		clients = m;
		if ((clients[nc] = strdup(c)) == NULL)
			goto out_free;
		nc++;
	}
	rows = calloc(nc * (nfaults + 1) + 1, sizeof *rows);
	if (rows == NULL)
		goto out_free;
	for (size_t k = 0; k < nc; k++) {
		for (size_t w = 0; w <= nfaults; w++) {
			struct rep_avail *r = &rows[nrows];
			bool nofault = w == nfaults;
			r->fault_id = nofault ? 0 : faults[w].id;
			r->start_ns = nofault ? hist_start : faults[w].start_ns;
			r->end_ns = nofault ? hist_end : faults[w].end_ns < 0 ? hist_end : faults[w].end_ns;
			r->client = strdup(clients[k]);
			r->window = strdup(nofault ? "no fault" : faults[w].nemesis);
			nrows++;
			if (r->client == NULL || r->window == NULL)
				goto out_free;
			for (size_t i = 0; i < h->n; i++) {
				const struct rep_op *op = &h->ops[i];
				if (strcmp(client_name(op, buf, sizeof buf), clients[k]) != 0)
					continue;
				int64_t t = op->invoke_ns;
				bool inside;
				if (nofault) {
					inside = true;
					for (size_t u = 0; u < nu && inside; u++)
						if (t >= fs[u].a && t < fs[u].b)
							inside = false;
				} else {
					int64_t end = faults[w].end_ns < 0 ? INT64_MAX : faults[w].end_ns;
					inside = t >= faults[w].start_ns && t < end;
				}
				if (!inside)
					continue;
				r->ops++;
				r->ok_in_time += in_time(op, timeout_ns);
			}
			r->share = r->ops ? (double)r->ok_in_time / (double)r->ops : 1.0;
		}
	}
	*out = rows;
	*nout = nrows;
	rows = NULL;
	rc = 0;
out_free:
	if (rows != NULL)
		rep_avail_free(rows, nrows);
	for (size_t k = 0; k < nc; k++)
		free(clients[k]);
	free(clients);
	free(fs);
	return rc;
}
