/* The impairment engine: NFQUEUE hold-and-release through libnl-nf.
 *
 * The kernel here has no sch_netem, so delay, jitter, reordering, duplication,
 * corruption and seeded loss are done in user space: a netfilter rule on the
 * forward (or receive) path sends packets to queue N; this engine reads each
 * one, asks chaos_decide() its fate, and gives the kernel a verdict now
 * (deliver, drop, corrupt) or later (delay, reorder). Duplicates are the
 * original plus a copy injected through a raw socket in the same namespace.
 *
 * Fail-closed: the queue is bound without NFQA_CFG_F_FAIL_OPEN and the rule
 * without --queue-bypass, so a packet nobody gives a verdict to is dropped,
 * never let through untouched. When the engine falls behind, the kernel's
 * queue fills and drops; chaos_impair_drain() reads those counters from
 * /proc/net/netfilter/nfnetlink_queue and the runner marks the run invalid.
 *
 * Auto-ack is off: a verdict is a one-way message, so the engine never waits
 * for the kernel per packet. Every decision is counted per (second, link) and
 * written as one text line per link and second: exact counts. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/netfilter.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <netlink/msg.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/netfilter/queue.h>
#include <netlink/netfilter/queue_msg.h>
#include <netlink/netlink.h>

#include "chaos.h"

#define RULE_SLOTS 256
#define LINK_SLOTS 4096     /* distinct (src, dst) pairs tracked */
#define QUEUE_MAXLEN 65536 /* packets the kernel may hold for us */
#define MAX_PACKET 65535

struct rule {
	uint32_t src, smask, dst, dmask;
	struct chaos_link_policy p;
};

struct link {
	uint32_t src, dst;
	int used;
	struct chaos_link_state st;
	struct chaos_link_count cur; /* counts for second cur.second */
	int dirty;
};

/* A packet waiting for its verdict. */
struct held {
	uint64_t due_ns;
	uint64_t seq;     /* tie-break: equal due times keep arrival order */
	uint32_t id;
	uint8_t *payload; /* only when it must be re-sent modified or copied */
	int len;
	int dup;          /* inject a copy at release */
	int corrupt;      /* payload was modified: verdict with payload */
};

struct chaos_impair {
	struct nl_sock *sk;
	struct nfnl_queue *queue;
	uint16_t group;
	uint64_t seed;
	FILE *records;
	int raw;          /* raw IPv4 socket for duplicates */
	uint64_t start_ns;
	struct rule rules[RULE_SLOTS];
	size_t nrules;
	struct link *links; /* LINK_SLOTS, open addressing */
	struct held *heap;
	size_t nheld, cap;
	uint64_t seq;
	uint64_t record_second;
	struct chaos_impair_stats stats;
	int failed;       /* a netlink error seen inside a callback */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ----------------------------------------------------------------- heap */

static int held_before(const struct held *a, const struct held *b)
{
	return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

static int heap_push(struct chaos_impair *im, const struct held *h)
{
	if (im->nheld == im->cap) {
		size_t nc = im->cap ? im->cap * 2 : 1024;
		struct held *n = realloc(im->heap, nc * sizeof *n);
		if (n == NULL)
			return CHAOS_ENOMEM;
		im->heap = n;
		im->cap = nc;
	}
	size_t i = im->nheld++;
	im->heap[i] = *h;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!held_before(&im->heap[i], &im->heap[parent]))
			break;
		struct held t = im->heap[i];
		im->heap[i] = im->heap[parent];
		im->heap[parent] = t;
		i = parent;
	}
	if (im->nheld > im->stats.held_max)
		im->stats.held_max = im->nheld;
	return 0;
}

static struct held heap_pop(struct chaos_impair *im)
{
	struct held top = im->heap[0];
	im->heap[0] = im->heap[--im->nheld];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < im->nheld && held_before(&im->heap[l], &im->heap[m]))
			m = l;
		if (r < im->nheld && held_before(&im->heap[r], &im->heap[m]))
			m = r;
		if (m == i)
			break;
		struct held t = im->heap[i];
		im->heap[i] = im->heap[m];
		im->heap[m] = t;
		i = m;
	}
	return top;
}

