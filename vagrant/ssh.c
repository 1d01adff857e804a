/* The ssh host backend: machines reached with the system's ssh client.
 *
 * Every remote action is one `sh -c SCRIPT` over a multiplexed connection
 * (ControlMaster), so each costs a round trip, not a handshake. Scripts are
 * built here from validated pieces only: names match [A-Za-z0-9_.-],
 * addresses are printed from integers, and argv is single-quoted. The
 * impairment engine of a router is the one long-lived session: its ssh
 * child's stdin carries chaos/'s control protocol (set/clear/stats, one
 * reply line each), and closing it stops the engine. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"
#include "vagrant.h"

#define IMPAIR_QUEUE 4242   /* NFQUEUE number the router's engine binds */
#define IMPAIR_TAG "ph-vag-impair"
#define REPLY_TIMEOUT_MS 15000
#define ENGINES_MAX 64

/* sh: is the process of pid file $1 running? A zombie is not (it waits for
 * a reaper after setsid left it to init). */
#define ALIVE_FN \
	"alive() { p=$(cat \"$1\" 2>/dev/null) && kill -0 \"$p\" 2>/dev/null && " \
	"[ \"$(sed -n 's/.*) \\(.\\).*/\\1/p' /proc/$p/stat 2>/dev/null)\" != Z ]; }; "

struct engine {
	char dest[256];
	char match[64];   /* the NFQUEUE rule's match ("" or "-d a.b.c.d/n") */
	pid_t pid;        /* the local ssh child */
	int in, out;      /* its stdin (we write), stdout (we read) */
	char buf[1024];   /* partial reply line */
	size_t used;
};

struct vag_ssh {
	char ssh_config[512], identity[512], known_hosts[512], control_dir[256];
	char remote_dir[256], impair_cmd[256];
	int connect_timeout_s, sudo;
	struct engine engines[ENGINES_MAX];
	size_t nengines;
};

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err != NULL && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

static int valid_name(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 64 || *s == '-' || *s == '.')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return 0;
	return 1;
}

/* An ssh destination: no option injection, no spaces or shell syntax. */
static int valid_dest(const char *s)
{
	if (s == NULL || *s == '\0' || *s == '-' || strlen(s) >= 256)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("_-.@:[]", *s) != NULL))
			return 0;
	return 1;
}

/* Appends s single-quoted for sh to buf. Returns 0 or VAG_ENOMEM. */
static int quote(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t need = *len + 4 * strlen(s) + 4;
	if (need > *cap) {
		size_t c = *cap ? *cap : 256;
		while (c < need)
			c *= 2;
		char *p = realloc(*buf, c);
		if (p == NULL)
			return VAG_ENOMEM;
		*buf = p;
		*cap = c;
	}
	char *p = *buf + *len;
	*p++ = '\'';
	for (; *s; s++) {
		if (*s == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = *s;
		}
	}
	*p++ = '\'';
	*p = '\0';
	*len = (size_t)(p - *buf);
	return VAG_OK;
}

/* A path that goes into remote scripts unquoted or single-quoted. */
static int safe_path(const char *s)
{
	if (s == NULL)
		return 1;
	if (*s == '\0' || strlen(s) > 200)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("_-./+", *s) != NULL))
			return 0;
	return 1;
}

int vag_ssh_open(const struct vag_ssh_opts *o, struct vag_ssh **out)
{
	if (o == NULL || o->control_dir == NULL || strlen(o->control_dir) > 100 ||
	    !safe_path(o->remote_dir) || !safe_path(o->impair_cmd))
		return VAG_EINVAL;
	struct vag_ssh *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return VAG_ENOMEM;
	snprintf(b->ssh_config, sizeof(b->ssh_config), "%s", o->ssh_config ? o->ssh_config : "");
	snprintf(b->identity, sizeof(b->identity), "%s", o->identity ? o->identity : "");
	snprintf(b->known_hosts, sizeof(b->known_hosts), "%s", o->known_hosts ? o->known_hosts : "");
	snprintf(b->control_dir, sizeof(b->control_dir), "%s", o->control_dir);
	snprintf(b->remote_dir, sizeof(b->remote_dir), "%s",
		 o->remote_dir ? o->remote_dir : "/var/lib/physalia-chaos");
	snprintf(b->impair_cmd, sizeof(b->impair_cmd), "%s",
		 o->impair_cmd ? o->impair_cmd : "physalia-chaos");
	b->connect_timeout_s = o->connect_timeout_s > 0 ? o->connect_timeout_s : 10;
	b->sudo = o->sudo;
	*out = b;
	return VAG_OK;
}

