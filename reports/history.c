/* reports/history.c: the Jepsen-shaped history model (docs/checker.md).
 *
 * A history owns everything it holds: rep_history_add deep-copies values,
 * strings and transactions into the history's arena, so recorders may pass
 * stack buffers. Ops are kept in invoke order. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* ------------------------------------------------------------------ arena */

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct rep_arena {
	struct arena_chunk *head;
};

struct rep_arena *rep__arena_new(void)
{
	return calloc(1, sizeof(struct rep_arena));
}

void rep__arena_free(struct rep_arena *a)
{
	if (a == NULL)
		return;
	struct arena_chunk *c = a->head;
	while (c != NULL) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	free(a);
}

void *rep__arena_alloc(struct rep_arena *a, size_t size)
{
	size_t need = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (need == 0)
		need = sizeof(max_align_t);
	struct arena_chunk *c = a->head;
	if (c == NULL || c->cap - c->used < need) {
		size_t cap = need > 60000 ? need : 60000;
		c = malloc(sizeof *c + cap);
		if (c == NULL)
			return NULL;
		c->used = 0;
		c->cap = cap;
		c->next = a->head;
		a->head = c;
	}
	void *p = (char *)c->data + c->used;
	c->used += need;
	return p;
}

/* -------------------------------------------------------------------- buf */

int rep__buf_reserve(struct rep_buf *b, size_t extra)
{
	if (b->cap - b->len > extra)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len <= extra)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (p == NULL)
		return REP_ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int rep__buf_put(struct rep_buf *b, const void *p, size_t len)
{
	if (rep__buf_reserve(b, len) != 0)
		return REP_ENOMEM;
	if (len)
		memcpy(b->p + b->len, p, len);
	b->len += len;
	b->p[b->len] = 0;
	return 0;
}

int rep__buf_printf(struct rep_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return REP_EINVAL;
	if (rep__buf_reserve(b, (size_t)n + 1) != 0)
		return REP_ENOMEM;
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void rep__buf_free(struct rep_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

double rep__now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum rep_model rep__fn_model(enum rep_fn fn)
{
	switch (fn) {
	case REP_FN_READ:
	case REP_FN_WRITE:
	case REP_FN_CAS:
		return REP_MODEL_REGISTER;
	case REP_FN_GET:
	case REP_FN_PUT:
	case REP_FN_APPEND:
		return REP_MODEL_KV;
	case REP_FN_TXN:
		return REP_MODEL_CELL;
	}
	return REP_MODEL_REGISTER;
}

/* ----------------------------------------------------------------- values */

struct rep_value rep_value_nil(void)
{
	struct rep_value v = {.kind = REP_V_NIL};
	return v;
}

struct rep_value rep_value_bool(bool b)
{
	struct rep_value v = {.kind = REP_V_BOOL, .b = b};
	return v;
}

static _Thread_local char int_scratch[32];

/* The arena of h, created on first use (NULL if memory ran out). */
static struct rep_arena *arena_of(struct rep_history *h)
{
	if (h->arena == NULL)
		h->arena = rep__arena_new();
	return h->arena;
}

struct rep_value rep_value_int(struct rep_history *h, int64_t i)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof tmp, "%lld", (long long)i);
	struct rep_value v = {.kind = REP_V_INT, .len = (size_t)n};
	char *dst = int_scratch;
	if (h != NULL) {
		dst = arena_of(h) ? rep__arena_alloc(h->arena, (size_t)n + 1) : NULL;
		if (dst == NULL)
			return rep_value_nil();
	}
	memcpy(dst, tmp, (size_t)n + 1);
	v.bytes = (const uint8_t *)dst;
	return v;
}

struct rep_value rep_value_bytes(struct rep_history *h, const void *p, size_t len)
{
	struct rep_value v = {.kind = REP_V_BYTES, .bytes = p, .len = len};
	if (h != NULL) {
		uint8_t *dst = arena_of(h) ? rep__arena_alloc(h->arena, len + 1) : NULL;
		if (dst == NULL)
			return rep_value_nil();
		if (len)
			memcpy(dst, p, len);
		dst[len] = 0;
		v.bytes = dst;
	}
	return v;
}

