/*
 * session.h: sessions (src/session/): a long-lived jailed interpreter
 * owned by a keeper process, reached by any worker through a Unix socket.
 *
 * Three parties, three wires, all versioned:
 *  - worker <-> keeper: the session's socket under runtime_dir/sessions/
 *    (SOCK_STREAM, frames: struct sess_hdr + at most SESS_FRAME_MAX bytes).
 *    On accept the keeper sends a banner (admin, busy); a busy keeper
 *    closes the connection after it, so a second caller never queues.
 *  - keeper <-> driver (the Python in the jail, boot.py): the driver
 *    reads requests on its fd 0 (a stream socket: a fork's channels
 *    arrive on it as SCM_RIGHTS) and writes replies on fd 3, each a
 *    uint32 length + JSON; its fds 1 and 2 are pipes the keeper drains.
 *  - a fork: the parent's keeper forks the child's keeper, and the
 *    parent's driver forks the child's interpreter in the same jail (a
 *    family: one jail, one init, one cgroup; see keeper.c).
 *  - worker <-> keeper at creation: a SOCK_SEQPACKET pair (struct
 *    sess_setup): the keeper reports the jail's init (pidfd), the worker
 *    puts it in the session's cgroups (and maps its ids in exec mode),
 *    the keeper lets init go and reports the driver ready.
 *
 * Rules: keeper.c links no request code (no json-c, SQLite, libfcgi): it
 * relays the driver's bytes, bounded and timed, and judges only lengths,
 * deadlines and process states. Everything read from the jail is hostile.
 * The keeper holds no secret: in zygote mode it is a fork of the zygote,
 * in exec mode a fork of the worker that wiped the admin key first.
 */
#ifndef PYX_SESSION_H
#define PYX_SESSION_H

#include <sys/types.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jail/jail.h"

#define SESS_MAGIC		0x53585950u	/* "PYXS" */
#define SESS_VERSION		3		/* bump on any change below */
#define SESS_FRAME_MAX		(64u << 20)	/* bytes after a header */

/*
 * Session ids: "s1" (format and version: later formats may name a host),
 * then SESS_ID_RAND random bytes in base64url without padding.
 */
#define SESS_ID_PREFIX		"s1"
#define SESS_ID_RAND		24		/* 192 bits */
#define SESS_ID_LEN		(2 + 32)
#define SESS_HASH_HEX		32		/* keyed hash of an id, in hex */

enum sess_op {
	SESS_OP_BANNER = 1,	/* keeper -> worker, at accept */
	SESS_OP_CALL,		/* worker -> keeper: relayed to the driver */
	SESS_OP_INFO,		/* worker -> keeper: struct sess_info back */
	SESS_OP_DELETE,		/* worker -> keeper: end the session */
	SESS_OP_REPLY,		/* keeper -> worker: struct sess_result + bytes */
	SESS_OP_FORK,		/* worker -> keeper: struct sess_fork, then one
				   byte carrying the child's listen and slot fds */
};

/* sess_hdr.flags */
#define SESS_F_ADMIN		0x01	/* banner: an admin session */
#define SESS_F_BUSY		0x02	/* banner: a call is in progress */

struct sess_hdr {
	uint32_t	 magic;
	uint16_t	 version;
	uint16_t	 op;
	uint32_t	 flags;
	uint32_t	 len;		/* bytes that follow */
};

enum sess_end {			/* sess_result.term */
	SESS_T_OK = 0,		/* the cell returned */
	SESS_T_INTERRUPTED,	/* wall limit: KeyboardInterrupt, returned */
	SESS_T_KILLED_TIMEOUT,	/* ignored the interrupt: session killed */
	SESS_T_DIED,		/* the interpreter ended (wstatus) */
	SESS_T_EXPIRED,		/* session_max_seconds during the call */
	SESS_T_PROTOCOL,	/* the driver broke the protocol: killed */
};

/* sess_result.flags */
#define SESS_R_ALIVE		0x01
#define SESS_R_OUT_TRUNC	0x02
#define SESS_R_ERR_TRUNC	0x04
#define SESS_R_OOM		0x08
#define SESS_R_FORKED		0x10	/* FORK: the child's keeper is ready */

