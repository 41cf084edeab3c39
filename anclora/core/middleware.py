from django.shortcuts import render

from .errors import ApplicationError


class ApplicationErrorPageMiddleware:
    """Pages show an ApplicationError as a styled page with its status (the API has its handler)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, ApplicationError) and not request.path.startswith("/api/"):
            return render(request, "error.html", {"status": exception.status, "message": exception.message},
                          status=exception.status)
        return None


class ContentSecurityPolicyMiddleware:
    """Scripts only from this origin, no framing, no plugins (settings.CONTENT_SECURITY_POLICY)."""

    STRIPE = {"script-src": "https://js.stripe.com", "frame-src": "https://js.stripe.com https://hooks.stripe.com",
              "connect-src": "https://api.stripe.com"}

    def __init__(self, get_response):
        from django.conf import settings

        self.policy = settings.CONTENT_SECURITY_POLICY
        if self.policy and settings.STRIPE_PUBLISHABLE_KEY:
            self.policy = self.with_stripe(self.policy)
        self.get_response = get_response

    @classmethod
    def with_stripe(cls, policy: str) -> str:
        """Card payments need Stripe.js and its frames (only when Stripe keys are configured)."""
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        for name, sources in cls.STRIPE.items():
            directives[name] = f"{directives.get(name, chr(39) + 'self' + chr(39))} {sources}"
        return "; ".join(f"{name} {value}" for name, value in directives.items())

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response
