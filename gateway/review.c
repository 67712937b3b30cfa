/* review.c - POST /review: authenticate and validate on the request
 * thread, then admit (admit.h: one Redis round trip per batch of
 * submissions), answer 202. */
#include "gateway/handlers.h"

#include "common/err.h"
#include "gateway/admit.h"
#include "gateway/auth.h"
#include "gateway/gateway.h"
#include "gateway/request.h"
#include "gateway/respond.h"
#include "gateway/validate.h"

#include <stdlib.h>
#include <string.h>

#define IDEMPOTENCY_KEY_MAX 255

/* 1..255 visible ASCII characters. */
static int idempotency_key_ok(const char *k)
{
    size_t n = strlen(k);

    if (n == 0 || n > IDEMPOTENCY_KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e)
            return 0;
    return 1;
}

/* A refused submission, answered on a waiting thread: an unknown caller
 * learns nothing but 401 (admission checks keys only later, in the same
 * script as the rest of its work), and finding out may read PostgreSQL. */
struct refusal {
    struct request *req;
    struct identity id;
    struct err e;
};

static void refuse_waiting(void *arg)
{
    struct refusal *f = arg;
    void *conn = f->req->conn;

    if (auth_known_or_respond(f->req, &f->id) == 0)
        respond_error(f->req, &f->e);
    free(f);
    server_resume(conn);
}

static void refuse(struct request *req, const struct identity *id, const struct err *e)
{
    struct refusal *f = malloc(sizeof *f);
    struct err oom;

    if (f == NULL) {
        err_set(&oom, ERR_INTERNAL, "out of memory");
        respond_error(req, &oom);
        return;
    }
    f->req = req;
    f->id = *id;
    f->e = *e;
    if (server_hand_over(req, req->gw->waiters, refuse_waiting, f) != 0)
        free(f);
}

void handle_review(struct request *req)
{
    struct review_request r;
    struct identity id;
    struct err e;
    const char *idem = request_header(req, "Idempotency-Key");

    if (auth_parse_or_respond(req, &id) != 0)
        return;
    if (idem != NULL && !idempotency_key_ok(idem)) {
        err_set(&e, ERR_INVALID_IDEMPOTENCY_KEY, "Idempotency-Key is 1 to %d visible ASCII "
                "characters", IDEMPOTENCY_KEY_MAX);
        refuse(req, &id, &e);
        return;
    }
    if (review_parse(req->body, req->body_len, req->gw->cfg, req->gw->stress_policy, &r, &e) !=
        ERR_OK) {
        refuse(req, &id, &e);
        return;
    }
    admit_submit(req, &id, &r, idem);
}
