/* api_push.h - the Web Push HTTP routes (api_push.c): the VAPID key, a
 * user's subscriptions, the preview setting (docs/protocol.md "Push"). */
#ifndef DUET_API_PUSH_H
#define DUET_API_PUSH_H

#include "api_int.h"

void api_push_key(struct api_call *call);
void api_push_subs_list(struct api_call *call);
void api_push_sub_add(struct api_call *call);
void api_push_sub_delete(struct api_call *call);
void api_push_settings_get(struct api_call *call);
void api_push_settings_patch(struct api_call *call);
/* Logout's first step: deletes the session's subscriptions, then runs
 * then. 0 when started, -1 when push is off (run then yourself). */
int api_push_logout(struct api_call *call, void (*then)(struct api_call *));
/* A password change's: every other session's subscriptions (those
 * sessions are ended). */
int api_push_logout_others(struct api_call *call, void (*then)(struct api_call *));

#endif
