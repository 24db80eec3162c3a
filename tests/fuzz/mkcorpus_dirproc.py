#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Seeds for fuzz_dirproc: the directory process's answers as the wire
# carries them (daemon/proto.h: DIR_ANSWER), each seed a failure-injection
# seed of 0 then one or more messages numbered from 1.
#
#	python3 tests/fuzz/mkcorpus_dirproc.py tests/fuzz/corpus/fuzz_dirproc
import os
import struct
import sys

ANSWER = 50
FOUND, NOT_FOUND, AMBIGUOUS, UNAVAILABLE = range(4)


def s(v):
    b = v.encode()
    return struct.pack(">I", len(b)) + b


def values(vs):
    return struct.pack(">I", len(vs)) + b"".join(s(v) for v in vs)


def found(name, dn, groups=(), manager="", mobile=(), phone=(), mail=(),
          alt=(), types=(), trunc=0, disabled=0, locked=0, ndirect=None,
          edges=()):
    nd = len(groups) if ndirect is None else ndirect
    links = struct.pack(">II", nd, len(edges)) + b"".join(
        struct.pack(">II", m, g) for m, g in edges)
    return (bytes([FOUND]) + s("") + s(name) + s(dn) + bytes([trunc]) +
            values(groups) + links + s(manager) + values(mobile) +
            values(phone) +
            values(mail) + values(alt) + values(types) +
            bytes([disabled, locked]))


def other(outcome, detail):
    return bytes([outcome]) + s(detail)


def wire(payloads, seed=b"\0\0\0\0"):
    out = seed
    for i, p in enumerate(payloads, 1):
        out += struct.pack(">BII", ANSWER, i, len(p)) + p
    return out


S = "dc=corp,dc=example"
seeds = {
    "alice_found": [found("alice", "uid=alice,ou=people," + S,
                          ["cn=Domain Admins,ou=groups," + S],
                          "uid=carol,ou=people," + S, ["+44 7700 900123"],
                          [], ["alice@corp.example"], [], ["person"])],
    # tina in tier0, which is in Domain Admins
    "nested_groups": [found("tina", "uid=tina,ou=people," + S,
                            ["cn=tier0,ou=groups," + S,
                             "cn=Domain Admins,ou=groups," + S],
                            ndirect=1, edges=[(0, 1)])],
    "link_out_of_range": [found("tina", "uid=tina," + S, ["cn=g," + S],
                                edges=[(0, 1)])],
    "dave_disabled": [found("dave", "uid=dave,ou=people," + S,
                            disabled=1, locked=1)],
    "truncated_groups": [found("bob", "uid=bob," + S,
                               ["cn=g%d,%s" % (i, S) for i in range(8)],
                               trunc=1)],
    "not_found_then_found": [other(NOT_FOUND, "no entry matches"),
                             found("carol", "uid=carol," + S)],
    "ambiguous": [other(AMBIGUOUS, "more than one entry matches")],
    "unavailable": [other(UNAVAILABLE, "search failed: Can't contact "
                          "LDAP server")],
    "name_with_space": [found("root ", "uid=root," + S)],
    "bad_flag": [found("eve", "uid=eve," + S, disabled=2)],
    "unicode_name": [found("jos\u00e9", "uid=jos\u00e9," + S)],
}

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
for name, payloads in seeds.items():
    with open(os.path.join(d, name), "wb") as f:
        f.write(wire(payloads))
# the first allocation fails (wrap.h: bits 31,30 = 10, call 0)
with open(os.path.join(d, "alice_found_failing_0"), "wb") as f:
    f.write(wire(seeds["alice_found"], b"\x80\0\0\0"))