struct rep_value rep_value_str(struct rep_history *h, const char *s)
{
	return rep_value_bytes(h, s, strlen(s));
}

int rep_value_int_text(struct rep_history *h, const char *text, size_t len, struct rep_value *out)
{
	size_t i = 0;
	bool neg = false;
	if (i < len && (text[i] == '-' || text[i] == '+')) {
		neg = text[i] == '-';
		i++;
	}
	if (i == len)
		return REP_EPARSE;
	for (size_t j = i; j < len; j++)
		if (text[j] < '0' || text[j] > '9')
			return REP_EPARSE;
	while (i + 1 < len && text[i] == '0')
		i++;
	if (len - i == 1 && text[i] == '0')
		neg = false;
	size_t n = len - i + (neg ? 1 : 0);
	char *dst;
	if (h != NULL)
		dst = arena_of(h) ? rep__arena_alloc(h->arena, n + 1) : NULL;
	else if (n + 1 <= sizeof int_scratch)
		dst = int_scratch;
	else
		return REP_ENOMEM;
	if (dst == NULL)
		return REP_ENOMEM;
	size_t k = 0;
	if (neg)
		dst[k++] = '-';
	memcpy(dst + k, text + i, len - i);
	dst[n] = 0;
	out->kind = REP_V_INT;
	out->b = false;
	out->bytes = (const uint8_t *)dst;
	out->len = n;
	return 0;
}

bool rep_value_equal(const struct rep_value *a, const struct rep_value *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case REP_V_NIL:
		return true;
	case REP_V_BOOL:
		return a->b == b->b;
	case REP_V_INT:
	case REP_V_BYTES:
		return a->len == b->len && (a->len == 0 || memcmp(a->bytes, b->bytes, a->len) == 0);
	}
	return false;
}

int rep__value_edn(struct rep_buf *b, const struct rep_value *v)
{
	switch (v->kind) {
	case REP_V_NIL:
		return rep__buf_put(b, "nil", 3);
	case REP_V_BOOL:
		return v->b ? rep__buf_put(b, "true", 4) : rep__buf_put(b, "false", 5);
	case REP_V_INT:
		return rep__buf_put(b, v->bytes, v->len);
	case REP_V_BYTES:
		if (rep__buf_put(b, "\"", 1) != 0)
			return REP_ENOMEM;
		for (size_t i = 0; i < v->len; i++) {
			unsigned char c = v->bytes[i];
			int rc;
			if (c == '"' || c == '\\') {
				char e[2] = {'\\', (char)c};
				rc = rep__buf_put(b, e, 2);
			} else if (c == '\n') {
				rc = rep__buf_put(b, "\\n", 2);
			} else if (c == '\t') {
				rc = rep__buf_put(b, "\\t", 2);
			} else if (c == '\r') {
				rc = rep__buf_put(b, "\\r", 2);
			} else if (c < 0x20 || c == 0x7f) {
				rc = rep__buf_printf(b, "\\u%04x", c);
			} else {
				rc = rep__buf_put(b, &c, 1);
			}
			if (rc != 0)
				return rc;
		}
		return rep__buf_put(b, "\"", 1);
	}
	return REP_EINVAL;
}

int rep__json_str(struct rep_buf *b, const uint8_t *p, size_t len)
{
	if (rep__buf_put(b, "\"", 1) != 0)
		return REP_ENOMEM;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		int rc;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			rc = rep__buf_put(b, e, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			/* bytes outside printable ASCII are written as \u00XX so any
			 * byte string makes valid JSON */
			rc = rep__buf_printf(b, "\\u%04x", c);
		} else {
			rc = rep__buf_put(b, &c, 1);
		}
		if (rc != 0)
			return rc;
	}
	return rep__buf_put(b, "\"", 1);
}

char *rep_value_format(const struct rep_value *v, char *buf, size_t size)
{
	if (size == 0)
		return buf;
	struct rep_buf b = {0};
	if (rep__value_edn(&b, v) != 0) {
		snprintf(buf, size, "?");
	} else if (b.len < size) {
		memcpy(buf, b.p, b.len + 1);
	} else {
		size_t keep = size > 4 ? size - 4 : 0;
		memcpy(buf, b.p, keep);
		snprintf(buf + keep, size - keep, "...");
	}
	rep__buf_free(&b);
	return buf;
}

