// SPDX-License-Identifier: MIT
/*
 * Rendering: the escape function, the violation JSON round trip, the packet
 * decoder, HTML content (hostile strings never survive unescaped) and SARIF
 * parsed back with json-c.
 */
#include <errno.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apiary/report.h"
#include "fixtures.h"

/* Run fn into a string. */
static char *capture(void (*fn)(FILE *, const void *), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fn(f, arg);
	fclose(f);
	return buf;
}

static void do_escape(FILE *f, const void *s)
{
	apiary_markup_escape(f, s);
}

static void test_escape(void **state)
{
	char *s;

	s = capture(do_escape, "<script>alert(1)</script> & \"q\" 'a'");
	assert_string_equal(s, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot; &#39;a&#39;");
	free(s);
	/* Control characters and invalid UTF-8 become U+FFFD; valid UTF-8 stays. */
	s = capture(do_escape, "a\x01" "b\xff" "c\xc3\xa9\td\xed\xa0\x80");
	assert_string_equal(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xc3\xa9\td\xef\xbf\xbd\xef\xbf\xbd"
			    "\xef\xbf\xbd");
	free(s);
	s = capture(do_escape, NULL);
	assert_string_equal(s, "");
	free(s);
}

static void test_hex(void **state)
{
	uint8_t b[4];
	char *h = apiary_hex((const uint8_t *)"\x00\xab\x10", 3);

	assert_string_equal(h, "00ab10");
	assert_int_equal(apiary_unhex(h, b, sizeof(b)), 3);
	assert_memory_equal(b, "\x00\xab\x10", 3);
	assert_int_equal(apiary_unhex("abc", b, sizeof(b)), -EINVAL);
	assert_int_equal(apiary_unhex("zz", b, sizeof(b)), -EINVAL);
	assert_int_equal(apiary_unhex("0011223344", b, sizeof(b)), -ENOSPC);
	free(h);
}

static void test_json_round_trip(void **state)
{
	struct apiary_violation v, back;
	struct json_object *j, *again;

	fx_hostile(&v);
	j = apiary_violation_to_json(&v);
	assert_non_null(j);
	/* Through text, as SARIF consumers would see it. */
	again = json_tokener_parse(json_object_to_json_string(j));
	assert_non_null(again);
	assert_int_equal(apiary_violation_from_json(again, &back), 0);
	assert_int_equal(back.invariant, APIARY_INV_COMMUTATIVITY);
	assert_string_equal(back.summary, v.summary);
	assert_string_equal(back.parties[0].team, HOSTILE_SCRIPT);
	assert_string_equal(back.runs[1].label, "lb -> firewall");
	assert_int_equal(back.runs[1].outcomes[0].verdict, 3);
	assert_memory_equal(back.runs[1].outcomes[0].data, v.runs[1].outcomes[0].data, 54);
	assert_int_equal(back.runs[1].changes[0].before == NULL, 1);
	assert_memory_equal(back.runs[1].changes[0].after, v.runs[1].changes[0].after, 8);
	assert_int_equal(back.input.events[0].len, 54);
	assert_memory_equal(back.input.events[0].data, v.input.events[0].data, 54);
	apiary_violation_free(&back);
	json_object_put(again);

	/* Malformed: unknown invariant, bad hex. */
	json_object_object_add(j, "invariant", json_object_new_string("nope"));
	assert_int_equal(apiary_violation_from_json(j, &back), -EINVAL);
	json_object_object_add(j, "invariant", json_object_new_string("commutativity"));
	json_object_object_add(json_object_array_get_idx(json_object_object_get(j, "runs"), 0),
			       "outcomes", json_tokener_parse("[{\"data\":\"xyz\"}]"));
	assert_int_equal(apiary_violation_from_json(j, &back), -EINVAL);
	json_object_put(j);
	apiary_violation_free(&v);
}

static const struct apiary_pkt_field *find_field(const struct apiary_pkt_decoded *d,
						 const char *layer, const char *name)
{
	for (int i = 0; i < d->nlayers; i++)
		for (int f = 0; f < d->layers[i].nfields; f++)
			if (!strcmp(d->layers[i].name, layer) &&
			    !strcmp(d->layers[i].fields[f].name, name))
				return &d->layers[i].fields[f];
	fail_msg("no %s.%s", layer, name);
	return NULL;
}

static void test_decode(void **state)
{
	struct apiary_violation cov, info;
	struct apiary_pkt_decoded d;
	uint8_t syn[64];
	size_t n = fx_tcp_syn(syn);

	apiary_pkt_decode(syn, n, &d);
	assert_int_equal(d.nlayers, 3);
	assert_string_equal(d.layers[1].name, "IPv4");
	assert_string_equal(find_field(&d, "IPv4", "src")->value, "10.66.1.2");
	assert_string_equal(find_field(&d, "IPv4", "dst")->value, "192.0.2.10");
	assert_string_equal(find_field(&d, "IPv4", "proto")->value, "6 (tcp)");
	assert_string_equal(find_field(&d, "TCP", "dport")->value, "80");
	assert_string_equal(find_field(&d, "TCP", "sport")->value, "40000");
	assert_string_equal(find_field(&d, "TCP", "flags")->value, "0x02 (syn)");
	assert_int_equal(find_field(&d, "TCP", "dport")->off, 36);
	assert_int_equal(d.payload_off, 54);
	assert_string_equal(d.note, "");

	apiary_pkt_decode(syn, 40, &d); /* cut inside TCP */
	assert_int_equal(d.nlayers, 2);
	assert_non_null(strstr(d.note, "truncated TCP"));

	fx_coverage(&cov);
	apiary_pkt_decode(cov.input.events[0].data, cov.input.events[0].len, &d);
	assert_string_equal(d.layers[1].name, "802.1Q");
	assert_string_equal(find_field(&d, "802.1Q", "id")->value, "100");
	assert_string_equal(find_field(&d, "UDP", "dport")->value, "53");
	assert_int_equal(d.payload_off, cov.input.events[0].len - 4);

	fx_ordering_info(&info);
	apiary_pkt_decode(info.input.events[0].data, info.input.events[0].len, &d);
	assert_string_equal(find_field(&d, "IPv6", "src")->value, "2001:db8::1");
	assert_string_equal(find_field(&d, "ICMPv6", "type")->value, "128 (echo request)");

	apiary_pkt_decode(syn, 10, &d);
	assert_int_equal(d.nlayers, 0);
	assert_non_null(strstr(d.note, "shorter than an Ethernet"));
	apiary_violation_free(&cov);
	apiary_violation_free(&info);
}

static void test_verdict_names(void **state)
{
	char b[16];

	assert_string_equal(apiary_verdict_name(1, 1, b, sizeof(b)), "XDP_DROP");
	assert_string_equal(apiary_verdict_name(3, 2, b, sizeof(b)), "TC_ACT_SHOT");
	assert_string_equal(apiary_verdict_name(2, -1, b, sizeof(b)), "TC_ACT_UNSPEC");
	assert_string_equal(apiary_verdict_name(1, 77, b, sizeof(b)), "77");
	assert_string_equal(apiary_verdict_name(1, -0x7fffffff, b, sizeof(b)), "unknown");
}

struct sv_set {
	struct apiary_stored_violation sv[4];
	size_t n;
};

static void build_set(struct sv_set *s)
{
	memset(s, 0, sizeof(*s));
	fx_commutativity(&s->sv[0].v);
	fx_coverage(&s->sv[1].v);
	fx_ordering_info(&s->sv[2].v);
	fx_hostile(&s->sv[3].v);
	s->n = 4;
	for (size_t i = 0; i < s->n; i++) {
		s->sv[i].id = (int64_t)i + 1;
		s->sv[i].count = i + 1;
		s->sv[i].first_seen = 1700000000;
		s->sv[i].last_seen = 1700000100;
	}
	s->sv[1].status = APIARY_VSTATUS_WAIVED;
	s->sv[1].waive_reason = strdup("reason with <b>markup</b> & \"quotes\"");
}

static void free_set(struct sv_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		apiary_violation_free(&s->sv[i].v);
		free(s->sv[i].waive_reason);
	}
}

