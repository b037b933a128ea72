/* SPDX-License-Identifier: MIT */
/*
 * Encode and decode the KD connection server's messages (kdsrv.h,
 * docs/kdsrv-protocol.md).  Every message is: type byte, reserved zero
 * byte, fixed little-endian fields, then at most one length-prefixed
 * variable part; nothing may follow it.
 */
#include <string.h>

#include <kd/proto/kdsrv.h>
#include <kd/proto/packet.h>

/* Fixed part (bytes before the variable part) of each message type. */
static size_t fixed_size(uint8_t type)
{
	switch (type) {
	case KD_SRV_OPEN:
		return 10;
	case KD_SRV_SYNC:
		return 12;
	case KD_SRV_PACKET:
		return 6;
	case KD_SRV_BREAKIN:
	case KD_SRV_CLOSE:
		return 2;
	case KD_SRV_STATS:
	case KD_SRV_END:
		return 8;
	case KD_SRV_OPENED:
		return 10;
	case KD_SRV_SYNCED:
		return 18;
	case KD_SRV_RPACKET:
		return 10;
	case KD_SRV_SEND_FAILED:
		return 14;
	case KD_SRV_STATS_REPLY:
		return 8;
	case KD_SRV_ENDED:
	case KD_SRV_ERROR:
		return 10;
	default:
		return 0;
	}
}

bool kd_srv_msg_from_client(uint8_t type)
{
	return type >= KD_SRV_OPEN && type <= KD_SRV_CLOSE;
}

const char *kd_srv_msg_name(uint8_t type)
{
	switch (type) {
	case KD_SRV_OPEN:
		return "OPEN";
	case KD_SRV_SYNC:
		return "SYNC";
	case KD_SRV_PACKET:
		return "PACKET";
	case KD_SRV_BREAKIN:
		return "BREAKIN";
	case KD_SRV_STATS:
		return "STATS";
	case KD_SRV_END:
		return "END";
	case KD_SRV_CLOSE:
		return "CLOSE";
	case KD_SRV_OPENED:
		return "OPENED";
	case KD_SRV_SYNCED:
		return "SYNCED";
	case KD_SRV_RPACKET:
		return "RPACKET";
	case KD_SRV_SEND_FAILED:
		return "SEND_FAILED";
	case KD_SRV_STATS_REPLY:
		return "STATS_REPLY";
	case KD_SRV_ENDED:
		return "ENDED";
	case KD_SRV_ERROR:
		return "ERROR";
	default:
		return "?";
	}
}

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	}
	return true;
}

static bool status_ok(int32_t st)
{
	return st <= 0 && st >= -1000;
}

static bool timeout_ok(int32_t t)
{
	return t == -1 || (t >= 0 && t <= KD_SRV_MAX_TIMEOUT_MS);
}

/* Packet types that may travel as data (no control types, no 0). */
static bool data_type_ok(uint16_t t)
{
	return t > 0 && t < KD_PACKET_TYPE_MAX && !kd_packet_type_is_control(t);
}

/* Which variable part a type has: 't' text, 'd' data, 'c' counters. */
static char var_kind(uint8_t type)
{
	switch (type) {
	case KD_SRV_PACKET:
	case KD_SRV_RPACKET:
		return 'd';
	case KD_SRV_STATS_REPLY:
		return 'c';
	case KD_SRV_OPEN:
	case KD_SRV_OPENED:
	case KD_SRV_SYNCED:
	case KD_SRV_SEND_FAILED:
	case KD_SRV_ENDED:
	case KD_SRV_ERROR:
		return 't';
	default:
		return 0;
	}
}

/* Check the fields of @p m for its type (shared by encode and decode). */
static bool fields_ok(const struct kd_srv_msg *m)
{
	switch (m->type) {
	case KD_SRV_OPEN:
		return timeout_ok(m->timeout_ms) && m->text_len > 0 &&
		       m->timeout_ms != 0;
	case KD_SRV_SYNC:
		return timeout_ok(m->timeout_ms);
	case KD_SRV_PACKET:
		return data_type_ok(m->pkt_type) &&
		       m->data_len <= KD_SRV_MAX_SEND;
	case KD_SRV_RPACKET:
		return data_type_ok(m->pkt_type) &&
		       m->data_len <= KD_SRV_MAX_PAYLOAD;
	case KD_SRV_SYNCED:
	case KD_SRV_ERROR:
		return status_ok(m->status);
	case KD_SRV_SEND_FAILED:
		return status_ok(m->status) && m->status < 0 &&
		       data_type_ok(m->pkt_type);
	case KD_SRV_STATS_REPLY:
		return m->ncounters <= KD_SRV_MAX_COUNTERS;
	case KD_SRV_OPENED:
		return (m->flags &
			~(KD_SRV_OPENED_KDNET | KD_SRV_OPENED_REUSED)) == 0;
	default:
		return fixed_size(m->type) != 0;
	}
}

