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