/* The ssh command line for running script on dest (argv points into
 * storage, which must outlive it). */
struct sshcmd {
	const char *argv[40];
	char timeout[32], control[300], kh[600];
	char *remote; /* malloc'ed "sh -c '...'" */
};

/* mux: share the machine's master connection. Long-lived sessions
 * (processes, engines) get their own connection: sshd allows only
 * MaxSessions (default 10) sessions per connection. */
static int build_ssh_mux(const struct vag_ssh *b, const char *dest, const char *script,
			 struct sshcmd *c, int mux)
{
	int n = 0;
	c->argv[n++] = "ssh";
	if (b->ssh_config[0]) {
		c->argv[n++] = "-F";
		c->argv[n++] = b->ssh_config;
	}
	if (b->identity[0]) {
		c->argv[n++] = "-i";
		c->argv[n++] = b->identity;
		c->argv[n++] = "-o";
		c->argv[n++] = "IdentitiesOnly=yes";
	}
	if (b->known_hosts[0]) {
		snprintf(c->kh, sizeof(c->kh), "UserKnownHostsFile=%s", b->known_hosts);
		c->argv[n++] = "-o";
		c->argv[n++] = c->kh;
		c->argv[n++] = "-o";
		c->argv[n++] = "StrictHostKeyChecking=yes";
	}
	snprintf(c->timeout, sizeof(c->timeout), "ConnectTimeout=%d", b->connect_timeout_s);
	if (mux)
		snprintf(c->control, sizeof(c->control), "ControlPath=%s/%%C", b->control_dir);
	else
		snprintf(c->control, sizeof(c->control), "ControlPath=none");
	const char *fixed[] = { "-o", "BatchMode=yes", "-o", c->timeout, "-o",
				mux ? "ControlMaster=auto" : "ControlMaster=no",
				"-o", c->control, "-o", "ControlPersist=120", "-o", "LogLevel=ERROR",
				/* A machine that stops answering is noticed in ~15 s. */
				"-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3",
				"-T" };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		c->argv[n++] = fixed[i];
	c->argv[n++] = dest;
	c->argv[n++] = "--";
	const char *prefix = b->sudo ? "sudo -n sh -c " : "sh -c ";
	size_t len = strlen(prefix), cap = len + 1;
	char *r = malloc(cap);
	if (r == NULL)
		return VAG_ENOMEM;
	memcpy(r, prefix, cap);
	if (quote(&r, &len, &cap, script) != VAG_OK) {
		free(r);
		return VAG_ENOMEM;
	}
	c->remote = r;
	c->argv[n++] = r;
	c->argv[n] = NULL;
	return VAG_OK;
}

static int build_ssh(const struct vag_ssh *b, const char *dest, const char *script,
		     struct sshcmd *c)
{
	return build_ssh_mux(b, dest, script, c, 1);
}

/* Runs script on dest. stdout into *out (may be NULL). Exit 255 is ssh's
 * own failure: VAG_ESSH with its message. */
static int run_script(struct vag_ssh *b, const char *dest, const char *script, const char *in,
		      size_t inlen, char **out, int *status, char *err, size_t errlen)
{
	if (!valid_dest(dest))
		return fail(err, errlen, VAG_EINVAL, "bad ssh destination '%s'", dest ? dest : "");
	struct sshcmd c = { 0 };
	if (build_ssh(b, dest, script, &c) != VAG_OK)
		return fail(err, errlen, VAG_ENOMEM, "out of memory");
	char *eout = NULL, *sout = NULL;
	int rc = vag_run(c.argv, in, inlen, &sout, &eout, status);
	free(c.remote);
	if (rc != VAG_OK) {
		free(sout);
		free(eout);
		return fail(err, errlen, rc, "ssh %s: %s", dest, vag_strerror(rc));
	}
	if (*status == 255 || *status == 127) {
		size_t l = strlen(eout);
		while (l > 0 && eout[l - 1] == '\n')
			eout[--l] = '\0';
		fail(err, errlen, VAG_ESSH, "ssh %s: %s", dest,
		     *status == 127 ? "ssh is not installed" : eout);
		free(sout);
		free(eout);
		return VAG_ESSH;
	}
	if (*status != 0 && err != NULL && errlen > 0) {
		size_t l = strlen(eout);
		while (l > 0 && eout[l - 1] == '\n')
			eout[--l] = '\0';
		snprintf(err, errlen, "%s: %s", dest, eout);
	}
	free(eout);
	if (out != NULL)
		*out = sout;
	else
		free(sout);
	return VAG_OK;
}

