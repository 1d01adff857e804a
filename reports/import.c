/* reports/import.c: importers for the two Jepsen text formats and the EDN
 * exporter (docs/checker.md, "Formats").
 *
 * Every line must parse or the whole import fails with the file, line,
 * column and what was expected; the output history is only replaced once
 * everything parsed, so a checker never sees half a history. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------ error setup */

struct cursor {
	const char *name;
	const char *line; /* start of the current line */
	const char *p, *end; /* position, end of the line */
	unsigned lineno;
	struct rep_error *err;
};

static int fail(struct cursor *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct cursor *c, const char *fmt, ...)
{
	if (c->err != NULL) {
		snprintf(c->err->file, sizeof c->err->file, "%s", c->name ? c->name : "<input>");
		c->err->line = c->lineno;
		c->err->column = (unsigned)(c->p - c->line) + 1;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err->msg, sizeof c->err->msg, fmt, ap);
		va_end(ap);
	}
	return REP_EPARSE;
}

/* What is at the cursor, for messages: a short quoted excerpt. */
static const char *found(struct cursor *c, char *buf, size_t size)
{
	if (c->p >= c->end)
		return "end of line";
	size_t n = (size_t)(c->end - c->p);
	if (n > 16)
		n = 16;
	size_t k = 0;
	buf[k++] = '\'';
	for (size_t i = 0; i < n && k + 2 < size; i++) {
		unsigned char ch = (unsigned char)c->p[i];
		buf[k++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	buf[k++] = '\'';
	buf[k] = 0;
	return buf;
}

/* ------------------------------------------------------------ op pairing */

/* Pairs invokes with completions by process. Processes are looked up in an
 * open-addressing map process -> index of the pending op (+1). */
struct pairing {
	struct rep_history h;
	int64_t *keys;
	size_t *vals; /* index + 1, 0 = empty */
	size_t cap, used;
	int64_t t;    /* next synthetic time */
	int64_t last; /* time of the last event */
	bool any;
};

static size_t pmix(int64_t k)
{
	uint64_t x = (uint64_t)k * 0x9E3779B97F4A7C15ULL;
	return (size_t)(x ^ (x >> 29));
}

static int pairing_grow(struct pairing *pr)
{
	size_t cap = pr->cap ? pr->cap * 2 : 64;
	int64_t *keys = calloc(cap, sizeof *keys);
	size_t *vals = calloc(cap, sizeof *vals);
	if (keys == NULL || vals == NULL) {
		free(keys);
		free(vals);
		return REP_ENOMEM;
	}
	for (size_t i = 0; i < pr->cap; i++) {
		if (pr->vals[i] == 0)
			continue;
		size_t j = pmix(pr->keys[i]) & (cap - 1);
		while (vals[j] != 0)
			j = (j + 1) & (cap - 1);
		keys[j] = pr->keys[i];
		vals[j] = pr->vals[i];
	}
	free(pr->keys);
	free(pr->vals);
	pr->keys = keys;
	pr->vals = vals;
	pr->cap = cap;
	return 0;
}

/* Returns the slot for process p (vals[slot] == 0 if absent). */
static size_t pairing_slot(struct pairing *pr, int64_t p)
{
	size_t j = pmix(p) & (pr->cap - 1);
	while (pr->vals[j] != 0 && pr->keys[j] != p)
		j = (j + 1) & (pr->cap - 1);
	return j;
}

/* Deletion in linear probing: re-insert the rest of the cluster. */
static void pairing_remove(struct pairing *pr, size_t j)
{
	pr->vals[j] = 0;
	pr->used--;
	size_t i = (j + 1) & (pr->cap - 1);
	while (pr->vals[i] != 0) {
		int64_t k = pr->keys[i];
		size_t v = pr->vals[i];
		pr->vals[i] = 0;
		size_t s = pairing_slot(pr, k);
		pr->keys[s] = k;
		pr->vals[s] = v;
		i = (i + 1) & (pr->cap - 1);
	}
}

static void pairing_free(struct pairing *pr)
{
	rep_history_free(&pr->h);
	free(pr->keys);
	free(pr->vals);
}

/* An event as parsed from one line. */
struct event {
	int64_t process;
	bool nemesis;
	enum rep_outcome type; /* PENDING = invoke */
	enum rep_fn fn;
	bool has_time;
	int64_t time;
	struct rep_value key, arg, arg2, result, cell;
	const struct rep_txn *txn;
	bool committed;
	const struct rep_value *reads;
	size_t nreads;
	const char *client; /* NUL-terminated, arena */
};

static int pairing_event(struct pairing *pr, struct cursor *c, const struct event *ev)
{
	int rc;
	if (pr->cap == 0 && (rc = pairing_grow(pr)) != 0)
		return rc;
	int64_t t = ev->has_time ? ev->time : pr->t;
	if (pr->any && t < pr->last) {
		c->p = c->line;
		return fail(c, "time %lld goes back (an earlier event has time %lld); expected "
			       "events in time order",
			    (long long)t, (long long)pr->last);
	}
	pr->any = true;
	pr->last = t;
	pr->t = t + 1;
	size_t slot = pairing_slot(pr, ev->process);
	if (ev->type == REP_OUT_PENDING) {
		if (pr->vals[slot] != 0) {
			c->p = c->line;
			return fail(c, "process %lld invokes again while its previous op is "
				       "pending; expected a completion (:ok, :fail or :info) first",
				    (long long)ev->process);
		}
		struct rep_op op = {
			.process = ev->process,
			.fn = ev->fn,
			.outcome = REP_OUT_PENDING,
			.invoke_ns = t,
			.complete_ns = -1,
			.cell = ev->cell,
			.key = ev->key,
			.arg = ev->arg,
			.arg2 = ev->arg2,
			.txn = ev->txn,
			.client = ev->client,
		};
		size_t idx;
		if ((rc = rep_history_add(&pr->h, &op, &idx)) != 0)
			return rc;
		if (pr->used * 2 >= pr->cap) {
			if ((rc = pairing_grow(pr)) != 0)
				return rc;
			slot = pairing_slot(pr, ev->process);
		}
		pr->keys[slot] = ev->process;
		pr->vals[slot] = idx + 1;
		pr->used++;
		return 0;
	}
	if (pr->vals[slot] == 0) {
		c->p = c->line;
		return fail(c, "completion :%s for process %lld, which has no pending invoke; "
			       "expected an :invoke first",
			    rep_outcome_name(ev->type), (long long)ev->process);
	}
	size_t idx = pr->vals[slot] - 1;
	struct rep_op *op = &pr->h.ops[idx];
	if (op->fn != ev->fn) {
		c->p = c->line;
		return fail(c, "completion :%s of process %lld has :f :%s but its invoke has "
			       ":f :%s",
			    rep_outcome_name(ev->type), (long long)ev->process, rep_fn_name(ev->fn),
			    rep_fn_name(op->fn));
	}
	if (t < op->invoke_ns) {
		c->p = c->line;
		return fail(c, "completion time %lld is before its invoke's %lld", (long long)t,
			    (long long)op->invoke_ns);
	}
	struct rep_txn txr = {.committed = ev->committed, .reads = ev->reads};
	if (op->fn == REP_FN_TXN && ev->type == REP_OUT_OK && ev->reads != NULL &&
	    op->txn != NULL && ev->nreads != op->txn->nops) {
		c->p = c->line;
		return fail(c, ":txn completion has %zu micro-ops but its invoke has "
			       "%zu; expected the same micro-ops with read results",
			    ev->nreads, op->txn->nops);
	}
	if ((rc = rep_history_complete(&pr->h, idx, ev->type, t, &ev->result, &txr)) != 0)
		return rc;
	pairing_remove(pr, slot);
	return 0;
}

/* ------------------------------------------------------ Jepsen log format */

static void skip_ws(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r'))
		c->p++;
}

static bool take(struct cursor *c, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(c->end - c->p) >= n && memcmp(c->p, word, n) == 0) {
		c->p += n;
		return true;
	}
	return false;
}

static bool is_delim(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == ',' || ch == '}' || ch == ']' ||
	       ch == ')' || ch == '{' || ch == '[' || ch == '(' || ch == '"';
}

/* An integer token into *out (int64; histories never need more). */
static int parse_i64(struct cursor *c, int64_t *out, const char *what)
{
	char b[24];
	const char *s = c->p;
	const char *q = s;
	if (q < c->end && (*q == '-' || *q == '+'))
		q++;
	const char *digits = q;
	while (q < c->end && *q >= '0' && *q <= '9')
		q++;
	if (q == digits || (q < c->end && !is_delim(*q)))
		return fail(c, "expected %s (an integer), found %s", what, found(c, b, sizeof b));
	errno = 0;
	char tmp[32];
	size_t n = (size_t)(q - s);
	if (n >= sizeof tmp)
		return fail(c, "%s out of range", what);
	memcpy(tmp, s, n);
	tmp[n] = 0;
	long long v = strtoll(tmp, NULL, 10);
	if (errno != 0)
		return fail(c, "%s out of range", what);
	*out = v;
	c->p = q;
	return 0;
}

static int parse_keyword(struct cursor *c, const char *const *names, size_t n, int *out,
			 const char *what)
{
	char b[24];
	if (c->p >= c->end || *c->p != ':')
		return fail(c, "expected %s (a keyword), found %s", what, found(c, b, sizeof b));
	const char *s = c->p + 1, *q = s;
	while (q < c->end && !is_delim(*q))
		q++;
	for (size_t i = 0; i < n; i++) {
		if (names[i] != NULL && strlen(names[i]) == (size_t)(q - s) &&
		    memcmp(names[i], s, (size_t)(q - s)) == 0) {
			*out = (int)i;
			c->p = q;
			return 0;
		}
	}
	char list[160] = "";
	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL)
			snprintf(list + strlen(list), sizeof list - strlen(list), "%s:%s",
				 list[0] ? " " : "", names[i]);
	return fail(c, "expected %s (one of %s), found %s", what, list, found(c, b, sizeof b));
}

