/* udpprobe: the traffic of the ssh backend test, between emulated machines.
 *   udpprobe echo ADDR PORT
 *       answers every datagram on ADDR:PORT with the same bytes, forever.
 *   udpprobe ping SRC DST PORT COUNT TTL QUIET_MS
 *       sends COUNT datagrams from SRC to DST:PORT with IP TTL TTL, then
 *       counts replies until none came for QUIET_MS; prints
 *       "sent N received M" (duplicates count: a duplicated request is
 *       answered twice). */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int addr(const char *ip, const char *port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(port));
	return inet_pton(AF_INET, ip, &sa->sin_addr) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa, da;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 2;
	}
	if (argc == 4 && strcmp(argv[1], "echo") == 0) {
		if (addr(argv[2], argv[3], &sa) != 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			perror("udpprobe echo: bind");
			return 2;
		}
		printf("echo: listening on %s:%s\n", argv[2], argv[3]);
		fflush(stdout);
		for (;;) {
			char buf[2048];
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (n > 0)
				sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
		}
	}
	if (argc == 8 && strcmp(argv[1], "ping") == 0) {
		if (addr(argv[2], "0", &sa) != 0 || addr(argv[3], argv[4], &da) != 0 ||
		    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			perror("udpprobe ping: bind");
			return 2;
		}
		int count = atoi(argv[5]), ttl = atoi(argv[6]), quiet = atoi(argv[7]);
		if (setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) != 0) {
			perror("udpprobe ping: IP_TTL");
			return 2;
		}
		int sent = 0, received = 0;
		for (int i = 0; i < count; i++) {
			char msg[32];
			int n = snprintf(msg, sizeof(msg), "probe %d", i);
			if (sendto(fd, msg, (size_t)n, 0, (struct sockaddr *)&da, sizeof(da)) == n)
				sent++;
		}
		for (;;) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			if (poll(&p, 1, quiet) <= 0)
				break;
			char buf[2048];
			if (recv(fd, buf, sizeof(buf), 0) > 0)
				received++;
		}
		printf("sent %d received %d\n", sent, received);
		return 0;
	}
	fprintf(stderr, "usage: udpprobe echo ADDR PORT | ping SRC DST PORT COUNT TTL QUIET_MS\n");
	return 2;
}
