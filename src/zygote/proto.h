/*
 * proto.h: the wire protocol between a worker (zygote/client.c) and its
 * pyexec-zygote (zygote/zygote.c) on a SOCK_SEQPACKET socketpair. Both
 * ends are built from one tree, but the zygote still checks every field:
 * a version mismatch or a malformed message is refused, never guessed at.
 *
 * What crosses is configuration-derived only (mount point, id maps,
 * limits, the allowed-imports list) plus pipe ends: never a request's
 * code, files, stdin or key.
 */
#ifndef PYX_ZYGOTE_PROTO_H
#define PYX_ZYGOTE_PROTO_H

#include <limits.h>
#include <stdint.h>

#include "jail/jail.h"
#include "session/session.h"

#define ZYG_MAGIC	0x5a595850u	/* "PYXZ" */
#define ZYG_VERSION	7		/* bump on any change below */

#define ZYG_KIND_RUN	0	/* clone a jail as the worker's child */
#define ZYG_KIND_SESSION 1	/* fork a keeper that owns a session's jail */
#define ZYG_KIND_LANE	2	/* as RUN, a jail whose child serves cases */
#define ZYG_KIND_CASE	3	/* to a lane's server: clone one case */

struct zyg_spawn {			/* + JAIL_NFDS (run) or SESS_NFDS fds */
	uint32_t	 magic;
	uint32_t	 version;
	uint32_t	 kind;
	struct sess_params sess;	/* ZYG_KIND_SESSION */
	int32_t		 nrlim;
	char		 jaildir[PATH_MAX];
	char		 uid_map[64];
	char		 gid_map[64];
	char		 ws_opts[128];
	char		 allowed[4096];
	int		 rlim_res[JAIL_NRLIM];
	struct rlimit	 rlim[JAIL_NRLIM];
	struct rlimit	 nproc;
	uint32_t	 wait_go;
	uint32_t	 max_files;
	uint32_t	 jail_uid;	/* host ids of the slot; 0: the zygote's own */
	uint32_t	 jail_gid;
	uint32_t	 netns_lane;	/* overlapping runs: 1..JAIL_NETNS_LANES */
	uint32_t	 data_late;	/* a pre-built jail (jail_params.data_late) */
};

#define ZYG_NEED_MAP	(-2)	/* zyg_reply.pid at start: map my ids, then "m" */
struct zyg_reply {			/* + a pidfd of the jail's init */
	int32_t		 pid;		/* -1: failed, see err */
	int32_t		 err;
};

#endif /* PYX_ZYGOTE_PROTO_H */
