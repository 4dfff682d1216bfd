/*
 * jail.h: the jail library (src/jail/), linked by the worker (exec mode)
 * and by the zygote. It is the code that runs in the jail's init between
 * clone and exec, plus the few pure checks both sides of the jail share
 * (names, the control and data protocols, fd passing).
 *
 * Rules, enforced by the build (tests/unit/jail_rules.sh, part of
 * `make check`): nothing in libjail.a calls malloc or free, stdio, the
 * logger or json-c. Everything the jail needs is prepared by the parent
 * before clone in a struct jail_params; failures are reported as one
 * struct ctl_msg on the control socket.
 */
#ifndef PYX_JAIL_H
#define PYX_JAIL_H

#include <sys/types.h>
#include <sys/resource.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PYX_NAME_MAX	255	/* bytes in one attachment/return-file path */
#define PYX_DEPTH_MAX	16	/* path components in one such path */
#define PYX_SCRIPT_NAME	"script.py"
/* /evaluate: the case, read and removed by boot.py before user code */
#define PYX_CASE_NAME	".pyexec-case"
#define PYX_JAIL_UID	1000	/* the script's uid and gid inside the jail */

/*
 * Benchmark builds only (bench/isolation, compiled with -DPYX_BENCH) can
 * leave out one mechanism at a time to measure what it costs; in the
 * program itself BENCH_SKIP() is the constant 0 and the code is gone.
 */
#define SKIP_NETNS	0x01
#define SKIP_SECCOMP	0x02
#define SKIP_CGROUP	0x04
#define SKIP_ROOT	0x08
#ifdef PYX_BENCH
extern unsigned pyx_bench_skip;
#define BENCH_SKIP(bit)	(pyx_bench_skip & (bit))
#else
#define BENCH_SKIP(bit)	0
#endif

/* names.c: the one rule for attachment and return-file names */
int	 name_check(const char *, size_t, const char **);

/* io.c: whole reads and writes, no malloc */
int	 write_all(int, const void *, size_t);
int	 read_full(int, void *, size_t);
int	 write_string(const char *, const char *);
char	*fmt_path_uint(char *, size_t, const char *, unsigned long);

/* fdpass.c: one message and up to FDPASS_MAX fds (SCM_RIGHTS), no malloc */
#define FDPASS_MAX	8
int	 fd_send(int, const void *, size_t, const int *, int);
ssize_t	 fd_recv(int, void *, size_t, int *, int, int *, int);

/* seccomp.c: installs the filter policy/ compiled (last step before exec) */
struct policy {
	void		*prog;		/* struct sock_filter[] */
	unsigned short	 len;
};

int	 policy_apply(const struct policy *);

/* init.c and root.c: everything that runs inside the new namespaces */
enum ctl_type {
	CTL_READY = 1,		/* setup done; carries the workspace dirfd */
	CTL_FAIL,		/* setup failed; text says which step */
	CTL_EXIT,		/* the script's main process ended */
};

struct ctl_msg {
	uint32_t	 type;
	int32_t		 wstatus;
	int32_t		 err;
	struct rusage	 ru;
	char		 text[160];
};

/*
 * Everything the jail needs, prepared by the worker before clone so that
 * the child formats nothing and allocates nothing.
 */
#define JAIL_NRLIM	8
#define JAIL_FD_STDIN	0	/* indexes into jail_params.fds */
#define JAIL_FD_STDOUT	1
#define JAIL_FD_STDERR	2
#define JAIL_FD_VERDICT	3
#define JAIL_FD_CTL	4
#define JAIL_FD_DATA	5	/* zygote mode: code and attachments stream */
#define JAIL_NFDS	6

/*
 * The data stream (zygote mode): the worker writes the request's files to
 * the jail's init through a pipe, so they never pass through the zygote.
 * A struct jail_stream_hdr, then per file a struct jail_stream_file, the
 * name and the bytes. The first file is always PYX_SCRIPT_NAME.
 */
#define JAIL_STREAM_MAGIC	0x44585950u	/* "PYXD" */
struct jail_stream_hdr {
	uint32_t	 magic;
	uint32_t	 admin;		/* 1: admin caller (no import policy) */
	uint32_t	 nfiles;
	uint32_t	 pad;
};

struct jail_stream_file {
	uint32_t	 namelen;
	uint32_t	 pad;
	uint64_t	 datalen;
};

/* A file init writes into /work before any user code exists. */
struct jail_file {
	const char	*name;
	const void	*data;
	size_t		 len;
};

