/* ref_bare.c - reference (a) of `make bench`: a bare libmicrohttpd server in
 * the gateway's threading mode (epoll + a thread pool of one thread per
 * core) that answers every request with a fixed small JSON reply. It is the
 * ceiling of what the HTTP layer alone can do on this machine.
 *
 *   ref_bare [--port N]     (0 or none: a free port; the ready line names it)
 */
#include "bench/ref_mhd.h"

static const char reply[] = "{\"job_id\":\"00000000-0000-7000-8000-000000000000\","
                            "\"status\":\"done\"}";

static void handle(struct MHD_Connection *conn, const char *method, const char *url,
                   const char *body, size_t len)
{
    (void)method;
    (void)url;
    (void)body;
    (void)len;
    ref_respond(conn, 200, reply);
}

int main(int argc, char **argv)
{
    return ref_serve(argc, argv, "ref_bare", handle);
}
