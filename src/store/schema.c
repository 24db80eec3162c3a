/* SPDX-License-Identifier: ISC */
/*
 * The schema, as an ordered list of migrations.  Step i, a list of
 * statements, takes a database from PRAGMA user_version i to i + 1 in one
 * transaction.  Never edit a
 * released step: add a new one, since databases in the field have run the
 * old text.  sqlite cannot alter a CHECK constraint in place, so value
 * vocabularies (queues, states, kinds) are checked in C, not here; the
 * schema checks shapes and the rules that must hold whatever the code does.
 *
 * Tables are STRICT so a column only ever holds its declared type.
 */
#include "store/store_int.h"

static const char *const migration_1[] = {
	/*
	 * Recovery requests; `id` is 128 random bits in lower hex, `n` the
	 * order of arrival (an implicit rowid could be renumbered by VACUUM).
	 */
	"CREATE TABLE requests ("
	"  n			INTEGER PRIMARY KEY,"
	"  id			TEXT NOT NULL UNIQUE"
	"			CHECK (length(id) = 32"
	"			  AND id NOT GLOB '*[^0-9a-f]*'),"
	"  queue		TEXT NOT NULL,"
	"  target_account	TEXT NOT NULL,"
	"  target_system	TEXT NOT NULL,"
	"  claimed_class	TEXT,"
	"  effective_class	TEXT NOT NULL,"
	"  requester_agent	TEXT NOT NULL,"
	"  requester_channel	TEXT NOT NULL,"
	"  requester_ticket	TEXT,"
	"  requester_uid	INTEGER NOT NULL,"
	"  request_json		TEXT NOT NULL,"
	"  state		TEXT NOT NULL,"
	"  policy_id		TEXT NOT NULL,"
	"  policy_version	INTEGER NOT NULL,"
	"  decision_json	TEXT,"
	"  idem_key		TEXT,"
	"  idem_digest		TEXT,"
	"  response_json	TEXT,"
	"  created		INTEGER NOT NULL,"
	"  updated		INTEGER NOT NULL,"
	"  hold_start		INTEGER,"
	"  hold_end		INTEGER,"
	"  CHECK ((idem_key IS NULL) = (idem_digest IS NULL)),"
	"  CHECK ((hold_start IS NULL) = (hold_end IS NULL)),"
	"  CHECK (hold_end IS NULL OR hold_end >= hold_start)"
	") STRICT",
	/* A retried submit finds its first answer through this index. */
	"CREATE UNIQUE INDEX requests_idem ON requests(idem_key)"
	"  WHERE idem_key IS NOT NULL",
	"CREATE INDEX requests_queue_state ON requests(queue, state)",
	"CREATE INDEX requests_state_hold ON requests(state, hold_end)",
	"CREATE INDEX requests_target ON requests(target_account,"
	"  target_system)",
	"CREATE TABLE evidence ("
	"  id			INTEGER PRIMARY KEY,"
	"  request_id		TEXT NOT NULL REFERENCES requests(id),"
	"  type			TEXT NOT NULL,"
	"  result		TEXT NOT NULL,"
	"  verifier		TEXT NOT NULL,"
	"  channel		TEXT NOT NULL,"
	"  ref			TEXT,"
	"  evidence_json	TEXT NOT NULL,"
	"  digest		TEXT NOT NULL CHECK (length(digest) = 64),"
	"  added_uid		INTEGER NOT NULL,"
	"  created		INTEGER NOT NULL"
	") STRICT",
	"CREATE INDEX evidence_request ON evidence(request_id)",
	/* Vetoes, denials and other human decisions. */
	"CREATE TABLE decisions ("
	"  id			INTEGER PRIMARY KEY,"
	"  request_id		TEXT NOT NULL REFERENCES requests(id),"
	"  kind			TEXT NOT NULL,"
	"  actor_uid		INTEGER NOT NULL,"
	"  actor_role		TEXT NOT NULL,"
	"  actor_name		TEXT NOT NULL,"
	"  reason		TEXT NOT NULL,"
	"  created		INTEGER NOT NULL"
	") STRICT",
	"CREATE INDEX decisions_request ON decisions(request_id)",
	/*
	 * Enrolled security keys of officers.  alg is the COSE algorithm,
	 * attest_fpr the SHA-256 (hex) of the attestation certificate.
	 */
	"CREATE TABLE approvers ("
	"  id			INTEGER PRIMARY KEY,"
	"  name			TEXT NOT NULL,"
	"  approver_group	TEXT NOT NULL,"
	"  cred_id		BLOB NOT NULL UNIQUE,"
	"  pubkey		BLOB NOT NULL,"
	"  alg			INTEGER NOT NULL,"
	"  aaguid		BLOB CHECK (aaguid IS NULL"
	"			  OR length(aaguid) = 16),"
	"  attest_fpr		TEXT CHECK (attest_fpr IS NULL"
	"			  OR length(attest_fpr) = 64),"
	"  sign_count		INTEGER NOT NULL DEFAULT 0"
	"			CHECK (sign_count >= 0),"
	"  revoked		INTEGER NOT NULL DEFAULT 0"
	"			CHECK (revoked IN (0, 1)),"
	"  enrolled		INTEGER NOT NULL,"
	"  revoked_at		INTEGER"
	") STRICT",
	"CREATE INDEX approvers_name ON approvers(name)",
	/*
	 * A counter that goes back means a cloned key; whatever the code
	 * does, the stored counter only grows, and a revoked key stays so.
	 */
	"CREATE TRIGGER approvers_counter BEFORE UPDATE OF sign_count"
	"  ON approvers WHEN NEW.sign_count < OLD.sign_count BEGIN"
	"  SELECT RAISE(ABORT, 'signature counter regression'); END",
	"CREATE TRIGGER approvers_revoked BEFORE UPDATE OF revoked"
	"  ON approvers WHEN OLD.revoked = 1 AND NEW.revoked = 0 BEGIN"
	"  SELECT RAISE(ABORT, 'a revoked approver stays revoked'); END",
	/* One officer's assertion over one request's order. */
	"CREATE TABLE approvals ("
	"  id			INTEGER PRIMARY KEY,"
	"  request_id		TEXT NOT NULL REFERENCES requests(id),"
	"  approver_id		INTEGER NOT NULL REFERENCES approvers(id),"
	"  cred_id		BLOB NOT NULL,"
	"  auth_data		BLOB NOT NULL,"
	"  signature		BLOB NOT NULL,"
	"  client_data		TEXT NOT NULL,"
	"  sign_count		INTEGER NOT NULL,"
	"  created		INTEGER NOT NULL,"
	"  UNIQUE (request_id, approver_id)"
	") STRICT",
	/* Co-signed orders; `jti` is the one-time id downstream redeems. */
	"CREATE TABLE orders ("
	"  jti			TEXT PRIMARY KEY NOT NULL,"
	"  request_id		TEXT NOT NULL REFERENCES requests(id),"
	"  jws			TEXT NOT NULL,"
	"  issued		INTEGER NOT NULL,"
	"  expires		INTEGER NOT NULL CHECK (expires > issued),"
	"  redeemed		INTEGER,"
	"  redeemed_by		TEXT"
	") STRICT",
	"CREATE INDEX orders_request ON orders(request_id)",
	"CREATE TRIGGER orders_redeem_once BEFORE UPDATE OF redeemed"
	"  ON orders WHEN OLD.redeemed IS NOT NULL BEGIN"
	"  SELECT RAISE(ABORT, 'order already redeemed'); END",
	/*
	 * The audit chain (audit.h has the hash encoding).  No foreign key:
	 * the log must take any event and outlive what it talks about.
	 */
	"CREATE TABLE audit ("
	"  seq			INTEGER PRIMARY KEY NOT NULL CHECK (seq >= 1),"
	"  time			INTEGER NOT NULL,"
	"  actor_uid		INTEGER NOT NULL,"
	"  actor_role		TEXT NOT NULL,"
	"  actor_name		TEXT NOT NULL,"
	"  event		TEXT NOT NULL,"
	"  request_id		TEXT,"
	"  details		TEXT NOT NULL,"
	"  prev_hash		TEXT NOT NULL CHECK (length(prev_hash) = 64),"
	"  hash			TEXT NOT NULL CHECK (length(hash) = 64)"
	") STRICT",
	"CREATE INDEX audit_request ON audit(request_id)"
	"  WHERE request_id IS NOT NULL",
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN"
	"  SELECT RAISE(ABORT, 'audit log is append-only'); END",
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN"
	"  SELECT RAISE(ABORT, 'audit log is append-only'); END",
	/* Even a buggy writer cannot fork or skip the chain. */
	"CREATE TRIGGER audit_chain BEFORE INSERT ON audit"
	"  WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM audit)"
	"  OR NEW.prev_hash IS NOT coalesce("
	"    (SELECT hash FROM audit ORDER BY seq DESC LIMIT 1),"
	"    '00000000000000000000000000000000'"
	"    || '00000000000000000000000000000000')"
	"  BEGIN SELECT RAISE(ABORT, 'audit entry does not extend the chain');"
	"  END",
	NULL
};

