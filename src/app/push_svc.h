/* push_svc.h - the Web Push sender (push_svc.c): the queue of pushes due
 * (each one a row of the store's push queue, owned by this instance),
 * RFC 8291 encryption and VAPID signing (src/push), sending through the
 * outbound client (src/outbound) with retries, back-off and a rate limit
 * per subscription; its counters are app->metrics.push_* (GET /metrics).
 * docs/protocol.md "Push notifications" has the payloads. */
#ifndef DUET_PUSH_SVC_H
#define DUET_PUSH_SVC_H

#include <stddef.h>

#include "../push/push.h"
#include "../store/store.h"

struct app;
struct push_svc;

/* Creates the sender: the outbound client (public addresses only unless
 * the test flag is set), then reads this instance's jobs left by an
 * earlier run and sends them. Takes ownership of vapid (also on failure).
 * 0 or a negative errno. */
int push_svc_new(struct app *app, push_vapid *vapid, struct push_svc **out);
/* Jobs just stored (STORE_PUSH_ENQUEUE or JOBS_LIST): queue and send. */
void push_svc_add(struct push_svc *p, const struct duet_push_job *jobs, size_t n);
/* Queued message pushes of (chat, seq) lose their text (delete for
 * everyone); one in flight goes as it is. */
void push_svc_erase(struct push_svc *p, const duet_id *chat, int64_t seq);
/* The VAPID public key, base64url. */
const char *push_svc_key(const struct push_svc *p);
/* Cancels what is in flight (those jobs stay in the store for the next
 * start) and frees everything once the handles are closed. */
void push_svc_close(struct push_svc *p);

#endif
