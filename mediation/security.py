"""Web security headers on every response, secure cookies behind HTTPS, and the proxy's forwarded headers.

Pages run no inline script and carry no inline style: every script and style sheet is a file under /static,
so the policy needs neither 'unsafe-inline' nor 'unsafe-eval'. A view that sets its own policy (evidence
files, sandboxed) keeps it. The case room alone may be framed, by the origins its platform was given."""
from __future__ import annotations

from flask import Flask, Response, g
from werkzeug.middleware.proxy_fix import ProxyFix

# Socket.IO talks to the same host over ws:/wss: (the browser does not count those as 'self' everywhere);
# evidence thumbnails are object URLs (blob:); the empty favicon and Swagger UI's icons are data: URLs.
_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "connect-src": "'self' ws: wss:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

_SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # Join links carry their token in the URL: it must not leak to another site through the Referer.
    "Referrer-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    _configure_cookies(app)
    _configure_proxy(app)
    app.after_request(_add_headers)


def allow_framing(origins: tuple[str, ...] | list[str]) -> None:
    """Let this response be framed by these origins (and this site); none given: it stays unframeable."""
    if origins:
        g.frame_ancestors = tuple(origins)


def content_security_policy(frame_ancestors: tuple[str, ...] | None = None) -> str:
    """The policy of our pages; with `frame_ancestors`, framing by this site and those origins."""
    policy = dict(_POLICY)
    if frame_ancestors is not None:
        policy["frame-ancestors"] = " ".join(("'self'", *frame_ancestors))
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def _add_headers(response: Response) -> Response:
    for name, value in _SAFE_HEADERS.items():
        response.headers.setdefault(name, value)
    if "Content-Security-Policy" in response.headers:
        return response  # the view chose its own (evidence files are sandboxed): it knows best
    frame_ancestors = g.get("frame_ancestors")
    response.headers["Content-Security-Policy"] = content_security_policy(frame_ancestors)
    if frame_ancestors is None:
        # For browsers that predate frame-ancestors; it cannot name origins, so framed pages go without.
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def _configure_cookies(app: Flask) -> None:
    """Cookies only over HTTPS when the site is served over HTTPS (PUBLIC_URL https:// or HTTPS=True)."""
    public_url = app.config.get("PUBLIC_URL") or ""
    if app.config.get("HTTPS") or public_url.startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", app.config.get("SESSION_COOKIE_SAMESITE"))


def _configure_proxy(app: Flask) -> None:
    """Trust X-Forwarded-For/-Proto only from as many proxies as PROXY_FIX says: a client could forge them."""
    hops = int(app.config.get("PROXY_FIX") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
