/*
 * fork() with a live b2b_client, against the sandbox (SNAPB2B_SANDBOX_DIR,
 * started with --slow-ms 3000): the child must behave as with a new handle
 * (its own connections, no renewal in flight inherited) and the parent's
 * kept-alive connection must keep working. A separate program from
 * test_abi: the child leaks the parent's connections on purpose, which a
 * leak checker would report.
 * Ends with the line "N passed, M failed".
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "snapb2b.h"
#include "test_util.h"

static int passed, failed;
static char base_url[256], ca_file[512], key_file[512], client_secret[128];

static void check(int ok, const char *what, const char *detail) {
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    }
}

static char *config_for(const char *client_id, const char *extra) {
    static char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"provider\":\"snap\",\"base_url\":\"%s\",\"client_id\":\"%s\","
             "\"private_key_file\":\"%s\",\"ca_file\":\"%s\",%s}",
             base_url, client_id, key_file, ca_file, extra);
    return buf;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* 1 if b2b_client_token returned OK and its "cached" flag is `cached`. */
static int token_is(b2b_client *c, int cached) {
    char *json = NULL;
    int rc = b2b_client_token(c, &json);
    int ok = rc == B2B_OK && strstr(json, cached ? "\"cached\":true" : "\"cached\":false");
    if (!ok) fprintf(stderr, "[pid %d] token: %d %s\n", (int)getpid(), rc, rc ? b2b_last_error() : json);
    b2b_free(json);
    return ok;
}

/* Waits for the child; its exit status is the number of its failed checks. */
static void expect_child(pid_t pid, const char *what) {
    int status = 0;
    waitpid(pid, &status, 0);
    char detail[128];
    snprintf(detail, sizeof detail, "%s %d", WIFEXITED(status) ? "exit" : "signal",
             WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0, what, detail);
}

/* 1 if a VA inquiry is answered 200. */
static int call_ok(b2b_client *c) {
    const char *request = "{\"method\":\"POST\",\"path\":\"/v1.0/transfer-va/inquiry\",\"body\":"
                          "{\"partnerServiceId\":\"  088899\",\"customerNo\":\"1\","
                          "\"virtualAccountNo\":\"  0888991\",\"inquiryRequestId\":\"f\"}}";
    char *resp = NULL;
    int rc = b2b_client_request(c, request, &resp);
    int ok = rc == B2B_OK && json_int(resp, "http_status") == 200;
    if (!ok) fprintf(stderr, "[pid %d] call: %d %s\n", (int)getpid(), rc, rc ? b2b_last_error() : resp);
    b2b_free(resp);
    return ok;
}

static void test_fork_after_a_token(int free_in_child) {
    char extra[512];
    snprintf(extra, sizeof extra, "\"max_retries\":0,\"client_secret\":\"%s\",\"channel_id\":\"95221\"",
             client_secret);
    b2b_client *c = NULL;
    check(b2b_client_new(config_for("SANDBOX-CLIENT", extra), &c) == B2B_OK, "client", b2b_last_error());
    b2b_client_invalidate(c); /* handles of one config share its token: start without */
    check(token_is(c, 0), "parent: first token fetched", NULL);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20); /* a hang ends as a signal, not a stuck test */
        int bad = 0;
        bad += !token_is(c, 1);   /* the inherited token */
        b2b_client_invalidate(c);
        bad += !token_is(c, 0);   /* a renewal on a connection of its own */
        bad += !token_is(c, 1);
        bad += !call_ok(c);
        /* Either way the parent's connection must not be closed or used. */
        if (free_in_child) b2b_client_free(c);
        _exit(bad);
    }
    expect_child(pid, "child: cached token, a renewal, a call");
    /* The parent's kept-alive connection (its TLS state) was not touched: a
     * call, which is never sent twice, and renewals, with no retry allowed. */
    check(call_ok(c), "parent: a call after the fork", NULL);
    b2b_client_invalidate(c);
    check(token_is(c, 0), "parent: renewal after the fork", NULL);
    b2b_client_invalidate(c);
    check(token_is(c, 0), "parent: another renewal", NULL);
    b2b_client_free(c);
}

static void *renew(void *arg) {
    char *json = NULL;
    b2b_client_token((b2b_client *)arg, &json); /* times out: FAULT-SLOW */
    b2b_free(json);
    return NULL;
}

static void test_fork_during_a_renewal(void) {
    b2b_client *c = NULL;
    check(b2b_client_new(config_for("FAULT-SLOW", "\"max_retries\":0,\"timeout_ms\":1500"), &c) == B2B_OK,
          "slow client", b2b_last_error());
    pthread_t t;
    pthread_create(&t, NULL, renew, c);
    nanosleep(&(struct timespec){0, 400 * 1000 * 1000}, NULL); /* the thread now waits for the slow answer */
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20);
        double start = now_s();
        char *json = NULL;
        int rc = b2b_client_token(c, &json);
        double took = now_s() - start;
        b2b_free(json);
        /* Not the parent's renewal, which no thread here will finish: a
         * request of its own, bounded by timeout_ms. */
        int bad = rc != B2B_TIMEOUT || took > 2.5;
        if (bad) fprintf(stderr, "child: status %d after %.2f s\n", rc, took);
        _exit(bad);
    }
    expect_child(pid, "child forked during a renewal: no hang");
    pthread_join(t, NULL);
    b2b_client_free(c);
}

int main(void) {
    const char *dir = getenv("SNAPB2B_SANDBOX_DIR");
    if (!dir) {
        fprintf(stderr, "SNAPB2B_SANDBOX_DIR is not set (run through scripts/with-sandbox.sh)\n");
        return 2;
    }
    char path[600];
    snprintf(path, sizeof path, "%s/sandbox.json", dir);
    char *info = read_file(path);
    if (!info) { fprintf(stderr, "cannot read %s\n", path); return 2; }
    json_str(info, "base_url", base_url, sizeof base_url);
    json_str(info, "ca_file", ca_file, sizeof ca_file);
    json_str(info, "private_key_file", key_file, sizeof key_file);
    json_str(info, "klikoo_client_secret", client_secret, sizeof client_secret);
    free(info);

    test_fork_after_a_token(0);
    test_fork_after_a_token(1);
    test_fork_during_a_renewal();

    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
