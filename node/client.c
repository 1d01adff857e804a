/* The physalia client library: discovery cache, pointer chasing, retries
 * with exponential backoff and full jitter, request ids for exactly-once.
 *
 * Blocking and single-threaded per struct node_client (use one per thread).
 * One TCP connection per node, opened lazily; one request outstanding per
 * connection at a time (late replies of abandoned attempts are skipped by
 * their corr).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "frame.h"
#include "node.h"

#define ATTEMPT_TIMEOUT_MS 1500
#define MAX_SEEDS 64

struct cnode {
	uint32_t id;        /* 0 for a seed not yet identified */
	struct node_addr addr;
	int fd;
	uint8_t *in;
	size_t in_len, in_cap;
};

struct centry {
	struct centry *next;
	uint8_t pkey[NODE_PKEY_MAX];
	size_t plen;
	uint32_t jury[NODE_JURY_MAX];
	size_t n;           /* 0: unknown */
	uint32_t leader;    /* last proposer hint, 0 unknown */
	uint64_t seq;       /* last request seq used for this cell */
	/* Exactly-once session with this cell: requests go out as (session,
	 * seq); 0 means the client's own id. A cell creates a session when it
	 * applies seq 1 and refuses an unknown session's later seqs
	 * (PH_R_SESSION_EXPIRED), so until seq 1 has had a definite answer the
	 * session is not known to exist: if that first request ends without
	 * one, the next request starts a fresh session at seq 1 instead of
	 * sending a seq the cell would refuse. */
	uint64_t session;
	int established;    /* a consistent request of this session was answered */
	uint64_t eseq;      /* eventual reads' request ids, apart from the session's */
	uint64_t token;     /* highest applied prefix seen (monotonic reads) */
	size_t rr;
};

struct node_client {
	struct cnode *nodes;
	size_t n_nodes, cap_nodes;
	size_t n_seeds;     /* the first n_seeds entries of nodes are the seeds */
	int have_table;
	struct centry *cells[256];
	uint64_t client_id;
	uint64_t corr;
	uint64_t total_ms, first_ms, max_ms;
	uint64_t rng;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t rnd(struct node_client *c)
{
	/* xorshift64*: jitter only, never security */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 2685821657736338717ull;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static struct cnode *add_node(struct node_client *c, uint32_t id, const struct node_addr *a)
{
	if (c->n_nodes == c->cap_nodes) {
		size_t nc = c->cap_nodes ? c->cap_nodes * 2 : 16;
		struct cnode *nn = realloc(c->nodes, nc * sizeof *nn);
		if (nn == NULL)
			return NULL;
		c->nodes = nn;
		c->cap_nodes = nc;
	}
	struct cnode *n = &c->nodes[c->n_nodes++];
	memset(n, 0, sizeof *n);
	n->id = id;
	n->addr = *a;
	n->fd = -1;
	return n;
}

int node_client_new(const char *const *seeds, size_t n, uint64_t client_id,
		    struct node_client **out)
{
	if (n == 0 || n > MAX_SEEDS)
		return NODE_EINVAL;
	struct node_client *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NODE_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct node_addr a;
		if (node_addr_parse(seeds[i], &a) != 0 || add_node(c, 0, &a) == NULL) {
			node_client_free(c);
			return NODE_EINVAL;
		}
	}
	c->n_seeds = n;
	uint64_t seed = (uint64_t)getpid() << 32 ^ now_ms() ^ (uint64_t)(uintptr_t)c;
	int fd = open("/dev/urandom", O_RDONLY);
	if (fd >= 0) {
		if (read(fd, &seed, sizeof seed) != sizeof seed)
			seed ^= 0x9e3779b97f4a7c15ull;
		close(fd);
	}
	c->rng = seed | 1;
	c->client_id = client_id ? client_id : (rnd(c) | 1);
	c->total_ms = 10000;
	c->first_ms = 2;
	c->max_ms = 200;
	*out = c;
	return 0;
}

static void disconnect(struct cnode *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
	n->in_len = 0;
}

void node_client_free(struct node_client *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_nodes; i++) {
		disconnect(&c->nodes[i]);
		free(c->nodes[i].in);
	}
	free(c->nodes);
	for (size_t b = 0; b < 256; b++) {
		struct centry *e = c->cells[b], *nx;
		for (; e; e = nx) {
			nx = e->next;
			free(e);
		}
	}
	free(c);
}

