/* SPDX-License-Identifier: ISC */
/*
 * libcbor's <cbor.h>.  firmware_host/core/cbor.h (softfido's own reader)
 * is on every compile's include path and shadows it, so reach libcbor's
 * header through libcbor's own include directory.
 */
#ifndef TAPGATE_TOKEN_CBOR_H
#define TAPGATE_TOKEN_CBOR_H

#include <cbor/../cbor.h>

#endif /* TAPGATE_TOKEN_CBOR_H */
