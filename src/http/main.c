/*
 * main.c: process start-up and the only place allowed to exit the worker.
 * Loads the configuration and the admin key, compiles the seccomp filter,
 * runs the self-test, then serves FastCGI requests on fd 0 (where
 * spawn-fcgi leaves the listening socket) until told to stop.
 *
 * It refuses to start as root: nothing in the request path runs with
 * privilege, and RLIMIT_NPROC, one of the fork-bomb defences, is not
 * enforced for root.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "http/http.h"
#include "policy/policy.h"
#include "store/metrics.h"

#define DEFAULT_CONFIG	"/etc/pyexec/pyexec.conf"

__attribute__((noreturn)) static void
usage(void)
{
	fprintf(stderr, "usage: pyexec-fcgi [-tBPv] [-c config] [-k keyfile]\n"
	    "  -c config  configuration file (default " DEFAULT_CONFIG ")\n"
	    "  -k file    admin key file, overriding admin_api_key_file (for\n"
	    "             systemd credentials: -k ${CREDENTIALS_DIRECTORY}/admin.key)\n"
	    "  -t         check the configuration and exit\n"
	    "  -B         print the largest valid request body in bytes\n"
	    "  -P         print the seccomp filter and exit\n"
	    "  -v         verbose logging\n");
	exit(2);
}

static void
on_term(int sig)
{
	(void)sig;
	FCGX_ShutdownPending();
}

static void
load_admin_key(struct worker *w)
{
	char	*key;
	size_t	 len;

	if (w->cfg.admin_api_key_file[0] == '\0')
		return;
	if (read_file_limited(w->cfg.admin_api_key_file, &key, &len, 4096) ==
	    -1)
		fatal("admin_api_key_file %s", w->cfg.admin_api_key_file);
	while (len > 0 && isspace((unsigned char)key[len - 1]))
		key[--len] = '\0';
	if (len < 16 || len > 1024 || strlen(key) != len)
		fatalx("admin_api_key_file %s: the key must be 16 to 1024 "
		    "bytes of text", w->cfg.admin_api_key_file);
	w->admin_key = key;
	w->admin_key_len = len;
}

/*
 * Jail mount points are created here; a directory others could write to
 * would let them race mkdtemp or fill it.
 */
static void
check_runtime_dir(const struct config *c)
{
	struct stat	 st;

	if (lstat(c->runtime_dir, &st) == -1)
		fatal("runtime_dir %s", c->runtime_dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) != 0)
		fatalx("runtime_dir %s must be a directory owned by uid %lu and "
		    "writable only by it", c->runtime_dir,
		    (unsigned long)geteuid());
}

/*
 * A worker killed mid-run leaves its run's mount point behind, an empty
 * directory (the tmpfs lived in the jail's own mount namespace). The names
 * carry the worker's pid: remove those of workers that are gone, never a
 * live one's (removing a mount point in use would detach the run's root).
 */
static void
sweep_dead_jails(const struct config *c)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[PATH_MAX], *end;
	long		 pid;

	if ((d = opendir(c->runtime_dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "jail.", 5) != 0)
			continue;
		errno = 0;
		pid = strtol(de->d_name + 5, &end, 10);
		if (errno != 0 || *end != '.' || pid <= 0 ||
		    pid == (long)getpid() || !pid_gone((pid_t)pid))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", c->runtime_dir,
		    de->d_name) < (int)sizeof(path))
			(void)rmdir(path);
	}
	closedir(d);
}

/*
 * At start-up and every 8 requests: what workers that were killed left
 * behind (their replacement may start before the dead one is reaped).
 */
void
worker_sweep(struct worker *w)
{
	sweep_dead_jails(&w->cfg);
	cg_sweep(&w->cg);
}

struct flags {
	const char	*conf;
	const char	*keyfile;
	bool		 check, body, dump, verbose;
};

