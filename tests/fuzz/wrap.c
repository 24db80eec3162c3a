/* SPDX-License-Identifier: ISC */
/*
 * Failure injection for the fuzz harnesses: the wrappers the linker puts
 * between tapgate's code and the functions they stand for.  The Makefile
 * links with -Wl,--wrap=X for every __wrap_X defined here, so adding a
 * wrapper is all it takes.  See wrap.h for the schedule.
 *
 * --wrap redirects the undefined references of every object on the link
 * line: the harness, tapgate's objects and this file.  The libFuzzer and
 * sanitizer runtimes reference none of these symbols (they allocate through
 * their own allocators), and shared libraries (libcrypto, libsqlite3, ...)
 * are not touched at all: their internal calls stay real.  The state is
 * per thread, so a thread other than the harness's never sees a failure.
 *
 * Jansson allocates internally through hooks, which are pointed at the
 * wrapped malloc, so json_pack, json_dumps and friends fail inside too.
 * Its parser does not: jansson's lexer ignores a failed append to its
 * token buffer and then fails assert(c == d) in lex_unget_unsave (jansson
 * issue #362, still open), so json_loadb and json_loads fail only at the
 * entry and run with injection held off.  libcbor (built without custom
 * allocators) and OpenSSL fail at their entry points only.
 *
 * Each wrapper fails the way its manual says it can: allocators return
 * NULL with errno ENOMEM, sqlite returns the codes a full disk, a busy
 * database or memory exhaustion give, OpenSSL returns 0 / NULL (-1 where a
 * negative value means error), and so on.  A failing call does nothing
 * else, so it looks like a failure before any effect.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "wrap.h"

#define WRAP_MODE_RANDOM	0	/* and 1: bit 31 clear */
#define WRAP_MODE_ONE		2
#define WRAP_MODE_FROM		3
#define WRAP_CALL_MASK		UINT32_C(0xffffff)

static _Thread_local int		wrap_on;
static _Thread_local uint32_t		wrap_seed;
static _Thread_local uint64_t		wrap_rng;
static _Thread_local unsigned long	wrap_calls;
static _Thread_local unsigned long	wrap_fails;

int
wrap_take_seed(const uint8_t **datap, size_t *lenp, uint32_t *seedp)
{
	const uint8_t *p = *datap;

	if (*lenp < WRAP_SEED_LEN)
		return -1;
	*seedp = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
	*datap += WRAP_SEED_LEN;
	*lenp -= WRAP_SEED_LEN;
	return 0;
}

