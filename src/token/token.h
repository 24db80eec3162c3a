/* SPDX-License-Identifier: ISC */
/*
 * Security keys through libfido2: discovery, PIN management, enrolment of an
 * approver's credential with attestation checked against pinned roots, and
 * assertions with the verification an approval needs.
 *
 * Device names are either a hidraw node ("/dev/hidraw3"), driven by
 * libfido2's own HID backend, or "softfido:PATH", the software key
 * listening on the Unix SOCK_SEQPACKET socket PATH, attached through
 * libfido2's custom I/O hooks so the whole CTAPHID/CTAP2 code path runs.
 *
 * Every function returns 0 or a negative TG_ERR_* (src/common/errors.h);
 * output pointers are set only on success.  A struct token is used by one
 * thread at a time.  What the key says maps onto: no touch in its window
 * TG_ERR_NO_TOUCH, refused on the key TG_ERR_DENIED, wrong PIN
 * TG_ERR_PIN_INVALID (then see token_pin_retries()), TG_ERR_PIN_BLOCKED,
 * TG_ERR_PIN_AUTH_BLOCKED (power-cycle the key), TG_ERR_NO_CREDENTIAL; our
 * own budget running out TG_ERR_TIMEOUT; the key unplugged, its socket
 * closed or gone TG_ERR_DEVICE_GONE; a malformed reply TG_ERR_PROTOCOL.
 */
#ifndef TAPGATE_TOKEN_H
#define TAPGATE_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKEN_CDH_LEN		32	/* clientDataHash: SHA-256 */
#define TOKEN_AAGUID_LEN	16
#define TOKEN_PIN_MIN		4	/* CTAP 2.1: code points */
#define TOKEN_PIN_MAX		63	/* CTAP 2.1: UTF-8 bytes */
#define TOKEN_AUTHDATA_MAX	1024	/* cap before any parser sees it */
#define TOKEN_SIG_MAX		128	/* DER ES256 <= 72, EdDSA 64 */
#define TOKEN_FMT_MAX		15	/* attestation format name */
#define TOKEN_ATTSTMT_MAX	8192	/* attStmt: signature and x5c chain */
#define TOKEN_CRED_ID_MAX	1023
#define TOKEN_LIST_MAX		4096	/* ids in one exclude or allow list */
#define TOKEN_TIMEOUT_DEFAULT	60000	/* ms; longer than any touch window */

/* COSE algorithm identifiers, as libfido2 and WebAuthn use them. */
#define TOKEN_ALG_ES256		(-7)
#define TOKEN_ALG_EDDSA		(-8)

/* authenticatorData flags. */
#define TOKEN_FLAG_UP		0x01
#define TOKEN_FLAG_UV		0x04
#define TOKEN_FLAG_AT		0x40
#define TOKEN_FLAG_ED		0x80

struct token;

struct token_opts {
	/*
	 * Budget of each operation in ms, touch wait included (0: default
	 * TOKEN_TIMEOUT_DEFAULT).  Keep it longer than the key's own touch
	 * window, so a missing touch reads as TG_ERR_NO_TOUCH.
	 */
	int	timeout_ms;
	/*
	 * softfido only: how long to keep retrying a socket nobody listens
	 * on yet (a softfido still starting), in ms; 0 tries once.
	 */
	int	connect_wait_ms;
};

/*
 * Open the key called name (see above) and run CTAPHID INIT and getInfo.
 * opts may be NULL for the defaults.  TG_ERR_INVALID for a malformed name,
 * TG_ERR_DEVICE_GONE when nothing is there, TG_ERR_UNSUPPORTED for a key
 * that does not speak CTAP2.
 */
int	token_open(const char *name, const struct token_opts *opts,
	    struct token **tokp);

/* Close the key and free *tokp; NULL-safe, sets *tokp to NULL. */
void	token_free(struct token **tokp);

/* The device name token_open() was given. */
const char *token_name(const struct token *tok);

/*
 * Check the form of a device name without opening anything: 0, or
 * TG_ERR_INVALID (wrong form) / TG_ERR_TOO_LONG (socket path too long).
 */