int rep__value_copy(struct rep_arena *a, const struct rep_value *in, struct rep_value *out)
{
	struct rep_value v = *in;
	if (v.kind == REP_V_INT || v.kind == REP_V_BYTES) {
		if (v.len > 0 && v.bytes == NULL)
			return REP_EINVAL;
		uint8_t *dst = rep__arena_alloc(a, v.len + 1);
		if (dst == NULL)
			return REP_ENOMEM;
		if (v.len)
			memcpy(dst, v.bytes, v.len);
		dst[v.len] = 0;
		v.bytes = dst;
	} else if (v.kind == REP_V_NIL || v.kind == REP_V_BOOL) {
		v.bytes = NULL;
		v.len = 0;
		if (v.kind == REP_V_NIL)
			v.b = false;
	} else {
		return REP_EINVAL;
	}
	*out = v;
	return 0;
}

int rep__txn_copy(struct rep_arena *a, const struct rep_txn *in, struct rep_txn **out)
{
	struct rep_txn *t = rep__arena_alloc(a, sizeof *t);
	if (t == NULL)
		return REP_ENOMEM;
	*t = *in;
	t->conds = NULL;
	t->ops = NULL;
	t->reads = NULL;
	int rc;
	if (in->nconds) {
		if (in->conds == NULL)
			return REP_EINVAL;
		struct rep_cond *c = rep__arena_alloc(a, in->nconds * sizeof *c);
		if (c == NULL)
			return REP_ENOMEM;
		for (size_t i = 0; i < in->nconds; i++) {
			if ((unsigned)in->conds[i].kind > REP_COND_INT_NE)
				return REP_EINVAL;
			c[i].kind = in->conds[i].kind;
			if ((rc = rep__value_copy(a, &in->conds[i].key, &c[i].key)) != 0 ||
			    (rc = rep__value_copy(a, &in->conds[i].value, &c[i].value)) != 0)
				return rc;
		}
		t->conds = c;
	}
	if (in->nops) {
		if (in->ops == NULL)
			return REP_EINVAL;
		struct rep_txop *o = rep__arena_alloc(a, in->nops * sizeof *o);
		if (o == NULL)
			return REP_ENOMEM;
		for (size_t i = 0; i < in->nops; i++) {
			if ((unsigned)in->ops[i].kind > REP_TX_INCR)
				return REP_EINVAL;
			o[i].kind = in->ops[i].kind;
			if ((rc = rep__value_copy(a, &in->ops[i].key, &o[i].key)) != 0 ||
			    (rc = rep__value_copy(a, &in->ops[i].value, &o[i].value)) != 0)
				return rc;
		}
		t->ops = o;
	}
	if (in->reads != NULL && in->nops) {
		struct rep_value *r = rep__arena_alloc(a, in->nops * sizeof *r);
		if (r == NULL)
			return REP_ENOMEM;
		for (size_t i = 0; i < in->nops; i++)
			if ((rc = rep__value_copy(a, &in->reads[i], &r[i])) != 0)
				return rc;
		t->reads = r;
	}
	*out = t;
	return 0;
}

/* ---------------------------------------------------------------- history */

void rep_history_init(struct rep_history *h)
{
	memset(h, 0, sizeof *h);
}

void rep_history_free(struct rep_history *h)
{
	if (h == NULL)
		return;
	free(h->ops);
	rep__arena_free(h->arena);
	memset(h, 0, sizeof *h);
}

static int history_prepare(struct rep_history *h)
{
	if (h->arena == NULL && (h->arena = rep__arena_new()) == NULL)
		return REP_ENOMEM;
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct rep_op *ops = realloc(h->ops, cap * sizeof *ops);
		if (ops == NULL)
			return REP_ENOMEM;
		h->ops = ops;
		h->cap = cap;
	}
	return 0;
}

