/*
 * C tests of the snapb2b ABI through the real shared library, against the
 * sandbox provider started by scripts/with-sandbox.sh (SNAPB2B_SANDBOX_DIR).
 * SNAPB2B_TEST_LIGHT=1 shrinks the thread loops (for valgrind).
 * Ends with the line "N passed, M failed".
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "snapb2b.h"
#include "test_util.h"

static int passed, failed;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

static void check(int ok, const char *fmt, ...) {
    pthread_mutex_lock(&report_lock);
    if (ok) {
        passed++;
    } else {
        failed++;
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "FAIL: ");
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\n");
        va_end(ap);
    }
    pthread_mutex_unlock(&report_lock);
}

static char base_url[256], ca_file[512], key_file[512], http_base_url[256];
static char klikoo_id[128], klikoo_secret[128];
static char *demo_key;

static char *config_for(const char *provider, const char *client_id, const char *extra) {
    static __thread char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"provider\":\"%s\",\"base_url\":\"%s\",\"client_id\":\"%s\","
             "\"private_key_file\":\"%s\",\"ca_file\":\"%s\"%s%s}",
             provider, base_url, client_id, key_file, ca_file, extra ? "," : "", extra ? extra : "");
    return buf;
}

/* Calls b2b_get_token and checks the status; returns the JSON or NULL. */
static char *token_expect(const char *config, int want, const char *what) {
    char *out = NULL;
    int rc = b2b_get_token(config, &out);
    check(rc == want, "%s: status %d, want %d (%s)", what, rc, want,
          rc ? b2b_last_error() : "ok");
    if (rc != B2B_OK) check(out == NULL, "%s: output written on failure", what);
    if (rc != B2B_OK) {
        check(b2b_last_error() != NULL && b2b_last_error_json() != NULL, "%s: no last error", what);
    }
    return out;
}

static void test_version_and_names(void) {
    check(strncmp(b2b_version(), "0.", 2) == 0, "version %s", b2b_version());
    check(strcmp(b2b_status_name(B2B_TIMEOUT), "TIMEOUT") == 0, "status name");
    check(strcmp(b2b_status_name(12345), "UNKNOWN") == 0, "unknown status name");
    b2b_free(NULL); /* must be a no-op: a crash ends the run */
    /* Nothing has failed on this thread yet (b2b_free(NULL) and unknown
     * status names included), so there is no last error. */
    check(b2b_last_error() == NULL && b2b_last_error_json() == NULL, "no last error before any failure");
}

