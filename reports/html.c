// SPDX-License-Identifier: MIT
/*
 * The HTML conflict report: one self-contained file a reviewer opens from a
 * CI artifact. No network assets; CSS, the small filter script and the
 * ordering graphs (SVG) are inline. Every string from a spec, a program or a
 * packet goes through apiary_markup_escape().
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiary/abi.h"
#include "apiary/report.h"

#define esc apiary_markup_escape

static const char css[] =
	":root{--fg:#1d2330;--muted:#5b6475;--bg:#f5f6f8;--card:#fff;--line:#d9dde5;"
	"--err:#c62828;--info:#1565c0;--ok:#2e7d32;--warn:#ef6c00;--diff:#fff1b8;--diffb:#e0a800}"
	"*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',"
	"Roboto,sans-serif;color:var(--fg);background:var(--bg)}"
	"header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}"
	"header p{margin:4px 0 0;color:#c9cfdb}main{padding:16px 28px;max-width:1400px}"
	"h2{font-size:18px;margin:24px 0 8px}h3{font-size:16px;margin:0 0 6px}"
	"h4{font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);"
	"margin:16px 0 6px}"
	"table{border-collapse:collapse;background:var(--card);margin:4px 0}"
	"th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}"
	"th{background:#eef0f4;font-weight:600}"
	".filters{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid var(--line);"
	"padding:10px 28px;display:flex;gap:18px;align-items:center}"
	".filters select{font:inherit;padding:2px 6px;max-width:280px}"
	"td code,td{overflow-wrap:anywhere}table{max-width:100%}"
	"article.violation{background:var(--card);border:1px solid var(--line);border-left:6px solid "
	"var(--err);border-radius:6px;padding:14px 18px;margin:14px 0}"
	"article.sev-info{border-left-color:var(--info)}article.waived{border-left-color:#9e9e9e;"
	"opacity:.92}"
	".badge{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;"
	"font-weight:600;color:#fff;background:#455a64;margin-right:4px;vertical-align:middle}"
	".b-error{background:var(--err)}.b-info{background:var(--info)}.b-waived{background:#757575}"
	".b-clean{background:var(--ok)}.b-violations{background:var(--err)}.b-error-run{"
	"background:var(--warn)}.b-running{background:#607d8b}"
	".meta{color:var(--muted);margin:2px 0}.reason{background:#f1f1f1;border-left:4px solid "
	"#9e9e9e;padding:6px 10px;margin:8px 0}"
	"pre{background:#f7f8fa;border:1px solid var(--line);padding:8px;overflow-x:auto;margin:4px 0;"
	"font:12px/1.4 ui-monospace,'DejaVu Sans Mono',monospace}"
	"code{font:12px ui-monospace,'DejaVu Sans Mono',monospace}"
	".side{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:12px}"
	"td.diff,tr.diff td{background:var(--diff)}span.d{background:#ffb3b3;outline:1px solid "
	"#d32f2f}"
	".L0{background:#e3f2fd}.L1{background:#f3e5f5}.L2{background:#e8f5e9}.L3{background:#fff3e0}"
	".L4{background:#fce4ec}.L5{background:#e0f7fa}.L6{background:#f9fbe7}.L7{background:#ede7f6}"
	".legend span{padding:0 6px;margin-right:6px;border-radius:3px}"
	"svg.order{display:block;margin:4px 0 10px}.empty{color:var(--muted);font-style:italic}"
	"td.num{text-align:right}table.outcomes td:nth-child(-n+2){white-space:nowrap}"
	"table.outcomes{width:100%}";

/* Filters by team and invariant; #team=..&inv=.. in the URL presets them.
 * Errors are recorded on <html data-js-error> so tests can see them. */
static const char js_guard[] =
	"window.addEventListener('error',function(e){document.documentElement.setAttribute("
	"'data-js-error',String(e.message||e));});";
static const char js_main[] =
	"(function(){\n"
	"var team=document.getElementById('f-team'),inv=document.getElementById('f-inv'),\n"
	"    count=document.getElementById('f-count');\n"
	"function has(sel,v){for(var i=0;i<sel.options.length;i++)if(sel.options[i].value===v)"
	"return true;return false;}\n"
	"function apply(){var t=team.value,k=inv.value,shown=0,total=0;\n"
	" document.querySelectorAll('article.violation').forEach(function(a){total++;\n"
	"  var teams=JSON.parse(a.getAttribute('data-teams')||'[]');\n"
	"  var ok=(!t||teams.indexOf(t)>=0)&&(!k||a.getAttribute('data-invariant')===k);\n"
	"  a.hidden=!ok;if(ok)shown++;});\n"
	" count.textContent=shown+' of '+total+' shown';}\n"
	"var q=new URLSearchParams(location.hash.slice(1));\n"
	"if(q.get('team')!==null&&has(team,q.get('team')))team.value=q.get('team');\n"
	"if(q.get('inv')!==null&&has(inv,q.get('inv')))inv.value=q.get('inv');\n"
	"team.addEventListener('change',apply);inv.addEventListener('change',apply);\n"
	"apply();document.documentElement.setAttribute('data-report-ready','1');\n"
	"})();\n";