static const char *const type_names[] = {"ok", "fail", "info", "invoke"};
static const char *const fn_names[] = {"read", "write", "cas", "get", "put", "append", "txn"};

/* nil or an integer, as a register value */
static int parse_log_scalar(struct cursor *c, struct rep_history *h, struct rep_value *out)
{
	char b[24];
	if (take(c, "nil")) {
		*out = rep_value_nil();
		return 0;
	}
	const char *s = c->p;
	int64_t v;
	if (parse_i64(c, &v, "a value (nil or an integer)") != 0)
		return REP_EPARSE;
	(void)b;
	return rep_value_int_text(h, s, (size_t)(c->p - s), out);
}

static int parse_log_line(struct cursor *c, struct pairing *pr)
{
	char b[24];
	const char *mark = NULL;
	for (const char *q = c->p; q + 14 <= c->end; q++) {
		if (memcmp(q, "jepsen.util - ", 14) == 0) {
			mark = q + 14;
			break;
		}
	}
	if (mark == NULL)
		return fail(c, "expected a Jepsen log line 'INFO  jepsen.util - P\\t:TYPE\\t:F\\tVALUE', "
			       "found %s", found(c, b, sizeof b));
	c->p = mark;
	struct event ev = {0};
	if (take(c, ":nemesis"))
		return 1; /* nemesis lines are not client operations */
	if (parse_i64(c, &ev.process, "a process id") != 0)
		return REP_EPARSE;
	if (c->p >= c->end || *c->p != '\t')
		return fail(c, "expected a tab after the process id, found %s", found(c, b, sizeof b));
	c->p++;
	int type = 0;
	if (parse_keyword(c, type_names, 4, &type, "the event type") != 0)
		return REP_EPARSE;
	ev.type = type == 3 ? REP_OUT_PENDING : (enum rep_outcome)type;
	if (c->p >= c->end || *c->p != '\t')
		return fail(c, "expected a tab after the event type, found %s", found(c, b, sizeof b));
	c->p++;
	int fn = 0;
	if (parse_keyword(c, fn_names, 3, &fn, "the function") != 0)
		return REP_EPARSE;
	ev.fn = (enum rep_fn)fn;
	if (c->p >= c->end || *c->p != '\t')
		return fail(c, "expected a tab after the function, found %s", found(c, b, sizeof b));
	c->p++;
	struct rep_history *h = &pr->h;
	if (h->arena == NULL && (h->arena = rep__arena_new()) == NULL)
		return REP_ENOMEM;
	int rc;
	if ((ev.type == REP_OUT_INFO || ev.type == REP_OUT_FAIL) && take(c, ":")) {
		/* :timed-out and friends: an info or fail line's value may be a
		 * keyword (no value: a fail never took effect) */
		while (c->p < c->end && !is_delim(*c->p))
			c->p++;
	} else if (ev.fn == REP_FN_CAS) {
		if (!take(c, "["))
			return fail(c, "expected '[from to]' for :cas, found %s", found(c, b, sizeof b));
		if ((rc = parse_log_scalar(c, h, &ev.arg)) != 0)
			return rc;
		if (!take(c, " "))
			return fail(c, "expected a space between cas values, found %s",
				    found(c, b, sizeof b));
		if ((rc = parse_log_scalar(c, h, &ev.arg2)) != 0)
			return rc;
		if (!take(c, "]"))
			return fail(c, "expected ']' closing the cas values, found %s",
				    found(c, b, sizeof b));
	} else {
		struct rep_value v;
		if ((rc = parse_log_scalar(c, h, &v)) != 0)
			return rc;
		if (ev.fn == REP_FN_READ)
			ev.result = v;
		else
			ev.arg = v;
	}
	skip_ws(c);
	if (c->p != c->end)
		return fail(c, "expected end of line after the value, found %s", found(c, b, sizeof b));
	return pairing_event(pr, c, &ev);
}