static void test_sign_arguments(void) {
    char *sig = NULL;
    check(b2b_sign(NULL, "c", "t", &sig) == B2B_INVALID_ARGUMENT && sig == NULL, "NULL key");
    check(strstr(b2b_last_error(), "private_key") != NULL, "NULL key message: %s", b2b_last_error());
    check(b2b_sign(demo_key, NULL, "t", &sig) == B2B_INVALID_ARGUMENT, "NULL client_id");
    check(b2b_sign(demo_key, "c", NULL, &sig) == B2B_INVALID_ARGUMENT, "NULL timestamp");
    check(b2b_sign(demo_key, "c", "t", NULL) == B2B_INVALID_ARGUMENT, "NULL out");
    check(b2b_sign(demo_key, "bad\xff\xfe", "t", &sig) == B2B_INVALID_ARGUMENT, "invalid UTF-8");
    check(strstr(b2b_last_error(), "UTF-8") != NULL, "UTF-8 message: %s", b2b_last_error());
    check(b2b_sign("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "c", "t", &sig) == B2B_KEY,
          "broken PEM");
    check(b2b_sign("hello", "c", "t", &sig) == B2B_KEY, "garbage key");
    const char *json = b2b_last_error_json();
    check(json && strstr(json, "\"status\":2") && strstr(json, "\"name\":\"KEY\""), "error json: %s", json);
    check(sig == NULL, "no output on failure");

    char pub_path[600];
    snprintf(pub_path, sizeof pub_path, "%.*smerchant-public.pem", (int)(strrchr(key_file, '/') - key_file + 1), key_file);
    char *pub = read_file(pub_path);
    check(pub && b2b_sign(pub, "c", "t", &sig) == B2B_KEY, "public key refused");
    check(strstr(b2b_last_error(), "public") != NULL, "public key message: %s", b2b_last_error());
    free(pub);

    check(b2b_sign(demo_key, "client", "2024-01-01T00:00:00+07:00", &sig) == B2B_OK && sig, "sign ok");
    check(sig && strlen(sig) == 344 && sig[343] == '=', "base64 of 256 bytes: %s", sig ? sig : "");
    b2b_free(sig);
    sig = NULL;

    /* Secrets never appear in messages: a damaged copy of the key is
     * refused without quoting any of it. */
    char *damaged = strdup(demo_key);
    char *body = strchr(damaged, '\n');
    if (body) body[10] = '!';
    check(b2b_sign(damaged, "c", "t", &sig) == B2B_KEY && sig == NULL, "damaged key refused");
    char excerpt[41];
    snprintf(excerpt, sizeof excerpt, "%s", body ? body + 11 : "");
    check(strstr(b2b_last_error(), excerpt) == NULL && strstr(b2b_last_error_json(), excerpt) == NULL,
          "key text in message: %s", b2b_last_error());
    free(damaged);
}

static void test_tokens(void) {
    const char *providers[] = {"doku", "nicepay", "snap"};
    for (int i = 0; i < 3; i++) {
        char *json = token_expect(config_for(providers[i], "SANDBOX-CLIENT", NULL), B2B_OK, providers[i]);
        if (!json) continue;
        char got[64], tok[512], type[32];
        json_str(json, "provider", got, sizeof got);
        json_str(json, "access_token", tok, sizeof tok);
        json_str(json, "token_type", type, sizeof type);
        long long expires_in = json_int(json, "expires_in");
        long long expires_at = json_int(json, "expires_at");
        long long now = (long long)time(NULL);
        check(strcmp(got, providers[i]) == 0, "provider field %s", got);
        check(strlen(tok) >= 32, "%s token length", providers[i]);
        check(strcmp(type, "Bearer") == 0, "token type %s", type);
        check(expires_in == 900, "%s expires_in %lld (integer whatever the provider sent)", providers[i], expires_in);
        check(expires_at >= now + 890 && expires_at <= now + 901, "expires_at %lld", expires_at);
        check(strstr(json, "\"response_code\":\"2007300\"") != NULL, "response code: %s", json);
        b2b_free(json);
    }
    char extra[512];
    snprintf(extra, sizeof extra, "\"client_secret\":\"%s\"", klikoo_secret);
    char *json = token_expect(config_for("klikoo", klikoo_id, extra), B2B_OK, "klikoo");
    if (json) {
        check(strstr(json, "\"response_code\":\"200012000\"") && json_int(json, "expires_in") == 900, "klikoo: %s", json);
        b2b_free(json);
    }
    /* Standard path with a bank's prefix. */
    json = token_expect(config_for("snap", "SANDBOX-CLIENT", "\"token_path\":\"/snap/v1.0/access-token/b2b\""), B2B_OK,
                        "snap with token_path");
    b2b_free(json);
}

static void expect_provider_error(const char *config, const char *what, int http, const char *code) {
    char *out = token_expect(config, B2B_PROVIDER, what);
    b2b_free(out);
    const char *j = b2b_last_error_json();
    char pat[64];
    snprintf(pat, sizeof pat, "\"http_status\":%d", http);
    check(j && strstr(j, pat), "%s: %s", what, j);
    snprintf(pat, sizeof pat, "\"response_code\":\"%s\"", code);
    check(j && strstr(j, pat), "%s: %s", what, j);
}

static void test_error_classes(void) {
    char *out;
    expect_provider_error(config_for("doku", "NO-SUCH-CLIENT", NULL), "unknown client", 401, "4017300");
    check(strstr(b2b_last_error(), "Unknown Client") != NULL, "message names the reason: %s", b2b_last_error());
    expect_provider_error(config_for("snap", "FAULT-500", NULL), "HTTP 500", 500, "5007301");
    /* A provider that wants millisecond timestamps: bad format, then the
     * timestamp_style override that fixes it. */
    expect_provider_error(config_for("snap", "SANDBOX-CLIENT-MS", NULL), "bad timestamp format", 400, "4007301");
    check(strstr(b2b_last_error(), "X-TIMESTAMP") != NULL, "message names the field: %s", b2b_last_error());
    out = token_expect(config_for("snap", "SANDBOX-CLIENT-MS", "\"timestamp_style\":\"wib_ms\""), B2B_OK,
                       "millisecond timestamps");
    b2b_free(out);
    expect_provider_error(config_for("snap", "FAULT-CLOCK", NULL), "provider clock 7 h off", 401, "4017300");
    check(strstr(b2b_last_error_json(), "\"hint\":\"your clock is 7 h") != NULL, "clock hint: %s", b2b_last_error_json());

    /* A key the provider does not know: signature rejected. */
    char cfg[8192];
    const char *wrong = getenv("SNAPB2B_WRONG_KEY_FILE");
    check(wrong != NULL, "SNAPB2B_WRONG_KEY_FILE is set");
    if (wrong) {
        snprintf(cfg, sizeof cfg,
                 "{\"provider\":\"doku\",\"base_url\":\"%s\",\"client_id\":\"SANDBOX-CLIENT\",\"private_key_file\":\"%s\",\"ca_file\":\"%s\"}",
                 base_url, wrong, ca_file);
        expect_provider_error(cfg, "wrong key", 401, "4017300");
        check(strstr(b2b_last_error(), "Signature") != NULL, "signature message: %s", b2b_last_error());
    }

    out = token_expect(config_for("snap", "FAULT-SLOW", "\"timeout_ms\":500"), B2B_TIMEOUT, "slow server");
    b2b_free(out);
    out = token_expect(config_for("snap", "FAULT-GARBAGE", NULL), B2B_PROTOCOL, "garbage body");
    b2b_free(out);
    out = token_expect(config_for("snap", "FAULT-HUGE", NULL), B2B_PROTOCOL, "huge body");
    check(strstr(b2b_last_error(), "limit") != NULL, "huge message: %s", b2b_last_error());
    b2b_free(out);
    out = token_expect(config_for("snap", "FAULT-NOTOKEN", NULL), B2B_PROTOCOL, "tokenless body");
    b2b_free(out);
    out = token_expect(config_for("snap", "FAULT-DROP", NULL), B2B_TRANSPORT, "dropped connection");
    b2b_free(out);

    /* Untrusted certificate: no ca_file, so the system store is used. */
    snprintf(cfg, sizeof cfg,
             "{\"provider\":\"doku\",\"base_url\":\"%s\",\"client_id\":\"SANDBOX-CLIENT\",\"private_key_file\":\"%s\"}",
             base_url, key_file);
    out = token_expect(cfg, B2B_TRANSPORT, "untrusted certificate");
    check(strstr(b2b_last_error(), "certificate") != NULL, "certificate message: %s", b2b_last_error());
    b2b_free(out);

    /* Refused port. */
    snprintf(cfg, sizeof cfg,
             "{\"provider\":\"snap\",\"base_url\":\"https://127.0.0.1:1\",\"client_id\":\"c\",\"private_key_file\":\"%s\",\"connect_timeout_ms\":2000}",
             key_file);
    out = token_expect(cfg, B2B_TRANSPORT, "refused port");
    b2b_free(out);

    /* Plain http needs the opt-in; with it, the request goes through. */
    if (http_base_url[0]) {
        snprintf(cfg, sizeof cfg,
                 "{\"provider\":\"snap\",\"base_url\":\"%s\",\"client_id\":\"SANDBOX-CLIENT\",\"private_key_file\":\"%s\"}",
                 http_base_url, key_file);
        out = token_expect(cfg, B2B_INVALID_ARGUMENT, "http without opt-in");
        check(strstr(b2b_last_error(), "allow_http") != NULL, "opt-in named: %s", b2b_last_error());
        snprintf(cfg, sizeof cfg,
                 "{\"provider\":\"snap\",\"base_url\":\"%s\",\"client_id\":\"SANDBOX-CLIENT\",\"private_key_file\":\"%s\",\"allow_http\":true}",
                 http_base_url, key_file);
        out = token_expect(cfg, B2B_OK, "http with opt-in");
        b2b_free(out);
    }

    /* Arguments and configs. */
    out = token_expect(NULL, B2B_INVALID_ARGUMENT, "NULL config");
    check(b2b_get_token("{}", NULL) == B2B_INVALID_ARGUMENT, "NULL out");
    out = token_expect("{not json", B2B_INVALID_ARGUMENT, "malformed JSON");
    out = token_expect("{\"provider\":\"doku\",\"environment\":\"sandbox\",\"client_id\":\"c\",\"private_key\":\"k\",\"timeout\":1}",
                       B2B_INVALID_ARGUMENT, "unknown key");
    check(strstr(b2b_last_error(), "`timeout`") != NULL, "unknown key named: %s", b2b_last_error());
    out = token_expect("{\"provider\":\"ovo\"}", B2B_INVALID_ARGUMENT, "unknown provider");
    out = token_expect("{\"provider\":\"doku\",\"client_id\":\"\xc3\x28\"}", B2B_INVALID_ARGUMENT, "invalid UTF-8 config");

    /* Secrets stay out of messages. */
    snprintf(cfg, sizeof cfg,
             "{\"provider\":\"klikoo\",\"base_url\":\"%s\",\"client_id\":\"%s\",\"private_key\":\"TOPSECRETKEYTEXT\",\"client_secret\":\"TOPSECRETCLIENT\",\"ca_file\":\"%s\"}",
             base_url, klikoo_id, ca_file);
    out = token_expect(cfg, B2B_KEY, "bad inline key");
    check(!strstr(b2b_last_error(), "TOPSECRET") && !strstr(b2b_last_error_json(), "TOPSECRET"), "secret leaked: %s",
          b2b_last_error());
}

static int loops = 40, token_loops = 4;

/* Independent HMAC-SHA512 over the documented string to sign, with OpenSSL. */
static void expected_hmac(const char *secret, const char *method, const char *path, const char *token,
                          const char *minified_body, const char *ts, char *out, size_t cap) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)minified_body, strlen(minified_body), digest);
    char hex[2 * SHA256_DIGEST_LENGTH + 1];
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) sprintf(hex + 2 * i, "%02x", digest[i]);
    char data[4096];
    snprintf(data, sizeof data, "%s:%s:%s:%s:%s", method, path, token, hex, ts);
    unsigned char mac[64];
    unsigned int mac_len = 0;
    HMAC(EVP_sha512(), secret, (int)strlen(secret), (const unsigned char *)data, strlen(data), mac, &mac_len);
    char b64[128];
    EVP_EncodeBlock((unsigned char *)b64, mac, (int)mac_len);
    snprintf(out, cap, "%s", b64);
}

