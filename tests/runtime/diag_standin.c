// SPDX-License-Identifier: MIT
/* Stand-in for spec/'s diagnostics while that module has not landed (used
 * only when spec_lib is not defined; see meson.build). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apiary/diag.h"
#include "apiary/spec.h"

void apiary_diags_init(struct apiary_diags *d)
{
	memset(d, 0, sizeof(*d));
}

void apiary_diags_free(struct apiary_diags *d)
{
	size_t i;

	for (i = 0; i < d->count; i++) {
		free(d->items[i].msg);
		free(d->items[i].detail);
	}
	free(d->items);
	memset(d, 0, sizeof(*d));
}

static void add(struct apiary_diags *d, enum apiary_severity sev, const struct apiary_loc *loc,
		const char *fmt, va_list ap)
{
	struct apiary_diag *it;

	if (d->count == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 8;
		struct apiary_diag *n = realloc(d->items, ncap * sizeof(*n));

		if (!n)
			return;
		d->items = n;
		d->cap = ncap;
	}
	it = &d->items[d->count++];
	memset(it, 0, sizeof(*it));
	it->severity = sev;
	if (loc)
		it->loc = *loc;
	if (vasprintf(&it->msg, fmt, ap) < 0)
		it->msg = NULL;
	if (sev == APIARY_ERROR)
		d->errors++;
}

int apiary_error(struct apiary_diags *d, const struct apiary_loc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(d, APIARY_ERROR, loc, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void apiary_warn(struct apiary_diags *d, const struct apiary_loc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(d, APIARY_WARNING, loc, fmt, ap);
	va_end(ap);
}

void apiary_note(struct apiary_diags *d, const struct apiary_loc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(d, APIARY_NOTE, loc, fmt, ap);
	va_end(ap);
}

void apiary_diag_set_detail(struct apiary_diags *d, const char *detail)
{
	if (!d->count)
		return;
	free(d->items[d->count - 1].detail);
	d->items[d->count - 1].detail = detail ? strdup(detail) : NULL;
}

void apiary_diags_print(const struct apiary_diags *d, FILE *out)
{
	size_t i;

	for (i = 0; i < d->count; i++) {
		const struct apiary_diag *it = &d->items[i];

		fprintf(out, "%s:%d:%d: %s\n", it->loc.file ? it->loc.file : "-", it->loc.line,
			it->loc.col, it->msg ? it->msg : "");
		if (it->detail)
			fprintf(out, "%s\n", it->detail);
	}
}

const char *apiary_hook_name(enum apiary_hook h)
{
	static const char *const names[] = { "none", "xdp", "tc.ingress", "tc.egress" };

	return h < APIARY_HOOK__COUNT ? names[h] : "?";
}