static void do_html(FILE *f, const void *arg)
{
	const struct sv_set *s = arg;

	assert_int_equal(apiary_html_write(f, &(struct apiary_report){
		.sz = sizeof(struct apiary_report), .violations = s->sv, .nviolations = s->n,
		.title = "Report for <edge> & co", .generated_at = 1700000200 }), 0);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_html(void **state)
{
	struct sv_set s;
	char *html;

	build_set(&s);
	html = capture(do_html, &s);
	/* Exactly the two scripts the report itself has. */
	assert_int_equal(count(html, "<script>"), 2);
	assert_int_equal(count(html, "<script"), 2);
	assert_null(strstr(html, "<img"));
	assert_null(strstr(html, "onmouseover=\""));
	assert_non_null(strstr(html, "&lt;script&gt;document.documentElement"));
	assert_non_null(strstr(html, "x&quot; onmouseover=&quot;alert(1)&quot; data-x=&#39;&amp;amp;"));
	assert_non_null(strstr(html, "Report for &lt;edge&gt; &amp; co"));
	assert_non_null(strstr(html, "reason with &lt;b&gt;markup&lt;/b&gt; &amp; &quot;quotes&quot;"));
	/* Attribute with JSON of hostile team names, fully escaped. */
	assert_non_null(strstr(html, "data-teams=\"[&quot;&lt;script&gt;"));
	/* Orderings as SVG, both runs; decoded layers; verdicts; map deltas. */
	assert_int_equal(count(html, "<svg class=\"order\""), 2 + 1 + 0 + 2);
	assert_non_null(strstr(html, "<strong>firewall -&gt; lb</strong>"));
	assert_non_null(strstr(html, "XDP_DROP"));
	assert_non_null(strstr(html, "XDP_TX"));
	assert_non_null(strstr(html, "192.0.2.10"));
	assert_non_null(strstr(html, "0x02 (syn)"));
	assert_non_null(strstr(html, "<td class=\"diff\">XDP_DROP</td>"));
	assert_non_null(strstr(html, "conn_bytes"));
	assert_non_null(strstr(html, "<span class=\"empty\">(absent)</span> &rarr; <code>3600000000000000</code>"));
	assert_non_null(strstr(html, "tc.ingress"));
	assert_non_null(strstr(html, "Waived (1)"));
	assert_non_null(strstr(html, "Open violations (3)"));
	assert_non_null(strstr(html, "--replay 4101ff00"));
	/* Nothing is loaded from elsewhere. */
	assert_null(strstr(html, "<link"));
	assert_null(strstr(html, "src=\""));
	assert_null(strstr(html, "url("));
	free(html);
	free_set(&s);
}

static void do_sarif(FILE *f, const void *arg)
{
	const struct sv_set *s = arg;
	struct apiary_violation v[4];

	for (size_t i = 0; i < s->n; i++)
		v[i] = s->sv[i].v;
	assert_int_equal(apiary_sarif_write(f, "corpus/edge/my bundle.spec", v, s->n, NULL), 0);
}

static struct json_object *get(struct json_object *o, const char *path)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
		if (k[0] >= '0' && k[0] <= '9')
			o = json_object_array_get_idx(o, (size_t)atoi(k));
		else if (!json_object_object_get_ex(o, k, &o))
			o = NULL;
		if (!o)
			fail_msg("no %s in SARIF (at %s)", path, k);
	}
	return o;
}

