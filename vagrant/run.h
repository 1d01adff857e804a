/* vagrant/run.h (internal): running external tools (git, ssh, scp). */
#ifndef VAGRANT_RUN_H
#define VAGRANT_RUN_H

#include <stddef.h>

/* Runs argv (argv[0] looked up in PATH) with stdin from in/inlen (or
 * /dev/null when in is NULL), and waits for it. stdout and stderr are
 * captured into *out and *errout (malloc'ed, NUL-terminated, caller frees;
 * either pointer may be NULL to discard that stream), each cut at 1 MiB.
 * *status is the exit code, or 128 + the signal that ended it.
 * Returns 0 (whatever the exit code), VAG_ESYS, VAG_ENOMEM. */
int vag_run(const char *const *argv, const char *in, size_t inlen, char **out,
	    char **errout, int *status);

/* Runs argv with stdin from in_path (NULL: /dev/null) and stdout written to
 * out_path (created or truncated; NULL: discarded), stderr captured into
 * *errout (may be NULL). For files of any size. Returns 0 (whatever the
 * exit code), VAG_ESYS, VAG_ENOMEM. */
int vag_run_files(const char *const *argv, const char *in_path, const char *out_path,
		  char **errout, int *status);


#endif
