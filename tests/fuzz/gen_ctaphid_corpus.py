#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Write the seed corpus of tests/fuzz/fuzz_ctaphid.c.

Each input is a list of 65-byte chunks: a steering byte (bits 0-5: clock
advance in 100 ms steps, bit 6: ctaphid_tick, bit 7: deliver while a command
runs) and one 64-byte HID report.  softfido hands out channel ids from 1 up,
so the first INIT on the broadcast channel yields channel 1.

    python3 tests/fuzz/gen_ctaphid_corpus.py tests/fuzz/corpus/fuzz_ctaphid
"""
import os
import struct
import sys

BCAST = 0xFFFFFFFF
PING, MSG, LOCK, INIT, WINK, CBOR, CANCEL = 0x81, 0x83, 0x84, 0x86, 0x88, \
    0x90, 0x91
NONCE = bytes(range(1, 9))
TICK, BUSY = 0x40, 0x80


def report(cid, body):
    r = struct.pack(">I", cid) + body
    assert len(r) <= 64
    return r.ljust(64, b"\0")


def chunk(rep, steer=0):
    return bytes([steer]) + rep


def init_frame(cid, cmd, length, data=b"", steer=0):
    return chunk(report(cid, struct.pack(">BH", cmd, length) + data[:57]),
                 steer)


def cont_frame(cid, seq, data, steer=0):
    return chunk(report(cid, bytes([seq]) + data[:59]), steer)


def message(cid, cmd, data):
    """A whole message, fragmented the way a host does."""
    out = [init_frame(cid, cmd, len(data), data)]
    off, seq = 57, 0
    while off < len(data):
        out.append(cont_frame(cid, seq, data[off:off + 59]))
        off += 59
        seq += 1
    return out


def alloc():
    return [init_frame(BCAST, INIT, 8, NONCE)]


def payload(n):
    return bytes((i * 7) & 0xFF for i in range(n))


SEEDS = {
    "init_broadcast": alloc(),
    "init_wrong_length": [init_frame(BCAST, INIT, 9, NONCE + b"x")],
    "init_then_resync": alloc() + [init_frame(1, PING, 100, payload(100)),
                                   init_frame(1, INIT, 8, NONCE)],
    "ping_one_frame": alloc() + message(1, PING, payload(20)),
    "ping_multi_frame": alloc() + message(1, PING, payload(300)),
    "ping_largest": alloc() + message(1, PING, payload(57 + 128 * 59)),
    "wink": alloc() + message(1, WINK, b""),
    "cbor_get_info": alloc() + message(1, CBOR, b"\x04"),
    "cbor_get_info_twice_two_channels": alloc() + alloc()
    + message(1, CBOR, b"\x04") + message(2, CBOR, b"\x04"),
    "cbor_client_pin_retries": alloc()
    + message(1, CBOR, bytes.fromhex("06a201020201")),
    "cbor_make_credential_empty_map": alloc()
    + message(1, CBOR, b"\x01\xa0"),
    "cbor_length_zero_and_over_max": alloc()
    + [init_frame(1, CBOR, 0), init_frame(1, CBOR, 1201, b"\x04")],
    "ping_length_over_max": alloc() + [init_frame(1, PING, 0xFFFF)],
    "wrong_seq": alloc() + [init_frame(1, PING, 200, payload(200)),
                            cont_frame(1, 0, payload(59)),
                            cont_frame(1, 2, payload(59))],
    "timeout": alloc() + [init_frame(1, PING, 100, payload(100)),
                          cont_frame(1, 0, payload(43), steer=TICK | 31)],
    "busy_other_channel": alloc() + alloc()
    + [init_frame(1, PING, 100, payload(100)),
       init_frame(2, PING, 4, b"abcd"), cont_frame(2, 0, b"x"),
       cont_frame(1, 0, payload(43))],
    "invalid_channels": alloc() + [init_frame(0, PING, 1, b"x"),
                                   init_frame(BCAST, PING, 1, b"x"),
                                   init_frame(0x12345678, PING, 1, b"x"),
                                   init_frame(0, INIT, 8, NONCE)],
    "cont_without_init": alloc() + [cont_frame(1, 0, payload(59)),
                                    cont_frame(BCAST, 3, payload(59))],
    "msg_lock_unknown": alloc() + [init_frame(1, MSG, 10, payload(10)),
                                   init_frame(1, LOCK, 1, b"\x05"),
                                   init_frame(1, 0xA5, 3, b"abc"),
                                   init_frame(1, CANCEL, 0)],
    "busy_cancel": alloc() + [init_frame(1, CANCEL, 0, steer=BUSY)],
    "busy_init_and_other_channel": alloc() + alloc()
    + [init_frame(BCAST, INIT, 8, NONCE, steer=BUSY),
       init_frame(1, PING, 1, b"x", steer=BUSY),
       init_frame(2, INIT, 8, NONCE, steer=BUSY)],
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    for name, chunks in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(b"".join(chunks))


if __name__ == "__main__":
    main()
