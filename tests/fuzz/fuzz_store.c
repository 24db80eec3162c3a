/* SPDX-License-Identifier: ISC */
/*
 * The state database under failure injection.  Each input opens a fresh
 * database and runs a sequence of writes and reads the way the daemon does
 * (begin, change, audit entry, commit; roll back on any error) while
 * allocations, sqlite, OpenSSL and jansson calls fail on the input's
 * schedule.  The harness keeps a model of what was committed: what the
 * store reported as done.  Afterwards, with injection off, the database is
 * opened again and must match the model exactly:
 *
 *	- the audit chain verifies and has exactly the committed entries, and
 *	  the sink was handed exactly those, in order (never a rolled-back one)
 *	- every committed request is there with its state, evidence and
 *	  decisions, each with its own audit entry, and nothing else is (no
 *	  request, evidence or decision without its audit entry)
 *	- a store_open that failed part way leaves a database that opens
 *
 * An injected failure never explains a wrong answer: a read that succeeds
 * must agree with the model, and a write that fails must change nothing.
 * A broken invariant is an abort().
 *
 * Input: a failure-injection seed (wrap.h: WRAP_SEED_LEN bytes, 0 for
 * none), then two bytes per operation: the operation and its argument.
 * The database lives in a private directory, on /dev/shm when there is
 * one (synchronous=FULL costs an fsync per commit elsewhere).
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/errors.h"
#include "store/audit.h"
#include "store/store.h"
#include "store/store_int.h"
#include "wrap.h"

#define FUZZ_MAX_OPS	48
#define FUZZ_MAX_REQ	32	/* request ids: 5 bits of an argument */
#define FUZZ_NOW	INT64_C(1700000000)
#define DIGEST_A							\
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIGEST_B							\
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

enum fuzz_op {
	OP_SUBMIT,		/* request + audit, one transaction */
	OP_EVIDENCE,		/* evidence + audit */
	OP_DECISION,		/* decision + audit */
	OP_STATE,		/* state change + audit */
	OP_HOLD,		/* hold + audit */
	OP_BOTH,		/* evidence, decision, two entries, one txn */
	OP_ABANDON,		/* request + audit, then rolled back */
	OP_READ,		/* reads, checked against the model */
	OP_COUNT
};

static const char *const states[] = { "pending_evidence", "pending_approval",
    "approved", "denied" };

struct fuzz_req {
	char		id[STORE_ID_LEN + 1];
	const char	*state;
	int64_t		nevidence;
	int64_t		ndecisions;
	int64_t		naudit;		/* entries naming this request */
	int		outsourced;	/* of the team outsourced */
};

struct fuzz_model {
	struct fuzz_req	req[FUZZ_MAX_REQ];
	size_t		nreq;
	int		idem[2];	/* idempotency key taken */
	int64_t		naudit;
	int64_t		nsunk;		/* entries the sink was handed */
};

static char		 dir[256];
static char		 dbfiles[4][300];
static struct fuzz_model m;

static void
fuzz_assert(int ok)
{
	if (!ok)
		abort();
}

static void	fuzz_cleanup(void);

/* One private directory for the whole run; each input empties it. */
static void
fuzz_init(void)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	struct stat sb;
	const char *base = getenv("TMPDIR");
	size_t i;

	if (stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    access("/dev/shm", W_OK) == 0)
		base = "/dev/shm";
	else if (base == NULL || base[0] == '\0')
		base = "/tmp";
	snprintf(dir, sizeof(dir), "%s/tapgate-fuzz-store.XXXXXX", base);
	fuzz_assert(mkdtemp(dir) != NULL);
	for (i = 0; i < 4; i++)
		snprintf(dbfiles[i], sizeof(dbfiles[i]), "%s/%s%s", dir,
		    STORE_DB_NAME, suffix[i]);
	fuzz_assert(atexit(fuzz_cleanup) == 0);
}