/* ---- small helpers ------------------------------------------------------ */

__attribute__((format(printf, 2, 3))) static void escf(FILE *out, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	esc(out, buf);
}

static void fmt_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !gmtime_r(&tt, &tm)) {
		snprintf(buf, size, "-");
		return;
	}
	strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static bool is_open(const struct apiary_stored_violation *sv)
{
	return sv->status != APIARY_VSTATUS_WAIVED;
}

/* A growable list of distinct strings (borrowed pointers). */
struct strset {
	const char **s;
	size_t n, cap;
};

static ssize_t strset_find(const struct strset *ss, const char *s)
{
	for (size_t i = 0; i < ss->n; i++)
		if (!strcmp(ss->s[i], s))
			return (ssize_t)i;
	return -1;
}

static ssize_t strset_add(struct strset *ss, const char *s)
{
	ssize_t i;

	if (!s)
		return -1;
	i = strset_find(ss, s);
	if (i >= 0)
		return i;
	if (ss->n == ss->cap) {
		size_t cap = ss->cap ? ss->cap * 2 : 16;
		void *p = realloc(ss->s, cap * sizeof(*ss->s));

		if (!p)
			return -1;
		ss->s = p;
		ss->cap = cap;
	}
	ss->s[ss->n] = s;
	return (ssize_t)ss->n++;
}

static void strset_free(struct strset *ss)
{
	free(ss->s);
	memset(ss, 0, sizeof(*ss));
}

/* ---- enforcer names ----------------------------------------------------- */

/* Index -> name for one violation, taken from the run labels ("a -> b")
 * lined up with the run orders; traces name enforcers by index only. */
struct names {
	char *name[APIARY_MAX_ENFORCERS];
};

static void names_build(const struct apiary_violation *v, struct names *nm)
{
	memset(nm, 0, sizeof(*nm));
	for (size_t i = 0; i < v->nnames && i < APIARY_MAX_ENFORCERS; i++)
		nm->name[i] = v->names[i] ? strdup(v->names[i]) : NULL;
	/* older stores have no name table: recover names from the run labels */
	for (size_t r = 0; !v->nnames && r < v->nruns && r < 2; r++) {
		const struct apiary_vrun *run = &v->runs[r];
		char *tok[APIARY_MAX_CHAIN];
		size_t nt = 0;
		char *copy, *p, *save = NULL;

		if (!run->label)
			continue;
		copy = strdup(run->label);
		if (!copy)
			continue;
		for (p = strtok_r(copy, ">", &save); p && nt < APIARY_MAX_CHAIN;
		     p = strtok_r(NULL, ">", &save)) {
			char *e = p + strlen(p);

			while (*p == ' ')
				p++;
			while (e > p && (e[-1] == ' ' || e[-1] == '-'))
				*--e = 0;
			tok[nt++] = p;
		}
		if (nt == run->norder) {
			for (size_t i = 0; i < nt; i++) {
				int e = run->order[i];

				if (e >= 0 && e < APIARY_MAX_ENFORCERS && !nm->name[e])
					nm->name[e] = strdup(tok[i]);
			}
		}
		free(copy);
	}
}

static void names_free(struct names *nm)
{
	for (int i = 0; i < APIARY_MAX_ENFORCERS; i++)
		free(nm->name[i]);
}

static const char *name_of(const struct names *nm, int e, char *buf, size_t size)
{
	if (e >= 0 && e < APIARY_MAX_ENFORCERS && nm->name[e])
		return nm->name[e];
	snprintf(buf, size, "enforcer #%d", e);
	return buf;
}

static const struct apiary_party *party_of(const struct apiary_violation *v, const char *name)
{
	for (size_t i = 0; name && i < v->nparties; i++)
		if (v->parties[i].enforcer && !strcmp(v->parties[i].enforcer, name))
			return &v->parties[i];
	return NULL;
}

/* ---- byte views --------------------------------------------------------- */

/* Hex dump, 16 bytes a line: bytes coloured by decoded layer (d may be
 * NULL) and marked where they differ from `other` (may be NULL). */