/* -------------------------------------------------------------- records */

static void flush_link(struct chaos_impair *im, struct link *l)
{
	if (!l->dirty)
		return;
	if (im->records != NULL) {
		char s[16], d[16];
		struct in_addr a = { htonl(l->src) }, b = { htonl(l->dst) };
		inet_ntop(AF_INET, &a, s, sizeof s);
		inet_ntop(AF_INET, &b, d, sizeof d);
		const uint64_t *c = l->cur.count;
		fprintf(im->records,
			"%" PRIu64 " %s %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
			" %" PRIu64 " %" PRIu64 "\n",
			l->cur.second, s, d, c[CHAOS_V_DELIVER], c[CHAOS_V_DROP], c[CHAOS_V_DELAY],
			c[CHAOS_V_REORDER], c[CHAOS_V_DUPLICATE], c[CHAOS_V_CORRUPT],
			l->cur.delay_us_sum);
	}
	memset(l->cur.count, 0, sizeof l->cur.count);
	l->cur.delay_us_sum = 0;
	l->dirty = 0;
}

static void flush_all(struct chaos_impair *im)
{
	for (size_t i = 0; i < LINK_SLOTS; i++)
		if (im->links[i].used)
			flush_link(im, &im->links[i]);
	if (im->records != NULL)
		fflush(im->records);
}

static struct link *link_of(struct chaos_impair *im, uint32_t src, uint32_t dst)
{
	uint64_t h = ((uint64_t)src * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)dst * 0xc2b2ae3d27d4eb4fULL);
	for (size_t probe = 0; probe < LINK_SLOTS; probe++) {
		struct link *l = &im->links[(h + probe) % LINK_SLOTS];
		if (l->used && l->src == src && l->dst == dst)
			return l;
		if (!l->used) {
			memset(l, 0, sizeof *l);
			l->used = 1;
			l->src = src;
			l->dst = dst;
			l->cur.src = src;
			l->cur.dst = dst;
			return l;
		}
	}
	return NULL;
}

static void count(struct chaos_impair *im, struct link *l, enum chaos_verdict v, uint32_t delay_us)
{
	uint64_t second = (now_ns() - im->start_ns) / 1000000000ull;
	if (second != im->record_second) {
		/* A new second: every link's previous second is complete. */
		flush_all(im);
		im->record_second = second;
	}
	if (l->dirty && l->cur.second != second)
		flush_link(im, l);
	l->cur.second = second;
	l->cur.count[v]++;
	if (v != CHAOS_V_DROP)
		l->cur.delay_us_sum += delay_us;
	l->dirty = 1;
}

/* ------------------------------------------------------------- verdicts */

static int send_verdict(struct chaos_impair *im, uint32_t id, unsigned verdict,
			const uint8_t *payload, int len)
{
	struct nfnl_queue_msg *m = nfnl_queue_msg_alloc();
	if (m == NULL)
		return CHAOS_ENOMEM;
	nfnl_queue_msg_set_group(m, im->group);
	nfnl_queue_msg_set_family(m, AF_INET);
	nfnl_queue_msg_set_packetid(m, id);
	nfnl_queue_msg_set_verdict(m, verdict);
	int err = payload != NULL ? nfnl_queue_msg_send_verdict_payload(im->sk, m, payload, (unsigned)len)
				  : nfnl_queue_msg_send_verdict(im->sk, m);
	nfnl_queue_msg_put(m);
	im->stats.verdicts++;
	return err < 0 ? CHAOS_ENETLINK : 0;
}