int	token_name_check(const char *name);

/* ---- discovery */

struct token_entry {
	char		*name;		/* a name token_open() accepts */
	char		*manufacturer;	/* may be "" */
	char		*product;	/* may be "" */
	uint16_t	 vendor_id;	/* 0 for softfido */
	uint16_t	 product_id;
	int		 status;	/* 0, or why the probe failed */
};

struct token_list {
	struct token_entry	*entries;
	size_t			 count;
};

/*
 * The FIDO HID devices libfido2 finds, then each of the nsf softfido names
 * the caller gives (probed with token_open(); an unreachable one is listed
 * with its error in status).  A host without hidraw FIDO devices yields no
 * HID entries, not an error.
 */
int	token_list_new(const char *const *softfido_names, size_t nsf,
	    const struct token_opts *opts, struct token_list **listp);

/* Free a list; NULL-safe, sets *listp to NULL. */
void	token_list_free(struct token_list **listp);

/* ---- getInfo */

struct token_option {
	char	*name;
	bool	 value;
};

struct token_algorithm {
	char	*type;		/* "public-key" */
	int	 cose;		/* TOKEN_ALG_* or another COSE id */
};

struct token_info {
	char			**versions;	/* "FIDO_2_1", ... */
	size_t			  nversions;
	char			**extensions;
	size_t			  nextensions;
	uint8_t			  aaguid[TOKEN_AAGUID_LEN];
	struct token_option	 *options;
	size_t			  noptions;
	struct token_algorithm	 *algorithms;
	size_t			  nalgorithms;
	uint64_t		  max_msg_size;
	uint8_t			 *pin_protocols;
	size_t			  npin_protocols;
	uint64_t		  min_pin_length; /* 0: not reported */
	uint64_t		  max_cred_count_in_list; /* 0: not reported */
	uint64_t		  max_cred_id_len; /* 0: not reported */
	bool			  pin_supported; /* has option clientPin */
	bool			  pin_set;	/* clientPin is true */
	int			  pin_retries;	/* -1: no PIN support */
	/* CTAPHID INIT reply */
	uint8_t			  ctaphid_protocol;
	uint8_t			  fw_major, fw_minor, fw_build;
};

/* Ask the key for its getInfo and PIN retry counter (fresh every call). */
int	token_info_new(struct token *tok, struct token_info **infop);

/* Free an info; NULL-safe, sets *infop to NULL. */
void	token_info_free(struct token_info **infop);

/* Whether info lists option name with the value true. */
bool	token_info_option(const struct token_info *info, const char *name);

/* Canonical UUID text of an AAGUID into out (37 bytes, NUL-terminated). */
void	token_aaguid_format(const uint8_t aaguid[TOKEN_AAGUID_LEN],
	    char out[37]);

/* ---- PIN */

/*
 * Check a PIN against CTAP 2.1's rules: valid UTF-8, at most TOKEN_PIN_MAX
 * bytes, at least max(TOKEN_PIN_MIN, min_len) code points.  0 or
 * TG_ERR_PIN_POLICY.
 */
int	token_pin_policy_check(const char *pin, uint64_t min_len);

/*
 * Set the first PIN (old_pin NULL) or change it.  Checks the policy (with
 * the key's minPINLength) before sending anything.  TG_ERR_PIN_ALREADY_SET
 * when setting a first PIN on a key that has one, TG_ERR_PIN_NOT_SET when
 * changing a PIN that does not exist, TG_ERR_PIN_INVALID for a wrong old
 * PIN (see token_pin_retries()), TG_ERR_PIN_POLICY, TG_ERR_UNSUPPORTED for
 * a key without clientPin.
 */
int	token_set_pin(struct token *tok, const char *new_pin,
	    const char *old_pin);

/* PIN attempts left before the key blocks it (*retries set on success). */
int	token_pin_retries(struct token *tok, int *retries);

/* ---- public keys */