struct sess_result {		/* then out, err, driver JSON */
	uint32_t	 term;
	uint32_t	 flags;
	int32_t		 wstatus;	/* SESS_T_DIED: the interpreter's */
	uint32_t	 out_len;
	uint32_t	 err_len;
	uint32_t	 drv_len;
	double		 wall_sec;
	double		 cpu_sec;	/* the interpreter's, this call */
};

struct sess_info {
	int64_t		 created;	/* unix seconds */
	int64_t		 last_used;
	int64_t		 expires;
	uint64_t	 executions;
	uint64_t	 memory_bytes;	/* the session's processes (PSS) */
	uint32_t	 busy;
	uint32_t	 pad;
};

/*
 * The largest driver frame (JSON) a session may send back: its result,
 * error message and traceback, each within max_output_bytes of JSON text,
 * its displays within max_return_bytes, and room for the keys. The
 * driver truncates to fit; a frame beyond this is a tampered driver, and
 * the keeper ends the session without reading it. The keeper and the
 * worker both hold a session's reply to this, outside its memory cap.
 */
static inline uint64_t
sess_reply_max(uint64_t max_output, uint64_t max_return)
{
	uint64_t	 n = 3 * max_output + max_return + (64u << 10);

	return n < SESS_FRAME_MAX ? n : SESS_FRAME_MAX;
}

/* What a keeper is told when it starts (both modes). */
struct sess_params {
	char		 sock_path[PATH_MAX];	/* unlinked at the end */
	char		 jaildir[PATH_MAX];	/* rmdir'ed at the end */
	int		 time_limit;		/* seconds per call (wall) */
	int		 grace_ms;		/* after the interrupt */
	int		 idle_seconds;
	int		 max_seconds;
	int64_t		 created;		/* unix seconds */
	uint64_t	 max_output;		/* per stream per call */
	uint64_t	 max_reply;		/* the driver's frame: sess_reply_max */
	uint32_t	 admin;
	uint32_t	 setup_ms;		/* creation deadline */
	uint32_t	 cpu_seconds;		/* the whole session's; 0: none */
};

/*
 * A fork (SESS_OP_FORK): the new session's socket path (the worker made
 * and bound it) and creation time. Its listen socket and slot lock follow
 * as SCM_RIGHTS on one byte.
 */
struct sess_fork {
	char		 sock_path[PATH_MAX];
	int64_t		 created;
	int32_t		 slot;		/* the child's: its CPU group's name */
};

/* The creation dialog on the setup socket. */
enum sess_setup_kind {
	SETUP_INIT = 1,		/* keeper: pidfd (+ data pipe, zygote mode) */
	SETUP_GO,		/* worker: cgroups attached; paths to remove */
	SETUP_READY,		/* keeper: the driver answered */
	SETUP_FAIL,		/* either side: err */
};

struct sess_setup {
	uint32_t	 kind;
	int32_t		 pid;		/* init, as the keeper sees it */
	int32_t		 err;
	char		 text[160];
	char		 cg[3][PATH_MAX];	/* GO: cgroup dirs to rmdir; [2]: CPU */
};

/* The keeper's fds, passed as SCM_RIGHTS: see keeper.c */
#define SESS_FD_LISTEN		0
#define SESS_FD_SLOT		1	/* the session slot's lock, held for life */
#define SESS_FD_SETUP		2
#define SESS_NFDS		3

/*
 * keeper.c: the keeper's life, from a fresh process to its exit. clone_jail
 * clones and enters a jail with the fds in spec (it returns init's pid in
 * the parent, never in the child). Never returns.
 */
typedef pid_t	(*sess_clone_fn)(struct jail_params *, void *);
__attribute__((noreturn)) void keeper_main(const struct sess_params *,
		    struct jail_params *, const int *, sess_clone_fn, void *);

/* id.c: ids and their keyed hash (SipHash-2-4, 128-bit output) */
int	 sess_id_new(char *, size_t);
void	 sess_id_encode(const uint8_t *, char *);	/* SESS_ID_RAND bytes */
bool	 sess_id_valid(const char *, size_t);
void	 sess_id_hash(const uint8_t *, const char *, size_t, char *);
void	 siphash128(const uint8_t *, const void *, size_t, uint8_t *);

#endif /* PYX_SESSION_H */