int kd_srv_msg_encode(uint8_t *buf, size_t cap, size_t *len_out,
		      const struct kd_srv_msg *m)
{
	size_t fixed = fixed_size(m->type);
	size_t var = 0;
	char kind = var_kind(m->type);

	*len_out = 0;
	if (!fixed || !fields_ok(m))
		return KD_EINVAL;
	if (kind == 't') {
		if (m->text_len > KD_SRV_MAX_TEXT ||
		    (m->text_len && !m->text) ||
		    !printable(m->text, m->text_len))
			return KD_EINVAL;
		var = m->text_len;
	} else if (kind == 'd') {
		if (m->data_len && !m->data)
			return KD_EINVAL;
		var = m->data_len;
	} else if (kind == 'c') {
		var = (size_t)m->ncounters * 8;
	}
	if (cap < fixed + var)
		return KD_EBUFS;
	memset(buf, 0, fixed);
	buf[0] = m->type;
	switch (m->type) {
	case KD_SRV_OPEN:
		kd_put_le16(buf + 2, m->minor);
		kd_put_le32(buf + 4, (uint32_t)m->timeout_ms);
		kd_put_le16(buf + 8, (uint16_t)var);
		break;
	case KD_SRV_SYNC:
		kd_put_le32(buf + 4, m->seq);
		kd_put_le32(buf + 8, (uint32_t)m->timeout_ms);
		break;
	case KD_SRV_PACKET:
		kd_put_le16(buf + 2, m->pkt_type);
		kd_put_le16(buf + 4, (uint16_t)var);
		break;
	case KD_SRV_STATS:
	case KD_SRV_END:
		kd_put_le32(buf + 4, m->seq);
		break;
	case KD_SRV_OPENED:
		kd_put_le16(buf + 2, m->minor);
		kd_put_le32(buf + 4, m->flags);
		kd_put_le16(buf + 8, (uint16_t)var);
		break;
	case KD_SRV_SYNCED:
		kd_put_le32(buf + 4, m->seq);
		kd_put_le32(buf + 8, (uint32_t)m->status);
		kd_put_le32(buf + 12, m->events);
		kd_put_le16(buf + 16, (uint16_t)var);
		break;
	case KD_SRV_RPACKET:
		kd_put_le16(buf + 2, m->pkt_type);
		kd_put_le32(buf + 4, m->events);
		kd_put_le16(buf + 8, (uint16_t)var);
		break;
	case KD_SRV_SEND_FAILED:
		kd_put_le16(buf + 2, m->pkt_type);
		kd_put_le32(buf + 4, (uint32_t)m->status);
		kd_put_le32(buf + 8, m->events);
		kd_put_le16(buf + 12, (uint16_t)var);
		break;
	case KD_SRV_STATS_REPLY:
		kd_put_le16(buf + 2, (uint16_t)m->ncounters);
		kd_put_le32(buf + 4, m->seq);
		break;
	case KD_SRV_ENDED:
		kd_put_le32(buf + 4, m->seq);
		kd_put_le16(buf + 8, (uint16_t)var);
		break;
	case KD_SRV_ERROR:
		kd_put_le32(buf + 4, (uint32_t)m->status);
		kd_put_le16(buf + 8, (uint16_t)var);
		break;
	default:
		break;
	}
	if (kind == 't' && var)
		memcpy(buf + fixed, m->text, var);
	else if (kind == 'd' && var)
		memcpy(buf + fixed, m->data, var);
	else if (kind == 'c') {
		for (uint32_t i = 0; i < m->ncounters; i++)
			kd_put_le64(buf + fixed + 8 * i, m->counters[i]);
	}
	*len_out = fixed + var;
	return KD_OK;
}

