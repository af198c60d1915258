/*
 * Obtain a SNAP B2B access token with snapb2b from C.
 *
 *   cc get_token.c $(pkg-config --cflags --libs snapb2b) -o get_token
 *   ./get_token config.json        (or SNAPB2B_CONFIG=config.json ./get_token)
 *
 * Shows the error pattern: every fallible call returns a status code; on
 * failure b2b_last_error() explains it; every returned string is freed with
 * b2b_free().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* Extracts a string or integer field from the flat result JSON. Enough for
 * an example; real code would use a JSON library. */
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

/* The Authorization header value for a service call you send yourself: the
 * token's own type as the provider sent it ("Bearer", "Mac", ...), never a
 * fixed "Bearer". Returns 0 when it does not fit. */
static int authorization(const char *type, const char *token, char *out, size_t out_len) {
    int n = snprintf(out, out_len, "%s %s", type, token);
    return n > 0 && (size_t)n < out_len;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : getenv("SNAPB2B_CONFIG");
    if (!path) {
        fprintf(stderr, "usage: %s CONFIG.json (or set SNAPB2B_CONFIG)\n", argv[0]);
        return 2;
    }
    char *config = read_file(path);
    if (!config) {
        fprintf(stderr, "error: cannot read %s\n", path);
        return 2;
    }

    char *token_json = NULL;
    int rc = b2b_get_token(config, &token_json);
    free(config);
    if (rc != B2B_OK) {
        fprintf(stderr, "error: %s\n", b2b_last_error());
        return rc;
    }

    char provider[32] = "", token[4096] = "", type[32] = "", expires_at[32] = "";
    json_field(token_json, "provider", provider, sizeof provider);
    json_field(token_json, "access_token", token, sizeof token);
    json_field(token_json, "token_type", type, sizeof type);
    json_field(token_json, "expires_at", expires_at, sizeof expires_at);
    b2b_free(token_json); /* wipes the token before freeing */

    char header[4200];
    if (!authorization(type, token, header, sizeof header)) {
        fprintf(stderr, "error: token too long for this example's buffer\n");
        return 1;
    }
    /* ... send `Authorization: <header>` ..., then wipe it like the token. */
    memset(header, 0, sizeof header);

    /* Never print a whole token: logs outlive it. */
    size_t len = strlen(token);
    char masked[16];
    /* Short tokens are hidden whole: 10 visible characters would be most of them. */
    if (len >= 16) snprintf(masked, sizeof masked, "%.6s...%s", token, token + len - 4);
    else snprintf(masked, sizeof masked, "***");
    memset(token, 0, sizeof token);

    time_t at = (time_t)strtoll(expires_at, NULL, 10);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&at));
    printf("snapb2b %s\n", b2b_version());
    printf("provider:   %s\n", provider);
    printf("token:      %s (%s)\n", masked, type);
    printf("header:     Authorization: %s %s\n", type, masked);
    printf("expires at: %s (in %lld s)\n", when, (long long)(at - time(NULL)));
    return 0;
}