/* Builds "prefix 'a' 'b' ..." from argv into *script (malloc'ed). */
static int join_argv(const char *const *argv, char **script)
{
	char *s = NULL;
	size_t len = 0, cap = 0;
	for (size_t i = 0; argv[i] != NULL; i++) {
		if (quote(&s, &len, &cap, argv[i]) != VAG_OK) {
			free(s);
			return VAG_ENOMEM;
		}
		s[len++] = ' ';
		s[len] = '\0';
	}
	*script = s;
	return s == NULL ? VAG_EINVAL : VAG_OK;
}

int vag_ssh_spawn(struct vag_ssh *b, const char *dest, const char *const *argv, int out_fd,
		  pid_t *pid)
{
	if (!valid_dest(dest) || argv == NULL || argv[0] == NULL)
		return VAG_EINVAL;
	char *script = NULL;
	if (join_argv(argv, &script) != VAG_OK)
		return VAG_ENOMEM;
	struct sshcmd c = { 0 };
	int rc = build_ssh_mux(b, dest, script, &c, 0);
	free(script);
	if (rc != VAG_OK)
		return rc;
	pid_t child = fork();
	if (child < 0) {
		free(c.remote);
		return VAG_ESYS;
	}
	if (child == 0) {
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(out_fd, 1);
		dup2(out_fd, 2);
		execvp(c.argv[0], (char *const *)c.argv);
		_exit(127);
	}
	free(c.remote);
	*pid = child;
	return VAG_OK;
}

int vag_ssh_exec(struct vag_ssh *b, const char *dest, const char *const *argv,
		 const char *in, size_t inlen, char **out, int *status, char *err,
		 size_t errlen)
{
	if (argv == NULL || argv[0] == NULL)
		return fail(err, errlen, VAG_EINVAL, "empty command");
	char *s = NULL;
	if (join_argv(argv, &s) != VAG_OK)
		return fail(err, errlen, VAG_ENOMEM, "out of memory");
	int rc = run_script(b, dest, s, in, inlen, out, status, err, errlen);
	free(s);
	return rc;
}

int vag_ssh_start(struct vag_ssh *b, const char *dest, const char *name,
		  const char *const *argv, long *pid, char *err, size_t errlen)
{
	if (!valid_name(name) || argv == NULL || argv[0] == NULL)
		return fail(err, errlen, VAG_EINVAL, "bad process name or empty command");
	char *cmd = NULL, *a0 = NULL;
	size_t l0 = 0, c0 = 0;
	if (join_argv(argv, &cmd) != VAG_OK || quote(&a0, &l0, &c0, argv[0]) != VAG_OK) {
		free(cmd);
		free(a0);
		return fail(err, errlen, VAG_ENOMEM, "out of memory");
	}
	size_t n = strlen(cmd) + strlen(a0) + 2 * strlen(b->remote_dir) + 512;
	char *script = malloc(n);
	if (script == NULL) {
		free(cmd);
		free(a0);
		return fail(err, errlen, VAG_ENOMEM, "out of memory");
	}
	snprintf(script, n,
		 ALIVE_FN "d='%s'; mkdir -p \"$d\" || exit 5; "
		 "if alive \"$d/%s.pid\"; then exit 3; fi; "
		 "command -v %s >/dev/null 2>&1 || exit 4; "
		 "setsid %s>>\"$d/%s.log\" 2>&1 </dev/null & echo $! >\"$d/%s.pid\"; echo $!",
		 b->remote_dir, name, a0, cmd, name, name);
	free(cmd);
	free(a0);
	char *out = NULL;
	int status;
	int rc = run_script(b, dest, script, NULL, 0, &out, &status, err, errlen);
	free(script);
	if (rc != VAG_OK)
		return rc;
	if (status == 3)
		rc = fail(err, errlen, VAG_EINVAL, "%s: %s is already running", dest, name);
	else if (status == 4)
		rc = fail(err, errlen, VAG_ETOOL, "%s: %s: command not found", dest, argv[0]);
	else if (status != 0)
		rc = fail(err, errlen, VAG_ETOOL, "%s: starting %s failed (exit %d)", dest, name, status);
	else if (pid != NULL)
		*pid = strtol(out, NULL, 10);
	free(out);
	return rc;
}