static void hexdump(FILE *out, const uint8_t *p, size_t len, const struct apiary_pkt_decoded *d,
		    const uint8_t *other, size_t olen, bool ascii)
{
	fputs("<pre class=\"hex\">", out);
	if (!len)
		fputs("(no bytes)", out);
	for (size_t line = 0; line < len; line += 16) {
		fprintf(out, "%04zx  ", line);
		for (size_t i = line; i < line + 16; i++) {
			int lay = -1;
			bool diff;

			if (i >= len) {
				fputs("   ", out);
				continue;
			}
			for (int k = 0; d && k < d->nlayers; k++)
				if (i >= d->layers[k].off && i < (size_t)d->layers[k].off + d->layers[k].len)
					lay = k;
			diff = other && (i >= olen || other[i] != p[i]);
			if (lay >= 0 || diff) {
				fputs("<span class=\"", out);
				if (lay >= 0)
					fprintf(out, "L%d%s", lay, diff ? " " : "");
				if (diff)
					fputs("d", out);
				fprintf(out, "\">%02x</span> ", p[i]);
			} else {
				fprintf(out, "%02x ", p[i]);
			}
		}
		if (ascii) {
			fputs(" |", out);
			for (size_t i = line; i < line + 16 && i < len; i++) {
				char c[2] = { (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '.', 0 };

				esc(out, c);
			}
			fputc('|', out);
		}
		fputc('\n', out);
	}
	fputs("</pre>", out);
}

/* A map value: hex, plus the little-endian integer for 1/2/4/8 bytes. */
static void value_cell(FILE *out, const uint8_t *p, uint32_t size)
{
	uint64_t x = 0;
	char *h;

	if (!p) {
		fputs("<span class=\"empty\">(absent)</span>", out);
		return;
	}
	h = apiary_hex(p, size);
	fputs("<code>", out);
	esc(out, h);
	fputs("</code>", out);
	free(h);
	if (size == 1 || size == 2 || size == 4 || size == 8) {
		for (uint32_t i = size; i-- > 0;)
			x = x << 8 | p[i];
		fprintf(out, " <span class=\"meta\">= %llu</span>", (unsigned long long)x);
	}
}

static bool bytes_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (!a || !b)
		return a == b;
	return !memcmp(a, b, n);
}

/* ---- sections of one violation ------------------------------------------ */

static void parties_table(FILE *out, const struct apiary_violation *v)
{
	fputs("<h4>Parties</h4>", out);
	if (!v->nparties) {
		fputs("<p class=\"empty\">none recorded</p>", out);
		return;
	}
	fputs("<table><tr><th>enforcer</th><th>team</th><th>version</th><th>spec</th></tr>", out);
	for (size_t i = 0; i < v->nparties; i++) {
		const struct apiary_party *p = &v->parties[i];

		fputs("<tr><td><code>", out);
		esc(out, p->enforcer);
		fputs("</code></td><td>", out);
		esc(out, p->team);
		fprintf(out, "</td><td class=\"num\">%u</td><td>line %d, col %d</td></tr>", p->version,
			p->spec_line, p->spec_col);
	}
	fputs("</table>", out);
}

/* The verdict enforcer e returned in the first event where the runs
 * differ (or the first event), for the graph's second line. */
static const struct apiary_trace_ent *trace_of(const struct apiary_vrun *run, size_t ev, int e)
{
	if (ev >= run->noutcomes)
		return NULL;
	for (uint32_t i = 0; i < run->outcomes[ev].ntrace && i < APIARY_MAX_TRACE; i++)
		if (run->outcomes[ev].trace[i].enforcer == e)
			return &run->outcomes[ev].trace[i];
	return NULL;
}

static bool outcome_differs(const struct apiary_outcome *a, const struct apiary_outcome *b)
{
	if (a->verdict != b->verdict || a->len != b->len || a->ntrace != b->ntrace)
		return true;
	if (memcmp(a->data, b->data, a->len < sizeof(a->data) ? a->len : sizeof(a->data)))
		return true;
	for (uint32_t i = 0; i < a->ntrace && i < APIARY_MAX_TRACE; i++)
		if (a->trace[i].enforcer != b->trace[i].enforcer ||
		    a->trace[i].verdict != b->trace[i].verdict)
			return true;
	return false;
}

static size_t first_diff_event(const struct apiary_violation *v)
{
	if (v->nruns < 2)
		return 0;
	for (size_t e = 0; e < v->runs[0].noutcomes && e < v->runs[1].noutcomes; e++)
		if (outcome_differs(&v->runs[0].outcomes[e], &v->runs[1].outcomes[e]))
			return e;
	return 0;
}

/* One ordering as boxes and arrows; parties outlined in orange, each box
 * showing the team and the verdict the enforcer returned on event ev. */
