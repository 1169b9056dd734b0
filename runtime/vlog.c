// SPDX-License-Identifier: MIT
/*
 * Verifier log parsing: from the kernel's log (log_level 1) to the failing
 * source line, the verifier's last lines and a plain explanation of the
 * common rejection classes. Kernels 6.x print BTF line info as
 * "; <source text> @ file.c:LINE" before the instructions of that line.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

struct hint {
	const char *needle;
	const char *text;
};

/* Order matters: the first needle found wins, so the specific ones come
 * before the generic ones ("invalid mem access" covers more than maps). */
static const struct hint hints[] = {
	{ "invalid access to packet",
	  "unchecked packet access: compare data + N with data_end before reading N bytes of the packet" },
	{ "outside of the packet",
	  "unchecked packet access: compare data + N with data_end before reading N bytes of the packet" },
	{ "back-edge",
	  "unbounded loop: give the loop a constant upper bound the verifier can see" },
	{ "infinite loop detected",
	  "unbounded loop: give the loop a constant upper bound the verifier can see" },
	{ "program is too large",
	  "unbounded loop (or too many paths): give loops a constant upper bound the verifier can see" },
	{ "map_value_or_null",
	  "map value used without a NULL check: check the result of bpf_map_lookup_elem() for NULL before using it" },
	{ "invalid mem access",
	  "invalid memory access: check the result of bpf_map_lookup_elem() (and other pointers) for NULL before using it" },
	{ "read from stack",
	  "uninitialized stack: initialize the variable (e.g. `= {}` or __builtin_memset) before reading it or passing it to a helper" },
	{ "!read_ok",
	  "uninitialized stack: initialize the variable (e.g. `= {}` or __builtin_memset) before reading it or passing it to a helper" },
};

/* The explanation of the first known error class text mentions. */
const char *rt_vlog_explain(const char *text)
{
	size_t i;

	if (!text)
		return NULL;
	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (strstr(text, hints[i].needle))
			return hints[i].text;
	return NULL;
}

/* Lines the verifier prints after the error: statistics, not the cause. */
static bool is_trailer(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	if (!n)
		return true;
	return !strncmp(s, "processed ", 10) || !strncmp(s, "verification time", 17) ||
	       !strncmp(s, "stack depth", 11) || !strncmp(s, "-- END", 6) ||
	       !strncmp(s, "mark_precise", 12);
}

/* Copy at most n bytes of s into a bounded string. */
static void copy_bounded(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* "; <src> @ file.c:12": fill src, file, line. Returns true for such lines
 * (also for the older form without " @ file:line", which has no line). */
static bool parse_line_info(const char *s, size_t n, struct rt_vlog *out)
{
	const char *at = NULL, *p, *colon = NULL;
	long line;
	char *end;

	if (n < 2 || s[0] != ';' || s[1] != ' ')
		return false;
	s += 2;
	n -= 2;
	for (p = s; p + 3 <= s + n; p++)
		if (!memcmp(p, " @ ", 3))
			at = p;
	if (!at) {
		copy_bounded(out->src, sizeof(out->src), s, n);
		out->file[0] = '\0';
		out->line = 0;
		return true;
	}
	for (p = at + 3; p < s + n; p++)
		if (*p == ':')
			colon = p;
	if (!colon)
		return false;
	line = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || line <= 0)
		return false;
	copy_bounded(out->src, sizeof(out->src), s, (size_t)(at - s));
	copy_bounded(out->file, sizeof(out->file), at + 3, (size_t)(colon - (at + 3)));
	out->line = (int)line;
	return true;
}

/* Find the error line (the last line that is not a trailer, or a known
 * error class among the last few), the last line info before it, and the
 * tail of the log. */
void rt_vlog_parse(const char *log, struct rt_vlog *out)
{
	const char **starts = NULL;
	size_t *lens = NULL, n = 0, cap = 0, i, err = 0, first;
	const char *p;
	bool have_err = false;
	size_t used = 0;

	memset(out, 0, sizeof(*out));
	if (!log)
		return;
	for (p = log; *p;) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			const char **ns = realloc(starts, ncap * sizeof(*ns));
			size_t *nl;

			if (!ns)
				goto out;
			starts = ns;
			nl = realloc(lens, ncap * sizeof(*nl));
			if (!nl)
				goto out;
			lens = nl;
			cap = ncap;
		}
		starts[n] = p;
		lens[n] = len;
		n++;
		p = e ? e + 1 : p + len;
	}

	/* The error: a known class among the last meaningful lines, else the
	 * last meaningful line. */
	for (i = n; i-- > 0;) {
		if (is_trailer(starts[i], lens[i]))
			continue;
		if (!have_err) {
			err = i;
			have_err = true;
		}
		{
			char tmp[512];

			copy_bounded(tmp, sizeof(tmp), starts[i], lens[i]);
			if (rt_vlog_explain(tmp)) {
				err = i;
				break;
			}
		}
		if (have_err && err - i >= 3)
			break;
	}
	if (have_err) {
		copy_bounded(out->error, sizeof(out->error), starts[err], lens[err]);
		out->hint = rt_vlog_explain(out->error);
		/* The source line: the last line info at or before the error. */
		for (i = err + 1; i-- > 0;)
			if (parse_line_info(starts[i], lens[i], out))
				break;
	}

	/* The tail: the last RT_VLOG_TAIL_LINES non-empty lines. */
	first = n;
	for (i = n, used = 0; i-- > 0 && used < RT_VLOG_TAIL_LINES;)
		if (lens[i]) {
			first = i;
			used++;
		}
	used = 0;
	for (i = first; i < n; i++) {
		size_t room = sizeof(out->tail) - used;

		if (!lens[i])
			continue;
		if (lens[i] + 2 > room)
			break;
		memcpy(out->tail + used, starts[i], lens[i]);
		used += lens[i];
		out->tail[used++] = '\n';
		out->tail[used] = '\0';
	}
out:
	free(starts);
	free(lens);
}
