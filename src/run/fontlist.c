/*
 * fontlist.c: matplotlib's font list, built once per exec-mode worker.
 *
 * A fresh interpreter that imports matplotlib.pyplot scans every font on
 * the host and writes the result to its cache directory (~0.8 s), and each
 * exec-mode run starts with an empty /tmp, so every plot paid for it. The
 * worker builds the list once at start-up, in a private directory of
 * runtime_dir, with the same python3 the jails run, and keeps one
 * read-only descriptor of the file; the jail binds it read-only at
 * /tmp/.matplotlib/<name> (jail/root.c), where MPLCONFIGDIR points, and
 * matplotlib finds it there. Zygote mode needs none of this: the zygote
 * builds the list in its own memory before it forks (boot.py).
 *
 * Optional: without matplotlib, or on any failure, runs simply build the
 * list themselves as before; the log says why.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "run/run.h"

#define FONTLIST_PY	"import matplotlib.font_manager as f\n" \
	"print('fontlist-v%s.json' % f.FontManager.__version__)\n"
#define FONTLIST_DEADLINE	120.0	/* seconds; a slow, loaded machine */

static void
rm_tree_flat(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	int		 dfd;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			(void)unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	(void)rmdir(dir);
}

static bool
good_name(const char *s)
{
	size_t	 i;

	if (strncmp(s, "fontlist-", 9) != 0 || strlen(s) > 60)
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '-' || s[i] == '.'))
			return false;
	return true;
}

/*
 * Returns a read-only fd of the font list (name set), or -1. Runs
 * python3 with a fixed environment, nothing inherited but a pipe for its
 * one line of output, under a deadline.
 */
int
fontlist_build(const struct config *cfg, char *name, size_t namelen)
{
	char		 dir[PATH_MAX], env_cfg[PATH_MAX + 16], env_home[PATH_MAX + 8];
	char		 out[128], path[2 * PATH_MAX];
	/* execve wants writable strings: arrays, not literals. */
	char		 a0[] = "python3", a1[] = "-I", a2[] = "-c";
	char		 a3[] = FONTLIST_PY, e0[] = "PATH=/usr/bin:/bin";
	char		 e1[] = "LANG=C.UTF-8", e2[] = "MPLBACKEND=Agg";
	char		*argv[] = { a0, a1, a2, a3, NULL };
	char		*envp[] = { env_cfg, env_home, e0, e1, e2, NULL };
	struct pollfd	 p;
	size_t		 got = 0;
	ssize_t		 n;
	double		 deadline;
	pid_t		 pid;
	int		 fds[2], st = 0, fd = -1, dn;

	name[0] = '\0';
	if (snprintf(dir, sizeof(dir), "%s/mpl.%ld.XXXXXX", cfg->runtime_dir,
	    (long)getpid()) >= (int)sizeof(dir) || mkdtemp(dir) == NULL) {
		log_warn("font list: mkdtemp in %s", cfg->runtime_dir);
		return -1;
	}
	snprintf(env_cfg, sizeof(env_cfg), "MPLCONFIGDIR=%s", dir);
	snprintf(env_home, sizeof(env_home), "HOME=%s", dir);
	if (pipe2(fds, O_CLOEXEC) == -1) {
		log_warn("font list: pipe");
		rm_tree_flat(dir);
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_warn("font list: fork");
		close(fds[0]);
		close(fds[1]);
		rm_tree_flat(dir);
		return -1;
	}
	if (pid == 0) {
		/* No stdio or malloc here: dup2, close and exec only. */
		if (dup2(fds[1], 1) == -1 || (dn = open("/dev/null",
		    O_RDWR)) == -1 || dup2(dn, 0) == -1)
			_exit(127);
		closefrom(3);
		execve("/usr/bin/python3", argv, envp);
		_exit(127);
	}
	close(fds[1]);
	deadline = mono_now() + FONTLIST_DEADLINE;
	p = (struct pollfd){ fds[0], POLLIN, 0 };
	while (got < sizeof(out) - 1 && mono_now() < deadline) {
		if (poll(&p, 1, 1000) <= 0)
			continue;
		if ((n = read(fds[0], out + got, sizeof(out) - 1 - got)) <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	if (mono_now() >= deadline)
		(void)kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	out[got] = '\0';
	out[strcspn(out, "\n")] = '\0';
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || !good_name(out)) {
		log_warnx("font list: python3 could not build matplotlib's "
		    "(status 0x%x): exec-mode plots build their own", st);
		rm_tree_flat(dir);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, out);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		log_warn("font list: %s", path);
	else
		strlcpy(name, out, namelen);
	/* The open fd keeps the file; nothing stays in runtime_dir. */
	rm_tree_flat(dir);
	return fd;
}
