/* The physalia-node config file: YAML via libfyaml, strict (unknown keys are
 * errors), every message "file:line:column: what". */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libfyaml.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

struct parse {
	const char *name;
	char *err;
	size_t errlen;
	int failed;
};

/* The token that best marks where node n starts: a scalar's own token, or
 * the first scalar inside a collection. */
static struct fy_token *first_token(struct fy_node *n, int depth)
{
	if (n == NULL || depth > 8)
		return NULL;
	if (fy_node_is_scalar(n))
		return fy_node_get_scalar_token(n);
	void *it = NULL;
	if (fy_node_is_mapping(n)) {
		struct fy_node_pair *pair = fy_node_mapping_iterate(n, &it);
		return pair ? first_token(fy_node_pair_key(pair), depth + 1) : NULL;
	}
	if (fy_node_is_sequence(n))
		return first_token(fy_node_sequence_iterate(n, &it), depth + 1);
	return NULL;
}

static void fail_at(struct parse *p, struct fy_node *n, const char *fmt, ...)
{
	if (p->failed)
		return;
	p->failed = 1;
	int line = 1, col = 1;
	struct fy_token *t = first_token(n, 0);
	if (t != NULL) {
		const struct fy_mark *m = fy_token_start_mark(t);
		if (m != NULL) {
			line = m->line + 1;
			col = m->column + 1;
		}
	}
	int k = snprintf(p->err, p->errlen, "%s:%d:%d: ", p->name, line, col);
	if (k < 0 || (size_t)k >= p->errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err + k, p->errlen - (size_t)k, fmt, ap);
	va_end(ap);
}