/* ------------------------------------------------------------ EDN format */

/* A parsed EDN value (only what Jepsen histories use). */
enum edn_kind { E_NIL, E_BOOL, E_INT, E_STR, E_KW, E_VEC, E_MAP };
struct edn {
	enum edn_kind kind;
	bool b;
	const char *s; /* INT: digits text; STR: unescaped (arena); KW: name */
	size_t len;
	struct edn *items; /* VEC: n items; MAP: 2n (key, value) */
	size_t n;
	const char *at; /* where it started, for messages */
};

#define EDN_MAX_DEPTH 16

static int edn_parse(struct cursor *c, struct rep_arena *a, struct edn *out, int depth);

static void edn_skip(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == ','))
		c->p++;
}

static int edn_seq(struct cursor *c, struct rep_arena *a, struct edn *out, char close,
		   int depth)
{
	char b[24];
	size_t cap = 8, n = 0;
	struct edn *items = malloc(cap * sizeof *items);
	if (items == NULL)
		return REP_ENOMEM;
	int rc;
	for (;;) {
		edn_skip(c);
		if (c->p >= c->end) {
			rc = fail(c, "expected '%c' closing the %s, found end of line", close,
				  close == '}' ? "map" : "vector");
			goto err_after_items;
		}
		if (*c->p == close) {
			c->p++;
			break;
		}
		if (n == cap) {
			cap *= 2;
			struct edn *m = realloc(items, cap * sizeof *m);
			if (m == NULL) {
				rc = REP_ENOMEM;
				goto err_after_items;
			}
			items = m;
		}
		if ((rc = edn_parse(c, a, &items[n], depth + 1)) != 0)
			goto err_after_items;
		n++;
	}
	if (close == '}') {
		for (size_t i = 0; i + 1 < n && n % 2 == 0; i += 2) {
			for (size_t j = i + 2; j < n; j += 2) {
				const struct edn *x = &items[i], *y = &items[j];
				if (x->kind == y->kind && (x->kind == E_KW || x->kind == E_STR) &&
				    x->len == y->len && memcmp(x->s, y->s, x->len) == 0) {
					c->p = y->at;
					rc = fail(c, "duplicate key in a map; expected each key once");
					goto err_after_items;
				}
			}
		}
	}
	if (close == '}' && n % 2 != 0) {
		c->p--;
		rc = fail(c, "expected a value for the last key of the map, found %s",
			  found(c, b, sizeof b));
		goto err_after_items;
	}
	struct edn *copy = NULL;
	if (n) {
		copy = rep__arena_alloc(a, n * sizeof *copy);
		if (copy == NULL) {
			rc = REP_ENOMEM;
			goto err_after_items;
		}
		memcpy(copy, items, n * sizeof *copy);
	}
	free(items);
	out->items = copy;
	out->n = close == '}' ? n / 2 : n;
	return 0;
err_after_items:
	free(items);
	return rc;
}

