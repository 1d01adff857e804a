/* Internal to chaos/: what the module's files share, not public API. */
#ifndef PHYSALIA_CHAOS_INTERNAL_H
#define PHYSALIA_CHAOS_INTERNAL_H

#include <sys/types.h>

#include "chaos.h"

#define CHAOS_VERSION "0.1.0"

/* Prefix of every network namespace and rule comment a run creates, so that
 * `down --all` and the watchdog find exactly what is ours. */
#define CHAOS_NS_PREFIX "chaos-"
#define CHAOS_RULE_TAG "physalia-chaos"

int chaos_parse_u64(const char *s, uint64_t *out);
int chaos_parse_double(const char *s, double *out);

struct chaos_run_options {
	double duration_s;       /* 0 = the campaign's */
	const char *out_dir;     /* NULL = runs/<name>-<seed> */
	const char *rack_model;  /* NULL = the campaign's */
	const char *node_bin;    /* NULL = beside physalia-chaos */
	int keep, quiet, dry_run;
	int planted;             /* enum ph_bug for physalia-node-planted, 0 = none */
};

void chaos_run_options_defaults(struct chaos_run_options *o);

/* Runs campaign c; returns the process exit code (0, 1, 2). */
int chaos_run(const struct chaos_campaign *c, const struct chaos_run_options *o);

/* Stretches or shrinks a campaign's duration and schedule to duration_s. */
void chaos_campaign_scale(struct chaos_campaign *c, double duration_s);

/* Removes every namespace named chaos-* and kills processes recorded in
 * their pid files. verbose=0 prints only what was removed. Returns 0 or a
 * CHAOS_E* code. */
int chaos_cleanup_all(int verbose);

int chaos_nightly_cli(int argc, char **argv);
int chaos_shrink_cli(int argc, char **argv);
int chaos_impair_cli(int argc, char **argv);
int chaos_capture_cli(int argc, char **argv);
/* The workload client and the runner: only in binaries built with the
 * topology fabric, the node client library, the engine and the run database
 * (CHAOS_HAVE_RUNNER). */
int chaos_client_cli(int argc, char **argv);
int chaos_runner(const struct chaos_campaign *c, const struct chaos_run_options *o);

/* Parses one policy line "SRC/LEN DST/LEN k=v ..." (the impair control
 * protocol and --policy). Returns 0 or CHAOS_EINVAL with err set. */
int chaos_policy_parse(const char *line, uint32_t *src, int *srclen, uint32_t *dst,
		       int *dstlen, struct chaos_link_policy *p, char *err, size_t errlen);

/* Runs argv in the named namespace (/run/netns/NAME; NULL or "" = ours),
 * capturing stdout into out (NUL-terminated) when given. Returns the exit
 * status or -1. */
int chaos_netns_run(const char *netns, const char *const *argv, char *out, size_t cap);

/* Starts argv in netns. stdin/stdout become pipes when stdin_fd/stdout_fd
 * are given (the caller owns and closes the returned ends); otherwise
 * /dev/null and log_path (appended; NULL = /dev/null). stderr goes to
 * log_path. die_with_parent: the child gets SIGKILL when we die. */
int chaos_netns_spawn(const char *netns, const char *const *argv, const char *log_path,
		      int die_with_parent, pid_t *pid_out, int *stdin_fd, int *stdout_fd);

/* Creates /run/netns/NAME (like `ip netns add`). Returns 0, CHAOS_EPERM,
 * CHAOS_ESYS. */
int chaos_netns_add(const char *name);

/* Kills every process in /run/netns/NAME (SIGKILL) and removes it. */
int chaos_netns_del(const char *name);

struct rep_history;
/* Parses one history line (modified in place) into h as a REP_FN_TXN op of
 * client host `host`. Returns 0 or CHAOS_EINVAL (nothing added). */
int chaos_history_line_parse(struct rep_history *h, const char *host, char *line);

#endif
