/* SPDX-License-Identifier: ISC */
/*
 * What every file of the engine shares: the monitor's state
 * (daemon/daemon.h), the engine's public types (engine.h) and a few
 * bounds.  Each file's own header (txn.h, events.h, facts.h, holds.h,
 * auditguard.h, creds.h, body.h, signer.h) is its contract with the
 * files above it; the map in engine.h says which file may call which.
 * Not a public contract.
 */
#ifndef TAPGATE_ENGINE_INT_H
#define TAPGATE_ENGINE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "daemon/daemon.h"
#include "engine/engine.h"

#define ENG_WHY_MAX	256	/* why the signer refused */
#define ENG_NAME_MAX	64	/* an officer's or an approver group's name */

#endif
