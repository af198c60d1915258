/*
 * SNAP service calls (VA inquiry) over one warm connection, against the
 * sandbox provider: b2b_client_request against a hand-written libcurl
 * keep-alive loop sending precomputed headers and body.
 *
 *   request_bench CONFIG.json SECONDS REPEATS
 *
 * CONFIG.json: a sandbox `snap` config with `client_secret` and
 * `channel_id` added; the baseline reads its base_url, ca_file,
 * client_id, client_secret and channel_id. Prints "name calls_per_second calls_per_cpu_second" for
 * c_request_library and c_request_curl (best of REPEATS runs, rounds
 * interleaved), c_client_headers (calls/s of b2b_client_headers alone),
 * then "name_calls N": the calls made, warm-ups included,
 * each answered HTTP 200 with responseCode 2002400; any other answer or
 * error aborts (exit 2).
 *
 * The calls-per-CPU-second figures count only this process's CPU, not the
 * sandbox's, which bounds the wall-clock rate of both sides alike.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "snapb2b.h"

#define PATH "/v1.0/transfer-va/inquiry"
/* Minified: what is hashed is what is sent. */
#define BODY                                                                                  \
    "{\"partnerServiceId\":\"  088899\",\"customerNo\":\"12345678901234567890\","           \
    "\"virtualAccountNo\":\"  08889912345678901234567890\",\"inquiryRequestId\":\"abcdef-" \
    "123456-abcdef\"}"
#define SUCCESS "2002400"

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

static void die(const char *what, const char *detail) {
    fprintf(stderr, "request_bench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        die("cannot open", path);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* The string value of "key" in a flat JSON object written by the sandbox or
 * the library (no escapes in the values read here). */
static char *json_string(const char *json, const char *key) {
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(json, pat);
    if (p == NULL)
        die("JSON has no key", key);
    p = strchr(p + strlen(pat), '"');
    const char *e = p ? strchr(p + 1, '"') : NULL;
    if (e == NULL)
        die("JSON value is not a string", key);
    return strndup(p + 1, (size_t)(e - p - 1));
}

/* ---- the library: one b2b_client_request per call ---- */

static b2b_client *client;
/* Every call that got a 200 2002400, warm-ups included (to match the
 * sandbox's own count). */
static long library_calls, curl_calls;
static const char *request_json =
    "{\"method\":\"POST\",\"path\":\"" PATH "\",\"body\":" BODY "}";

static void library_call(void) {
    char *out = NULL;
    if (b2b_client_request(client, request_json, &out) != B2B_OK)
        die("b2b_client_request", b2b_last_error());
    /* The library's JSON is compact; both checks cost a strstr, as the
     * baseline's check does. */
    if (strstr(out, "\"http_status\":200") == NULL ||
        strstr(out, "\"response_code\":\"" SUCCESS "\"") == NULL)
        die("b2b_client_request answer is not a 200 " SUCCESS, out);
    b2b_free(out);
    library_calls++;
}

/* ---- the baseline: libcurl, one easy handle (keep-alive) ---- */

static CURL *curl;
static char url[512], token[512], secret[256], partner[256], channel[64];
static char body_hash[SHA256_DIGEST_LENGTH * 2 + 1];
static char answer[8192];
static size_t answer_len;

static size_t collect(char *data, size_t size, size_t n, void *unused) {
    (void)unused;
    size_t len = size * n;
    if (answer_len + len >= sizeof answer)
        len = sizeof answer - 1 - answer_len; /* the code comes first anyway */
    memcpy(answer + answer_len, data, len);
    answer_len += len;
    answer[answer_len] = '\0';
    return size * n;
}

/* One call's headers as the library sends them, signed with OpenSSL HMAC:
 * a new X-EXTERNAL-ID (32 digits from RAND_bytes) and timestamp each. */
static struct curl_slist *header_set(void) {
    char ts[40], line[1024], id[33], msg[1024];
    time_t t = time(NULL) + 7 * 3600; /* Asia/Jakarta, UTC+7 */
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S+07:00", &tm);
    unsigned char rnd[32];
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        die("RAND_bytes", NULL);
    for (int i = 0; i < 32; i++)
        id[i] = (char)('0' + rnd[i] % 10);
    if (id[0] == '0')
        id[0] = '1';
    id[32] = '\0';
    int len = snprintf(msg, sizeof msg, "POST:%s:%s:%s:%s", PATH, token, body_hash, ts);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    HMAC(EVP_sha512(), secret, (int)strlen(secret), (unsigned char *)msg, (size_t)len, mac, &mac_len);
    char sig[200];
    EVP_EncodeBlock((unsigned char *)sig, mac, (int)mac_len);

    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    snprintf(line, sizeof line, "Authorization: Bearer %s", token);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "X-TIMESTAMP: %s", ts);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "X-SIGNATURE: %s", sig);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "X-PARTNER-ID: %s", partner);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "X-EXTERNAL-ID: %s", id);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "CHANNEL-ID: %s", channel);
    h = curl_slist_append(h, line);
    if (h == NULL)
        die("curl_slist_append", NULL);
    return h;
}

