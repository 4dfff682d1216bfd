/*
 * test_errors.c: the error -> HTTP status table.
 */
#include "config.h"

#include <string.h>

#include "common/common.h"
#include "tap.h"

static const struct {
	enum pyx_err	 e;
	int		 status;
	const char	*type;
} want[] = {
	{ PYX_OK, 200, NULL },
	{ PYX_E_INVALID_REQUEST, 400, "InvalidRequest" },
	{ PYX_E_VALIDATION, 400, "ValidationError" },
	{ PYX_E_SYNTAX, 400, "SyntaxError" },
	{ PYX_E_FORBIDDEN_IMPORT, 400, "ForbiddenImportError" },
	{ PYX_E_TIMEOUT, 400, "TimeoutError" },
	{ PYX_E_FORBIDDEN, 403, "Forbidden" },
	{ PYX_E_NOT_FOUND, 404, "NotFound" },
	{ PYX_E_METHOD, 405, "MethodNotAllowed" },
	{ PYX_E_TOO_LARGE, 413, "PayloadTooLarge" },
	{ PYX_E_MEDIA_TYPE, 415, "UnsupportedMediaType" },
	{ PYX_E_RATE_LIMIT, 429, "RateLimitExceeded" },
	{ PYX_E_INTERNAL, 500, "InternalError" },
	{ PYX_E_SANDBOX, 500, "SandboxError" },
	{ PYX_E_BUSY, 503, "ServerBusy" },
	{ PYX_E_UNAVAILABLE, 503, "ServiceUnavailable" },
	{ PYX_E_RESTARTING, 503, "SandboxUnavailable" },
	{ PYX_E_SESSION_NOT_FOUND, 404, "SessionNotFound" },
	{ PYX_E_SESSION_BUSY, 409, "SessionBusy" },
	{ PYX_E_FILE_NOT_FOUND, 404, "FileNotFound" },
	{ PYX_E_BAD_KEY, 401, "InvalidApiKey" },
};
#define NWANT	(sizeof(want) / sizeof(want[0]))

static const struct {
	int		 status;
	const char	*reason;
} reasons[] = {
	{ 200, "OK" }, { 400, "Bad Request" }, { 401, "Unauthorized" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" }, { 409, "Conflict" },
	{ 405, "Method Not Allowed" }, { 413, "Payload Too Large" },
	{ 415, "Unsupported Media Type" }, { 429, "Too Many Requests" },
	{ 500, "Internal Server Error" }, { 503, "Service Unavailable" },
};
#define NREASONS	(sizeof(reasons) / sizeof(reasons[0]))

static const char *
reason_for(int status)
{
	size_t	 i;

	for (i = 0; i < NREASONS; i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return NULL;
}

int
main(void)
{
	const struct pyx_errinfo *ei, *ej, *internal;
	size_t	 i;
	int	 e, f, dup;

	plan(NWANT + PYX_E__COUNT + 6);

	is_int(NWANT, PYX_E__COUNT, "the expectation table covers every "
	    "enum value");
	for (i = 0; i < NWANT; i++) {
		ei = pyx_errinfo(want[i].e);
		ok(ei != NULL && ei->status == want[i].status &&
		    (want[i].type == NULL ? ei->type == NULL :
		    ei->type != NULL && strcmp(ei->type, want[i].type) == 0),
		    "error %d -> %d %s", want[i].e, want[i].status,
		    want[i].type ? want[i].type : "(no type)");
	}

	/* Whatever the table grows into, each entry is well-formed. */
	for (e = 0; e < PYX_E__COUNT; e++) {
		ei = pyx_errinfo((enum pyx_err)e);
		ok(ei != NULL && reason_for(ei->status) != NULL &&
		    strcmp(ei->reason, reason_for(ei->status)) == 0 &&
		    (e == PYX_OK || (ei->type != NULL && ei->type[0] != '\0' &&
		    ei->message != NULL && ei->message[0] != '\0' &&
		    strchr(ei->message, '%') == NULL)),
		    "error %d: status %d in the allowed set, reason phrase "
		    "matches, type and message set", e, ei ? ei->status : -1);
	}

	dup = 0;
	for (e = 1; e < PYX_E__COUNT; e++)
		for (f = e + 1; f < PYX_E__COUNT; f++) {
			ei = pyx_errinfo((enum pyx_err)e);
			ej = pyx_errinfo((enum pyx_err)f);
			if (ei->type && ej->type && strcmp(ei->type,
			    ej->type) == 0)
				dup++;
		}
	is_int(dup, 0, "no two errors share a type");

	internal = pyx_errinfo(PYX_E_INTERNAL);
	ok(pyx_errinfo(PYX_E__COUNT) == internal,
	    "PYX_E__COUNT falls back to InternalError");
	ok(pyx_errinfo((enum pyx_err)(PYX_E__COUNT + 100)) == internal,
	    "a large value falls back to InternalError");
	ok(pyx_errinfo((enum pyx_err)-1) == internal,
	    "a negative value falls back to InternalError");
	is_int(internal->status, 500, "and that fallback is a 500");
	return done_testing();
}