void node_client_set_retry(struct node_client *c, uint64_t total_ms,
			   uint64_t first_backoff_ms, uint64_t max_backoff_ms)
{
	c->total_ms = total_ms;
	c->first_ms = first_backoff_ms ? first_backoff_ms : 1;
	c->max_ms = max_backoff_ms >= c->first_ms ? max_backoff_ms : c->first_ms;
}

void node_result_free(struct node_result *r)
{
	free(r->bytes);
	r->bytes = NULL;
	r->len = 0;
}

/* ---- one connection --------------------------------------------------------- */

static int wait_fd(int fd, short ev, uint64_t deadline)
{
	for (;;) {
		uint64_t now = now_ms();
		if (now >= deadline)
			return NODE_ETIMEDOUT;
		struct pollfd p = { .fd = fd, .events = ev };
		int rc = poll(&p, 1, (int)(deadline - now));
		if (rc > 0)
			return 0;
		if (rc == 0)
			return NODE_ETIMEDOUT;
		if (errno != EINTR)
			return NODE_ECONN;
	}
}

static int connect_node(struct cnode *n, uint64_t deadline)
{
	if (n->fd >= 0)
		return 0;
	int fd = socket(n->addr.sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return NODE_ECONN;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (const struct sockaddr *)&n->addr.sa, n->addr.len) != 0) {
		if (errno != EINPROGRESS) {
			close(fd);
			return NODE_ECONN;
		}
		int rc = wait_fd(fd, POLLOUT, deadline);
		int err = 0;
		socklen_t el = sizeof err;
		if (rc != 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
			close(fd);
			return rc ? rc : NODE_ECONN;
		}
	}
	n->fd = fd;
	n->in_len = 0;
	return 0;
}

