/*
 * thin.c: the thin init's image, prepared once by the process that clones
 * jails (the zygote), before any jail exists. Part of the jail library:
 * no malloc, no stdio.
 *
 * The bytes of pyexec-thin-init (thin_init.c, a static program) are
 * compiled in (thin_init_bin.h), so there is no file to find, install or
 * keep in sync inside the jail's root: init execs the memfd through
 * /proc/self/fd, which its own /proc shows (init.c, become_thin).
 *
 * Why a memfd, and why mode 0111. The exec'd init runs as the script's
 * uid. The kernel makes a process non-dumpable across exec only if its
 * image is not readable by it (would_dump()); a dumpable init could have
 * its memory opened (/proc/1/mem) by the script between the exec and its
 * first prctl. Execute-only for everyone closes that window. The seals
 * keep the one image every jail of this process execs from ever
 * changing, and the writable descriptor is gone (an image open for
 * writing cannot be exec'd, and none is left to write through).
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "jail/jail.h"
#include "thin_init_bin.h"

#ifndef MFD_EXEC
#define MFD_EXEC	0x0010U		/* Linux >= 6.3: vm.memfd_noexec */
#endif

int
thin_init_open(void)
{
	char	 path[48];
	int	 rw, ro, e;

#if !defined(__x86_64__) && !defined(__aarch64__)
	errno = ENOSYS;		/* thin_init.c has no system calls here */
	return -1;
#endif

	rw = memfd_create("pyexec-thin-init", MFD_CLOEXEC | MFD_ALLOW_SEALING |
	    MFD_EXEC);
	if (rw == -1 && errno == EINVAL)	/* a kernel without MFD_EXEC */
		rw = memfd_create("pyexec-thin-init", MFD_CLOEXEC |
		    MFD_ALLOW_SEALING);
	if (rw == -1)
		return -1;
	ro = -1;
	if (write_all(rw, thin_init_bin, sizeof(thin_init_bin)) == -1 ||
	    fcntl(rw, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) == -1 ||
	    fmt_path_uint(path, sizeof(path), "/proc/self/fd/",
	    (unsigned long)rw) == NULL ||
	    (ro = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fchmod(ro, 0111) == -1) {
		e = errno;
		if (ro != -1)
			close(ro);
		close(rw);
		errno = e;
		return -1;
	}
	close(rw);
	return ro;
}