/* Copies op into arena-owned storage. Validates enums and times. */
static int op_copy(struct rep_arena *a, const struct rep_op *in, struct rep_op *out)
{
	if ((unsigned)in->fn > REP_FN_TXN || (unsigned)in->outcome > REP_OUT_PENDING)
		return REP_EINVAL;
	if (in->outcome != REP_OUT_PENDING && in->complete_ns < in->invoke_ns)
		return REP_EINVAL;
	if (in->fn == REP_FN_TXN && in->txn == NULL)
		return REP_EINVAL;
	struct rep_op o = *in;
	int rc;
	if (in->outcome == REP_OUT_PENDING)
		o.complete_ns = -1;
	if ((rc = rep__value_copy(a, &in->cell, &o.cell)) != 0 ||
	    (rc = rep__value_copy(a, &in->key, &o.key)) != 0 ||
	    (rc = rep__value_copy(a, &in->arg, &o.arg)) != 0 ||
	    (rc = rep__value_copy(a, &in->arg2, &o.arg2)) != 0 ||
	    (rc = rep__value_copy(a, &in->result, &o.result)) != 0)
		return rc;
	if (in->client != NULL) {
		size_t n = strlen(in->client);
		char *c = rep__arena_alloc(a, n + 1);
		if (c == NULL)
			return REP_ENOMEM;
		memcpy(c, in->client, n + 1);
		o.client = c;
	}
	o.txn = NULL;
	if (in->txn != NULL) {
		struct rep_txn *t;
		if ((rc = rep__txn_copy(a, in->txn, &t)) != 0)
			return rc;
		o.txn = t;
	}
	*out = o;
	return 0;
}

int rep_history_add(struct rep_history *h, const struct rep_op *op, size_t *index)
{
	int rc = history_prepare(h);
	if (rc != 0)
		return rc;
	struct rep_op copy;
	if ((rc = op_copy(h->arena, op, &copy)) != 0)
		return rc;
	/* keep invoke order; ties stay in insertion order */
	size_t at = h->n;
	while (at > 0 && h->ops[at - 1].invoke_ns > copy.invoke_ns)
		at--;
	memmove(h->ops + at + 1, h->ops + at, (h->n - at) * sizeof *h->ops);
	h->ops[at] = copy;
	h->n++;
	if (index != NULL)
		*index = at;
	return 0;
}

int rep_history_invoke(struct rep_history *h, const struct rep_op *op, size_t *index)
{
	if (h->n > 0 && op->invoke_ns < h->ops[h->n - 1].invoke_ns)
		return REP_EINVAL;
	struct rep_op o = *op;
	o.outcome = REP_OUT_PENDING;
	o.complete_ns = -1;
	o.result = rep_value_nil();
	return rep_history_add(h, &o, index);
}

int rep_history_complete(struct rep_history *h, size_t index, enum rep_outcome outcome,
			 int64_t complete_ns, const struct rep_value *result,
			 const struct rep_txn *txn_result)
{
	if (index >= h->n || h->ops[index].outcome != REP_OUT_PENDING ||
	    outcome == REP_OUT_PENDING || (unsigned)outcome > REP_OUT_PENDING)
		return REP_EINVAL;
	struct rep_op *op = &h->ops[index];
	if (complete_ns < op->invoke_ns)
		return REP_EINVAL;
	struct rep_value res = rep_value_nil();
	int rc;
	if (outcome == REP_OUT_OK && result != NULL &&
	    (rc = rep__value_copy(h->arena, result, &res)) != 0)
		return rc;
	const struct rep_txn *txn = op->txn;
	if (op->fn == REP_FN_TXN && outcome == REP_OUT_OK) {
		if (txn_result == NULL)
			return REP_EINVAL;
		struct rep_txn t = *op->txn;
		t.committed = txn_result->committed;
		t.reads = txn_result->reads;
		struct rep_txn *copy;
		if ((rc = rep__txn_copy(h->arena, &t, &copy)) != 0)
			return rc;
		txn = copy;
	}
	op->outcome = outcome;
	op->complete_ns = complete_ns;
	op->result = res;
	op->txn = txn;
	return 0;
}

