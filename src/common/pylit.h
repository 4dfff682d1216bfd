/*
 * pylit.h: plain values as /evaluate handles them (pylit.c): a strict
 * parser of a Python-literal subset (io_cases, and every value a grading
 * jail sends back), its writer (arguments into the jail), and the
 * comparators. Pure: no I/O, no json-c, no Python; every input is hostile
 * and bounded (PYLIT_DEPTH, the caller's length).
 */
#ifndef PYX_PYLIT_H
#define PYX_PYLIT_H

#include <stdbool.h>
#include <stddef.h>

#define PYLIT_DEPTH	32	/* containers nested at most this deep */
#define PYLIT_INT_DIGITS 4300	/* Python's own int_max_str_digits */

enum pv_kind {
	PV_NONE = 0,
	PV_BOOL,
	PV_INT,		/* fits in long long: i */
	PV_BIGINT,	/* does not: s is "-?[1-9][0-9]*", exact */
	PV_FLOAT,
	PV_STR,		/* s, len: UTF-8, no lone surrogates */
	PV_LIST,
	PV_TUPLE,
	PV_SET,		/* set or frozenset */
	PV_DICT,	/* items: key, value, key, value ...; n pairs */
};

struct pv {
	enum pv_kind	 kind;
	bool		 b;
	long long	 i;
	double		 f;
	char		*s;
	size_t		 len;
	struct pv	*items;
	size_t		 n;		/* items; pairs for a dict */
};

/* Top level of an io_cases input: "a=1, b=2" gives a dict of str keys. */
#define PYLIT_KWARGS	0x1

int	 pylit_parse(const char *, size_t, int, struct pv *, char *, size_t);
void	 pv_free(struct pv *);
const char *pv_kind_name(enum pv_kind);
/* The literal text of v (parsable by ast.literal_eval once nan/inf are
 * names it knows), NUL-terminated, malloc'd; its length in *len. */
char	*pylit_write(const struct pv *, size_t *);

struct pv_cmp {
	enum { PVC_EXACT, PVC_FLOAT, PVC_UNORDERED } type;
	double		 rel_tol;
	double		 abs_tol;
	bool		 json_expected;	/* lists match tuples and sets */
};

bool	 pv_equal(const struct pv *, const struct pv *, const struct pv_cmp *);

/* Program mode: stdout against the expected text. */
enum text_cmp { TXC_EXACT, TXC_LINES, TXC_TOKENS };
bool	 text_equal(const char *, size_t, const char *, size_t, enum text_cmp,
	    double, double);

#endif /* PYX_PYLIT_H */
