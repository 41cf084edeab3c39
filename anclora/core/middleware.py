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

    def __init__(self, get_response):
        from django.conf import settings

        self.policy = settings.CONTENT_SECURITY_POLICY
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response
