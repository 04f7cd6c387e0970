"""Signing people in to the dashboard.

A person signs in with e-mail and password (and a TOTP code when they have one). The server
keeps a session (`app.auth.signin`): the browser holds only a random secret in an HttpOnly,
SameSite=Strict cookie (Secure over HTTPS), which `app.api.auth` reads for every request that
carries no `Authorization` header. A request that changes something with the cookie needs the
page's CSRF token (`X-CSRF-Token`, or the `csrf_token` field of the dashboard's own forms).

Pasting a token to sign in is no longer offered. An organisation's token is a system's
credential: it names no person (the audit could not say who acted), it is long-lived and
shared, it cannot be bound to an idle timeout or ended by signing out, and keeping it in a
cookie makes every open browser a holder of the integration's secret. A person who wants to
script the API uses a personal token (`admission token create --user E`) as a bearer token.
"""

COOKIE = "admission_session"
LANG_COOKIE = "admission_lang"
CSRF_FIELD = "csrf_token"
