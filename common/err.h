/*
 * err: the one error table of Pillivery-C.
 *
 * Every function of common/, core/ and external/ returns an int: 0 on success or a negative
 * error, -E_<NAME>, from this table. The table yields the contract's error code (API.md §11),
 * the HTTP status and the Korean message, so the daemons answer every error the same way.
 * Entries whose code is INTERNAL_ERROR or SERVICE_UNAVAILABLE but whose name differs are
 * internal conditions (a duplicate key, a deadlock) that callers handle before they reach a
 * client; if one leaks, the client sees the public code and message only.
 *
 * Thread-safe: the table is constant.
 */
#ifndef PV_COMMON_ERR_H
#define PV_COMMON_ERR_H

/* X(name, http status, public code, message) */
#define PV_ERROR_TABLE(X)                                                                          \
	X(VALIDATION_FAILED, 400, "VALIDATION_FAILED", "입력값이 올바르지 않습니다.")              \
	X(INVALID_PARAMETER_TYPE, 400, "INVALID_PARAMETER_TYPE", "잘못된 파라미터 타입입니다.")    \
	X(MALFORMED_REQUEST, 400, "MALFORMED_REQUEST", "요청 본문을 읽을 수 없습니다.")            \
	X(OAUTH_STATE_INVALID, 400, "OAUTH_STATE_INVALID", "유효하지 않은 로그인 요청입니다.")     \
	X(UNAUTHORIZED, 401, "UNAUTHORIZED", "인증이 필요합니다.")                                 \
	X(INVALID_TOKEN, 401, "INVALID_TOKEN", "유효하지 않은 토큰입니다.")                        \
	X(EXPIRED_TOKEN, 401, "EXPIRED_TOKEN", "만료된 토큰입니다.")                               \
	X(ALREADY_LOGOUT, 401, "ALREADY_LOGOUT", "로그아웃 됐습니다.")                             \
	X(REFRESH_TOKEN_REUSED, 401, "REFRESH_TOKEN_REUSED",                                       \
	  "이미 사용된 리프레시 토큰입니다. 다시 로그인해 주세요.")                                \
	X(BAD_CREDENTIALS, 401, "BAD_CREDENTIALS", "자격 증명에 실패하였습니다.")                  \
	X(USER_WITHDRAWN, 401, "USER_WITHDRAWN", "탈퇴한 회원입니다.")                             \
	X(INVALID_OAUTH_TOKEN, 401, "INVALID_OAUTH_TOKEN",                                         \
	  "유효하지 않거나 만료된 인증 정보입니다.")                                               \
	X(ACCESS_DENIED_USER, 403, "ACCESS_DENIED_USER", "권한이 없는 유저입니다.")                \
	X(REVIEW_NOT_ALLOWED, 403, "REVIEW_NOT_ALLOWED", "구매한 상품만 리뷰할 수 있습니다.")      \
	X(NOT_FOUND, 404, "NOT_FOUND", "요청한 경로를 찾을 수 없습니다.")                          \
	X(USER_NOT_FOUND, 404, "USER_NOT_FOUND", "회원 정보를 찾을 수 없습니다.")                  \
	X(ITEM_NOT_FOUND, 404, "ITEM_NOT_FOUND", "존재하지 않는 아이템입니다.")                    \
	X(CART_NOT_FOUND, 404, "CART_NOT_FOUND", "존재하지 않는 카트입니다.")                      \
	X(CART_ITEM_NOT_FOUND, 404, "CART_ITEM_NOT_FOUND", "존재하지 않는 항목입니다.")            \
	X(ORDER_NOT_FOUND, 404, "ORDER_NOT_FOUND", "존재하지 않는 주문입니다.")                    \
	X(NOT_ORDERED_ITEM, 404, "NOT_ORDERED_ITEM", "주문되지 않은 아이템입니다.")                \
	X(PAYMENT_NOT_FOUND, 404, "PAYMENT_NOT_FOUND", "결제 정보를 찾을 수 없습니다.")            \
	X(SUBSCRIPTION_NOT_FOUND, 404, "SUBSCRIPTION_NOT_FOUND", "존재하지 않는 구독입니다.")      \
	X(REVIEW_NOT_FOUND, 404, "REVIEW_NOT_FOUND", "존재하지 않는 리뷰입니다.")                  \
	X(METHOD_NOT_ALLOWED, 405, "METHOD_NOT_ALLOWED", "허용되지 않은 메서드입니다.")            \
	X(EXIST_EMAIL, 409, "EXIST_EMAIL", "이미 가입한 e-mail입니다.")                            \
	X(EXIST_DISPLAY_NAME, 409, "EXIST_DISPLAY_NAME", "이미 존재하는 닉네임입니다.")            \
	X(EXIST_PHONE_NUMBER, 409, "EXIST_PHONE_NUMBER", "이미 존재하는 연락처입니다.")            \
	X(OAUTH_EMAIL_EXISTS, 409, "OAUTH_EMAIL_EXISTS", "이미 가입된 이메일입니다.")              \
	X(CART_ITEM_EXISTS, 409, "CART_ITEM_EXISTS", "이미 존재하는 장바구니입니다.")              \
	X(ORDER_NOT_PAYABLE, 409, "ORDER_NOT_PAYABLE", "결제할 수 없는 주문 상태입니다.")          \
	X(ORDER_NOT_REFUNDABLE, 409, "ORDER_NOT_REFUNDABLE", "환불할 수 없는 주문 상태입니다.")    \
	X(REFUND_AMOUNT_EXCEEDED, 409, "REFUND_AMOUNT_EXCEEDED", "환불 가능 금액을 초과했습니다.") \
	X(SUBSCRIPTION_STATE_CONFLICT, 409, "SUBSCRIPTION_STATE_CONFLICT",                         \
	  "현재 구독 상태에서는 처리할 수 없는 요청입니다.")                                       \
	X(DUPLICATED_REVIEW, 409, "DUPLICATED_REVIEW", "이미 작성한 리뷰가 있습니다.")             \
	X(IDEMPOTENCY_KEY_CONFLICT, 409, "IDEMPOTENCY_KEY_CONFLICT",                               \
	  "같은 Idempotency-Key로 다른 요청이 처리 중이거나 처리되었습니다.")                      \
	X(PAYLOAD_TOO_LARGE, 413, "PAYLOAD_TOO_LARGE", "요청 본문이 너무 큽니다.")                 \
	X(UNSUPPORTED_MEDIA_TYPE, 415, "UNSUPPORTED_MEDIA_TYPE",                                   \
	  "지원하지 않는 미디어 타입입니다.")                                                      \
	X(TOO_MANY_LOGIN_ATTEMPTS, 429, "TOO_MANY_LOGIN_ATTEMPTS",                                 \
	  "로그인 시도 횟수를 초과했습니다. 잠시 후 다시 시도해 주세요.")                          \
	X(INTERNAL_ERROR, 500, "INTERNAL_ERROR", "알 수 없는 오류가 발생했습니다.")                \
	X(PAYMENT_GATEWAY_ERROR, 502, "PAYMENT_GATEWAY_ERROR",                                     \
	  "카카오페이 결제 처리 중 오류가 발생했습니다.")                                          \
	X(REFUND_FAILED, 502, "REFUND_FAILED", "카카오페이 취소 중 오류가 발생했습니다.")          \
	X(SUBSCRIPTION_PAYMENT_FAILED, 502, "SUBSCRIPTION_PAYMENT_FAILED", "결제에 실패했습니다.") \
	X(OAUTH_PROVIDER_ERROR, 502, "OAUTH_PROVIDER_ERROR",                                       \
	  "소셜 로그인 처리 중 오류가 발생했습니다.")                                              \
	X(SERVICE_UNAVAILABLE, 503, "SERVICE_UNAVAILABLE",                                         \
	  "일시적으로 서비스를 이용할 수 없습니다.")                                               \
	X(PAYMENT_GATEWAY_TIMEOUT, 504, "PAYMENT_GATEWAY_TIMEOUT",                                 \
	  "결제 대행사의 응답 시간이 초과되었습니다.")                                             \
	/* internal conditions, handled before they reach a client */                              \
	X(NOMEM, 500, "INTERNAL_ERROR", "알 수 없는 오류가 발생했습니다.")                         \
	X(DB_DUPLICATE, 500, "INTERNAL_ERROR", "알 수 없는 오류가 발생했습니다.")                  \
	X(DB_RETRY, 503, "SERVICE_UNAVAILABLE", "일시적으로 서비스를 이용할 수 없습니다.")         \
	X(DB_NO_ROW, 500, "INTERNAL_ERROR", "알 수 없는 오류가 발생했습니다.")                     \
	X(TOO_LONG, 500, "INTERNAL_ERROR", "알 수 없는 오류가 발생했습니다.")                      \
	X(IO, 500, "INTERNAL_ERROR", "알 수 없는 오류가 발생했습니다.")                            \
	X(CONFIG, 500, "INTERNAL_ERROR", "알 수 없는 오류가 발생했습니다.")                        \
	X(SCHEMA_OUTDATED, 503, "SERVICE_UNAVAILABLE", "일시적으로 서비스를 이용할 수 없습니다.")

enum pv_err {
	E_OK = 0,
#define PV_ERR_ENUM(name, status, code, msg) E_##name,
	PV_ERROR_TABLE(PV_ERR_ENUM)
#undef PV_ERR_ENUM
	    E__COUNT
};

/* rc is 0, -E_x or E_x; anything out of range reads as INTERNAL_ERROR. */
const char *err_code(int rc);    /* "VALIDATION_FAILED" */
int err_http_status(int rc);     /* 400 */
const char *err_message(int rc); /* Korean message, verbatim from API.md §11 */
const char *err_name(int rc);    /* internal name, "DB_DUPLICATE" (for logs) */

#endif
