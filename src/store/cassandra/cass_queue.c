/* cass_queue.c - the Cassandra store's request queue: submit, the pump that
 * completes finished ops from the head in submission order (store.h rule 1)
 * and starts what the scheduler (cass_sched.c) frees, and the dispatch of
 * each op to its state machine.
 *
 * Callbacks run from the queue's head only, never from inside submit: an
 * op that finishes at once arms the idle handle, which pumps soon.
 */
#include "../../base/log.h"
#include "cass_int.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

static const cs_op_fn cs_ops[STORE_OP_COUNT] = {
    [STORE_USER_CREATE] = cs_user_create,
    [STORE_USER_GET_BY_NAME] = cs_user_get_by_name,
    [STORE_USER_GET] = cs_user_get,
    [STORE_USER_UPDATE] = cs_user_update,
    [STORE_USER_SET_PASSWORD] = cs_user_set_password,
    [STORE_USER_SET_LAST_SEEN] = cs_user_set_last_seen,
    [STORE_SESSION_CREATE] = cs_session_create,
    [STORE_SESSION_GET] = cs_session_get,
    [STORE_SESSION_DELETE] = cs_session_delete,
    [STORE_FRIEND_REQUEST] = cs_friend_op,
    [STORE_FRIEND_ACCEPT] = cs_friend_op,
    [STORE_FRIEND_DECLINE] = cs_friend_op,
    [STORE_FRIEND_CANCEL] = cs_friend_op,
    [STORE_FRIEND_REMOVE] = cs_friend_op,
    [STORE_BLOCK] = cs_friend_op,
    [STORE_UNBLOCK] = cs_friend_op,
    [STORE_REQUESTS_LIST] = cs_requests_list,
    [STORE_BLOCKS_LIST] = cs_blocks_list,
    [STORE_CHATS_LIST] = cs_chats_list,
    [STORE_PRESENCE_PEERS] = cs_presence_peers,
    [STORE_CHAT_PEER] = cs_chat_peer,
    [STORE_MSG_SEND] = cs_msg_send,
    [STORE_MSG_ACK] = cs_msg_ack,
    [STORE_MSG_SEEN] = cs_msg_seen,
    [STORE_MSG_DELETE] = cs_msg_delete,
    [STORE_HISTORY] = cs_history,
    [STORE_PENDING_LIST] = cs_pending_list,
    [STORE_SEARCH] = cs_search,
    [STORE_CHAT_STATE_SET] = cs_chat_state_set,
    [STORE_PUSH_SUB_ADD] = cs_push_sub_add,
    [STORE_PUSH_SUB_LIST] = cs_push_sub_list,
    [STORE_PUSH_SUB_DELETE] = cs_push_sub_delete,
    [STORE_PUSH_SUB_LOGOUT] = cs_push_sub_delete,
    [STORE_PUSH_PREFS] = cs_push_prefs,
    [STORE_PUSH_ENQUEUE] = cs_push_enqueue,
    [STORE_PUSH_JOBS_LIST] = cs_push_jobs_list,
    [STORE_PUSH_JOB_DONE] = cs_push_job_done,
    [STORE_UPLOAD_CREATE] = cs_upload_op,
    [STORE_UPLOAD_GET] = cs_upload_op,
    [STORE_UPLOAD_UPDATE] = cs_upload_op,
    [STORE_UPLOAD_DELETE] = cs_upload_op,
    [STORE_UPLOAD_EXPIRED] = cs_upload_op,
    [STORE_MEDIA_GET] = cs_upload_op,
    [STORE_MSG_REACT] = cs_msg_react,
    [STORE_MSG_EDIT] = cs_msg_edit,
    [STORE_MSG_HIDE] = cs_msg_hide,
};

cs_op_fn cs_op_handler(enum store_op op)
{
    return (unsigned)op < STORE_OP_COUNT ? cs_ops[op] : NULL;
}

static void cs_pump(cs_store *s);

/* The ops of a connection's opening and closing (CS_SETUP_MAX). */
static int cs_is_setup(enum store_op op)
{
    switch (op) {
    case STORE_SESSION_GET:
    case STORE_USER_GET:
    case STORE_USER_SET_LAST_SEEN:
    case STORE_PRESENCE_PEERS:
    case STORE_PENDING_LIST:
    case STORE_CHATS_LIST:
        return 1;
    default:
        return 0;
    }
}

static void cs_op_free(cs_op *op)
{
    if (op->q_live)
        cql_req_reset(&op->q);
    pool_destroy(&op->pool);
    free(op);
}

void cs_finish(cs_op *op, int status)
{
    if (op->n_group > 1) {
        cs_group_finish(op, status); /* every send of its group (cass_group.c) */
        return;
    }
    cs_store *s = op->s;
    store_req *req = op->req;
    cs_q_reset(op);
    if (status < 0) {
        /* A failed request returns no results. */
        store_req_reset(req);
        if (status != DUET_ESTORE && status > -1000 && status != -EINVAL)
            log_warn("store: cassandra: %s: %s", store_op_name(req->op), strerror(-status));
    }
    req->status = status;
    op->state = CS_DONE;
    cs_sched_done(&s->sched, op);
    if (!op->grouped) /* a group's member never counted as running */
        s->running--;
    cs_pump(s);
}

