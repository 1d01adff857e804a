/* topology/model.c: the rack model: YAML loading (libfyaml event parser, so
 * every node keeps its line and column), the built-in default, generated
 * models, lookups, writing back, and hop distances.
 *
 * Loading is two passes: libfyaml events become a small tree of our own
 * (scalars, sequences, mappings, each with a 1-based position), then the
 * tree is read against the format in docs/rack-model.md. Semantic rules
 * (duplicates, diversity, addresses) live in validate.c and run on every
 * model however it was made. */
#include "topology/topology.h"
#include "topology/model_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <libfyaml.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- diagnostics ---------------------------------------------------------- */

int topo__diag(struct topo_diag *d, int code, const char *file,
	       struct topo_pos pos, const char *fmt, ...)
{
	if (d == NULL)
		return code;
	d->code = code;
	snprintf(d->file, sizeof d->file, "%s", file ? file : "<model>");
	d->line = pos.line;
	d->column = pos.column;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof d->msg, fmt, ap);
	va_end(ap);
	return code;
}

/* ---- the YAML tree ------------------------------------------------------- */

enum ykind { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
	enum ykind kind;
	struct topo_pos pos;
	char *text;             /* scalars: NUL-terminated copy */
	size_t len;
	struct ynode **kids;    /* seq: items; map: key, value, key, value... */
	size_t n, cap;
};

#define Y_DEPTH_MAX 32

static void ynode_free(struct ynode *y)
{
	if (y == NULL)
		return;
	for (size_t i = 0; i < y->n; i++)
		ynode_free(y->kids[i]);
	free(y->kids);
	free(y->text);
	free(y);
}

static int ynode_push(struct ynode *parent, struct ynode *kid)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		struct ynode **k = realloc(parent->kids, cap * sizeof *k);
		if (k == NULL)
			return TOPO_ENOMEM;
		parent->kids = k;
		parent->cap = cap;
	}
	parent->kids[parent->n++] = kid;
	return 0;
}

struct yparse {
	const char *buf;        /* the input, for source slices */
	size_t len;
	struct fy_parser *fyp;
	struct fy_diag *fyd;
	const char *file;
	struct topo_diag *diag;
};

static struct topo_pos mark_pos(struct fy_event *e)
{
	const struct fy_mark *m = fy_event_start_mark(e);
	struct topo_pos p = { 0, 0 };
	if (m != NULL && m->line >= 0 && m->column >= 0) {
		p.line = (uint32_t)m->line + 1;
		p.column = (uint32_t)m->column + 1;
	}
	return p;
}

/* The parser's own complaint, with its position, as our diagnostic. */
static int syntax_error(struct yparse *yp, struct topo_pos fallback)
{
	void *it = NULL;
	struct fy_diag_error *err = fy_diag_errors_iterate(yp->fyd, &it);
	if (err != NULL) {
		struct topo_pos p = { err->line > 0 ? (uint32_t)err->line : 0,
				      err->column > 0 ? (uint32_t)err->column : 0 };
		return topo__diag(yp->diag, TOPO_ESYNTAX, yp->file, p,
				  "YAML syntax error: %s", err->msg ? err->msg : "?");
	}
	return topo__diag(yp->diag, TOPO_ESYNTAX, yp->file, fallback,
			  "YAML syntax error");
}

/* Does the single-quoted scalar source s hold a ''? (A false positive,
 * such as the empty '', costs nothing: no valid value holds a quote or is
 * empty.) */
static bool has_quote_escape(const char *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (s[i] == '\'' && s[i + 1] == '\'')
			return true;
	return false;
}