static void
fuzz_wipe(void)
{
	size_t i;

	for (i = 0; i < 4; i++)
		(void)unlink(dbfiles[i]);
}

static void
fuzz_cleanup(void)
{
	fuzz_wipe();
	(void)rmdir(dir);
}

/* The sink sees committed entries only, in order, each once. */
static void
fuzz_sink(const struct audit_entry *e, void *arg)
{
	(void)arg;
	fuzz_assert(e->seq == m.nsunk + 1);
	m.nsunk++;
}

/*
 * After a failed write, what the daemon does: roll back.  When the
 * rollback itself was made to fail and left the transaction open, a clean
 * one follows (the daemon's next store_begin fails and rolls back too), so
 * the reads see only what was committed.
 */
static void
fuzz_rollback(struct store *st)
{
	(void)store_rollback(st);
	if (store_in_txn(st)) {
		wrap_stop();
		fuzz_assert(store_rollback(st) == 0 && !store_in_txn(st));
		wrap_resume();
	}
}

/* A failed write leaves no transaction and nothing new behind. */
static void
fuzz_failed(struct store *st, int r)
{
	fuzz_assert(r < 0);
	/*
	 * Our calls are well formed and agree with the model: an injected
	 * failure must not read as a refusal of them.
	 */
	fuzz_assert(r != TG_ERR_CONFLICT && r != TG_ERR_TXN &&
	    r != TG_ERR_INVALID && r != TG_ERR_EXISTS &&
	    r != TG_ERR_NOT_FOUND && r != TG_ERR_IMMUTABLE);
	fuzz_rollback(st);
}

static int
fuzz_audit(struct store *st, const char *event, const char *id,
    const char *details)
{
	struct audit_entry e;

	memset(&e, 0, sizeof(e));
	e.time = FUZZ_NOW;
	e.actor_uid = 1000;
	e.actor_role = "intake";
	e.actor_name = "hd-bob";
	e.event = event;
	e.request_id = id;
	e.details = details;
	return audit_append(st, &e, NULL);
}

static void
fuzz_id(uint8_t a, char id[STORE_ID_LEN + 1])
{
	snprintf(id, STORE_ID_LEN + 1, "%030x%02x", 0, a & 0x1f);
}

static struct fuzz_req *
fuzz_find(const char *id)
{
	size_t i;

	for (i = 0; i < m.nreq; i++)
		if (strcmp(m.req[i].id, id) == 0)
			return &m.req[i];
	return NULL;
}

/* A committed request (mostly) or an id that was never committed. */
static const char *
fuzz_target(uint8_t a, char buf[STORE_ID_LEN + 1])
{
	if (m.nreq == 0 || (a & 0x80)) {
		fuzz_id(a, buf);
		return buf;
	}
	return m.req[a % m.nreq].id;
}

static int
fuzz_insert(struct store *st, uint8_t a, const char *id)
{
	struct store_request r;

	memset(&r, 0, sizeof(r));
	r.id = id;
	r.queue = "password_reset";
	r.target_account = "alice";
	r.target_system = "ldap-corp";
	r.claimed_class = (a & 0x20) ? "standard" : NULL;
	r.effective_class = "admin";
	r.requester_agent = "hd-bob";
	r.requester_channel = "phone";
	r.requester_uid = 1000;
	r.requester_principal = "hd-bob";
	r.requester_team = (a & 0x80) ? "outsourced" : "helpdesk";
	r.request_json = "{\"queue\":\"password_reset\"}";
	r.state = states[0];
	r.policy_id = "default";
	r.policy_version = 3;
	/* a few keys: a repeat is refused as a duplicate */
	if (a & 0x40) {
		r.idem_key = (a & 0x20) ? "key-a" : "key-b";
		r.idem_digest = DIGEST_A;
	}
	r.created = FUZZ_NOW;
	return store_request_insert(st, &r);
}