/*
 * Version 2: why an approver was revoked (an operator, or a signature
 * counter that did not grow: a cloned key), and the serial of a YubiKey
 * where one could be read.
 */
static const char *const migration_2[] = {
	"ALTER TABLE approvers ADD COLUMN revoke_reason TEXT",
	"ALTER TABLE approvers ADD COLUMN yk_serial INTEGER",
	NULL
};

/*
 * Version 3: signed audit checkpoints (checkpoint.h).  The co-signing key
 * signs the chain's head now and then; the table is append-only like the
 * audit log, and only takes the head's hash of an entry that exists,
 * newer than the last checkpoint, so the signer cannot record what the
 * chain does not hold.
 */
static const char *const migration_3[] = {
	"CREATE TABLE checkpoints ("
	"  id			INTEGER PRIMARY KEY,"
	"  seq			INTEGER NOT NULL CHECK (seq >= 1),"
	"  hash			TEXT NOT NULL CHECK (length(hash) = 64),"
	"  time			INTEGER NOT NULL,"
	"  kid			TEXT NOT NULL CHECK (length(kid) = 43),"
	"  signature		BLOB NOT NULL CHECK (length(signature) = 64),"
	"  created		INTEGER NOT NULL"
	") STRICT",
	"CREATE INDEX checkpoints_seq ON checkpoints(seq)",
	"CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints"
	"  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END",
	"CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints"
	"  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END",
	"CREATE TRIGGER checkpoints_of_the_chain BEFORE INSERT ON checkpoints"
	"  WHEN NEW.hash IS NOT (SELECT hash FROM audit WHERE seq = NEW.seq)"
	"  OR NEW.seq <= (SELECT coalesce(max(seq), 0) FROM checkpoints)"
	"  BEGIN SELECT RAISE(ABORT, 'checkpoint is not a newer head of the "
	"audit chain'); END",
	NULL
};