/* The IPv4 header checksum over hl bytes. */
static uint16_t ip_sum(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* Flips one byte of the transport payload. For UDP the checksum is then
 * recomputed, so the packet reaches the receiving process and its HMAC check
 * is what rejects it (as with corruption a NIC's checksum offload let
 * through). For other protocols the checksum is left as is: the receiver's
 * kernel drops it, as a real network's corruption mostly ends. Returns 0
 * when a byte was flipped. */
static int corrupt(uint8_t *pkt, int len, uint32_t at)
{
	if (len < 20)
		return -1;
	int hl = (pkt[0] & 0x0f) * 4;
	int proto = pkt[9];
	int thl = proto == IPPROTO_UDP ? 8 : proto == IPPROTO_TCP && len >= hl + 20 ? (pkt[hl + 12] >> 4) * 4 : 0;
	if (hl < 20 || hl + thl >= len)
		return -1;
	int off = hl + thl + (int)(at % (uint32_t)(len - hl - thl));
	pkt[off] ^= 0x5a;
	if (proto == IPPROTO_UDP) {
		uint8_t *u = pkt + hl;
		int ulen = u[4] << 8 | u[5];
		if (ulen < 8 || hl + ulen > len)
			return 0;
		u[6] = u[7] = 0;
		uint32_t acc = 0;
		/* pseudo-header: src, dst, proto, length */
		acc += ip_sum(pkt + 12, 8, 0);
		acc += IPPROTO_UDP + (uint32_t)ulen;
		uint16_t s = (uint16_t)~ip_sum(u, (size_t)ulen, acc);
		if (s == 0)
			s = 0xffff;
		u[6] = (uint8_t)(s >> 8);
		u[7] = (uint8_t)s;
	}
	return 0;
}

/* Injects a copy of an IPv4 packet through the raw socket. */
static void inject(struct chaos_impair *im, const uint8_t *pkt, int len)
{
	if (im->raw < 0 || len < 20)
		return;
	struct sockaddr_in to = { .sin_family = AF_INET };
	memcpy(&to.sin_addr, pkt + 16, 4);
	if (sendto(im->raw, pkt, (size_t)len, 0, (struct sockaddr *)&to, sizeof to) == len)
		im->stats.dup_sent++;
	else
		im->stats.errors++;
}

static const struct chaos_link_policy *policy_for(const struct chaos_impair *im, uint32_t src,
						   uint32_t dst)
{
	for (size_t i = im->nrules; i-- > 0;) {
		const struct rule *r = &im->rules[i];
		if ((src & r->smask) == r->src && (dst & r->dmask) == r->dst)
			return &r->p;
	}
	return NULL;
}

static int release(struct chaos_impair *im, struct held *h)
{
	int rc = send_verdict(im, h->id, NF_ACCEPT, h->corrupt ? h->payload : NULL, h->len);
	if (h->dup && h->payload != NULL)
		inject(im, h->payload, h->len);
	free(h->payload);
	return rc;
}

static int on_packet(struct chaos_impair *im, struct nfnl_queue_msg *qm)
{
	uint32_t id = nfnl_queue_msg_get_packetid(qm);
	int len = 0;
	const uint8_t *data = nfnl_queue_msg_get_payload(qm, &len);
	im->stats.packets++;
	if (data == NULL || len < 20 || (data[0] >> 4) != 4 || len > MAX_PACKET) {
		/* Not IPv4 we can read: delivered untouched, counted. */
		im->stats.errors++;
		return send_verdict(im, id, NF_ACCEPT, NULL, 0);
	}
	uint32_t src, dst;
	memcpy(&src, data + 12, 4);
	memcpy(&dst, data + 16, 4);
	src = ntohl(src);
	dst = ntohl(dst);

	struct link *l = link_of(im, src, dst);
	const struct chaos_link_policy *p = policy_for(im, src, dst);
	struct chaos_decision d = { CHAOS_V_DELIVER, 0, 0 };
	if (p != NULL && l != NULL)
		chaos_decide(p, im->seed, src, dst, &l->st, &d);
	if (l != NULL)
		count(im, l, d.verdict, d.delay_us);
	else
		im->stats.errors++; /* link table full: delivered, counted as error */

	if (d.verdict == CHAOS_V_DROP)
		return send_verdict(im, id, NF_DROP, NULL, 0);

	struct held h = { now_ns() + (uint64_t)d.delay_us * 1000ull, im->seq++, id, NULL, len, 0, 0 };
	if (d.verdict == CHAOS_V_CORRUPT || d.verdict == CHAOS_V_DUPLICATE) {
		h.payload = malloc((size_t)len);
		if (h.payload == NULL)
			return send_verdict(im, id, NF_DROP, NULL, 0);
		memcpy(h.payload, data, (size_t)len);
		if (d.verdict == CHAOS_V_CORRUPT)
			h.corrupt = corrupt(h.payload, len, d.corrupt_at) == 0;
		else
			h.dup = 1;
	}
	if (d.delay_us == 0)
		return release(im, &h);
	int rc = heap_push(im, &h);
	if (rc != 0) {
		free(h.payload);
		return send_verdict(im, id, NF_DROP, NULL, 0);
	}
	return 0;
}

static int on_msg(struct nl_msg *msg, void *arg)
{
	struct chaos_impair *im = arg;
	struct nfnl_queue_msg *qm = NULL;
	if (nfnlmsg_queue_msg_parse(nlmsg_hdr(msg), &qm) < 0 || qm == NULL) {
		im->stats.errors++;
		return NL_OK;
	}
	if (on_packet(im, qm) != 0)
		im->failed = 1;
	nfnl_queue_msg_put(qm);
	return NL_OK;
}

/* ------------------------------------------------------------ lifecycle */

int chaos_impair_open(uint16_t queue_num, uint64_t seed, FILE *records, struct chaos_impair **out)
{
	int rc = CHAOS_ENOMEM;
	struct chaos_impair *im = calloc(1, sizeof *im);
	if (im == NULL)
		return CHAOS_ENOMEM;
	im->links = calloc(LINK_SLOTS, sizeof *im->links);
	if (im->links == NULL)
		goto err_after_alloc;
	im->group = queue_num;
	im->seed = seed;
	im->records = records;
	im->raw = -1;
	im->start_ns = now_ns();

	im->sk = nfnl_queue_socket_alloc();
	if (im->sk == NULL)
		goto err_after_links;
	nl_socket_disable_seq_check(im->sk);
	nl_socket_disable_auto_ack(im->sk);
	if (nfnl_connect(im->sk) < 0) {
		rc = CHAOS_ENETLINK;
		goto err_after_socket;
	}
	/* A large receive buffer: bursts are absorbed, and if we still fall
	 * behind the kernel counts it (user_dropped), which invalidates the run. */
	nl_socket_set_buffer_size(im->sk, 8 << 20, 1 << 20);
	nl_socket_modify_cb(im->sk, NL_CB_VALID, NL_CB_CUSTOM, on_msg, im);

	im->queue = nfnl_queue_alloc();
	if (im->queue == NULL)
		goto err_after_connect;
	nfnl_queue_set_group(im->queue, queue_num);
	nfnl_queue_set_copy_mode(im->queue, NFNL_QUEUE_COPY_PACKET);
	nfnl_queue_set_copy_range(im->queue, 0xffff);
	nfnl_queue_set_maxlen(im->queue, QUEUE_MAXLEN);
	int err = nfnl_queue_create(im->sk, im->queue);
	if (err < 0) {
		rc = err == -NLE_PERM ? CHAOS_EPERM : CHAOS_ENETLINK;
		goto err_after_queue;
	}
	nl_socket_set_nonblocking(im->sk);

	im->raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	/* Without a raw socket duplicates cannot be injected; they are then
	 * counted as errors (visible in the stats), not silently delivered once. */
	*out = im;
	return 0;

err_after_queue:
	nfnl_queue_put(im->queue);
err_after_connect:
	nl_close(im->sk);
err_after_socket:
	nl_socket_free(im->sk);
err_after_links:
	free(im->links);
err_after_alloc:
	free(im);
	return rc;
}

static uint32_t mask_of(int len)
{
	return len <= 0 ? 0 : len >= 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1);
}