static void
op_submit(struct store *st, uint8_t a, int abandon)
{
	char id[STORE_ID_LEN + 1];
	struct fuzz_req *q;
	int r, key = (a & 0x20) != 0, idem = (a & 0x40) != 0;

	fuzz_id(a, id);
	if ((r = store_begin(st)) != 0 ||
	    (r = fuzz_insert(st, a, id)) != 0 ||
	    (r = fuzz_audit(st, "request.submitted", id,
	    "{\"via\":\"fuzz\"}")) != 0) {
		if (r == TG_ERR_EXISTS) {
			/* a real refusal: the id or the key was taken */
			fuzz_assert(fuzz_find(id) != NULL ||
			    (idem && m.idem[key]));
			fuzz_rollback(st);
		} else
			fuzz_failed(st, r);
		return;
	}
	if (abandon) {
		fuzz_assert(store_rollback(st) == 0 || wrap_injected() > 0);
		fuzz_rollback(st);
		return;
	}
	if ((r = store_commit(st)) != 0) {
		fuzz_failed(st, r);
		return;
	}
	fuzz_assert(fuzz_find(id) == NULL && !(idem && m.idem[key]));
	fuzz_assert(m.nreq < FUZZ_MAX_REQ);
	if (idem)
		m.idem[key] = 1;
	q = &m.req[m.nreq++];
	memset(q, 0, sizeof(*q));
	memcpy(q->id, id, sizeof(q->id));
	q->state = states[0];
	q->naudit = 1;
	q->outsourced = (a & 0x80) != 0;
	m.naudit++;
}

static int
fuzz_evidence(struct store *st, const char *id, uint8_t a)
{
	struct store_evidence ev;

	memset(&ev, 0, sizeof(ev));
	ev.request_id = id;
	ev.type = "callback";
	ev.result = (a & 1) ? "passed" : "failed";
	ev.verifier = "hd-bob";
	ev.channel = "phone";
	ev.ref = (a & 2) ? "INC-7" : NULL;
	ev.json = "{\"type\":\"callback\"}";
	ev.digest = DIGEST_B;
	ev.added_uid = 1000;
	ev.created = FUZZ_NOW;
	return store_evidence_add(st, &ev, NULL);
}

static int
fuzz_decision(struct store *st, const char *id, uint8_t a)
{
	struct store_decision d;

	memset(&d, 0, sizeof(d));
	d.request_id = id;
	d.kind = (a & 1) ? "veto" : "deny";
	d.actor_uid = 1001;
	d.actor_role = "officer";
	d.actor_name = "so-ann";
	d.reason = "fuzz";
	d.created = FUZZ_NOW;
	return store_decision_add(st, &d, NULL);
}

/* Evidence, a decision, or both, each with its audit entry. */
static void
op_annex(struct store *st, uint8_t a, int evidence, int decision)
{
	char buf[STORE_ID_LEN + 1];
	const char *id = fuzz_target(a, buf);
	struct fuzz_req *q = fuzz_find(id);
	int r;

	if ((r = store_begin(st)) != 0 ||
	    (evidence && ((r = fuzz_evidence(st, id, a)) != 0 ||
	    (r = fuzz_audit(st, "evidence.added", id, NULL)) != 0)) ||
	    (decision && ((r = fuzz_decision(st, id, a)) != 0 ||
	    (r = fuzz_audit(st, "decision.recorded", id, NULL)) != 0)) ||
	    (r = store_commit(st)) != 0) {
		if (r == TG_ERR_NOT_FOUND && q == NULL)
			fuzz_rollback(st);	/* no such request: right */
		else
			fuzz_failed(st, r);
		return;
	}
	fuzz_assert(q != NULL);
	q->nevidence += evidence;
	q->ndecisions += decision;
	q->naudit += evidence + decision;
	m.naudit += evidence + decision;
}

