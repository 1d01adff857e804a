/* hosts.tsv, the map from a run's hosts to the machines that carry them:
 * written by the generator, read by the ssh backend (and editable by hand,
 * so read strictly). One header line, then one line per host with exactly
 * eight tab-separated fields. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagrant.h"

static const char header[] = "host\track\trow\tpower\troles\taddress\tmachine\ttor";

static int fail(char *err, size_t errlen, const char *name, size_t line, size_t col,
		const char *fmt, ...)
{
	if (err != NULL && errlen > 0) {
		int k = snprintf(err, errlen, "%s:%zu:%zu: ", name, line, col);
		if (k >= 0 && (size_t)k < errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
			va_end(ap);
		}
	}
	return VAG_EINVAL;
}

/* A printable token without spaces: names, roles, addresses. */
static int token_ok(const char *s, size_t n)
{
	if (n == 0 || n >= VAG_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return 1;
}

int vag_hosts_tsv_parse(const char *name, const char *text, size_t len,
			struct vag_hosts_row **rows, size_t *nrows, char *err, size_t errlen)
{
	struct vag_hosts_row *out = NULL;
	size_t n = 0, lineno = 0, pos = 0;
	int rc = VAG_OK;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - line) : len - pos;
		pos += l + (nl != NULL);
		lineno++;
		if (lineno == 1) {
			if (l != sizeof(header) - 1 || memcmp(line, header, l) != 0) {
				rc = fail(err, errlen, name, 1, 1, "expected the header '%s'",
					  "host<TAB>rack<TAB>row<TAB>power<TAB>roles<TAB>address<TAB>machine<TAB>tor");
				goto err_free;
			}
			continue;
		}
		if (l == 0 && nl == NULL)
			break;
		struct vag_hosts_row r;
		memset(&r, 0, sizeof(r));
		char *fields[8] = { r.host, r.rack, r.row, r.power, r.roles, NULL, r.machine, r.tor };
		char addr[VAG_NAME_MAX] = "";
		fields[5] = addr;
		size_t start = 0, f = 0;
		for (size_t i = 0; i <= l; i++) {
			if (i < l && line[i] != '\t')
				continue;
			if (f == 8) {
				rc = fail(err, errlen, name, lineno, i + 1, "more than 8 fields");
				goto err_free;
			}
			if (!token_ok(line + start, i - start)) {
				rc = fail(err, errlen, name, lineno, start + 1,
					  "field %zu is empty, too long or not printable", f + 1);
				goto err_free;
			}
			memcpy(fields[f], line + start, i - start);
			fields[f][i - start] = '\0';
			f++;
			start = i + 1;
		}
		if (f != 8) {
			rc = fail(err, errlen, name, lineno, l + 1, "%zu fields, expected 8", f);
			goto err_free;
		}
		struct in_addr a;
		if (inet_pton(AF_INET, addr, &a) != 1) {
			rc = fail(err, errlen, name, lineno, 1, "'%s' is not an IPv4 address", addr);
			goto err_free;
		}
		r.addr = ntohl(a.s_addr);
		if (strcmp(r.roles, "node") != 0 && strcmp(r.roles, "client") != 0 &&
		    strcmp(r.roles, "node+client") != 0) {
			rc = fail(err, errlen, name, lineno, 1, "roles '%s': node, client or node+client",
				  r.roles);
			goto err_free;
		}
		for (size_t j = 0; j < n; j++)
			if (strcmp(out[j].host, r.host) == 0) {
				rc = fail(err, errlen, name, lineno, 1, "host %s listed twice", r.host);
				goto err_free;
			}
		struct vag_hosts_row *g = realloc(out, (n + 1) * sizeof(*g));
		if (g == NULL) {
			rc = VAG_ENOMEM;
			if (err != NULL && errlen > 0)
				snprintf(err, errlen, "%s: out of memory", name);
			goto err_free;
		}
		out = g;
		out[n++] = r;
	}
	if (lineno == 0) {
		rc = fail(err, errlen, name, 1, 1, "empty file");
		goto err_free;
	}
	*rows = out;
	*nrows = n;
	return VAG_OK;

err_free:
	free(out);
	return rc;
}
