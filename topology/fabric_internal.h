/* topology/fabric_internal.h: shared by fabric.c and netns.c (not public). */
#ifndef PH_TOPOLOGY_FABRIC_INTERNAL_H
#define PH_TOPOLOGY_FABRIC_INTERNAL_H

#include "topology/topology.h"

#define TOPO__NETNS_DIR "/run/netns"
#define TOPO__PATH_LEN 128

/* Sets the thread's fabric error message; returns code. */
int topo__ferr(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void topo__ferr_clear(void);
void topo__ferr_copy(char *dst, size_t len);
/* EPERM/EACCES -> TOPO_EPERM, ENOMEM -> TOPO_ENOMEM, else fallback. */
int topo__errno_code(int err, int fallback);

/* "ph-RUN-NAME" -> run, entity (either may be NULL). 0 or TOPO_EINVAL. */
int topo__ns_parse(const char *ns, char run[TOPO_RUN_MAX], char entity[TOPO_NAME_MAX]);
/* Our namespaces under /run/netns of run (NULL = all runs), sorted.
 * *out is allocated (free()). */
int topo__ns_list(const char *run, char (**out)[TOPO_NSNAME_MAX], size_t *n);
/* Kills every process inside the named namespaces, then unmounts and
 * removes them (the body of topo_fabric_down). */
int topo__ns_remove(const char (*names)[TOPO_NSNAME_MAX], size_t n, uint32_t *removed);
/* Makes /run/netns a shared mount point, as iproute2 does. */
int topo__netns_dir_ready(void);
/* On a dedicated thread: unshare into a new netns and mount it as nsname. */
int topo__ns_create_here(const char *nsname);
/* Runs fn(arg) on a new thread that first joins netns fd. */
int topo__in_ns(int fd, int (*fn)(void *), void *arg);

/* Fault injection for tests: the N-th step of the next topo_fabric_up
 * fails (0 = off). Not thread-safe; tests only. */
extern int topo__fabric_fault_at;

#endif
