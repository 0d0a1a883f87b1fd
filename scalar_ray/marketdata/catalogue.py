"""Catalogue search: which series exist, what they are, and what the warehouse holds of each.

Filters on metadata are exact (case-insensitive) and combine with AND; ``text`` matches every one of its words
anywhere in the id or the metadata. Results are paged (``page`` from 1) in series-id order, with the total.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from scalar_ray.core.errors import ReadRequestError
from scalar_ray.warehouse.base import CATALOGUE_SCHEMA, Warehouse

__all__ = ["MAX_PAGE_SIZE", "CataloguePage", "CatalogueQuery", "search_catalogue"]

MAX_PAGE_SIZE = 500
_FILTERS = ("provider", "dataset", "area", "variable", "unit", "resolution")


@dataclass(frozen=True)
class CatalogueQuery:
    """A catalogue search; every filter optional."""

    provider: str | None = None
    dataset: str | None = None
    area: str | None = None
    variable: str | None = None
    unit: str | None = None
    resolution: str | None = None
    text: str | None = None
    page: int = 1
    page_size: int = 50


@dataclass(frozen=True)
class CataloguePage:
    """One page of matching series (``CATALOGUE_SCHEMA``), with how many match in all."""

    series: pa.Table
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        """How many pages the matches fill."""
        return max(1, -(-self.total // self.page_size))


def search_catalogue(warehouse: Warehouse, query: CatalogueQuery) -> CataloguePage:
    """The page of series matching ``query``; ``ReadRequestError`` for a page or size out of range."""
    if query.page < 1:
        raise ReadRequestError("page", "pages count from 1")
    if not 1 <= query.page_size <= MAX_PAGE_SIZE:
        raise ReadRequestError("page_size", f"between 1 and {MAX_PAGE_SIZE}")
    return page_of(matching(warehouse.catalogue(), query), query)


def matching(catalogue: pa.Table, query: CatalogueQuery) -> pa.Table:
    """The rows of ``catalogue`` that ``query``'s filters and text select."""
    mask = pa.array([True] * catalogue.num_rows)
    for name in _FILTERS:
        wanted = getattr(query, name)
        if wanted:
            mask = pc.and_(mask, pc.equal(pc.utf8_lower(catalogue[name]), wanted.lower()))
    if query.text:
        haystack = pc.utf8_lower(
            pc.binary_join_element_wise(*(catalogue[name] for name in ("series_id", *_FILTERS)), " ")
        )
        for word in query.text.lower().split():
            mask = pc.and_(mask, pc.match_substring(haystack, word))
    return catalogue.filter(mask)


def page_of(matches: pa.Table, query: CatalogueQuery) -> CataloguePage:
    """Page ``query.page`` of ``matches``."""
    offset = (query.page - 1) * query.page_size
    series = matches.slice(offset, query.page_size) if offset < matches.num_rows else CATALOGUE_SCHEMA.empty_table()
    return CataloguePage(series, matches.num_rows, query.page, query.page_size)
