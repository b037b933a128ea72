/* SPDX-License-Identifier: MIT */
/*
 * kdstub internals shared by the link, the debugger loop and the
 * manipulate dispatcher.  Not installed; firmware and tests use kdstub.h.
 */
#ifndef KDSTUB_STUB_INT_H
#define KDSTUB_STUB_INT_H

#include <kdstub/kdstub.h>

/* What one poll of the carrier produced. */
enum kdstub_rx {
	KDSTUB_RX_NONE = 0, /* nothing complete yet */
	KDSTUB_RX_PACKET,   /* s->rx_hdr and s->rx hold a valid packet */
	KDSTUB_RX_BREAKIN,  /* 0x62 byte or KDNET break-in packet */
	KDSTUB_RX_BAD,	    /* a damaged packet: answer RESEND */
};

/* What waiting for a host packet produced. */
enum kdstub_wait {
	KDSTUB_WAIT_PACKET = 0, /* the wanted data packet is in s->rx */
	KDSTUB_WAIT_RESEND,	/* RESET/RESEND/break-in: report again */
};

int kdstub_link_poll(struct kdstub *s);
void kdstub_link_control(struct kdstub *s, unsigned type, uint32_t id);
int kdstub_link_send(struct kdstub *s, unsigned type, const uint8_t *payload,
		     size_t len, bool losable);
int kdstub_link_wait(struct kdstub *s, unsigned type);
void kdstub_link_drain_running(struct kdstub *s);

static inline const uint8_t *kdstub_rx_payload(const struct kdstub *s)
{
	return s->rx + KD_PACKET_HEADER_SIZE;
}

#endif /* KDSTUB_STUB_INT_H */