static void test_sarif(void **state)
{
	struct apiary_violation back;
	struct json_object *root, *results;
	struct sv_set s;
	char *text;

	build_set(&s);
	text = capture(do_sarif, &s);
	root = json_tokener_parse(text);
	assert_non_null(root);
	assert_string_equal(json_object_get_string(get(root, "version")), "2.1.0");
	assert_string_equal(json_object_get_string(get(root, "runs.0.tool.driver.name")), "apiary");
	results = get(root, "runs.0.results");
	assert_int_equal(json_object_array_length(results), 4);
	assert_string_equal(json_object_get_string(get(results, "0.ruleId")), "commutativity");
	assert_string_equal(json_object_get_string(get(results, "0.level")), "error");
	assert_string_equal(json_object_get_string(get(results, "2.level")), "note");
	assert_string_equal(json_object_get_string(get(results, "1.ruleId")), "coverage");
	assert_int_equal(json_object_array_length(get(results, "0.locations")), 2);
	assert_string_equal(json_object_get_string(get(results,
		"0.locations.0.physicalLocation.artifactLocation.uri")),
		"corpus/edge/my%20bundle.spec");
	assert_int_equal(json_object_get_int(get(results,
		"0.locations.1.physicalLocation.region.startLine")), 14);
	assert_string_equal(json_object_get_string(get(results, "0.partialFingerprints.apiary/dedup")),
			    "commutativity:firewall@2,lb@7:{firewall,lb}");
	/* rules: one per kind used, ruleIndex pointing at it. */
	assert_int_equal(json_object_array_length(get(root, "runs.0.tool.driver.rules")), 3);
	assert_string_equal(json_object_get_string(get(root, "runs.0.tool.driver.rules." "1.id")),
			    "coverage");
	assert_int_equal(json_object_get_int(get(results, "1.ruleIndex")), 1);
	/* The hostile one survives intact as data. */
	assert_string_equal(json_object_get_string(get(results, "3.message.text")),
			    s.sv[3].v.summary);
	assert_int_equal(apiary_violation_from_json(get(results, "3.properties.apiary"), &back), 0);
	assert_string_equal(back.parties[1].team, HOSTILE_IMG);
	apiary_violation_free(&back);
	json_object_put(root);
	free(text);
	free_set(&s);
}

