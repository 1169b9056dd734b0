// SPDX-License-Identifier: MIT
/* Hand-built violations for the reports tests (there is no checker yet). */
#include <stdlib.h>
#include <string.h>

#include "apiary/abi.h"
#include "fixtures.h"

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x02 };

size_t fx_tcp_syn(uint8_t *p)
{
	static const uint8_t ip[20] = { 0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0,
					10,   66, 1, 2, 192, 0, 2, 10 };
	static const uint8_t tcp[20] = { 0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0,
					 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0 };

	memcpy(p, mac_b, 6);
	memcpy(p + 6, mac_a, 6);
	p[12] = 0x08;
	p[13] = 0x00;
	memcpy(p + 14, ip, 20);
	memcpy(p + 34, tcp, 20);
	return 54;
}

static struct apiary_party party(const char *e, const char *t, uint32_t ver, int line)
{
	return (struct apiary_party){ .enforcer = strdup(e), .team = strdup(t), .version = ver,
				      .spec_line = line, .spec_col = 1 };
}

static void trace(struct apiary_outcome *oc, int enf, int verdict)
{
	oc->trace[oc->ntrace++] = (struct apiary_trace_ent){ .enforcer = (uint8_t)enf,
							     .hook = APIARY_HOOK_ID_XDP,
							     .verdict = verdict };
}

static struct apiary_vchange change(const char *map, uint32_t ks, uint32_t vs, uint64_t key,
				    const uint64_t *before, const uint64_t *after)
{
	struct apiary_vchange c = { .map = strdup(map), .key_size = ks, .value_size = vs };

	c.key = calloc(1, ks);
	memcpy(c.key, &key, ks < 8 ? ks : 8);
	if (before) {
		c.before = calloc(1, vs);
		memcpy(c.before, before, vs < 8 ? vs : 8);
	}
	if (after) {
		c.after = calloc(1, vs);
		memcpy(c.after, after, vs < 8 ? vs : 8);
	}
	return c;
}

void fx_commutativity(struct apiary_violation *v)
{
	static const uint64_t four = 4, five = 5, len = 54;
	struct apiary_outcome *a, *b;
	struct apiary_event *ev;

	memset(v, 0, sizeof(*v));
	v->invariant = APIARY_INV_COMMUTATIVITY;
	v->severity = APIARY_VS_ERROR;
	v->bundle = strdup("edge");
	v->bundle_hash = strdup("5e1f0c0ffee0ddba11");
	v->summary = strdup("firewall and lb do not commute: XDP_DROP vs XDP_TX for "
			    "10.66.1.2:40000 -> 192.0.2.10:80/tcp");
	v->detail = strdup("No `order` relates firewall and lb, so both orders must agree.");
	v->nparties = 2;
	v->parties = calloc(2, sizeof(*v->parties));
	v->parties[0] = party("firewall", "security", 2, 9);
	v->parties[1] = party("lb", "netops", 7, 14);
	v->input.update_at = APIARY_INPUT_NO_UPDATE;
	v->input.nevents = 1;
	ev = &v->input.events[0];
	ev->hook = APIARY_HOOK_XDP;
	ev->len = (uint16_t)fx_tcp_syn(ev->data);

	v->nruns = 2;
	v->runs[0].label = strdup("firewall -> lb");
	v->runs[0].order[0] = 0;
	v->runs[0].order[1] = 1;
	v->runs[0].norder = 2;
	v->runs[0].noutcomes = 1;
	v->runs[0].outcomes = calloc(1, sizeof(struct apiary_outcome));
	a = &v->runs[0].outcomes[0];
	a->verdict = 1; /* XDP_DROP */
	a->len = ev->len;
	memcpy(a->data, ev->data, ev->len);
	a->flow_id = 7;
	a->matched = 1;
	trace(a, 0, 1);
	v->runs[0].nchanges = 1;
	v->runs[0].changes = calloc(1, sizeof(struct apiary_vchange));
	v->runs[0].changes[0] = change("fw_drops", 4, 8, 0, &four, &five);

	v->runs[1].label = strdup("lb -> firewall");
	v->runs[1].order[0] = 1;
	v->runs[1].order[1] = 0;
	v->runs[1].norder = 2;
	v->runs[1].noutcomes = 1;
	v->runs[1].outcomes = calloc(1, sizeof(struct apiary_outcome));
	b = &v->runs[1].outcomes[0];
	b->verdict = 3; /* XDP_TX */
	b->len = ev->len;
	memcpy(b->data, ev->data, ev->len);
	memcpy(b->data, mac_a, 6);      /* back out of the port it came in */
	memcpy(b->data + 6, mac_b, 6);
	b->data[30] = 10;               /* ip.dst rewritten to backend 10.0.0.5 */
	b->data[31] = 0;
	b->data[32] = 0;
	b->data[33] = 5;
	b->flow_id = 7;
	b->matched = 1;
	trace(b, 1, 3);
	v->runs[1].nchanges = 2;
	v->runs[1].changes = calloc(2, sizeof(struct apiary_vchange));
	v->runs[1].changes[0] = change("conn_bytes", 8, 8, 7, NULL, &len);
	v->runs[1].changes[1] = change("fw_drops", 4, 8, 0, &four, &four);
	v->replay = strdup("build/apiary-check corpus/edge/bundle.spec --replay 4101ff00...");
	v->dedup_key = strdup("commutativity:firewall@2,lb@7:{firewall,lb}");
}

