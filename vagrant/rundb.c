/* A run database (docs/run-database.md, schema version 1) as the source of
 * a layout: its `hosts` table holds every host's rack, row, power domain,
 * role and fabric address, which is all the machines need; `run.version`
 * says which physalia ran. Read-only; reports/ has no reader for these
 * rows, so they are read here through the documented schema. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagrant.h"

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err != NULL && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

int vag_model_from_rundb(const char *path, struct vag_model **out, char *version,
			 size_t versionlen, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct vag_model *m = NULL;
	int rc;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		rc = fail(err, errlen, VAG_ENOTFOUND, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
		goto err_close;
	}
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		rc = fail(err, errlen, VAG_EINVAL, "%s: not a run database (no meta.schema_version)", path);
		goto err_close;
	}
	if (strcmp(col(st, 0), "1") != 0) {
		rc = fail(err, errlen, VAG_EINVAL, "%s: run database schema version %s (this build reads 1)",
			  path, col(st, 0));
		goto err_close;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT version FROM run WHERE id = 1", -1, &st, NULL) !=
		    SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		rc = fail(err, errlen, VAG_EINVAL, "%s: no run row", path);
		goto err_close;
	}
	snprintf(version, versionlen, "%s", col(st, 0));
	sqlite3_finalize(st);
	st = NULL;

	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		rc = fail(err, errlen, VAG_ENOMEM, "out of memory");
		goto err_close;
	}
	if (sqlite3_prepare_v2(db,
			       "SELECT name, kind, row_name, rack, power_domain, address, node_id FROM hosts "
			       "WHERE kind IN ('node', 'client') ORDER BY rowid",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = fail(err, errlen, VAG_EINVAL, "%s: %s", path, sqlite3_errmsg(db));
		goto err_close;
	}
	int step;
	size_t row = 0;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		row++;
		const char *name = col(st, 0), *kind = col(st, 1), *rowname = col(st, 2),
			   *rack = col(st, 3), *power = col(st, 4), *addr = col(st, 5);
		struct in_addr a;
		if (*name == '\0' || *rack == '\0' || strlen(name) >= VAG_NAME_MAX ||
		    strlen(rack) >= VAG_NAME_MAX || strlen(rowname) >= VAG_NAME_MAX ||
		    strlen(power) >= VAG_NAME_MAX || inet_pton(AF_INET, addr, &a) != 1) {
			rc = fail(err, errlen, VAG_EINVAL,
				  "%s: hosts row %zu (%.64s): needs a name, a rack and an IPv4 address",
				  path, row, name);
			goto err_close;
		}
		size_t k = 0;
		while (k < m->nracks && strcmp(m->racks[k].name, rack) != 0)
			k++;
		if (k == m->nracks) {
			struct vag_rack_in *r = realloc(m->racks, (m->nracks + 1) * sizeof(*r));
			if (r == NULL) {
				rc = fail(err, errlen, VAG_ENOMEM, "out of memory");
				goto err_close;
			}
			m->racks = r;
			r = &m->racks[m->nracks++];
			memset(r, 0, sizeof(*r));
			snprintf(r->name, sizeof(r->name), "%s", rack);
			snprintf(r->row, sizeof(r->row), "%s", *rowname ? rowname : "row1");
			snprintf(r->power, sizeof(r->power), "%s", power);
			r->subnet = ntohl(a.s_addr) & 0xFFFFFF00u; /* the fabric's rack /24 */
		}
		struct vag_host_in *h = realloc(m->hosts, (m->nhosts + 1) * sizeof(*h));
		if (h == NULL) {
			rc = fail(err, errlen, VAG_ENOMEM, "out of memory");
			goto err_close;
		}
		m->hosts = h;
		h = &m->hosts[m->nhosts++];
		memset(h, 0, sizeof(*h));
		snprintf(h->name, sizeof(h->name), "%s", name);
		h->rack = k;
		h->roles = strcmp(kind, "node") == 0 ? VAG_ROLE_NODE : VAG_ROLE_CLIENT;
		h->addr = ntohl(a.s_addr);
		sqlite3_int64 id = sqlite3_column_int64(st, 6);
		h->node_id = h->roles == VAG_ROLE_NODE && id > 0 && id <= 0xFFFFFFFF ? (uint32_t)id : 0;
	}
	if (step != SQLITE_DONE) {
		rc = fail(err, errlen, VAG_EINVAL, "%s: %s", path, sqlite3_errmsg(db));
		goto err_close;
	}
	if (m->nhosts == 0) {
		rc = fail(err, errlen, VAG_EINVAL, "%s: the run recorded no hosts", path);
		goto err_close;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	*out = m;
	return VAG_OK;

err_close:
	vag_model_free(m);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}
