/* proto_fast.c - the hot frames decoded without jansson (proto_req.h).
 * `ack` and `seen` (issue 18, round 4) and `send` (round 8) are nearly all
 * that clients send under load, and building their jansson tree (an
 * object, its hash table, a string or integer per field, each a malloc)
 * was the largest piece of the loop thread's own code. This reader accepts
 * a strict subset of their valid forms: one flat object whose keys are
 * plain ASCII, each once; for ack and seen the keys type, chat_id, seq
 * (and kind for ack); for send type, chat_id, id, text and optionally ref.
 * Strings have no escapes: printable ASCII, except the text, which may
 * also hold DEL and UTF-8 sequences as strict as jansson's (text.h); seq
 * and an integer ref have no sign, fraction or exponent and at most 18
 * digits; JSON whitespace between tokens. Anything else, including every
 * frame that the full decoder would refuse (a bad id, an empty or too
 * long text, a ref over 64 bytes), returns 0 having set nothing, and the
 * frame takes the full path, so a frame this reader accepts decodes to the
 * same request both ways (fuzz/fuzz_json.c checks it against jansson). */
#include <stdlib.h>
#include <string.h>

#include "../base/text.h"
#include "proto.h"
#include "proto_req.h"

struct fast_in {
    const char *p, *end;
};

/* A string's bytes, between its quotes; s NULL when the key was absent. */
struct fast_str {
    const char *s;
    size_t n;
};

/* The fields of one frame as read; borrows from the frame. */
struct fast_frame {
    struct fast_str type, chat, kind, id, text, ref_str;
    int64_t seq;     /* -1: absent */
    int64_t ref_num; /* -1: absent */
};

static void fast_ws(struct fast_in *in)
{
    while (in->p < in->end && (*in->p == ' ' || *in->p == '\t' || *in->p == '\n' || *in->p == '\r'))
        in->p++;
}

static int fast_char(struct fast_in *in, char c)
{
    fast_ws(in);
    if (in->p >= in->end || *in->p != c)
        return 0;
    in->p++;
    return 1;
}

/* One character of a string: printable ASCII, or (utf8) also DEL and a
 * valid UTF-8 sequence; never a quote, backslash or control character. */
static size_t fast_str_char(const struct fast_in *in, int utf8)
{
    unsigned char c = (unsigned char)*in->p;
    uint32_t cp;
    if (c == '"' || c == '\\' || c < 0x20)
        return 0;
    if (c < 0x7f)
        return 1;
    if (!utf8)
        return 0;
    return text_utf8_seq((const unsigned char *)in->p, (size_t)(in->end - in->p), 0, &cp);
}

/* A string without escapes: its bytes in out. */
static int fast_str(struct fast_in *in, struct fast_str *out, int utf8)
{
    if (!fast_char(in, '"'))
        return 0;
    const char *b = in->p;
    while (in->p < in->end && *in->p != '"') {
        size_t n = fast_str_char(in, utf8);
        if (n == 0)
            return 0;
        in->p += n;
    }
    if (in->p >= in->end)
        return 0;
    out->s = b;
    out->n = (size_t)(in->p - b);
    in->p++;
    return 1;
}

static int fast_uint(struct fast_in *in, int64_t *v)
{
    fast_ws(in);
    const char *b = in->p;
    while (in->p < in->end && *in->p >= '0' && *in->p <= '9')
        in->p++;
    size_t n = (size_t)(in->p - b);
    /* JSON forbids leading zeros; 18 digits cannot overflow. */
    if (n == 0 || n > 18 || (n > 1 && *b == '0'))
        return 0;
    /* a fraction or exponent follows: not an integer for jansson */
    if (in->p < in->end && (*in->p == '.' || *in->p == 'e' || *in->p == 'E'))
        return 0;
    int64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x = x * 10 + (b[i] - '0');
    *v = x;
    return 1;
}

