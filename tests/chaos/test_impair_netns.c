/* The impairment engine on real packets (label netns): two hosts and a
 * router in namespaces this test makes; UDP datagrams from a to b cross the
 * router's NFQUEUE, where physalia-chaos impair decides their fate.
 * Each case checks what really arrived against the engine's records:
 * drops really dropped, delays really delayed, reorders really reordered,
 * duplicates really doubled, corruptions really seen by the receiver's own
 * check, exact counts; plus fail-closed without an engine, partitions by
 * netfilter with exact counters, and replay of the same seed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chaos.h"
#include "internal.h"
#include "nsfix.h"

#define PORT 9000
#define PAYLOAD 200

static struct nsfix fix;

struct pkt {
	uint32_t seq;
	uint64_t sent_ns;
	uint8_t pad[PAYLOAD - 4 - 8 - 8];
	uint64_t sum; /* FNV-1a over everything before it */
} __attribute__((packed));

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

struct received {
	uint32_t seq[20000];
	uint64_t delay_ns[20000];
	int bad[20000];
	size_t n;
};

struct link {
	int tx, rx;
	struct sockaddr_in to;
};

static void link_open(struct link *l)
{
	l->tx = nsfix_udp_socket(fix.a);
	l->rx = nsfix_udp_socket(fix.b);
	ck_assert_int_ge(l->tx, 0);
	ck_assert_int_ge(l->rx, 0);
	int big = 8 << 20;
	setsockopt(l->rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	inet_pton(AF_INET, NSFIX_B, &me.sin_addr);
	ck_assert_int_eq(bind(l->rx, (struct sockaddr *)&me, sizeof me), 0);
	l->to = me;
}

static void link_close(struct link *l)
{
	close(l->tx);
	close(l->rx);
}

static void send_one(struct link *l, uint32_t seq)
{
	struct pkt p;
	memset(&p, 0, sizeof p);
	p.seq = seq;
	for (size_t i = 0; i < sizeof p.pad; i++)
		p.pad[i] = (uint8_t)(seq * 31 + i);
	p.sent_ns = now_ns();
	p.sum = fnv((const uint8_t *)&p, offsetof(struct pkt, sum));
	ck_assert_int_eq(sendto(l->tx, &p, sizeof p, 0, (struct sockaddr *)&l->to, sizeof l->to),
			 (ssize_t)sizeof p);
}

/* Sends n datagrams in chunks, waiting (bounded) after each chunk until the
 * engine has seen them all, so no packet is lost before the engine. */
static void send_paced(struct link *l, struct engine *e, uint32_t n)
{
	for (uint32_t sent = 0; sent < n;) {
		uint32_t chunk = n - sent < 100 ? n - sent : 100;
		for (uint32_t i = 0; i < chunk; i++)
			send_one(l, sent + i);
		sent += chunk;
		int seen = 0;
		for (int tries = 0; tries < 1000 && !seen; tries++) {
			if (engine_packets(e) >= sent)
				seen = 1;
			else
				poll(NULL, 0, 5);
		}
		ck_assert_msg(seen, "engine did not see %u packets within 5 s", sent);
	}
}

/* Reads datagrams until `want` arrived (bounded 10 s), then until the link
 * stays quiet for 300 ms (to catch extras). */
static void receive(struct link *l, struct received *r, size_t want)
{
	r->n = 0;
	uint64_t deadline = now_ns() + 10000000000ull;
	for (;;) {
		int wait = r->n >= want ? 300 : 100;
		struct pollfd p = { l->rx, POLLIN, 0 };
		int got = poll(&p, 1, wait);
		if (got == 0 && (r->n >= want || now_ns() > deadline))
			break;
		if (got <= 0)
			continue;
		struct pkt pk;
		ssize_t n = recv(l->rx, &pk, sizeof pk, 0);
		if (n != (ssize_t)sizeof pk || r->n == 20000)
			continue;
		r->seq[r->n] = pk.seq;
		r->delay_ns[r->n] = now_ns() - pk.sent_ns;
		r->bad[r->n] = fnv((const uint8_t *)&pk, offsetof(struct pkt, sum)) != pk.sum;
		r->n++;
	}
}

static struct engine start(uint64_t seed, const char *policy)
{
	struct engine e;
	ck_assert_msg(engine_start(&fix, seed, &e) == 0, "engine did not start");
	char reply[256];
	if (policy != NULL) {
		ck_assert_int_eq(engine_cmd(&e, policy, reply, sizeof reply), 0);
		ck_assert_str_eq(reply, "ok");
	}
	return e;
}

static void stop(struct engine *e, uint64_t counts[6])
{
	char reply[512];
	int st = engine_stop(e, reply, sizeof reply);
	ck_assert_msg(st == 0, "engine exit %d: %s", st, reply);
	ck_assert_msg(strstr(reply, "queue_dropped=0 user_dropped=0") != NULL,
		      "engine fell behind: %s", reply);
	ck_assert_int_eq(records_sum(e->records, NSFIX_A, NSFIX_B, counts), 0);
	unlink(e->records);
}

#define N 2000

START_TEST(loss_drops_exactly_what_it_records)
{
	struct link l;
	link_open(&l);
	struct engine e = start(42, "set " NSFIX_A "/32 " NSFIX_B "/32 loss=0.3");
	send_paced(&l, &e, N);
	uint64_t c[6];
	stop(&e, c);
	static struct received r;
	receive(&l, &r, N - c[CHAOS_V_DROP]);
	ck_assert_uint_eq(c[CHAOS_V_DELIVER] + c[CHAOS_V_DROP], N);
	ck_assert_uint_eq(r.n, N - c[CHAOS_V_DROP]);
	ck_assert_msg(c[CHAOS_V_DROP] > N / 5 && c[CHAOS_V_DROP] < N * 2 / 5,
		      "%llu drops of %d at p=0.3", (unsigned long long)c[CHAOS_V_DROP], N);
	link_close(&l);
}
END_TEST

START_TEST(delay_holds_every_packet)
{
	struct link l;
	link_open(&l);
	struct engine e = start(1, "set " NSFIX_A "/32 " NSFIX_B "/32 delay=30000");
	send_paced(&l, &e, 300);
	static struct received r;
	receive(&l, &r, 300);
	uint64_t c[6];
	stop(&e, c);
	ck_assert_uint_eq(r.n, 300);
	ck_assert_uint_eq(c[CHAOS_V_DELAY], 300);
	for (size_t i = 0; i < r.n; i++)
		ck_assert_msg(r.delay_ns[i] >= 30000000ull, "packet %u arrived after %llu ns",
			      r.seq[i], (unsigned long long)r.delay_ns[i]);
	link_close(&l);
}
END_TEST

START_TEST(reorder_really_reorders)
{
	struct link l;
	link_open(&l);
	struct engine e = start(7, "set " NSFIX_A "/32 " NSFIX_B "/32 reorder=0.3 gap=20000");
	send_paced(&l, &e, N);
	static struct received r;
	receive(&l, &r, N);
	uint64_t c[6];
	stop(&e, c);
	ck_assert_uint_eq(r.n, N);
	ck_assert_uint_eq(c[CHAOS_V_REORDER] + c[CHAOS_V_DELIVER], N);
	ck_assert_uint_gt(c[CHAOS_V_REORDER], 0);
	/* Packets that arrived after a higher sequence number. */
	uint32_t max = 0, late = 0;
	for (size_t i = 0; i < r.n; i++) {
		if (i > 0 && r.seq[i] < max)
			late++;
		if (r.seq[i] > max)
			max = r.seq[i];
	}
	ck_assert_msg(late > 0, "no packet arrived out of order");
	ck_assert_uint_le(late, c[CHAOS_V_REORDER]);
	link_close(&l);
}
END_TEST

START_TEST(duplicate_delivers_twice)
{
	struct link l;
	link_open(&l);
	struct engine e = start(3, "set " NSFIX_A "/32 " NSFIX_B "/32 dup=0.2");
	send_paced(&l, &e, N);
	uint64_t c[6];
	stop(&e, c);
	static struct received r;
	receive(&l, &r, N + c[CHAOS_V_DUPLICATE]);
	ck_assert_uint_gt(c[CHAOS_V_DUPLICATE], 0);
	ck_assert_uint_eq(r.n, N + c[CHAOS_V_DUPLICATE]);
	static uint8_t seen[N];
	memset(seen, 0, sizeof seen);
	uint64_t twice = 0;
	for (size_t i = 0; i < r.n; i++) {
		ck_assert_uint_lt(r.seq[i], N);
		if (seen[r.seq[i]]++ == 1)
			twice++;
	}
	ck_assert_uint_eq(twice, c[CHAOS_V_DUPLICATE]);
	link_close(&l);
}
END_TEST

START_TEST(corruption_reaches_the_receiver_check)
{
	struct link l;
	link_open(&l);
	struct engine e = start(5, "set " NSFIX_A "/32 " NSFIX_B "/32 corrupt=0.2");
	send_paced(&l, &e, N);
	uint64_t c[6];
	stop(&e, c);
	static struct received r;
	receive(&l, &r, N);
	/* UDP checksums are fixed after the flip: every packet arrives, and the
	 * receiver's own check (here FNV, in physalia the HMAC) catches it. */
	ck_assert_uint_eq(r.n, N);
	uint64_t bad = 0;
	for (size_t i = 0; i < r.n; i++)
		bad += (uint64_t)r.bad[i];
	ck_assert_uint_gt(c[CHAOS_V_CORRUPT], 0);
	ck_assert_uint_eq(bad, c[CHAOS_V_CORRUPT]);
	link_close(&l);
}
END_TEST

START_TEST(same_seed_same_fates)
{
	uint64_t drops[2][6];
	static uint8_t got[2][N];
	for (int run = 0; run < 2; run++) {
		struct link l;
		link_open(&l);
		struct engine e = start(99, "set " NSFIX_A "/32 " NSFIX_B "/32 loss=0.25 burst=3");
		send_paced(&l, &e, N);
		stop(&e, drops[run]);
		static struct received r;
		receive(&l, &r, N - drops[run][CHAOS_V_DROP]);
		memset(got[run], 0, N);
		for (size_t i = 0; i < r.n; i++)
			got[run][r.seq[i] % N] = 1;
		link_close(&l);
	}
	ck_assert_uint_eq(drops[0][CHAOS_V_DROP], drops[1][CHAOS_V_DROP]);
	ck_assert_msg(memcmp(got[0], got[1], N) == 0, "the same seed dropped different packets");
}
END_TEST

START_TEST(no_engine_means_nothing_passes)
{
	/* Fail-closed: the rule has no --queue-bypass; with no engine bound to
	 * the queue the kernel drops every packet. */
	struct link l;
	link_open(&l);
	for (uint32_t i = 0; i < 50; i++)
		send_one(&l, i);
	static struct received r;
	receive(&l, &r, 1);
	ck_assert_uint_eq(r.n, 0);
	link_close(&l);
}
END_TEST

START_TEST(partition_rule_counts_exactly)
{
	struct link l;
	link_open(&l);
	struct engine e = start(1, NULL);
	const char *add[] = { "iptables", "-I", "FORWARD", "1", "-s", NSFIX_A, "-d", NSFIX_B,
			      "-m", "comment", "--comment", "physalia-chaos part-t", "-j", "DROP",
			      NULL };
	ck_assert_int_eq(chaos_nf_iptables(fix.r, add), 0);
	for (uint32_t i = 0; i < 120; i++)
		send_one(&l, i);
	uint64_t dropped = 0;
	for (int tries = 0; tries < 1000 && dropped < 120; tries++) {
		ck_assert_int_eq(chaos_nf_count(fix.r, "FORWARD", "physalia-chaos part-t", &dropped), 0);
		if (dropped < 120)
			poll(NULL, 0, 5);
	}
	ck_assert_uint_eq(dropped, 120);
	const char *del[] = { "iptables", "-D", "FORWARD", "-s", NSFIX_A, "-d", NSFIX_B, "-m",
			      "comment", "--comment", "physalia-chaos part-t", "-j", "DROP", NULL };
	ck_assert_int_eq(chaos_nf_iptables(fix.r, del), 0);
	/* Healed: packets flow again, and the engine never saw the dropped ones. */
	send_paced(&l, &e, 10);
	static struct received r;
	receive(&l, &r, 10);
	ck_assert_uint_eq(r.n, 10);
	uint64_t c[6];
	stop(&e, c);
	ck_assert_uint_eq(c[CHAOS_V_DELIVER], 10);
	link_close(&l);
}
END_TEST

/* A peer datagram as node/dgram.h lays it out (the HMAC is not checked by
 * the dissector): header, one cell item carrying an engine ACCEPT message,
 * one jury item, 32 MAC bytes. */
static size_t fake_dgram(uint8_t *d)
{
	size_t n = 0;
	const uint8_t hdr[30] = { 'P', 'H', 1, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 5,
				  0, 0, 0, 0, 0, 0, 0, 9, 0, 2 };
	memcpy(d, hdr, 30);
	n = 30;
	uint8_t msg[28] = { 'P', 'H', 1, 3, 3, 'c', '0', '1' };
	d[n++] = 1, d[n++] = 3, memcpy(d + n, "c01", 3), n += 3;
	d[n++] = 0, d[n++] = sizeof msg, memcpy(d + n, msg, sizeof msg), n += sizeof msg;
	d[n++] = 2, d[n++] = 3, memcpy(d + n, "c01", 3), n += 3;
	const uint8_t jury[13] = { 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3 };
	d[n++] = 0, d[n++] = sizeof jury, memcpy(d + n, jury, sizeof jury), n += sizeof jury;
	memset(d + n, 0xaa, 32);
	return n + 32;
}

START_TEST(capture_decodes_with_the_dissector)
{
	char pcap[128], ready[128];
	snprintf(pcap, sizeof pcap, "/tmp/chaos-t%d-b.pcap", (int)getpid());
	snprintf(ready, sizeof ready, "/tmp/chaos-t%d-cap-ready", (int)getpid());
	unlink(ready);
	const char *argv[] = { PH_BINARY_DIR "/chaos/physalia-chaos", "capture", "--out", pcap,
			       "--max-mb", "1", "--ready", ready, NULL };
	pid_t cap;
	ck_assert_int_eq(chaos_netns_spawn(fix.b, argv, NULL, 1, &cap, NULL, NULL), 0);
	for (int i = 0; i < 1000 && access(ready, F_OK) != 0; i++)
		poll(NULL, 0, 10);
	ck_assert_msg(access(ready, F_OK) == 0, "capture did not start");
	unlink(ready);
	struct link l;
	link_open(&l);
	struct engine e = start(1, NULL);
	uint8_t d[256];
	size_t n = fake_dgram(d);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(sendto(l.tx, d, n, 0, (struct sockaddr *)&l.to, sizeof l.to),
				 (ssize_t)n);
	for (int tries = 0; tries < 1000 && engine_packets(&e) < 3; tries++)
		poll(NULL, 0, 5);
	static struct received r;
	uint8_t buf[512];
	int got = 0;
	for (int i = 0; i < 3; i++) {
		struct pollfd p = { l.rx, POLLIN, 0 };
		if (poll(&p, 1, 5000) == 1 && recv(l.rx, buf, sizeof buf, 0) == (ssize_t)n)
			got++;
	}
	(void)r;
	ck_assert_int_eq(got, 3);
	kill(cap, SIGTERM);
	int st;
	waitpid(cap, &st, 0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	uint64_t c[6];
	stop(&e, c);
	link_close(&l);

	char cmd[512], out[4096];
	snprintf(cmd, sizeof cmd,
		 "tshark -X lua_script:%s/chaos/wireshark/physalia.lua -r %s -Y physalia "
		 "-T fields -e physalia.from -e physalia.msg.type -e physalia.jury 2>/dev/null",
		 PH_SOURCE_DIR, pcap);
	FILE *f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	size_t len = fread(out, 1, sizeof out - 1, f);
	out[len] = '\0';
	ck_assert_int_eq(pclose(f), 0);
	unlink(pcap);
	/* Three datagrams decoded: from node 1, a Paxos accept (type 3), jury 1,2,3. */
	int lines = 0;
	for (char *s = strtok(out, "\n"); s != NULL; s = strtok(NULL, "\n")) {
		ck_assert_str_eq(s, "1\t3\t1,2,3");
		lines++;
	}
	ck_assert_int_eq(lines, 3);
}
END_TEST

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int rc = nsfix_up(&fix);
	if (rc != 0)
		return rc;
	Suite *s = suite_create("impair_netns");
	TCase *tc = tcase_create("engine");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, loss_drops_exactly_what_it_records);
	tcase_add_test(tc, delay_holds_every_packet);
	tcase_add_test(tc, reorder_really_reorders);
	tcase_add_test(tc, duplicate_delivers_twice);
	tcase_add_test(tc, corruption_reaches_the_receiver_check);
	tcase_add_test(tc, same_seed_same_fates);
	tcase_add_test(tc, no_engine_means_nothing_passes);
	tcase_add_test(tc, partition_rule_counts_exactly);
	tcase_add_test(tc, capture_decodes_with_the_dissector);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	nsfix_down();
	return failed == 0 ? 0 : 1;
}