static void test_service_and_verify(void) {
    char *sig = NULL, *min = NULL, *ts = NULL;
    const char *body = "{ \"amount\" : {\"value\":\"10000.00\", \"currency\":\"IDR\"},\n \"note\":\"a \\\"quoted\\\" \\/ slash\", \"n\": 1.0e+2 }";
    const char *minified = "{\"amount\":{\"value\":\"10000.00\",\"currency\":\"IDR\"},\"note\":\"a \\\"quoted\\\" \\/ slash\",\"n\":1.0e+2}";
    check(b2b_minify_json(body, &min) == B2B_OK && min && strcmp(min, minified) == 0, "minify: %s", min ? min : "");
    b2b_free(min);
    min = NULL;
    check(b2b_minify_json("{bad", &min) == B2B_INVALID_ARGUMENT && min == NULL, "minify rejects non-JSON");

    const char *stamp = "2024-03-05T10:37:16+07:00";
    char want[128];
    expected_hmac("s3cr3t", "POST", "/v1.0/qr/qr-mpm-generate?x=1", "tok", minified, stamp, want, sizeof want);
    check(b2b_service_signature("s3cr3t", "post", "/v1.0/qr/qr-mpm-generate?x=1", "tok", body, stamp, &sig) == B2B_OK &&
              sig && strcmp(sig, want) == 0,
          "HMAC equals OpenSSL's: %s vs %s", sig ? sig : "", want);
    check(b2b_verify_service_signature("s3cr3t", "POST", "/v1.0/qr/qr-mpm-generate?x=1", "tok", minified, stamp, sig, 0) == B2B_OK,
          "HMAC verifies");
    check(b2b_verify_service_signature("other", "POST", "/v1.0/qr/qr-mpm-generate?x=1", "tok", minified, stamp, sig, 0) ==
              B2B_SIGNATURE_INVALID,
          "wrong secret rejected");
    check(b2b_verify_service_signature("s3cr3t", "POST", "/v1.0/qr/qr-mpm-generate?x=1", "tok", minified, stamp, sig, 300) ==
              B2B_SIGNATURE_INVALID,
          "stale timestamp rejected");
    b2b_free(sig);
    sig = NULL;
    /* No body: the hash of the empty string, NULL and "" alike. */
    expected_hmac("s", "GET", "/p", "t", "", stamp, want, sizeof want);
    check(b2b_service_signature("s", "GET", "/p", "t", NULL, stamp, &sig) == B2B_OK && strcmp(sig, want) == 0, "NULL body");
    b2b_free(sig);
    check(b2b_service_signature("s", "GET", "/p", "t", "", stamp, &sig) == B2B_OK && strcmp(sig, want) == 0, "empty body");
    b2b_free(sig);
    check(b2b_service_signature(NULL, "GET", "/p", "t", NULL, stamp, &sig) == B2B_INVALID_ARGUMENT, "NULL secret");
    check(!strstr(b2b_last_error(), "s3cr3t"), "no secret in message");

    /* RSA: token-request and service signatures verify with the public key. */
    char pub_path[600];
    snprintf(pub_path, sizeof pub_path, "%.*smerchant-public.pem", (int)(strrchr(key_file, '/') - key_file + 1), key_file);
    char *pub = read_file(pub_path);
    check(b2b_timestamp("wib", &ts) == B2B_OK && ts && strlen(ts) == 25 && strcmp(ts + 19, "+07:00") == 0, "wib: %s", ts);
    check(b2b_sign(demo_key, "CLIENT", ts, &sig) == B2B_OK, "sign for verify");
    check(b2b_verify(pub, "CLIENT", ts, sig, 300) == B2B_OK, "fresh B2B signature verifies: %s", b2b_last_error());
    check(b2b_verify(pub, "CLIENT2", ts, sig, 300) == B2B_SIGNATURE_INVALID, "other client rejected");
    check(b2b_verify(pub, "CLIENT", "not a time", sig, 300) == B2B_SIGNATURE_INVALID, "malformed timestamp rejected");
    check(b2b_verify("garbage", "CLIENT", ts, sig, 300) == B2B_KEY, "bad public key");
    check(b2b_verify(demo_key, "CLIENT", ts, sig, 300) == B2B_KEY, "private key where public is needed");
    check(b2b_verify(pub, "CLIENT", ts, sig, -1) == B2B_INVALID_ARGUMENT, "negative skew");
    b2b_free(sig);
    sig = NULL;
    check(b2b_service_signature_rsa(demo_key, "POST", "/v1.0/transfer-va/payment", body, ts, &sig) == B2B_OK, "rsa service sign");
    check(b2b_verify_service_signature_rsa(pub, "POST", "/v1.0/transfer-va/payment", minified, ts, sig, 300) == B2B_OK,
          "rsa service verifies");
    check(b2b_verify_service_signature_rsa(pub, "POST", "/v1.0/transfer-va/payment", "{\"amount\":1}", ts, sig, 300) ==
              B2B_SIGNATURE_INVALID,
          "tampered body rejected");
    check(b2b_verify_service_signature_rsa(pub, "POST", "/v1.0/transfer-va/payment", "{\"amount\":", ts, sig, 300) ==
              B2B_SIGNATURE_INVALID,
          "a body that is not JSON cannot verify");
    check(b2b_verify_service_signature_rsa(pub, "POST", "", minified, ts, sig, 300) == B2B_INVALID_ARGUMENT,
          "the receiver's empty path is its own mistake");
    b2b_free(sig);
    b2b_free(ts);
    ts = NULL;
    const char *styles[] = {"utc", "utc_ms", "wib_ms"};
    const size_t lens[] = {20, 24, 29};
    for (int i = 0; i < 3; i++) {
        check(b2b_timestamp(styles[i], &ts) == B2B_OK && strlen(ts) == lens[i], "%s: %s", styles[i], ts);
        b2b_free(ts);
        ts = NULL;
    }
    check(b2b_timestamp("local", &ts) == B2B_INVALID_ARGUMENT && ts == NULL, "unknown style");
    free(pub);
}

