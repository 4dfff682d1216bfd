/*
 * store.c: the counters behind abuse control, shared by every worker and
 * kept across their restarts: a sliding one-minute window and a quota per
 * UTC day for each client address, in one SQLite database (WAL mode) in
 * state_dir. Owns struct store and the database file.
 *
 * It must never let a request through on its own account: whatever goes
 * wrong (locked past the busy timeout, corrupt, disk full, read-only) is
 * STORE_FAILED and nothing is charged; the caller answers 503, never runs
 * the code unmetered. It knows nothing of HTTP, admins or requests, so a
 * Redis backend can replace it behind the same calls.
 *
 * How the request path uses it, in this order:
 *   1. Parse and validate the request. A request that fails validation is
 *      answered at once; store_peek() gives the figures for user_info
 *      without charging (the seed charged first, so junk ate quota).
 *   2. Admin check. Admins are neither charged nor limited.
 *   3. Public callers: store_charge(st, REMOTE_ADDR, time(NULL),
 *      rate_limit_per_minute, daily_quota, &q). The address is REMOTE_ADDR
 *      as nginx's realip left it, never X-Forwarded-For read here.
 *        STORE_OK              go on; quota_info fills user_info
 *        STORE_RATE_LIMITED    429, Retry-After: retry_after_seconds
 *        STORE_QUOTA_EXCEEDED  429, Retry-After: seconds to UTC midnight
 *        STORE_FAILED          503 (PYX_E_UNAVAILABLE); log store_errmsg()
 *      A refused request charges nothing, neither window nor quota.
 *   (execute.c takes the run's slot, slots_acquire(), just before step 3:
 *   a request refused with 503 ServerBusy never runs, so it is not
 *   charged; a request refused here releases its slot at once.)
 *   4. Run, reply, slots_release() in the request's teardown.
 * Each worker opens its own store at start-up (state_dir/ratelimit.sqlite;
 * refusing to start if that fails) and keeps it for its life: an SQLite
 * connection must not cross fork(2), and store_charge() refuses one that
 * did. Never call it from a forked child, not even store_close().
 *
 * The window is a sliding log with one row per (address, second) holding
 * a hit count, so an address costs about 60 rows however high the limit.
 * A charge at second t passes only if fewer than per_minute hits carry a
 * second after t - 60, later ones included (a worker whose clock runs
 * ahead may have charged them). So the last hit charged inside any 60 s
 * span counted every other hit of that span, and no span ever holds more
 * than per_minute, however workers' clocks and calls interleave. Each
 * charge is one BEGIN IMMEDIATE transaction: workers queue on SQLite's
 * write lock (busy timeout STORE_BUSY_MS) and no update is lost.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/common.h"
#include "store/store.h"

#define STORE_BUSY_MS	2000	/* longer is an outage: STORE_FAILED */
#define STORE_SCHEMA	1	/* PRAGMA user_version of the layout below */
#define STORE_WINDOW	60	/* seconds of the per-minute window */
#define STORE_DAY	86400
#define STORE_PRUNE	256	/* stale rows deleted per charge, at most */

#define STR(x)		#x
#define XSTR(x)		STR(x)

/* The window log and the day counters, each indexed for pruning by age. */
static const char *const schema_sql =
	"CREATE TABLE minute_hits ("
	"  ip TEXT NOT NULL, ts INTEGER NOT NULL, n INTEGER NOT NULL,"
	"  PRIMARY KEY (ip, ts));"
	"CREATE INDEX minute_hits_ts ON minute_hits (ts);"
	"CREATE TABLE daily ("
	"  ip TEXT NOT NULL, day INTEGER NOT NULL, n INTEGER NOT NULL,"
	"  PRIMARY KEY (ip, day));"
	"CREATE INDEX daily_day ON daily (day);"
	"PRAGMA user_version = " XSTR(STORE_SCHEMA) ";";

