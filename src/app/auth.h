/* auth.h - passwords, session tokens and login throttling.
 *
 * Argon2id (libsodium) is deliberately slow, so it never runs on the loop:
 * jobs go to libuv's thread pool, at most `concurrency` at once, with a
 * bounded queue behind them (beyond it: DUET_EBUSY). The queue is fair: each
 * job names its client address (key), the addresses waiting take turns, and
 * one address holds at most `share` jobs, waiting or running, so that one
 * client cannot make everyone else's logins wait.
 *
 * Throttling counts attempts when they start (auth_login_begin), so that
 * attempts still being hashed count against the limits; a successful login
 * clears its username's count and refunds its address's attempt.
 */
#ifndef DUET_AUTH_H
#define DUET_AUTH_H

#include <sodium.h>
#include <stdint.h>
#include <uv.h>

#include "../base/duet.h"
#include "../base/map.h"

#define AUTH_TOKEN_LEN 43 /* 32 bytes in unpadded base64url */

struct auth_job;
struct auth_lane;

/* The share of the hash queue one key may hold: hash-queue / DIV, at least
 * MIN (256 / 32 = 8 by default). */
#define AUTH_SHARE_DIV 32
#define AUTH_SHARE_MIN 4
/* status: 0 (hash made / password matches), DUET_ENOTFOUND (no match),
 * or an error. For a hash job, hash is the encoded Argon2id string. */
typedef void (*auth_cb)(void *data, int status, const char *hash);

/* Ownership: embedded in struct app. Owns queued jobs and the throttle maps. */
struct auth {
    uv_loop_t *loop;
    unsigned long long opslimit;
    size_t memlimit;
    int concurrency, running;
    size_t queued, max_queue;
    size_t share;                              /* jobs per key at most */
    map_t lanes;                               /* key -> struct auth_lane */
    struct auth_lane *ready_head, *ready_tail; /* lanes with waiting jobs, in turn */
    map_t by_user;                             /* username -> struct throttle */
    map_t by_addr;                             /* client address -> struct throttle */
    int64_t window_ms;
    int64_t max_user, max_addr;
    uv_timer_t sweep; /* drops expired throttle entries */
};

int auth_init(struct auth *a, uv_loop_t *loop, unsigned long long ops, size_t mem_kib,
              int concurrency, size_t max_queue, int64_t window_s, int64_t max_user,
              int64_t max_addr);
/* Closes the sweep timer; queued jobs still complete. */
void auth_close(struct auth *a);
void auth_free(struct auth *a);

/* Hashes password (copied) into an Argon2id string. key (the client
 * address) decides the job's turn and share; DUET_EBUSY when the queue or
 * the key's share is full. */
int auth_hash(struct auth *a, const char *key, const char *password, size_t len, auth_cb cb,
              void *data);
/* Checks password against hash (both copied). A NULL hash verifies against a
 * dummy so that unknown users take as long as known ones. */
int auth_verify(struct auth *a, const char *key, const char *hash, const char *password, size_t len,
                auth_cb cb, void *data);

/* The session cookie's name. Served over TLS (--secure-cookies) it has the
 * __Host- prefix: browsers then accept it only Secure, host-only and with
 * Path=/, so a sibling domain cannot plant one under that name. */
const char *auth_cookie_name(int secure);
/* A new session token (text for the cookie) and the hash to store. */
void auth_token_new(char token[AUTH_TOKEN_LEN + 1], uint8_t hash[32]);
/* Hashes a presented token; -EINVAL if it is not a well-formed token. */
int auth_token_hash(const char *token, size_t len, uint8_t hash[32]);

/* Throttling. auth_login_begin returns the seconds to wait (> 0), or 0
 * after counting one attempt for user and for addr: an attempt that does not
 * end in auth_login_ok stays counted as a failure. */
int64_t auth_login_begin(struct auth *a, const char *user, const char *addr, int64_t now);
/* The password was right: clears user's count, refunds addr's attempt. */
void auth_login_ok(struct auth *a, const char *user, const char *addr);

#endif