int rep__txn_ops_edn(struct rep_buf *b, const struct rep_txn *t, const char *kw,
		     bool with_reads)
{
	static const char *const opk[] = {"r", "w", "d", "incr"};
	int rc = rep__buf_put(b, "[", 1);
	for (size_t i = 0; i < t->nops; i++) {
		const struct rep_txop *o = &t->ops[i];
		rc |= rep__buf_printf(b, "%s[%s%s ", i ? " " : "", kw, opk[o->kind]);
		rc |= rep__value_edn(b, &o->key);
		if (o->kind == REP_TX_READ) {
			rc |= rep__buf_put(b, " ", 1);
			if (with_reads && t->reads != NULL)
				rc |= rep__value_edn(b, &t->reads[i]);
			else
				rc |= rep__buf_put(b, "nil", 3);
		} else if (o->kind != REP_TX_DELETE) {
			rc |= rep__buf_put(b, " ", 1);
			rc |= rep__value_edn(b, &o->value);
		}
		rc |= rep__buf_put(b, "]", 1);
	}
	rc |= rep__buf_put(b, "]", 1);
	return rc ? REP_ENOMEM : 0;
}

static int txn_describe(struct rep_buf *b, const struct rep_txn *t, bool with_result)
{
	static const char *ck[] = {"exists", "absent", "=", "type", "<", "<=", ">=", ">", "==", "!="};
	int rc = 0;
	if (t->nconds) {
		rc |= rep__buf_put(b, "if [", 4);
		for (size_t i = 0; i < t->nconds; i++) {
			rc |= rep__buf_printf(b, "%s[%s ", i ? " " : "", ck[t->conds[i].kind]);
			rc |= rep__value_edn(b, &t->conds[i].key);
			if (t->conds[i].kind != REP_COND_EXISTS && t->conds[i].kind != REP_COND_ABSENT) {
				rc |= rep__buf_put(b, " ", 1);
				rc |= rep__value_edn(b, &t->conds[i].value);
			}
			rc |= rep__buf_put(b, "]", 1);
		}
		rc |= rep__buf_put(b, "] ", 2);
	}
	rc |= rep__txn_ops_edn(b, t, "", with_result);
	if (with_result)
		rc |= rep__buf_put(b, t->committed ? " committed" : " not-committed",
				   t->committed ? 10 : 14);
	return rc ? REP_ENOMEM : 0;
}

int rep__op_describe(struct rep_buf *b, const struct rep_op *op)
{
	int rc = rep__buf_printf(b, "p%lld %s", (long long)op->process, rep_fn_name(op->fn));
	if (op->cell.kind != REP_V_NIL) {
		rc |= rep__buf_put(b, " cell ", 6);
		rc |= rep__value_edn(b, &op->cell);
	}
	if (op->key.kind != REP_V_NIL) {
		rc |= rep__buf_put(b, " ", 1);
		rc |= rep__value_edn(b, &op->key);
	}
	bool ok = op->outcome == REP_OUT_OK;
	switch (op->fn) {
	case REP_FN_READ:
	case REP_FN_GET:
		rc |= rep__buf_put(b, " -> ", 4);
		if (ok)
			rc |= rep__value_edn(b, &op->result);
		else
			rc |= rep__buf_put(b, "?", 1);
		break;
	case REP_FN_WRITE:
	case REP_FN_PUT:
	case REP_FN_APPEND:
		rc |= rep__buf_put(b, " ", 1);
		rc |= rep__value_edn(b, &op->arg);
		break;
	case REP_FN_CAS:
		rc |= rep__buf_put(b, " [", 2);
		rc |= rep__value_edn(b, &op->arg);
		rc |= rep__buf_put(b, " ", 1);
		rc |= rep__value_edn(b, &op->arg2);
		rc |= rep__buf_put(b, "]", 1);
		break;
	case REP_FN_TXN:
		rc |= rep__buf_put(b, " ", 1);
		if (op->txn != NULL)
			rc |= txn_describe(b, op->txn, ok);
		break;
	}
	rc |= rep__buf_printf(b, " :%s", rep_outcome_name(op->outcome));
	return rc ? REP_ENOMEM : 0;
}