struct jail_params {
	const struct policy *policy;
	const struct jail_file *files;	/* exec mode: [0] is PYX_SCRIPT_NAME; */
	size_t		 nfiles;	/* zygote mode: NULL, the data stream */
	const char	*jaildir;	/* empty mkdtemp dir: the jail's mount point */
	char		 uid_map[64];	/* "1000 <worker uid> 1" */
	char		 gid_map[64];
	char		 ws_opts[128];	/* tmpfs options of the workspace */
	const char *const *argv;	/* python3 -I -u -c BOOT ...; NULL: the */
					/* caller runs Python (zygote mode) */
	const char *const *envp;
	int		 rlim_res[JAIL_NRLIM];
	struct rlimit	 rlim[JAIL_NRLIM];
	int		 nrlim;
	struct rlimit	 nproc;		/* counts the jail's init too */
	int		 fds[JAIL_NFDS];	/* child ends, worker-numbered */
	bool		 wait_go;	/* block until the worker attached cgroups */
	bool		 keep_reaping;	/* a session: init outlives Python (forks) */
	bool		 ids_by_parent;	/* maps written for us: setresuid(1000) */
	uint32_t	 jail_uid;	/* per-slot host ids (the zygote writes */
	uint32_t	 jail_gid;	/* the maps); 0: none */
	char		*wipe;		/* exec mode: the worker's admin key, which */
	size_t		 wipe_len;	/* init zeroes in its own (COW) copy */
	uint32_t	 max_files;	/* zygote mode: files the stream may hold */
	int		 fontlist_fd;	/* exec mode: bound read-only at */
	const char	*fontlist_name;	/* /tmp/.matplotlib/<name>; -1: none */
	uint32_t	 netns_lane;	/* zygote mode, runs that overlap: the
					 * zygote's netns number k, not its own */
	bool		 thin;		/* init execs the thin init (thin_fd) */
	int		 thin_fd;	/* once Python is forked; see thin.c */
	bool		 data_late;	/* zygote mode, a pre-built jail: the
					 * Python child reads the data stream on
					 * JAIL_LATE_FD (jail_late_files), once
					 * a request exists; init reads none */
	bool		 lane;		/* /evaluate's case server (zygote.c):
					 * its Python child keeps the jail's
					 * capabilities, runs no Python and no
					 * filter, and clones each case with
					 * jail_enter_case(); data_late too */
};

#define JAIL_LATE_FD	4	/* data_late: the stream in the Python child */
#define SBX_EXIT_SETUP	125	/* the Python child's setup failed */

/* The jail's environment; also the zygote's, whose children inherit it. */
extern const char *const jail_env[];

/* Zygote mode: network namespaces kept for runs that overlap (/evaluate) */
#define JAIL_NETNS_LANES	64
#define JAIL_CLONE_FLAGS	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | \
	    CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
/*
 * A case inside its lane's jail: the lane's user, network and UTS
 * namespaces and read-only root; a mount, PID and IPC namespace and a
 * workspace of its own (init.c, jail_enter_case).
 */
#define JAIL_CASE_CLONE_FLAGS	(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC)

/*
 * Between init.c and root.c: the state of one jail's init, on its stack,
 * and its checklist. Each step does one thing in the order the kernel
 * requires, and returns 0, or -1 with errno set and, where it helps,
 * j->detail naming what it was working on. jail_checklist() runs steps in
 * order and reports the first failure once, as CTL_FAIL "step detail"
 * with errno, then ends init.
 */
#define JAIL_HIGH_FD	200	/* init parks the fds it keeps at 200 + JAIL_FD_* */
/* past the font list's JAIL_HIGH_FD + JAIL_NFDS (exec mode): */
#define JAIL_THIN_FD	(JAIL_HIGH_FD + JAIL_NFDS + 1)	/* the thin init's image */
#define JAIL_THIN_CTL	(JAIL_HIGH_FD + JAIL_FD_CTL)	/* its one open fd */

struct jail {
	const struct jail_params *p;
	int		 ctl;		/* the control socket (parked: see init.c) */
	bool		 admin;		/* zygote mode: from the data stream */
	const char	*detail;	/* what the failing step was working on */
	int		 fontlist_fd;	/* parked; closed after the root is built */
};

struct jail_step {
	const char	*name;
	int		(*run)(struct jail *);
};

void	 jail_checklist(struct jail *, const struct jail_step *, size_t);
__attribute__((noreturn)) void jail_fail(struct jail *, const char *);
void	 jail_root(struct jail *);			/* root.c */
void	 jail_case_root(struct jail *);			/* root.c */

/*
 * init.c: called in the child of a clone(JAIL_CLONE_FLAGS), it builds the
 * jail and becomes its init (PID 1), which never returns. It forks the
 * Python child, which sets its limits, installs seccomp and execs argv;
 * with argv NULL (zygote mode) jail_enter returns in that child instead,
 * seccomp installed, *admin set from the data stream, for the caller to
 * run Python in-process.
 */
void	 jail_enter(const struct jail_params *, bool *);

/*
 * init.c: called in the lane server's child of a
 * clone(JAIL_CASE_CLONE_FLAGS) (zygote.c): one case of /evaluate, built
 * inside the lane's jail and becoming its init. As jail_enter with argv
 * NULL, it returns in the Python child, every capability dropped and
 * seccomp installed; init reaps and reports as a jail's does.
 */
void	 jail_enter_case(const struct jail_params *, bool *);

/*
 * root.c, data_late only: in the Python child, seccomp installed, cwd
 * /work: the request's files from JAIL_LATE_FD into the workspace, under
 * the same checks as init's reading; *admin from the stream's header.
 * Returns 0, or -1 (the child must then exit SBX_EXIT_SETUP).
 */
int	 jail_late_files(const struct jail_params *, bool *);

/*
 * thin.c: the thin init's image (thin_init.c, compiled in), in a sealed
 * memfd the jail's uid may execute but not read; made once per process
 * before any jail, handed to init as jail_params.thin_fd. Returns the fd
 * (close-on-exec) or -1 with errno set.
 */
int	 thin_init_open(void);

#endif /* PYX_JAIL_H */
