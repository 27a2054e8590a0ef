"""`notifyctl logs`: read and follow the function's CloudWatch logs.

Small modules, each testable alone:
  timeparse  relative (`10m`) and ISO 8601 times -> epoch ms
  events     a typed LogEvent and the parsing of Lambda platform and JSON lines
  reader     FilterLogEvents over every page, several groups merged by time
  follow     the poll loop: shared rate limit, backoff, de-dup, overlap window
  grouping   --by-request: one block per invocation
  render     text and JSON-lines output

No module here imports boto3 at import time (`notifyctl --help` stays fast).
"""
