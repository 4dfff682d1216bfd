/*
 * stats.c: GET /metrics (Prometheus text format 0.0.4) and GET /status
 * (the same figures as JSON, for people), both from the pool's shared
 * counters (metrics.c) and the slot files (slots.c).
 *
 * Who may read them: a caller presenting the admin key
 * ("Authorization: Bearer KEY", admit_caller in admit.c), or one whose
 * address the operator listed in nginx's geo block, which nginx reports
 * in the PYEXEC_METRICS_ALLOWED parameter (a FastCGI parameter: clients
 * cannot set it, unlike headers). A wrong key gets 401, anyone else 403,
 * before anything is read. Owns only the reply body it builds.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "common/common.h"
#include "http/http.h"
#include "store/metrics.h"

static const char *const rl_names[MET_RL__COUNT] = {
	[MET_RL_MINUTE] = "per_minute",
	[MET_RL_DAILY] = "daily_quota",
};

static const char *const zyg_names[MET_ZYG__COUNT] = {
	[MET_ZYG_RECYCLED] = "recycled",
	[MET_ZYG_DIED] = "died",
};

/* A wrong key is refused even from a listed address: it is a mistake. */
static enum pyx_err
stats_allowed(const struct worker *w, const struct http_req *h)
{
	enum pyx_err	 e;
	bool		 admin;

	if ((e = admit_caller(w, h, NULL, 0, &admin)) != PYX_OK)
		return e;
	if (admin || (h->metrics_allowed != NULL &&
	    strcmp(h->metrics_allowed, "1") == 0))
		return PYX_OK;
	return PYX_E_FORBIDDEN;
}

