/*
 * handlers: every route handler of pillivery-api, one file per resource (h_<resource>.c).
 * Each takes the request (already routed, size- and media-checked and authenticated as its
 * route says) and answers it; returns 0 or the error it answered.
 */
#ifndef PV_API_HANDLERS_H
#define PV_API_HANDLERS_H

struct req;

/* h_ops.c */
int h_health(struct req *r);
int h_ready(struct req *r);
int h_metrics(struct req *r);
int h_profile(struct req *r);
int h_openapi(struct req *r);
int h_docs(struct req *r);

/* h_users.c */
int h_user_signup(struct req *r);
int h_user_login(struct req *r);
int h_user_refresh(struct req *r);
int h_user_logout(struct req *r);
int h_user_get(struct req *r);
int h_user_patch(struct req *r);
int h_user_delete(struct req *r);

#endif