/* Builds the node that starts with event e (consumed here). */
static int ybuild(struct yparse *yp, struct fy_event *e, int depth, struct ynode **out)
{
	int rc;
	struct topo_pos pos = mark_pos(e);
	if (depth > Y_DEPTH_MAX) {
		fy_parser_event_free(yp->fyp, e);
		return topo__diag(yp->diag, TOPO_ESCHEMA, yp->file, pos,
				  "nesting deeper than %d levels", Y_DEPTH_MAX);
	}
	if (e->type == FYET_ALIAS) {
		fy_parser_event_free(yp->fyp, e);
		return topo__diag(yp->diag, TOPO_ESCHEMA, yp->file, pos,
				  "aliases (*name) are not supported in a rack model");
	}
	struct ynode *y = calloc(1, sizeof *y);
	if (y == NULL) {
		fy_parser_event_free(yp->fyp, e);
		return topo__diag(yp->diag, TOPO_ENOMEM, yp->file, pos, "out of memory");
	}
	y->pos = pos;
	if (e->type == FYET_SCALAR) {
		size_t len = 0;
		const char *t = "";
		const struct fy_mark *sm = fy_event_start_mark(e), *em = fy_event_end_mark(e);
		if (e->scalar.value != NULL &&
		    fy_token_scalar_style(e->scalar.value) == FYSS_SINGLE_QUOTED && sm && em &&
		    sm->input_pos < em->input_pos && em->input_pos <= yp->len &&
		    has_quote_escape(yp->buf + sm->input_pos, em->input_pos - sm->input_pos)) {
			/* libfyaml 0.7.12 leaks the text it builds for a
			 * single-quoted scalar with '' escapes (fuzz/topology);
			 * no value in a rack model may hold a quote, so keep the
			 * source as written, for the error message it will get */
			t = yp->buf + sm->input_pos;
			len = em->input_pos - sm->input_pos;
		} else if (e->scalar.value != NULL) {
			t = fy_token_get_text(e->scalar.value, &len);
			if (t == NULL) {
				t = "";
				len = 0;
			}
		}
		y->kind = Y_SCALAR;
		y->text = malloc(len + 1);
		if (y->text == NULL) {
			rc = topo__diag(yp->diag, TOPO_ENOMEM, yp->file, pos, "out of memory");
			goto err_free_node;
		}
		memcpy(y->text, t, len);
		y->text[len] = '\0';
		y->len = len;
		fy_parser_event_free(yp->fyp, e);
		*out = y;
		return 0;
	}
	enum fy_event_type end;
	if (e->type == FYET_SEQUENCE_START) {
		y->kind = Y_SEQ;
		end = FYET_SEQUENCE_END;
	} else if (e->type == FYET_MAPPING_START) {
		y->kind = Y_MAP;
		end = FYET_MAPPING_END;
	} else {
		rc = topo__diag(yp->diag, TOPO_ESYNTAX, yp->file, pos,
				"unexpected YAML event");
		goto err_free_node;
	}
	fy_parser_event_free(yp->fyp, e);
	e = NULL;
	for (;;) {
		struct fy_event *k = fy_parser_parse(yp->fyp);
		if (k == NULL) {
			rc = syntax_error(yp, pos);
			goto err_free_node;
		}
		if (k->type == end) {
			fy_parser_event_free(yp->fyp, k);
			break;
		}
		struct ynode *kid = NULL;
		rc = ybuild(yp, k, depth + 1, &kid);
		if (rc != 0)
			goto err_free_node;
		rc = ynode_push(y, kid);
		if (rc != 0) {
			ynode_free(kid);
			rc = topo__diag(yp->diag, TOPO_ENOMEM, yp->file, pos, "out of memory");
			goto err_free_node;
		}
	}
	*out = y;
	return 0;

err_free_node:
	if (e != NULL)
		fy_parser_event_free(yp->fyp, e);
	ynode_free(y);
	return rc;
}

/* A rack model is text: YAML's printable characters in UTF-8 (YAML 1.2
 * section 5.1), and no tabs. Checked before libfyaml sees the bytes, which
 * keeps it away from two of its bugs found by fuzz/topology: libfyaml
 * 0.7.12 loops forever on some invalid UTF-8 ("%d\xfe" in a directive) and
 * frees twice after "? s:\t:". */