int kd_srv_msg_decode(struct kd_srv_msg *m, const uint8_t *buf, size_t len)
{
	size_t fixed, var = 0;
	char kind;

	memset(m, 0, sizeof(*m));
	if (len < 2)
		return KD_ETRUNC;
	m->type = buf[0];
	fixed = fixed_size(m->type);
	if (!fixed || buf[1] != 0)
		return KD_EPROTO;
	if (len < fixed)
		return KD_ETRUNC;
	kind = var_kind(m->type);
	switch (m->type) {
	case KD_SRV_OPEN:
		m->minor = kd_get_le16(buf + 2);
		m->timeout_ms = (int32_t)kd_get_le32(buf + 4);
		var = kd_get_le16(buf + 8);
		break;
	case KD_SRV_SYNC:
		if (kd_get_le16(buf + 2) != 0)
			return KD_EPROTO;
		m->seq = kd_get_le32(buf + 4);
		m->timeout_ms = (int32_t)kd_get_le32(buf + 8);
		break;
	case KD_SRV_PACKET:
		m->pkt_type = kd_get_le16(buf + 2);
		var = kd_get_le16(buf + 4);
		break;
	case KD_SRV_STATS:
	case KD_SRV_END:
		if (kd_get_le16(buf + 2) != 0)
			return KD_EPROTO;
		m->seq = kd_get_le32(buf + 4);
		break;
	case KD_SRV_OPENED:
		m->minor = kd_get_le16(buf + 2);
		m->flags = kd_get_le32(buf + 4);
		var = kd_get_le16(buf + 8);
		break;
	case KD_SRV_SYNCED:
		if (kd_get_le16(buf + 2) != 0)
			return KD_EPROTO;
		m->seq = kd_get_le32(buf + 4);
		m->status = (int32_t)kd_get_le32(buf + 8);
		m->events = kd_get_le32(buf + 12);
		var = kd_get_le16(buf + 16);
		break;
	case KD_SRV_RPACKET:
		m->pkt_type = kd_get_le16(buf + 2);
		m->events = kd_get_le32(buf + 4);
		var = kd_get_le16(buf + 8);
		break;
	case KD_SRV_SEND_FAILED:
		m->pkt_type = kd_get_le16(buf + 2);
		m->status = (int32_t)kd_get_le32(buf + 4);
		m->events = kd_get_le32(buf + 8);
		var = kd_get_le16(buf + 12);
		break;
	case KD_SRV_STATS_REPLY:
		m->ncounters = kd_get_le16(buf + 2);
		m->seq = kd_get_le32(buf + 4);
		if (m->ncounters > KD_SRV_MAX_COUNTERS)
			return KD_EPROTO;
		var = (size_t)m->ncounters * 8;
		break;
	case KD_SRV_ENDED:
		if (kd_get_le16(buf + 2) != 0)
			return KD_EPROTO;
		m->seq = kd_get_le32(buf + 4);
		var = kd_get_le16(buf + 8);
		break;
	case KD_SRV_ERROR:
		if (kd_get_le16(buf + 2) != 0)
			return KD_EPROTO;
		m->status = (int32_t)kd_get_le32(buf + 4);
		var = kd_get_le16(buf + 8);
		break;
	default:
		break; /* BREAKIN, CLOSE: nothing but the two bytes */
	}
	if ((kind == 't' && var > KD_SRV_MAX_TEXT) ||
	    (kind == 'd' && var > KD_SRV_MAX_PAYLOAD))
		return KD_EPROTO;
	if (len < fixed + var)
		return KD_ETRUNC;
	if (len > fixed + var)
		return KD_EPROTO;
	if (kind == 't') {
		m->text = (const char *)(buf + fixed);
		m->text_len = (uint32_t)var;
		if (!printable(m->text, var))
			return KD_EPROTO;
	} else if (kind == 'd') {
		m->data = buf + fixed;
		m->data_len = (uint32_t)var;
	} else if (kind == 'c') {
		for (uint32_t i = 0; i < m->ncounters; i++)
			m->counters[i] = kd_get_le64(buf + fixed + 8 * i);
	}
	if (!fields_ok(m))
		return KD_EPROTO;
	return KD_OK;
}