enum store_q {
	Q_BEGIN_WRITE,
	Q_BEGIN_READ,
	Q_COMMIT,
	Q_PRUNE_MINUTE,
	Q_PRUNE_DAILY,
	Q_MINUTE_SUM,
	Q_MINUTE_LIST,
	Q_DAILY_GET,
	Q_MINUTE_ADD,
	Q_DAILY_ADD,
	Q_MINUTE_SUB,
	Q_DAILY_SUB,
	Q_RESET_MINUTE,
	Q_RESET_DAILY,
	Q__COUNT
};

static const char *const store_sql[Q__COUNT] = {
	[Q_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[Q_BEGIN_READ] = "BEGIN",
	[Q_COMMIT] = "COMMIT",
	[Q_PRUNE_MINUTE] = "DELETE FROM minute_hits WHERE rowid IN"
	    " (SELECT rowid FROM minute_hits WHERE ts <= ?1 LIMIT ?2)",
	[Q_PRUNE_DAILY] = "DELETE FROM daily WHERE rowid IN"
	    " (SELECT rowid FROM daily WHERE day < ?1 LIMIT ?2)",
	[Q_MINUTE_SUM] = "SELECT coalesce(sum(n), 0) FROM minute_hits"
	    " WHERE ip = ?1 AND ts > ?2",
	[Q_MINUTE_LIST] = "SELECT ts, n FROM minute_hits"
	    " WHERE ip = ?1 AND ts > ?2 ORDER BY ts",
	[Q_DAILY_GET] = "SELECT n FROM daily WHERE ip = ?1 AND day = ?2",
	[Q_MINUTE_ADD] = "INSERT INTO minute_hits (ip, ts, n)"
	    " VALUES (?1, ?2, ?3) ON CONFLICT (ip, ts) DO UPDATE SET n = n + ?3",
	[Q_DAILY_ADD] = "INSERT INTO daily (ip, day, n)"
	    " VALUES (?1, ?2, ?3) ON CONFLICT (ip, day) DO UPDATE SET n = n + ?3",
	[Q_MINUTE_SUB] = "UPDATE minute_hits SET n = n - 1"
	    " WHERE ip = ?1 AND ts = ?2 AND n > 0",
	[Q_DAILY_SUB] = "UPDATE daily SET n = n - 1"
	    " WHERE ip = ?1 AND day = ?2 AND n > 0",
	[Q_RESET_MINUTE] = "DELETE FROM minute_hits WHERE ip = ?1",
	[Q_RESET_DAILY] = "DELETE FROM daily WHERE ip = ?1",
};

struct store {
	sqlite3		*db;
	sqlite3_stmt	*q[Q__COUNT];
	pid_t		 pid;		/* the process that opened it */
	char		 path[PATH_MAX];
	char		 errmsg[PATH_MAX + 256];	/* room for the path */
};

/* Calendar arithmetic on the epoch: floor, so instants before 1970 work too. */
static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static void
seterr(struct store *st, const char *what)
{
	int	 code = sqlite3_extended_errcode(st->db);

	snprintf(st->errmsg, sizeof(st->errmsg), "%s: %s: %s (sqlite %d)",
	    st->path, what, sqlite3_errmsg(st->db), code);
}

/* Runs a statement that returns no rows. */
static int
exec_q(struct store *st, enum store_q q, const char *what)
{
	sqlite3_stmt	*s = st->q[q];
	int		 rc;

	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		seterr(st, what);
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return -1;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return 0;
}

/* Runs a statement that returns at most one integer; none reads as 0. */
static int
int_q(struct store *st, enum store_q q, const char *what, int64_t *out)
{
	sqlite3_stmt	*s = st->q[q];
	int		 rc;

	*out = 0;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(s, 0);
		rc = sqlite3_step(s);
	}
	if (rc != SQLITE_DONE) {
		seterr(st, what);
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return -1;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return 0;
}

static int
bind_key(struct store *st, enum store_q q, const char *ip, int64_t v)
{
	sqlite3_stmt	*s = st->q[q];

	if (sqlite3_bind_text(s, 1, ip, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, v) != SQLITE_OK) {
		seterr(st, "bind");
		sqlite3_clear_bindings(s);
		return -1;
	}
	return 0;
}

static int
bind_n(struct store *st, enum store_q q, int n)
{
	if (sqlite3_bind_int(st->q[q], 3, n) != SQLITE_OK) {
		seterr(st, "bind");
		sqlite3_clear_bindings(st->q[q]);
		return -1;
	}
	return 0;
}

/* Deletes at most STORE_PRUNE rows older than before. */
static int
prune(struct store *st, enum store_q q, int64_t before, const char *what)
{
	sqlite3_stmt	*s = st->q[q];

	if (sqlite3_bind_int64(s, 1, before) != SQLITE_OK ||
	    sqlite3_bind_int(s, 2, STORE_PRUNE) != SQLITE_OK) {
		seterr(st, "bind");
		sqlite3_clear_bindings(s);
		return -1;
	}
	return exec_q(st, q, what);
}

/*
 * After a failure inside a transaction. SQLite may already have rolled
 * back (a full disk does that); the message of the first error is kept.
 */
static void
rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/*
 * Seconds until the window has room again: the oldest hits leave it one
 * by one, each STORE_WINDOW seconds after its second.
 */
static int
window_retry(struct store *st, const char *ip, int64_t now, int64_t used,
    int64_t limit, int *retry)
{
	sqlite3_stmt	*s = st->q[Q_MINUTE_LIST];
	int64_t		 need = used - limit + 1, gone = 0, ts = now;
	int		 rc;

	if (bind_key(st, Q_MINUTE_LIST, ip, now - STORE_WINDOW) == -1)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ts = sqlite3_column_int64(s, 0);
		gone += sqlite3_column_int64(s, 1);
		if (gone >= need)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		seterr(st, "read window");
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return -1;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	ts = ts + STORE_WINDOW - now;
	*retry = ts < 1 ? 1 : ts > INT_MAX ? INT_MAX : (int)ts;
	return 0;
}

/*
 * Reads ip's figures at now into *out and says what a charge would do.
 * Runs inside the caller's transaction.
 */
static int
evaluate(struct store *st, const char *ip, int64_t now, int per_minute,
    int daily, int n, struct quota_info *out, enum store_result *verdict)
{
	int64_t		 day = floor_div(now, STORE_DAY), used, today;
	int		 retry_min = 0, retry_day;
	bool		 window_full;

	if (bind_key(st, Q_MINUTE_SUM, ip, now - STORE_WINDOW) == -1 ||
	    int_q(st, Q_MINUTE_SUM, "read window", &used) == -1)
		return -1;
	if (bind_key(st, Q_DAILY_GET, ip, day) == -1 ||
	    int_q(st, Q_DAILY_GET, "read quota", &today) == -1)
		return -1;

	out->requests_today = today;
	out->remaining_today = today < daily ? daily - today : 0;
	out->requests_last_minute = used;
	window_full = used + n > per_minute;
	if (window_full && window_retry(st, ip, now, used, per_minute - n + 1,
	    &retry_min) == -1)
		return -1;

	if (today + n > daily) {
		/* Until midnight, unless the window stays full past it. */
		retry_day = (int)((day + 1) * STORE_DAY - now);
		out->retry_after_seconds = retry_min > retry_day ?
		    retry_min : retry_day;
		*verdict = STORE_QUOTA_EXCEEDED;
	} else if (window_full) {
		out->retry_after_seconds = retry_min;
		*verdict = STORE_RATE_LIMITED;
	} else {
		out->retry_after_seconds = 0;
		*verdict = STORE_OK;
	}
	return 0;
}

/* Arguments a caller could get wrong; wrong ones fail closed. */
static int
check_args(struct store *st, const char *ip, int per_minute, int daily,
    struct quota_info *out)
{
	size_t	 len;

	memset(out, 0, sizeof(*out));
	out->minute_limit = per_minute;
	out->daily_limit = daily;
	if (st->pid != getpid()) {
		snprintf(st->errmsg, sizeof(st->errmsg), "%s: the store was "
		    "opened by pid %ld; each process must open its own",
		    st->path, (long)st->pid);
		return -1;
	}
	if (ip == NULL || (len = strnlen(ip, STORE_KEY_MAX + 1)) == 0 ||
	    len > STORE_KEY_MAX) {
		snprintf(st->errmsg, sizeof(st->errmsg), "%s: client address "
		    "missing or longer than %d bytes", st->path, STORE_KEY_MAX);
		return -1;
	}
	if (per_minute < 1 || daily < 1) {
		snprintf(st->errmsg, sizeof(st->errmsg), "%s: limits must be "
		    "positive (per minute %d, daily %d)", st->path, per_minute,
		    daily);
		return -1;
	}
	return 0;
}

/*
 * Charges one request of ip at now against both limits, or refuses it and
 * charges nothing. *out (may be NULL) gets the figures after the charge;
 * on STORE_FAILED only the two limits, and store_errmsg() says why.
 */
enum store_result
store_charge(struct store *st, const char *ip, time_t now, int per_minute,
    int daily, struct quota_info *out)
{
	return store_charge_n(st, ip, now, per_minute, daily, 1, out);
}

/*
 * n requests at once (POST /evaluate: one per test case), all or none:
 * refused unless the window and the day both have room for all n.
 */
enum store_result
store_charge_n(struct store *st, const char *ip, time_t now, int per_minute,
    int daily, int n, struct quota_info *out)
{
	struct quota_info	 scratch;
	enum store_result	 verdict;
	int64_t			 t = (int64_t)now;

	if (out == NULL)
		out = &scratch;
	if (st == NULL) {
		memset(out, 0, sizeof(*out));
		return STORE_FAILED;
	}
	if (check_args(st, ip, per_minute, daily, out) == -1)
		return STORE_FAILED;
	if (n < 1) {
		snprintf(st->errmsg, sizeof(st->errmsg), "%s: a charge of %d",
		    st->path, n);
		return STORE_FAILED;
	}

	/*
	 * Refusals are decided on a read snapshot, without the write lock:
	 * the counts of a given instant only grow (pruning takes older rows
	 * only), so a snapshot that is full stays full, and a flood from a
	 * refused address does not queue every worker behind the writer.
	 */
	if (exec_q(st, Q_BEGIN_READ, "begin") == -1 ||
	    evaluate(st, ip, t, per_minute, daily, n, out, &verdict) == -1 ||
	    exec_q(st, Q_COMMIT, "commit") == -1)
		goto fail;
	if (verdict != STORE_OK)
		return verdict;

	if (exec_q(st, Q_BEGIN_WRITE, "begin") == -1)
		goto fail;

	/*
	 * Bounded, so one request never pays for a day of idle history; with
	 * a margin (one more window, one more day), so that a worker whose
	 * clock is a little behind still finds the rows it must count.
	 */
	if (prune(st, Q_PRUNE_MINUTE, t - 2 * STORE_WINDOW, "prune window") ==
	    -1 || prune(st, Q_PRUNE_DAILY, floor_div(t, STORE_DAY) - 1,
	    "prune quota") == -1)
		goto fail;

	/* Again, now that no other worker can charge in between. */
	if (evaluate(st, ip, t, per_minute, daily, n, out, &verdict) == -1)
		goto fail;
	if (verdict == STORE_OK) {
		if (bind_key(st, Q_MINUTE_ADD, ip, t) == -1 ||
		    bind_n(st, Q_MINUTE_ADD, n) == -1 ||
		    exec_q(st, Q_MINUTE_ADD, "charge window") == -1 ||
		    bind_key(st, Q_DAILY_ADD, ip,
		    floor_div(t, STORE_DAY)) == -1 ||
		    bind_n(st, Q_DAILY_ADD, n) == -1 ||
		    exec_q(st, Q_DAILY_ADD, "charge quota") == -1)
			goto fail;
	}
	if (exec_q(st, Q_COMMIT, "commit") == -1)
		goto fail;

	if (verdict == STORE_OK) {
		out->requests_today += n;
		out->remaining_today = out->requests_today < daily ?
		    daily - out->requests_today : 0;
		out->requests_last_minute += n;
	}
	return verdict;

fail:
	rollback(st);
	memset(out, 0, sizeof(*out));
	out->minute_limit = per_minute;
	out->daily_limit = daily;
	return STORE_FAILED;
}

/*
 * Takes back one charge store_charge() made for ip at when (the same
 * instant, so the same rows), for a request whose code never started
 * because the sandbox failed: the caller was told to retry and must not
 * pay twice. A row pruned meanwhile is simply not found. 0, or -1 with
 * store_errmsg() set.
 */
int
store_refund(struct store *st, const char *ip, time_t when)
{
	int64_t	 t = (int64_t)when;

	if (st == NULL || ip == NULL || *ip == '\0' ||
	    strlen(ip) >= STORE_KEY_MAX)
		return -1;
	if (exec_q(st, Q_BEGIN_WRITE, "begin") == -1 ||
	    bind_key(st, Q_MINUTE_SUB, ip, t) == -1 ||
	    exec_q(st, Q_MINUTE_SUB, "refund window") == -1 ||
	    bind_key(st, Q_DAILY_SUB, ip, floor_div(t, STORE_DAY)) == -1 ||
	    exec_q(st, Q_DAILY_SUB, "refund quota") == -1 ||
	    exec_q(st, Q_COMMIT, "commit") == -1) {
		rollback(st);
		return -1;
	}
	return 0;
}

/*
 * The figures store_charge() would start from, charging nothing: for the
 * replies to requests that are not charged. retry_after_seconds is set if
 * a charge now would be refused. 0, or -1 with store_errmsg() set.
 */
int
store_peek(struct store *st, const char *ip, time_t now, int per_minute,
    int daily, struct quota_info *out)
{
	enum store_result	 verdict;

	if (st == NULL || out == NULL) {
		if (out != NULL)
			memset(out, 0, sizeof(*out));
		return -1;
	}
	if (check_args(st, ip, per_minute, daily, out) == -1)
		return -1;
	if (exec_q(st, Q_BEGIN_READ, "begin") == -1)
		goto fail;
	if (evaluate(st, ip, (int64_t)now, per_minute, daily, 1, out,
	    &verdict) == -1)
		goto fail;
	if (exec_q(st, Q_COMMIT, "commit") == -1)
		goto fail;
	return 0;

fail:
	rollback(st);
	memset(out, 0, sizeof(*out));
	out->minute_limit = per_minute;
	out->daily_limit = daily;
	return -1;
}

/*
 * Forgets every count of one client key (the operator's --quota --reset):
 * its window and its days, in one write transaction, so a worker charging
 * meanwhile is counted either before (and forgotten) or after. Returns the
 * rows removed, or -1 with store_errmsg() set.
 */
long long
store_reset(struct store *st, const char *ip)
{
	struct quota_info	 scratch;
	long long		 n;

	if (st == NULL || check_args(st, ip, 1, 1, &scratch) == -1)
		return -1;
	if (exec_q(st, Q_BEGIN_WRITE, "begin") == -1)
		goto fail;
	if (sqlite3_bind_text(st->q[Q_RESET_MINUTE], 1, ip, -1,
	    SQLITE_STATIC) != SQLITE_OK || exec_q(st, Q_RESET_MINUTE,
	    "reset window") == -1)
		goto fail;
	n = sqlite3_changes(st->db);
	if (sqlite3_bind_text(st->q[Q_RESET_DAILY], 1, ip, -1,
	    SQLITE_STATIC) != SQLITE_OK || exec_q(st, Q_RESET_DAILY,
	    "reset quota") == -1)
		goto fail;
	n += sqlite3_changes(st->db);
	if (exec_q(st, Q_COMMIT, "commit") == -1)
		goto fail;
	return n;

fail:
	rollback(st);
	return -1;
}

/* The last failure, for the log; it may name the path, never for clients. */
const char *
store_errmsg(const struct store *st)
{
	if (st == NULL)
		return "no store";
	return st->errmsg[0] != '\0' ? st->errmsg : "no error";
}

/*
 * The directory must be ours and closed to others, since whoever can
 * write it can swap the database. It may be reached through a symlink:
 * systemd's DynamicUser makes /var/lib/NAME one. The database file itself
 * must not be one, nor a hard link, FIFO or someone else's file.
 */
static int
prepare_path(const char *path, char *real, size_t reallen, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		 dir[PATH_MAX], rdir[PATH_MAX];
	const char	*base, *slash;
	int		 fd;

	if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(dir)) {
		snprintf(err, errlen, "store path empty or too long");
		return -1;
	}
	if ((slash = strrchr(path, '/')) == NULL) {
		strlcpy(dir, ".", sizeof(dir));
		base = path;
	} else {
		if (slash == path)
			strlcpy(dir, "/", sizeof(dir));
		else
			strlcpy(dir, path, (size_t)(slash - path) + 1);
		base = slash + 1;
	}
	if (base[0] == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0) {
		snprintf(err, errlen, "%s: not a file name", path);
		return -1;
	}

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (realpath(dir, rdir) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(rdir, &st) == -1) {
		snprintf(err, errlen, "%s: %s", rdir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) != 0) {
		snprintf(err, errlen, "%s must be a directory owned by uid %lu "
		    "and writable only by it", rdir, (unsigned long)geteuid());
		return -1;
	}
	if (snprintf(real, reallen, "%s%s%s", rdir,
	    strcmp(rdir, "/") == 0 ? "" : "/", base) >= (int)reallen) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}

	/*
	 * Create it ourselves, 0600: SQLite would use 0644 less the umask,
	 * and gives its -wal and -shm files the database's mode.
	 */
	fd = open(real, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s%s", real, strerror(errno),
		    errno == ELOOP ? " (a symlink: refused)" : "");
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", real, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_nlink != 1) {
		snprintf(err, errlen, "%s must be a regular file owned by uid "
		    "%lu with one link", real, (unsigned long)geteuid());
		close(fd);
		return -1;
	}
	if ((st.st_mode & 077) != 0 && fchmod(fd, 0600) == -1) {
		snprintf(err, errlen, "chmod %s: %s", real, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
pragma_cb(void *arg, int ncol, char **val, char **name)
{
	if (ncol >= 1 && val[0] != NULL)
		strlcpy(arg, val[0], 16);
	return 0;
}

/*
 * Switching a new file to WAL needs it to itself, and SQLite answers
 * SQLITE_BUSY at once rather than calling the busy handler (which could
 * deadlock two readers both upgrading). Workers starting together on a
 * new file do meet here, so retry for as long as the busy timeout.
 */
static int
wal(struct store *st, char *mode)
{
	struct timespec	 pause = { 0, 10 * 1000 * 1000 };
	int		 waited, rc;

	for (waited = 0;; waited += 10) {
		rc = sqlite3_exec(st->db, "PRAGMA journal_mode = WAL",
		    pragma_cb, mode, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if ((rc & 0xff) != SQLITE_BUSY || waited >= STORE_BUSY_MS)
			break;
		(void)nanosleep(&pause, NULL);
	}
	seterr(st, "journal_mode");
	return -1;
}

/* Creates the tables on first use; refuses a layout from a newer build. */
static int
schema(struct store *st)
{
	sqlite3_stmt	*s = NULL;
	int		 version, rc;

	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		seterr(st, "begin");
		return -1;
	}
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s,
	    NULL) != SQLITE_OK || (rc = sqlite3_step(s)) != SQLITE_ROW) {
		seterr(st, "read schema version");
		goto fail;
	}
	version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	if (version == 0 &&
	    sqlite3_exec(st->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
		seterr(st, "create tables");
		goto fail;
	}
	if (version != 0 && version != STORE_SCHEMA) {
		snprintf(st->errmsg, sizeof(st->errmsg), "%s: schema version "
		    "%d, this build knows %d", st->path, version, STORE_SCHEMA);
		goto fail;
	}
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		seterr(st, "commit schema");
		goto fail;
	}
	return 0;

fail:
	sqlite3_finalize(s);
	rollback(st);
	return -1;
}