static void order_svg(FILE *out, const struct apiary_violation *v, const struct apiary_vrun *run,
		      const struct names *nm, size_t ev)
{
	const int bw = 196, bh = 52, gap = 46, pad = 10;
	size_t n = run->norder > APIARY_MAX_CHAIN ? APIARY_MAX_CHAIN : run->norder;
	int w = pad * 2 + (int)(n ? n : 1) * bw + (int)(n > 1 ? n - 1 : 0) * gap;
	int hook = ev < v->input.nevents ? (int)v->input.events[ev].hook : 0;

	fputs("<div><strong>", out);
	esc(out, run->label ? run->label : "(unlabelled run)");
	fputs("</strong>", out);
	fprintf(out, "<svg class=\"order\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", w, bh + 2 * pad, w,
		bh + 2 * pad);
	esc(out, run->label);
	fputs("\">", out);
	if (!n)
		fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#5b6475\">no ordering "
			"recorded</text>", pad, pad + 20);
	for (size_t i = 0; i < n; i++) {
		char buf[32], vb[24], shown[32];
		const char *name = name_of(nm, run->order[i], buf, sizeof(buf));
		const struct apiary_party *pt = party_of(v, name);
		const struct apiary_trace_ent *te = trace_of(run, ev, run->order[i]);
		int x = pad + (int)i * (bw + gap), y = pad;

		fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\" "
			"fill=\"%s\" stroke=\"%s\" stroke-width=\"%d\"/>", x, y, bw, bh,
			pt ? "#fff8e1" : "#eceff1", pt ? "#ef6c00" : "#90a4ae", pt ? 2 : 1);
		/* Long names are cut so they stay inside the box. */
		if (strlen(name) > 22)
			snprintf(shown, sizeof(shown), "%.20s..", name);
		else
			snprintf(shown, sizeof(shown), "%.22s", name);
		fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"13\" font-weight=\"600\" "
			"text-anchor=\"middle\" fill=\"#1d2330\"><title>", x + bw / 2, y + 20);
		esc(out, name);
		fputs("</title>", out);
		esc(out, shown);
		fprintf(out, "</text><text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\" "
			"fill=\"#5b6475\">", x + bw / 2, y + 40);
		if (pt)
			escf(out, "%.12s", pt->team ? pt->team : "");
		if (te)
			escf(out, "%s%s", pt ? " · " : "",
			     apiary_verdict_name(te->hook ? te->hook : hook, te->verdict, vb,
						 sizeof(vb)));
		else
			escf(out, "%snot run", pt ? " · " : "");
		fputs("</text>", out);
		if (i + 1 < n) {
			int x1 = x + bw + 4, x2 = x + bw + gap - 4, ym = y + bh / 2;

			fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#37474f\" "
				"stroke-width=\"2\"/><polygon points=\"%d,%d %d,%d %d,%d\" "
				"fill=\"#37474f\"/>", x1, ym, x2 - 8, ym, x2, ym, x2 - 9, ym - 5,
				x2 - 9, ym + 5);
		}
	}
	fputs("</svg></div>", out);
}

static void input_section(FILE *out, const struct apiary_violation *v)
{
	const struct apiary_input *in = &v->input;

	fputs("<h4>Input</h4>", out);
	fprintf(out, "<p class=\"meta\">%zu event(s), ordering choice %u, update %s",
		in->nevents, in->ordering, in->update_at == APIARY_INPUT_NO_UPDATE ? "none" : "");
	if (in->update_at != APIARY_INPUT_NO_UPDATE)
		fprintf(out, "before event %u", in->update_at + 1);
	fputs("</p>", out);
	for (size_t e = 0; e < in->nevents && e < APIARY_INPUT_MAX_EVENTS; e++) {
		const struct apiary_event *ev = &in->events[e];
		size_t len = ev->len > APIARY_INPUT_MAX_FRAME ? APIARY_INPUT_MAX_FRAME : ev->len;
		struct apiary_pkt_decoded d;

		apiary_pkt_decode(ev->data, len, &d);
		fprintf(out, "<div><strong>Event %zu</strong> at <code>", e + 1);
		esc(out, apiary_hook_name(ev->hook));
		fprintf(out, "</code>, %zu bytes", len);
		fputs("<div class=\"side\"><div><table><tr><th>layer</th><th>field</th>"
		      "<th>value</th></tr>", out);
		for (int k = 0; k < d.nlayers; k++) {
			const struct apiary_pkt_layer *l = &d.layers[k];

			for (int f = 0; f < l->nfields; f++) {
				fputs("<tr>", out);
				if (!f) {
					fprintf(out, "<td rowspan=\"%d\" class=\"L%d\"><strong>",
						l->nfields, k);
					esc(out, l->name);
					fputs("</strong></td>", out);
				}
				fputs("<td>", out);
				esc(out, l->fields[f].name);
				fputs("</td><td><code>", out);
				esc(out, l->fields[f].value);
				fputs("</code></td></tr>", out);
			}
		}
		if (d.payload_off < len)
			fprintf(out, "<tr><td>payload</td><td>bytes</td><td>%zu</td></tr>",
				len - d.payload_off);
		fputs("</table>", out);
		if (d.note[0]) {
			fputs("<p class=\"meta\">", out);
			esc(out, d.note);
			fputs("</p>", out);
		}
		fputs("</div><div>", out);
		hexdump(out, ev->data, len, &d, NULL, 0, true);
		fputs("</div></div></div>", out);
	}
}

