/* SPDX-License-Identifier: ISC */
/*
 * What holds the audit chain (auditguard.c), as the rest of the engine
 * uses it; the checkpoints, the high-water mark at start, the tail and
 * "audit verify" are engine.h's.
 */
#ifndef TAPGATE_ENGINE_AUDITGUARD_H
#define TAPGATE_ENGINE_AUDITGUARD_H

#include "engine/engine_int.h"

struct jwks;

/*
 * Put the audit chain's head into the order doc being signed, as
 * "audit":{"seq","hash"}: read inside the signer's transaction, so it is
 * the entry before the order's own "order.issued" (seq + 1).
 */
int	 eng_order_anchor(struct tapgated *d, json_t *doc);

/*
 * The key set checkpoints are checked against: every key the appliance
 * signed with, retired ones too (a checkpoint outlives its key).
 * TG_ERR_NOT_FOUND when no co-signing key is loaded.
 */
int	 eng_signer_keys(struct tapgated *d, struct jwks **setp);

#endif