static void do_junit(FILE *f, const void *arg)
{
	const struct sv_set *s = arg;
	struct apiary_violation v[4];

	for (size_t i = 0; i < s->n; i++)
		v[i] = s->sv[i].v;
	assert_int_equal(apiary_junit_write(f, "edge<&>", v, s->n,
					    1u << APIARY_INV_COMMUTATIVITY | 1u << APIARY_INV_EFFECT), 0);
}

static void test_junit_text(void **state)
{
	struct sv_set s;
	char *x;

	build_set(&s);
	x = capture(do_junit, &s);
	/* checked: commutativity, effect; plus coverage and ordering (found). */
	assert_int_equal(count(x, "<testcase "), 4);
	assert_int_equal(count(x, "<failure "), 2);
	assert_non_null(strstr(x, "<testsuite name=\"edge&lt;&amp;&gt;\" tests=\"4\" failures=\"2\""));
	assert_non_null(strstr(x, "message=\"2 violations of commutativity\""));
	assert_non_null(strstr(x, "<system-out>[1] `order firewall before lb` matters"));
	assert_null(strstr(x, "<script"));
	free(x);
	free_set(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),	   cmocka_unit_test(test_hex),
		cmocka_unit_test(test_json_round_trip), cmocka_unit_test(test_decode),
		cmocka_unit_test(test_verdict_names), cmocka_unit_test(test_html),
		cmocka_unit_test(test_sarif),	   cmocka_unit_test(test_junit_text),
	};

	return cmocka_run_group_tests_name("reports", tests, NULL, NULL);
}