static int edn_parse(struct cursor *c, struct rep_arena *a, struct edn *out, int depth)
{
	char b[24];
	edn_skip(c);
	memset(out, 0, sizeof *out);
	out->at = c->p;
	if (depth > EDN_MAX_DEPTH)
		return fail(c, "nesting deeper than %d", EDN_MAX_DEPTH);
	if (c->p >= c->end)
		return fail(c, "expected a value, found end of line");
	char ch = *c->p;
	if (ch == '{' || ch == '[') {
		c->p++;
		out->kind = ch == '{' ? E_MAP : E_VEC;
		return edn_seq(c, a, out, ch == '{' ? '}' : ']', depth);
	}
	if (ch == '"') {
		c->p++;
		const char *s = c->p;
		size_t n = 0;
		while (c->p < c->end && *c->p != '"') {
			if (*c->p == '\\')
				c->p++;
			c->p++;
			n++;
		}
		if (c->p >= c->end)
			return fail(c, "expected '\"' closing the string, found end of line");
		char *dst = rep__arena_alloc(a, n + 1);
		if (dst == NULL)
			return REP_ENOMEM;
		size_t k = 0;
		for (const char *q = s; q < c->p; q++) {
			if (*q == '\\') {
				q++;
				char e = *q;
				dst[k++] = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
			} else {
				dst[k++] = *q;
			}
		}
		dst[k] = 0;
		c->p++;
		out->kind = E_STR;
		out->s = dst;
		out->len = k;
		return 0;
	}
	if (ch == ':') {
		const char *s = ++c->p;
		while (c->p < c->end && !is_delim(*c->p))
			c->p++;
		if (c->p == s)
			return fail(c, "expected a keyword name after ':'");
		out->kind = E_KW;
		out->s = s;
		out->len = (size_t)(c->p - s);
		return 0;
	}
	if (ch == '-' || ch == '+' || (ch >= '0' && ch <= '9')) {
		const char *s = c->p;
		if (ch == '-' || ch == '+')
			c->p++;
		const char *d = c->p;
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
		if (c->p < c->end && *c->p == 'N') /* Clojure bigint suffix */
			c->p++;
		if (c->p == d || (c->p < c->end && !is_delim(*c->p))) {
			c->p = s;
			return fail(c, "expected a number, found %s", found(c, b, sizeof b));
		}
		out->kind = E_INT;
		out->s = s;
		out->len = (size_t)(c->p - s) - (c->p[-1] == 'N' ? 1 : 0);
		return 0;
	}
	if (take(c, "nil")) {
		out->kind = E_NIL;
	} else if (take(c, "true")) {
		out->kind = E_BOOL;
		out->b = true;
	} else if (take(c, "false")) {
		out->kind = E_BOOL;
	} else {
		return fail(c, "expected an EDN value (map, vector, string, keyword, integer, nil, "
			       "true, false), found %s",
			    found(c, b, sizeof b));
	}
	if (c->p < c->end && !is_delim(*c->p)) {
		c->p = out->at;
		return fail(c, "expected an EDN value, found %s", found(c, b, sizeof b));
	}
	return 0;
}

static bool kw_is(const struct edn *e, const char *name)
{
	return e->kind == E_KW && strlen(name) == e->len && memcmp(e->s, name, e->len) == 0;
}

static const struct edn *map_get(const struct edn *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++)
		if (kw_is(&m->items[2 * i], key))
			return &m->items[2 * i + 1];
	return NULL;
}

static int at_fail(struct cursor *c, const struct edn *e, const char *fmt, const char *what)
{
	c->p = e->at;
	return fail(c, fmt, what);
}

/* An EDN scalar as a history value (nil, integer, string, boolean). */
static int edn_value(struct cursor *c, struct rep_history *h, const struct edn *e,
		     struct rep_value *out, const char *what)
{
	switch (e->kind) {
	case E_NIL:
		*out = rep_value_nil();
		return 0;
	case E_BOOL:
		*out = rep_value_bool(e->b);
		return 0;
	case E_INT:
		return rep_value_int_text(h, e->s, e->len, out);
	case E_STR:
		*out = rep_value_bytes(h, e->s, e->len);
		return out->kind == REP_V_NIL ? REP_ENOMEM : 0;
	default:
		return at_fail(c, e, "expected %s (nil, an integer, a string or a boolean)", what);
	}
}