/*
 * Opens (creating if need be) the database at path, its directory 0700
 * and the file 0600. NULL with the reason in err on any failure: the
 * caller should refuse to start rather than serve unmetered.
 */
struct store *
store_open(const char *path, char *err, size_t errlen)
{
	struct store	*st;
	char		 mode[16] = "";
	size_t		 i;
	int		 rc;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->pid = getpid();
	if (prepare_path(path, st->path, sizeof(st->path), err, errlen) == -1) {
		free(st);
		return NULL;
	}

	/*
	 * NOFOLLOW: a symlink planted in place of the file after the checks
	 * above is refused too. Without SQLITE_OPEN_CREATE: the file exists.
	 */
	rc = sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		if (st->db != NULL)
			seterr(st, "open");
		else
			snprintf(st->errmsg, sizeof(st->errmsg), "%s: open: %s",
			    st->path, sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	if (sqlite3_db_readonly(st->db, "main") != 0) {
		snprintf(st->errmsg, sizeof(st->errmsg), "%s: opened read-only "
		    "(file or directory permissions?)", st->path);
		goto fail;
	}

	/*
	 * WAL: readers (store_peek) never wait for the writer. synchronous=
	 * NORMAL syncs at checkpoints only: a crashed worker loses nothing,
	 * a power cut at most the last few charges. trusted_schema off: the
	 * file is data, never code.
	 */
	if (wal(st, mode) == -1)
		goto fail;
	if (strcmp(mode, "wal") != 0) {
		snprintf(st->errmsg, sizeof(st->errmsg), "%s: cannot use WAL "
		    "(journal_mode is '%s'); is the directory on a local file "
		    "system?", st->path, mode);
		goto fail;
	}
	if (sqlite3_exec(st->db, "PRAGMA synchronous = NORMAL;"
	    "PRAGMA trusted_schema = OFF;"
	    "PRAGMA cell_size_check = ON;"
	    "PRAGMA journal_size_limit = 4194304;",
	    NULL, NULL, NULL) != SQLITE_OK) {
		seterr(st, "pragmas");
		goto fail;
	}
	if (schema(st) == -1)
		goto fail;
	for (i = 0; i < Q__COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, store_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->q[i], NULL) != SQLITE_OK) {
			seterr(st, "prepare");
			goto fail;
		}
	}
	st->errmsg[0] = '\0';
	return st;