struct token_pubkey {
	int		alg;		/* TOKEN_ALG_ES256 or TOKEN_ALG_EDDSA */
	uint8_t		raw[64];	/* ES256: x || y; EdDSA: 32 bytes */
	size_t		raw_len;
};

/*
 * Load a stored raw public key (ES256: 64 bytes x||y or 65 bytes 04||x||y;
 * EdDSA: 32 bytes), checking that it is a valid key.
 */
int	token_pubkey_from_raw(int alg, const uint8_t *raw, size_t len,
	    struct token_pubkey *pk);

/*
 * The public key as a COSE_Key in CTAP2 canonical CBOR into out (cap bytes;
 * 77 is always enough); *outlen set on success.
 */
int	token_pubkey_to_cose(const struct token_pubkey *pk, uint8_t *out,
	    size_t cap, size_t *outlen);

/* ---- credential lists longer than a key takes */

struct token_cred_id {
	const uint8_t	*ptr;
	size_t		 len;
};

/*
 * What one request to a key may carry (getInfo's maxCredentialCountInList,
 * maxCredentialIdLength and maxMsgSize).  Keys take short lists: an
 * exclude or allow list longer than that goes to the key in batches, each
 * but the last probed with a silent getAssertion (up false, UV by the PIN,
 * as credProtect level 3 wants), the way browsers do; no credential is
 * ever left out of the check.
 */
struct token_list_limits {
	size_t	max_count;	/* ids in one request, at least 1 */
	size_t	max_id_len;	/* 0: no bound reported */
	size_t	max_bytes;	/* the encoded ids of one request */
};

/*
 * The batch of ids[0..n) that starts at start: *end is one past its last
 * id.  Batches follow the list's order and take as many ids as lim
 * allows, at least one.  TG_ERR_UNSUPPORTED when ids[start] alone does not
 * fit (longer than max_id_len, or over max_bytes): the key cannot be
 * asked about that credential.  Pure: no I/O.
 */
int	token_list_batch(const struct token_cred_id *ids, size_t n,
	    size_t start, const struct token_list_limits *lim, size_t *end);

/* ---- enrolment */

struct token_enroll_req {
	const char	*rp_id;
	const char	*rp_name;
	const uint8_t	*user_id;	/* 1..64 bytes */
	size_t		 user_id_len;
	const char	*user_name;
	const char	*user_display_name;	/* may be NULL */
	const uint8_t	*client_data_hash;	/* TOKEN_CDH_LEN bytes */
	int		 alg;		/* TOKEN_ALG_ES256 or TOKEN_ALG_EDDSA */
	bool		 resident;
	int		 cred_protect;	/* 0 (none) or 1..3 (CTAP levels) */
	const char	*pin;		/* required: enrolment needs UV */
	/* PEM file of the trusted attestation roots (required) */
	const char	*trust_roots_pem;
	/*
	 * Credentials already enrolled (excludeList, at most
	 * TOKEN_LIST_MAX): a key holding one of them refuses after the
	 * touch, TG_ERR_EXISTS.  A list longer than the key takes is probed
	 * batch by batch first (see token_list_batch()); then makeCredential
	 * excludes the batch that holds the key's credential, or the last.
	 */
	const struct token_cred_id	*exclude;
	size_t		 nexclude;
	/* if naaguids > 0, the key's AAGUID must be one of these */
	const uint8_t	(*aaguids)[TOKEN_AAGUID_LEN];
	size_t		 naaguids;
};

struct token_credential {
	uint8_t			*id;
	size_t			 id_len;
	struct token_pubkey	 pubkey;	/* what verification needs */
	uint8_t			 cose[80];	/* COSE_Key, for storage */
	size_t			 cose_len;
	uint8_t			 aaguid[TOKEN_AAGUID_LEN];
	uint8_t			 cert_sha256[32];	/* attestation cert */
	uint32_t		 sign_count;
	uint8_t			 flags;
	int			 cred_protect;	/* as the key reported it */
	/* what the key sent, for token_verify_enrolment() elsewhere */
	uint8_t			*authdata;	/* raw authenticatorData */
	size_t			 authdata_len;
	char			 fmt[TOKEN_FMT_MAX + 1];
	uint8_t			*attstmt;	/* CBOR attStmt */
	size_t			 attstmt_len;
};