static void
op_state(struct store *st, uint8_t a, int hold)
{
	char buf[STORE_ID_LEN + 1];
	const char *id = fuzz_target(a, buf), *next;
	struct fuzz_req *q = fuzz_find(id);
	int r;

	next = states[(a >> 2) % 4];
	if ((r = store_begin(st)) != 0)
		goto fail;
	if (hold)
		r = store_request_set_hold(st, id, (a & 1) ? FUZZ_NOW : 0,
		    (a & 1) ? FUZZ_NOW + a : 0, FUZZ_NOW);
	else
		r = store_request_set_state(st, id, q != NULL ? q->state :
		    states[0], next, (a & 1) ? "{\"missing\":[]}" : NULL,
		    FUZZ_NOW);
	if (r != 0 || (r = fuzz_audit(st, hold ? "request.hold" :
	    "request.state", id, NULL)) != 0 ||
	    (r = store_commit(st)) != 0)
		goto fail;
	fuzz_assert(q != NULL);
	if (!hold)
		q->state = next;
	q->naudit++;
	m.naudit++;
	return;
fail:
	if (r == TG_ERR_NOT_FOUND && q == NULL)
		fuzz_rollback(st);
	else
		fuzz_failed(st, r);
}

static int
count_cb(const void *rec, void *arg)
{
	(void)rec;
	(*(int64_t *)arg)++;
	return 0;
}

static int
count_request(const struct store_request *r, void *arg)
{
	return count_cb(r, arg);
}

static int
count_evidence(const struct store_evidence *e, void *arg)
{
	return count_cb(e, arg);
}

static int
count_decision(const struct store_decision *d, void *arg)
{
	return count_cb(d, arg);
}

struct fuzz_events {
	int64_t	submitted, evidence, decision, other;
};

static int
count_events(const struct audit_entry *e, void *arg)
{
	struct fuzz_events *ev = arg;

	if (strcmp(e->event, "request.submitted") == 0)
		ev->submitted++;
	else if (strcmp(e->event, "evidence.added") == 0)
		ev->evidence++;
	else if (strcmp(e->event, "decision.recorded") == 0)
		ev->decision++;
	else
		ev->other++;
	return 0;
}

/*
 * One request against the model.  `strict` (no injection): every read
 * must work; otherwise a read may fail, but what it returns is right.
 */
static void
check_request(struct store *st, const struct fuzz_req *q, int strict)
{
	struct store_request *r = NULL;
	struct fuzz_events ev;
	int64_t n;
	int rc;

	if ((rc = store_request_get(st, q->id, &r)) == 0) {
		fuzz_assert(r != NULL && strcmp(r->id, q->id) == 0 &&
		    strcmp(r->state, q->state) == 0);
		store_request_free(&r);
	} else
		fuzz_assert(!strict && rc != TG_ERR_NOT_FOUND && r == NULL);
	n = 0;
	if ((rc = store_evidence_list(st, q->id, count_evidence, &n)) == 0)
		fuzz_assert(n == q->nevidence);
	else
		fuzz_assert(!strict);
	n = 0;
	if ((rc = store_decision_list(st, q->id, count_decision, &n)) == 0)
		fuzz_assert(n == q->ndecisions);
	else
		fuzz_assert(!strict);
	/* each row has its entry, and no entry is without its row */
	memset(&ev, 0, sizeof(ev));
	if ((rc = audit_request(st, q->id, count_events, &ev)) == 0)
		fuzz_assert(ev.submitted == 1 && ev.evidence == q->nevidence &&
		    ev.decision == q->ndecisions && ev.submitted +
		    ev.evidence + ev.decision + ev.other == q->naudit);
	else
		fuzz_assert(!strict);
}

/* A team's view holds its requests, and no other. */
static void
check_team(struct store *st, int strict)
{
	int64_t n = 0, want = 0;
	size_t i;
	int r;

	for (i = 0; i < m.nreq; i++)
		want += m.req[i].outsourced;
	if ((r = store_request_list_team(st, "outsourced", NULL, NULL,
	    STORE_LIST_MAX, count_request, &n)) == 0)
		fuzz_assert(n == want);
	else
		fuzz_assert(!strict && r < 0);
	n = 0;
	/* every fuzzed id starts with "0" */
	if ((r = store_request_list_prefix_team(st, "0", "outsourced",
	    STORE_LIST_MAX, count_request, &n)) == 0)
		fuzz_assert(n == want);
	else
		fuzz_assert(!strict && r < 0);
}