static void
metrics_text(FILE *f, const struct met_counters *s, int in_flight,
    int slots)
{
	const struct pyx_errinfo	*ei;
	uint64_t			 cum;
	int				 r, e, i;

	fprintf(f, "# HELP pyexec_http_requests_total Requests answered by "
	    "the workers, by route, HTTP status and error type.\n"
	    "# TYPE pyexec_http_requests_total counter\n");
	for (r = 0; r < MET_R__COUNT; r++)
		for (e = 0; e < PYX_E__COUNT; e++) {
			if (s->requests[r][e] == 0 && e != PYX_OK)
				continue;
			if (s->requests[r][e] == 0 && r == MET_R_OTHER)
				continue;
			ei = pyx_errinfo((enum pyx_err)e);
			fprintf(f, "pyexec_http_requests_total{route=\"%s\","
			    "code=\"%d\",type=\"%s\"} %llu\n",
			    met_route_name((enum met_route)r),
			    met_route_status((enum met_route)r, ei->status),
			    ei->type ? ei->type : "", (unsigned long long)
			    s->requests[r][e]);
		}

	fprintf(f, "# HELP pyexec_runs_total Runs whose code started, by how "
	    "they ended (the API's termination field).\n"
	    "# TYPE pyexec_runs_total counter\n");
	for (i = TERM_EXITED; i <= TERM_ABORTED; i++)
		fprintf(f, "pyexec_runs_total{termination=\"%s\"} %llu\n",
		    resp_term_name((enum termination)i),
		    (unsigned long long)s->runs[i]);
	fprintf(f, "# HELP pyexec_runs_oom_killed_total Runs in which the "
	    "memory cgroup killed a process.\n"
	    "# TYPE pyexec_runs_oom_killed_total counter\n"
	    "pyexec_runs_oom_killed_total %llu\n",
	    (unsigned long long)s->oom_killed);

	fprintf(f, "# HELP pyexec_run_duration_seconds Wall time of runs "
	    "whose code started.\n"
	    "# TYPE pyexec_run_duration_seconds histogram\n");
	for (cum = 0, i = 0; i < MET_NBUCKETS; i++) {
		cum += s->duration_bucket[i];
		fprintf(f, "pyexec_run_duration_seconds_bucket{le=\"%g\"} "
		    "%llu\n", met_buckets[i], (unsigned long long)cum);
	}
	cum += s->duration_bucket[MET_NBUCKETS];
	fprintf(f, "pyexec_run_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "pyexec_run_duration_seconds_sum %.6f\n"
	    "pyexec_run_duration_seconds_count %llu\n",
	    (unsigned long long)cum, (double)s->duration_sum_us / 1e6,
	    (unsigned long long)cum);

	fprintf(f, "# HELP pyexec_runs_in_flight Runs holding a concurrency "
	    "slot now.\n# TYPE pyexec_runs_in_flight gauge\n"
	    "pyexec_runs_in_flight %d\n"
	    "# HELP pyexec_run_slots Concurrency slots (max_concurrent).\n"
	    "# TYPE pyexec_run_slots gauge\npyexec_run_slots %d\n",
	    in_flight, slots);

	fprintf(f, "# HELP pyexec_rate_limit_refusals_total Requests refused "
	    "with 429 by the workers' per-IP limits.\n"
	    "# TYPE pyexec_rate_limit_refusals_total counter\n");
	for (i = 0; i < MET_RL__COUNT; i++)
		fprintf(f, "pyexec_rate_limit_refusals_total{limit=\"%s\"} "
		    "%llu\n", rl_names[i], (unsigned long long)s->ratelimited[i]);
	fprintf(f, "# HELP pyexec_busy_refusals_total Requests refused with "
	    "503 ServerBusy (every slot taken).\n"
	    "# TYPE pyexec_busy_refusals_total counter\n"
	    "pyexec_busy_refusals_total %llu\n",
	    (unsigned long long)s->busy);

	fprintf(f, "# HELP pyexec_zygote_replacements_total Zygotes replaced, "
	    "by reason.\n# TYPE pyexec_zygote_replacements_total counter\n");
	for (i = 0; i < MET_ZYG__COUNT; i++)
		fprintf(f, "pyexec_zygote_replacements_total{reason=\"%s\"} "
		    "%llu\n", zyg_names[i],
		    (unsigned long long)s->zygote_replaced[i]);
	fprintf(f, "# HELP pyexec_sandbox_failures_total Runs refused because "
	    "the jail could not be built (500 SandboxError).\n"
	    "# TYPE pyexec_sandbox_failures_total counter\n"
	    "pyexec_sandbox_failures_total %llu\n"
	    "# HELP pyexec_store_errors_total Failures of the rate-limit "
	    "store (each also logged).\n"
	    "# TYPE pyexec_store_errors_total counter\n"
	    "pyexec_store_errors_total %llu\n"
	    "# HELP pyexec_worker_starts_total Workers that started serving.\n"
	    "# TYPE pyexec_worker_starts_total counter\n"
	    "pyexec_worker_starts_total %llu\n"
	    "# HELP pyexec_start_time_seconds When the counters started "
	    "(Unix time).\n# TYPE pyexec_start_time_seconds gauge\n"
	    "pyexec_start_time_seconds %llu\n"
	    "# HELP pyexec_metrics_shared 1 if these counters are the whole "
	    "pool's, 0 if only this worker's (see its log).\n"
	    "# TYPE pyexec_metrics_shared gauge\npyexec_metrics_shared %d\n"
	    "# HELP pyexec_build_info The running version.\n"
	    "# TYPE pyexec_build_info gauge\n"
	    "pyexec_build_info{version=\"%s\"} 1\n",
	    (unsigned long long)s->sandbox_failures,
	    (unsigned long long)s->store_errors,
	    (unsigned long long)s->worker_starts,
	    (unsigned long long)s->created_unix, met_shared() ? 1 : 0,
	    PACKAGE_VERSION);
}

