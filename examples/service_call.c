/*
 * A SNAP service call (a virtual-account inquiry) with snapb2b from C.
 *
 *   cc service_call.c $(pkg-config --cflags --libs snapb2b) -o service_call
 *   ./service_call config.json
 *
 * The config is the token config plus what service calls need: channel_id
 * (CHANNEL-ID) and client_secret (the HMAC key of X-SIGNATURE). One client
 * handle is made once and kept: it caches the token, renews it when the
 * provider refuses it, and reuses its connection for every call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapb2b.h"

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len <= 1) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) { free(buf); buf = NULL; }
            else buf = bigger;
        }
    }
    fclose(f);
    if (buf) buf[len] = '\0';
    return buf;
}

/* Extracts a top-level string, integer or boolean field from the response
 * JSON. Enough for an example (the body is an escaped string, so its own
 * keys do not match); real code would use a JSON library. */
static int json_field(const char *json, const char *key, char *out, size_t out_len) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(json, pattern);
    if (!p) return 0;
    p += strlen(pattern);
    int quoted = (*p == '"');
    if (quoted) p++;
    size_t i = 0;
    while (*p && i + 1 < out_len && (quoted ? *p != '"' : (*p != ',' && *p != '}'))) out[i++] = *p++;
    out[i] = '\0';
    return 1;
}

/* The body is JSON sent as its own text (minified by the library, which is
 * what it signs); X-EXTERNAL-ID is made by the library for each call. */
static const char REQUEST[] =
    "{\"method\":\"POST\",\"path\":\"/v1.0/transfer-va/inquiry\",\"body\":"
    "{\"partnerServiceId\":\"  088899\",\"customerNo\":\"12345678901234567890\","
    "\"virtualAccountNo\":\"  08889912345678901234567890\","
    "\"inquiryRequestId\":\"abcdef-123456-abcdef\"}}";

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s CONFIG.json\n", argv[0]);
        return 2;
    }
    char *config = read_file(argv[1]);
    if (!config) {
        fprintf(stderr, "error: cannot read %s\n", argv[1]);
        return 2;
    }

    b2b_client *client = NULL;
    int rc = b2b_client_new(config, &client);
    free(config);
    if (rc != B2B_OK) {
        fprintf(stderr, "error: %s\n", b2b_last_error());
        return rc;
    }

    char *response = NULL;
    rc = b2b_client_request(client, REQUEST, &response);
    if (rc != B2B_OK) {
        /* No answer. The message says "not sent" (safe to send again) or
         * "may have been processed" (query the status with the
         * X-EXTERNAL-ID it names first). */
        fprintf(stderr, "error: %s\n", b2b_last_error());
        b2b_client_free(client);
        return rc;
    }

    /* B2B_OK: the provider answered, whatever it said. */
    char status[8] = "", code[64] = "", external_id[64] = "", renewed[8] = "";
    json_field(response, "http_status", status, sizeof status);
    json_field(response, "response_code", code, sizeof code);
    json_field(response, "external_id", external_id, sizeof external_id);
    json_field(response, "token_renewed", renewed, sizeof renewed);
    b2b_free(response); /* wipes the answer (account data) before freeing */
    b2b_client_free(client);

    printf("snapb2b %s\n", b2b_version());
    printf("http status:   %s\n", status);
    printf("response code: %s\n", code);
    printf("external id:   %s\n", external_id);
    printf("token renewed: %s\n", renewed);
    return 0;
}