void fx_coverage(struct apiary_violation *v)
{
	static const uint8_t frame[] = {
		2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0x00, 0x20, 0x64, 0x08, 0x00, /* vlan 100 */
		0x45, 0, 0, 32, 0, 2, 0, 0, 64, 17, 0, 0, 10, 1, 1, 1, 10, 2, 2, 2,	 /* ipv4 */
		0x13, 0x88, 0x00, 0x35, 0, 12, 0, 0, 'a', 'b', 'c', 'd',		 /* udp 5000->53 */
	};
	struct apiary_outcome *a;

	memset(v, 0, sizeof(*v));
	v->invariant = APIARY_INV_COVERAGE;
	v->severity = APIARY_VS_ERROR;
	v->bundle = strdup("edge");
	v->bundle_hash = strdup("5e1f0c0ffee0ddba11");
	v->summary = strdup("meter did not see a packet matching `ip.proto == udp`");
	v->nparties = 2;
	v->parties = calloc(2, sizeof(*v->parties));
	v->parties[0] = party("meter", "observability", 1, 20);
	v->parties[1] = party("firewall", "security", 2, 9);
	v->input.update_at = APIARY_INPUT_NO_UPDATE;
	v->input.nevents = 1;
	v->input.events[0].hook = APIARY_HOOK_XDP;
	v->input.events[0].len = sizeof(frame);
	memcpy(v->input.events[0].data, frame, sizeof(frame));
	v->nruns = 1;
	v->runs[0].label = strdup("firewall -> meter");
	v->runs[0].order[0] = 0;
	v->runs[0].order[1] = 2;
	v->runs[0].norder = 2;
	v->runs[0].noutcomes = 1;
	v->runs[0].outcomes = calloc(1, sizeof(struct apiary_outcome));
	a = &v->runs[0].outcomes[0];
	a->verdict = 1;
	trace(a, 0, 1);
	v->replay = strdup("build/apiary-check corpus/edge/bundle.spec --replay 4101ff0000...");
	v->dedup_key = strdup("coverage:meter@1:firewall");
}

void fx_ordering_info(struct apiary_violation *v)
{
	static const uint8_t frame[] = {
		2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd,
		0x60, 0, 0, 0, 0, 8, 58, 64,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
		128, 0, 0, 0, 0, 1, 0, 1, /* icmpv6 echo request */
	};

	memset(v, 0, sizeof(*v));
	v->invariant = APIARY_INV_ORDERING;
	v->severity = APIARY_VS_INFO;
	v->bundle = strdup("core");
	v->bundle_hash = strdup("c0de");
	v->summary = strdup("`order firewall before lb` matters for ICMPv6 echo requests");
	v->nparties = 1;
	v->parties = calloc(1, sizeof(*v->parties));
	v->parties[0] = party("firewall", "security", 3, 5);
	v->input.update_at = APIARY_INPUT_NO_UPDATE;
	v->input.nevents = 1;
	v->input.events[0].hook = APIARY_HOOK_TC_INGRESS;
	v->input.events[0].len = sizeof(frame);
	memcpy(v->input.events[0].data, frame, sizeof(frame));
	v->dedup_key = strdup("ordering:firewall<lb");
}

void fx_hostile(struct apiary_violation *v)
{
	fx_commutativity(v);
	free(v->summary);
	v->summary = strdup("summary " HOSTILE_SCRIPT " & \"quotes\" 'single'");
	free(v->parties[0].team);
	v->parties[0].team = strdup(HOSTILE_SCRIPT);
	free(v->parties[0].enforcer);
	v->parties[0].enforcer = strdup(HOSTILE_ATTR);
	free(v->parties[1].team);
	v->parties[1].team = strdup(HOSTILE_IMG);
	free(v->runs[0].label);
	v->runs[0].label = strdup(HOSTILE_ATTR " -> lb");
	free(v->runs[1].changes[0].map);
	v->runs[1].changes[0].map = strdup("</code></td><script>alert(1)</script>");
	free(v->replay);
	v->replay = strdup("apiary-check '" HOSTILE_SCRIPT "' --replay \x01\xff");
	free(v->dedup_key);
	v->dedup_key = strdup("hostile:<&>");
}