static int send_all(struct cnode *n, const uint8_t *b, size_t len, uint64_t deadline)
{
	while (len > 0) {
		ssize_t w = send(n->fd, b, len, MSG_NOSIGNAL);
		if (w > 0) {
			b += w;
			len -= (size_t)w;
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = wait_fd(n->fd, POLLOUT, deadline);
			if (rc != 0)
				return rc;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		return NODE_ECONN;
	}
	return 0;
}

/* Send request f to node n and wait for the reply with the same corr. On
 * success the reply frame's pointers are into n->in, valid until the next
 * call on n; *consumed must be dropped by the caller via drop_frame. */
static int roundtrip(struct node_client *c, struct cnode *n, struct node_frame *f,
		     struct node_frame *reply, size_t *consumed, uint64_t deadline)
{
	int rc = connect_node(n, deadline);
	if (rc != 0)
		return rc;
	f->corr = ++c->corr;
	uint8_t stack[8192];
	size_t cap = node_frame_size(f), len;
	uint8_t *buf = cap <= sizeof stack ? stack : malloc(cap);
	if (buf == NULL)
		return NODE_ENOMEM;
	rc = node_frame_encode(f, buf, cap, &len);
	if (rc == 0)
		rc = send_all(n, buf, len, deadline);
	if (buf != stack)
		free(buf);
	if (rc != 0) {
		disconnect(n);
		return rc;
	}
	for (;;) {
		size_t used;
		rc = node_frame_decode(n->in, n->in_len, 16u << 20, reply, &used);
		if (rc == 0) {
			if (reply->corr == f->corr || reply->corr == 0) {
				*consumed = used;
				return 0;
			}
			memmove(n->in, n->in + used, n->in_len - used); /* a stale reply */
			n->in_len -= used;
			continue;
		}
		if (rc != NODE_ETRUNCATED) {
			disconnect(n);
			return NODE_EMALFORMED;
		}
		if (n->in_cap - n->in_len < 4096) {
			size_t nc = n->in_cap ? n->in_cap * 2 : 16384;
			uint8_t *ni = realloc(n->in, nc);
			if (ni == NULL)
				return NODE_ENOMEM;
			n->in = ni;
			n->in_cap = nc;
		}
		ssize_t r = recv(n->fd, n->in + n->in_len, n->in_cap - n->in_len, 0);
		if (r > 0) {
			n->in_len += (size_t)r;
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			rc = wait_fd(n->fd, POLLIN, deadline);
			if (rc != 0) {
				disconnect(n);
				return rc;
			}
			continue;
		}
		disconnect(n);
		return NODE_ECONN;
	}
}

static void drop_frame(struct cnode *n, size_t used)
{
	memmove(n->in, n->in + used, n->in_len - used);
	n->in_len -= used;
}

/* ---- node table and discovery cache ----------------------------------------- */

static struct cnode *node_by_id(struct node_client *c, uint32_t id)
{
	for (size_t i = 0; i < c->n_nodes; i++)
		if (c->nodes[i].id == id)
			return &c->nodes[i];
	return NULL;
}

/* Fetch the node table (id -> client address) from any reachable node. */
static int refresh_table(struct node_client *c, uint64_t deadline)
{
	for (size_t k = 0; k < c->n_nodes; k++) {
		size_t i = (k + (size_t)rnd(c)) % c->n_nodes;
		struct cnode *n = &c->nodes[i];
		struct node_frame f, r;
		memset(&f, 0, sizeof f);
		f.type = NODE_REQ_NODES;
		size_t used;
		uint64_t dl = now_ms() + ATTEMPT_TIMEOUT_MS;
		if (dl > deadline)
			dl = deadline;
		if (roundtrip(c, n, &f, &r, &used, dl) != 0)
			continue;
		if (r.status != NODE_ST_OK || r.type != (NODE_REPLY | NODE_REQ_NODES)) {
			drop_frame(n, used);
			continue;
		}
		size_t off = 0;
		uint32_t id;
		char text[64];
		struct node_frame copy = r;
		uint8_t *data = malloc(r.data_len ? r.data_len : 1);
		if (data == NULL)
			return NODE_ENOMEM;
		memcpy(data, r.data, r.data_len);
		copy.data = data;
		drop_frame(n, used);
		while (node_frame_nodes_next(&copy, &off, &id, text, sizeof text)) {
			struct node_addr a;
			if (text[0] == 0 || node_addr_parse(text, &a) != 0)
				continue;
			struct cnode *have = node_by_id(c, id);
			if (have == NULL) {
				/* a seed with the same address becomes that node */
				for (size_t s = 0; s < c->n_seeds; s++)
					if (c->nodes[s].id == 0 && strcmp(c->nodes[s].addr.text, text) == 0)
						have = &c->nodes[s], have->id = id;
			}
			if (have == NULL && add_node(c, id, &a) == NULL) {
				free(data);
				return NODE_ENOMEM;
			}
		}
		free(data);
		c->have_table = 1;
		return 0;
	}
	return NODE_EUNAVAIL;
}

static struct cnode *resolve(struct node_client *c, uint32_t id, uint64_t deadline)
{
	struct cnode *n = node_by_id(c, id);
	if (n == NULL && refresh_table(c, deadline) == 0)
		n = node_by_id(c, id);
	return n;
}

static struct centry *entry(struct node_client *c, const void *pkey, size_t plen)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < plen; i++)
		h = (h ^ ((const uint8_t *)pkey)[i]) * 1099511628211ull;
	struct centry **b = &c->cells[h & 255];
	for (struct centry *e = *b; e; e = e->next)
		if (e->plen == plen && memcmp(e->pkey, pkey, plen) == 0)
			return e;
	struct centry *e = calloc(1, sizeof *e);
	if (e == NULL)
		return NULL;
	memcpy(e->pkey, pkey, plen);
	e->plen = plen;
	e->next = *b;
	*b = e;
	return e;
}