/*
 * Version 4: small facts about the appliance itself, by name; the first
 * is the daemon's heartbeat ("heartbeat": the last time it was up and
 * able to take a veto), from which the next start learns how long it was
 * down.
 */
static const char *const migration_4[] = {
	"CREATE TABLE meta ("
	"  key			TEXT PRIMARY KEY NOT NULL"
	"			CHECK (length(key) BETWEEN 1 AND 64),"
	"  value		INTEGER NOT NULL"
	") STRICT",
	NULL
};

/*
 * Version 5: the last state of each alarm raised once per change of
 * state (store/alarm.h), so that the daemon raises "approver group
 * security_officer cannot reach its quorum" when that becomes true, not
 * again at every enrolment or restart while it stays so.
 */
static const char *const migration_5[] = {
	"CREATE TABLE alarm_state ("
	"  alarm		TEXT NOT NULL"
	"			CHECK (length(alarm) BETWEEN 1 AND 64),"
	"  subject		TEXT NOT NULL"
	"			CHECK (length(subject) BETWEEN 1 AND 128),"
	"  raised		INTEGER NOT NULL CHECK (raised IN (0, 1)),"
	"  changed		INTEGER NOT NULL,"
	"  PRIMARY KEY (alarm, subject)"
	") STRICT",
	NULL
};

/*
 * Version 6: who asked.  The principal the caller's peer credentials
 * name (an integration, or the agent itself) and its team, whose own
 * requests are all a scoped team may list.  NULL on requests stored
 * before: no team sees them but the officers and operators, who see all.
 */
static const char *const migration_6[] = {
	"ALTER TABLE requests ADD COLUMN requester_principal TEXT",
	"ALTER TABLE requests ADD COLUMN requester_team TEXT",
	"CREATE INDEX requests_team ON requests(requester_team, n)",
	NULL
};

/*
 * Version 7: who an officer is in the directory.  The DN of the entry the
 * officer's name found at enrolment (NULL: enrolled without a directory,
 * or not in it): separation of duties compares it with a target's DN.
 */
static const char *const migration_7[] = {
	"ALTER TABLE approvers ADD COLUMN dn TEXT",
	NULL
};

/*
 * Version 8: what the directory said of the target when the request was
 * submitted (or last looked up by the signer): a JSON snapshot with its
 * DN, the class and why, its privileged groups, manager, masked
 * contacts, account type and state.  NULL: no directory then.
 */
static const char *const migration_8[] = {
	"ALTER TABLE requests ADD COLUMN directory_json TEXT",
	NULL
};

/*
 * Version 9: orders revoked (a deny or a veto after the order was
 * issued): what GET /v1/orders/ID answers, what a redemption refuses and
 * what the signed revocation list carries.  Append-only: a revocation is
 * never withdrawn.  after_redemption: the order had been redeemed when it
 * was revoked (downstream may have applied it already).
 */
