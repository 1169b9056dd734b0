// SPDX-License-Identifier: MIT
/*
 * The one escape function of the reports. Names, summaries and packet
 * decodes come from specs and programs written by other teams (and from
 * fuzzers): everything is escaped here before it reaches HTML or XML, in
 * text and in attribute values alike.
 */
#include <stdint.h>
#include <stdio.h>

#include "apiary/report.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. Rejects
 * overlong forms, surrogates and code points above U+10FFFF. */
static int utf8_len(const unsigned char *s)
{
	uint32_t cp;
	int n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return 0;
	return n;
}

void apiary_markup_escape(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	if (!s)
		return;
	while (*s) {
		int n;

		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		case '\t':
		case '\n':
		case '\r':
			fputc(*s, out);
			break;
		default:
			if (*s < 0x20 || *s == 0x7f) {
				fputs(REPLACEMENT, out);
				break;
			}
			n = utf8_len(s);
			if (!n) {
				fputs(REPLACEMENT, out);
				break;
			}
			fwrite(s, 1, (size_t)n, out);
			s += n;
			continue;
		}
		s++;
	}
}