static void
parse_flags(int argc, char *argv[], struct flags *f)
{
	int	 ch;

	memset(f, 0, sizeof(*f));
	f->conf = DEFAULT_CONFIG;
	while ((ch = getopt(argc, argv, "BPc:k:tv")) != -1) {
		switch (ch) {
		case 'B':
			f->body = true;
			break;
		case 'P':
			f->dump = true;
			break;
		case 'c':
			f->conf = optarg;
			break;
		case 'k':
			f->keyfile = optarg;
			break;
		case 't':
			f->check = true;
			break;
		case 'v':
			f->verbose = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

/*
 * Everything a worker needs before its first request, in order; any
 * failure ends the process with the reason (fail closed: no partial
 * worker ever serves).
 */
/*
 * The soft fd limit up to the hard one. A worker holds few fds itself,
 * but passing a run's pipes to the zygote and receiving a jail's workspace
 * (SCM_RIGHTS) is refused once the fds in flight for its uid exceed its
 * soft RLIMIT_NOFILE, and systemd's default soft limit is 1024. The jail
 * sets Python's own limit (256) whatever the worker's.
 */
static void
raise_nofile(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit(RLIMIT_NOFILE)");
	if (rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("setrlimit(RLIMIT_NOFILE)");
}

static void
start_worker(struct worker *w, const char *conf)
{
	struct sigaction	 sa;
	char			 err[3 * PATH_MAX];
	int			 age;

	if (geteuid() == 0 || getuid() == 0)
		fatalx("refusing to run as root: run the workers as an "
		    "unprivileged user (spawn-fcgi -u)");
	w->uid = getuid();
	w->gid = getgid();
	raise_nofile();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	load_admin_key(w);
	check_runtime_dir(&w->cfg);
	uids_init(&w->uids, &w->cfg, w->uid);
	w->zyg.uids = uids_per_slot(&w->uids) ? &w->uids : NULL;
	if (policy_prepare(&w->policy, err, sizeof(err)) == -1)
		fatalx("seccomp: %s", err);
	cg_init(&w->cg, &w->cfg, err, sizeof(err));
	log_info("limits: %s", err);
	w->runner = (struct runner){ .cfg = &w->cfg, .policy = &w->policy,
	    .cg = &w->cg, .zyg = &w->zyg, .uids = &w->uids,
	    .uid = w->uid, .gid = w->gid,
	    .wipe = w->admin_key, .wipe_len = w->admin_key_len,
	    .fontlist_fd = -1 };
	if (w->cfg.mode == MODE_EXEC)
		w->runner.fontlist_fd = fontlist_build(&w->cfg,
		    w->runner.fontlist_name, sizeof(w->runner.fontlist_name));
	worker_sweep(w);
	if ((age = selftest_recent(&w->cfg, conf)) >= 0)
		log_info("self-test: passed %d s ago for this binary, "
		    "configuration and boot; not repeated", age);
	else if (selftest_run(&w->runner) == -1)
		fatalx("self-test failed: refusing to serve");
	else
		selftest_stamp(&w->cfg, conf);
	/*
	 * A store that cannot be opened does not stop the worker: public
	 * requests get 503 (retrying the open each time), admins still run.
	 */
	if (snprintf(w->store_path, sizeof(w->store_path),
	    "%s/ratelimit.sqlite", w->cfg.state_dir) >=
	    (int)sizeof(w->store_path))
		fatalx("state_dir is too long");
	if ((w->store = store_open(w->store_path, err, sizeof(err))) == NULL)
		log_warnx("rate-limit store %s: %s (public requests get 503 "
		    "until it opens)", w->store_path, err);
	if (met_open(w->cfg.runtime_dir, err, sizeof(err)) == -1)
		log_warnx("metrics: %s (this worker counts alone)", err);
	log_info("worker ready: mode %s, seccomp filter %u instructions, "
	    "admin key %s", w->cfg.mode == MODE_ZYGOTE ? "zygote" : "exec",
	    w->policy.len, w->admin_key ? "loaded" : "not configured");
}

static void
stop_worker(struct worker *w)
{
	log_info("worker stopping after %lu requests", w->served);
	zyg_stop(&w->zyg);
	policy_free(&w->policy);
	cg_cleanup(&w->cg);
	if (w->store != NULL)
		store_close(w->store);
	if (w->admin_key != NULL) {
		explicit_bzero(w->admin_key, w->admin_key_len);
		free(w->admin_key);
	}
}

int
main(int argc, char *argv[])
{
	struct worker	 w;
	struct flags	 f;
	char		 err[3 * PATH_MAX];

	parse_flags(argc, argv, &f);
	log_init("pyexec", f.verbose);

	memset(&w, 0, sizeof(w));
	w.uids.fd = -1;
	zyg_init(&w.zyg, &w.cfg);
	cfg_defaults(&w.cfg);
	if (cfg_load(&w.cfg, f.conf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (f.keyfile != NULL && strlcpy(w.cfg.admin_api_key_file, f.keyfile,
	    sizeof(w.cfg.admin_api_key_file)) >=
	    sizeof(w.cfg.admin_api_key_file))
		fatalx("-k: path too long");
	if (f.check) {
		printf("configuration OK\n");
		return 0;
	}
	if (f.body) {
		printf("%zu\n", cfg_max_body(&w.cfg));
		return 0;
	}
	if (f.dump) {
		if (policy_dump(STDOUT_FILENO, err, sizeof(err)) == -1)
			fatalx("seccomp: %s", err);
		return 0;
	}

	start_worker(&w, f.conf);
	if (fcgi_serve(&w) == -1)
		return 1;
	stop_worker(&w);
	return 0;
}
