// SPDX-License-Identifier: MIT
/*
 * Stand-ins for the diagnostics and hook-name helpers of spec/ while that
 * module is a placeholder. reports/meson.build compiles this file only when
 * spec_lib does not exist; the definitions are weak, so the real ones win.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiary/diag.h"
#include "apiary/spec.h"

/* Spec spelling of a hook. */
__attribute__((weak)) const char *apiary_hook_name(enum apiary_hook h)
{
	switch (h) {
	case APIARY_HOOK_XDP:
		return "xdp";
	case APIARY_HOOK_TC_INGRESS:
		return "tc.ingress";
	case APIARY_HOOK_TC_EGRESS:
		return "tc.egress";
	default:
		return "none";
	}
}

__attribute__((weak)) void apiary_diags_init(struct apiary_diags *d)
{
	memset(d, 0, sizeof(*d));
}

__attribute__((weak)) void apiary_diags_free(struct apiary_diags *d)
{
	for (size_t i = 0; i < d->count; i++) {
		free(d->items[i].msg);
		free(d->items[i].detail);
	}
	free(d->items);
	memset(d, 0, sizeof(*d));
}

/* Append one message; silently dropped when memory runs out (the caller's
 * error code still says what failed). */
static void add(struct apiary_diags *d, enum apiary_severity sev, const struct apiary_loc *loc,
		const char *fmt, va_list ap)
{
	struct apiary_diag *it;
	char *msg;

	if (!d)
		return;
	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	if (d->count == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		void *p = realloc(d->items, cap * sizeof(*d->items));

		if (!p) {
			free(msg);
			return;
		}
		d->items = p;
		d->cap = cap;
	}
	it = &d->items[d->count++];
	memset(it, 0, sizeof(*it));
	it->severity = sev;
	if (loc)
		it->loc = *loc;
	it->msg = msg;
	if (sev == APIARY_ERROR)
		d->errors++;
}

__attribute__((weak)) int apiary_error(struct apiary_diags *d, const struct apiary_loc *loc,
				       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(d, APIARY_ERROR, loc, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

__attribute__((weak)) void apiary_warn(struct apiary_diags *d, const struct apiary_loc *loc,
				       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(d, APIARY_WARNING, loc, fmt, ap);
	va_end(ap);
}

__attribute__((weak)) void apiary_note(struct apiary_diags *d, const struct apiary_loc *loc,
				       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(d, APIARY_NOTE, loc, fmt, ap);
	va_end(ap);
}

__attribute__((weak)) void apiary_diag_set_detail(struct apiary_diags *d, const char *detail)
{
	if (!d || !d->count)
		return;
	free(d->items[d->count - 1].detail);
	d->items[d->count - 1].detail = detail ? strdup(detail) : NULL;
}

/* file:line:col: severity: msg, without the caret (no source here). */
__attribute__((weak)) void apiary_diags_print(const struct apiary_diags *d, FILE *out)
{
	static const char *const sev[] = { "note", "warning", "error" };

	for (size_t i = 0; i < d->count; i++) {
		const struct apiary_diag *it = &d->items[i];

		if (it->loc.file)
			fprintf(out, "%s:%d:%d: ", it->loc.file, it->loc.line, it->loc.col);
		fprintf(out, "%s: %s\n", sev[it->severity], it->msg);
		if (it->detail)
			fprintf(out, "%s\n", it->detail);
	}
}
