/*
 * admit.c: who may run, and whether now. The caller's role (the admin
 * key, compared in constant time), a concurrency slot (store/slots.c),
 * and for public callers the rate limit and daily quota (store/store.c).
 * Owns no state of its own: the slot and the figures live in the
 * request's struct exec_ctx, the store handle in the worker.
 *
 * Fails closed: store or slot trouble means 503 or 500, never an
 * unmetered run. Only valid requests that will run are charged.
 */
#include "config.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/common.h"
#include "http/http.h"
#include "store/metrics.h"

/*
 * Constant time in the contents and in both lengths: both keys are copied
 * into fixed, zero-padded buffers with their lengths, and every byte is
 * compared (ct_equal).
 */
bool
admin_key_match(const struct worker *w, const char *key, size_t len)
{
	unsigned char	 a[1024 + sizeof(size_t)], b[1024 + sizeof(size_t)];
	bool		 ok;

	if (w->admin_key == NULL || key == NULL ||
	    w->admin_key_len > 1024 || len > 1024)
		return false;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memcpy(a, w->admin_key, w->admin_key_len);
	memcpy(a + 1024, &w->admin_key_len, sizeof(size_t));
	memcpy(b, key, len);
	memcpy(b + 1024, &len, sizeof(size_t));
	ok = ct_equal(a, b, sizeof(a));
	explicit_bzero(a, sizeof(a));
	explicit_bzero(b, sizeof(b));
	return ok;
}

/*
 * The caller's role, for every route: the one place that decides it.
 * A key may come in the Authorization header ("Bearer KEY", any route) or,
 * on routes with a JSON body, in its api_key field (body_key; NULL when
 * absent). No key: a public caller. Every key given must be the admin
 * key, else 401 InvalidApiKey with the same message whichever was wrong
 * (a wrong key used to make a silent public caller; the original contract
 * did so, and this is a documented deviation from it). Any Authorization
 * header counts as a key: a proxy doing its own authentication must not
 * pass its header on. Both keys are compared, always, in constant time.
 *
 * The keys are not kept: /execute zeroes both as soon as this returns,
 * before any run, and fcgi.c zeroes libfcgi's copy of the header once
 * every request is answered. A caller with a key of its own to hold
 * (a session) must do the same.
 */
enum pyx_err
admit_caller(const struct worker *w, const struct http_req *h,
    const char *body_key, size_t body_key_len, bool *admin)
{
	const char	*a = h != NULL ? h->authorization : NULL;
	const char	*key = NULL;
	size_t		 n = strlen("Bearer");
	bool		 hdr, hdr_ok = false, body_ok = false;

	*admin = false;
	hdr = a != NULL && a[0] != '\0';
	if (hdr && strncasecmp(a, "Bearer", n) == 0 && a[n] == ' ') {
		for (key = a + n; *key == ' '; key++)
			;
	}
	if (key != NULL)
		hdr_ok = admin_key_match(w, key, strlen(key));
	if (body_key != NULL)
		body_ok = admin_key_match(w, body_key, body_key_len);
	if ((hdr && !hdr_ok) || (body_key != NULL && !body_ok))
		return PYX_E_BAD_KEY;
	*admin = hdr || body_key != NULL;
	return PYX_OK;
}

struct store *
admit_store(struct worker *w)
{
	char	 err[256];

	if (w->store == NULL &&
	    (w->store = store_open(w->store_path, err, sizeof(err))) == NULL) {
		met_store_error();
		log_warnx("rate-limit store %s: %s", w->store_path, err);
	}
	return w->store;
}

/*
 * Takes a concurrency slot, then (public callers only) charges the rate
 * limit and the daily quota. Slot first: a request refused as busy never
 * runs and so is not charged; a request refused by the limits gives its
 * slot back at once (ctx_free). Store trouble fails closed: 503, never an
 * unmetered run.
 */
