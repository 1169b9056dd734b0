// SPDX-License-Identifier: MIT
/*
 * Diagnostics: a growable list of located messages. Library code only
 * appends; the CLIs print with apiary_diags_print().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apiary/diag.h"
#include "spec_int.h"

/* Start with an empty list; nothing is allocated until the first message. */
void apiary_diags_init(struct apiary_diags *d)
{
	memset(d, 0, sizeof(*d));
}

/* Release every message; the list is empty and reusable afterwards. */
void apiary_diags_free(struct apiary_diags *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->count; i++) {
		free(d->items[i].msg);
		free(d->items[i].detail);
	}
	free(d->items);
	apiary_diags_init(d);
}

/*
 * Append one message. On allocation failure the message is dropped but the
 * error count still goes up, so a caller never mistakes a failed run for a
 * clean one.
 */
static void diag_add(struct apiary_diags *d, enum apiary_severity sev,
		     const struct apiary_loc *loc, const char *fmt, va_list ap)
{
	struct apiary_diag *it;
	char *msg = NULL;

	if (sev == APIARY_ERROR)
		d->errors++;
	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	if (d->count == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct apiary_diag *n = realloc(d->items, cap * sizeof(*n));

		if (!n) {
			free(msg);
			return;
		}
		d->items = n;
		d->cap = cap;
	}
	it = &d->items[d->count++];
	memset(it, 0, sizeof(*it));
	it->severity = sev;
	if (loc)
		it->loc = *loc;
	it->msg = msg;
}

/* Record an error; returns -EINVAL so callers can return it directly. */
int apiary_error(struct apiary_diags *d, const struct apiary_loc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, APIARY_ERROR, loc, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Record a warning: printed, but does not make the run fail. */
void apiary_warn(struct apiary_diags *d, const struct apiary_loc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, APIARY_WARNING, loc, fmt, ap);
	va_end(ap);
}

/* Record a note, usually pointing at a place related to the last error. */
void apiary_note(struct apiary_diags *d, const struct apiary_loc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, APIARY_NOTE, loc, fmt, ap);
	va_end(ap);
}

/* Attach extra lines (a verifier log tail, a hint) to the last message. */
void apiary_diag_set_detail(struct apiary_diags *d, const char *detail)
{
	struct apiary_diag *it;
	char *copy;

	if (!d->count || !detail)
		return;
	it = &d->items[d->count - 1];
	copy = strdup(detail);
	if (!copy)
		return;
	free(it->detail);
	it->detail = copy;
}

static const char *severity_name(enum apiary_severity s)
{
	switch (s) {
	case APIARY_NOTE:
		return "note";
	case APIARY_WARNING:
		return "warning";
	default:
		return "error";
	}
}

/*
 * Print line `line` (1-based) of src, then a caret line: the caret sits
 * under column col and '~' extends it to len characters. Tabs in the source
 * are copied into the caret line so the caret stays aligned whatever the
 * terminal's tab width.
 */
static void print_source_line(FILE *out, const char *src, int line, int col, int len)
{
	const char *p = src, *end;
	int l, i, width;

	for (l = 1; l < line; l++) {
		p = strchr(p, '\n');
		if (!p)
			return;
		p++;
	}
	end = strchr(p, '\n');
	if (!end)
		end = p + strlen(p);
	fprintf(out, "%.*s\n", (int)(end - p), p);

	width = (int)(end - p);
	if (col < 1)
		col = 1;
	if (col > width + 1)
		col = width + 1;
	for (i = 0; i < col - 1; i++)
		fputc(p[i] == '\t' ? '\t' : ' ', out);
	fputc('^', out);
	if (len < 1)
		len = 1;
	/* the underline never runs past the end of the line */
	for (i = 1; i < len && col - 1 + i < width; i++)
		fputc('~', out);
	fputc('\n', out);
}

/* Print every message as `file:line:col: error: msg`, the source line and
 * a caret, then any detail lines. */
void apiary_diags_print(const struct apiary_diags *d, FILE *out)
{
	size_t i;

	for (i = 0; i < d->count; i++) {
		const struct apiary_diag *it = &d->items[i];
		const struct apiary_loc *l = &it->loc;
		const char *sev = severity_name(it->severity);

		if (l->file && l->line > 0)
			fprintf(out, "%s:%d:%d: %s: %s\n", l->file, l->line, l->col, sev,
				it->msg);
		else if (l->file)
			fprintf(out, "%s: %s: %s\n", l->file, sev, it->msg);
		else
			fprintf(out, "%s: %s\n", sev, it->msg);
		if (l->src && l->line > 0)
			print_source_line(out, l->src, l->line, l->col, l->len);
		if (it->detail) {
			size_t n = strlen(it->detail);

			fputs(it->detail, out);
			if (n && it->detail[n - 1] != '\n')
				fputc('\n', out);
		}
	}
}

struct sort_ent {
	struct apiary_diag item;
	size_t idx;
};

static int cmp_ent(const void *pa, const void *pb)
{
	const struct sort_ent *a = pa, *b = pb;
	long la = a->item.loc.line > 0 ? a->item.loc.line : (long)1 << 40;
	long lb = b->item.loc.line > 0 ? b->item.loc.line : (long)1 << 40;

	if (la != lb)
		return la < lb ? -1 : 1;
	if (a->item.loc.line > 0 && a->item.loc.col != b->item.loc.col)
		return a->item.loc.col < b->item.loc.col ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* See spec_int.h. Warnings stay next to errors of the same place because
 * the sort is stable (ties keep their order). */
void apiary__diags_sort(struct apiary_diags *d, size_t from)
{
	struct sort_ent *v;
	size_t n, i;

	if (from >= d->count)
		return;
	n = d->count - from;
	v = malloc(n * sizeof(*v));
	if (!v)
		return; /* unsorted is still correct */
	for (i = 0; i < n; i++) {
		v[i].item = d->items[from + i];
		v[i].idx = i;
	}
	qsort(v, n, sizeof(*v), cmp_ent);
	for (i = 0; i < n; i++)
		d->items[from + i] = v[i].item;
	free(v);
}
