"""The embedded AWS emulator: moto's server plus our own Lambda runtime.

Importing this package is cheap (no moto, no boto3): the CLI imports
`notifyctl.emulator.control` to start and stop the background process.

Layout:
  server.py    the process (`python -m notifyctl.emulator`): moto's WSGI app + our endpoints
  patches/     THE one package that patches moto, a module per service (version range checked at start)
  runtime/     the Lambda runtime: warm worker processes, logs, metrics
  delivery.py  asynchronous invocation: SNS -> Lambda, retries, destinations
  control.py   start/stop/status of the background process (pid + log under the XDG state dir)
  outbox.py    the emails SES accepted, read from a running emulator
  outbox_store.py  where the emulator keeps them (SQLite in its state directory)
  state.py     the snapshot: what survives `local stop` / `local start` and a crash
"""