static int edn_key(struct cursor *c, struct rep_history *h, const struct edn *e,
		   struct rep_value *out)
{
	if (e->kind == E_STR || e->kind == E_INT)
		return edn_value(c, h, e, out, "a key");
	return at_fail(c, e, "expected %s (a string or an integer)", "a key");
}

/* :txn micro-ops: [[:r k v] [:w k v] [:d k] [:incr k d]] and conditions
 * [[:exists k] [:absent k] [:= k v] [:type k :int|:bytes|:bool] [:< k n] ...] */
static int edn_txn(struct cursor *c, struct rep_history *h, const struct edn *value,
		   const struct edn *conds, bool completion, struct event *ev)
{
	static const char *const opk[] = {"r", "w", "d", "incr"};
	static const char *const ck[] = {"exists", "absent", "=", "type", "<", "<=", ">=", ">", "==", "!="};
	if (value == NULL || value->kind != E_VEC)
		return at_fail(c, value ? value : conds, "expected %s",
			       ":value, a vector of micro-ops [[:r k v] [:w k v] ...]");
	size_t n = value->n;
	struct rep_txop *ops = rep__arena_alloc(h->arena, (n ? n : 1) * sizeof *ops);
	struct rep_value *reads = rep__arena_alloc(h->arena, (n ? n : 1) * sizeof *reads);
	if (ops == NULL || reads == NULL)
		return REP_ENOMEM;
	int rc;
	for (size_t i = 0; i < n; i++) {
		const struct edn *m = &value->items[i];
		if (m->kind != E_VEC || m->n < 2 || m->items[0].kind != E_KW)
			return at_fail(c, m, "expected %s", "a micro-op [:r k v], [:w k v], [:d k] or [:incr k d]");
		int kind = -1;
		for (int k = 0; k < 4; k++)
			if (kw_is(&m->items[0], opk[k]))
				kind = k;
		if (kind < 0)
			return at_fail(c, m, "expected %s", "a micro-op keyword :r, :w, :d or :incr");
		ops[i].kind = (enum rep_txop_kind)kind;
		if ((rc = edn_key(c, h, &m->items[1], &ops[i].key)) != 0)
			return rc;
		if (ops[i].key.kind == REP_V_INT)
			ops[i].key.kind = REP_V_BYTES;
		ops[i].value = rep_value_nil();
		reads[i] = rep_value_nil();
		if (m->n > 3)
			return at_fail(c, m, "expected %s", "at most 3 items in a micro-op");
		if (m->n == 3) {
			struct rep_value v;
			if ((rc = edn_value(c, h, &m->items[2], &v, "a micro-op value")) != 0)
				return rc;
			if (kind == REP_TX_READ)
				reads[i] = v;
			else
				ops[i].value = v;
		} else if (kind == REP_TX_PUT || kind == REP_TX_INCR) {
			return at_fail(c, m, "expected %s", "a value in [:w k v] / [:incr k d]");
		}
		if (kind == REP_TX_INCR && ops[i].value.kind != REP_V_INT)
			return at_fail(c, &m->items[2], "expected %s", "an integer increment");
	}
	size_t nc = conds && conds->kind == E_VEC ? conds->n : 0;
	if (conds != NULL && conds->kind != E_VEC && conds->kind != E_NIL)
		return at_fail(c, conds, "expected %s", ":conds, a vector of conditions");
	struct rep_cond *cs = rep__arena_alloc(h->arena, (nc ? nc : 1) * sizeof *cs);
	if (cs == NULL)
		return REP_ENOMEM;
	for (size_t i = 0; i < nc; i++) {
		const struct edn *m = &conds->items[i];
		if (m->kind != E_VEC || m->n < 2 || m->n > 3 || m->items[0].kind != E_KW)
			return at_fail(c, m, "expected %s", "a condition [:exists k], [:= k v], ...");
		int kind = -1;
		for (int k = 0; k < 10; k++)
			if (kw_is(&m->items[0], ck[k]))
				kind = k;
		if (kind < 0)
			return at_fail(c, m, "expected %s",
				       "a condition keyword :exists :absent := :type :< :<= :>= :> :== :!=");
		cs[i].kind = (enum rep_cond_kind)kind;
		if ((rc = edn_key(c, h, &m->items[1], &cs[i].key)) != 0)
			return rc;
		if (cs[i].key.kind == REP_V_INT)
			cs[i].key.kind = REP_V_BYTES;
		cs[i].value = rep_value_nil();
		bool needs = kind != REP_COND_EXISTS && kind != REP_COND_ABSENT;
		if (needs != (m->n == 3))
			return at_fail(c, m, "expected %s", needs ? "a value in the condition"
								 : "no value in :exists / :absent");
		if (kind == REP_COND_TYPE_IS) {
			const struct edn *t = &m->items[2];
			if (kw_is(t, "int"))
				cs[i].value.kind = REP_V_INT;
			else if (kw_is(t, "bytes"))
				cs[i].value.kind = REP_V_BYTES;
			else if (kw_is(t, "bool"))
				cs[i].value.kind = REP_V_BOOL;
			else
				return at_fail(c, t, "expected %s", "a type :int, :bytes or :bool");
		} else if (needs) {
			if ((rc = edn_value(c, h, &m->items[2], &cs[i].value, "a condition value")) != 0)
				return rc;
			if (kind >= REP_COND_INT_LT && cs[i].value.kind != REP_V_INT)
				return at_fail(c, &m->items[2], "expected %s", "an integer to compare with");
		}
	}
	if (completion) {
		ev->reads = reads;
		ev->nreads = n;
	} else {
		struct rep_txn *t = rep__arena_alloc(h->arena, sizeof *t);
		if (t == NULL)
			return REP_ENOMEM;
		*t = (struct rep_txn){.conds = cs, .nconds = nc, .ops = ops, .nops = n};
		ev->txn = t;
	}
	return 0;
}