/* The trace as "name: VERDICT → name: VERDICT". */
static void trace_text(FILE *out, const struct apiary_outcome *oc, const struct names *nm,
		       int hook)
{
	if (!oc->ntrace) {
		fputs("<span class=\"empty\">no enforcer ran</span>", out);
		return;
	}
	for (uint32_t i = 0; i < oc->ntrace && i < APIARY_MAX_TRACE; i++) {
		char buf[32], vb[24];
		const struct apiary_trace_ent *t = &oc->trace[i];

		if (i)
			fputs(" &rarr; ", out);
		fputs("<code>", out);
		esc(out, name_of(nm, t->enforcer, buf, sizeof(buf)));
		if (t->vslot)
			fprintf(out, " (v-slot %u)", t->vslot);
		fputs("</code>: ", out);
		esc(out, apiary_verdict_name(t->hook ? t->hook : hook, t->verdict, vb, sizeof(vb)));
	}
}

static bool trace_eq(const struct apiary_outcome *a, const struct apiary_outcome *b)
{
	if (a->ntrace != b->ntrace)
		return false;
	for (uint32_t i = 0; i < a->ntrace && i < APIARY_MAX_TRACE; i++)
		if (a->trace[i].enforcer != b->trace[i].enforcer ||
		    a->trace[i].verdict != b->trace[i].verdict || a->trace[i].vslot != b->trace[i].vslot)
			return false;
	return true;
}

/* Outcomes of every event, runs side by side, differing cells marked. */
static void outcomes_section(FILE *out, const struct apiary_violation *v, const struct names *nm)
{
	size_t nr = v->nruns > 2 ? 2 : v->nruns, nev = 0;

	fputs("<h4>Outcomes</h4>", out);
	for (size_t r = 0; r < nr; r++)
		if (v->runs[r].noutcomes > nev)
			nev = v->runs[r].noutcomes;
	if (!nev) {
		fputs("<p class=\"empty\">no outcomes recorded</p>", out);
		return;
	}
	fputs("<table class=\"outcomes\"><tr><th>event</th><th>what</th>", out);
	for (size_t r = 0; r < nr; r++) {
		fputs("<th>", out);
		esc(out, v->runs[r].label ? v->runs[r].label : "run");
		fputs("</th>", out);
	}
	fputs("</tr>", out);
	for (size_t e = 0; e < nev; e++) {
		const struct apiary_outcome *oc[2] = { NULL, NULL };
		int hook = e < v->input.nevents ? (int)v->input.events[e].hook : 0;
		bool two;

		for (size_t r = 0; r < nr; r++)
			oc[r] = e < v->runs[r].noutcomes ? &v->runs[r].outcomes[e] : NULL;
		two = nr == 2 && oc[0] && oc[1];
		/* verdict */
		fprintf(out, "<tr><td rowspan=\"4\">%zu<br><code>", e + 1);
		esc(out, apiary_hook_name((enum apiary_hook)hook));
		fputs("</code></td><td>verdict</td>", out);
		for (size_t r = 0; r < nr; r++) {
			char vb[24];

			fprintf(out, "<td%s>", two && oc[0]->verdict != oc[1]->verdict ?
						     " class=\"diff\"" : "");
			if (oc[r])
				esc(out, apiary_verdict_name(hook, oc[r]->verdict, vb, sizeof(vb)));
			else
				fputs("<span class=\"empty\">not run</span>", out);
			fputs("</td>", out);
		}
		fputs("</tr><tr><td>trace</td>", out);
		for (size_t r = 0; r < nr; r++) {
			fprintf(out, "<td%s>", two && !trace_eq(oc[0], oc[1]) ? " class=\"diff\"" : "");
			if (oc[r])
				trace_text(out, oc[r], nm, hook);
			fputs("</td>", out);
		}
		fputs("</tr><tr><td>flow</td>", out);
		for (size_t r = 0; r < nr; r++) {
			fprintf(out, "<td%s>", two && (oc[0]->flow_id != oc[1]->flow_id ||
						      oc[0]->matched != oc[1]->matched) ?
						     " class=\"diff\"" : "");
			if (oc[r])
				fprintf(out, "id %llu, %s, classifier match %s",
					(unsigned long long)oc[r]->flow_id,
					oc[r]->direction ? "reply" : "original direction",
					oc[r]->matched ? "yes" : "no");
			fputs("</td>", out);
		}
		fputs("</tr><tr><td>output</td>", out);
		for (size_t r = 0; r < nr; r++) {
			const struct apiary_outcome *o = oc[r], *other = two ? oc[1 - r] : NULL;
			uint32_t len, olen = 0;

			fprintf(out, "<td%s>", two && (oc[0]->len != oc[1]->len ||
						      memcmp(oc[0]->data, oc[1]->data,
							     oc[0]->len < sizeof(oc[0]->data) ?
								     oc[0]->len : sizeof(oc[0]->data))) ?
						     " class=\"diff\"" : "");
			if (o) {
				len = o->len > sizeof(o->data) ? sizeof(o->data) : o->len;
				if (other)
					olen = other->len > sizeof(other->data) ? sizeof(other->data) :
										  other->len;
				fprintf(out, "%u bytes", len);
				hexdump(out, o->data, len, NULL, other ? other->data : NULL, olen, false);
			}
			fputs("</td>", out);
		}
		fputs("</tr>", out);
	}
	fputs("</table>", out);
}

