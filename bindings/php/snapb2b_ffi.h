typedef enum b2b_status {
  B2B_OK = 0,
  B2B_INVALID_ARGUMENT = 1,
  B2B_KEY = 2,
  B2B_CRYPTO = 3,
  B2B_TRANSPORT = 4,
  B2B_TIMEOUT = 5,
  B2B_PROVIDER = 6,
  B2B_PROTOCOL = 7,
  B2B_SIGNATURE_INVALID = 8,
  B2B_INTERNAL = 99,
} b2b_status;

typedef struct b2b_client b2b_client;

typedef struct b2b_server b2b_server;

void b2b_free(char *ptr);

const char *b2b_last_error(void);

const char *b2b_last_error_json(void);

const char *b2b_version(void);

const char *b2b_status_name(int status);

int b2b_client_new(const char *config_json,
                   struct b2b_client **client_out);

int b2b_client_token(struct b2b_client *client,
                     char **token_json_out);

int b2b_client_invalidate(struct b2b_client *client);

int b2b_client_headers(struct b2b_client *client,
                       const char *method,
                       const char *path,
                       const char *body,
                       char **headers_json_out);

int b2b_client_request(struct b2b_client *client,
                       const char *request_json,
                       char **response_json_out);

int b2b_client_customer_token(struct b2b_client *client,
                              const char *request_json,
                              char **token_json_out);

int b2b_external_id(char **external_id_out);

void b2b_client_free(struct b2b_client *client);

int b2b_server_new(const char *config_json,
                   struct b2b_server **server_out);

int b2b_server_token(struct b2b_server *server,
                     const char *request_json,
                     char **response_json_out);

int b2b_server_check(struct b2b_server *server,
                     const char *request_json,
                     char **verdict_json_out);

void b2b_server_free(struct b2b_server *server);

int b2b_service_signature(const char *client_secret,
                          const char *method,
                          const char *path,
                          const char *access_token,
                          const char *body,
                          const char *timestamp,
                          char **signature_out);

int b2b_service_signature_rsa(const char *private_key,
                              const char *method,
                              const char *path,
                              const char *body,
                              const char *timestamp,
                              char **signature_out);

int b2b_minify_json(const char *body,
                    char **minified_out);

int b2b_timestamp(const char *style,
                  char **timestamp_out);

int b2b_sign(const char *private_key,
             const char *client_id,
             const char *timestamp,
             char **signature_out);

int b2b_get_token(const char *config_json,
                  char **token_json_out);

int b2b_verify(const char *public_key,
               const char *client_id,
               const char *timestamp,
               const char *signature,
               int max_skew_s);

int b2b_verify_service_signature_rsa(const char *public_key,
                                     const char *method,
                                     const char *path,
                                     const char *body,
                                     const char *timestamp,
                                     const char *signature,
                                     int max_skew_s);

int b2b_verify_service_signature(const char *client_secret,
                                 const char *method,
                                 const char *path,
                                 const char *access_token,
                                 const char *body,
                                 const char *timestamp,
                                 const char *signature,
                                 int max_skew_s);