/* The whole database against the model. */
static void
check_store(struct store *st, int strict)
{
	struct audit_report rep;
	int64_t n = 0;
	size_t i;
	int r;

	if ((r = audit_verify(st, &rep)) == 0)
		fuzz_assert(rep.ok && rep.count == m.naudit);
	else
		fuzz_assert(!strict && r < 0);
	if ((r = store_request_list(st, NULL, NULL, STORE_LIST_MAX,
	    count_request, &n)) == 0)
		fuzz_assert(n == (int64_t)m.nreq);
	else
		fuzz_assert(!strict && r < 0);
	for (i = 0; i < m.nreq; i++)
		check_request(st, &m.req[i], strict);
	check_team(st, strict);
}

static void
op_read(struct store *st, uint8_t a)
{
	char buf[STORE_ID_LEN + 1];
	struct store_request *r = NULL;
	int rc;

	if (a & 1) {
		check_store(st, 0);
		return;
	}
	/* an id never committed is not found, or the read failed */
	fuzz_id(a | 0x80, buf);
	if (fuzz_find(buf) == NULL) {
		rc = store_request_get(st, buf, &r);
		fuzz_assert(rc != 0 && r == NULL);
	}
	if (m.nreq > 0)
		check_request(st, &m.req[a % m.nreq], 0);
}

/*
 * Open under injection: a failure leaves nothing open, and what it left
 * on disk opens cleanly (each migration step is one transaction).
 */
static struct store *
fuzz_open(void)
{
	struct store *st = NULL;
	int r, v;

	r = store_open(dir, &st);
	if (r != 0) {
		fuzz_assert(r < 0 && st == NULL);
		wrap_stop();
		fuzz_assert(store_open(dir, &st) == 0);
		wrap_resume();
	}
	wrap_stop();
	fuzz_assert(store_schema_version(st, &v) == 0 &&
	    v == store_schema_latest());
	fuzz_assert(audit_set_journal(st, 0) == 0 &&
	    audit_set_sink(st, fuzz_sink, NULL) == 0);
	wrap_resume();
	return st;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct store *st;
	uint32_t seed;
	size_t n;

	if (!ready) {
		fuzz_init();
		ready = 1;
	}
	if (wrap_take_seed(&data, &size, &seed) != 0)
		return 0;
	fuzz_wipe();
	memset(&m, 0, sizeof(m));
	wrap_start(seed);
	st = fuzz_open();
	for (n = 0; n + 1 < size && n / 2 < FUZZ_MAX_OPS; n += 2) {
		uint8_t a = data[n + 1];

		switch (data[n] % OP_COUNT) {
		case OP_SUBMIT:
			op_submit(st, a, 0);
			break;
		case OP_ABANDON:
			op_submit(st, a, 1);
			break;
		case OP_EVIDENCE:
			op_annex(st, a, 1, 0);
			break;
		case OP_DECISION:
			op_annex(st, a, 0, 1);
			break;
		case OP_BOTH:
			op_annex(st, a, 1, 1);
			break;
		case OP_STATE:
			op_state(st, a, 0);
			break;
		case OP_HOLD:
			op_state(st, a, 1);
			break;
		default:
			op_read(st, a);
			break;
		}
		fuzz_assert(!store_in_txn(st));
	}
	wrap_stop();
	fuzz_assert(m.nsunk == m.naudit);
	check_store(st, 1);
	/* and from disk, as the next start of the daemon sees it */
	store_close(&st);
	fuzz_assert(store_open(dir, &st) == 0);
	fuzz_assert(audit_set_journal(st, 0) == 0);
	check_store(st, 1);
	store_close(&st);
	return 0;
}