static void test_client_handle(void) {
    b2b_client *client = NULL;
    check(b2b_client_new(NULL, &client) == B2B_INVALID_ARGUMENT && client == NULL, "client NULL config");
    check(b2b_client_new(config_for("doku", "SANDBOX-CLIENT", "\"cache_file\":\"/nonexistent-dir/x\""), &client) ==
              B2B_INVALID_ARGUMENT && strstr(b2b_last_error(), "cache_file"),
          "cache_file in a missing directory");
    /* A cache_file that is a directory can be neither read nor replaced:
     * a miss every time, never an error. */
    check(b2b_client_new(config_for("doku", "SANDBOX-CLIENT", "\"cache_file\":\"/tmp\""), &client) == B2B_OK,
          "client new: %s", b2b_last_error());
    char *a = NULL, *b = NULL, *c = NULL;
    check(b2b_client_token(client, &a) == B2B_OK && strstr(a, "\"cached\":false"), "first token fetched");
    check(b2b_client_token(client, &b) == B2B_OK && strstr(b, "\"cached\":true"), "second token cached");
    char ta[256], tb[256], tc[256];
    json_str(a, "access_token", ta, sizeof ta);
    json_str(b, "access_token", tb, sizeof tb);
    check(strcmp(ta, tb) == 0, "same token while fresh");
    check(b2b_client_invalidate(client) == B2B_OK, "invalidate");
    check(b2b_client_token(client, &c) == B2B_OK && strstr(c, "\"cached\":false"), "token after invalidate fetched");
    json_str(c, "access_token", tc, sizeof tc);
    check(strcmp(ta, tc) != 0, "new token after invalidate");
    b2b_free(a);
    b2b_free(b);
    b2b_free(c);
    check(b2b_client_token(NULL, &a) == B2B_INVALID_ARGUMENT, "NULL client");
    check(b2b_client_token(client, NULL) == B2B_INVALID_ARGUMENT, "NULL out");
    check(b2b_client_invalidate(NULL) == B2B_INVALID_ARGUMENT, "NULL client invalidate");
    b2b_client_free(client);
    b2b_client_free(NULL);

    /* Errors at creation: the key is parsed once, up front. */
    client = NULL;
    check(b2b_client_new("{\"provider\":\"snap\",\"base_url\":\"https://127.0.0.1:1\",\"client_id\":\"c\",\"private_key\":\"nope\"}", &client) ==
              B2B_KEY && client == NULL,
          "client with bad key");
    check(b2b_client_new(config_for("snap", "FAULT-500", "\"max_retries\":0"), &client) == B2B_OK, "fault client");
    char *out = NULL;
    check(b2b_client_token(client, &out) == B2B_PROVIDER && out == NULL, "client provider error");
    check(strstr(b2b_last_error_json(), "\"http_status\":500") != NULL, "client error json: %s", b2b_last_error_json());
    b2b_client_free(client);
}