static int parse_edn_line(struct cursor *c, struct pairing *pr)
{
	char b[24];
	struct rep_history *h = &pr->h;
	if (h->arena == NULL && (h->arena = rep__arena_new()) == NULL)
		return REP_ENOMEM;
	struct edn m;
	int rc = edn_parse(c, h->arena, &m, 0);
	if (rc != 0)
		return rc;
	edn_skip(c);
	if (c->p != c->end)
		return fail(c, "expected end of line after the map, found %s", found(c, b, sizeof b));
	if (m.kind != E_MAP) {
		c->p = m.at;
		return fail(c, "expected a map {:process P, :type T, :f F, ...}, found %s",
			    found(c, b, sizeof b));
	}
	struct event ev = {0};
	const struct edn *process = map_get(&m, "process");
	const struct edn *type = map_get(&m, "type");
	const struct edn *f = map_get(&m, "f");
	if (process == NULL || type == NULL || f == NULL) {
		c->p = m.at;
		return fail(c, "expected :process, :type and :f in every event map (missing %s)",
			    process == NULL ? ":process" : type == NULL ? ":type" : ":f");
	}
	if (kw_is(process, "nemesis"))
		return 1; /* fault events are not client operations */
	if (process->kind != E_INT)
		return at_fail(c, process, "expected %s", ":process, an integer or :nemesis");
	struct cursor pc = *c;
	pc.p = process->s;
	pc.end = process->s + process->len;
	if ((rc = parse_i64(&pc, &ev.process, ":process")) != 0) {
		c->p = pc.p;
		return rc;
	}
	int t = -1;
	for (int i = 0; i < 4; i++)
		if (kw_is(type, type_names[i]))
			t = i;
	if (t < 0)
		return at_fail(c, type, "expected %s", ":type, one of :invoke :ok :fail :info");
	ev.type = t == 3 ? REP_OUT_PENDING : (enum rep_outcome)t;
	int fn = -1;
	for (int i = 0; i < 7; i++)
		if (kw_is(f, fn_names[i]))
			fn = i;
	if (fn < 0)
		return at_fail(c, f, "expected %s",
			       ":f, one of :read :write :cas :get :put :append :txn");
	ev.fn = (enum rep_fn)fn;
	const struct edn *time = map_get(&m, "time");
	if (time != NULL && time->kind != E_NIL) {
		if (time->kind != E_INT)
			return at_fail(c, time, "expected %s", ":time, an integer (nanoseconds)");
		pc = *c;
		pc.p = time->s;
		pc.end = time->s + time->len;
		if ((rc = parse_i64(&pc, &ev.time, ":time")) != 0) {
			c->p = pc.p;
			return rc;
		}
		ev.has_time = true;
	}
	const struct edn *key = map_get(&m, "key");
	if (key != NULL && key->kind != E_NIL && (rc = edn_key(c, h, key, &ev.key)) != 0)
		return rc;
	const struct edn *client = map_get(&m, "client");
	if (client != NULL && client->kind != E_NIL) {
		if (client->kind != E_STR)
			return at_fail(c, client, "expected %s", ":client, a string");
		ev.client = client->s;
	}
	const struct edn *cell = map_get(&m, "cell");
	if (cell != NULL && cell->kind != E_NIL && (rc = edn_key(c, h, cell, &ev.cell)) != 0)
		return rc;
	const struct edn *value = map_get(&m, "value");
	static const struct edn nil = {.kind = E_NIL};
	if (value == NULL)
		value = &nil;
	/* jepsen.independent: without :key, a register op's :value is a tuple
	 * [key value] ([key [from to]] for cas) */
	bool reg = ev.fn == REP_FN_READ || ev.fn == REP_FN_WRITE || ev.fn == REP_FN_CAS;
	if (reg && key == NULL && value->kind == E_VEC && value->n == 2 &&
	    (ev.fn != REP_FN_CAS || value->items[1].kind == E_VEC ||
	     value->items[1].kind == E_KW || value->items[1].kind == E_NIL)) {
		if ((rc = edn_key(c, h, &value->items[0], &ev.key)) != 0)
			return rc;
		value = &value->items[1];
	}
	bool info_kw = ev.type == REP_OUT_INFO && value->kind == E_KW;
	switch (ev.fn) {
	case REP_FN_CAS:
		if (info_kw)
			break;
		if (value->kind != E_VEC || value->n != 2)
			return at_fail(c, value, "expected %s", ":value [from to] for :cas");
		if ((rc = edn_value(c, h, &value->items[0], &ev.arg, "cas from")) != 0 ||
		    (rc = edn_value(c, h, &value->items[1], &ev.arg2, "cas to")) != 0)
			return rc;
		break;
	case REP_FN_READ:
	case REP_FN_GET:
		if (info_kw)
			break;
		if ((rc = edn_value(c, h, value, &ev.result, ":value")) != 0)
			return rc;
		break;
	case REP_FN_WRITE:
	case REP_FN_PUT:
	case REP_FN_APPEND:
		if (info_kw)
			break;
		if ((rc = edn_value(c, h, value, &ev.arg, ":value")) != 0)
			return rc;
		break;
	case REP_FN_TXN: {
		if (ev.type == REP_OUT_PENDING) {
			if ((rc = edn_txn(c, h, value, map_get(&m, "conds"), false, &ev)) != 0)
				return rc;
		} else if (ev.type == REP_OUT_OK) {
			const struct edn *com = map_get(&m, "committed");
			ev.committed = com == NULL || (com->kind == E_BOOL && com->b);
			if (com != NULL && com->kind != E_BOOL)
				return at_fail(c, com, "expected %s", ":committed true or false");
			if (value->kind != E_NIL &&
			    (rc = edn_txn(c, h, value, NULL, true, &ev)) != 0)
				return rc;
		}
		break;
	}
	}
	return pairing_event(pr, c, &ev);
}