/* Starts the queued ops that conflict with no earlier unfinished one, as
 * the scheduler hands them out, up to CS_RUN_MAX running. */
static void cs_schedule(cs_store *s)
{
    if (!s->ready && !s->closing)
        return;
    cs_op *op;
    while (s->running < CS_RUN_MAX && (op = cs_sched_next(&s->sched)) != NULL) {
        op->state = CS_RUNNING;
        s->running++;
        if (s->closing) {
            cs_finish(op, DUET_ESTORE);
            continue;
        }
        op->step = 0;
        op->fn = cs_ops[op->req->op];
        if (op->req->op == STORE_MSG_SEND)
            (void)cs_group_take(s, op); /* may set op->fn */
        else if (op->req->op == STORE_MSG_ACK)
            (void)cs_ack_take(s, op); /* may take the acks behind it */
        op->fn(op);
    }
}

/* Completes finished ops from the head, in order, then starts what can
 * start. Re-entry (a callback submitting, an op finishing at once) only
 * asks for another round. */
static void cs_pump(cs_store *s)
{
    if (s->pumping) {
        s->repump = 1;
        return;
    }
    s->pumping = 1;
    do {
        s->repump = 0;
        cs_op *op;
        while ((op = s->head) != NULL && op->state == CS_DONE) {
            s->head = op->next;
            if (s->head == NULL)
                s->tail = NULL;
            s->n_ops--;
            s->n_setup -= cs_is_setup(op->req->op);
            store_req *req = op->req;
            cs_op_free(op);
            req->next = NULL;
            req->cb(req);
        }
        cs_schedule(s);
    } while (s->repump);
    s->pumping = 0;
    if (s->head == NULL && s->trim_owed) {
        /* After a storm the freed ops lie between live allocations, where
         * malloc keeps the pages (~270 MB after 15,000 reconnects). */
        s->trim_owed = 0;
        (void)malloc_trim(0); /* 1 if memory was released, else 0 */
    }
    if (s->head == NULL && s->drained != NULL) {
        void (*cb)(void *) = s->drained;
        s->drained = NULL;
        cb(s->drained_data);
    }
    cs_maybe_free(s);
}

void cs_pump_now(cs_store *s)
{
    cs_pump(s);
}

static void cs_on_idle(uv_idle_t *h)
{
    cs_store *s = h->data;
    (void)uv_idle_stop(&s->idle); /* always 0 */
    cs_pump(s);
}

void cs_pump_soon(cs_store *s)
{
    int rc = uv_idle_start(&s->idle, cs_on_idle);
    if (rc < 0)
        log_error("store: cassandra: uv_idle_start: %s", uv_strerror(rc));
}

int cs_submit(store_t *base, store_req *req)
{
    cs_store *s = (cs_store *)base;
    if ((unsigned)req->op >= STORE_OP_COUNT || req->cb == NULL)
        return -EINVAL;
    int setup = cs_is_setup(req->op);
    int queued = setup ? s->n_setup : s->n_ops - s->n_setup;
    int max = setup ? CS_SETUP_MAX : CS_QUEUE_MAX;
    if (queued >= max) {
        if (!s->full_logged)
            log_warn("store: cassandra: %d requests queued; refusing more (busy) until it drains",
                     s->n_ops);
        s->full_logged = 1;
        return DUET_EBUSY;
    }
    if (queued < max / 2)
        s->full_logged = 0;
    cs_op *op = calloc(1, sizeof(*op));
    if (op == NULL)
        return -ENOMEM;
    op->s = s;
    op->req = req;
    pool_init(&op->pool);
    req->status = 0;
    req->next = NULL;
    cs_keys(s, op);
    if (s->tail != NULL)
        s->tail->next = op;
    else
        s->head = op;
    s->tail = op;
    s->n_ops++;
    s->n_setup += setup;
    if (s->n_ops > CS_QUEUE_MAX)
        s->trim_owed = 1;
    cs_sched_add(&s->sched, op);
    /* Callbacks never run inside submit: the idle handle pumps soon. */
    int rc = uv_idle_start(&s->idle, cs_on_idle);
    if (rc < 0)
        log_error("store: cassandra: uv_idle_start: %s", uv_strerror(rc));
    return 0;
}

void cs_drain(store_t *base, store_done_cb done, void *data)
{
    cs_store *s = (cs_store *)base;
    s->drained = done;
    s->drained_data = data;
    int rc = uv_idle_start(&s->idle, cs_on_idle);
    if (rc < 0)
        log_error("store: cassandra: uv_idle_start: %s", uv_strerror(rc));
}
