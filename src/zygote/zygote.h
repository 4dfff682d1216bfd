/*
 * zygote.h: mode = zygote (src/zygote/). Two programs share this
 * directory: pyexec-zygote itself (zygote.c: a warm CPython that clones
 * jails and never sees a request), and the worker's client for it
 * (client.c: starts, recycles and asks the zygote). proto.h is the wire
 * between them.
 */
#ifndef PYX_ZYGOTE_H
#define PYX_ZYGOTE_H

#include <sys/types.h>

#include "common/common.h"
#include "jail/jail.h"
#include "uidmap/uidmap.h"

/* client.c: the worker's handle on its zygote. */
struct zygote {
	const struct config *cfg;	/* zygote_path, _max_runs, _max_age, imports */
	pid_t		 pid;
	int		 ctl;
	unsigned long	 runs;
	double		 started;
	struct uids	*uids;		/* per-slot ids: the range is mapped for it */
	const pid_t	*busy;		/* inits of runs in flight (/evaluate): */
	size_t		 nbusy;		/* never reaped as strays */
	pid_t		 spare;		/* a pre-built jail's init: nor this */
	unsigned long	 gen;		/* zygotes started: which one a jail is of */
};

void	 zyg_init(struct zygote *, const struct config *);
int	 zyg_spawn(struct zygote *, const struct jail_params *, pid_t *, int *);
int	 zyg_spawn_case(struct zygote *, int, const struct jail_params *,
	    int *);
void	 zyg_stop(struct zygote *);
struct sess_params;
int	 zyg_spawn_session(struct zygote *, const struct jail_params *,
	    const struct sess_params *, const int *, pid_t *);

#endif /* PYX_ZYGOTE_H */
