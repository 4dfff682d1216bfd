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

#include <arpa/inet.h>

#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <grp.h>
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
	    "       pyexec-fcgi [-c config] --quota address [--reset]\n"
	    "  -c config  configuration file (default " DEFAULT_CONFIG ")\n"
	    "  -k file    admin key file, overriding admin_api_key_file (for\n"
	    "             systemd credentials: -k ${CREDENTIALS_DIRECTORY}/admin.key)\n"
	    "  -t         check the configuration and exit\n"
	    "  -B         print the largest valid request body in bytes\n"
	    "  -P         print the seccomp filter and exit\n"
	    "  -v         verbose logging\n"
	    "  --quota address  print a client's rate-limit and quota counts\n"
	    "             (an IPv6 address counts as its network, as served)\n"
	    "  --reset    with --quota: forget that client's counts\n");
	exit(2);
}

volatile sig_atomic_t worker_stopping;

static void
on_term(int sig)
{
	(void)sig;
	worker_stopping = 1;
	FCGX_ShutdownPending();
}

/* A key file: one line of 16 to 1024 bytes of text. NULL if unset. */
static char *
load_key_file(const char *name, const char *path, size_t *lenp)
{
	char	*key;
	size_t	 len;

	*lenp = 0;
	if (path[0] == '\0')
		return NULL;
	if (read_file_limited(path, &key, &len, 4096) == -1)
		fatal("%s %s", name, path);
	while (len > 0 && isspace((unsigned char)key[len - 1]))
		key[--len] = '\0';
	if (len < 16 || len > 1024 || strlen(key) != len)
		fatalx("%s %s: the key must be 16 to 1024 bytes of text", name,
		    path);
	*lenp = len;
	return key;
}

/* Both secrets in one buffer: see struct worker. */
static void
load_secrets(struct worker *w)
{
	char	*a, *t;
	size_t	 alen, tlen;

	a = load_key_file("admin_api_key_file", w->cfg.admin_api_key_file,
	    &alen);
	t = load_key_file("compat_token_file", w->cfg.compat_token_file,
	    &tlen);
	if (a == NULL && t == NULL)
		return;
	w->secrets_len = alen + 1 + tlen + 1;
	w->secrets = xmalloc(w->secrets_len);
	memset(w->secrets, 0, w->secrets_len);
	if (a != NULL) {
		memcpy(w->secrets, a, alen);
		w->admin_key = w->secrets;
		w->admin_key_len = alen;
		explicit_bzero(a, alen);
		free(a);
	}
	if (t != NULL) {
		memcpy(w->secrets + alen + 1, t, tlen);
		w->compat_token = w->secrets + alen + 1;
		w->compat_token_len = tlen;
		explicit_bzero(t, tlen);
		free(t);
	}
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
	const char	*quota;		/* --quota ADDRESS */
	bool		 check, body, dump, verbose, reset;
};