int vag_ssh_signal(struct vag_ssh *b, const char *dest, const char *name, int sig,
		   char *err, size_t errlen)
{
	if (!valid_name(name) || sig < 0 || sig > 64)
		return fail(err, errlen, VAG_EINVAL, "bad process name or signal");
	char script[1024];
	snprintf(script, sizeof(script),
		 ALIVE_FN "alive '%s/%s.pid' || exit 3; kill -%d \"$p\"",
		 b->remote_dir, name, sig);
	int status;
	int rc = run_script(b, dest, script, NULL, 0, NULL, &status, err, errlen);
	if (rc != VAG_OK)
		return rc;
	if (status == 3)
		return fail(err, errlen, VAG_ENOTFOUND, "%s: %s is not running", dest, name);
	if (status != 0)
		return fail(err, errlen, VAG_ESYS, "%s: kill -%d %s failed", dest, sig, name);
	return VAG_OK;
}

int vag_ssh_alive(struct vag_ssh *b, const char *dest, const char *name, int *alive,
		  char *err, size_t errlen)
{
	if (!valid_name(name))
		return fail(err, errlen, VAG_EINVAL, "bad process name");
	char script[1024];
	snprintf(script, sizeof(script), ALIVE_FN "alive '%s/%s.pid' || exit 3", b->remote_dir,
		 name);
	int status;
	int rc = run_script(b, dest, script, NULL, 0, NULL, &status, err, errlen);
	if (rc != VAG_OK)
		return rc;
	if (status != 0 && status != 3)
		return fail(err, errlen, VAG_ESYS, "%s: checking %s failed", dest, name);
	*alive = status == 0;
	return VAG_OK;
}

static int file_transfer(struct vag_ssh *b, const char *dest, const char *script,
			 const char *in_path, const char *out_path, int *status, char *err,
			 size_t errlen)
{
	if (!valid_dest(dest))
		return fail(err, errlen, VAG_EINVAL, "bad ssh destination");
	struct sshcmd c = { 0 };
	if (build_ssh(b, dest, script, &c) != VAG_OK)
		return fail(err, errlen, VAG_ENOMEM, "out of memory");
	char *eout = NULL;
	int rc = vag_run_files(c.argv, in_path, out_path, &eout, status);
	free(c.remote);
	if (rc != VAG_OK) {
		free(eout);
		return fail(err, errlen, rc, "%s: %s", in_path ? in_path : out_path, strerror(errno));
	}
	if (*status == 255)
		rc = fail(err, errlen, VAG_ESSH, "ssh %s: %s", dest, eout);
	free(eout);
	return rc;
}

int vag_ssh_fetch(struct vag_ssh *b, const char *dest, const char *remote_path,
		  const char *local_path, char *err, size_t errlen)
{
	char *q = NULL;
	size_t len = 0, cap = 0;
	if (quote(&q, &len, &cap, remote_path) != VAG_OK)
		return fail(err, errlen, VAG_ENOMEM, "out of memory");
	char *script = malloc(2 * len + 64);
	if (script == NULL) {
		free(q);
		return fail(err, errlen, VAG_ENOMEM, "out of memory");
	}
	sprintf(script, "[ -f %s ] || exit 3; exec cat %s", q, q);
	free(q);
	int status;
	int rc = file_transfer(b, dest, script, NULL, local_path, &status, err, errlen);
	free(script);
	if (rc == VAG_OK && status != 0) {
		unlink(local_path);
		rc = fail(err, errlen, status == 3 ? VAG_ENOTFOUND : VAG_ESYS, "%s:%s: %s", dest,
			  remote_path, status == 3 ? "no such file" : "could not be read");
	}
	return rc;
}

