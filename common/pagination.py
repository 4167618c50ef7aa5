"""Pagination for the REST API: page numbers, a bounded page size, and RFC 8288 ``Link`` headers."""

from __future__ import annotations

from rest_framework import pagination
from rest_framework.response import Response


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=N&page_size=M`` with ``{"count", "next", "previous", "results"}`` and a ``Link`` header."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_paginated_response(self, data: list) -> Response:
        response = super().get_paginated_response(data)
        links = []
        if (next_url := self.get_next_link()) is not None:
            links.append(f'<{next_url}>; rel="next"')
        if (previous_url := self.get_previous_link()) is not None:
            links.append(f'<{previous_url}>; rel="prev"')
        if links:
            response["Link"] = ", ".join(links)
        return response


class CappedCountPagination(PageNumberPagination):
    """Pages of a listing whose count may stop at a cap (an object list with ``capped``: a
    search's ``RepoListing``): ``count_capped`` says whether it did; its pages end at the cap."""

    def get_paginated_response(self, data: list) -> Response:
        response = super().get_paginated_response(data)
        capped = getattr(self.page.paginator.object_list, "capped", None)
        if capped is not None:
            response.data["count_capped"] = capped
        return response

    def get_paginated_response_schema(self, schema: dict) -> dict:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["count_capped"] = {
            "type": "boolean",
            "description": "Present on searches: true when count stopped at its cap (1,000) and there are more.",
        }
        return paginated