static int check_text(const char *buf, size_t len, const char *file, struct topo_diag *diag)
{
	const unsigned char *s = (const unsigned char *)buf;
	uint32_t line = 1, col = 1;
	for (size_t i = 0; i < len;) {
		uint32_t cp, need;
		unsigned char c = s[i];
		if (c < 0x80) {
			cp = c;
			need = 0;
		} else if ((c & 0xE0) == 0xC0) {
			cp = c & 0x1F;
			need = 1;
		} else if ((c & 0xF0) == 0xE0) {
			cp = c & 0x0F;
			need = 2;
		} else if ((c & 0xF8) == 0xF0) {
			cp = c & 0x07;
			need = 3;
		} else {
			goto bad_utf8;
		}
		if (i + need >= len)
			goto bad_utf8;
		for (uint32_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				goto bad_utf8;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		static const uint32_t min_cp[4] = { 0, 0x80, 0x800, 0x10000 };
		if (cp < min_cp[need] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			goto bad_utf8;
		bool printable = cp == 0x09 || cp == 0x0A || cp == 0x0D ||
				 (cp >= 0x20 && cp <= 0x7E) || cp == 0x85 ||
				 (cp >= 0xA0 && cp <= 0xFFFD && cp != 0xFEFF) ||
				 (cp == 0xFEFF && i == 0) || cp >= 0x10000;
		if (!printable)
			return topo__diag(diag, TOPO_ESYNTAX, file, (struct topo_pos){ line, col },
					  "character U+%04X is not allowed in YAML", cp);
		if (cp == '\t')
			return topo__diag(diag, TOPO_ESYNTAX, file, (struct topo_pos){ line, col },
					  "tab character: a rack model is indented and spaced "
					  "with spaces only");
		if (cp == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
		i += need + 1;
		continue;
bad_utf8:
		return topo__diag(diag, TOPO_ESYNTAX, file, (struct topo_pos){ line, col },
				  "byte 0x%02X is not valid UTF-8", c);
	}
	return 0;
}

/* Parses one YAML document into a tree. */
static int yparse_doc(const char *buf, size_t len, const char *file,
		      struct topo_diag *diag, struct ynode **out)
{
	int rc = check_text(buf, len, file, diag);
	if (rc != 0)
		return rc;
	struct topo_pos nopos = { 0, 0 };
	struct fy_diag_cfg dcfg;
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.colorize = false;
	struct yparse yp = { .buf = buf, .len = len, .file = file, .diag = diag };
	yp.fyd = fy_diag_create(&dcfg);
	if (yp.fyd == NULL)
		return topo__diag(diag, TOPO_ENOMEM, file, nopos, "out of memory");
	fy_diag_set_collect_errors(yp.fyd, true);
	struct fy_parse_cfg cfg = { .flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG, .diag = yp.fyd };
	yp.fyp = fy_parser_create(&cfg);
	if (yp.fyp == NULL) {
		rc = topo__diag(diag, TOPO_ENOMEM, file, nopos, "out of memory");
		goto err_destroy_diag;
	}
	/* Pass 1 only checks the syntax, touching no token text: libfyaml 0.7.12
	 * leaks a buffer when token text was taken before a later syntax error
	 * (e.g. "{a,'''" ; found by fuzz/topology). Pass 2 builds the tree from
	 * a stream known to be well-formed. */
	if (fy_parser_set_string(yp.fyp, len ? buf : "", len) != 0) {
		rc = topo__diag(diag, TOPO_ENOMEM, file, nopos, "cannot read the input");
		goto err_destroy_parser;
	}
	for (;;) {
		struct fy_event *e = fy_parser_parse(yp.fyp);
		if (e == NULL)
			break;
		fy_parser_event_free(yp.fyp, e);
	}
	if (fy_parser_get_stream_error(yp.fyp)) {
		rc = syntax_error(&yp, nopos);
		goto err_destroy_parser;
	}
	fy_parser_destroy(yp.fyp);
	yp.fyp = fy_parser_create(&cfg);
	if (yp.fyp == NULL) {
		rc = topo__diag(diag, TOPO_ENOMEM, file, nopos, "out of memory");
		goto err_destroy_diag;
	}
	if (fy_parser_set_string(yp.fyp, len ? buf : "", len) != 0) {
		rc = topo__diag(diag, TOPO_ENOMEM, file, nopos, "cannot read the input");
		goto err_destroy_parser;
	}
	struct ynode *root = NULL;
	int docs = 0;
	for (;;) {
		struct fy_event *e = fy_parser_parse(yp.fyp);
		if (e == NULL) {
			if (fy_parser_get_stream_error(yp.fyp)) {
				rc = syntax_error(&yp, nopos);
				goto err_free_root;
			}
			break;
		}
		struct topo_pos pos = mark_pos(e);
		switch (e->type) {
		case FYET_DOCUMENT_START:
			docs++;
			fy_parser_event_free(yp.fyp, e);
			if (docs > 1) {
				rc = topo__diag(diag, TOPO_ESCHEMA, file, pos,
						"more than one YAML document; a rack model is one");
				goto err_free_root;
			}
			break;
		case FYET_SCALAR:
		case FYET_SEQUENCE_START:
		case FYET_MAPPING_START:
		case FYET_ALIAS:
			rc = ybuild(&yp, e, 0, &root);
			if (rc != 0)
				goto err_free_root;
			break;
		default:
			fy_parser_event_free(yp.fyp, e);
			break;
		}
	}
	if (root == NULL) {
		rc = topo__diag(diag, TOPO_ESCHEMA, file, nopos, "the rack model is empty");
		goto err_destroy_parser;
	}
	fy_parser_destroy(yp.fyp);
	fy_diag_destroy(yp.fyd);
	*out = root;
	return 0;

err_free_root:
	ynode_free(root);
err_destroy_parser:
	fy_parser_destroy(yp.fyp);
err_destroy_diag:
	fy_diag_destroy(yp.fyd);
	return rc;
}

/* ---- building a model ---------------------------------------------------- */

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *p = realloc(*arr, ncap * elem);
	if (p == NULL)
		return TOPO_ENOMEM;
	memset((char *)p + *cap * elem, 0, (ncap - *cap) * elem);
	*arr = p;
	*cap = ncap;
	return 0;
}

struct builder {
	struct topo_model *m;
	size_t cap_rows, cap_racks, cap_hosts, cap_powers, cap_colors;
};

static int builder_init(struct builder *b)
{
	memset(b, 0, sizeof *b);
	b->m = calloc(1, sizeof *b->m);
	if (b->m == NULL)
		return TOPO_ENOMEM;
	b->m->jury_size = TOPO_JURY_DEFAULT;
	b->m->range_base = TOPO_RANGE_BASE;
	b->m->range_prefix = TOPO_RANGE_PREFIX;
	snprintf(b->m->datacenter, sizeof b->m->datacenter, "dc1");
	/* colors[0] is "": hosts without a color. */
	if (grow((void **)&b->m->colors, &b->cap_colors, 0, sizeof *b->m->colors) != 0) {
		free(b->m);
		return TOPO_ENOMEM;
	}
	b->m->n_colors = 1;
	return 0;
}

static int builder_row(struct builder *b, const char *name, struct topo_pos pos)
{
	struct topo_model *m = b->m;
	if (grow((void **)&m->rows, &b->cap_rows, m->n_rows, sizeof *m->rows) != 0)
		return TOPO_ENOMEM;
	struct topo_row *r = &m->rows[m->n_rows++];
	memset(r, 0, sizeof *r);
	snprintf(r->name, sizeof r->name, "%s", name);
	r->first_rack = (uint32_t)m->n_racks;
	r->pos = pos;
	return 0;
}

static int builder_power(struct builder *b, const char *name, struct topo_pos pos,
			 bool create, uint32_t *idx)
{
	struct topo_model *m = b->m;
	for (size_t i = 0; i < m->n_powers; i++) {
		if (strcmp(m->powers[i].name, name) == 0) {
			*idx = (uint32_t)i;
			return 0;
		}
	}
	if (!create)
		return TOPO_ENOTFOUND;
	if (grow((void **)&m->powers, &b->cap_powers, m->n_powers, sizeof *m->powers) != 0)
		return TOPO_ENOMEM;
	struct topo_power *p = &m->powers[m->n_powers];
	snprintf(p->name, sizeof p->name, "%s", name);
	p->pos = pos;
	*idx = (uint32_t)m->n_powers++;
	return 0;
}

static int builder_rack(struct builder *b, const char *name, uint32_t power,
			struct topo_pos pos)
{
	struct topo_model *m = b->m;
	if (grow((void **)&m->racks, &b->cap_racks, m->n_racks, sizeof *m->racks) != 0)
		return TOPO_ENOMEM;
	struct topo_rack *r = &m->racks[m->n_racks++];
	memset(r, 0, sizeof *r);
	snprintf(r->name, sizeof r->name, "%s", name);
	r->row = (uint32_t)m->n_rows - 1;
	r->power = power;
	r->first_host = (uint32_t)m->n_hosts;
	r->pos = pos;
	m->rows[m->n_rows - 1].n_racks++;
	return 0;
}

static int builder_color(struct builder *b, const char *name, uint32_t *idx)
{
	struct topo_model *m = b->m;
	for (size_t i = 0; i < m->n_colors; i++) {
		if (strcmp(m->colors[i].name, name) == 0) {
			*idx = (uint32_t)i;
			return 0;
		}
	}
	if (grow((void **)&m->colors, &b->cap_colors, m->n_colors, sizeof *m->colors) != 0)
		return TOPO_ENOMEM;
	snprintf(m->colors[m->n_colors].name, TOPO_NAME_MAX, "%s", name);
	*idx = (uint32_t)m->n_colors++;
	return 0;
}

static int builder_host(struct builder *b, const char *name, enum topo_role role,
			uint32_t color, struct topo_pos pos)
{
	struct topo_model *m = b->m;
	if (grow((void **)&m->hosts, &b->cap_hosts, m->n_hosts, sizeof *m->hosts) != 0)
		return TOPO_ENOMEM;
	struct topo_rack *rk = &m->racks[m->n_racks - 1];
	struct topo_host *h = &m->hosts[m->n_hosts++];
	memset(h, 0, sizeof *h);
	snprintf(h->name, sizeof h->name, "%s", name);
	h->role = role;
	h->color = color;
	h->rack = (uint32_t)m->n_racks - 1;
	h->row = rk->row;
	h->power = rk->power;
	h->slot = rk->n_hosts++;
	h->pos = pos;
	return 0;
}

/* Addresses follow the plan in topology.h: rack i owns /24 number i of the
 * range, its host in slot s is .(2s+1). Values past the range are left for
 * validate to refuse. */
static void assign_addresses(struct topo_model *m)
{
	for (size_t i = 0; i < m->n_racks; i++)
		m->racks[i].subnet = m->range_base + (uint32_t)i * 256u;
	for (size_t i = 0; i < m->n_hosts; i++) {
		struct topo_host *h = &m->hosts[i];
		h->addr = m->racks[h->rack].subnet + 2u * h->slot + 1u;
	}
}

void topo_model_free(struct topo_model *m)
{
	if (m == NULL)
		return;
	free(m->rows);
	free(m->racks);
	free(m->hosts);
	free(m->powers);
	free(m->colors);
	free(m);
}

/* ---- reading the tree ------------------------------------------------------ */

struct loader {
	struct builder b;
	const char *file;
	struct topo_diag *diag;
	bool powers_declared;
};

static int schema(struct loader *l, const struct ynode *y, const char *fmt, ...)
{
	if (l->diag == NULL)
		return TOPO_ESCHEMA;
	char msg[TOPO_DIAG_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return topo__diag(l->diag, TOPO_ESCHEMA, l->file, y->pos, "%s", msg);
}

static const char *kind_name(const struct ynode *y)
{
	return y->kind == Y_SCALAR ? "a scalar" : y->kind == Y_SEQ ? "a sequence" : "a mapping";
}

static int expect(struct loader *l, const struct ynode *y, enum ykind k, const char *what)
{
	if (y->kind == k)
		return 0;
	return schema(l, y, "%s must be %s, not %s", what,
		      k == Y_SCALAR ? "a scalar" : k == Y_SEQ ? "a sequence" : "a mapping",
		      kind_name(y));
}

/* Checks a mapping's keys against the allowed list (each at most once, each
 * a scalar). */
static int check_keys(struct loader *l, const struct ynode *map, const char *what,
		      const char *const *allowed)
{
	for (size_t i = 0; i < map->n; i += 2) {
		const struct ynode *k = map->kids[i];
		if (k->kind != Y_SCALAR)
			return schema(l, k, "keys in %s must be plain words", what);
		bool ok = false;
		for (const char *const *a = allowed; *a != NULL; a++)
			ok = ok || strcmp(*a, k->text) == 0;
		if (!ok) {
			char list[160] = "";
			for (const char *const *a = allowed; *a != NULL; a++) {
				strncat(list, *a, sizeof list - strlen(list) - 3);
				if (a[1] != NULL)
					strncat(list, ", ", sizeof list - strlen(list) - 1);
			}
			return schema(l, k, "unknown key '%.40s' in %s (expected one of: %s)",
				      k->text, what, list);
		}
		for (size_t j = 0; j < i; j += 2) {
			if (strcmp(map->kids[j]->text, k->text) == 0)
				return schema(l, k, "key '%.40s' appears twice in %s (first at line %u)",
					      k->text, what, map->kids[j]->pos.line);
		}
	}
	return 0;
}

static const struct ynode *get(const struct ynode *map, const char *key)
{
	for (size_t i = 0; i + 1 < map->n; i += 2)
		if (map->kids[i]->kind == Y_SCALAR && strcmp(map->kids[i]->text, key) == 0)
			return map->kids[i + 1];
	return NULL;
}

static int read_name(struct loader *l, const struct ynode *y, const char *what,
		     char out[TOPO_NAME_MAX])
{
	int rc = expect(l, y, Y_SCALAR, what);
	if (rc != 0)
		return rc;
	if (topo__name_valid(y->text, y->len) != 0)
		return schema(l, y, "%s '%.40s' is not a valid name (1-%d characters of "
			      "A-Z a-z 0-9 _ . -, starting with a letter or digit)",
			      what, y->text, TOPO_NAME_MAX - 1);
	memcpy(out, y->text, y->len + 1);
	return 0;
}

static int read_uint(struct loader *l, const struct ynode *y, const char *what,
		     uint32_t lo, uint32_t hi, uint32_t *out)
{
	int rc = expect(l, y, Y_SCALAR, what);
	if (rc != 0)
		return rc;
	uint64_t v = 0;
	bool ok = y->len > 0 && y->len <= 9;
	for (size_t i = 0; ok && i < y->len; i++) {
		ok = y->text[i] >= '0' && y->text[i] <= '9';
		v = v * 10 + (uint64_t)(y->text[i] - '0');
	}
	if (!ok || v < lo || v > hi)
		return schema(l, y, "%s must be a whole number from %u to %u, not '%.40s'",
			      what, lo, hi, y->text);
	*out = (uint32_t)v;
	return 0;
}

int topo__parse_cidr(const char *s, uint32_t *base, uint32_t *prefix)
{
	/* strictly a.b.c.d/p: digits and separators only, no signs or spaces */
	uint32_t part[5] = { 0 };
	int k = 0, digits = 0;
	for (const char *p = s;; p++) {
		if (*p >= '0' && *p <= '9') {
			if (++digits > 3)
				return TOPO_EINVAL;
			part[k] = part[k] * 10 + (uint32_t)(*p - '0');
			continue;
		}
		char want = k < 3 ? '.' : k == 3 ? '/' : '\0';
		if (digits == 0 || *p != want)
			return TOPO_EINVAL;
		if (k == 4)
			break;
		k++;
		digits = 0;
	}
	for (int i = 0; i < 4; i++)
		if (part[i] > 255)
			return TOPO_EINVAL;
	if (part[4] > 32)
		return TOPO_EINVAL;
	*base = (part[0] << 24) | (part[1] << 16) | (part[2] << 8) | part[3];
	*prefix = part[4];
	return 0;
}

static int read_host(struct loader *l, const struct ynode *y)
{
	static const char *const keys[] = { "name", "role", "color", NULL };
	char name[TOPO_NAME_MAX];
	enum topo_role role = TOPO_ROLE_NODE;
	uint32_t color = 0;
	int rc;
	if (y->kind == Y_SCALAR) {
		rc = read_name(l, y, "host name", name);
		if (rc != 0)
			return rc;
	} else {
		rc = expect(l, y, Y_MAP, "a host");
		if (rc == 0)
			rc = check_keys(l, y, "a host", keys);
		if (rc != 0)
			return rc;
		const struct ynode *n = get(y, "name");
		if (n == NULL)
			return schema(l, y, "host has no 'name'");
		rc = read_name(l, n, "host name", name);
		if (rc != 0)
			return rc;
		const struct ynode *r = get(y, "role");
		if (r != NULL) {
			rc = expect(l, r, Y_SCALAR, "role");
			if (rc != 0)
				return rc;
			if (strcmp(r->text, "node") == 0)
				role = TOPO_ROLE_NODE;
			else if (strcmp(r->text, "client") == 0)
				role = TOPO_ROLE_CLIENT;
			else if (strcmp(r->text, "both") == 0)
				role = TOPO_ROLE_BOTH;
			else
				return schema(l, r, "role must be node, client or both, not '%.40s'",
					      r->text);
		}
		const struct ynode *c = get(y, "color");
		if (c != NULL) {
			char cname[TOPO_NAME_MAX];
			rc = read_name(l, c, "color", cname);
			if (rc != 0)
				return rc;
			if (builder_color(&l->b, cname, &color) != 0)
				return topo__diag(l->diag, TOPO_ENOMEM, l->file, c->pos, "out of memory");
		}
	}
	if (builder_host(&l->b, name, role, color, y->pos) != 0)
		return topo__diag(l->diag, TOPO_ENOMEM, l->file, y->pos, "out of memory");
	return 0;
}

/* Reads the sequence `seq` (named `what`) child by child with `read`,
 * refusing the child that would take *count past `max` (TOPO_ELIMIT at its
 * position). */
static int read_children(struct loader *l, const struct ynode *seq, const char *what,
			 const size_t *count, size_t max,
			 int (*read)(struct loader *, const struct ynode *))
{
	int rc = expect(l, seq, Y_SEQ, what);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < seq->n; i++) {
		if (*count >= max)
			return topo__diag(l->diag, TOPO_ELIMIT, l->file, seq->kids[i]->pos,
					  "more than %zu %s", max, what);
		if ((rc = read(l, seq->kids[i])) != 0)
			return rc;
	}
	return 0;
}

static int read_rack(struct loader *l, const struct ynode *y)
{
	static const char *const keys[] = { "name", "power", "hosts", NULL };
	char name[TOPO_NAME_MAX], pname[TOPO_NAME_MAX];
	int rc = expect(l, y, Y_MAP, "a rack");
	if (rc == 0)
		rc = check_keys(l, y, "a rack", keys);
	if (rc != 0)
		return rc;
	const struct ynode *n = get(y, "name");
	if (n == NULL)
		return schema(l, y, "rack has no 'name'");
	rc = read_name(l, n, "rack name", name);
	if (rc != 0)
		return rc;
	const struct ynode *p = get(y, "power");
	if (p == NULL)
		return topo__diag(l->diag, TOPO_ENOPOWER, l->file, y->pos,
				  "rack '%s' has no power domain ('power:')", name);
	rc = read_name(l, p, "power domain", pname);
	if (rc != 0)
		return rc;
	uint32_t pidx;
	rc = builder_power(&l->b, pname, p->pos, !l->powers_declared, &pidx);
	if (rc == TOPO_ENOTFOUND)
		return topo__diag(l->diag, TOPO_ENOPOWER, l->file, p->pos,
				  "rack '%s' names power domain '%s', which is not in power_domains",
				  name, pname);
	if (rc != 0)
		return topo__diag(l->diag, TOPO_ENOMEM, l->file, p->pos, "out of memory");
	if (builder_rack(&l->b, name, pidx, y->pos) != 0)
		return topo__diag(l->diag, TOPO_ENOMEM, l->file, y->pos, "out of memory");
	const struct ynode *hs = get(y, "hosts");
	if (hs == NULL)
		return schema(l, y, "rack '%s' has no 'hosts'", name);
	return read_children(l, hs, "hosts", &l->b.m->n_hosts, TOPO__HOSTS_MAX, read_host);
}

static int read_row(struct loader *l, const struct ynode *y)
{
	static const char *const keys[] = { "name", "racks", NULL };
	char name[TOPO_NAME_MAX];
	int rc = expect(l, y, Y_MAP, "a row");
	if (rc == 0)
		rc = check_keys(l, y, "a row", keys);
	if (rc != 0)
		return rc;
	const struct ynode *n = get(y, "name");
	if (n == NULL)
		return schema(l, y, "row has no 'name'");
	rc = read_name(l, n, "row name", name);
	if (rc != 0)
		return rc;
	if (builder_row(&l->b, name, y->pos) != 0)
		return topo__diag(l->diag, TOPO_ENOMEM, l->file, y->pos, "out of memory");
	const struct ynode *rs = get(y, "racks");
	if (rs == NULL)
		return schema(l, y, "row '%s' has no 'racks'", name);
	return read_children(l, rs, "racks", &l->b.m->n_racks, TOPO__RACKS_MAX, read_rack);
}

static int read_root(struct loader *l, const struct ynode *y)
{
	static const char *const keys[] = { "datacenter", "jury", "addresses",
					    "power_domains", "rows", NULL };
	struct topo_model *m = l->b.m;
	int rc = expect(l, y, Y_MAP, "the rack model");
	if (rc == 0)
		rc = check_keys(l, y, "the rack model", keys);
	if (rc != 0)
		return rc;
	const struct ynode *v;
	if ((v = get(y, "datacenter")) != NULL) {
		rc = read_name(l, v, "datacenter name", m->datacenter);
		if (rc != 0)
			return rc;
	}
	if ((v = get(y, "jury")) != NULL) {
		rc = read_uint(l, v, "jury", TOPO_JURY_MIN, TOPO_JURY_MAX, &m->jury_size);
		if (rc != 0)
			return rc;
		m->jury_pos = v->pos;
	}
	if ((v = get(y, "addresses")) != NULL) {
		rc = expect(l, v, Y_SCALAR, "addresses");
		if (rc != 0)
			return rc;
		if (topo__parse_cidr(v->text, &m->range_base, &m->range_prefix) != 0)
			return topo__diag(l->diag, TOPO_EADDRESS, l->file, v->pos,
					  "addresses must be an IPv4 prefix like 198.18.0.0/15, "
					  "not '%.40s'", v->text);
		rc = topo__range_check(m->range_base, m->range_prefix);
		if (rc != 0)
			return topo__diag(l->diag, TOPO_EADDRESS, l->file, v->pos,
					  "addresses %.40s: %s", v->text, topo__range_problem(rc));
	}
	if ((v = get(y, "power_domains")) != NULL) {
		rc = expect(l, v, Y_SEQ, "power_domains");
		if (rc != 0)
			return rc;
		l->powers_declared = true;
		for (size_t i = 0; i < v->n; i++) {
			char pname[TOPO_NAME_MAX];
			uint32_t idx;
			rc = read_name(l, v->kids[i], "power domain", pname);
			if (rc != 0)
				return rc;
			if (builder_power(&l->b, pname, v->kids[i]->pos, false, &idx) == 0)
				return topo__diag(l->diag, TOPO_EDUPLICATE, l->file, v->kids[i]->pos,
						  "power domain '%s' declared twice (first at line %u)",
						  pname, m->powers[idx].pos.line);
			if (builder_power(&l->b, pname, v->kids[i]->pos, true, &idx) != 0)
				return topo__diag(l->diag, TOPO_ENOMEM, l->file, v->pos, "out of memory");
		}
	}
	v = get(y, "rows");
	if (v == NULL)
		return schema(l, y, "the rack model has no 'rows'");
	rc = expect(l, v, Y_SEQ, "rows");
	if (rc != 0)
		return rc;
	if (m->jury_pos.line == 0) {
		/* diversity errors point at `rows:` when there is no `jury:` */
		for (size_t i = 0; i + 1 < y->n; i += 2)
			if (y->kids[i + 1] == v)
				m->jury_pos = y->kids[i]->pos;
	}
	if (v->n == 0)
		return schema(l, v, "rows is empty; a rack model needs at least one row");
	for (size_t i = 0; i < v->n; i++) {
		if (m->n_rows >= TOPO__ROWS_MAX)
			return topo__diag(l->diag, TOPO_EADDRESS, l->file, v->kids[i]->pos,
					  "address range exhausted: more than %u rows (one /31 each "
					  "in the core /24)", TOPO__ROWS_MAX);
		rc = read_row(l, v->kids[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int topo_model_load_mem(const char *buf, size_t len, const char *name,
			struct topo_model **out, struct topo_diag *diag)
{
	if ((buf == NULL && len > 0) || out == NULL)
		return TOPO_EINVAL;
	const char *file = name ? name : "<memory>";
	struct ynode *root = NULL;
	int rc = yparse_doc(buf, len, file, diag, &root);
	if (rc != 0)
		return rc;
	struct loader l = { .file = file, .diag = diag };
	if (builder_init(&l.b) != 0) {
		rc = topo__diag(diag, TOPO_ENOMEM, file, root->pos, "out of memory");
		goto err_free_tree;
	}
	snprintf(l.b.m->source, sizeof l.b.m->source, "%s", file);
	rc = read_root(&l, root);
	if (rc != 0)
		goto err_free_model;
	assign_addresses(l.b.m);
	rc = topo_model_validate(l.b.m, l.b.m->jury_size, diag);
	if (rc != 0)
		goto err_free_model;
	ynode_free(root);
	*out = l.b.m;
	return 0;

err_free_model:
	topo_model_free(l.b.m);
err_free_tree:
	ynode_free(root);
	return rc;
}

#define TOPO__FILE_MAX (16u << 20)

int topo_model_load_file(const char *path, struct topo_model **out,
			 struct topo_diag *diag)
{
	struct topo_pos nopos = { 0, 0 };
	if (path == NULL || out == NULL)
		return TOPO_EINVAL;
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return topo__diag(diag, TOPO_EIO, path, nopos, "cannot open: %s", strerror(errno));
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;
	for (;;) {
		if (len == cap) {
			if (cap >= TOPO__FILE_MAX) {
				rc = topo__diag(diag, TOPO_ELIMIT, path, nopos,
						"larger than %u bytes", TOPO__FILE_MAX);
				goto err_close;
			}
			cap = cap ? cap * 2 : 4096;
			char *nb = realloc(buf, cap);
			if (nb == NULL) {
				rc = topo__diag(diag, TOPO_ENOMEM, path, nopos, "out of memory");
				goto err_close;
			}
			buf = nb;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f)) {
				rc = topo__diag(diag, TOPO_EIO, path, nopos, "read error");
				goto err_close;
			}
			break;
		}
	}
	fclose(f);
	rc = topo_model_load_mem(buf, len, path, out, diag);
	free(buf);
	return rc;

err_close:
	fclose(f);
	free(buf);
	return rc;
}

/* ---- built-in and generated models ---------------------------------------- */

int topo_model_generate(const struct topo_gen *g, struct topo_model **out,
			struct topo_diag *diag)
{
	struct topo_pos nopos = { 0, 0 };
	if (g == NULL || out == NULL || g->rows == 0 || g->racks_per_row == 0 ||
	    g->powers == 0 || g->nodes + g->clients == 0)
		return topo__diag(diag, TOPO_EINVAL, "<generated>", nopos,
				  "rows, racks_per_row, powers and hosts per rack must be > 0");
	if ((uint64_t)g->rows * g->racks_per_row > TOPO__RACKS_MAX ||
	    (uint64_t)g->rows * g->racks_per_row * (g->nodes + g->clients) > TOPO__HOSTS_MAX ||
	    g->rows > TOPO__ROWS_MAX || g->powers > TOPO__RACKS_MAX || g->colors > 1000)
		return topo__diag(diag, TOPO_ELIMIT, "<generated>", nopos, "model too large");
	struct builder b;
	if (builder_init(&b) != 0)
		return TOPO_ENOMEM;
	struct topo_model *m = b.m;
	int rc = TOPO_ENOMEM;
	snprintf(m->source, sizeof m->source, "<generated>");
	m->jury_size = g->jury_size ? g->jury_size : TOPO_JURY_DEFAULT;
	char name[TOPO_NAME_MAX];
	uint32_t idx;
	for (uint32_t p = 0; p < g->powers; p++) {
		snprintf(name, sizeof name, "p%u", p + 1);
		if (builder_power(&b, name, nopos, true, &idx) != 0)
			goto err_free;
	}
	uint32_t colors[1000];
	for (uint32_t c = 0; c < g->colors && g->colors > 1; c++) {
		snprintf(name, sizeof name, "color%u", c + 1);
		if (builder_color(&b, name, &colors[c]) != 0)
			goto err_free;
	}
	uint32_t rack = 0, nnode = 0, nclient = 0;
	for (uint32_t r = 0; r < g->rows; r++) {
		snprintf(name, sizeof name, "row%u", r + 1);
		if (builder_row(&b, name, nopos) != 0)
			goto err_free;
		for (uint32_t k = 0; k < g->racks_per_row; k++, rack++) {
			snprintf(name, sizeof name, "rack%u", rack + 1);
			if (builder_rack(&b, name, rack % g->powers, nopos) != 0)
				goto err_free;
			for (uint32_t h = 0; h < g->nodes + g->clients; h++) {
				bool node = h < g->nodes;
				snprintf(name, sizeof name, "r%u-%c%u", rack + 1, node ? 'n' : 'c',
					 node ? h + 1 : h - g->nodes + 1);
				uint32_t color = g->colors > 1 ? colors[(node ? nnode : nclient) % g->colors] : 0;
				if (node)
					nnode++;
				else
					nclient++;
				if (builder_host(&b, name, node ? TOPO_ROLE_NODE : TOPO_ROLE_CLIENT,
						 color, nopos) != 0)
					goto err_free;
			}
		}
	}
	assign_addresses(m);
	rc = topo_model_validate(m, m->jury_size, diag);
	if (rc != 0)
		goto err_free;
	*out = m;
	return 0;

err_free:
	topo_model_free(m);
	return rc;
}

int topo_model_default(struct topo_model **out)
{
	if (out == NULL)
		return TOPO_EINVAL;
	struct topo_pos nopos = { 0, 0 };
	struct builder b;
	if (builder_init(&b) != 0)
		return TOPO_ENOMEM;
	struct topo_model *m = b.m;
	snprintf(m->source, sizeof m->source, "<default>");
	static const char *const powers[] = { "pA", "pB", "pC" };
	char name[TOPO_NAME_MAX];
	uint32_t idx;
	int rc = TOPO_ENOMEM;
	for (int p = 0; p < 3; p++)
		if (builder_power(&b, powers[p], nopos, true, &idx) != 0)
			goto err_free;
	if (builder_row(&b, "row1", nopos) != 0)
		goto err_free;
	for (uint32_t r = 0; r < 5; r++) {
		snprintf(name, sizeof name, "rack%u", r + 1);
		if (builder_rack(&b, name, r % 3, nopos) != 0)
			goto err_free;
		for (uint32_t h = 0; h < 4; h++) {
			if (h < 3)
				snprintf(name, sizeof name, "r%u-n%u", r + 1, h + 1);
			else
				snprintf(name, sizeof name, "r%u-c1", r + 1);
			if (builder_host(&b, name, h < 3 ? TOPO_ROLE_NODE : TOPO_ROLE_CLIENT,
					 0, nopos) != 0)
				goto err_free;
		}
	}
	assign_addresses(m);
	rc = topo_model_validate(m, m->jury_size, NULL);
	if (rc != 0)
		goto err_free;
	*out = m;
	return 0;

err_free:
	topo_model_free(m);
	return rc;
}

/* ---- lookups, hops, writing -------------------------------------------------- */

int topo_model_find_host(const struct topo_model *m, const char *name)
{
	for (size_t i = 0; m && name && i < m->n_hosts; i++)
		if (strcmp(m->hosts[i].name, name) == 0)
			return (int)i;
	return TOPO_ENOTFOUND;
}

int topo_model_find_rack(const struct topo_model *m, const char *name)
{
	for (size_t i = 0; m && name && i < m->n_racks; i++)
		if (strcmp(m->racks[i].name, name) == 0)
			return (int)i;
	return TOPO_ENOTFOUND;
}

int topo_model_find_row(const struct topo_model *m, const char *name)
{
	for (size_t i = 0; m && name && i < m->n_rows; i++)
		if (strcmp(m->rows[i].name, name) == 0)
			return (int)i;
	return TOPO_ENOTFOUND;
}

uint32_t topo_hops(const struct topo_model *m, uint32_t a, uint32_t b)
{
	if (a == b)
		return 0;
	const struct topo_host *ha = &m->hosts[a], *hb = &m->hosts[b];
	if (ha->rack == hb->rack)
		return 1;
	if (ha->row == hb->row)
		return 3;
	return 5;
}

static const char *role_name(enum topo_role r)
{
	return r == TOPO_ROLE_CLIENT ? "client" : r == TOPO_ROLE_BOTH ? "both" : "node";
}

int topo_model_write(const struct topo_model *m, FILE *f)
{
	if (m == NULL || f == NULL)
		return TOPO_EINVAL;
	uint32_t b = m->range_base;
	fprintf(f, "datacenter: %s\njury: %u\naddresses: %u.%u.%u.%u/%u\npower_domains: [",
		m->datacenter, m->jury_size, b >> 24, (b >> 16) & 255, (b >> 8) & 255,
		b & 255, m->range_prefix);
	for (size_t i = 0; i < m->n_powers; i++)
		fprintf(f, "%s%s", i ? ", " : "", m->powers[i].name);
	fprintf(f, "]\nrows:\n");
	for (size_t r = 0; r < m->n_rows; r++) {
		const struct topo_row *row = &m->rows[r];
		fprintf(f, "  - name: %s\n    racks:\n", row->name);
		for (uint32_t k = row->first_rack; k < row->first_rack + row->n_racks; k++) {
			const struct topo_rack *rk = &m->racks[k];
			fprintf(f, "      - name: %s\n        power: %s\n        hosts:\n",
				rk->name, m->powers[rk->power].name);
			for (uint32_t h = rk->first_host; h < rk->first_host + rk->n_hosts; h++) {
				const struct topo_host *ho = &m->hosts[h];
				fprintf(f, "          - {name: %s, role: %s", ho->name, role_name(ho->role));
				if (ho->color != 0)
					fprintf(f, ", color: %s", m->colors[ho->color].name);
				fprintf(f, "}\n");
			}
		}
	}
	return ferror(f) ? TOPO_EIO : 0;
}