static void
parse_flags(int argc, char *argv[], struct flags *f)
{
	static const struct option longopts[] = {
		{ "quota", required_argument, NULL, 'Q' },
		{ "reset", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	int	 ch;

	memset(f, 0, sizeof(*f));
	f->conf = DEFAULT_CONFIG;
	while ((ch = getopt_long(argc, argv, "BPc:k:tv", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'Q':
			f->quota = optarg;
			break;
		case 'R':
			f->reset = true;
			break;
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
	if (optind != argc || (f->reset && f->quota == NULL) ||
	    (f->quota != NULL && (f->check || f->body || f->dump)))
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

/*
 * The path of the rate-limit store in state_dir: the workers' and
 * --quota's alike.
 */
static void
store_path_of(const struct config *c, char *out, size_t len)
{
	if (snprintf(out, len, "%s/ratelimit.sqlite", c->state_dir) >=
	    (int)len)
		fatalx("state_dir is too long");
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
	/*
	 * multiwatch stops its workers with SIGUSR1. Ours, not libfcgi's
	 * (FCGX_Init installs its own only where none is), so that
	 * worker_stopping is set for every way of being stopped.
	 */
	sigaction(SIGUSR1, &sa, NULL);

	load_secrets(w);
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
	    .wipe = w->secrets, .wipe_len = w->secrets_len,
	    .fontlist_fd = -1 };
	if (w->cfg.mode == MODE_EXEC)
		w->runner.fontlist_fd = fontlist_build(&w->cfg,
		    w->runner.fontlist_name, sizeof(w->runner.fontlist_name));
	else
		w->runner.spare = sup_spare_new();
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
	store_path_of(&w->cfg, w->store_path, sizeof(w->store_path));
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
	sup_spare_drop(&w->runner);
	zyg_stop(&w->zyg);
	policy_free(&w->policy);
	cg_cleanup(&w->cg);
	if (w->store != NULL)
		store_close(w->store);
	if (w->secrets != NULL) {
		explicit_bzero(w->secrets, w->secrets_len);
		free(w->secrets);
	}
}

/*
 * pyexec-fcgi --quota ADDRESS [--reset]: an operator's look at one
 * client's counters, in the workers' own store, counted under the same
 * key (an IPv6 address becomes its rate_limit_ipv6_prefix network).
 * Run as root it first becomes the owner of state_dir (the service's
 * user): SQLite's -wal and -shm files made by root would lock the
 * workers out, and the store refuses a directory that is not the
 * caller's.
 */
static int
quota_main(const struct config *cfg, const char *addr, bool reset)
{
	struct quota_info	 q;
	struct store		*st;
	struct stat		 sb;
	unsigned char		 bin[sizeof(struct in6_addr)];
	char			 path[PATH_MAX], key[STORE_KEY_MAX];
	char			 err[3 * PATH_MAX];
	long long		 removed = 0;

	if (inet_pton(AF_INET, addr, bin) != 1 &&
	    inet_pton(AF_INET6, addr, bin) != 1) {
		fprintf(stderr, "pyexec-fcgi: --quota: '%s' is not an IPv4 or "
		    "IPv6 address\n", addr);
		return 2;
	}
	if (geteuid() == 0) {
		if (stat(cfg->state_dir, &sb) == -1)
			fatal("state_dir %s", cfg->state_dir);
		if (sb.st_uid != 0 && (setgroups(0, NULL) == -1 ||
		    setresgid(sb.st_gid, sb.st_gid, sb.st_gid) == -1 ||
		    setresuid(sb.st_uid, sb.st_uid, sb.st_uid) == -1))
			fatal("becoming the owner of %s", cfg->state_dir);
	}
	store_path_of(cfg, path, sizeof(path));
	store_client_key(addr, cfg->rate_limit_ipv6_prefix, key, sizeof(key));
	if ((st = store_open(path, err, sizeof(err))) == NULL)
		fatalx("rate-limit store %s: %s", path, err);
	if (reset && (removed = store_reset(st, key)) == -1)
		fatalx("%s", store_errmsg(st));
	if (store_peek(st, key, time(NULL), cfg->rate_limit_per_minute,
	    cfg->daily_quota, &q) == -1)
		fatalx("%s", store_errmsg(st));
	store_close(st);
	printf("client: %s\n", key);
	if (reset)
		printf("reset: %lld rows removed\n", removed);
	printf("requests_today: %lld\n"
	    "daily_quota: %lld\n"
	    "remaining_today: %lld\n"
	    "requests_last_minute: %lld\n"
	    "rate_limit_per_minute: %lld\n"
	    "retry_after_seconds: %d\n",
	    q.requests_today, q.daily_limit, q.remaining_today,
	    q.requests_last_minute, q.minute_limit, q.retry_after_seconds);
	return 0;
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
	if (f.quota != NULL)
		return quota_main(&w.cfg, f.quota, f.reset);

	start_worker(&w, f.conf);
	if (fcgi_serve(&w) == -1)
		return 1;
	stop_worker(&w);
	return 0;
}