static struct json_object *
u64(uint64_t v)
{
	return json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

static char *
status_json(const struct met_counters *s, int in_flight, int slots,
    size_t *len)
{
	struct json_object		*root, *o, *rt, *codes, *types;
	const struct pyx_errinfo	*ei;
	char				 ts[64], key[16];
	uint64_t			 total = 0, runs = 0, n;
	const char			*s_json;
	char				*out;
	int				 r, e, i;

	root = json_object_new_object();
	resp_timestamp(ts, sizeof(ts));
	json_object_object_add(root, "status", json_object_new_string("ok"));
	json_object_object_add(root, "timestamp_utc",
	    json_object_new_string(ts));
	json_object_object_add(root, "version",
	    json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(root, "uptime_seconds", u64(s->created_unix &&
	    (uint64_t)time(NULL) > s->created_unix ?
	    (uint64_t)time(NULL) - s->created_unix : 0));
	json_object_object_add(root, "metrics_shared",
	    json_object_new_boolean(met_shared()));
	json_object_object_add(root, "worker_starts", u64(s->worker_starts));

	o = json_object_new_object();
	json_object_object_add(o, "in_flight", json_object_new_int(in_flight));
	json_object_object_add(o, "max_concurrent", json_object_new_int(slots));
	json_object_object_add(root, "slots", o);

	rt = json_object_new_object();
	for (r = 0; r < MET_R__COUNT; r++) {
		codes = NULL;
		types = NULL;
		for (e = 0; e < PYX_E__COUNT; e++) {
			if ((n = s->requests[r][e]) == 0)
				continue;
			ei = pyx_errinfo((enum pyx_err)e);
			total += n;
			if (codes == NULL) {
				codes = json_object_new_object();
				types = json_object_new_object();
			}
			snprintf(key, sizeof(key), "%d", met_route_status(
			    (enum met_route)r, ei->status));
			json_object_object_add(codes, key, u64(n +
			    (json_object_object_get_ex(codes, key, &o) ?
			    (uint64_t)json_object_get_int64(o) : 0)));
			if (ei->type != NULL)
				json_object_object_add(types, ei->type, u64(n));
		}
		if (codes != NULL) {
			o = json_object_new_object();
			json_object_object_add(o, "by_status", codes);
			json_object_object_add(o, "errors_by_type", types);
			json_object_object_add(rt, met_route_name(
			    (enum met_route)r), o);
		}
	}
	o = json_object_new_object();
	json_object_object_add(o, "total", u64(total));
	json_object_object_add(o, "by_route", rt);
	json_object_object_add(root, "requests", o);

	o = json_object_new_object();
	rt = json_object_new_object();
	for (i = TERM_EXITED; i <= TERM_ABORTED; i++) {
		runs += s->runs[i];
		json_object_object_add(rt, resp_term_name((enum termination)i),
		    u64(s->runs[i]));
	}
	json_object_object_add(o, "total", u64(runs));
	json_object_object_add(o, "by_termination", rt);
	json_object_object_add(o, "oom_killed", u64(s->oom_killed));
	for (n = 0, i = 0; i <= MET_NBUCKETS; i++)
		n += s->duration_bucket[i];
	snprintf(key, sizeof(key), "%.6f", n ? (double)s->duration_sum_us /
	    1e6 / (double)n : 0.0);
	json_object_object_add(o, "mean_duration_seconds",
	    json_object_new_double_s(atof(key), key));
	json_object_object_add(root, "runs", o);

	o = json_object_new_object();
	for (i = 0; i < MET_RL__COUNT; i++)
		json_object_object_add(o, rl_names[i], u64(s->ratelimited[i]));
	json_object_object_add(o, "busy", u64(s->busy));
	json_object_object_add(root, "refusals", o);

	o = json_object_new_object();
	for (i = 0; i < MET_ZYG__COUNT; i++)
		json_object_object_add(o, zyg_names[i],
		    u64(s->zygote_replaced[i]));
	json_object_object_add(root, "zygote_replacements", o);
	json_object_object_add(root, "sandbox_failures",
	    u64(s->sandbox_failures));
	json_object_object_add(root, "store_errors", u64(s->store_errors));

	s_json = json_object_to_json_string_length(root,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
	out = xmalloc(*len + 2);
	memcpy(out, s_json, *len);
	out[(*len)++] = '\n';
	out[*len] = '\0';
	json_object_put(root);
	return out;
}

enum pyx_err
stats_handle(struct worker *w, const struct http_req *h, bool prometheus,
    struct http_reply *rep)
{
	struct met_counters	 s;
	enum pyx_err		 e;
	char			 err[256];
	int			 in_flight;
	FILE			*f;
	size_t			 len;

	if ((e = stats_allowed(w, h)) != PYX_OK)
		return e;
	met_snapshot(&s);
	if ((in_flight = slots_count(w->cfg.runtime_dir, w->cfg.max_concurrent,
	    err, sizeof(err))) < 0) {
		log_warnx("concurrency slots: %s", err);
		in_flight = 0;
	}
	if (!prometheus) {
		rep->body = status_json(&s, in_flight, w->cfg.max_concurrent,
		    &rep->body_len);
	} else {
		rep->body = NULL;
		len = 0;
		if ((f = open_memstream(&rep->body, &len)) == NULL)
			return PYX_E_INTERNAL;
		metrics_text(f, &s, in_flight, w->cfg.max_concurrent);
		if (fclose(f) != 0) {
			free(rep->body);
			rep->body = NULL;
			return PYX_E_INTERNAL;
		}
		rep->body_len = len;
		rep->content_type = "text/plain; version=0.0.4; charset=utf-8";
	}
	rep->status = 200;
	rep->reason = "OK";
	return PYX_OK;
}