fail:
	strlcpy(err, st->errmsg, errlen);
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	size_t	 i;

	if (st == NULL)
		return;
	for (i = 0; i < Q__COUNT; i++)
		sqlite3_finalize(st->q[i]);
	/* The last connection to close checkpoints and removes the WAL. */
	sqlite3_close(st->db);
	free(st);
}

/*
 * The identity a client is counted under. IPv4 as it is, and an IPv4
 * address written as IPv6 (::ffff:192.0.2.1) as that IPv4 address, or one
 * client would have two counters. IPv6 cut to its first v6prefix bits
 * ("2001:db8:0:1::/64"): a single host or customer is routinely given a
 * whole /64, 2^64 addresses, each a fresh counter if counted one by one.
 * Anything else (no address, a zone index) is used as it is.
 */
void
store_client_key(const char *addr, int v6prefix, char *out, size_t outlen)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;
	char		 text[INET6_ADDRSTRLEN];
	int		 i, keep;

	if (inet_pton(AF_INET, addr, &a4) == 1 &&
	    inet_ntop(AF_INET, &a4, out, (socklen_t)outlen) != NULL)
		return;
	if (inet_pton(AF_INET6, addr, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
			if (inet_ntop(AF_INET, &a4, out, (socklen_t)outlen) != NULL)
				return;
		}
		if (v6prefix < 0)
			v6prefix = 0;
		if (v6prefix > 128)
			v6prefix = 128;
		for (i = 0; i < 16; i++) {
			keep = v6prefix - 8 * i;
			if (keep <= 0)
				a6.s6_addr[i] = 0;
			else if (keep < 8)
				a6.s6_addr[i] &= (uint8_t)(0xff << (8 - keep));
		}
		if (inet_ntop(AF_INET6, &a6, text, sizeof(text)) != NULL) {
			snprintf(out, outlen, "%s/%d", text, v6prefix);
			return;
		}
	}
	strlcpy(out, addr, outlen);
}

