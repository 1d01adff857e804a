/* A namespace fixture for chaos tests: two hosts and one router, made by the
 * test itself and removed at exit (also on failure and on SIGINT/SIGTERM).
 *
 *   host a  eth0 198.18.1.2/24 --- ha 198.18.1.1  [router r]  hb 198.18.2.1 --- eth0 198.18.2.2/24  host b
 *
 * The router forwards; every forwarded packet goes to NFQUEUE queue
 * NSFIX_QUEUE (no --queue-bypass: fail-closed). */
#ifndef CHAOS_TEST_NSFIX_H
#define CHAOS_TEST_NSFIX_H

#include <stdint.h>
#include <sys/types.h>

#define NSFIX_QUEUE 7
#define NSFIX_A "198.18.1.2"
#define NSFIX_B "198.18.2.2"

struct nsfix {
	char a[64], b[64], r[64]; /* namespace names (chaos-t<pid>-x) */
};

/* Creates the namespaces. Returns 0; on "not permitted here" prints why and
 * returns 77 (the skip code); other failures return 1. */
int nsfix_up(struct nsfix *f);
/* Removes everything nsfix_up made (idempotent). */
void nsfix_down(void);

/* A UDP socket created inside namespace ns (so it lives there). */
int nsfix_udp_socket(const char *ns);

/* Runs a command (argv NULL-terminated) in ns; returns its exit status. */
int nsfix_run(const char *ns, const char *const *argv);

/* The impairment engine as the runner starts it: physalia-chaos impair in
 * the router, stdin/stdout as a control pipe. */
struct engine {
	pid_t pid;
	int in, out;
	char records[256];
};
int engine_start(const struct nsfix *f, uint64_t seed, struct engine *e);
/* Sends one control line, reads one reply line into reply. */
int engine_cmd(struct engine *e, const char *line, char *reply, size_t cap);
/* The "packets=" counter of a stats reply. */
uint64_t engine_packets(struct engine *e);
/* Closes stdin, reads the final stats line into reply, waits; returns the
 * exit status. */
int engine_stop(struct engine *e, char *reply, size_t cap);

/* Sums the records file's counts for link src -> dst: counts[6] in the order
 * deliver drop delay reorder duplicate corrupt. */
int records_sum(const char *path, const char *src, const char *dst, uint64_t counts[6]);

#endif
