"""Rate limits: a token bucket per client (or per IP address for anonymous callers).

``bucket`` is the arithmetic, pure and exact; ``stores`` keeps buckets in this process
(embedded profile) or in Redis (production, shared by every API process); ``limiter``
picks each client's limit; ``middleware`` answers 429 with ``Retry-After``.
"""