/*
 * Sessions per client: one row per live public session, keyed by its
 * session slot. A row whose slot's lock is no longer held (held() says
 * 0: its keeper is gone, however it ended) is stale and deleted here, so
 * the count needs no cleaner. One IMMEDIATE transaction: two workers
 * creating sessions for one client cannot both take the last place.
 * max 0: an admin session, whose slot only loses any stale row.
 * STORE_RATE_LIMITED: the client has max live sessions already.
 */
enum store_result
store_session_claim(struct store *st, const char *ip, int slot, int max,
    time_t now, int (*held)(int, void *), void *arg)
{
	sqlite3_stmt	*s = NULL;
	int		 live = 0, other, rc, h;

	if (st == NULL || ip == NULL)
		return STORE_FAILED;
	if (exec_q(st, Q_BEGIN_WRITE, "begin") == -1)
		return STORE_FAILED;
	if (sqlite3_exec(st->db, "CREATE TABLE IF NOT EXISTS sessions ("
	    " slot INTEGER PRIMARY KEY, ip TEXT NOT NULL,"
	    " created INTEGER NOT NULL)", NULL, NULL, NULL) != SQLITE_OK) {
		seterr(st, "sessions table");
		goto fail;
	}
	if (sqlite3_prepare_v2(st->db, "SELECT slot FROM sessions WHERE ip = ?1"
	    " AND slot != ?2", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(s, 1, ip, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int(s, 2, slot) != SQLITE_OK) {
		seterr(st, "sessions select");
		goto fail;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		other = sqlite3_column_int(s, 0);
		if ((h = held(other, arg)) == -1)
			goto fail;
		live += h;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (rc != SQLITE_DONE) {
		seterr(st, "sessions step");
		goto fail;
	}
	if (max > 0 && live >= max) {
		rollback(st);
		return STORE_RATE_LIMITED;
	}
	/* Stale rows of this client (their keepers are gone) and the slot's. */
	if (sqlite3_prepare_v2(st->db, max > 0 ? "INSERT OR REPLACE INTO"
	    " sessions (slot, ip, created) VALUES (?2, ?1, ?3)" :
	    "DELETE FROM sessions WHERE slot = ?2 OR ip = ?1 AND 0 = ?3", -1,
	    &s, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(s, 1, ip, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int(s, 2, slot) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, max > 0 ? (int64_t)now : 1) !=
	    SQLITE_OK || sqlite3_step(s) != SQLITE_DONE) {
		seterr(st, "sessions write");
		goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (exec_q(st, Q_COMMIT, "commit") == -1)
		goto fail;
	return STORE_OK;
fail:
	sqlite3_finalize(s);
	rollback(st);
	return STORE_FAILED;
}