static const struct apiary_vchange *find_change(const struct apiary_vrun *run,
						const struct apiary_vchange *c)
{
	for (size_t i = 0; i < run->nchanges; i++) {
		const struct apiary_vchange *o = &run->changes[i];

		if (o->key_size == c->key_size && (o->map && c->map) && !strcmp(o->map, c->map) &&
		    bytes_eq(o->key, c->key, c->key_size))
			return o;
	}
	return NULL;
}

/* Map deltas: one row per (map, key) changed by either run. */
static void changes_section(FILE *out, const struct apiary_violation *v)
{
	size_t nr = v->nruns > 2 ? 2 : v->nruns, total = 0;

	fputs("<h4>State changes</h4>", out);
	for (size_t r = 0; r < nr; r++)
		total += v->runs[r].nchanges;
	if (!total) {
		fputs("<p class=\"empty\">no map entry changed</p>", out);
		return;
	}
	fputs("<table><tr><th>map</th><th>key</th>", out);
	for (size_t r = 0; r < nr; r++) {
		fputs("<th>", out);
		esc(out, v->runs[r].label ? v->runs[r].label : "run");
		fputs(": before &rarr; after</th>", out);
	}
	fputs("</tr>", out);
	for (size_t r = 0; r < nr; r++) {
		for (size_t i = 0; i < v->runs[r].nchanges; i++) {
			const struct apiary_vchange *c = &v->runs[r].changes[i], *cc[2];
			char *kh;
			bool diff;

			/* A key changed by both runs is shown once, from run 0. */
			if (r == 1 && find_change(&v->runs[0], c))
				continue;
			cc[0] = find_change(&v->runs[0], c);
			cc[1] = nr == 2 ? find_change(&v->runs[1], c) : NULL;
			diff = nr == 2 && (!cc[0] || !cc[1] ||
					   cc[0]->value_size != cc[1]->value_size ||
					   !bytes_eq(cc[0]->after, cc[1]->after, c->value_size) ||
					   !bytes_eq(cc[0]->before, cc[1]->before, c->value_size));
			fprintf(out, "<tr%s><td><code>", diff ? " class=\"diff\"" : "");
			esc(out, c->map);
			kh = apiary_hex(c->key ? c->key : (const uint8_t *)"", c->key ? c->key_size : 0);
			fputs("</code></td><td><code>", out);
			esc(out, kh);
			free(kh);
			fputs("</code></td>", out);
			for (size_t k = 0; k < nr; k++) {
				fputs("<td>", out);
				if (cc[k]) {
					value_cell(out, cc[k]->before, cc[k]->value_size);
					fputs(" &rarr; ", out);
					value_cell(out, cc[k]->after, cc[k]->value_size);
				} else {
					fputs("<span class=\"empty\">unchanged</span>", out);
				}
				fputs("</td>", out);
			}
			fputs("</tr>", out);
		}
	}
	fputs("</table>", out);
}