static const char *const migration_9[] = {
	"CREATE TABLE revocations ("
	"  jti			TEXT PRIMARY KEY NOT NULL"
	"			REFERENCES orders(jti),"
	"  request_id		TEXT NOT NULL REFERENCES requests(id),"
	"  kind			TEXT NOT NULL,"
	"  actor_name		TEXT NOT NULL,"
	"  reason		TEXT NOT NULL,"
	"  revoked		INTEGER NOT NULL,"
	"  after_redemption	INTEGER NOT NULL"
	"			CHECK (after_redemption IN (0, 1))"
	") STRICT",
	"CREATE TRIGGER revocations_no_update BEFORE UPDATE ON revocations"
	"  BEGIN SELECT RAISE(ABORT, 'revocations are append-only'); END",
	"CREATE TRIGGER revocations_no_delete BEFORE DELETE ON revocations"
	"  BEGIN SELECT RAISE(ABORT, 'revocations are append-only'); END",
	NULL
};

/*
 * Version 10: what became of a redeemed order.  Who redeemed it (the
 * caller's uid: only that caller reports its outcome or redeems it again
 * after a resume), when it was last redeemed and how often, the outcome
 * the downstream system reported (applied or failed, with its JSON), and
 * whether an operator resumed it (the redeemer may redeem it once more),
 * and whether the alarm of a redemption never reported was raised.  The
 * partial index holds only the orders the timer still has to look at:
 * redeemed, not reported, not resumed, not alarmed yet.
 */
static const char *const migration_10[] = {
	"ALTER TABLE orders ADD COLUMN redeemed_uid INTEGER",
	"ALTER TABLE orders ADD COLUMN last_redeemed INTEGER",
	"ALTER TABLE orders ADD COLUMN redemptions INTEGER NOT NULL DEFAULT 0",
	"ALTER TABLE orders ADD COLUMN outcome TEXT"
	"  CHECK (outcome IN ('applied', 'failed'))",
	"ALTER TABLE orders ADD COLUMN outcome_at INTEGER",
	"ALTER TABLE orders ADD COLUMN outcome_json TEXT",
	"ALTER TABLE orders ADD COLUMN resumable INTEGER NOT NULL DEFAULT 0"
	"  CHECK (resumable IN (0, 1))",
	"ALTER TABLE orders ADD COLUMN alarmed INTEGER NOT NULL DEFAULT 0"
	"  CHECK (alarmed IN (0, 1))",
	"CREATE INDEX orders_unreported ON orders(last_redeemed)"
	"  WHERE redeemed IS NOT NULL AND outcome IS NULL AND resumable = 0"
	"  AND alarmed = 0",
	NULL
};

/*
 * Version 11: who hears of a request (the owner and the manager the
 * directory named, each by one channel and destination), the hashes of
 * the veto codes their messages carry, and the wrong codes tried per
 * request.
 */
static const char *const migration_11[] = {
	"CREATE TABLE notify_recipients ("
	"  request_id		TEXT NOT NULL REFERENCES requests(id),"
	"  role			TEXT NOT NULL"
	"			CHECK (role IN ('owner', 'manager')),"
	"  channel		TEXT NOT NULL,"
	"  destination		TEXT NOT NULL"
	"			CHECK (length(destination) BETWEEN 1 AND 256),"
	"  created		INTEGER NOT NULL,"
	"  PRIMARY KEY (request_id, role)"
	") STRICT",
	"CREATE TABLE veto_codes ("
	"  id			INTEGER PRIMARY KEY,"
	"  request_id		TEXT NOT NULL REFERENCES requests(id),"
	"  role			TEXT NOT NULL"
	"			CHECK (role IN ('owner', 'manager')),"
	"  code_hash		TEXT NOT NULL CHECK (length(code_hash) = 64),"
	"  created		INTEGER NOT NULL"
	") STRICT",
	"CREATE INDEX veto_codes_request ON veto_codes(request_id)",
	"CREATE TABLE veto_attempts ("
	"  request_id		TEXT PRIMARY KEY NOT NULL"
	"			REFERENCES requests(id),"
	"  failed		INTEGER NOT NULL CHECK (failed >= 0)"
	") STRICT",
	NULL
};

/*
 * Version 12: evidence the appliance verifies itself.  Who vouches for
 * each evidence item (origin: agent, appliance or officer; rows stored
 * before are the agent's word); the challenges the appliance issued
 * (the code only as a salted HMAC, its attempts and expiry); and the
 * saved recovery codes of an account (scrypt hashes, each usable once,
 * the whole set revocable).
 */
