/* SPDX-License-Identifier: ISC */
/*
 * The audit high-water mark: the newest head of the audit chain the
 * daemon vouched for, kept outside the database it protects, in
 * AUDITMARK_FILE beside the sealed co-signing key, signed by the
 * co-signing key.  A checkpoint (checkpoint.h) lives in the file it
 * protects: whoever holds that file can delete it with the entries it
 * covers.  The mark is in another file and its signature cannot be made
 * without the key, so a chain that went backwards (cut, or rewritten and
 * re-hashed) no longer holds the mark's entry, and the daemon refuses to
 * start on it.  Deleting the mark shows as a missing mark.
 *
 * A mark signs, with jwk_sign(), exactly these bytes, version 1:
 *
 *	"tapgate-audit-mark-v1" and one NUL byte	(22 bytes)
 *	appliance id length				(1 byte, 1..64)
 *	appliance id					(its bytes)
 *	seq						(8 bytes, big endian)
 *	hash						(32 raw bytes)
 *	time						(8 bytes, big endian)
 *
 * The preamble keeps a mark from passing for a checkpoint or an order
 * signed by the same key; the appliance id from passing for another
 * appliance's.  Seq 0 with a zero hash is the mark of an empty chain (a
 * fresh state directory), so that a missing mark always means one was
 * deleted, or was never written (a daemon from before marks).
 *
 * The file is one JSON object, rewritten atomically (a new file, synced,
 * renamed over the old one, the directory synced):
 *
 *	{"v":1,"appliance":"tapgate-01","seq":N,"hash":"<64 hex>",
 *	 "time":T,"kid":"<RFC 7638 thumbprint>","signature":"<base64url>"}
 *
 * kid names the signing key in the appliance's JWKS (retired keys too:
 * tapgatectl keys --all), so a mark outlives a key rotation.
 */
#ifndef TAPGATE_AUDITMARK_H
#define TAPGATE_AUDITMARK_H

#include <stddef.h>
#include <stdint.h>

#include "order/jwk.h"
#include "store/audit.h"

#define AUDITMARK_FILE		"audit.mark"
#define AUDITMARK_DOMAIN	"tapgate-audit-mark-v1"	/* with its NUL */
#define AUDITMARK_APPLIANCE_MAX	64
#define AUDITMARK_FILE_MAX	4096
#define AUDITMARK_MSG_MAX	(sizeof(AUDITMARK_DOMAIN) + 1 + \
				 AUDITMARK_APPLIANCE_MAX + 8 + 32 + 8)

struct auditmark {
	char		 appliance[AUDITMARK_APPLIANCE_MAX + 1];
	int64_t		 seq;		/* 0: the empty chain */
	char		 hash[AUDIT_HASH_HEX + 1];
	int64_t		 time;		/* when it was signed */
	char		 kid[JWK_KID_LEN + 1];
	uint8_t		 sig[JWK_SIG_LEN];
};

/* The bytes m signs (the encoding above) into out; their count in *lenp. */
int	auditmark_message(const struct auditmark *m,
	    uint8_t out[AUDITMARK_MSG_MAX], size_t *lenp);

/* Sign m (appliance, seq, hash, time filled) with key: fills kid, sig. */
int	auditmark_sign(struct auditmark *m, const struct jwk *key);

/*
 * Check m's signature with the key of keys its kid names: 0,
 * TG_ERR_UNKNOWN_KID, or TG_ERR_BAD_SIGNATURE.
 */
int	auditmark_verify(const struct auditmark *m, const struct jwks *keys);

/*
 * Read dir/AUDITMARK_FILE: TG_ERR_NOT_FOUND when there is none,
 * TG_ERR_INVALID when it is not exactly a mark (the format above, at most
 * AUDITMARK_FILE_MAX bytes, nothing else), TG_ERR_PERM for a symlink or
 * a file that is not regular, TG_ERR_IO otherwise.  The signature is not
 * checked: auditmark_verify().
 */
int	auditmark_read(const char *dir, struct auditmark *m);

/*
 * Write m as dir/AUDITMARK_FILE, 0600, atomically and durably: when this
 * returns 0 the new mark is on disk; on failure the old one is intact.
 */
int	auditmark_write(const char *dir, const struct auditmark *m);

/* The mark as an anchor (audit.h) to hold the chain to. */
void	auditmark_anchor(const struct auditmark *m, struct audit_anchor *a);

#endif /* TAPGATE_AUDITMARK_H */
