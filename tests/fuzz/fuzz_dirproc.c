/* SPDX-License-Identifier: ISC */
/*
 * The monitor reading what a compromised directory process sends: the
 * directory channel's table (proto_directory) and the answer's decoder
 * (dirproc_parse_answer), which must hand on only bounded facts of
 * printable UTF-8 and a canonical name that is its own normalisation.
 *
 * Input: a failure-injection seed (wrap.h, WRAP_SEED_LEN bytes, 0 for
 * none), then messages as they cross the socket from the child, each
 * MSG_HDR_LEN bytes of header and as many bytes as it says (the last
 * one may be cut short).  Before each, the monitor's end stands where a
 * lookup has just been sent.  Seeds: mkcorpus_dirproc.py, from the
 * answer format of daemon/proto.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "common/msg.h"
#include "daemon/dirproc.h"
#include "daemon/proto.h"
#include "goal.h"
#include "wrap.h"

#define MAX_MESSAGES	16

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static unsigned long	found;

int
fuzz_goal(size_t i, const char **name, unsigned long *hits)
{
	if (i > 0)
		return -1;
	*name = "monitor_takes_a_found_answer";
	*hits = found;
	return 0;
}

static void
fuzz_assert(int ok)
{
	if (!ok)
		abort();
}

/* What the decoder promises of what it hands on. */
static void
check_facts(const struct dir_facts *f)
{
	char again[DIR_NAME_MAX + 1];
	enum dir_name_fault nf;
	size_t i;

	fuzz_assert(dir_name_normalize(NULL, f->name, again, sizeof(again),
	    &nf) == 0 && strcmp(again, f->name) == 0);
	fuzz_assert(f->dn[0] != '\0' && dir_value_ok(f->dn, DIR_DN_MAX));
	fuzz_assert(f->ngroups <= DIR_MAX_GROUPS);
	for (i = 0; i < f->ngroups; i++)
		fuzz_assert(dir_value_ok(f->groups[i], DIR_DN_MAX));
	fuzz_assert(f->nmobile <= DIR_MAX_CONTACTS &&
	    f->nphone <= DIR_MAX_CONTACTS && f->nmail <= DIR_MAX_CONTACTS &&
	    f->nalt_mail <= DIR_MAX_CONTACTS && f->ntypes <= DIR_MAX_TYPES);
	for (i = 0; i < f->nmail; i++)
		fuzz_assert(dir_value_ok(f->mail[i], DIR_VALUE_MAX));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dir_facts f;
	struct msg_chan ch;
	struct msg m = { 0 };
	enum dir_outcome o;
	char detail[PROTO_DIR_DETAIL_MAX + 1];
	uint32_t seed, len;
	uint8_t type;
	size_t n, k;
	int r;

	if (wrap_take_seed(&data, &size, &seed) != 0)
		return 0;
	msg_chan_init(&ch, -1, &proto_directory, MSG_MONITOR);
	wrap_start(seed);
	for (k = 0; k < MAX_MESSAGES && size >= MSG_HDR_LEN; k++) {
		len = (uint32_t)data[5] << 24 | (uint32_t)data[6] << 16 |
		    (uint32_t)data[7] << 8 | data[8];
		n = len > size - MSG_HDR_LEN ? size : MSG_HDR_LEN + len;
		/* the monitor has sent its setup and a lookup */
		ch.state = PROTO_DIR_LOOKING;
		ch.sent = (uint32_t)(2 * k + 2);
		r = msg_chan_parse(&ch, data, n, &type, &m);
		data += n;
		size -= n;
		if (r != 0) {
			fuzz_assert(r == TG_ERR_PROTOCOL || r == TG_ERR_NOMEM);
			break;
		}
		fuzz_assert(type == PROTO_DIR_ANSWER);
		r = dirproc_parse_answer(&ch, &m, &o, &f, detail,
		    sizeof(detail));
		if (r != 0) {
			fuzz_assert(r == TG_ERR_PROTOCOL && ch.dead);
			break;
		}
		fuzz_assert(o < DIR_OUTCOME_COUNT);
		fuzz_assert(dir_value_ok(detail, PROTO_DIR_DETAIL_MAX));
		if (o == DIR_FOUND) {
			/* the checks allocate: they must not fail for that */
			wrap_stop();
			check_facts(&f);
			wrap_resume();
			found++;
		}
	}
	wrap_stop();
	msg_free(&m);
	return 0;
}
