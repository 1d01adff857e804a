/* Running external tools with their output captured, without a shell. */
#define _POSIX_C_SOURCE 200809L
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vagrant.h"

#define CAPTURE_MAX (1u << 20)

struct buf {
	char *p;
	size_t len, cap;
};

static int buf_add(struct buf *b, const char *d, size_t n)
{
	size_t room = b->len < CAPTURE_MAX ? CAPTURE_MAX - b->len : 0;
	if (n > room)
		n = room;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (p == NULL)
			return VAG_ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = '\0';
	return VAG_OK;
}

int vag_run(const char *const *argv, const char *in, size_t inlen, char **out,
	    char **errout, int *status)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	int rc = VAG_ESYS;
	struct buf bo = { 0 }, be = { 0 };
	if (pipe(pin) < 0 || pipe(pout) < 0 || pipe(perr) < 0)
		goto err_close_pipes;
	pid_t pid = fork();
	if (pid < 0)
		goto err_close_pipes;
	if (pid == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(perr[1], 2);
		for (int i = 0; i < 2; i++) {
			close(pin[i]);
			close(pout[i]);
			close(perr[i]);
		}
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	pin[0] = pout[1] = perr[1] = -1;
	if (in == NULL || inlen == 0) {
		close(pin[1]);
		pin[1] = -1;
	} else {
		fcntl(pin[1], F_SETFL, O_NONBLOCK);
	}
	/* A writer that quits early must not kill us with SIGPIPE. */
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);
	size_t sent = 0;
	int mem = VAG_OK;
	while (pout[0] >= 0 || perr[0] >= 0) {
		struct pollfd fds[3] = { { .fd = pout[0], .events = POLLIN },
					 { .fd = perr[0], .events = POLLIN },
					 { .fd = pin[1], .events = POLLOUT } };
		if (poll(fds, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			int *fd = i == 0 ? &pout[0] : &perr[0];
			if (*fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char chunk[4096];
			ssize_t n = read(*fd, chunk, sizeof(chunk));
			if (n > 0) {
				int r = buf_add(i == 0 ? &bo : &be, chunk, (size_t)n);
				if (r != VAG_OK)
					mem = r;
			} else if (n == 0 || errno != EINTR) {
				close(*fd);
				*fd = -1;
			}
		}
		if (pin[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = write(pin[1], in + sent, inlen - sent);
			if (n > 0)
				sent += (size_t)n;
			if ((n < 0 && errno != EAGAIN && errno != EINTR) || sent == inlen) {
				close(pin[1]);
				pin[1] = -1;
			}
		}
	}
	if (pin[1] >= 0) {
		close(pin[1]);
		pin[1] = -1;
	}
	sigaction(SIGPIPE, &old, NULL);
	int ws;
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			goto err_close_pipes;
	if (mem != VAG_OK) {
		rc = mem;
		goto err_close_pipes;
	}
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	if (out != NULL) {
		if (bo.p == NULL && buf_add(&bo, "", 0) != VAG_OK) {
			rc = VAG_ENOMEM;
			goto err_close_pipes;
		}
		*out = bo.p;
		bo.p = NULL;
	}
	if (errout != NULL) {
		if (be.p == NULL && buf_add(&be, "", 0) != VAG_OK) {
			if (out != NULL) {
				free(*out);
				*out = NULL;
			}
			rc = VAG_ENOMEM;
			goto err_close_pipes;
		}
		*errout = be.p;
		be.p = NULL;
	}
	rc = VAG_OK;

err_close_pipes:
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			close(pin[i]);
		if (pout[i] >= 0)
			close(pout[i]);
		if (perr[i] >= 0)
			close(perr[i]);
	}
	free(bo.p);
	free(be.p);
	return rc;
}

int vag_run_files(const char *const *argv, const char *in_path, const char *out_path,
		  char **errout, int *status)
{
	int in = open(in_path ? in_path : "/dev/null", O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return VAG_ESYS;
	int out = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		       0644);
	if (out < 0) {
		close(in);
		return VAG_ESYS;
	}
	int perr[2];
	if (pipe(perr) < 0) {
		close(in);
		close(out);
		return VAG_ESYS;
	}
	pid_t pid = fork();
	if (pid < 0) {
		close(in);
		close(out);
		close(perr[0]);
		close(perr[1]);
		return VAG_ESYS;
	}
	if (pid == 0) {
		dup2(in, 0);
		dup2(out, 1);
		dup2(perr[1], 2);
		close(perr[0]);
		close(perr[1]);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(in);
	close(out);
	close(perr[1]);
	struct buf be = { 0 };
	int rc = VAG_OK;
	char chunk[4096];
	for (;;) {
		ssize_t n = read(perr[0], chunk, sizeof(chunk));
		if (n > 0) {
			if (buf_add(&be, chunk, (size_t)n) != VAG_OK)
				rc = VAG_ENOMEM;
		} else if (n == 0 || errno != EINTR) {
			break;
		}
	}
	close(perr[0]);
	int ws;
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR) {
			free(be.p);
			return VAG_ESYS;
		}
	if (rc != VAG_OK) {
		free(be.p);
		return rc;
	}
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	if (errout != NULL) {
		if (be.p == NULL && buf_add(&be, "", 0) != VAG_OK)
			return VAG_ENOMEM;
		*errout = be.p;
	} else {
		free(be.p);
	}
	return VAG_OK;
}
