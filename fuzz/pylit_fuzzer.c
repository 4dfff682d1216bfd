/*
 * pylit_fuzzer.c: pylit_parse on arbitrary text, both top-level forms.
 * A parsed value must be written back by pylit_write as text that parses
 * to an equal value (exact comparison; NaN equals NaN there), and equal
 * to itself under every comparator. Leaks on either path are caught by
 * LeakSanitizer; depth and size by the parser's own bounds.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/pylit.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pv	 v, w;
	struct pv_cmp	 exact = { PVC_EXACT, 0, 0, false };
	struct pv_cmp	 fl = { PVC_FLOAT, 1e-9, 0, false };
	struct pv_cmp	 un = { PVC_UNORDERED, 0, 0, true };
	char		 err[256], *text;
	size_t		 len;
	int		 flags;

	for (flags = 0; flags <= PYLIT_KWARGS; flags += PYLIT_KWARGS) {
		if (pylit_parse((const char *)data, size, flags, &v, err,
		    sizeof(err)) == -1) {
			CHECK(err[0] != '\0' && strlen(err) < sizeof(err));
			CHECK(v.kind == PV_NONE && v.items == NULL);
			continue;
		}
		CHECK(pv_equal(&v, &v, &exact));
		CHECK(pv_equal(&v, &v, &fl));
		CHECK(pv_equal(&v, &v, &un));
		text = pylit_write(&v, &len);
		CHECK(text != NULL && strlen(text) == len);
		CHECK(pylit_parse(text, len, 0, &w, err, sizeof(err)) == 0);
		CHECK(pv_equal(&w, &v, &exact));
		pv_free(&w);
		free(text);
		pv_free(&v);
	}
	(void)text_equal((const char *)data, size / 2,
	    (const char *)data + size / 2, size - size / 2, TXC_LINES, 0, 0);
	(void)text_equal((const char *)data, size / 2,
	    (const char *)data + size / 2, size - size / 2, TXC_TOKENS, 1e-6,
	    1e-9);
	return 0;
}