/* Ask nodes which jury serves pkey: the cached jury first, then the seeds,
 * then every known node; chase forwarding pointers. The old entry is kept
 * when nobody answers. */
static int discover(struct node_client *c, struct centry *e, uint64_t deadline)
{
	uint32_t ask[NODE_JURY_MAX + MAX_SEEDS];
	size_t na = 0;
	for (size_t i = 0; i < e->n; i++)
		ask[na++] = e->jury[i];
	int nocell = 0;
	for (int hop = 0; hop < 4; hop++) {
		int forwarded = 0;
		for (size_t k = 0; k < na + c->n_nodes && !forwarded; k++) {
			struct cnode *n = k < na ? resolve(c, ask[k], deadline) : &c->nodes[k - na];
			if (n == NULL || now_ms() >= deadline)
				continue;
			struct node_frame f, r;
			memset(&f, 0, sizeof f);
			f.type = NODE_REQ_DISCOVER;
			f.pkey = e->pkey;
			f.pkey_len = (uint8_t)e->plen;
			size_t used;
			uint64_t dl = now_ms() + ATTEMPT_TIMEOUT_MS;
			if (roundtrip(c, n, &f, &r, &used, dl < deadline ? dl : deadline) != 0)
				continue;
			if (r.status == NODE_ST_NOCELL)
				nocell++;
			if (r.status != NODE_ST_OK || r.n_ids == 0) {
				drop_frame(n, used);
				continue;
			}
			memcpy(e->jury, r.ids, r.n_ids * sizeof *r.ids);
			e->n = r.n_ids;
			int kind = r.disc_kind;
			drop_frame(n, used);
			if (kind == NODE_DISC_SERVING)
				return 0;
			/* forwarding pointer or cache entry: ask the named jury */
			na = 0;
			for (size_t i = 0; i < e->n; i++)
				ask[na++] = e->jury[i];
			forwarded = 1;
		}
		if (!forwarded)
			break;
	}
	if (e->n > 0)
		return 0;
	return nocell ? NODE_ENOCELL : NODE_EUNAVAIL;
}

int node_client_discover(struct node_client *c, const void *pkey, size_t pkey_len,
			 uint32_t *jury, size_t *n)
{
	if (pkey_len == 0 || pkey_len > NODE_PKEY_MAX)
		return NODE_EINVAL;
	struct centry *e = entry(c, pkey, pkey_len);
	if (e == NULL)
		return NODE_ENOMEM;
	int rc = discover(c, e, now_ms() + c->total_ms);
	if (rc != 0)
		return rc;
	memcpy(jury, e->jury, e->n * sizeof *jury);
	*n = e->n;
	return 0;
}

/* ---- transactions ------------------------------------------------------------- */

static uint64_t backoff(struct node_client *c, unsigned attempt)
{
	uint64_t cap = c->first_ms << (attempt < 20 ? attempt : 20);
	if (cap > c->max_ms)
		cap = c->max_ms;
	return rnd(c) % (cap + 1); /* full jitter */
}

static uint32_t pick(struct node_client *c, struct centry *e, int eventual)
{
	if (e->n == 0)
		return 0;
	if (!eventual && e->leader) {
		for (size_t i = 0; i < e->n; i++)
			if (e->jury[i] == e->leader)
				return e->leader;
	}
	if (eventual && e->rr == 0)
		e->rr = (size_t)rnd(c);
	return e->jury[e->rr++ % e->n];
}