static void violation_article(FILE *out, const struct apiary_stored_violation *sv)
{
	const struct apiary_violation *v = &sv->v;
	struct json_object *teams = json_object_new_array();
	struct strset seen = { 0 };
	char t1[40], t2[40];
	struct names nm;
	size_t ev;

	names_build(v, &nm);
	for (size_t i = 0; i < v->nparties; i++)
		if (v->parties[i].team && strset_find(&seen, v->parties[i].team) < 0) {
			strset_add(&seen, v->parties[i].team);
			json_object_array_add(teams, json_object_new_string(v->parties[i].team));
		}
	strset_free(&seen);
	fprintf(out, "<article class=\"violation sev-%s%s\" id=\"v-%lld\" data-invariant=\"",
		v->severity == APIARY_VS_INFO ? "info" : "error", is_open(sv) ? "" : " waived",
		(long long)sv->id);
	esc(out, apiary_invariant_name(v->invariant));
	fputs("\" data-teams=\"", out);
	esc(out, json_object_to_json_string_ext(teams, JSON_C_TO_STRING_PLAIN));
	json_object_put(teams);
	fputs("\">", out);

	fprintf(out, "<h3><span class=\"badge\">#%lld</span><span class=\"badge\">", (long long)sv->id);
	esc(out, apiary_invariant_name(v->invariant));
	fprintf(out, "</span><span class=\"badge b-%s\">%s</span>",
		v->severity == APIARY_VS_INFO ? "info" : "error",
		v->severity == APIARY_VS_INFO ? "info" : "error");
	if (!is_open(sv))
		fputs("<span class=\"badge b-waived\">waived</span>", out);
	esc(out, v->summary ? v->summary : "(no summary)");
	fputs("</h3>", out);

	fmt_time(sv->first_seen, t1, sizeof(t1));
	fmt_time(sv->last_seen, t2, sizeof(t2));
	fputs("<p class=\"meta\">bundle <strong>", out);
	esc(out, v->bundle);
	fputs("</strong>, hash <code>", out);
	esc(out, v->bundle_hash);
	fprintf(out, "</code> &middot; seen %llu time%s, first %s, last %s &middot; status %s</p>",
		(unsigned long long)sv->count, sv->count == 1 ? "" : "s", t1, t2,
		apiary_vstatus_name(sv->status));
	if (!is_open(sv)) {
		fputs("<div class=\"reason\"><strong>Waived:</strong> ", out);
		esc(out, sv->waive_reason ? sv->waive_reason : "(no reason recorded)");
		fputs("</div>", out);
	}
	if (v->detail) {
		fputs("<p>", out);
		esc(out, v->detail);
		fputs("</p>", out);
	}
	parties_table(out, v);

	ev = first_diff_event(v);
	fprintf(out, "<h4>Orderings</h4><p class=\"meta\">verdicts shown for event %zu</p>", ev + 1);
	for (size_t r = 0; r < v->nruns && r < 2; r++)
		order_svg(out, v, &v->runs[r], &nm, ev);
	input_section(out, v);
	outcomes_section(out, v, &nm);
	changes_section(out, v);

	fputs("<h4>Replay</h4><pre>", out);
	esc(out, v->replay ? v->replay : "(no replay command recorded)");
	fputs("</pre>", out);
	if (v->dedup_key) {
		fputs("<p class=\"meta\">dedup key <code>", out);
		esc(out, v->dedup_key);
		fputs("</code></p>", out);
	}
	fputs("</article>\n", out);
	names_free(&nm);
}

/* ---- summaries ---------------------------------------------------------- */

static void bundle_summary(FILE *out, const struct apiary_report *r)
{
	struct strset bundles = { 0 };

	for (size_t i = 0; i < r->nruns; i++)
		strset_add(&bundles, r->runs[i].bundle);
	for (size_t i = 0; i < r->nviolations; i++)
		strset_add(&bundles, r->violations[i].v.bundle);
	fputs("<h2>Bundles</h2>", out);
	if (!bundles.n) {
		fputs("<p class=\"empty\">no bundle in the store</p>", out);
		return;
	}
	fputs("<table><tr><th>bundle</th><th>latest run</th><th>version</th><th>hash</th>"
	      "<th>result</th><th>runs</th><th>open errors</th><th>info</th><th>waived</th></tr>",
	      out);
	for (size_t b = 0; b < bundles.n; b++) {
		const struct apiary_store_run *latest = NULL;
		size_t nruns = 0, err = 0, info = 0, waived = 0;
		char t[40];

		for (size_t i = 0; i < r->nruns; i++) {
			if (strcmp(r->runs[i].bundle, bundles.s[b]))
				continue;
			nruns++;
			if (!latest || r->runs[i].id > latest->id)
				latest = &r->runs[i];
		}
		for (size_t i = 0; i < r->nviolations; i++) {
			const struct apiary_stored_violation *sv = &r->violations[i];

			if (!sv->v.bundle || strcmp(sv->v.bundle, bundles.s[b]))
				continue;
			if (!is_open(sv))
				waived++;
			else if (sv->v.severity == APIARY_VS_INFO)
				info++;
			else
				err++;
		}
		fputs("<tr><td><strong>", out);
		esc(out, bundles.s[b]);
		fputs("</strong></td>", out);
		if (latest) {
			const char *res = apiary_run_result_name(latest->result);

			fmt_time(latest->finished ? latest->finished : latest->started, t, sizeof(t));
			fprintf(out, "<td>#%lld, %s</td><td class=\"num\">%u</td><td><code>",
				(long long)latest->id, t, latest->version);
			esc(out, latest->hash);
			fprintf(out, "</code></td><td><span class=\"badge b-%s%s\">%s</span></td>", res,
				latest->result == APIARY_RUN_ERROR ? "-run" : "", res);
		} else {
			fputs("<td colspan=\"4\" class=\"empty\">no run recorded</td>", out);
		}
		fprintf(out, "<td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
			"<td class=\"num\">%zu</td><td class=\"num\">%zu</td></tr>", nruns, err, info,
			waived);
	}
	fputs("</table>", out);
	strset_free(&bundles);
}

