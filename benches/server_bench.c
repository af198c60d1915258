/*
 * The merchant's side: b2b_server_token and b2b_server_check against raw
 * OpenSSL RSA-2048 verification of the same data, in the same run.
 *
 *   server_bench SECONDS REPEATS
 *
 * Generates a 2048-bit provider key with OpenSSL, builds the server config
 * with its public key PEM inline, and signs everything with OpenSSL before
 * timing. Prints "name calls_per_second calls_per_cpu_second" lines (best of
 * REPEATS runs of SECONDS, by wall-clock time and by the process's CPU time):
 *
 *   server_token          b2b_server_token on a signed token request
 *                         (RSA SHA256 over X-CLIENT-KEY|X-TIMESTAMP), each
 *                         answer checked: accepted, http_status 200
 *   openssl_verify_token  EVP_DigestVerify of that signature over the same
 *                         data, public key parsed once, signature decoded once
 *   server_check          b2b_server_check on RSA-signed notifications (JWT
 *                         from b2b_server_token), each with its own
 *                         X-EXTERNAL-ID, each verdict checked: accepted
 *   openssl_verify_check  EVP_DigestVerify over the notification's
 *                         string-to-sign (METHOD:path:hex(sha256(body)):ts,
 *                         computed once), key parsed and signature decoded once
 *
 * and "server_token_accepted N", "server_check_accepted N": how many answers
 * the timed loops got, all of them accepted (any other answer exits 2).
 *
 * Notifications: one body and one timestamp, so one signature (X-EXTERNAL-ID
 * is not signed); the request texts, one per X-EXTERNAL-ID, are written into a
 * pool before each round, sized from a calibration at 4x the rate seen. A
 * round that uses up its pool ends early: the rate stays calls / elapsed.
 */
#define _POSIX_C_SOURCE 200809L
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "snapb2b.h"

#define PARTNER "BENCH-PROVIDER"
#define NOTIFY_PATH "/v1.0/transfer-va/payment"
/* Already minified, so the signer and the server hash the same bytes. */
#define PAYMENT "{\"partnerServiceId\":\"  088899\",\"paidAmount\":{\"value\":\"150000.00\",\"currency\":\"IDR\"}}"
#define PAYMENT_ESCAPED \
    "{\\\"partnerServiceId\\\":\\\"  088899\\\",\\\"paidAmount\\\":{\\\"value\\\":\\\"150000.00\\\",\\\"currency\\\":\\\"IDR\\\"}}"

static double run_seconds;
static b2b_server *server;
static EVP_PKEY *pub;              /* the provider's public key, parsed once */
static char token_data[256];       /* PARTNER "|" timestamp */
static char check_data[512];       /* POST:path:hex(sha256(body)):timestamp */
static unsigned char token_sig[256], check_sig[256];
static size_t token_sig_len, check_sig_len;
static char token_request[4096];
static char *pool;                 /* notification request texts, NUL-separated */
static size_t pool_stride, pool_count, pool_next;
static char check_template[4096];  /* with "%s" where the X-EXTERNAL-ID goes */
static long external_id;           /* the next X-EXTERNAL-ID number */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what) {
    fprintf(stderr, "server_bench: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(2);
}

static void die_lib(const char *what) {
    fprintf(stderr, "server_bench: %s: %s\n", what, b2b_last_error());
    exit(2);
}

/* RSA SHA256 (PKCS#1 v1.5) of data with key, raw and as base64. */
static size_t sign(EVP_PKEY *key, const char *data, unsigned char *sig, char *b64) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t len = 256;
    if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(ctx, sig, &len, (const unsigned char *)data, strlen(data)) != 1)
        die("EVP_DigestSign failed");
    EVP_MD_CTX_free(ctx);
    EVP_EncodeBlock((unsigned char *)b64, sig, (int)len);
    return len;
}

/* The baseline: what a C merchant holding the parsed key does per request. */
static void openssl_verify(const char *data, const unsigned char *sig, size_t sig_len) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) != 1 ||
        EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)data, strlen(data)) != 1)
        die("EVP_DigestVerify did not verify");
    EVP_MD_CTX_free(ctx);
}

static void server_token_once(void) {
    char *verdict = NULL;
    if (b2b_server_token(server, token_request, &verdict) != B2B_OK)
        die_lib("b2b_server_token");
    if (strstr(verdict, "\"accepted\":true") == NULL || strstr(verdict, "\"http_status\":200") == NULL) {
        fprintf(stderr, "server_bench: token request refused: %s\n", verdict);
        exit(2);
    }
    b2b_free(verdict);
}