int node_client_txn(struct node_client *c, const void *pkey, size_t pkey_len,
		    const void *txn, size_t txn_len, enum node_consistency cons,
		    struct node_result *out)
{
	if (pkey_len == 0 || pkey_len > NODE_PKEY_MAX || txn_len > UINT32_MAX ||
	    (cons != NODE_CONSISTENT && cons != NODE_EVENTUAL))
		return NODE_EINVAL;
	struct centry *e = entry(c, pkey, pkey_len);
	if (e == NULL)
		return NODE_ENOMEM;
	uint64_t deadline = now_ms() + c->total_ms;
	/* Eventual reads bypass the log: they neither use nor create a
	 * session, so they take ids from a range of their own (unique per
	 * client, never a session seq). */
	int logged = cons == NODE_CONSISTENT;
	if (logged && !e->established && e->seq > 0) {
		/* the first request of this session got no definite answer */
		do
			e->session = rnd(c);
		while (e->session == 0 || e->session == c->client_id);
		e->seq = 0;
	}
	uint64_t seq = logged ? ++e->seq : (UINT64_C(1) << 62) + ++e->eseq; /* one id for every retry below */
	int last = NODE_ETIMEDOUT;
	for (unsigned attempt = 0;; attempt++) {
		if (attempt > 0) {
			uint64_t b = backoff(c, attempt - 1);
			if (now_ms() + b >= deadline)
				return last;
			sleep_ms(b);
		}
		if (e->n == 0) {
			int rc = discover(c, e, deadline);
			if (rc != 0) {
				last = rc;
				if (now_ms() >= deadline)
					return last;
				continue;
			}
		}
		uint32_t id = pick(c, e, cons == NODE_EVENTUAL);
		struct cnode *n = resolve(c, id, deadline);
		if (n == NULL) {
			last = NODE_EUNAVAIL;
			e->leader = 0;
			continue;
		}
		struct node_frame f, r;
		memset(&f, 0, sizeof f);
		f.type = NODE_REQ_TXN;
		f.client_id = e->session ? e->session : c->client_id;
		f.seq = seq;
		f.consistency = (uint8_t)cons;
		f.token = cons == NODE_EVENTUAL ? e->token : 0;
		f.pkey = e->pkey;
		f.pkey_len = (uint8_t)e->plen;
		f.data = txn;
		f.data_len = (uint32_t)txn_len;
		size_t used;
		uint64_t dl = now_ms() + ATTEMPT_TIMEOUT_MS;
		int rc = roundtrip(c, n, &f, &r, &used, dl < deadline ? dl : deadline);
		if (rc != 0) {
			last = rc == NODE_ENOMEM ? rc : NODE_ETIMEDOUT;
			if (rc == NODE_ENOMEM)
				return rc;
			e->leader = 0; /* try another member next */
			if (now_ms() >= deadline)
				return last;
			continue;
		}
		switch (r.status) {
		case NODE_ST_OK: {
			uint8_t *b = malloc(r.data_len ? r.data_len : 1);
			if (b == NULL) {
				drop_frame(n, used);
				return NODE_ENOMEM;
			}
			memcpy(b, r.data, r.data_len);
			out->outcome = r.outcome;
			out->bytes = b;
			out->len = r.data_len;
			out->served_by = n->id;
			if (r.token > e->token)
				e->token = r.token;
			if (cons == NODE_CONSISTENT) {
				e->leader = n->id;
				e->established = 1;
			}
			drop_frame(n, used);
			return 0;
		}
		case NODE_ST_NOTLEADER:
			e->leader = r.hint;
			last = NODE_ENOTLEADER;
			drop_frame(n, used);
			if (r.hint && attempt < 2)
				attempt = 0; /* follow a fresh hint at once */
			continue;
		case NODE_ST_NOCELL:
			e->n = 0; /* moved or not created here: rediscover */
			e->leader = 0;
			last = NODE_ENOCELL;
			drop_frame(n, used);
			continue;
		case NODE_ST_BUSY:
		case NODE_ST_OVERLOAD:
		case NODE_ST_STOPPING:
		case NODE_ST_BEHIND:
			last = node_status_to_error(r.status);
			e->leader = r.status == NODE_ST_BUSY ? e->leader : 0;
			drop_frame(n, used);
			if (r.status == NODE_ST_OVERLOAD || r.status == NODE_ST_STOPPING)
				disconnect(n);
			continue;
		default:
			rc = node_status_to_error(r.status);
			drop_frame(n, used);
			return rc;
		}
	}
}

/* ---- cells and status ----------------------------------------------------------- */