/*
 * makeCredential with UV (the PIN) and a touch, then verify what came
 * back: rpIdHash (TG_ERR_RPID), UP and UV flags (TG_ERR_FLAGS), the packed
 * attestation signature with fido_cred_verify(), the x5c chain up to one of
 * the trusted roots, the certificate's AAGUID extension against authData,
 * and the AAGUID allow-list (all TG_ERR_ATTESTATION, the list TG_ERR_AAGUID;
 * TG_ERR_IO when the roots file cannot be loaded).  TG_ERR_UNSUPPORTED
 * for credProtect on a key without it, or for an excluded credential id
 * the key cannot be asked about (nothing is sent then);
 * TG_ERR_TOO_LONG for an exclude list over TOKEN_LIST_MAX, or when the
 * key refuses a list its getInfo promised to take.
 */
int	token_enroll(struct token *tok, const struct token_enroll_req *req,
	    struct token_credential **credp);

/*
 * Everything token_enroll() checks after makeCredential, done again on
 * the bytes the key sent (authenticatorData, format, attStmt) as a remote
 * relying party would: how the daemon holds its token process, which
 * talks to the key, to the attestation it reports.  req as for
 * token_enroll(); its pin and exclude list are not used.  Same errors;
 * TG_ERR_TOO_LONG for bytes over their bounds.
 */
int	token_verify_enrolment(const struct token_enroll_req *req,
	    const uint8_t *authdata, size_t authdata_len, const char *fmt,
	    const uint8_t *attstmt, size_t attstmt_len,
	    struct token_credential **credp);

/* Free a credential; NULL-safe, sets *credp to NULL. */
void	token_credential_free(struct token_credential **credp);

/* ---- assertion */

struct token_assert_req {
	const char			*rp_id;
	const uint8_t			*client_data_hash; /* TOKEN_CDH_LEN */
	/* may be empty (resident); at most TOKEN_LIST_MAX, in batches */
	const struct token_cred_id	*allow;
	size_t				 nallow;
	const char			*pin;	/* required: UV */
};

struct token_assertion {
	uint8_t		*cred_id;
	size_t		 cred_id_len;
	uint8_t		*authdata;	/* raw bytes, not CBOR-wrapped */
	size_t		 authdata_len;
	uint8_t		*sig;
	size_t		 sig_len;
	uint32_t	 sign_count;
	uint8_t		 flags;
};

/*
 * getAssertion requiring a touch and UV by PIN.  The reply is not verified
 * here: pass it with the stored public key to token_verify_assertion().
 * TG_ERR_PROTOCOL when the key answers with a credential that was not
 * allowed.  An allow list longer than the key takes is probed batch by
 * batch (see token_list_batch()) and the touch asked with the batch that
 * holds the key's credential; TG_ERR_UNSUPPORTED and TG_ERR_TOO_LONG as
 * for token_enroll().
 */
int	token_assert(struct token *tok, const struct token_assert_req *req,
	    struct token_assertion **assertp);

/*
 * Which of the allowed credentials (req->allow, at least one) the key
 * holds, asked without a touch: a silent getAssertion (up false, UV by
 * the PIN) over each batch the key takes, in the list's order, until one
 * answers.  The key does not blink, and what it signs carries no UP flag
 * so it can never pass as an approval (token_verify_assertion() refuses
 * it), though the key may count it in its signature counter.
 * req->client_data_hash is not used (a fresh random one is).  On success
 * *cred_id (malloc'd, *cred_id_len bytes) is a copy of the allowed id
 * the key answered with.  TG_ERR_NO_CREDENTIAL when the key holds none;
 * PIN errors, TG_ERR_UNSUPPORTED and TG_ERR_TOO_LONG as for
 * token_assert(); TG_ERR_PROTOCOL for an answer with a credential that
 * was not asked about.
 */
