/* `physalia-chaos capture`: a bounded packet capture (libpcap) of one
 * interface, run inside a host's namespace for the whole run. It writes a
 * classic pcap file, stops writing at the size bound (the run database says
 * so), and ends on SIGTERM/SIGINT, printing one stats line. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaos.h"
#include "internal.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct sink {
	pcap_dumper_t *d;
	uint64_t max_bytes;
	uint64_t seen, written, over_bound;
	int full;
};

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct sink *s = (struct sink *)user;
	s->seen++;
	if (s->full) {
		s->over_bound++;
		return;
	}
	long pos = pcap_dump_ftell(s->d);
	if (pos >= 0 && (uint64_t)pos + 16 + h->caplen > s->max_bytes) {
		s->full = 1;
		s->over_bound++;
		pcap_dump_flush(s->d);
		return;
	}
	pcap_dump((u_char *)s->d, h, bytes);
	s->written++;
}

int chaos_capture_cli(int argc, char **argv)
{
	const char *iface = "eth0", *out = NULL, *ready = NULL;
	double max_mb = 16;
	for (int i = 1; i < argc; i += 2) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL) {
			fprintf(stderr, "physalia-chaos capture: '%s' needs a value\n", argv[i]);
			return 2;
		}
		if (strcmp(argv[i], "--iface") == 0)
			iface = v;
		else if (strcmp(argv[i], "--out") == 0)
			out = v;
		else if (strcmp(argv[i], "--ready") == 0)
			ready = v;
		else if (strcmp(argv[i], "--max-mb") == 0) {
			if (chaos_parse_double(v, &max_mb) != 0 || max_mb <= 0 || max_mb > 100000) {
				fprintf(stderr, "physalia-chaos capture: --max-mb needs a size in MB\n");
				return 2;
			}
		} else {
			fprintf(stderr, "physalia-chaos capture: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	if (out == NULL) {
		fprintf(stderr, "physalia-chaos capture: --out FILE is required\n");
		return 2;
	}
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_create(iface, errbuf);
	if (p == NULL) {
		fprintf(stderr, "physalia-chaos capture: %s: %s\n", iface, errbuf);
		return 2;
	}
	pcap_set_snaplen(p, 65535);
	pcap_set_immediate_mode(p, 1);
	pcap_set_buffer_size(p, 4 << 20);
	pcap_set_timeout(p, 100);
	if (pcap_activate(p) < 0) {
		fprintf(stderr, "physalia-chaos capture: %s: %s\n", iface, pcap_geterr(p));
		pcap_close(p);
		return 2;
	}
	struct sink s = { NULL, (uint64_t)(max_mb * 1024 * 1024), 0, 0, 0, 0 };
	s.d = pcap_dump_open(p, out);
	if (s.d == NULL) {
		fprintf(stderr, "physalia-chaos capture: %s: %s\n", out, pcap_geterr(p));
		pcap_close(p);
		return 2;
	}
	pcap_setnonblock(p, 1, errbuf);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (ready != NULL) {
		FILE *f = fopen(ready, "w");
		if (f != NULL)
			fclose(f);
	}
	int fd = pcap_get_selectable_fd(p);
	int status = 0;
	while (!stop_requested) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int r = poll(&pfd, 1, 200);
		if (r < 0 && errno != EINTR) {
			status = 2;
			break;
		}
		if (pcap_dispatch(p, -1, on_packet, (u_char *)&s) < 0) {
			fprintf(stderr, "physalia-chaos capture: %s\n", pcap_geterr(p));
			status = 2;
			break;
		}
	}
	/* What is still buffered belongs to the run. */
	pcap_dispatch(p, -1, on_packet, (u_char *)&s);
	struct pcap_stat st = { 0, 0, 0 };
	pcap_stats(p, &st);
	pcap_dump_close(s.d);
	pcap_close(p);
	printf("capture seen=%" PRIu64 " written=%" PRIu64 " over_bound=%" PRIu64
	       " kernel_dropped=%u\n",
	       s.seen, s.written, s.over_bound, st.ps_drop);
	return status;
}
