/* login_limit.h - the login throttle of one attempt: with --redis the
 * cluster's counters (hub_throttle_take), so that N instances allow 5
 * attempts per username, not N x 5; alone, or while Redis cannot answer,
 * this instance's (auth.c). */
#ifndef DUET_LOGIN_LIMIT_H
#define DUET_LOGIN_LIMIT_H

#include "api_int.h"

/* Counts one attempt for call->name and call->addr. go(call) runs when it
 * is allowed (maybe before this returns); else the call is answered 429
 * rate_limited. */
void login_limit_begin(struct api_call *call, void (*go)(struct api_call *call));
/* The password was right: user's counts go, the address's attempt is
 * refunded, here and in the cluster. */
void login_limit_ok(struct api_call *call, const char *user);

#endif