int chaos_impair_set(struct chaos_impair *im, uint32_t src, int srclen, uint32_t dst, int dstlen,
		     const struct chaos_link_policy *p)
{
	if (srclen < 0 || srclen > 32 || dstlen < 0 || dstlen > 32)
		return CHAOS_EINVAL;
	if (im->nrules == RULE_SLOTS)
		return CHAOS_ELIMIT;
	struct rule *r = &im->rules[im->nrules++];
	r->smask = mask_of(srclen);
	r->dmask = mask_of(dstlen);
	r->src = src & r->smask;
	r->dst = dst & r->dmask;
	r->p = *p;
	return 0;
}

void chaos_impair_clear(struct chaos_impair *im)
{
	im->nrules = 0;
}

int chaos_impair_fd(const struct chaos_impair *im)
{
	return nl_socket_get_fd(im->sk);
}

int chaos_impair_timeout_ms(const struct chaos_impair *im)
{
	if (im->nheld == 0)
		return -1;
	uint64_t now = now_ns();
	if (im->heap[0].due_ns <= now)
		return 0;
	uint64_t ms = (im->heap[0].due_ns - now + 999999) / 1000000;
	return ms > 60000 ? 60000 : (int)ms;
}

static int release_due(struct chaos_impair *im, uint64_t until)
{
	int rc = 0;
	while (im->nheld > 0 && im->heap[0].due_ns <= until) {
		struct held h = heap_pop(im);
		if (release(im, &h) != 0)
			rc = CHAOS_ENETLINK;
	}
	return rc;
}