int node_client_cell_create(struct node_client *c, const void *pkey, size_t pkey_len,
			    const uint32_t *jury, size_t n)
{
	if (pkey_len == 0 || pkey_len > NODE_PKEY_MAX || n < 3 || n > NODE_JURY_MAX)
		return NODE_EINVAL;
	uint64_t deadline = now_ms() + c->total_ms;
	int done[NODE_JURY_MAX] = { 0 };
	size_t left = n;
	for (unsigned attempt = 0; left > 0; attempt++) {
		if (attempt > 0) {
			uint64_t b = backoff(c, attempt - 1) + 1;
			if (now_ms() + b >= deadline)
				return NODE_EUNAVAIL;
			sleep_ms(b);
		}
		for (size_t i = 0; i < n; i++) {
			if (done[i])
				continue;
			struct cnode *nd = resolve(c, jury[i], deadline);
			if (nd == NULL)
				continue;
			struct node_frame f, r;
			memset(&f, 0, sizeof f);
			f.type = NODE_REQ_CREATE;
			f.pkey = pkey;
			f.pkey_len = (uint8_t)pkey_len;
			f.n_ids = (uint8_t)n;
			memcpy(f.ids, jury, n * sizeof *jury);
			size_t used;
			uint64_t dl = now_ms() + ATTEMPT_TIMEOUT_MS;
			if (roundtrip(c, nd, &f, &r, &used, dl < deadline ? dl : deadline) != 0)
				continue;
			int st = r.status;
			drop_frame(nd, used);
			if (st == NODE_ST_OK) {
				done[i] = 1;
				left--;
			} else if (st == NODE_ST_EXISTS || st == NODE_ST_ERROR) {
				return node_status_to_error((uint8_t)st);
			}
		}
	}
	struct centry *e = entry(c, pkey, pkey_len);
	if (e != NULL) {
		memcpy(e->jury, jury, n * sizeof *jury);
		e->n = n;
	}
	return 0;
}

static int text_query(struct node_client *c, struct node_frame *f, uint32_t node_id,
		      char **text)
{
	uint64_t deadline = now_ms() + c->total_ms;
	for (unsigned attempt = 0;; attempt++) {
		if (attempt > 0) {
			uint64_t b = backoff(c, attempt - 1) + 1;
			if (now_ms() + b >= deadline)
				return NODE_EUNAVAIL;
			sleep_ms(b);
		}
		struct cnode *n = node_id ? resolve(c, node_id, deadline)
					  : &c->nodes[(size_t)rnd(c) % c->n_nodes];
		if (n == NULL)
			return NODE_EUNAVAIL;
		struct node_frame r;
		size_t used;
		uint64_t dl = now_ms() + ATTEMPT_TIMEOUT_MS;
		if (roundtrip(c, n, f, &r, &used, dl < deadline ? dl : deadline) != 0)
			continue;
		if (r.status != NODE_ST_OK) {
			int rc = node_status_to_error(r.status);
			drop_frame(n, used);
			return rc;
		}
		char *t = malloc((size_t)r.data_len + 1);
		if (t == NULL) {
			drop_frame(n, used);
			return NODE_ENOMEM;
		}
		memcpy(t, r.data, r.data_len);
		t[r.data_len] = 0;
		drop_frame(n, used);
		*text = t;
		return 0;
	}
}

int node_client_cell_status(struct node_client *c, const void *pkey, size_t pkey_len,
			    uint32_t node_id, char **text)
{
	if (pkey_len == 0 || pkey_len > NODE_PKEY_MAX)
		return NODE_EINVAL;
	struct node_frame f;
	memset(&f, 0, sizeof f);
	f.type = NODE_REQ_CELL_STATUS;
	f.pkey = pkey;
	f.pkey_len = (uint8_t)pkey_len;
	return text_query(c, &f, node_id, text);
}

int node_client_node_status(struct node_client *c, uint32_t node_id, char **text)
{
	struct node_frame f;
	memset(&f, 0, sizeof f);
	f.type = NODE_REQ_NODE_STATUS;
	return text_query(c, &f, node_id, text);
}
