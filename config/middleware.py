"""Error pages for responses that carry no page of their own."""

from __future__ import annotations

import os
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


def error_pages(get_response: Callable[[HttpRequest], HttpResponse]):
    """A 405 from `require_http_methods` (or any view) has an empty body: give it a page in
    the site's design with a way back, keeping the status and the Allow header."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if response.status_code == 405 and not response.content and not request.htmx:
            response.content = render_to_string("405.html", request=request)
            response["Content-Type"] = "text/html; charset=utf-8"
        return response

    return middleware


def served_by(get_response: Callable[[HttpRequest], HttpResponse]):
    """With NODE_NAME set (scripts/cluster sets it per app node), every response names the
    node that served it in X-Served-By, so a test can see requests spread over nodes."""
    node = os.environ.get("NODE_NAME", "")

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if node:
            response["X-Served-By"] = node
        return response

    return middleware


def query_count(get_response: Callable[[HttpRequest], HttpResponse]):
    """Benchmark only (settings.BENCHMARK_FLOOR): every response says in X-Queries how many
    SQL statements it ran, session and log-in reads included, so scripts/benchmark.py can
    print queries per request from outside the server."""
    from django.db import connection

    def middleware(request: HttpRequest) -> HttpResponse:
        count = 0

        def counted(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            response = get_response(request)
        response["X-Queries"] = str(count)
        return response

    return middleware