enum pyx_err
admit(struct exec_ctx *c)
{
	const struct config	*cfg = &c->w->cfg;
	struct store		*st;
	char			 err[256];
	time_t			 now;

	switch (slots_acquire_wait(&c->slot, cfg->runtime_dir,
	    cfg->max_concurrent, cfg->max_queue_waiters, cfg->max_queue_wait_ms,
	    c->http->conn_fd, err, sizeof(err))) {
	case SLOTS_OK:
		c->active = c->slot.active;
		break;
	case SLOTS_BUSY:
		met_busy();
		c->active = cfg->max_concurrent;
		c->retry_after = 1;
		return PYX_E_BUSY;
	default:
		log_warnx("concurrency slots: %s", err);
		return PYX_E_INTERNAL;
	}
	if (c->admin)
		return PYX_OK;
	/* Store trouble is usually brief (a lock, a full disk): say when. */
	if ((st = admit_store(c->w)) == NULL) {
		c->retry_after = 5;
		return PYX_E_UNAVAILABLE;
	}
	now = time(NULL);
	switch (store_charge_n(st, c->client, now,
	    cfg->rate_limit_per_minute,
	    cfg->daily_quota, c->charge > 0 ? c->charge : 1, &c->quota)) {
	case STORE_OK:
		c->have_quota = true;
		c->charged_at = now;
		return PYX_OK;
	case STORE_RATE_LIMITED:
		met_ratelimited(MET_RL_MINUTE);
		c->have_quota = true;
		c->retry_after = c->quota.retry_after_seconds;
		return ctx_fail(c, PYX_E_RATE_LIMIT, "Rate limit of %d per minute "
		    "exceeded; retry in %d seconds.", cfg->rate_limit_per_minute,
		    c->retry_after);
	case STORE_QUOTA_EXCEEDED:
		met_ratelimited(MET_RL_DAILY);
		c->have_quota = true;
		c->retry_after = c->quota.retry_after_seconds;
		return ctx_fail(c, PYX_E_RATE_LIMIT, "Daily quota of %d exceeded; "
		    "it resets at 00:00 UTC.", cfg->daily_quota);
	default:
		met_store_error();
		log_warnx("rate-limit store %s: %s", c->w->store_path,
		    store_errmsg(st));
		c->retry_after = 5;
		return PYX_E_UNAVAILABLE;
	}
}

/*
 * For answers that charged nothing (validation errors, busy): the caller's
 * figures as they stand, and how many runs are in flight.
 */
void
admit_status(struct exec_ctx *c)
{
	const struct config	*cfg = &c->w->cfg;
	struct store		*st;
	char			 err[256];
	int			 n;

	if (!c->have_quota && !c->admin && (st = admit_store(c->w)) != NULL &&
	    store_peek(st, c->client, time(NULL), cfg->rate_limit_per_minute,
	    cfg->daily_quota, &c->quota) == 0)
		c->have_quota = true;
	if (c->slot.fd == -1 && c->err != PYX_E_BUSY) {
		if ((n = slots_count(cfg->runtime_dir, cfg->max_concurrent, err,
		    sizeof(err))) >= 0)
			c->active = n;
	}
}

/*
 * The sandbox failed before the code started (the zygote died while it
 * started the run, a jail step failed): the answer says the code was not
 * run and to retry, so the charge is taken back, and the figures in the
 * answer say so. A store that fails now keeps the charge (logged): the
 * client loses one request of its quota, nothing else.
 */
void
admit_refund(struct exec_ctx *c)
{
	struct store	*st;

	if (c->charged_at == 0)
		return;
	if ((st = admit_store(c->w)) == NULL ||
	    store_refund(st, c->client, c->charged_at) == -1) {
		log_warnx("refund of a run that never started: %s",
		    st ? store_errmsg(st) : "no store");
		return;
	}
	c->charged_at = 0;
	if (c->quota.requests_today > 0)
		c->quota.requests_today--;
	if (c->quota.requests_last_minute > 0)
		c->quota.requests_last_minute--;
	if (c->quota.requests_today < c->quota.daily_limit)
		c->quota.remaining_today = c->quota.daily_limit -
		    c->quota.requests_today;
}