/* Service calls through the handle: headers checked against an independent
 * HMAC, a VA inquiry the sandbox accepts, a revoked token recovered, a
 * duplicate X-EXTERNAL-ID answered (not an error), arguments refused. */
static void test_service_calls(void) {
    char *id = NULL;
    check(b2b_external_id(&id) == B2B_OK && id && strlen(id) == 32 && strspn(id, "0123456789") == 32 && id[0] != '0',
          "external id: %s", id ? id : "(null)");
    char *id2 = NULL;
    check(b2b_external_id(&id2) == B2B_OK && strcmp(id, id2) != 0, "external ids differ");
    b2b_free(id);
    b2b_free(id2);
    check(b2b_external_id(NULL) == B2B_INVALID_ARGUMENT, "external id NULL out");

    char extra[256];
    snprintf(extra, sizeof extra, "\"client_secret\":\"%s\",\"channel_id\":\"95221\"", klikoo_secret);
    b2b_client *client = NULL;
    check(b2b_client_new(config_for("snap", "SANDBOX-CLIENT", extra), &client) == B2B_OK, "service client: %s",
          b2b_last_error());
    const char *body = "{ \"partnerServiceId\": \"  088899\", \"customerNo\": \"12345678901234567890\", "
                       "\"virtualAccountNo\": \"  08889912345678901234567890\", \"inquiryRequestId\": \"abc\" }";
    const char *minified = "{\"partnerServiceId\":\"  088899\",\"customerNo\":\"12345678901234567890\","
                           "\"virtualAccountNo\":\"  08889912345678901234567890\",\"inquiryRequestId\":\"abc\"}";
    char *headers = NULL;
    int rc = b2b_client_headers(client, "POST", "/v1.0/transfer-va/inquiry", body, &headers);
    check(rc == B2B_OK, "client headers: %s", rc ? b2b_last_error() : "ok");
    if (rc == B2B_OK) {
        const char *order[] = {"Content-Type", "Authorization", "X-TIMESTAMP", "X-SIGNATURE",
                               "X-PARTNER-ID", "X-EXTERNAL-ID", "CHANNEL-ID"};
        const char *at = headers;
        for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
            char pat[64];
            snprintf(pat, sizeof pat, "\"%s\"", order[i]);
            const char *p = strstr(at, pat);
            check(p != NULL, "header %s present and in order", order[i]);
            if (p) at = p;
        }
        char auth[512], ts[64], sig[256], want[256];
        json_str(headers, "Authorization", auth, sizeof auth);
        json_str(headers, "X-TIMESTAMP", ts, sizeof ts);
        json_str(headers, "X-SIGNATURE", sig, sizeof sig);
        check(strncmp(auth, "Bearer ", 7) == 0, "Authorization is Bearer");
        expected_hmac(klikoo_secret, "POST", "/v1.0/transfer-va/inquiry", auth + 7, minified, ts, want, sizeof want);
        check(strcmp(sig, want) == 0, "X-SIGNATURE equals an independent HMAC-SHA512");
    }
    b2b_free(headers);

    char *resp = NULL;
    char request[1024];
    snprintf(request, sizeof request,
             "{\"method\":\"POST\",\"path\":\"/v1.0/transfer-va/inquiry\",\"body\":%s,\"external_id\":\"C-ABI-1\"}", body);
    rc = b2b_client_request(client, request, &resp);
    check(rc == B2B_OK && json_int(resp, "http_status") == 200, "VA inquiry: %s", rc ? b2b_last_error() : resp);
    if (rc == B2B_OK) {
        char code[32];
        json_str(resp, "response_code", code, sizeof code);
        check(strcmp(code, "2002400") == 0, "VA inquiry response code %s", code);
    }
    b2b_free(resp);
    resp = NULL;
    /* The same X-EXTERNAL-ID again: the provider's 409 is an answer. */
    rc = b2b_client_request(client, request, &resp);
    check(rc == B2B_OK && json_int(resp, "http_status") == 409, "duplicate external id: %s", rc ? b2b_last_error() : resp);
    b2b_free(resp);
    resp = NULL;

    /* Revoke every token at the sandbox (its control endpoint, reached with
     * the same call): the next call recovers by itself. */
    rc = b2b_client_request(client, "{\"method\":\"POST\",\"path\":\"/sandbox/tokens/revoke\"}", &resp);
    check(rc == B2B_OK && strstr(resp, "revoked"), "revoke tokens at the sandbox: %s", rc ? b2b_last_error() : resp);
    b2b_free(resp);
    resp = NULL;
    rc = b2b_client_request(client, "{\"method\":\"POST\",\"path\":\"/v1.0/transfer-va/inquiry\",\"body\":{\"a\":1}}", &resp);
    check(rc == B2B_OK && strstr(resp, "\"token_renewed\":true") && json_int(resp, "attempts") == 2,
          "revoked token recovered: %s", rc ? b2b_last_error() : resp);
    b2b_free(resp);
    resp = NULL;

    /* Arguments. */
    check(b2b_client_request(client, "{\"method\":\"POST\"}", &resp) == B2B_INVALID_ARGUMENT && resp == NULL &&
              strstr(b2b_last_error(), "path"),
          "request without path");
    check(b2b_client_request(client, "{\"method\":\"POST\",\"path\":\"/p\",\"body\":\"not json\"}", &resp) ==
              B2B_INVALID_ARGUMENT,
          "request with a body that is not JSON");
    check(b2b_client_request(NULL, "{}", &resp) == B2B_INVALID_ARGUMENT, "request NULL client");
    check(b2b_client_request(client, NULL, &resp) == B2B_INVALID_ARGUMENT, "request NULL json");
    check(b2b_client_request(client, "{}", NULL) == B2B_INVALID_ARGUMENT, "request NULL out");
    check(b2b_client_headers(client, "POST", NULL, NULL, &headers) == B2B_INVALID_ARGUMENT, "headers NULL path");
    check(b2b_client_headers(client, "PO ST", "/p", NULL, &headers) == B2B_INVALID_ARGUMENT, "headers bad method");
    b2b_client_free(client);

    /* A token-only client: service calls name what is missing. */
    check(b2b_client_new(config_for("snap", "SANDBOX-CLIENT", NULL), &client) == B2B_OK, "token-only client");
    check(b2b_client_headers(client, "POST", "/p", NULL, &headers) == B2B_INVALID_ARGUMENT &&
              strstr(b2b_last_error(), "channel_id"),
          "service call without channel_id: %s", b2b_last_error());
    b2b_client_free(client);
}

