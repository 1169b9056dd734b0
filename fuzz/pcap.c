// SPDX-License-Identifier: MIT
/*
 * pcap import: captured traffic as seeds. Each packet becomes one event at
 * the chosen hook; consecutive packets share an input (up to
 * events_per_input), so flows that span packets stay together.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "apiary/fuzz.h"

int apiary_pcap_read(const char *path, enum apiary_hook hook, size_t per, struct apiary_input **out,
		     size_t *n, struct apiary_diags *d)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct apiary_input *ins = NULL;
	size_t nin = 0, cap = 0;
	struct pcap_pkthdr *hdr;
	const u_char *data;
	pcap_t *pc;
	int err = 0, rc, link;

	*out = NULL;
	*n = 0;
	if (hook <= APIARY_HOOK_NONE || hook >= APIARY_HOOK__COUNT)
		return apiary_error(d, NULL, "pcap import: no such hook");
	if (per == 0 || per > APIARY_INPUT_MAX_EVENTS)
		per = APIARY_INPUT_MAX_EVENTS;
	pc = pcap_open_offline(path, errbuf);
	if (!pc)
		return apiary_error(d, NULL, "%s: cannot read as pcap: %s", path, errbuf);
	link = pcap_datalink(pc);
	if (link != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(link);

		err = apiary_error(d, NULL,
				   "%s: link type %s (%d) is not Ethernet; XDP and tc see Ethernet "
				   "frames, so capture on an Ethernet interface (not 'any' or a "
				   "tunnel)",
				   path, name ? name : "unknown", link);
		goto out;
	}
	while ((rc = pcap_next_ex(pc, &hdr, &data)) == 1) {
		struct apiary_input *in;
		struct apiary_event *ev;
		uint32_t len = hdr->caplen;

		if (nin == 0 || ins[nin - 1].nevents == per) {
			if (nin == cap) {
				size_t ncap = cap ? cap * 2 : 4;
				struct apiary_input *ni = realloc(ins, ncap * sizeof(*ni));

				if (!ni) {
					err = -ENOMEM;
					goto out;
				}
				ins = ni;
				cap = ncap;
			}
			in = &ins[nin++];
			memset(in, 0, offsetof(struct apiary_input, events));
			in->update_at = APIARY_INPUT_NO_UPDATE;
		}
		in = &ins[nin - 1];
		ev = &in->events[in->nevents++];
		if (len > APIARY_INPUT_MAX_FRAME)
			len = APIARY_INPUT_MAX_FRAME;
		ev->hook = hook;
		memcpy(ev->data, data, len);
		/* as the decoder does: test_run needs an Ethernet header */
		if (len < 14) {
			memset(ev->data + len, 0, 14 - len);
			len = 14;
		}
		ev->len = (uint16_t)len;
	}
	if (rc == PCAP_ERROR) {
		err = apiary_error(d, NULL, "%s: %s", path, pcap_geterr(pc));
		goto out;
	}
	if (nin == 0) {
		err = apiary_error(d, NULL, "%s: the capture holds no packets", path);
		goto out;
	}
out:
	pcap_close(pc);
	if (err) {
		free(ins);
		return err;
	}
	*out = ins;
	*n = nin;
	return 0;
}
