/*
 * errors.c: the single table from error to HTTP status, error type and
 * default public message. Nothing else in pyexec picks a status code.
 * Types and codes follow the contract of the service pyexec replaces
 * (InvalidApiKey, a wrong key refused rather than served as public, is
 * the one deliberate deviation); messages never carry
 * internal detail (paths, errno) — that goes to the log.
 */
#include "config.h"

#include "common/common.h"

static const struct pyx_errinfo errtab[PYX_E__COUNT] = {
	[PYX_OK] = { 200, "OK", NULL, NULL },
	[PYX_E_INVALID_REQUEST] = { 400, "Bad Request", "InvalidRequest",
	    "The request must contain a 'code' field." },
	[PYX_E_VALIDATION] = { 400, "Bad Request", "ValidationError",
	    "The request is not valid." },
	[PYX_E_SYNTAX] = { 400, "Bad Request", "SyntaxError",
	    "The code is not valid Python." },
	[PYX_E_FORBIDDEN_IMPORT] = { 400, "Bad Request", "ForbiddenImportError",
	    "The code imports modules that are not allowed." },
	[PYX_E_TIMEOUT] = { 400, "Bad Request", "TimeoutError",
	    "Execution timed out." },
	[PYX_E_FORBIDDEN] = { 403, "Forbidden", "Forbidden",
	    "This endpoint needs the admin key (Authorization: Bearer KEY) or "
	    "an address the operator allowed." },
	[PYX_E_NOT_FOUND] = { 404, "Not Found", "NotFound",
	    "No such endpoint." },
	[PYX_E_METHOD] = { 405, "Method Not Allowed", "MethodNotAllowed",
	    "This method is not allowed on this endpoint." },
	[PYX_E_TOO_LARGE] = { 413, "Payload Too Large", "PayloadTooLarge",
	    "The request body is too large." },
	[PYX_E_MEDIA_TYPE] = { 415, "Unsupported Media Type",
	    "UnsupportedMediaType",
	    "The request body must be JSON (Content-Type: application/json)." },
	[PYX_E_RATE_LIMIT] = { 429, "Too Many Requests", "RateLimitExceeded",
	    "Rate limit exceeded." },
	[PYX_E_INTERNAL] = { 500, "Internal Server Error", "InternalError",
	    "An internal error occurred; the code was not run." },
	[PYX_E_SANDBOX] = { 500, "Internal Server Error", "SandboxError",
	    "The sandbox could not be set up; the code was not run." },
	[PYX_E_BUSY] = { 503, "Service Unavailable", "ServerBusy",
	    "The server is at its concurrent execution limit; retry shortly." },
	[PYX_E_UNAVAILABLE] = { 503, "Service Unavailable",
	    "ServiceUnavailable",
	    "The service cannot check rate limits right now; retry shortly." },
	[PYX_E_RESTARTING] = { 503, "Service Unavailable",
	    "SandboxUnavailable",
	    "The sandbox was restarting; the code was not run. Retry shortly." },
	[PYX_E_SESSION_NOT_FOUND] = { 404, "Not Found", "SessionNotFound",
	    "No such session: unknown, expired or released." },
	[PYX_E_SESSION_BUSY] = { 409, "Conflict", "SessionBusy",
	    "Another call on this session is in progress; retry when it ends." },
	[PYX_E_FILE_NOT_FOUND] = { 404, "Not Found", "FileNotFound",
	    "No such file in the session's workspace." },
	/* One message whichever key was wrong (header or body): no hint. */
	[PYX_E_BAD_KEY] = { 401, "Unauthorized", "InvalidApiKey",
	    "The API key is not valid." },
};

const struct pyx_errinfo *
pyx_errinfo(enum pyx_err e)
{
	if ((unsigned)e >= PYX_E__COUNT)
		e = PYX_E_INTERNAL;
	return &errtab[e];
}