static const char *const migration_12[] = {
	"ALTER TABLE evidence ADD COLUMN origin TEXT NOT NULL DEFAULT 'agent'"
	"  CHECK (origin IN ('agent', 'appliance', 'officer'))",
	"CREATE TABLE challenges ("
	"  id			TEXT PRIMARY KEY NOT NULL"
	"			CHECK (length(id) = 32),"
	"  request_id		TEXT NOT NULL REFERENCES requests(id),"
	"  kind			TEXT NOT NULL,"
	"  channel		TEXT NOT NULL,"
	"  destination		TEXT NOT NULL,"	/* masked */
	"  salt		BLOB NOT NULL CHECK (length(salt) = 16),"
	"  code_hash		BLOB NOT NULL CHECK (length(code_hash) = 32),"
	"  attempts		INTEGER NOT NULL DEFAULT 0,"
	"  max_attempts	INTEGER NOT NULL,"
	"  state		TEXT NOT NULL CHECK (state IN ('open',"
	"			'answered', 'failed', 'expired')),"
	"  created		INTEGER NOT NULL,"
	"  expires		INTEGER NOT NULL"
	") STRICT",
	"CREATE INDEX challenges_request ON challenges(request_id)",
	"CREATE TABLE recovery_codes ("
	"  id			INTEGER PRIMARY KEY,"
	"  account		TEXT NOT NULL,"
	"  set_id		TEXT NOT NULL,"
	"  salt		BLOB NOT NULL CHECK (length(salt) = 16),"
	"  hash		BLOB NOT NULL CHECK (length(hash) = 32),"
	"  used		INTEGER,"
	"  revoked		INTEGER,"
	"  created		INTEGER NOT NULL"
	") STRICT",
	"CREATE INDEX recovery_codes_account ON recovery_codes(account)",
	NULL
};

/*
 * Version 13: an approval from the web console carries the nonce the
 * appliance issued for that attempt (its challenge is the SHA-256 of the
 * change's digest and the nonce); one at the box has none.
 */
static const char *const migration_13[] = {
	"ALTER TABLE approvals ADD COLUMN nonce BLOB"
	"  CHECK (nonce IS NULL OR length(nonce) = 32)",
	NULL
};

/*
 * Version 14: the web console's users who are no officers enrol their
 * security key by an operator's invitation (its code stored only as a
 * hash, five wrong codes revoke it, used once), and sign in with it; a
 * credential's counter only grows, a revoked one stays revoked.
 */
static const char *const migration_14[] = {
	"CREATE TABLE console_invites ("
	"  user		TEXT PRIMARY KEY,"
	"  code_hash		BLOB NOT NULL CHECK (length(code_hash) = 32),"
	"  expires		INTEGER NOT NULL,"
	"  wrong		INTEGER NOT NULL DEFAULT 0,"
	"  state		TEXT NOT NULL DEFAULT 'open'"
	"    CHECK (state IN ('open', 'used', 'revoked')),"
	"  created		INTEGER NOT NULL"
	") STRICT",
	"CREATE TABLE console_credentials ("
	"  id			INTEGER PRIMARY KEY,"
	"  user		TEXT NOT NULL,"
	"  cred_id		BLOB NOT NULL UNIQUE,"
	"  pubkey		BLOB NOT NULL,"
	"  alg			INTEGER NOT NULL,"
	"  sign_count		INTEGER NOT NULL,"
	"  revoked		INTEGER NOT NULL DEFAULT 0,"
	"  enrolled		INTEGER NOT NULL,"
	"  revoked_at		INTEGER"
	") STRICT",
	"CREATE INDEX console_credentials_user ON console_credentials(user)",
	"CREATE TRIGGER console_credentials_counter BEFORE UPDATE OF"
	"  sign_count ON console_credentials"
	"  WHEN NEW.sign_count < OLD.sign_count BEGIN"
	"  SELECT RAISE(ABORT, 'a signature counter never goes back'); END",
	"CREATE TRIGGER console_credentials_revoked BEFORE UPDATE OF revoked"
	"  ON console_credentials WHEN OLD.revoked = 1 AND NEW.revoked = 0"
	"  BEGIN SELECT RAISE(ABORT, 'a revoked credential stays revoked');"
	"  END",
	NULL
};

const char *const *const store_migrations[] = {
	migration_1,
	migration_2,
	migration_3,
	migration_4,
	migration_5,
	migration_6,
	migration_7,
	migration_8,
	migration_9,
	migration_10,
	migration_11,
	migration_12,
	migration_13,
	migration_14,
};

const int store_nmigrations =
    (int)(sizeof(store_migrations) / sizeof(store_migrations[0]));