/* The customer (B2B2C) token: an auth code (unique per run: the sandbox
 * takes each once) for both tokens, a service call carrying the customer
 * token, a refresh, a refusal, and bad requests. */
static void test_customer_token(void) {
    char extra[256];
    snprintf(extra, sizeof extra, "\"client_secret\":\"%s\",\"channel_id\":\"95221\"", klikoo_secret);
    b2b_client *client = NULL;
    check(b2b_client_new(config_for("snap", "SANDBOX-CLIENT", extra), &client) == B2B_OK, "b2b2c client: %s",
          b2b_last_error());
    char request[512], customer[64];
    snprintf(customer, sizeof customer, "c-abi-%ld", (long)getpid());
    snprintf(request, sizeof request, "{\"auth_code\":\"SANDBOX-AUTH-%s\",\"additional_info\":{\"k\":\"v\"}}",
             customer);
    char *out = NULL;
    int rc = b2b_client_customer_token(client, request, &out);
    check(rc == B2B_OK, "customer token: %s", rc ? b2b_last_error() : "ok");
    char access[256] = "", refresh[256] = "", who[64] = "";
    if (rc == B2B_OK) {
        json_str(out, "access_token", access, sizeof access);
        json_str(out, "refresh_token", refresh, sizeof refresh);
        json_str(out, "customer_id", who, sizeof who);
        check(strlen(access) == 64 && strlen(refresh) == 64 && strcmp(access, refresh) != 0, "both tokens");
        check(strcmp(who, customer) == 0, "customer id %s", who);
        check(json_int(out, "access_token_expires_at") > (long long)time(NULL), "access expiry ahead");
        check(strstr(out, "\"additional_info\":{\"k\":\"v\",\"customerId\"") != NULL, "additional_info: %s", out);
    }
    b2b_free(out);
    out = NULL;

    char call[1024];
    snprintf(call, sizeof call,
             "{\"method\":\"POST\",\"path\":\"/v1.0/balance-inquiry\",\"body\":{\"accountNo\":\"1\"},"
             "\"customer_token\":\"%s\"}", access);
    rc = b2b_client_request(client, call, &out);
    check(rc == B2B_OK && json_int(out, "http_status") == 200, "call with customer token: %s",
          rc ? b2b_last_error() : out);
    b2b_free(out);
    out = NULL;
    rc = b2b_client_request(client,
                            "{\"method\":\"POST\",\"path\":\"/v1.0/balance-inquiry\",\"body\":{},"
                            "\"customer_token\":\"bm90LWlzc3VlZA\"}", &out);
    check(rc == B2B_OK && json_int(out, "http_status") == 401 && strstr(out, "\"response_code\":\"4011102\""),
          "call with a bad customer token: %s", rc ? b2b_last_error() : out);
    b2b_free(out);
    out = NULL;

    snprintf(request, sizeof request, "{\"refresh_token\":\"%s\"}", refresh);
    rc = b2b_client_customer_token(client, request, &out);
    char again[256] = "";
    if (rc == B2B_OK) json_str(out, "access_token", again, sizeof again);
    check(rc == B2B_OK && strlen(again) == 64 && strcmp(again, access) != 0, "refreshed: %s",
          rc ? b2b_last_error() : "ok");
    b2b_free(out);
    out = NULL;

    /* Used once already: the provider's refusal, nothing written. */
    rc = b2b_client_customer_token(client, request, &out);
    check(rc == B2B_PROVIDER && out == NULL && strstr(b2b_last_error_json(), "\"response_code\":\"4017400\"") &&
              strstr(b2b_last_error(), refresh) == NULL,
          "used refresh token refused: %s", b2b_last_error_json());

    const char *bad[][2] = {
        {"{\"auth_code\":\"a\",\"refresh_token\":\"b\"}", "exactly one"},
        {"{}", "needs `auth_code`"},
        {"{\"auth_code\":1}", "must be a string"},
        {"{\"refresh_token\":\"a b\"}", "RFC 6750"},
        {"[]", "JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rc = b2b_client_customer_token(client, bad[i][0], &out);
        check(rc == B2B_INVALID_ARGUMENT && out == NULL && strstr(b2b_last_error(), bad[i][1]),
              "bad customer token request %s: %s", bad[i][0], b2b_last_error());
    }
    check(b2b_client_customer_token(NULL, "{}", &out) == B2B_INVALID_ARGUMENT, "customer token NULL client");
    check(b2b_client_customer_token(client, NULL, &out) == B2B_INVALID_ARGUMENT, "customer token NULL json");
    check(b2b_client_customer_token(client, "{\"auth_code\":\"x\"}", NULL) == B2B_INVALID_ARGUMENT,
          "customer token NULL out");
    b2b_client_free(client);
}

/* The merchant's side through the C ABI: a token request signed with the
 * sandbox's merchant key (registered here as the partner) gets a JWT, a
 * notification with it is accepted once, its replay refused. */
static void test_server(void) {
    char pub_file[600];
    snprintf(pub_file, sizeof pub_file, "%s", key_file);
    char *slash = strrchr(pub_file, '/');
    if (slash) snprintf(slash + 1, sizeof pub_file - (size_t)(slash + 1 - pub_file), "merchant-public.pem");
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "{\"partners\":[{\"client_id\":\"PARTNER-1\",\"public_key_file\":\"%s\"}],"
             "\"token_secret\":\"0123456789abcdef0123456789abcdef\"}", pub_file);
    b2b_server *server = NULL;
    int rc = b2b_server_new(cfg, &server);
    check(rc == B2B_OK && server, "server new: %s", rc ? b2b_last_error() : "ok");
    if (rc != B2B_OK) return;

    char *ts = NULL, *sig = NULL, *verdict = NULL;
    check(b2b_timestamp("wib", &ts) == B2B_OK, "timestamp");
    check(b2b_sign(demo_key, "PARTNER-1", ts, &sig) == B2B_OK, "sign token request");
    char req[2048];
    snprintf(req, sizeof req,
             "{\"method\":\"POST\",\"path\":\"/v1.0/access-token/b2b\",\"headers\":{\"X-CLIENT-KEY\":\"PARTNER-1\","
             "\"X-TIMESTAMP\":\"%s\",\"X-SIGNATURE\":\"%s\"},\"body\":\"{\\\"grantType\\\":\\\"client_credentials\\\"}\"}",
             ts, sig);
    rc = b2b_server_token(server, req, &verdict);
    check(rc == B2B_OK && strstr(verdict, "\"accepted\":true") && json_int(verdict, "http_status") == 200,
          "token request accepted: %s", rc ? b2b_last_error() : verdict);
    b2b_free(verdict);
    verdict = NULL;
    /* Signed by another client id: refused with the SNAP code, still B2B_OK. */
    snprintf(req, sizeof req,
             "{\"method\":\"POST\",\"path\":\"/t\",\"headers\":{\"X-CLIENT-KEY\":\"UNKNOWN\",\"X-TIMESTAMP\":\"%s\","
             "\"X-SIGNATURE\":\"%s\"},\"body\":\"{}\"}", ts, sig);
    rc = b2b_server_token(server, req, &verdict);
    check(rc == B2B_OK && strstr(verdict, "\"accepted\":false") && strstr(verdict, "4017300") &&
              json_int(verdict, "http_status") == 401,
          "unknown client refused: %s", rc ? b2b_last_error() : verdict);
    b2b_free(verdict);
    verdict = NULL;
    check(b2b_server_token(server, "not json", &verdict) == B2B_INVALID_ARGUMENT && verdict == NULL,
          "request_json that is not JSON");
    check(b2b_server_check(NULL, "{}", &verdict) == B2B_INVALID_ARGUMENT, "check NULL server");
    check(b2b_server_check(server, "{}", NULL) == B2B_INVALID_ARGUMENT, "check NULL out");
    rc = b2b_server_check(server, "{\"method\":\"POST\",\"path\":\"/n\",\"headers\":{},\"body\":\"{}\"}", &verdict);
    check(rc == B2B_OK && strstr(verdict, "4010001"), "notification without token: %s", rc ? b2b_last_error() : verdict);
    b2b_free(verdict);
    b2b_free(ts);
    b2b_free(sig);
    b2b_server_free(server);
    b2b_server_free(NULL);
    server = NULL;
    check(b2b_server_new("{\"partners\":[]}", &server) == B2B_INVALID_ARGUMENT && server == NULL &&
              strstr(b2b_last_error(), "partners"),
          "server config without partners");
}