/* --------------------------------------------------------------- drivers */

int rep__event_class(int64_t invoke_ns, int64_t t, int completion)
{
	return completion && invoke_ns < t ? 0 : 1;
}

static bool looks_like_edn(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char ch = text[i];
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
			continue;
		return ch == '{';
	}
	return false;
}

int rep_import_buffer(const char *text, size_t len, enum rep_format fmt, const char *name,
		      struct rep_history *out, struct rep_error *err)
{
	if (text == NULL && len > 0)
		return REP_EINVAL;
	if (fmt == REP_FMT_AUTO)
		fmt = looks_like_edn(text, len) ? REP_FMT_EDN : REP_FMT_LOG;
	struct pairing pr = {0};
	rep_history_init(&pr.h);
	struct cursor c = {.name = name, .err = err};
	const char *p = text, *end = text + len;
	int rc = 0;
	unsigned events = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		c.lineno++;
		c.line = c.p = p;
		c.end = eol;
		if (memchr(p, 0, (size_t)(eol - p)) != NULL) {
			c.p = memchr(p, 0, (size_t)(eol - p));
			rc = fail(&c, "expected text, found a NUL byte");
			goto err_after_pairing;
		}
		skip_ws(&c);
		if (c.p != c.end && !(fmt == REP_FMT_EDN && *c.p == ';')) {
			c.p = p;
			rc = fmt == REP_FMT_EDN ? parse_edn_line(&c, &pr) : parse_log_line(&c, &pr);
			if (rc == 1) { /* a nemesis event: valid, not an op */
				rc = 0;
				events--;
			}
			if (rc != 0) {
				if (rc != REP_EPARSE && err != NULL) {
					snprintf(err->file, sizeof err->file, "%s", name ? name : "<input>");
					err->line = c.lineno;
					err->column = 0;
					snprintf(err->msg, sizeof err->msg, "%s", rep_strerror(rc));
				}
				goto err_after_pairing;
			}
			events++;
		}
		p = nl ? nl + 1 : end;
	}
	if (events == 0) {
		c.lineno = c.lineno ? c.lineno : 1;
		c.line = c.p = c.end = end;
		rc = fail(&c, "expected at least one client operation, found none");
		goto err_after_pairing;
	}
	free(pr.keys);
	free(pr.vals);
	rep_history_free(out);
	*out = pr.h;
	return 0;
err_after_pairing:
	pairing_free(&pr);
	return rc;
}

int rep_import_file(const char *path, enum rep_format fmt, struct rep_history *out,
		    struct rep_error *err)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		if (err != NULL) {
			snprintf(err->file, sizeof err->file, "%s", path);
			err->line = err->column = 0;
			snprintf(err->msg, sizeof err->msg, "cannot open: %s", strerror(errno));
		}
		return REP_EIO;
	}
	struct rep_buf b = {0};
	char chunk[65536];
	size_t got;
	int rc = 0;
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if ((rc = rep__buf_put(&b, chunk, got)) != 0)
			break;
	}
	if (rc == 0 && ferror(f)) {
		rc = REP_EIO;
		if (err != NULL) {
			snprintf(err->file, sizeof err->file, "%s", path);
			err->line = err->column = 0;
			snprintf(err->msg, sizeof err->msg, "read error");
		}
	}
	fclose(f);
	if (rc == 0)
		rc = rep_import_buffer((const char *)b.p, b.len, fmt, path, out, err);
	rep__buf_free(&b);
	return rc;
}

/* -------------------------------------------------------------- exporter */

static int edn_txn_value(struct rep_buf *b, const struct rep_txn *t, bool with_reads)
{
	return rep__txn_ops_edn(b, t, ":", with_reads);
}