int vag_ssh_put(struct vag_ssh *b, const char *dest, const char *local_path,
		const char *remote_path, char *err, size_t errlen)
{
	if (access(local_path, R_OK) != 0)
		return fail(err, errlen, VAG_ENOTFOUND, "%s: %s", local_path, strerror(errno));
	char *q = NULL;
	size_t len = 0, cap = 0;
	if (quote(&q, &len, &cap, remote_path) != VAG_OK)
		return fail(err, errlen, VAG_ENOMEM, "out of memory");
	char *script = malloc(5 * len + 128);
	if (script == NULL) {
		free(q);
		return fail(err, errlen, VAG_ENOMEM, "out of memory");
	}
	sprintf(script, "mkdir -p \"$(dirname %s)\" && cat >%s.part && chmod 0644 %s.part && mv %s.part %s",
		q, q, q, q, q);
	free(q);
	int status;
	int rc = file_transfer(b, dest, script, local_path, NULL, &status, err, errlen);
	free(script);
	if (rc == VAG_OK && status != 0)
		rc = fail(err, errlen, VAG_ESYS, "%s:%s: could not be written", dest, remote_path);
	return rc;
}

/* --------------------------------------------------------------- partitions */

static int iptables_script(struct vag_ssh *b, const char *router, const char *script,
			   char **out, char *err, size_t errlen)
{
	int status;
	int rc = run_script(b, router, script, NULL, 0, out, &status, err, errlen);
	if (rc == VAG_OK && status != 0) {
		if (out != NULL) {
			free(*out);
			*out = NULL;
		}
		return VAG_ETOOL; /* err already says what iptables said */
	}
	return rc;
}

int vag_ssh_partition(struct vag_ssh *b, const char *router, uint32_t src, int srclen,
		      uint32_t dst, int dstlen, const char *tag, char *err, size_t errlen)
{
	if (!valid_name(tag) || srclen < 0 || srclen > 32 || dstlen < 0 || dstlen > 32)
		return fail(err, errlen, VAG_EINVAL, "bad partition tag or prefix");
	char s[16], d[16], script[512];
	snprintf(script, sizeof(script),
		 "iptables -w -I FORWARD -s %s/%d -d %s/%d -m comment --comment %s -j DROP",
		 vag_ip(src, s), srclen, vag_ip(dst, d), dstlen, tag);
	return iptables_script(b, router, script, NULL, err, errlen);
}

int vag_ssh_partition_heal(struct vag_ssh *b, const char *router, const char *tag,
			   char *err, size_t errlen)
{
	if (!valid_name(tag))
		return fail(err, errlen, VAG_EINVAL, "bad partition tag");
	char script[512];
	/* iptables -S prints each rule as it would be added: turn -A into -D. */
	snprintf(script, sizeof(script),
		 "iptables -w -S FORWARD | grep -F -- '--comment %s -j' | sed 's/^-A /-D /' | "
		 "while read -r rule; do iptables -w $rule || exit 1; done",
		 tag);
	return iptables_script(b, router, script, NULL, err, errlen);
}

int vag_ssh_partition_count(struct vag_ssh *b, const char *router, const char *tag,
			    uint64_t *packets, char *err, size_t errlen)
{
	if (!valid_name(tag))
		return fail(err, errlen, VAG_EINVAL, "bad partition tag");
	char script[512], *out = NULL;
	snprintf(script, sizeof(script),
		 "iptables -w -L FORWARD -v -x -n | awk '/\\/\\* %s \\*\\// {n += $1} END {print n + 0}'",
		 tag);
	int rc = iptables_script(b, router, script, &out, err, errlen);
	if (rc != VAG_OK)
		return rc;
	*packets = strtoull(out, NULL, 10);
	free(out);
	return VAG_OK;
}

/* ------------------------------------------------------ impairment engines */

static struct engine *engine_find(struct vag_ssh *b, const char *router)
{
	for (size_t i = 0; i < b->nengines; i++)
		if (strcmp(b->engines[i].dest, router) == 0)
			return &b->engines[i];
	return NULL;
}