static void *client_worker(void *arg) {
    b2b_client *client = arg;
    for (int i = 0; i < loops; i++) {
        char *json = NULL;
        int rc = b2b_client_token(client, &json);
        check(rc == B2B_OK && json, "shared client token: %d", rc);
        b2b_free(json);
        if (i % 10 == 5) b2b_client_invalidate(client);
    }
    return NULL;
}

static void test_shared_client(void) {
    b2b_client *client = NULL;
    check(b2b_client_new(config_for("nicepay", "SANDBOX-CLIENT", NULL), &client) == B2B_OK, "shared client");
    pthread_t threads[8];
    for (int i = 0; i < 8; i++) pthread_create(&threads[i], NULL, client_worker, client);
    for (int i = 0; i < 8; i++) pthread_join(threads[i], NULL);
    b2b_client_free(client);
}

static char expected_sig[512];

static void *worker(void *arg) {
    long id = (long)arg;
    for (int i = 0; i < loops; i++) {
        char *sig = NULL;
        int rc = b2b_sign(demo_key, "client", "2024-01-01T00:00:00+07:00", &sig);
        check(rc == B2B_OK && sig && strcmp(sig, expected_sig) == 0, "thread %ld sign %d", id, i);
        b2b_free(sig);
    }
    for (int i = 0; i < token_loops; i++) {
        char *json = NULL;
        /* Eight handshakes at once under valgrind on a loaded 2-core CI box
         * can outlast the 10 s default; this test is about thread safety,
         * not speed, so it allows a minute. */
        int rc = b2b_get_token(config_for(id % 2 ? "doku" : "nicepay", "SANDBOX-CLIENT",
                                          "\"timeout_ms\":60000,\"connect_timeout_ms\":30000"),
                               &json);
        check(rc == B2B_OK && json && strstr(json, "access_token"), "thread %ld token %d: %d (%s)", id, i,
              rc, rc ? b2b_last_error() : "ok");
        b2b_free(json);
    }
    /* The last error is per thread: a failure here is seen here only. */
    char *sig = NULL;
    b2b_sign(NULL, "c", "t", &sig);
    check(b2b_last_error() && strstr(b2b_last_error(), "private_key"), "thread %ld last error", id);
    return NULL;
}

