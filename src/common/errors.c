/* SPDX-License-Identifier: ISC */
#include "errors.h"

const char *
tg_strerror(int err)
{
	switch (err) {
	case TG_OK:
		return "success";
	case TG_ERR_INTERNAL:
		return "internal error";
	case TG_ERR_NOMEM:
		return "out of memory";
	case TG_ERR_INVALID:
		return "invalid input";
	case TG_ERR_TOO_LONG:
		return "input too long";
	case TG_ERR_IO:
		return "input/output error";
	case TG_ERR_NOT_FOUND:
		return "not found";
	case TG_ERR_CLOSED:
		return "the peer process closed the channel";
	case TG_ERR_DEVICE:
		return "cannot use the security key";
	case TG_ERR_DEVICE_GONE:
		return "security key disconnected";
	case TG_ERR_TIMEOUT:
		return "security key did not answer in time";
	case TG_ERR_NO_TOUCH:
		return "security key was not touched in time";
	case TG_ERR_DENIED:
		return "request refused on the security key";
	case TG_ERR_PIN_INVALID:
		return "wrong PIN";
	case TG_ERR_PIN_BLOCKED:
		return "PIN blocked: the key must be reset";
	case TG_ERR_PIN_AUTH_BLOCKED:
		return "PIN temporarily blocked: unplug and replug the key";
	case TG_ERR_PIN_NOT_SET:
		return "security key has no PIN set";
	case TG_ERR_PIN_POLICY:
		return "PIN does not meet the key's length policy";
	case TG_ERR_NO_CREDENTIAL:
		return "security key holds no matching credential";
	case TG_ERR_UNSUPPORTED:
		return "security key lacks a required feature";
	case TG_ERR_ATTESTATION:
		return "attestation did not verify";
	case TG_ERR_SIGNATURE:
		return "assertion signature did not verify";
	case TG_ERR_FLAGS:
		return "user presence or verification flag missing";
	case TG_ERR_RPID:
		return "assertion is for another relying party";
	case TG_ERR_COUNTER:
		return "signature counter did not grow (cloned key?)";
	case TG_ERR_PROTOCOL:
		return "security key sent a malformed reply";
	case TG_ERR_CANCELLED:
		return "operation cancelled";
	case TG_ERR_PIN_ALREADY_SET:
		return "security key already has a PIN (change it instead)";
	case TG_ERR_AAGUID:
		return "security key model is not on the allow-list";
	/* policy */
	case TG_ERR_CONFIG:
		return "invalid configuration";
	case TG_ERR_POLICY:
		return "refused by policy";
	/* store */
	case TG_ERR_DB:
		return "database error";
	case TG_ERR_BUSY:
		return "database busy";
	case TG_ERR_SCHEMA:
		return "database schema is newer or not tapgate's";
	case TG_ERR_EXISTS:
		return "already exists";
	case TG_ERR_CONFLICT:
		return "changed meanwhile by someone else";
	case TG_ERR_TXN:
		return "transaction misuse";
	case TG_ERR_CORRUPT:
		return "database file is damaged";
	case TG_ERR_IMMUTABLE:
		return "record is append-only or already final";
	case TG_ERR_PERM:
		return "unsafe ownership or permissions";
	/* orders */
	case TG_ERR_ALG_REFUSED:
		return "signature algorithm not allowed";
	case TG_ERR_ALG_MISMATCH:
		return "signature algorithm does not match the key";
	case TG_ERR_UNKNOWN_KID:
		return "signing key is not among the trusted keys";
	case TG_ERR_BAD_SIGNATURE:
		return "order signature did not verify";
	/* verify */
	case TG_ERR_MALFORMED:
		return "malformed order";
	case TG_ERR_WRONG_AUDIENCE:
		return "wrong audience";
	case TG_ERR_WRONG_ISSUER:
		return "wrong issuer";
	case TG_ERR_NOT_YET_VALID:
		return "order not yet valid";
	case TG_ERR_EXPIRED:
		return "order expired";
	case TG_ERR_DIGEST_MISMATCH:
		return "change digest does not match the change";
	case TG_ERR_REDEEMED:
		return "order already redeemed";
	case TG_ERR_APPROVAL:
		return "bad or missing approver assertion";
	case TG_ERR_REVOKED:
		return "order revoked";
	case TG_ERR_LIST_STALE:
		return "revocation list out of date";
	/* seal */
	case TG_ERR_UNSEAL:
		return "sealed data did not authenticate (wrong key or label, "
		    "or damaged)";
	case TG_ERR_SEAL_KEY:
		return "sealed by another seal";
	case TG_ERR_NO_YUBIKEY:
		return "no YubiKey present";
	case TG_ERR_YUBIKEY_SERIAL:
		return "sealed by or bound to a YubiKey of another serial";
	case TG_ERR_YUBIKEY_ACCESS:
		return "YubiKey present but USB access refused (udev rule for "
		    "VID 1050?)";
	case TG_ERR_YUBIKEY_SETUP:
		return "YubiKey serial not readable (program it with "
		    "-oserial-api-visible)";
	/* sandbox */
	case TG_ERR_SANDBOX:
		return "cannot confine the process (seccomp, prctl or resource "
		    "limit refused)";
	}
	return "unknown error";
}
