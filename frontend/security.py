"""Security headers of the HTML pages.

The Content-Security-Policy lets pages run only scripts served by the hub itself (no inline
script, no ``eval``), so markup that slipped past the sanitiser still could not run code.
``style-src`` allows inline styles because mermaid writes ``<style>`` elements into the SVGs it
draws and KaTeX positions glyphs with ``style`` attributes; the sanitiser strips ``style`` from
user content anyway. Images may come from any HTTPS host, as model cards link them.
"""

from __future__ import annotations

from django.utils.deprecation import MiddlewareMixin

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: https:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Raw files are the authors' bytes: never let them run in the hub's origin, whatever their type.
RAW_FILE_POLICY = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    """Add the policy to every HTML response that does not set its own (listed in ``MIDDLEWARE``)."""

    def process_response(self, request, response):
        if response.get("Content-Type", "").startswith("text/html") and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
            response["X-Content-Type-Options"] = "nosniff"
            response["Referrer-Policy"] = "same-origin"
        return response
