/*
 * uidmap.h: per-slot host uids (src/uidmap/). pyexec-uidmap (uidmap.c,
 * root, its own socket) writes the id maps; the worker's side is
 * run/uids.c. A request is one struct uidmap_req with descriptors as
 * SCM_RIGHTS: UIDMAP_SLOT a pidfd of a fresh jail init and the worker's
 * locked slot file, UIDMAP_RANGE a pidfd of the worker's zygote; the
 * answer is one struct uidmap_reply.
 */
#ifndef PYX_UIDMAP_H
#define PYX_UIDMAP_H

#include <sys/types.h>
#include <stdbool.h>
#include <stdint.h>

#define UIDMAP_MAGIC	0x4d555850u	/* "PXUM" */
#define UIDMAP_HELLO	1	/* -> the range: base uid/gid and count */
#define UIDMAP_SLOT	2	/* map PYX_JAIL_UID to base + slot in pidfd's ns */
#define UIDMAP_RANGE	3	/* zygote: own uid and the whole range, identity */
struct uidmap_req {
	uint32_t	 magic;
	uint32_t	 op;
	int32_t		 slot;
	uint32_t	 pad;
};

struct uidmap_reply {
	int32_t		 err;		/* 0 or an errno value */
	uint32_t	 uid_base;
	uint32_t	 gid_base;
	uint32_t	 count;
};

/* run/uids.c: the worker's connection to pyexec-uidmap. */
struct uids {
	int		 fd;		/* -1: run_uids = shared */
	uint32_t	 uid_base;
	uint32_t	 gid_base;
	uint32_t	 count;
};

struct config;
void	 uids_init(struct uids *, const struct config *, uid_t);
bool	 uids_per_slot(const struct uids *);
int	 uids_map_slot(struct uids *, int, int, int);
int	 uids_map_range(struct uids *, int);

#endif /* PYX_UIDMAP_H */