static int fast_is(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* ref: a string or an unsigned integer, once. */
static int fast_ref(struct fast_in *in, struct fast_frame *f)
{
    if (f->ref_str.s != NULL || f->ref_num >= 0)
        return 0;
    fast_ws(in);
    if (in->p < in->end && *in->p == '"')
        return fast_str(in, &f->ref_str, 0);
    return fast_uint(in, &f->ref_num);
}

/* One key's value, into its field; 0 for another key or a duplicate. */
static int fast_value(struct fast_in *in, const struct fast_str *k, struct fast_frame *f)
{
    if (fast_is(k->s, k->n, "seq"))
        return f->seq < 0 && fast_uint(in, &f->seq);
    if (fast_is(k->s, k->n, "ref"))
        return fast_ref(in, f);
    struct fast_str *slot = fast_is(k->s, k->n, "type")      ? &f->type
                            : fast_is(k->s, k->n, "chat_id") ? &f->chat
                            : fast_is(k->s, k->n, "kind")    ? &f->kind
                            : fast_is(k->s, k->n, "id")      ? &f->id
                            : fast_is(k->s, k->n, "text")    ? &f->text
                                                             : NULL;
    if (slot == NULL || slot->s != NULL)
        return 0; /* another key (reply_to, media...), or a duplicate */
    return fast_str(in, slot, slot == &f->text);
}

/* The whole frame: one flat object and nothing after it. */
static int fast_object(struct fast_in *in, struct fast_frame *f)
{
    struct fast_str k;
    if (!fast_char(in, '{'))
        return 0;
    for (int first = 1;; first = 0) {
        if (!first && !fast_char(in, ','))
            break;
        if (!fast_str(in, &k, 0) || !fast_char(in, ':') || !fast_value(in, &k, f))
            return 0;
    }
    if (!fast_char(in, '}'))
        return 0;
    fast_ws(in);
    return in->p == in->end;
}

static int fast_ack_seen(const struct fast_frame *f, struct proto_request *q)
{
    static const char *kinds[] = {"message",  "delivered", "seen",   "deleted",
                                  "reaction", "edited",    "hidden", "chat_state"};
    if (f->seq < 0 || f->id.s != NULL || f->text.s != NULL || f->ref_str.s != NULL ||
        f->ref_num >= 0)
        return 0;
    q->seq = f->seq;
    if (fast_is(f->type.s, f->type.n, "seen") && f->kind.s == NULL) {
        q->type = PROTO_REQ_SEEN;
        q->request = "seen";
        return 1;
    }
    if (!fast_is(f->type.s, f->type.n, "ack") || f->kind.s == NULL)
        return 0;
    q->kind = -1;
    for (int i = 0; i < (int)(sizeof(kinds) / sizeof(kinds[0])); i++)
        if (fast_is(f->kind.s, f->kind.n, kinds[i]))
            q->kind = i == 7 ? PENDING_CHAT_STATE : i;
    q->type = PROTO_REQ_ACK;
    q->request = "ack";
    return q->kind >= 0;
}

/* A send's ref as jansson would hold it; *ref NULL when absent. */
static int fast_ref_json(const struct fast_frame *f, json_t **ref)
{
    *ref = NULL;
    if (f->ref_str.s != NULL)
        *ref = json_stringn(f->ref_str.s, f->ref_str.n);
    else if (f->ref_num >= 0)
        *ref = json_integer((json_int_t)f->ref_num);
    else
        return 1;
    return *ref != NULL;
}

/* A send of text, with the full decoder's bounds: an id it accepts, a text
 * of 1..max_chars characters, a ref of at most 64 bytes. */
static int fast_send(const struct fast_frame *f, int64_t max_chars, struct proto_request *q)
{
    if (f->seq >= 0 || f->kind.s != NULL || f->id.s == NULL || f->text.s == NULL ||
        !text_client_id_ok(f->id.s, f->id.n) || f->text.n == 0 ||
        (f->ref_str.s != NULL && f->ref_str.n > 64))
        return 0;
    if ((int64_t)f->text.n > max_chars &&
        (int64_t)text_utf8_chars(f->text.s, f->text.n) > max_chars)
        return 0;
    json_t *ref;
    char *own = malloc(f->id.n + f->text.n + 2);
    if (!fast_ref_json(f, &ref) || own == NULL) {
        free(own);
        json_decref(ref);
        return 0; /* the full decoder answers */
    }
    memcpy(own, f->id.s, f->id.n);
    own[f->id.n] = '\0';
    memcpy(own + f->id.n + 1, f->text.s, f->text.n);
    own[f->id.n + 1 + f->text.n] = '\0';
    q->type = PROTO_REQ_SEND;
    q->request = "send";
    q->ref = ref;
    q->own = own;
    q->id = own;
    q->id_len = f->id.n;
    q->text = own + f->id.n + 1;
    q->text_len = f->text.n;
    return 1;
}

int proto_parse_fast(const char *data, size_t len, int64_t max_chars, struct proto_request *out)
{
    struct fast_in in = {data, data + len};
    struct fast_frame f = {.seq = -1, .ref_num = -1};
    if (!fast_object(&in, &f) || f.type.s == NULL || f.chat.s == NULL)
        return 0;
    struct proto_request q = {0};
    if (duet_id_parse(f.chat.s, f.chat.n, &q.chat_id) < 0)
        return 0;
    if (fast_is(f.type.s, f.type.n, "send") ? !fast_send(&f, max_chars, &q)
                                            : !fast_ack_seen(&f, &q))
        return 0;
    *out = q;
    return 1;
}
