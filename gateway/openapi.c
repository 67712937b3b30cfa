/* openapi.c - GET /openapi.json: docs/openapi.yaml as JSON, embedded into
 * the binary at build time (Makefile: $(BUILD)/gen/openapi_doc.c), so the
 * document served is the one the gateway was built with. */
#include "gateway/handlers.h"

#include "common/err.h"
#include "gateway/request.h"
#include "gateway/respond.h"

#include <stdlib.h>
#include <string.h>

/* xxd -i of openapi.json */
extern unsigned char openapi_json[];
extern unsigned int openapi_json_len;

void handle_openapi(struct request *req)
{
    char *text = malloc((size_t)openapi_json_len + 1);

    if (text != NULL) {
        memcpy(text, openapi_json, openapi_json_len);
        text[openapi_json_len] = '\0';
    }
    respond_text(req, 200, "application/json", text);
}