int node_addr_parse(const char *text, struct node_addr *out)
{
	struct node_addr a;
	memset(&a, 0, sizeof a);
	size_t len = strlen(text);
	if (len == 0 || len >= sizeof a.text)
		return NODE_EINVAL;
	char host[64];
	const char *colon;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL || close[1] != ':')
			return NODE_EINVAL;
		size_t hl = (size_t)(close - text - 1);
		if (hl == 0 || hl >= sizeof host)
			return NODE_EINVAL;
		memcpy(host, text + 1, hl);
		host[hl] = 0;
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (colon == NULL || colon == text)
			return NODE_EINVAL;
		size_t hl = (size_t)(colon - text);
		if (hl >= sizeof host)
			return NODE_EINVAL;
		memcpy(host, text, hl);
		host[hl] = 0;
	}
	const char *ps = colon + 1;
	if (*ps == 0 || strlen(ps) > 5)
		return NODE_EINVAL;
	unsigned long port = 0;
	for (const char *q = ps; *q; q++) {
		if (*q < '0' || *q > '9')
			return NODE_EINVAL;
		port = port * 10 + (unsigned long)(*q - '0');
	}
	if (port > 65535)
		return NODE_EINVAL;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&a.sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a.sa;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		a.len = sizeof *s4;
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		a.len = sizeof *s6;
	} else {
		return NODE_EINVAL;
	}
	memcpy(a.text, text, len + 1);
	*out = a;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int node_key_parse(const char *hex, size_t len, uint8_t key[NODE_KEY_BYTES])
{
	if (len != 2 * NODE_KEY_BYTES)
		return NODE_EINVAL;
	uint8_t k[NODE_KEY_BYTES];
	for (size_t i = 0; i < NODE_KEY_BYTES; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return NODE_EINVAL;
		k[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(key, k, sizeof k);
	return 0;
}

/* A scalar's text as a NUL-terminated copy in buf; fails on non-scalars. */
static const char *scalar(struct parse *p, struct fy_node *n, const char *what,
			  char *buf, size_t bufsz)
{
	if (n == NULL || !fy_node_is_scalar(n)) {
		fail_at(p, n, "%s: expected a scalar value", what);
		return NULL;
	}
	size_t len;
	const char *s = fy_node_get_scalar(n, &len);
	if (s == NULL || len >= bufsz) {
		fail_at(p, n, "%s: value too long (at most %zu bytes)", what, bufsz - 1);
		return NULL;
	}
	memcpy(buf, s, len);
	buf[len] = 0;
	if (strlen(buf) != len) {
		fail_at(p, n, "%s: value contains a NUL byte", what);
		return NULL;
	}
	return buf;
}

static int get_u64(struct parse *p, struct fy_node *n, const char *what,
		   uint64_t min, uint64_t max, uint64_t *out)
{
	char buf[32];
	const char *s = scalar(p, n, what, buf, sizeof buf);
	if (s == NULL)
		return -1;
	if (*s == 0) {
		fail_at(p, n, "%s: expected an integer", what);
		return -1;
	}
	uint64_t v = 0;
	for (const char *q = s; *q; q++) {
		if (*q < '0' || *q > '9') {
			fail_at(p, n, "%s: expected an integer, got '%s'", what, s);
			return -1;
		}
		uint64_t d = (uint64_t)(*q - '0');
		if (v > (UINT64_MAX - d) / 10) {
			fail_at(p, n, "%s: integer out of range", what);
			return -1;
		}
		v = v * 10 + d;
	}
	if (v < min || v > max) {
		fail_at(p, n, "%s: %llu is out of range [%llu, %llu]", what,
			(unsigned long long)v, (unsigned long long)min,
			(unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

static int get_addr(struct parse *p, struct fy_node *n, const char *what,
		    struct node_addr *out)
{
	char buf[80];
	const char *s = scalar(p, n, what, buf, sizeof buf);
	if (s == NULL)
		return -1;
	if (node_addr_parse(s, out) != 0) {
		fail_at(p, n, "%s: '%s' is not host:port (IPv4 a.b.c.d:port or [IPv6]:port)",
			what, s);
		return -1;
	}
	return 0;
}

static int get_key(struct parse *p, struct fy_node *n, const char *what,
		   uint8_t key[NODE_KEY_BYTES])
{
	char buf[2 * NODE_KEY_BYTES + 2];
	const char *s = scalar(p, n, what, buf, sizeof buf);
	if (s == NULL)
		return -1;
	if (node_key_parse(s, strlen(s), key) != 0) {
		fail_at(p, n, "%s: expected %d hex digits (a %d-byte key)", what,
			2 * NODE_KEY_BYTES, NODE_KEY_BYTES);
		return -1;
	}
	return 0;
}

/* Iterate a mapping: calls fn for each (key text, key node, value node). */
typedef int (*field_fn)(struct parse *p, const char *key, struct fy_node *kn,
			struct fy_node *vn, void *ud);

static int each_field(struct parse *p, struct fy_node *map, const char *what,
		      field_fn fn, void *ud)
{
	if (map == NULL || !fy_node_is_mapping(map)) {
		fail_at(p, map, "%s: expected a mapping", what);
		return -1;
	}
	void *it = NULL;
	struct fy_node_pair *pair;
	while ((pair = fy_node_mapping_iterate(map, &it)) != NULL) {
		struct fy_node *kn = fy_node_pair_key(pair);
		struct fy_node *vn = fy_node_pair_value(pair);
		char kb[64];
		if (scalar(p, kn, "key", kb, sizeof kb) == NULL)
			return -1;
		if (vn == NULL) {
			fail_at(p, kn, "%s: missing value", kb);
			return -1;
		}
		if (fn(p, kb, kn, vn, ud) != 0)
			return -1;
	}
	return 0;
}

struct build {
	struct node_config c;
	int has_id, has_peer_listen, has_client_listen, has_data_dir, has_key;
	struct fy_node *root;
};

static int listen_field(struct parse *p, const char *k, struct fy_node *kn,
			struct fy_node *vn, void *ud)
{
	struct build *b = ud;
	if (strcmp(k, "peers") == 0) {
		b->has_peer_listen = 1;
		return get_addr(p, vn, "listen.peers", &b->c.peer_listen);
	}
	if (strcmp(k, "clients") == 0) {
		b->has_client_listen = 1;
		return get_addr(p, vn, "listen.clients", &b->c.client_listen);
	}
	if (strcmp(k, "metrics") == 0) {
		b->c.has_metrics = 1;
		return get_addr(p, vn, "listen.metrics", &b->c.metrics_listen);
	}
	fail_at(p, kn, "listen: unknown field '%s' (peers, clients, metrics)", k);
	return -1;
}

static int keys_field(struct parse *p, const char *k, struct fy_node *kn,
		      struct fy_node *vn, void *ud)
{
	struct build *b = ud;
	if (strcmp(k, "current") == 0) {
		b->has_key = 1;
		return get_key(p, vn, "keys.current", b->c.key);
	}
	if (strcmp(k, "previous") == 0) {
		b->c.has_prev_key = 1;
		return get_key(p, vn, "keys.previous", b->c.prev_key);
	}
	fail_at(p, kn, "keys: unknown field '%s' (current, previous)", k);
	return -1;
}

static int limits_field(struct parse *p, const char *k, struct fy_node *kn,
			struct fy_node *vn, void *ud)
{
	struct build *b = ud;
	uint64_t v;
	if (strcmp(k, "max_connections") == 0) {
		if (get_u64(p, vn, "limits.max_connections", 1, 1000000, &v))
			return -1;
		b->c.max_connections = (uint32_t)v;
	} else if (strcmp(k, "max_frame") == 0) {
		if (get_u64(p, vn, "limits.max_frame", 1024, 16u << 20, &v))
			return -1;
		b->c.max_frame = (uint32_t)v;
	} else if (strcmp(k, "max_datagram") == 0) {
		if (get_u64(p, vn, "limits.max_datagram", 512, 65000, &v))
			return -1;
		b->c.max_datagram = (uint32_t)v;
	} else if (strcmp(k, "max_resident_cells") == 0) {
		if (get_u64(p, vn, "limits.max_resident_cells", 16, 100000000, &v))
			return -1;
		b->c.max_resident = v;
	} else if (strcmp(k, "max_pending_per_cell") == 0) {
		if (get_u64(p, vn, "limits.max_pending_per_cell", 1, 100000, &v))
			return -1;
		b->c.max_pending = (uint32_t)v;
	} else {
		fail_at(p, kn, "limits: unknown field '%s' (max_connections, max_frame, "
			"max_datagram, max_resident_cells, max_pending_per_cell)", k);
		return -1;
	}
	return 0;
}

static int timing_field(struct parse *p, const char *k, struct fy_node *kn,
			struct fy_node *vn, void *ud)
{
	struct build *b = ud;
	if (strcmp(k, "election_timeout_ms") == 0)
		return get_u64(p, vn, "timing.election_timeout_ms", 1, 600000,
			       &b->c.election_timeout_ms);
	if (strcmp(k, "heartbeat_ms") == 0)
		return get_u64(p, vn, "timing.heartbeat_ms", 1, 600000, &b->c.heartbeat_ms);
	fail_at(p, kn, "timing: unknown field '%s' (election_timeout_ms, heartbeat_ms)", k);
	return -1;
}

struct peer_build {
	struct node_peer peer;
	int has_id, has_peer;
};

static int peer_field(struct parse *p, const char *k, struct fy_node *kn,
		      struct fy_node *vn, void *ud)
{
	struct peer_build *pb = ud;
	if (strcmp(k, "id") == 0) {
		uint64_t v;
		if (get_u64(p, vn, "peers[].id", 1, UINT32_MAX, &v))
			return -1;
		pb->peer.id = (uint32_t)v;
		pb->has_id = 1;
		return 0;
	}
	if (strcmp(k, "peer") == 0) {
		pb->has_peer = 1;
		return get_addr(p, vn, "peers[].peer", &pb->peer.peer);
	}
	if (strcmp(k, "client") == 0) {
		pb->peer.has_client = 1;
		return get_addr(p, vn, "peers[].client", &pb->peer.client);
	}
	fail_at(p, kn, "peers[]: unknown field '%s' (id, peer, client)", k);
	return -1;
}

static int peer_cmp(const void *a, const void *b)
{
	const struct node_peer *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int parse_peers(struct parse *p, struct build *b, struct fy_node *seq)
{
	if (!fy_node_is_sequence(seq)) {
		fail_at(p, seq, "peers: expected a list of {id, peer, client}");
		return -1;
	}
	int n = fy_node_sequence_item_count(seq);
	if (n < 0 || n > NODE_PEERS_MAX) {
		fail_at(p, seq, "peers: at most %d peers", NODE_PEERS_MAX);
		return -1;
	}
	struct node_peer *peers = calloc((size_t)n + 1, sizeof *peers);
	if (peers == NULL)
		return -2;
	void *it = NULL;
	struct fy_node *item;
	size_t i = 0;
	while ((item = fy_node_sequence_iterate(seq, &it)) != NULL) {
		struct peer_build pb;
		memset(&pb, 0, sizeof pb);
		if (each_field(p, item, "peers[]", peer_field, &pb) != 0)
			goto err_after_alloc;
		if (!pb.has_id || !pb.has_peer) {
			fail_at(p, item, "peers[]: each peer needs 'id' and 'peer'");
			goto err_after_alloc;
		}
		for (size_t j = 0; j < i; j++) {
			if (peers[j].id == pb.peer.id) {
				fail_at(p, item, "peers[]: node id %u listed twice", pb.peer.id);
				goto err_after_alloc;
			}
		}
		peers[i++] = pb.peer;
	}
	qsort(peers, i, sizeof *peers, peer_cmp);
	free(b->c.peers);
	b->c.peers = peers;
	b->c.n_peers = i;
	return 0;
err_after_alloc:
	free(peers);
	return -1;
}

static int root_field(struct parse *p, const char *k, struct fy_node *kn,
		      struct fy_node *vn, void *ud)
{
	struct build *b = ud;
	uint64_t v;
	if (strcmp(k, "node_id") == 0) {
		if (get_u64(p, vn, "node_id", 1, UINT32_MAX, &v))
			return -1;
		b->c.node_id = (uint32_t)v;
		b->has_id = 1;
		return 0;
	}
	if (strcmp(k, "listen") == 0)
		return each_field(p, vn, "listen", listen_field, b);
	if (strcmp(k, "data_dir") == 0) {
		b->has_data_dir = 1;
		if (scalar(p, vn, "data_dir", b->c.data_dir, sizeof b->c.data_dir) == NULL)
			return -1;
		if (b->c.data_dir[0] == 0) {
			fail_at(p, vn, "data_dir: must not be empty");
			return -1;
		}
		return 0;
	}
	if (strcmp(k, "keys") == 0)
		return each_field(p, vn, "keys", keys_field, b);
	if (strcmp(k, "limits") == 0)
		return each_field(p, vn, "limits", limits_field, b);
	if (strcmp(k, "timing") == 0)
		return each_field(p, vn, "timing", timing_field, b);
	if (strcmp(k, "peers") == 0)
		return parse_peers(p, b, vn);
	if (strcmp(k, "log_level") == 0) {
		char buf[16];
		if (scalar(p, vn, "log_level", buf, sizeof buf) == NULL)
			return -1;
		static const char *names[] = { "debug", "info", "warn", "error" };
		for (int i = 0; i < 4; i++) {
			if (strcmp(buf, names[i]) == 0) {
				b->c.log_level = i;
				return 0;
			}
		}
		fail_at(p, vn, "log_level: '%s' is not debug, info, warn or error", buf);
		return -1;
	}
	fail_at(p, kn, "unknown field '%s' (node_id, listen, data_dir, keys, peers, "
		"limits, timing, log_level)", k);
	return -1;
}

/* Check the text is UTF-8 without NUL or control bytes (tab, CR, LF
 * allowed) before libfyaml sees it: a config file has no use for them, and
 * libfyaml 0.7 loops forever on some invalid bytes (found by fuzzing).
 * Returns 0, or -1 with line and column (1-based, in bytes) of the bad byte. */
static int check_text(const char *text, size_t len, int *line, int *col)
{
	int l = 1, c = 1;
	for (size_t i = 0; i < len;) {
		unsigned char b = (unsigned char)text[i];
		size_t n = 1;
		if (b == '\n') {
			l++;
			c = 1;
			i++;
			continue;
		}
		if (b < 0x20 && b != '\t' && b != '\r')
			goto bad;
		if (b == 0x7f)
			goto bad;
		if (b >= 0x80) {
			uint32_t cp;
			if (b >= 0xc2 && b <= 0xdf)
				n = 2, cp = b & 0x1f;
			else if (b >= 0xe0 && b <= 0xef)
				n = 3, cp = b & 0x0f;
			else if (b >= 0xf0 && b <= 0xf4)
				n = 4, cp = b & 0x07;
			else
				goto bad;
			if (i + n > len)
				goto bad;
			for (size_t k = 1; k < n; k++) {
				unsigned char cb = (unsigned char)text[i + k];
				if ((cb & 0xc0) != 0x80)
					goto bad;
				cp = cp << 6 | (cb & 0x3f);
			}
			if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
			    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
				goto bad;
		}
		i += n;
		c++;
	}
	return 0;
bad:
	*line = l;
	*col = c;
	return -1;
}

int node_config_parse(const char *text, size_t len, const char *name,
		      struct node_config *out, char *err, size_t errlen)
{
	struct parse p = { .name = name, .err = err, .errlen = errlen };
	if (errlen > 0)
		err[0] = 0;
	int bl, bc;
	if (check_text(text, len, &bl, &bc) != 0) {
		snprintf(err, errlen, "%s:%d:%d: not UTF-8 text (a NUL, control or invalid byte)",
			 name, bl, bc);
		return NODE_ECONFIG;
	}
	struct fy_diag_cfg dc;
	fy_diag_cfg_default(&dc);
	dc.fp = NULL;
	dc.output_fn = NULL;
	dc.colorize = false;
	struct fy_diag *diag = fy_diag_create(&dc);
	if (diag == NULL)
		return NODE_ENOMEM;
	fy_diag_set_collect_errors(diag, true);
	struct fy_parse_cfg pc = { .flags = FYPCF_QUIET | FYPCF_DISABLE_RECYCLING, .diag = diag };
	struct fy_document *doc = fy_document_build_from_string(&pc, text, len);
	if (doc == NULL) {
		void *it = NULL;
		struct fy_diag_error *e = fy_diag_errors_iterate(diag, &it);
		if (e != NULL)
			snprintf(err, errlen, "%s:%d:%d: YAML syntax: %s", name, e->line + 1,
				 e->column + 1, e->msg ? e->msg : "error");
		else
			snprintf(err, errlen, "%s:1:1: YAML syntax error", name);
		fy_diag_destroy(diag);
		return NODE_ECONFIG;
	}
	struct build b;
	memset(&b, 0, sizeof b);
	b.c.log_level = NODE_LOG_INFO;
	b.c.max_connections = 1024;
	b.c.max_frame = 65536;
	b.c.max_datagram = 1400;
	b.c.max_resident = 100000;
	b.c.max_pending = 64;
	struct fy_node *root = fy_document_root(doc);
	int rc = NODE_ECONFIG;
	if (root == NULL) {
		fail_at(&p, NULL, "empty configuration");
		goto out_doc;
	}
	if (each_field(&p, root, "configuration", root_field, &b) != 0) {
		if (!p.failed)
			rc = NODE_ENOMEM;
		goto out_doc;
	}
	if (!b.has_id)
		fail_at(&p, NULL, "missing 'node_id'");
	else if (!b.has_peer_listen)
		fail_at(&p, NULL, "missing 'listen.peers'");
	else if (!b.has_client_listen)
		fail_at(&p, NULL, "missing 'listen.clients'");
	else if (!b.has_data_dir)
		fail_at(&p, NULL, "missing 'data_dir'");
	else if (!b.has_key)
		fail_at(&p, NULL, "missing 'keys.current'");
	if (p.failed)
		goto out_doc;
	*out = b.c;
	b.c.peers = NULL;
	rc = 0;
out_doc:
	free(b.c.peers);
	fy_document_destroy(doc);
	fy_diag_destroy(diag);
	return rc;
}

int node_config_load(const char *path, struct node_config *out, char *err,
		     size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "%s:0:0: cannot open: %s", path, strerror(errno));
		return NODE_ECONFIG;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			if (cap >= (1u << 24)) {
				free(buf);
				fclose(f);
				snprintf(err, errlen, "%s:0:0: file over 16 MiB", path);
				return NODE_ECONFIG;
			}
			cap = cap ? cap * 2 : 4096;
			char *nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NODE_ENOMEM;
			}
			buf = nb;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		if (got == 0)
			break;
		len += got;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		snprintf(err, errlen, "%s:0:0: read error", path);
		return NODE_ECONFIG;
	}
	int rc = node_config_parse(buf ? buf : "", len, path, out, err, errlen);
	free(buf);
	return rc;
}

void node_config_free(struct node_config *c)
{
	free(c->peers);
	c->peers = NULL;
	c->n_peers = 0;
}

const struct node_peer *node_config_peer(const struct node_config *c, uint32_t id)
{
	size_t lo = 0, hi = c->n_peers;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c->peers[mid].id == id)
			return &c->peers[mid];
		if (c->peers[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
