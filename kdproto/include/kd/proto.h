/* SPDX-License-Identifier: MIT */
/*
 * Umbrella header for kdproto, the pure KD wire codec: includes the shared
 * definitions and every kd/proto/ header.
 */
#ifndef KD_PROTO_H
#define KD_PROTO_H

#include <kd/common.h>
#include <kd/proto/wire.h>
#include <kd/proto/layout.h>
#include <kd/proto/manipulate.h>
#include <kd/proto/names.h>
#include <kd/proto/packet.h>
#include <kd/proto/stream.h>
#include <kd/proto/ids.h>
#include <kd/proto/kdnet.h>

#endif /* KD_PROTO_H */