static void server_check_once(const char *request) {
    char *verdict = NULL;
    if (b2b_server_check(server, request, &verdict) != B2B_OK)
        die_lib("b2b_server_check");
    if (strstr(verdict, "\"accepted\":true") == NULL) {
        fprintf(stderr, "server_bench: notification refused: %s\n", verdict);
        exit(2);
    }
    b2b_free(verdict);
}

/* Writes `count` notification requests with fresh X-EXTERNAL-IDs into the pool. */
static void fill_pool(size_t count) {
    if (count > pool_count) {
        free(pool);
        pool = malloc(count * pool_stride);
        if (pool == NULL)
            die("out of memory for the notification pool");
        pool_count = count;
    }
    for (size_t i = 0; i < pool_count; i++) {
        char id[32];
        snprintf(id, sizeof id, "BENCH-%015ld", external_id++);
        if ((size_t)snprintf(pool + i * pool_stride, pool_stride, check_template, id) >= pool_stride)
            die("notification request too long");
    }
    pool_next = 0;
}

enum kind { SERVER_TOKEN, OPENSSL_TOKEN, SERVER_CHECK, OPENSSL_CHECK };

/* Calls until run_seconds have passed (or the pool is used up). */
static double rate(enum kind k, double *per_cpu, long *calls) {
    long n = 0;
    double t0 = now(), c0 = cpu_seconds(), end = t0 + run_seconds;
    do {
        switch (k) {
        case SERVER_TOKEN: server_token_once(); break;
        case OPENSSL_TOKEN: openssl_verify(token_data, token_sig, token_sig_len); break;
        case SERVER_CHECK:
            if (pool_next == pool_count)
                goto done;
            server_check_once(pool + pool_next++ * pool_stride);
            break;
        case OPENSSL_CHECK: openssl_verify(check_data, check_sig, check_sig_len); break;
        }
        n++;
    } while (now() < end);
done:;
    double elapsed = now() - t0;
    *per_cpu = n / (cpu_seconds() - c0);
    *calls = n;
    return n / elapsed;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: server_bench SECONDS REPEATS\n");
        return 2;
    }
    run_seconds = atof(argv[1]);
    int repeats = atoi(argv[2]);

    /* The provider's key, and its public half as PEM text. */
    EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
    EVP_PKEY *key = NULL;
    if (kctx == NULL || EVP_PKEY_keygen_init(kctx) != 1 || EVP_PKEY_CTX_set_rsa_keygen_bits(kctx, 2048) != 1 ||
        EVP_PKEY_keygen(kctx, &key) != 1)
        die("cannot generate an RSA-2048 key");
    EVP_PKEY_CTX_free(kctx);
    BIO *pem_bio = BIO_new(BIO_s_mem());
    if (pem_bio == NULL || PEM_write_bio_PUBKEY(pem_bio, key) != 1)
        die("cannot write the public key");
    char *pem_raw;
    long pem_len = BIO_get_mem_data(pem_bio, &pem_raw);
    /* Inline in JSON: newlines as \n. */
    char pem_json[2048];
    size_t j = 0;
    for (long i = 0; i < pem_len && j + 3 < sizeof pem_json; i++) {
        if (pem_raw[i] == '\n') {
            pem_json[j++] = '\\';
            pem_json[j++] = 'n';
        } else {
            pem_json[j++] = pem_raw[i];
        }
    }
    pem_json[j] = '\0';
    BIO *bio = BIO_new_mem_buf(pem_raw, (int)pem_len); /* the baseline parses the same PEM once */
    pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (pub == NULL)
        die("cannot parse the public key");

    char config[4096];
    snprintf(config, sizeof config,
             "{\"partners\":[{\"client_id\":\"" PARTNER "\",\"public_key\":\"%s\"}],"
             "\"token_secret\":\"bench-token-secret-0123456789abcdef\"}",
             pem_json);
    if (b2b_server_new(config, &server) != B2B_OK)
        die_lib("b2b_server_new");

    /* A current WIB timestamp: within max_skew_s (300 s) for the whole run. */
    char *ts = NULL;
    if (b2b_timestamp("wib", &ts) != B2B_OK)
        die_lib("b2b_timestamp");

    /* The token request. */
    char b64[512];
    snprintf(token_data, sizeof token_data, PARTNER "|%s", ts);
    token_sig_len = sign(key, token_data, token_sig, b64);
    snprintf(token_request, sizeof token_request,
             "{\"method\":\"POST\",\"path\":\"/v1.0/access-token/b2b\",\"headers\":{\"X-CLIENT-KEY\":\"" PARTNER
             "\",\"X-TIMESTAMP\":\"%s\",\"X-SIGNATURE\":\"%s\",\"Content-Type\":\"application/json\"},"
             "\"body\":\"{\\\"grantType\\\":\\\"client_credentials\\\"}\"}",
             ts, b64);

    /* Its JWT, for the notifications: "accessToken" inside the escaped body. */
    char *verdict = NULL;
    if (b2b_server_token(server, token_request, &verdict) != B2B_OK)
        die_lib("b2b_server_token");
    const char *at = strstr(verdict, "accessToken\\\":\\\"");
    if (strstr(verdict, "\"accepted\":true") == NULL || at == NULL) {
        fprintf(stderr, "server_bench: token request refused: %s\n", verdict);
        return 2;
    }
    at += strlen("accessToken\\\":\\\"");
    char jwt[1024];
    size_t jl = strcspn(at, "\\\"");
    if (jl >= sizeof jwt)
        die("access token too long");
    memcpy(jwt, at, jl);
    jwt[jl] = '\0';
    b2b_free(verdict);

    /* The notification's string-to-sign and signature. */
    unsigned char digest[32];
    unsigned int dl = 0;
    if (EVP_Digest(PAYMENT, strlen(PAYMENT), digest, &dl, EVP_sha256(), NULL) != 1)
        die("EVP_Digest failed");
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    snprintf(check_data, sizeof check_data, "POST:" NOTIFY_PATH ":%s:%s", hex, ts);
    check_sig_len = sign(key, check_data, check_sig, b64);
    int tl = snprintf(check_template, sizeof check_template,
                      "{\"method\":\"POST\",\"path\":\"" NOTIFY_PATH "\",\"headers\":{"
                      "\"Authorization\":\"Bearer %s\",\"X-TIMESTAMP\":\"%s\",\"X-SIGNATURE\":\"%s\","
                      "\"X-PARTNER-ID\":\"" PARTNER "\",\"X-EXTERNAL-ID\":\"%%s\",\"CHANNEL-ID\":\"95221\","
                      "\"Content-Type\":\"application/json\"},\"body\":\"" PAYMENT_ESCAPED "\"}",
                      jwt, ts, b64);
    if (tl <= 0 || (size_t)tl >= sizeof check_template)
        die("notification template too long");
    pool_stride = (size_t)tl + 64;
    b2b_free(ts);
    EVP_PKEY_free(key);

    /* Warm up and check each path once; a replayed X-EXTERNAL-ID must be
     * refused, or distinct ids would prove nothing. Then calibrate the
     * check rate to size the pool. */
    openssl_verify(token_data, token_sig, token_sig_len);
    openssl_verify(check_data, check_sig, check_sig_len);
    server_token_once();
    fill_pool(200);
    double t0 = now();
    for (size_t i = 0; i < 200; i++)
        server_check_once(pool + i * pool_stride);
    double calibrated = 200 / (now() - t0);
    if (b2b_server_check(server, pool, &verdict) != B2B_OK || strstr(verdict, "\"accepted\":false") == NULL) {
        fprintf(stderr, "server_bench: a replayed X-EXTERNAL-ID was not refused: %s\n", verdict ? verdict : "");
        return 2;
    }
    b2b_free(verdict);
    size_t per_round = (size_t)(calibrated * run_seconds * 4) + 1000;

    /* Interleaved rounds, so a burst of load hits one round of each. */
    static const struct { const char *name; enum kind k; } m[] = {
        {"openssl_verify_token", OPENSSL_TOKEN}, {"server_token", SERVER_TOKEN},
        {"openssl_verify_check", OPENSSL_CHECK}, {"server_check", SERVER_CHECK}};
    double best[4] = {0}, best_cpu[4] = {0};
    long accepted[4] = {0};
    int short_rounds = 0;
    for (int r = 0; r < repeats; r++)
        for (int i = 0; i < 4; i++) {
            if (m[i].k == SERVER_CHECK)
                fill_pool(per_round); /* not timed */
            double c;
            long n;
            double x = rate(m[i].k, &c, &n);
            if (m[i].k == SERVER_CHECK && pool_next == pool_count)
                short_rounds++;
            accepted[i] += n;
            if (x > best[i])
                best[i] = x;
            if (c > best_cpu[i])
                best_cpu[i] = c;
        }
    for (int i = 0; i < 4; i++)
        printf("%s %.1f %.1f\n", m[i].name, best[i], best_cpu[i]);
    printf("server_token_accepted %ld\n", accepted[1]);
    printf("server_check_accepted %ld\n", accepted[3]);
    if (short_rounds)
        fprintf(stderr, "server_bench: %d check rounds used up their pool of %zu and ended early\n",
                short_rounds, pool_count);
    fflush(stdout);
    b2b_server_free(server);
    EVP_PKEY_free(pub);
    free(pool);
    BIO_free(pem_bio);
    return 0;
}