int chaos_impair_poll(struct chaos_impair *im)
{
	int rc = 0;
	/* Drain the socket (non-blocking); each message gets decided. Bounded
	 * per call so held packets are released on time under load. */
	for (int i = 0; i < 256; i++) {
		int err = nl_recvmsgs_default(im->sk);
		if (err == -NLE_AGAIN)
			break;
		if (err == -NLE_NOMEM) {
			/* ENOBUFS: the kernel dropped messages for us; it counts
			 * them as user_dropped, read at drain. */
			continue;
		}
		if (err < 0) {
			rc = CHAOS_ENETLINK;
			break;
		}
		if (release_due(im, now_ns()) != 0)
			rc = CHAOS_ENETLINK;
	}
	if (release_due(im, now_ns()) != 0)
		rc = CHAOS_ENETLINK;
	if (im->failed) {
		im->failed = 0;
		rc = CHAOS_ENETLINK;
	}
	return rc;
}

/* Reads this namespace's queue counters: queue_dropped (queue full) and
 * user_dropped (netlink overrun). */
static void read_kernel_drops(struct chaos_impair *im)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "r");
	if (f == NULL)
		return;
	unsigned q, portid, total, mode, range, qdrop, udrop, idseq, one;
	while (fscanf(f, "%u %u %u %u %u %u %u %u %u", &q, &portid, &total, &mode, &range, &qdrop,
		      &udrop, &idseq, &one) == 9) {
		if (q == im->group) {
			im->stats.queue_dropped = qdrop;
			im->stats.user_dropped = udrop;
		}
	}
	fclose(f);
}

int chaos_impair_drain(struct chaos_impair *im)
{
	int rc = release_due(im, UINT64_MAX);
	flush_all(im);
	read_kernel_drops(im);
	if (rc == 0 && (im->stats.queue_dropped > 0 || im->stats.user_dropped > 0))
		rc = CHAOS_EBEHIND;
	return rc;
}

void chaos_impair_stats(struct chaos_impair *im, struct chaos_impair_stats *out)
{
	read_kernel_drops(im);
	*out = im->stats;
}

void chaos_impair_close(struct chaos_impair *im)
{
	if (im == NULL)
		return;
	for (size_t i = 0; i < im->nheld; i++)
		free(im->heap[i].payload);
	free(im->heap);
	flush_all(im);
	nfnl_queue_delete(im->sk, im->queue);
	nfnl_queue_put(im->queue);
	nl_close(im->sk);
	nl_socket_free(im->sk);
	if (im->raw >= 0)
		close(im->raw);
	free(im->links);
	free(im);
}
