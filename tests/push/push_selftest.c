/* push_selftest.c - sends one Web Push with src/push and src/outbound, the
 * way duetd will: the payload encrypted (RFC 8291), a VAPID Authorization
 * header (RFC 8292), TTL, Urgency and Topic, POSTed on a libuv loop.
 * tests/integration/40-push-crypto.test.mjs drives it against the Node
 * push service in tests/integration/lib/push-service.mjs.
 *
 *   push-selftest key DIR
 *       prints DIR's VAPID public key (base64url), creating the key first
 *   push-selftest send [--ca-file F] [--sub S] [--exp-s N] [--pad N]
 *                      [--ttl N] [--topic T] DIR ENDPOINT P256DH AUTH MESSAGE
 *       prints "status N" and the response body; exits 0 on a 2xx answer,
 *       1 on another status, 2 when nothing was sent or no answer came.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/base/duet.h"
#include "../../src/outbound/ob.h"
#include "../../src/push/push.h"

struct opts {
    const char *ca_file, *sub, *ttl, *topic;
    long exp_s, pad;
    const char *dir, *endpoint, *p256dh, *auth, *message;
};

struct outcome {
    int done, err;
    long status;
};

static void on_done(void *ud, const struct ob_response *res)
{
    struct outcome *o = ud;
    o->done = 1, o->err = res->err, o->status = res->status;
    if (res->err) {
        fprintf(stderr, "push-selftest: %s (%d)\n", res->detail, res->err);
        return;
    }
    printf("status %ld\n%.*s\n", res->status, (int)res->body_len, (const char *)res->body);
}

static int usage(void)
{
    fprintf(stderr, "usage: push-selftest key DIR\n"
                    "       push-selftest send [--ca-file F] [--sub S] [--exp-s N] [--pad N]"
                    " [--ttl N] [--topic T] DIR ENDPOINT P256DH AUTH MESSAGE\n");
    return 2;
}

static int parse(int argc, char **argv, struct opts *o)
{
    int i = 2;
    *o = (struct opts){.sub = "mailto:ops@duet.invalid", .exp_s = 12 * 3600, .ttl = "60"};
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--ca-file") == 0)
            o->ca_file = v;
        else if (strcmp(k, "--sub") == 0)
            o->sub = v;
        else if (strcmp(k, "--exp-s") == 0)
            o->exp_s = atol(v);
        else if (strcmp(k, "--pad") == 0)
            o->pad = atol(v);
        else if (strcmp(k, "--ttl") == 0)
            o->ttl = v;
        else if (strcmp(k, "--topic") == 0)
            o->topic = v;
        else
            return -EINVAL;
    }
    if (argc - i != 5 || o->pad < 0)
        return -EINVAL;
    o->dir = argv[i], o->endpoint = argv[i + 1], o->p256dh = argv[i + 2];
    o->auth = argv[i + 3], o->message = argv[i + 4];
    return 0;
}

/* Encrypts, signs and posts; runs the loop until the answer (or failure). */
static int send_one(const struct opts *o, push_vapid *v, struct outcome *out)
{
    struct push_sub_keys keys;
    static uint8_t body[PUSH_MAX_BODY];
    char auth[PUSH_JWT_SIZE + PUSH_PUB_B64_SIZE + 32];
    size_t len;
    int rc;
    if ((rc = push_sub_keys_parse(o->p256dh, o->auth, &keys)) != 0) {
        fprintf(stderr, "push-selftest: bad subscription keys\n");
        return rc;
    }
    if ((rc = push_encrypt(&keys, (const uint8_t *)o->message, strlen(o->message), (size_t)o->pad,
                           body, sizeof(body), &len)) != 0 ||
        (rc = push_vapid_auth(v, o->endpoint, o->sub, duet_now_ms() / 1000, o->exp_s, auth,
                              sizeof(auth))) != 0) {
        fprintf(stderr, "push-selftest: encrypt/sign: %s\n", strerror(-rc));
        return rc;
    }
    struct ob_header h[6] = {{"Content-Encoding", "aes128gcm"},
                             {"Content-Type", "application/octet-stream"},
                             {"TTL", o->ttl},
                             {"Urgency", "normal"},
                             {"Authorization", auth}};
    size_t nh = 5;
    if (o->topic)
        h[nh++] = (struct ob_header){"Topic", o->topic};
    uv_loop_t loop;
    ob_client *c;
    if ((rc = uv_loop_init(&loop)) != 0)
        return rc;
    struct ob_opts oo = {.ca_file = o->ca_file};
    if ((rc = ob_new(&loop, &oo, &c)) != 0)
        goto out;
    struct ob_request r = {.method = "POST",
                           .url = o->endpoint,
                           .headers = h,
                           .n_headers = nh,
                           .body = body,
                           .body_len = len,
                           .timeout_ms = 10000,
                           .cb = on_done,
                           .ud = out};
    if ((rc = ob_request(c, &r)) != 0)
        fprintf(stderr, "push-selftest: request refused: %d\n", rc);
    while (rc == 0 && !out->done)
        if (uv_run(&loop, UV_RUN_ONCE) == 0 && !out->done)
            rc = -EIO;
    ob_close(c, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
out:
    if (uv_loop_close(&loop) != 0 && rc == 0)
        rc = -EBUSY;
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o;
    push_vapid *v;
    int rc;
    if (sodium_init() < 0 || argc < 3)
        return usage();
    if (strcmp(argv[1], "key") == 0) {
        char k[PUSH_PUB_B64_SIZE];
        if (argc != 3)
            return usage();
        if ((rc = push_vapid_load_or_create(argv[2], &v)) != 0 ||
            (rc = push_vapid_public_b64(v, k)) != 0) {
            fprintf(stderr, "push-selftest: key: %s\n", strerror(-rc));
            return 2;
        }
        printf("%s\n", k);
        push_vapid_free(v);
        return 0;
    }
    if (strcmp(argv[1], "send") != 0 || parse(argc, argv, &o) != 0)
        return usage();
    if ((rc = push_vapid_load_or_create(o.dir, &v)) != 0) {
        fprintf(stderr, "push-selftest: key: %s\n", strerror(-rc));
        return 2;
    }
    struct outcome out = {0};
    rc = send_one(&o, v, &out);
    push_vapid_free(v);
    if (rc || out.err)
        return 2;
    return out.status >= 200 && out.status < 300 ? 0 : 1;
}
