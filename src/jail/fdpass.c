/*
 * fdpass.c: one message and a few descriptors over a Unix socket
 * (SCM_RIGHTS), for the jail's control socket and the zygote's. Stack
 * only, no allocation: the jail's init uses it between clone and exec.
 * Part of the jail library.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "jail/jail.h"

/*
 * One message and up to FDPASS_MAX descriptors over a Unix socket
 * (SCM_RIGHTS). Stack only, no allocation: the jail's init uses it between
 * clone and exec. Returns 0, or -1 on error or a short send.
 */
int
fd_send(int sock, const void *msg, size_t len, const int *fds, int nfds)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		char		 buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX)];
		struct cmsghdr	 align;
	} cm;
	struct cmsghdr	*c;

	if (nfds < 0 || nfds > FDPASS_MAX) {
		errno = EINVAL;
		return -1;
	}
	iov.iov_base = (void *)(uintptr_t)msg;
	iov.iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/*
 * Receives one message into msg and up to maxfds descriptors (close-on-
 * exec) into fds, setting *nfds; any beyond maxfds are closed at once.
 * flags go to recvmsg (MSG_DONTWAIT). Returns recvmsg's result.
 */
ssize_t
fd_recv(int sock, void *msg, size_t len, int *fds, int maxfds, int *nfds,
    int flags)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		char		 buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX)];
		struct cmsghdr	 align;
	} cm;
	struct cmsghdr	*c;
	ssize_t		 n;
	size_t		 i, count;
	int		 fd;

	*nfds = 0;
	iov.iov_base = msg;
	iov.iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	if ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags)) <= 0)
		return n;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < count; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < maxfds)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	return n;
}
