#!/bin/sh
# SPDX-License-Identifier: ISC
# An officer who touches the key late, but within the daemon's touch window
# (its default 60 s), is approved: the console waits for the daemon's
# answer as long as the window it counts down, not its 30 s for calls
# without a touch.  Takes a little over 31 s: the touch comes after 31.
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" ||
    { notok daemon_starts; exit 1; }
key_start ann --up-timeout 50000
enroll officer-ann security_officer ann
ID=$(admin_reset alice)
key_ctl ann button delay:31000
approve "$ID" ann
check touch_after_31_s_within_a_60_s_window_is_approved \
    sh -c "[ $? -eq 0 ] && grep -q '^approved by officer-ann' $T/approve.out &&
    grep -q 'touch your security key (within 60 s)' $T/approve.err"
