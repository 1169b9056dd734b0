// SPDX-License-Identifier: MIT
/*
 * pcap import: write captures with libpcap's own writer (pcap_dump_open),
 * read them back as inputs. Covers splitting into inputs, truncation of
 * jumbo frames, padding of runts, the encoding round trip, and the refusal
 * of non-Ethernet link types.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "apiary/fuzz.h"

static char dir[] = "/tmp/apiary-pcap-test-XXXXXX";

/* Packet i: length lens[i], bytes (i * 7 + k) & 0xff. */
static void write_pcap(const char *path, int linktype, const uint32_t *lens, size_t n)
{
	static uint8_t pkt[9000];
	pcap_t *dead = pcap_open_dead(linktype, 65535);
	pcap_dumper_t *dump;

	assert_non_null(dead);
	dump = pcap_dump_open(dead, path);
	assert_non_null(dump);
	for (size_t i = 0; i < n; i++) {
		struct pcap_pkthdr hdr = { .caplen = lens[i], .len = lens[i] };

		hdr.ts.tv_sec = (long)i;
		for (uint32_t k = 0; k < lens[i]; k++)
			pkt[k] = (uint8_t)(i * 7 + k);
		pcap_dump((u_char *)dump, &hdr, pkt);
	}
	pcap_dump_close(dump);
	pcap_close(dead);
}

static void test_roundtrip(void **state)
{
	uint32_t lens[20];
	char path[256];
	struct apiary_input *ins = NULL;
	struct apiary_diags d;
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < 20; i++)
		lens[i] = 60 + (uint32_t)i * 10;
	lens[3] = 9000; /* jumbo: cut to APIARY_INPUT_MAX_FRAME */
	lens[4] = 10;   /* runt: padded to an Ethernet header */
	snprintf(path, sizeof(path), "%s/eth.pcap", dir);
	write_pcap(path, DLT_EN10MB, lens, 20);

	apiary_diags_init(&d);
	assert_int_equal(apiary_pcap_read(path, APIARY_HOOK_TC_INGRESS, 0, &ins, &n, &d), 0);
	assert_int_equal(d.errors, 0);
	assert_int_equal(n, 2); /* 16 + 4 events */
	assert_int_equal(ins[0].nevents, APIARY_INPUT_MAX_EVENTS);
	assert_int_equal(ins[1].nevents, 4);
	for (size_t i = 0; i < 20; i++) {
		const struct apiary_event *ev = &ins[i / 16].events[i % 16];
		uint32_t want = lens[i] > APIARY_INPUT_MAX_FRAME ? APIARY_INPUT_MAX_FRAME
								 : lens[i] < 14 ? 14 : lens[i];

		assert_int_equal(ev->hook, APIARY_HOOK_TC_INGRESS);
		assert_int_equal(ev->len, want);
		for (uint32_t k = 0; k < want; k++)
			assert_int_equal(ev->data[k], k < lens[i] ? (uint8_t)(i * 7 + k) : 0);
	}
	assert_int_equal(ins[0].update_at, APIARY_INPUT_NO_UPDATE);

	/* imported inputs survive the encoding the engines mutate */
	{
		static uint8_t buf[APIARY_INPUT_MAX_EVENTS * (3 + APIARY_INPUT_MAX_FRAME) + 4];
		static struct apiary_input back;
		long len = apiary_input_encode(&ins[0], buf, sizeof(buf));

		assert_true(len > 0);
		assert_int_equal(apiary_input_decode(buf, (size_t)len, &back), 0);
		assert_int_equal(back.nevents, ins[0].nevents);
		for (size_t i = 0; i < back.nevents; i++) {
			assert_int_equal(back.events[i].len, ins[0].events[i].len);
			assert_memory_equal(back.events[i].data, ins[0].events[i].data,
					    back.events[i].len);
		}
	}
	free(ins);

	/* events_per_input splits flows into smaller inputs */
	assert_int_equal(apiary_pcap_read(path, APIARY_HOOK_XDP, 5, &ins, &n, &d), 0);
	assert_int_equal(n, 4);
	assert_int_equal(ins[3].nevents, 5);
	assert_int_equal(ins[3].events[4].hook, APIARY_HOOK_XDP);
	free(ins);
	apiary_diags_free(&d);
	unlink(path);
}

static void test_refusals(void **state)
{
	uint32_t lens[1] = { 40 };
	char path[256];
	struct apiary_input *ins = NULL;
	struct apiary_diags d;
	size_t n = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/raw.pcap", dir);
	write_pcap(path, DLT_RAW, lens, 1);
	apiary_diags_init(&d);
	assert_int_equal(apiary_pcap_read(path, APIARY_HOOK_XDP, 0, &ins, &n, &d), -EINVAL);
	assert_null(ins);
	assert_int_equal(n, 0);
	assert_non_null(strstr(d.items[0].msg, "not Ethernet"));
	apiary_diags_free(&d);
	unlink(path);

	/* empty capture, and not a pcap at all */
	snprintf(path, sizeof(path), "%s/empty.pcap", dir);
	write_pcap(path, DLT_EN10MB, lens, 0);
	apiary_diags_init(&d);
	assert_int_equal(apiary_pcap_read(path, APIARY_HOOK_XDP, 0, &ins, &n, &d), -EINVAL);
	assert_non_null(strstr(d.items[0].msg, "no packets"));
	apiary_diags_free(&d);
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs("this is not a capture\n", f);
		fclose(f);
	}
	apiary_diags_init(&d);
	assert_int_equal(apiary_pcap_read(path, APIARY_HOOK_XDP, 0, &ins, &n, &d), -EINVAL);
	assert_non_null(strstr(d.items[0].msg, "cannot read as pcap"));
	apiary_diags_free(&d);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refusals),
	};
	int rc;

	if (!mkdtemp(dir))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rc;
}