/* splitmix64: one multiply-xorshift step per draw, any state is fine. */
static uint64_t
wrap_next(void)
{
	uint64_t z;

	z = (wrap_rng += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Which of n documented failures to give. */
static unsigned int
wrap_pick(unsigned int n)
{
	return (unsigned int)(wrap_next() % n);
}

/* Does this call fail?  Every wrapped call asks, exactly once. */
static int
wrap_fail(void)
{
	unsigned long n;
	int fail;

	if (!wrap_on)
		return 0;
	n = wrap_calls++;
	if (wrap_seed == 0)
		return 0;
	switch (wrap_seed >> 30) {
	case WRAP_MODE_ONE:
		fail = n == (wrap_seed & WRAP_CALL_MASK);
		break;
	case WRAP_MODE_FROM:
		fail = n >= (wrap_seed & WRAP_CALL_MASK);
		break;
	default:
		fail = wrap_next() % (UINT64_C(2) << (wrap_seed >> 24 & 7)) ==
		    0;
		break;
	}
	if (fail)
		wrap_fails++;
	return fail;
}

/* ---- the allocators */

__typeof__(malloc)	__real_malloc, __wrap_malloc;
__typeof__(calloc)	__real_calloc, __wrap_calloc;
__typeof__(realloc)	__real_realloc, __wrap_realloc;
__typeof__(strdup)	__real_strdup, __wrap_strdup;
__typeof__(strndup)	__real_strndup, __wrap_strndup;

void *
__wrap_malloc(size_t n)
{
	if (wrap_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	if (wrap_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(n, size);
}

/* A failed realloc leaves the old block alone. */
void *
__wrap_realloc(void *p, size_t n)
{
	if (wrap_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_realloc(p, n);
}

char *
__wrap_strdup(const char *s)
{
	if (wrap_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_strdup(s);
}

char *
__wrap_strndup(const char *s, size_t n)
{
	if (wrap_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_strndup(s, n);
}

/* Jansson's allocation hooks: through the wrapped malloc. */
static void *
wrap_json_malloc(size_t n)
{
	return __wrap_malloc(n);
}

static void
wrap_json_free(void *p)
{
	free(p);
}

void
wrap_start(uint32_t seed)
{
	json_set_alloc_funcs(wrap_json_malloc, wrap_json_free);
	wrap_seed = seed;
	wrap_rng = seed;
	wrap_calls = 0;
	wrap_fails = 0;
	wrap_on = 1;
}

void
wrap_stop(void)
{
	wrap_on = 0;
}

void
wrap_resume(void)
{
	wrap_on = 1;
}

unsigned long
wrap_injected(void)
{
	return wrap_fails;
}

/* ---- one-line wrappers: fail with a fixed value, else call through */

#define WRAP(type, name, fail, params, args)				\
	__typeof__(name) __real_##name, __wrap_##name;			\
	type								\
	__wrap_##name params						\
	{								\
		if (wrap_fail())					\
			return fail;					\
		return __real_##name args;				\
	}

/* OpenSSL: 0 / NULL is failure; for verify, < 0 is an error. */
WRAP(EVP_MD_CTX *, EVP_MD_CTX_new, NULL, (void), ())
WRAP(int, EVP_DigestInit_ex, 0,
    (EVP_MD_CTX *c, const EVP_MD *t, ENGINE *e), (c, t, e))
WRAP(int, EVP_DigestUpdate, 0,
    (EVP_MD_CTX *c, const void *d, size_t n), (c, d, n))
WRAP(int, EVP_DigestFinal_ex, 0,
    (EVP_MD_CTX *c, unsigned char *md, unsigned int *n), (c, md, n))
WRAP(int, EVP_Digest, 0,
    (const void *d, size_t n, unsigned char *md, unsigned int *mdn,
    const EVP_MD *t, ENGINE *e), (d, n, md, mdn, t, e))
WRAP(int, EVP_DigestSignInit_ex, 0,
    (EVP_MD_CTX *c, EVP_PKEY_CTX **pc, const char *md, OSSL_LIB_CTX *l,
    const char *pq, EVP_PKEY *k, const OSSL_PARAM p[]),
    (c, pc, md, l, pq, k, p))
WRAP(int, EVP_DigestSign, 0,
    (EVP_MD_CTX *c, unsigned char *sig, size_t *n, const unsigned char *tbs,
    size_t len), (c, sig, n, tbs, len))
WRAP(int, EVP_DigestVerifyInit_ex, 0,
    (EVP_MD_CTX *c, EVP_PKEY_CTX **pc, const char *md, OSSL_LIB_CTX *l,
    const char *pq, EVP_PKEY *k, const OSSL_PARAM p[]),
    (c, pc, md, l, pq, k, p))
WRAP(int, EVP_DigestVerify, -1,
    (EVP_MD_CTX *c, const unsigned char *sig, size_t n,
    const unsigned char *tbs, size_t len), (c, sig, n, tbs, len))
WRAP(EVP_PKEY *, EVP_PKEY_new_raw_public_key_ex, NULL,
    (OSSL_LIB_CTX *l, const char *type, const char *pq,
    const unsigned char *pub, size_t n), (l, type, pq, pub, n))
WRAP(EVP_PKEY_CTX *, EVP_PKEY_CTX_new_from_name, NULL,
    (OSSL_LIB_CTX *l, const char *name, const char *pq), (l, name, pq))
WRAP(int, EVP_PKEY_fromdata, 0,
    (EVP_PKEY_CTX *c, EVP_PKEY **k, int sel, OSSL_PARAM p[]),
    (c, k, sel, p))
WRAP(EVP_CIPHER_CTX *, EVP_CIPHER_CTX_new, NULL, (void), ())
WRAP(BIGNUM *, BN_new, NULL, (void), ())
WRAP(BIGNUM *, BN_bin2bn, NULL,
    (const unsigned char *s, int n, BIGNUM *bn), (s, n, bn))
WRAP(ECDSA_SIG *, ECDSA_SIG_new, NULL, (void), ())
/* On failure r and s stay the caller's: exactly the leak to look for. */
WRAP(int, ECDSA_SIG_set0, 0,
    (ECDSA_SIG *sig, BIGNUM *r, BIGNUM *s), (sig, r, s))
WRAP(ECDSA_SIG *, d2i_ECDSA_SIG, NULL,
    (ECDSA_SIG **sig, const unsigned char **p, long n), (sig, p, n))
WRAP(int, i2d_ECDSA_SIG, -1,
    (const ECDSA_SIG *sig, unsigned char **p), (sig, p))
WRAP(int, RAND_bytes, 0, (unsigned char *b, int n), (b, n))

/* libfido2 */
WRAP(fido_assert_t *, fido_assert_new, NULL, (void), ())
WRAP(int, fido_assert_set_authdata_raw, FIDO_ERR_INTERNAL,
    (fido_assert_t *a, size_t i, const unsigned char *p, size_t n),
    (a, i, p, n))
WRAP(int, fido_assert_set_sig, FIDO_ERR_INTERNAL,
    (fido_assert_t *a, size_t i, const unsigned char *p, size_t n),
    (a, i, p, n))
WRAP(int, fido_assert_verify, FIDO_ERR_INTERNAL,
    (const fido_assert_t *a, size_t i, int alg, const void *pk),
    (a, i, alg, pk))
WRAP(es256_pk_t *, es256_pk_new, NULL, (void), ())
WRAP(eddsa_pk_t *, eddsa_pk_new, NULL, (void), ())

/* ---- jansson: NULL, with the error text a real failure would leave */

__typeof__(json_loadb)	__real_json_loadb, __wrap_json_loadb;
__typeof__(json_loads)	__real_json_loads, __wrap_json_loads;
__typeof__(json_dumps)	__real_json_dumps, __wrap_json_dumps;

static void
wrap_json_error(json_error_t *err)
{
	if (err == NULL)
		return;
	memset(err, 0, sizeof(*err));
	err->line = -1;
	err->column = -1;
	snprintf(err->text, sizeof(err->text), "out of memory");
	snprintf(err->source, sizeof(err->source), "<wrap>");
	/* where jansson keeps the code json_error_code() reads */
	err->text[sizeof(err->text) - 1] = (char)json_error_out_of_memory;
}

json_t *
__wrap_json_loadb(const char *buf, size_t len, size_t flags,
    json_error_t *err)
{
	json_t *j;
	int on = wrap_on;

	if (wrap_fail()) {
		wrap_json_error(err);
		return NULL;
	}
	wrap_on = 0;	/* jansson issue #362: see the top of this file */
	j = __real_json_loadb(buf, len, flags, err);
	wrap_on = on;
	return j;
}

json_t *
__wrap_json_loads(const char *s, size_t flags, json_error_t *err)
{
	json_t *j;
	int on = wrap_on;

	if (wrap_fail()) {
		wrap_json_error(err);
		return NULL;
	}
	wrap_on = 0;
	j = __real_json_loads(s, flags, err);
	wrap_on = on;
	return j;
}

char *
__wrap_json_dumps(const json_t *j, size_t flags)
{
	if (wrap_fail())
		return NULL;
	return __real_json_dumps(j, flags);
}

/* ---- libcbor: NULL with a memory error in the result */

__typeof__(cbor_load)	__real_cbor_load, __wrap_cbor_load;

cbor_item_t *
__wrap_cbor_load(cbor_data src, size_t len, struct cbor_load_result *res)
{
	if (wrap_fail()) {
		memset(res, 0, sizeof(*res));
		res->error.code = CBOR_ERR_MEMERROR;
		return NULL;
	}
	return __real_cbor_load(src, len, res);
}

/* ---- sqlite: what a full disk, a busy database or exhaustion return */

__typeof__(sqlite3_open_v2)	__real_sqlite3_open_v2, __wrap_sqlite3_open_v2;
__typeof__(sqlite3_prepare_v2)	__real_sqlite3_prepare_v2,
				__wrap_sqlite3_prepare_v2;
__typeof__(sqlite3_prepare_v3)	__real_sqlite3_prepare_v3,
				__wrap_sqlite3_prepare_v3;
__typeof__(sqlite3_step)	__real_sqlite3_step, __wrap_sqlite3_step;
__typeof__(sqlite3_exec)	__real_sqlite3_exec, __wrap_sqlite3_exec;
__typeof__(sqlite3_bind_text)	__real_sqlite3_bind_text,
				__wrap_sqlite3_bind_text;
__typeof__(sqlite3_bind_blob)	__real_sqlite3_bind_blob,
				__wrap_sqlite3_bind_blob;
__typeof__(sqlite3_bind_int)	__real_sqlite3_bind_int,
				__wrap_sqlite3_bind_int;
__typeof__(sqlite3_bind_int64)	__real_sqlite3_bind_int64,
				__wrap_sqlite3_bind_int64;
__typeof__(sqlite3_bind_null)	__real_sqlite3_bind_null,
				__wrap_sqlite3_bind_null;

/* Only a failure to allocate the handle leaves *db NULL. */
int
__wrap_sqlite3_open_v2(const char *path, sqlite3 **db, int flags,
    const char *vfs)
{
	if (wrap_fail()) {
		*db = NULL;
		return SQLITE_NOMEM;
	}
	return __real_sqlite3_open_v2(path, db, flags, vfs);
}

static int
wrap_prepare_error(sqlite3_stmt **sp)
{
	static const int rc[] = { SQLITE_NOMEM, SQLITE_BUSY,
	    SQLITE_IOERR_READ };

	*sp = NULL;
	return rc[wrap_pick(sizeof(rc) / sizeof(rc[0]))];
}

int
__wrap_sqlite3_prepare_v2(sqlite3 *db, const char *sql, int n,
    sqlite3_stmt **sp, const char **tail)
{
	if (wrap_fail())
		return wrap_prepare_error(sp);
	return __real_sqlite3_prepare_v2(db, sql, n, sp, tail);
}

int
__wrap_sqlite3_prepare_v3(sqlite3 *db, const char *sql, int n,
    unsigned int flags, sqlite3_stmt **sp, const char **tail)
{
	if (wrap_fail())
		return wrap_prepare_error(sp);
	return __real_sqlite3_prepare_v3(db, sql, n, flags, sp, tail);
}

/* A write that fails: busy, an I/O error, a full disk, no memory. */
static int
wrap_write_error(void)
{
	static const int rc[] = { SQLITE_BUSY, SQLITE_IOERR_WRITE,
	    SQLITE_IOERR_FSYNC, SQLITE_FULL, SQLITE_NOMEM };

	return rc[wrap_pick(sizeof(rc) / sizeof(rc[0]))];
}

int
__wrap_sqlite3_step(sqlite3_stmt *s)
{
	if (wrap_fail())
		return wrap_write_error();
	return __real_sqlite3_step(s);
}

int
__wrap_sqlite3_exec(sqlite3 *db, const char *sql,
    int (*cb)(void *, int, char **, char **), void *arg, char **errmsg)
{
	if (wrap_fail()) {
		/* what sqlite leaves when it is out of memory */
		if (errmsg != NULL)
			*errmsg = NULL;
		return wrap_write_error();
	}
	return __real_sqlite3_exec(db, sql, cb, arg, errmsg);
}

/* A failed bind still runs the value's destructor, as sqlite does. */
static int
wrap_bind_destroy(void *p, void (*del)(void *))
{
	if (del != SQLITE_STATIC && del != SQLITE_TRANSIENT)
		del(p);
	return SQLITE_NOMEM;
}

int
__wrap_sqlite3_bind_text(sqlite3_stmt *s, int i, const char *v, int n,
    void (*del)(void *))
{
	if (wrap_fail())
		return wrap_bind_destroy((void *)(uintptr_t)v, del);
	return __real_sqlite3_bind_text(s, i, v, n, del);
}

int
__wrap_sqlite3_bind_blob(sqlite3_stmt *s, int i, const void *v, int n,
    void (*del)(void *))
{
	if (wrap_fail())
		return wrap_bind_destroy((void *)(uintptr_t)v, del);
	return __real_sqlite3_bind_blob(s, i, v, n, del);
}

int
__wrap_sqlite3_bind_int(sqlite3_stmt *s, int i, int v)
{
	if (wrap_fail())
		return SQLITE_NOMEM;
	return __real_sqlite3_bind_int(s, i, v);
}

int
__wrap_sqlite3_bind_int64(sqlite3_stmt *s, int i, sqlite3_int64 v)
{
	if (wrap_fail())
		return SQLITE_NOMEM;
	return __real_sqlite3_bind_int64(s, i, v);
}

int
__wrap_sqlite3_bind_null(sqlite3_stmt *s, int i)
{
	if (wrap_fail())
		return SQLITE_NOMEM;
	return __real_sqlite3_bind_null(s, i);
}