int	token_identify(struct token *tok, const struct token_assert_req *req,
	    uint8_t **cred_id, size_t *cred_id_len);

/* Free an assertion; NULL-safe, sets *assertp to NULL. */
void	token_assertion_free(struct token_assertion **assertp);

struct token_verify_req {
	const struct token_pubkey	*pubkey;
	const char			*rp_id;
	const uint8_t			*client_data_hash; /* TOKEN_CDH_LEN */
	const uint8_t			*authdata;	/* raw */
	size_t				 authdata_len;
	const uint8_t			*sig;
	size_t				 sig_len;
	uint32_t			 prev_sign_count;
	/*
	 * An offline verifier (libtapgate-verify) never saw the last
	 * counter: true skips the counter check, and prev_sign_count is
	 * then ignored.  Everything else is checked as always.
	 */
	bool				 skip_counter;
};

/*
 * Accept an approver's assertion, or say precisely why not: authData over
 * TOKEN_AUTHDATA_MAX or a signature over TOKEN_SIG_MAX (TG_ERR_TOO_LONG);
 * authData that is not exactly rpIdHash|flags|counter, or carries the AT or
 * ED flag (no extensions are ever requested) (TG_ERR_INVALID); rpIdHash not
 * SHA-256(rp_id) (TG_ERR_RPID); UP or UV clear (TG_ERR_FLAGS); signature
 * (TG_ERR_SIGNATURE); counter not strictly above prev_sign_count
 * (TG_ERR_COUNTER, unless skip_counter).  On success *sign_count is the
 * new counter to store.
 */
int	token_verify_assertion(const struct token_verify_req *req,
	    uint32_t *sign_count);

/* ---- a credential made for the web console */

/* Why a new credential's authenticator data was refused. */
enum token_attested_fault {
	TOKEN_ATTESTED_OK,
	TOKEN_ATTESTED_SHORT,		/* under 37 or over TOKEN_AUTHDATA_MAX
					   bytes */
	TOKEN_ATTESTED_RPID,		/* rpIdHash not SHA-256(rp_id) */
	TOKEN_ATTESTED_FLAGS,		/* UP or UV clear */
	TOKEN_ATTESTED_NO_CREDENTIAL,	/* AT clear */
	TOKEN_ATTESTED_SHAPE,		/* malformed CBOR, or bytes after it */
	TOKEN_ATTESTED_KEY,		/* no ES256 or EdDSA key parses */
	TOKEN_ATTESTED_ID,		/* credential id empty or too long */
	TOKEN_ATTESTED_FAULT_COUNT
};

struct token_attested {
	int		alg;		/* TOKEN_ALG_ES256 or TOKEN_ALG_EDDSA */
	uint8_t		cred_id[TOKEN_CRED_ID_MAX];
	size_t		cred_id_len;	/* 1 to TOKEN_CRED_ID_MAX */
	uint8_t		pubkey[64];	/* raw: ES256 x || y, EdDSA 32 */
	size_t		pubkey_len;	/* 64 or 32, as alg */
	uint32_t	sign_count;
};

/*
 * The credential in the authenticator data ad[0..len) of a key's new
 * credential for rp_id, as a browser's getAuthenticatorData() gives it
 * (raw): at most TOKEN_AUTHDATA_MAX bytes, rpIdHash SHA-256(rp_id), UP,
 * UV and AT set, the COSE key (and the extensions when ED is set) and
 * nothing after them, the attested credential data and its key parsed
 * by libfido2 (fido_cred_set_authdata_raw), an ES256 or EdDSA key.  0
 * with *out filled, TG_ERR_INVALID with the cause in *f, TG_ERR_NOMEM.
 */
int	token_attested_parse(const char *rp_id, const uint8_t *ad,
	    size_t len, struct token_attested *out,
	    enum token_attested_fault *f);

/* What f means, in words ("?" out of range). */
const char *token_attested_fault_text(enum token_attested_fault f);

#endif /* TAPGATE_TOKEN_H */
