"""Publishing book events to the environment's topic, and waiting for their outcome.

The pieces, each usable alone (the `publish-book` command and `demo` join them):

- `events`    — book events from flags, synthetic ones, or a JSON-lines / CSV file,
                built with the function's own event contract (`book_notifier.contract`).
- `publisher` — PublishBatch (10 per call, <= 256 KiB), concurrent publishers, a token
                bucket rate limit, per-entry results checked and retried with backoff.
- `waiter`    — reads each message's outcome from the de-duplication table
                (BatchGetItem by message id) until all are terminal or the time is up.
- `report`    — the summary (rendered by cli/publish_view.py).
- `job`       — `publish_book(...)`: the whole command as a library call.
"""