static void curl_call(struct curl_slist *headers) {
    answer_len = 0;
    answer[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK)
        die("curl_easy_perform", curl_easy_strerror(rc));
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200 || strstr(answer, "\"responseCode\":\"" SUCCESS "\"") == NULL)
        die("curl answer is not a 200 " SUCCESS, answer);
    curl_calls++;
}

static void curl_setup(const char *base_url, const char *ca_file) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl = curl_easy_init();
    if (curl == NULL)
        die("curl_easy_init", NULL);
    snprintf(url, sizeof url, "%s%s", base_url, PATH);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, BODY);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(BODY));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);

    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)BODY, strlen(BODY), digest);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(body_hash + 2 * i, 3, "%02x", digest[i]);
}

/* ---- timing ---- */

static double library_rate(double seconds, double *per_cpu) {
    long n = 0;
    double c0 = cpu_seconds(), start = now(), t, end = start + seconds;
    do {
        library_call();
        n++;
    } while ((t = now()) < end);
    *per_cpu = n / (cpu_seconds() - c0);
    return n / (t - start);
}

/* Precomputes `cap` header sets (not timed), then sends them until
 * `seconds` pass or they run out; the unsent ones are freed unused. */
static double curl_rate(double seconds, long cap, double *per_cpu) {
    struct curl_slist **sets = malloc((size_t)cap * sizeof *sets);
    if (sets == NULL)
        die("out of memory", NULL);
    for (long i = 0; i < cap; i++)
        sets[i] = header_set();
    long n = 0;
    double c0 = cpu_seconds(), start = now(), t, end = start + seconds;
    do {
        curl_call(sets[n]);
        n++;
    } while ((t = now()) < end && n < cap);
    double cpu = cpu_seconds() - c0;
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
    for (long i = 0; i < cap; i++)
        curl_slist_free_all(sets[i]);
    free(sets);
    *per_cpu = n / cpu;
    return n / (t - start);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: request_bench CONFIG.json SECONDS REPEATS\n");
        return 2;
    }
    const char *config = read_file(argv[1]);
    double seconds = atof(argv[2]);
    int repeats = atoi(argv[3]);
    snprintf(secret, sizeof secret, "%s", json_string(config, "client_secret"));
    snprintf(partner, sizeof partner, "%s", json_string(config, "client_id"));
    snprintf(channel, sizeof channel, "%s", json_string(config, "channel_id"));

    if (b2b_client_new(config, &client) != B2B_OK)
        die("b2b_client_new", b2b_last_error());
    /* The token, fetched once; the library's calls use the same cached one. */
    char *tok = NULL;
    if (b2b_client_token(client, &tok) != B2B_OK)
        die("b2b_client_token", b2b_last_error());
    snprintf(token, sizeof token, "%s", json_string(tok, "access_token"));
    b2b_free(tok);
    curl_setup(json_string(config, "base_url"), json_string(config, "ca_file"));

    /* Warm both connections (TLS handshakes are not what is measured) and
     * size the baseline's batches: 3x the rate seen here, at least 200. */
    double warm = now();
    for (int i = 0; i < 50; i++)
        library_call();
    double est = 50 / (now() - warm);
    struct curl_slist *h = header_set();
    curl_call(h);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(h);
    long cap = (long)(3 * est * seconds);
    if (cap < 200)
        cap = 200;

    double best_l = 0, best_lc = 0, best_c = 0, best_cc = 0, cpu;
    for (int r = 0; r < repeats; r++) {
        double x = library_rate(seconds, &cpu);
        if (x > best_l) best_l = x;
        if (cpu > best_lc) best_lc = cpu;
        long before = curl_calls;
        x = curl_rate(seconds, cap, &cpu);
        if (curl_calls - before == cap)
            cap *= 2; /* ran out before the time was up: more next round */
        if (x > best_c) best_c = x;
        if (cpu > best_cc) best_cc = cpu;
    }
    /* Context for the ratio: building and signing one call's headers
     * alone (no sending), the library's per-call work the baseline did
     * before its timing. */
    double hs = now(), he = hs + seconds / 2;
    long hn = 0;
    do {
        char *h_json = NULL;
        if (b2b_client_headers(client, "POST", PATH, BODY, &h_json) != B2B_OK)
            die("b2b_client_headers", b2b_last_error());
        b2b_free(h_json);
        hn++;
    } while (now() < he);
    printf("c_client_headers %.1f\n", hn / (now() - hs));
    printf("c_request_library %.1f %.1f\n", best_l, best_lc);
    printf("c_request_curl %.1f %.1f\n", best_c, best_cc);
    printf("c_request_library_calls %ld\n", library_calls);
    printf("c_request_curl_calls %ld\n", curl_calls);

    curl_easy_cleanup(curl);
    curl_global_cleanup();
    b2b_client_free(client);
    return 0;
}
