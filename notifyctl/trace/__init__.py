"""`notifyctl trace ID`: the story of one event, oldest first, and a one-line verdict.

  sources  the reads, each bounded: one FilterLogEvents query (the logs package's
           reader and parsing), GetItem per key, a short peek at the failure queue
  build    the timeline and the verdict
  model    the typed report (Trace, Entry, Invocation, Record, QueuedFailure, Verdict)
"""
