/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics shared by every phase: a list of located messages that the
 * CLIs print as `file:line:col: error: message`, the source line and a caret.
 * Library code never prints; it appends here and returns an error.
 */
#ifndef APIARY_DIAG_H
#define APIARY_DIAG_H

#include <stdarg.h>
#include <stdio.h>

/* A place in a source file. `file` and `src` are borrowed from the owner
 * (the spec) and stay valid while it lives. line/col are 1-based; len is the
 * width of the caret underline (0 means 1). */
struct apiary_loc {
	const char *file;
	const char *src; /* whole text of file, NUL-terminated, or NULL */
	int line;
	int col;
	int len;
};

enum apiary_severity {
	APIARY_NOTE,
	APIARY_WARNING,
	APIARY_ERROR,
};

struct apiary_diag {
	enum apiary_severity severity;
	struct apiary_loc loc; /* loc.file == NULL: not tied to a place */
	char *msg;
	char *detail; /* optional extra lines (verifier log tail, hints); may be NULL */
};

struct apiary_diags {
	struct apiary_diag *items;
	size_t count;
	size_t cap;
	size_t errors;
};

void apiary_diags_init(struct apiary_diags *d);
void apiary_diags_free(struct apiary_diags *d);

/* Append a message; returns -EINVAL for errors so callers can write
 * `return apiary_error(d, loc, "...")`. loc may be NULL. */
__attribute__((format(printf, 3, 4))) int apiary_error(struct apiary_diags *d,
						       const struct apiary_loc *loc,
						       const char *fmt, ...);
__attribute__((format(printf, 3, 4))) void apiary_warn(struct apiary_diags *d,
						       const struct apiary_loc *loc,
						       const char *fmt, ...);
__attribute__((format(printf, 3, 4))) void apiary_note(struct apiary_diags *d,
						       const struct apiary_loc *loc,
						       const char *fmt, ...);
/* Attach extra lines to the last message (takes a copy). */
void apiary_diag_set_detail(struct apiary_diags *d, const char *detail);

/* Print every message: `file:line:col: error: msg`, then the source line
 * and a caret under loc.col..loc.col+len, then the detail lines. */
void apiary_diags_print(const struct apiary_diags *d, FILE *out);

#endif
