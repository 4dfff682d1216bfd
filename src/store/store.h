/*
 * store.h: state shared by every worker (src/store/): the per-client rate
 * and quota counters (store.c, SQLite) and the max_concurrent slots
 * (slots.c, locked files). Both fail closed: trouble here means 503,
 * never an unmetered run.
 */
#ifndef PYX_STORE_H
#define PYX_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* store.c: per-client rate and daily quota, shared by all workers */
enum store_result {
	STORE_OK = 0,		/* charged: the request may run */
	STORE_RATE_LIMITED,	/* per-minute window full; nothing charged */
	STORE_QUOTA_EXCEEDED,	/* UTC day's quota used; nothing charged */
	STORE_FAILED,		/* the store failed: fail closed (503) */
};

struct quota_info {
	long long	 requests_today;	/* charged this UTC day */
	long long	 remaining_today;
	long long	 daily_limit;
	long long	 requests_last_minute;	/* charged in the last 60 s */
	long long	 minute_limit;
	int		 retry_after_seconds;	/* > 0 only when refused */
};

struct store;
struct store	*store_open(const char *, char *, size_t);
enum store_result store_charge(struct store *, const char *, time_t, int, int,
		    struct quota_info *);
enum store_result store_charge_n(struct store *, const char *, time_t, int,
		    int, int, struct quota_info *);
int		 store_refund(struct store *, const char *, time_t);
int		 store_peek(struct store *, const char *, time_t, int, int,
		    struct quota_info *);
long long	 store_reset(struct store *, const char *);
const char	*store_errmsg(const struct store *);
#define STORE_KEY_MAX	128	/* bytes of a client key (store_client_key) */
void		 store_client_key(const char *, int, char *, size_t);
void		 store_close(struct store *);

/* slots.c: the max_concurrent cap, one locked file per run in flight */
enum slots_result {
	SLOTS_OK = 0,
	SLOTS_BUSY,		/* every slot is held: 503 ServerBusy */
	SLOTS_FAILED,		/* runtime_dir trouble: fail closed */
};

struct slots {
	int		 fd;		/* the locked slot file; -1: none */
	int		 index;		/* N of slot.N; -1: none held */
	int		 active;	/* held at acquire, ours included */
	bool		 cached;	/* fd is the worker's cached description */
};

void		 slots_init(struct slots *);
void		 slots_prefer(int);
enum slots_result slots_acquire(struct slots *, const char *, int, char *,
		    size_t);
enum slots_result slots_acquire_from(struct slots *, const char *, int, int,
		    char *, size_t);
#define SLOTS_SELFTEST	16	/* slots past max_concurrent for self-tests */
enum slots_result slots_acquire_wait(struct slots *, const char *, int, int,
		    int, int, char *, size_t);
void		 slots_release(struct slots *);
int		 slots_count(const char *, int, char *, size_t);
int		 slots_take(const char *, int, int, int *, char *, size_t);
int		 slots_is_held(const char *, int, char *, size_t);
int		 mark_hold(const char *, const char *, char *, size_t);
bool		 mark_held(const char *, const char *);
int		 starts_take(const char *, int, int, int, char *, size_t);

/* store.c: live public sessions per client (http/sessions.c) */
enum store_result store_session_claim(struct store *, const char *, int, int,
		    time_t, int (*)(int, void *), void *);

#endif /* PYX_STORE_H */
