"""Files uploaded to Stripe (dispute evidence, identity documents, reports) and the links that share them.

What each stream reads (list path, events, permission) is in ``tap_stripe_aep.stream_catalog``.
"""

from __future__ import annotations

from tap_stripe_aep.streams.base import StripeStream
from tap_stripe_aep.streams.full_reread import FullRereadStream


class FilesStream(StripeStream):
    name = "files"


class FileLinksStream(FullRereadStream):
    name = "file_links"


STREAM_TYPES: list[type[StripeStream]] = [FilesStream, FileLinksStream]