static int edn_conds(struct rep_buf *b, const struct rep_txn *t)
{
	static const char *const ck[] = {"exists", "absent", "=", "type", "<", "<=", ">=", ">", "==", "!="};
	int rc = rep__buf_put(b, ", :conds [", 10);
	for (size_t i = 0; i < t->nconds; i++) {
		const struct rep_cond *cd = &t->conds[i];
		rc |= rep__buf_printf(b, "%s[:%s ", i ? " " : "", ck[cd->kind]);
		rc |= rep__value_edn(b, &cd->key);
		if (cd->kind == REP_COND_TYPE_IS) {
			const char *tn = cd->value.kind == REP_V_INT	? ":int"
					 : cd->value.kind == REP_V_BOOL ? ":bool"
									: ":bytes";
			rc |= rep__buf_printf(b, " %s", tn);
		} else if (cd->kind != REP_COND_EXISTS && cd->kind != REP_COND_ABSENT) {
			rc |= rep__buf_put(b, " ", 1);
			rc |= rep__value_edn(b, &cd->value);
		}
		rc |= rep__buf_put(b, "]", 1);
	}
	rc |= rep__buf_put(b, "]", 1);
	return rc ? REP_ENOMEM : 0;
}

/* One event map. completion: false for the invoke. */
int rep__edn_event(struct rep_buf *b, const struct rep_op *op, bool completion)
{
	const char *type = completion ? rep_outcome_name(op->outcome) : "invoke";
	int rc = rep__buf_printf(b, "{:process %lld, :type :%s, :f :%s", (long long)op->process,
				 type, rep_fn_name(op->fn));
	if (op->client != NULL) {
		struct rep_value cv = {.kind = REP_V_BYTES, .bytes = (const uint8_t *)op->client,
				       .len = strlen(op->client)};
		rc |= rep__buf_put(b, ", :client ", 10);
		rc |= rep__value_edn(b, &cv);
	}
	if (op->cell.kind != REP_V_NIL) {
		rc |= rep__buf_put(b, ", :cell ", 8);
		rc |= rep__value_edn(b, &op->cell);
	}
	if (op->key.kind != REP_V_NIL) {
		rc |= rep__buf_put(b, ", :key ", 7);
		rc |= rep__value_edn(b, &op->key);
	}
	rc |= rep__buf_put(b, ", :value ", 9);
	bool ok = completion && op->outcome == REP_OUT_OK;
	switch (op->fn) {
	case REP_FN_READ:
	case REP_FN_GET:
		if (ok)
			rc |= rep__value_edn(b, &op->result);
		else
			rc |= rep__buf_put(b, "nil", 3);
		break;
	case REP_FN_WRITE:
	case REP_FN_PUT:
	case REP_FN_APPEND:
		rc |= rep__value_edn(b, &op->arg);
		break;
	case REP_FN_CAS:
		rc |= rep__buf_put(b, "[", 1);
		rc |= rep__value_edn(b, &op->arg);
		rc |= rep__buf_put(b, " ", 1);
		rc |= rep__value_edn(b, &op->arg2);
		rc |= rep__buf_put(b, "]", 1);
		break;
	case REP_FN_TXN:
		if (completion && !(ok && op->txn->reads != NULL))
			rc |= rep__buf_put(b, "nil", 3); /* no reads recorded */
		else
			rc |= edn_txn_value(b, op->txn, ok);
		if (!completion)
			rc |= edn_conds(b, op->txn);
		if (ok)
			rc |= rep__buf_printf(b, ", :committed %s",
					      op->txn->committed ? "true" : "false");
		break;
	}
	rc |= rep__buf_printf(b, ", :time %lld}\n",
			      (long long)(completion ? op->complete_ns : op->invoke_ns));
	return rc ? REP_ENOMEM : 0;
}

struct ev_ref {
	int64_t t;
	size_t op;
	int completion;
	int cls;
};

static int ev_cmp(const void *a, const void *b)
{
	const struct ev_ref *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->cls != y->cls)
		return x->cls - y->cls;
	if (x->op != y->op)
		return x->op < y->op ? -1 : 1;
	return x->completion - y->completion;
}

int rep_export_edn(const struct rep_history *h, FILE *out)
{
	struct ev_ref *evs = malloc((2 * h->n + 1) * sizeof *evs);
	if (evs == NULL)
		return REP_ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < h->n; i++) {
		const struct rep_op *op = &h->ops[i];
		evs[n++] = (struct ev_ref){op->invoke_ns, i, 0, 1};
		if (op->outcome != REP_OUT_PENDING)
			evs[n++] = (struct ev_ref){op->complete_ns, i, 1,
						   rep__event_class(op->invoke_ns, op->complete_ns, 1)};
	}
	qsort(evs, n, sizeof *evs, ev_cmp);
	struct rep_buf b = {0};
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		b.len = 0;
		rc = rep__edn_event(&b, &h->ops[evs[i].op], evs[i].completion);
		if (rc == 0 && fwrite(b.p, 1, b.len, out) != b.len)
			rc = REP_EIO;
	}
	rep__buf_free(&b);
	free(evs);
	if (rc == 0 && fflush(out) != 0)
		rc = REP_EIO;
	return rc;
}