static void team_summary(FILE *out, const struct apiary_report *r)
{
	struct strset teams = { 0 };

	for (size_t i = 0; i < r->nviolations; i++)
		for (size_t p = 0; p < r->violations[i].v.nparties; p++)
			strset_add(&teams, r->violations[i].v.parties[p].team);
	fputs("<h2>Teams</h2>", out);
	if (!teams.n) {
		fputs("<p class=\"empty\">no team is party to a violation</p>", out);
		return;
	}
	fputs("<table><tr><th>team</th><th>enforcers involved</th><th>open</th><th>waived</th>"
	      "<th>invariants</th></tr>", out);
	for (size_t t = 0; t < teams.n; t++) {
		struct strset enf = { 0 }, invs = { 0 };
		size_t open = 0, waived = 0;

		for (size_t i = 0; i < r->nviolations; i++) {
			const struct apiary_stored_violation *sv = &r->violations[i];
			bool in = false;

			for (size_t p = 0; p < sv->v.nparties; p++) {
				const struct apiary_party *pt = &sv->v.parties[p];

				if (pt->team && !strcmp(pt->team, teams.s[t])) {
					in = true;
					strset_add(&enf, pt->enforcer);
				}
			}
			if (!in)
				continue;
			if (is_open(sv))
				open++;
			else
				waived++;
			strset_add(&invs, apiary_invariant_name(sv->v.invariant));
		}
		fputs("<tr><td><strong>", out);
		esc(out, teams.s[t]);
		fputs("</strong></td><td>", out);
		for (size_t i = 0; i < enf.n; i++) {
			fputs(i ? ", <code>" : "<code>", out);
			esc(out, enf.s[i]);
			fputs("</code>", out);
		}
		fprintf(out, "</td><td class=\"num\">%zu</td><td class=\"num\">%zu</td><td>", open,
			waived);
		for (size_t i = 0; i < invs.n; i++) {
			if (i)
				fputs(", ", out);
			esc(out, invs.s[i]);
		}
		fputs("</td></tr>", out);
		strset_free(&enf);
		strset_free(&invs);
	}
	fputs("</table>", out);
	strset_free(&teams);
}

static void filters(FILE *out, const struct apiary_report *r)
{
	struct strset teams = { 0 }, invs = { 0 };

	for (size_t i = 0; i < r->nviolations; i++) {
		for (size_t p = 0; p < r->violations[i].v.nparties; p++)
			strset_add(&teams, r->violations[i].v.parties[p].team);
		strset_add(&invs, apiary_invariant_name(r->violations[i].v.invariant));
	}
	fputs("<nav class=\"filters\"><label>Team <select id=\"f-team\"><option value=\"\">all "
	      "teams</option>", out);
	for (size_t i = 0; i < teams.n; i++) {
		fputs("<option value=\"", out);
		esc(out, teams.s[i]);
		fputs("\">", out);
		esc(out, teams.s[i]);
		fputs("</option>", out);
	}
	fputs("</select></label><label>Invariant <select id=\"f-inv\"><option value=\"\">all "
	      "invariants</option>", out);
	for (size_t i = 0; i < invs.n; i++) {
		fputs("<option value=\"", out);
		esc(out, invs.s[i]);
		fputs("\">", out);
		esc(out, invs.s[i]);
		fputs("</option>", out);
	}
	fputs("</select></label><span id=\"f-count\" class=\"meta\"></span></nav>", out);
	strset_free(&teams);
	strset_free(&invs);
}

int apiary_html_write(FILE *out, const struct apiary_report *rep)
{
	struct apiary_report r = { .sz = sizeof(r) };
	size_t open = 0, waived = 0;
	char t[40];

	if (rep)
		memcpy(&r, rep, rep->sz < sizeof(r) ? rep->sz : sizeof(r));
	for (size_t i = 0; i < r.nviolations; i++)
		is_open(&r.violations[i]) ? open++ : waived++;
	fmt_time(r.generated_at ? r.generated_at : (int64_t)time(NULL), t, sizeof(t));

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
	      "<title>", out);
	esc(out, r.title ? r.title : "Apiary conflict report");
	fprintf(out, "</title><style>%s</style><script>%s</script></head><body>\n", css, js_guard);
	fputs("<header><h1>", out);
	esc(out, r.title ? r.title : "Apiary conflict report");
	fprintf(out, "</h1><p>generated %s &middot; %zu open violation%s &middot; %zu waived</p>"
		"</header>\n", t, open, open == 1 ? "" : "s", waived);
	filters(out, &r);
	fputs("<main>", out);
	bundle_summary(out, &r);
	team_summary(out, &r);
	fprintf(out, "<h2 id=\"open\">Open violations (%zu)</h2>\n", open);
	if (!open)
		fputs("<p class=\"empty\">none</p>", out);
	for (size_t i = 0; i < r.nviolations; i++)
		if (is_open(&r.violations[i]))
			violation_article(out, &r.violations[i]);
	fprintf(out, "<h2 id=\"waived\">Waived (%zu)</h2>\n", waived);
	if (!waived)
		fputs("<p class=\"empty\">none</p>", out);
	for (size_t i = 0; i < r.nviolations; i++)
		if (!is_open(&r.violations[i]))
			violation_article(out, &r.violations[i]);
	fprintf(out, "</main><script>%s</script></body></html>\n", js_main);
	fflush(out);
	return ferror(out) ? -EIO : 0;
}
