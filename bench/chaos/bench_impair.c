/* Benchmark: what the NFQUEUE impairment engine costs a forwarded packet.
 * Two hosts and a router in namespaces (tests/chaos/nsfix.c); UDP datagrams
 * of 200 bytes from a to b with at most 1000 in flight. Printed side by
 * side: the anchor (the router forwarding with no queue rule), the engine
 * delivering everything, and the engine under a policy that drops 10% and
 * delays the rest by 1 ms. Needs root; prints why and exits 0 otherwise. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "chaos.h"
#include "internal.h"
#include "nsfix.h"

#define N 100000
#define WINDOW 1000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sends N datagrams keeping at most WINDOW unanswered by arrival or by a
 * recorded drop (expected_loss: the fraction the policy drops). Returns
 * packets per second received. */
static double run(const struct nsfix *f, double expected_loss, unsigned *received)
{
	int tx = nsfix_udp_socket(f->a), rx = nsfix_udp_socket(f->b);
	int big = 8 << 20;
	setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9100) };
	inet_pton(AF_INET, NSFIX_B, &to.sin_addr);
	bind(rx, (struct sockaddr *)&to, sizeof to);
	char buf[200];
	memset(buf, 7, sizeof buf);
	unsigned sent = 0, got = 0;
	double t0 = now_s();
	while (got < (unsigned)(N * (1 - expected_loss) * 0.98)) {
		while (sent < N && sent - (unsigned)((double)got / (1 - expected_loss)) < WINDOW) {
			if (sendto(tx, buf, sizeof buf, 0, (struct sockaddr *)&to, sizeof to) < 0)
				break;
			sent++;
		}
		struct pollfd p = { rx, POLLIN, 0 };
		if (poll(&p, 1, 1000) <= 0)
			break;
		while (recv(rx, buf, sizeof buf, MSG_DONTWAIT) > 0)
			got++;
	}
	double dt = now_s() - t0;
	close(tx);
	close(rx);
	*received = got;
	return got / dt;
}

int main(void)
{
	struct nsfix f;
	int rc = nsfix_up(&f);
	if (rc != 0) {
		printf("bench_chaos_impair: not run (namespaces not available)\n");
		return 0;
	}
	unsigned got;
	/* Anchor: no queue rule at all. */
	const char *del[] = { "iptables-legacy", "-w", "-D", "FORWARD", "-j", "NFQUEUE", "--queue-num",
			      "7", NULL };
	nsfix_run(f.r, del);
	double anchor = run(&f, 0, &got);
	printf("%-44s %10.0f pkt/s  (%u received)\n", "anchor: router forwarding, no NFQUEUE", anchor,
	       got);
	const char *add[] = { "iptables-legacy", "-w", "-A", "FORWARD", "-j", "NFQUEUE", "--queue-num",
			      "7", NULL };
	nsfix_run(f.r, add);

	struct engine e;
	if (engine_start(&f, 1, &e) != 0) {
		printf("bench_chaos_impair: the engine did not start\n");
		return 1;
	}
	double plain = run(&f, 0, &got);
	printf("%-44s %10.0f pkt/s  (%u received, %.2fx the anchor)\n",
	       "engine, every packet delivered", plain, got, plain / anchor);
	char reply[512];
	engine_cmd(&e, "set any any loss=0.1 delay=1000", reply, sizeof reply);
	double impaired = run(&f, 0.1, &got);
	printf("%-44s %10.0f pkt/s  (%u received)\n", "engine, 10% loss + 1 ms delay", impaired, got);
	engine_stop(&e, reply, sizeof reply);
	printf("engine: %s\n", reply);
	nsfix_down();
	return 0;
}