static void test_threads(void) {
    char *sig = NULL;
    b2b_sign(demo_key, "client", "2024-01-01T00:00:00+07:00", &sig);
    snprintf(expected_sig, sizeof expected_sig, "%s", sig ? sig : "");
    b2b_free(sig);
    /* This thread's last error before the workers run. */
    b2b_get_token("{", &sig);
    const char *mine = b2b_last_error();
    char before[256];
    snprintf(before, sizeof before, "%s", mine ? mine : "");

    pthread_t threads[8];
    for (long i = 0; i < 8; i++) pthread_create(&threads[i], NULL, worker, (void *)i);
    for (int i = 0; i < 8; i++) pthread_join(threads[i], NULL);
    check(strcmp(before, b2b_last_error()) == 0, "other threads' errors leaked into this thread");
}

int main(void) {
    const char *dir = getenv("SNAPB2B_SANDBOX_DIR");
    if (!dir) {
        fprintf(stderr, "SNAPB2B_SANDBOX_DIR is not set (run through scripts/with-sandbox.sh)\n");
        return 2;
    }
    if (getenv("SNAPB2B_TEST_LIGHT")) loops = 4, token_loops = 1;
    char path[600];
    snprintf(path, sizeof path, "%s/sandbox.json", dir);
    char *info = read_file(path);
    if (!info) { fprintf(stderr, "cannot read %s\n", path); return 2; }
    json_str(info, "base_url", base_url, sizeof base_url);
    json_str(info, "http_base_url", http_base_url, sizeof http_base_url);
    json_str(info, "ca_file", ca_file, sizeof ca_file);
    json_str(info, "private_key_file", key_file, sizeof key_file);
    json_str(info, "klikoo_client_id", klikoo_id, sizeof klikoo_id);
    json_str(info, "klikoo_client_secret", klikoo_secret, sizeof klikoo_secret);
    free(info);
    demo_key = read_file(key_file);
    if (!demo_key) { fprintf(stderr, "cannot read %s\n", key_file); return 2; }

    test_version_and_names();
    test_sign_arguments();
    test_tokens();
    test_error_classes();
    test_threads();
    test_service_and_verify();
    test_client_handle();
    test_service_calls();
    test_customer_token();
    test_server();
    test_shared_client();

    free(demo_key);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