/* Sends one control line and reads its one reply line into reply. */
static int engine_cmd(struct engine *e, const char *line, char *reply, size_t len, char *err,
		      size_t errlen)
{
	size_t n = strlen(line);
	if (write(e->in, line, n) != (ssize_t)n || write(e->in, "\n", 1) != 1)
		return fail(err, errlen, VAG_ESSH, "%s: the impairment engine's session is gone",
			    e->dest);
	for (;;) {
		char *nl = memchr(e->buf, '\n', e->used);
		if (nl != NULL) {
			size_t l = (size_t)(nl - e->buf);
			snprintf(reply, len, "%.*s", (int)l, e->buf);
			memmove(e->buf, nl + 1, e->used - l - 1);
			e->used -= l + 1;
			return VAG_OK;
		}
		if (e->used == sizeof(e->buf) - 1)
			return fail(err, errlen, VAG_ETOOL, "%s: engine reply too long", e->dest);
		struct pollfd p = { .fd = e->out, .events = POLLIN };
		int r = poll(&p, 1, REPLY_TIMEOUT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return fail(err, errlen, VAG_ETOOL, "%s: no reply from the impairment engine",
				    e->dest);
		ssize_t got = read(e->out, e->buf + e->used, sizeof(e->buf) - 1 - e->used);
		if (got <= 0)
			return fail(err, errlen, VAG_ESSH, "%s: the impairment engine exited",
				    e->dest);
		e->used += (size_t)got;
	}
}

static void engine_stop(struct vag_ssh *b, struct engine *e)
{
	char script[256], ignore[256];
	snprintf(script, sizeof(script),
		 "iptables -w -D FORWARD %s -m comment --comment %s -j NFQUEUE --queue-num %d",
		 e->match, IMPAIR_TAG, IMPAIR_QUEUE);
	int status;
	run_script(b, e->dest, script, NULL, 0, NULL, &status, ignore, sizeof(ignore));
	close(e->in); /* end of stdin: the engine drains and exits */
	close(e->out);
	while (waitpid(e->pid, &status, 0) < 0 && errno == EINTR)
		;
}

static int engine_start(struct vag_ssh *b, const char *router, uint32_t dst, int dstlen,
			struct engine **out, char *err, size_t errlen)
{
	if (dstlen < 0 || dstlen > 32)
		return fail(err, errlen, VAG_EINVAL, "bad prefix length %d", dstlen);
	if (b->nengines == ENGINES_MAX)
		return fail(err, errlen, VAG_ENOMEM, "more than %d impairment engines", ENGINES_MAX);
	if (!valid_dest(router))
		return fail(err, errlen, VAG_EINVAL, "bad ssh destination");
	char script[2048];
	snprintf(script, sizeof(script),
		 "mkdir -p '%s' && exec %s impair --queue %d --records '%s/impair.records' "
		 "2>>'%s/impair.log'",
		 b->remote_dir, b->impair_cmd, IMPAIR_QUEUE, b->remote_dir, b->remote_dir);
	struct sshcmd c = { 0 };
	if (build_ssh_mux(b, router, script, &c, 0) != VAG_OK)
		return fail(err, errlen, VAG_ENOMEM, "out of memory");
	int pin[2], pout[2];
	if (pipe(pin) < 0) {
		free(c.remote);
		return fail(err, errlen, VAG_ESYS, "pipe: %s", strerror(errno));
	}
	if (pipe(pout) < 0) {
		close(pin[0]);
		close(pin[1]);
		free(c.remote);
		return fail(err, errlen, VAG_ESYS, "pipe: %s", strerror(errno));
	}
	pid_t pid = fork();
	if (pid < 0) {
		close(pin[0]);
		close(pin[1]);
		close(pout[0]);
		close(pout[1]);
		free(c.remote);
		return fail(err, errlen, VAG_ESYS, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		close(pin[0]);
		close(pin[1]);
		close(pout[0]);
		close(pout[1]);
		execvp(c.argv[0], (char *const *)c.argv);
		_exit(127);
	}
	free(c.remote);
	close(pin[0]);
	close(pout[1]);
	fcntl(pin[1], F_SETFD, FD_CLOEXEC);
	fcntl(pout[0], F_SETFD, FD_CLOEXEC);
	struct engine *e = &b->engines[b->nengines];
	memset(e, 0, sizeof(*e));
	snprintf(e->dest, sizeof(e->dest), "%s", router);
	if (dstlen > 0) {
		char d[16];
		snprintf(e->match, sizeof(e->match), "-d %s/%d", vag_ip(dst, d), dstlen);
	}
	e->pid = pid;
	e->in = pin[1];
	e->out = pout[0];
	/* A stats round trip proves the queue is bound before packets go to it. */
	char reply[512];
	int rc = engine_cmd(e, "stats", reply, sizeof(reply), err, errlen);
	if (rc == VAG_OK && strncmp(reply, "stats", 5) != 0)
		rc = fail(err, errlen, VAG_ETOOL, "%s: engine: %s", router, reply);
	if (rc == VAG_OK) {
		/* Appended: partitions (inserted first) act before the engine. */
		snprintf(script, sizeof(script),
			 "iptables -w -A FORWARD %s -m comment --comment %s -j NFQUEUE --queue-num %d",
			 e->match, IMPAIR_TAG, IMPAIR_QUEUE);
		rc = iptables_script(b, router, script, NULL, err, errlen);
	}
	if (rc != VAG_OK) {
		engine_stop(b, e);
		return rc;
	}
	b->nengines++;
	*out = e;
	return VAG_OK;
}

int vag_ssh_impair(struct vag_ssh *b, const char *router, uint32_t src, int srclen,
		   uint32_t dst, int dstlen, const char *policy, const char **engine,
		   char *err, size_t errlen)
{
	if (policy == NULL || strlen(policy) > 400 || strpbrk(policy, "\n\r") != NULL ||
	    srclen < 0 || srclen > 32 || dstlen < 0 || dstlen > 32)
		return fail(err, errlen, VAG_EINVAL, "bad impairment policy or prefix");
	struct engine *e = engine_find(b, router);
	int rc;
	if (e == NULL && (rc = engine_start(b, router, 0, 0, &e, err, errlen)) != VAG_OK)
		return rc;
	char line[512], reply[512], s[16], d[16];
	snprintf(line, sizeof(line), "set %s/%d %s/%d %s", vag_ip(src, s), srclen, vag_ip(dst, d),
		 dstlen, policy);
	if ((rc = engine_cmd(e, line, reply, sizeof(reply), err, errlen)) != VAG_OK)
		return rc;
	if (strcmp(reply, "ok") != 0)
		return fail(err, errlen, VAG_EINVAL, "%s: %s", router, reply);
	if (engine != NULL)
		*engine = "nfqueue";
	return VAG_OK;
}

int vag_ssh_engine_open(struct vag_ssh *b, const char *router, uint32_t dst, int dstlen,
			char *err, size_t errlen)
{
	struct engine *e = engine_find(b, router);
	if (e != NULL)
		return fail(err, errlen, VAG_EINVAL, "%s: an impairment engine is running", router);
	return engine_start(b, router, dst, dstlen, &e, err, errlen);
}

int vag_ssh_engine_line(struct vag_ssh *b, const char *router, const char *line, char *reply,
			size_t len, char *err, size_t errlen)
{
	struct engine *e = engine_find(b, router);
	if (e == NULL)
		return fail(err, errlen, VAG_ENOTFOUND, "%s: no impairment engine", router);
	if (strlen(line) > 500 || strpbrk(line, "\n\r") != NULL)
		return fail(err, errlen, VAG_EINVAL, "bad control line");
	return engine_cmd(e, line, reply, len, err, errlen);
}

int vag_ssh_impair_clear(struct vag_ssh *b, const char *router, char *err, size_t errlen)
{
	struct engine *e = engine_find(b, router);
	if (e == NULL)
		return VAG_OK;
	char reply[512];
	int rc = engine_cmd(e, "clear", reply, sizeof(reply), err, errlen);
	if (rc == VAG_OK && strcmp(reply, "ok") != 0)
		rc = fail(err, errlen, VAG_ETOOL, "%s: %s", router, reply);
	return rc;
}

int vag_ssh_impair_stats(struct vag_ssh *b, const char *router, char *buf, size_t len,
			 char *err, size_t errlen)
{
	struct engine *e = engine_find(b, router);
	if (e == NULL)
		return fail(err, errlen, VAG_ENOTFOUND, "%s: no impairment engine", router);
	return engine_cmd(e, "stats", buf, len, err, errlen);
}

void vag_ssh_close(struct vag_ssh *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->nengines; i++)
		engine_stop(b, &b->engines[i]);
	/* Close the master connections: `ssh -O exit` per socket in control_dir
	 * is what ControlPersist would do after its timeout anyway. */
	const char *argv[] = { "sh", "-c",
			       "for s in \"$1\"/*; do [ -S \"$s\" ] && ssh -o ControlPath=\"$s\" -O exit x "
			       ">/dev/null 2>&1; done; exit 0",
			       "sh", b->control_dir, NULL };
	int status;
	vag_run(argv, NULL, 0, NULL, NULL, &status);
	free(b);
}
